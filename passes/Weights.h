//===- Weights.h - read and create weights in compression passes -*- C++ -*-===//
//
// A weight is a `tfx.weight` (a tensor of the model file) or an
// `arith.constant` (dense, or a `dense_resource` blob that an earlier pass
// wrote). Compression passes read weights as host tensors and put the
// weights they compute into resource blobs (tfx/Support/ResourceWeights.h).
//
//===----------------------------------------------------------------------===//
#ifndef TFX_PASSES_WEIGHTS_H
#define TFX_PASSES_WEIGHTS_H

#include "tfx/Dialect/Tfx.h"
#include "tfx/Support/Tensor.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"

#include <vector>

namespace mlir::tfx {

/// True when `v` is a weight or a constant tensor.
bool isWeightValue(Value v);

/// The data of a weight value (after `transposed`), as f32/int64 storage.
llvm::Expected<Tensor> readWeight(Value v);

/// The name a user knows the weight by: the file's tensor name, the
/// resource key, or "" for an inline constant.
std::string weightName(Value v);

/// A linear layer a compression pass rewrites: its role ("attention",
/// "ffn" or "other"), the name of its weight and the weight as read.
struct LinearTarget {
  LinearOp linear;
  std::string role, name;
  Tensor weight;
};

/// The weight a pass's output was derived from: `name` less the suffixes
/// the passes append (quantized, smoothed, pruned, 2:4 or low-rank parts).
std::string sourceWeightName(llvm::StringRef name);

/// Which linears a compression pass rewrites: those whose role is in its
/// `targets` option (default ffn, attention) or, when its `layers` option
/// names weights, those whose weight was made from one of them, whatever
/// their role (a compression plan lists its linears this way).
class LinearSelection {
public:
  static FailureOr<LinearSelection> get(ModuleOp module, llvm::StringRef pass,
                                        llvm::ArrayRef<std::string> targets,
                                        llvm::ArrayRef<std::string> layers);
  /// Whether a linear of `role` whose weight is `weight` is selected.
  bool selects(llvm::StringRef role, llvm::StringRef weight);
  /// Fails, naming it, when a listed layer matched no linear.
  LogicalResult checkAllFound(Operation *where) const;
  llvm::StringRef passName() const { return pass; }

private:
  std::string pass;
  SmallVector<std::string> roles;
  /// Listed source names, and whether a linear matched each.
  llvm::StringMap<bool> layers;
};

/// The linears of `func`, in order, that `selection` selects and whose
/// weight is a weight value (f32 and 2-D too when `f32Only`), with their
/// weights read. A weight that cannot be read, or a listed layer that is
/// not found, fails with a diagnostic that starts with the pass name.
FailureOr<std::vector<LinearTarget>> collectLinearTargets(func::FuncOp func,
                                                          LinearSelection &selection,
                                                          bool f32Only);

/// An `arith.constant dense_resource<name>` of `type` holding `t`, built at
/// `b`'s insertion point. Errors name the weight.
FailureOr<Value> createWeight(OpBuilder &b, Location loc, RankedTensorType type,
                              const Tensor &t, llvm::StringRef name);

/// createWeight with an f32 type of `t`'s shape.
FailureOr<Value> createF32Weight(OpBuilder &b, Location loc, const Tensor &t,
                                 llvm::StringRef name);

} // namespace mlir::tfx

#endif // TFX_PASSES_WEIGHTS_H
