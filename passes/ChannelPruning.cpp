//===- ChannelPruning.cpp - drop channels of linear layers ----------------===//

#include "ChannelPruning.h"

#include "Structure.h"
#include "Weights.h"

using namespace mlir;
using namespace mlir::tfx;

Tensor mlir::tfx::selectRows(const Tensor &t, ArrayRef<int64_t> keep) {
  int64_t cols = t.rank() == 2 ? t.shape[1] : 1;
  Tensor out = Tensor::floats(t.rank() == 2 ? std::vector<int64_t>{(int64_t)keep.size(), cols}
                                            : std::vector<int64_t>{(int64_t)keep.size()});
  for (auto [n, r] : llvm::enumerate(keep))
    std::copy_n(t.f.begin() + r * cols, cols, out.f.begin() + n * cols);
  return out;
}

Tensor mlir::tfx::selectColumns(const Tensor &t, ArrayRef<int64_t> keep) {
  int64_t rows = t.shape[0], cols = t.shape[1];
  Tensor out = Tensor::floats({rows, (int64_t)keep.size()});
  for (int64_t r = 0; r < rows; ++r)
    for (auto [n, c] : llvm::enumerate(keep))
      out.f[r * keep.size() + n] = t.f[r * cols + c];
  return out;
}

SmallVector<int64_t> mlir::tfx::expandBlocks(ArrayRef<int64_t> blocks, int64_t size,
                                             int64_t base) {
  SmallVector<int64_t> channels;
  for (int64_t b : blocks)
    for (int64_t c = 0; c < size; ++c)
      channels.push_back(base + b * size + c);
  return channels;
}

/// Replaces operand `index` of `op` by a new weight holding `data`.
static LogicalResult replaceWeight(Operation *op, unsigned index, const Tensor &data,
                                   StringRef suffix) {
  Value old = op->getOperand(index);
  auto oldType = cast<RankedTensorType>(old.getType());
  OpBuilder b(op);
  std::string name = weightName(old);
  if (name.empty())
    name = "weight";
  auto weight = createWeight(
      b, old.getLoc(), RankedTensorType::get(data.shape, oldType.getElementType()),
      data, name + suffix.str());
  if (failed(weight))
    return failure();
  op->setOperand(index, *weight);
  return success();
}

static LogicalResult readFloatWeight(Operation *op, Value v, Tensor &out) {
  auto data = readWeight(v);
  if (!data)
    return op->emitError("cannot read weight '")
           << weightName(v) << "': " << llvm::toString(data.takeError());
  if (!data->isFloat())
    return op->emitError("weight '") << weightName(v) << "' is not float";
  out = std::move(*data);
  return success();
}

/// `keep` is 0, 1, ..., count - 1: nothing to do.
static bool keepsAll(ArrayRef<int64_t> keep, int64_t count) {
  if ((int64_t)keep.size() != count)
    return false;
  for (auto [n, c] : llvm::enumerate(keep))
    if ((int64_t)n != c)
      return false;
  return true;
}

LogicalResult mlir::tfx::keepOutputChannels(LinearOp linear, ArrayRef<int64_t> keep,
                                            StringRef suffix) {
  if (keepsAll(keep, cast<RankedTensorType>(linear.getType()).getShape().back()))
    return success();
  if (!isWeightValue(linear.getWeight()) ||
      (linear.getBias() && !isWeightValue(linear.getBias())))
    return linear.emitError("structured pruning needs constant weights");
  Tensor w, bias;
  if (failed(readFloatWeight(linear, linear.getWeight(), w)))
    return failure();
  if (failed(replaceWeight(linear, 1, selectRows(w, keep), suffix)))
    return failure();
  if (linear.getBias()) {
    if (failed(readFloatWeight(linear, linear.getBias(), bias)) ||
        failed(replaceWeight(linear, 2, selectRows(bias, keep), suffix)))
      return failure();
  }
  if (failed(refreshResultType(linear)))
    return failure();
  // Slices of the result move to the channels that remain.
  for (Operation *user : linear.getResult().getUsers()) {
    auto slice = dyn_cast<SliceOp>(user);
    if (!slice)
      continue;
    SmallVector<int64_t> offsets(slice.getOffsets()), sizes(slice.getSizes());
    int64_t first = offsets.back(), end = first + sizes.back();
    offsets.back() = llvm::count_if(keep, [&](int64_t c) { return c < first; });
    sizes.back() =
        llvm::count_if(keep, [&](int64_t c) { return c >= first && c < end; });
    slice.setOffsets(offsets);
    slice.setSizes(sizes);
    if (failed(refreshResultType(slice)))
      return failure();
  }
  return success();
}

