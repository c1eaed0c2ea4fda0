//===- ChannelPruning.h - drop channels of linear layers --------*- C++ -*-===//
//
// The physical side of structured pruning: a linear keeps a subset of its
// output channels (weight rows, bias entries) or input channels (weight
// columns), its weights become new, smaller resource blobs, and the
// last-axis slices of its result move to the channels that remain.
//
//===----------------------------------------------------------------------===//
#ifndef TFX_PASSES_CHANNELPRUNING_H
#define TFX_PASSES_CHANNELPRUNING_H

#include "tfx/Dialect/Tfx.h"
#include "tfx/Support/Tensor.h"

namespace mlir::tfx {

/// Rows `keep` (ascending) of a 2-D tensor, or entries of a 1-D one.
Tensor selectRows(const Tensor &t, ArrayRef<int64_t> keep);
/// Columns `keep` (ascending) of a 2-D tensor.
Tensor selectColumns(const Tensor &t, ArrayRef<int64_t> keep);

/// Keeps output channels `keep` (ascending) of `linear`; updates its result
/// type and remaps the last-axis slices that use it. New weights are named
/// after the old ones with `suffix` appended.
LogicalResult keepOutputChannels(LinearOp linear, ArrayRef<int64_t> keep,
                                 StringRef suffix);

/// Keeps input channels `keep` (ascending) of `linear`, whose input already
/// has that many channels.
LogicalResult keepInputChannels(LinearOp linear, ArrayRef<int64_t> keep,
                                StringRef suffix);

/// New contents for output channels [offset, offset + width) of a linear.
struct OutputSegment {
  int64_t offset = 0, width = 0;
  /// [w', K] rows (and [w'] bias entries when the linear has a bias).
  Tensor weight, bias;
};

/// Replaces output-channel segments of `linear` by new rows (possibly a
/// different number), keeping the other channels; last-axis slices of the
/// result that cover whole segments or untouched ranges move accordingly.
LogicalResult replaceOutputSegments(LinearOp linear,
                                    ArrayRef<OutputSegment> segments,
                                    StringRef suffix);

/// Replaces the weight of `linear` by `weight` (same shape).
LogicalResult setLinearWeight(LinearOp linear, const Tensor &weight,
                              StringRef suffix);

/// Channels [first, first + count) of each selected block of `size`:
/// blockRange({0, 2}, 64, 0) = 0..63, 128..191 (heads to feature rows).
SmallVector<int64_t> expandBlocks(ArrayRef<int64_t> blocks, int64_t size,
                                  int64_t base = 0);

} // namespace mlir::tfx

#endif // TFX_PASSES_CHANNELPRUNING_H