LogicalResult mlir::tfx::keepInputChannels(LinearOp linear, ArrayRef<int64_t> keep,
                                           StringRef suffix) {
  if (keepsAll(keep, cast<RankedTensorType>(linear.getWeight().getType()).getDimSize(1)))
    return refreshResultType(linear);
  if (!isWeightValue(linear.getWeight()))
    return linear.emitError("structured pruning needs constant weights");
  Tensor w;
  if (failed(readFloatWeight(linear, linear.getWeight(), w)) ||
      failed(replaceWeight(linear, 1, selectColumns(w, keep), suffix)))
    return failure();
  return refreshResultType(linear);
}

LogicalResult mlir::tfx::replaceOutputSegments(LinearOp linear,
                                               ArrayRef<OutputSegment> segments,
                                               StringRef suffix) {
  if (!isWeightValue(linear.getWeight()) ||
      (linear.getBias() && !isWeightValue(linear.getBias())))
    return linear.emitError("head sharing needs constant weights");
  Tensor w, bias;
  if (failed(readFloatWeight(linear, linear.getWeight(), w)))
    return failure();
  if (linear.getBias() && failed(readFloatWeight(linear, linear.getBias(), bias)))
    return failure();
  SmallVector<OutputSegment> sorted(segments);
  llvm::sort(sorted, [](const OutputSegment &a, const OutputSegment &b) {
    return a.offset < b.offset;
  });
  int64_t rows = w.shape[0], cols = w.shape[1];
  Tensor newW = Tensor::floats({0, cols}), newB = Tensor::floats({0});
  auto appendRows = [&](const Tensor &from, int64_t first, int64_t count) {
    newW.f.insert(newW.f.end(), from.f.begin() + first * cols,
                  from.f.begin() + (first + count) * cols);
    newW.shape[0] += count;
  };
  auto appendBias = [&](const Tensor &from, int64_t first, int64_t count) {
    newB.f.insert(newB.f.end(), from.f.begin() + first, from.f.begin() + first + count);
    newB.shape[0] += count;
  };
  // Old channel -> new channel for the start of every range.
  SmallVector<std::pair<int64_t, int64_t>> starts;
  int64_t at = 0;
  for (const OutputSegment &seg : sorted) {
    if (seg.offset < at || seg.offset + seg.width > rows || seg.weight.rank() != 2 ||
        seg.weight.shape[1] != cols)
      return linear.emitError("internal error: bad output segment");
    starts.push_back({at, newW.shape[0]});
    appendRows(w, at, seg.offset - at);
    if (linear.getBias())
      appendBias(bias, at, seg.offset - at);
    starts.push_back({seg.offset, newW.shape[0]});
    appendRows(seg.weight, 0, seg.weight.shape[0]);
    if (linear.getBias())
      appendBias(seg.bias, 0, seg.weight.shape[0]);
    at = seg.offset + seg.width;
  }
  starts.push_back({at, newW.shape[0]});
  appendRows(w, at, rows - at);
  if (linear.getBias())
    appendBias(bias, at, rows - at);
  starts.push_back({rows, newW.shape[0]});

  if (failed(replaceWeight(linear, 1, newW, suffix)) ||
      (linear.getBias() && failed(replaceWeight(linear, 2, newB, suffix))) ||
      failed(refreshResultType(linear)))
    return failure();
  auto newStart = [&](int64_t old) -> std::optional<int64_t> {
    for (auto [o, n] : starts)
      if (o == old)
        return n;
    return std::nullopt;
  };
  for (Operation *user : linear.getResult().getUsers()) {
    auto slice = dyn_cast<SliceOp>(user);
    if (!slice)
      continue;
    SmallVector<int64_t> offsets(slice.getOffsets()), sizes(slice.getSizes());
    auto first = newStart(offsets.back()), end = newStart(offsets.back() + sizes.back());
    if (!first || !end)
      return slice.emitError("a slice cuts through a rewritten channel range");
    offsets.back() = *first;
    sizes.back() = *end - *first;
    slice.setOffsets(offsets);
    slice.setSizes(sizes);
    if (failed(refreshResultType(slice)))
      return failure();
  }
  return success();
}

LogicalResult mlir::tfx::setLinearWeight(LinearOp linear, const Tensor &weight,
                                         StringRef suffix) {
  if (!isWeightValue(linear.getWeight()))
    return linear.emitError("needs a constant weight");
  return replaceWeight(linear, 1, weight, suffix);
}
