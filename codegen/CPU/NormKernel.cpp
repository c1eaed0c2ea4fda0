//===- NormKernel.cpp - vectorized row kernels: norms and softmax ---------===//
//
// layer_norm, rms_norm and a last-axis softmax work row by row: a few
// vectorized passes over a row that stays in L1, rows spread over the
// thread pool in blocks. Statistics accumulate in f32 vectors (two-pass
// variance for layer_norm).
//
//===----------------------------------------------------------------------===//

#include "Elementwise.h"
#include "KernelBuilders.h"
#include "LinalgBuilders.h"
#include "Lowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tfx;

namespace {
enum class RowKind { LayerNorm, RmsNorm, Softmax };
} // namespace

/// Loops over the vectors of a row: `body(column, accumulators)` returns the
/// new accumulators.
static SmallVector<Value>
rowLoop(OpBuilder &b, Location loc, int64_t width, int64_t vw, ValueRange init,
        llvm::function_ref<SmallVector<Value>(OpBuilder &, Location, Value, ValueRange)>
            body) {
  auto loop = scf::ForOp::create(
      b, loc, indexConstant(b, loc, 0), indexConstant(b, loc, width),
      indexConstant(b, loc, vw), init,
      [&](OpBuilder &b, Location loc, Value col, ValueRange acc) {
        scf::YieldOp::create(b, loc, body(b, loc, col, acc));
      });
  return SmallVector<Value>(loop.getResults());
}

FailureOr<Value> mlir::tfx::lowerNormKernel(FuncLowering &fl, OpBuilder &b,
                                            Operation *op) {
  RowKind kind;
  Value x, gamma, beta;
  double epsilon = 0.0;
  if (auto ln = dyn_cast<LayerNormOp>(op)) {
    kind = RowKind::LayerNorm;
    x = ln.getInput();
    gamma = ln.getGamma();
    beta = ln.getBeta();
    epsilon = ln.getEpsilon().convertToDouble();
  } else if (auto rms = dyn_cast<RmsNormOp>(op)) {
    kind = RowKind::RmsNorm;
    x = rms.getInput();
    gamma = rms.getGamma();
    epsilon = rms.getEpsilon().convertToDouble();
  } else if (auto softmax = dyn_cast<SoftmaxOp>(op)) {
    kind = RowKind::Softmax;
    x = softmax.getInput();
    int64_t rank = cast<RankedTensorType>(x.getType()).getRank();
    int64_t axis = softmax.getAxisAttr().getInt();
    if (axis != -1 && axis != rank - 1)
      return failure();
  } else {
    return failure();
  }
  auto type = cast<RankedTensorType>(x.getType());
  int64_t vw = fl.options.vectorWidth;
  if (!type.hasStaticShape() || !type.getElementType().isF32() || type.getRank() < 1)
    return failure();
  for (Value p : {gamma, beta})
    if (p && !cast<RankedTensorType>(p.getType()).getElementType().isF32())
      return failure();
  int64_t width = type.getShape().back();
  int64_t rows = type.getNumElements() / std::max<int64_t>(width, 1);
  if (width == 0 || width % vw || rows == 0)
    return failure();

  Location loc = op->getLoc();
  Type f32 = b.getF32Type();
  auto vecType = VectorType::get({vw}, f32);
  Value input = reshapeTo(b, loc, x, {rows, width});
  // About 64 tasks: enough to balance, few enough to keep dispatch cheap.
  int64_t perTask = std::max<int64_t>(1, rows / 64);
  while (rows % perTask)
    --perTask;
  Value out = emptyTensor(b, loc, {rows, width}, f32);
  Value result = buildParallel(
      b, loc, rows / perTask, out,
      [&](OpBuilder &b, Location loc, Value task, Value shared) -> ParallelTile {
        Value row0 = arith::MulIOp::create(b, loc, task, indexConstant(b, loc, perTask));
        SmallVector<OpFoldResult> offsets = {row0, b.getIndexAttr(0)};
        SmallVector<OpFoldResult> sizes = {b.getIndexAttr(perTask), b.getIndexAttr(width)};
        SmallVector<OpFoldResult> strides(2, b.getIndexAttr(1));
        Value tile = tensor::ExtractSliceOp::create(b, loc, shared, offsets, sizes, strides);
        auto perRow = scf::ForOp::create(
            b, loc, indexConstant(b, loc, 0), indexConstant(b, loc, perTask),
            indexConstant(b, loc, 1), ValueRange{tile},
            [&](OpBuilder &b, Location loc, Value r, ValueRange iter) {
              Value row = arith::AddIOp::create(b, loc, row0, r);
              Value zeros = constantOf(b, loc, vecType, 0.0);
              auto load = [&](OpBuilder &b, Location loc, Value col) {
                return readVector(b, loc, input, {row, col}, vw);
              };
              auto reduce = [&](OpBuilder &b, Value v, vector::CombiningKind k) {
                return (Value)vector::ReductionOp::create(b, loc, k, v);
              };
              Value t = iter[0];
              Value n = constantOf(b, loc, f32, (double)width);
              if (kind == RowKind::Softmax) {
                Value maxVec = rowLoop(b, loc, width, vw,
                                       constantOf(b, loc, vecType, -INFINITY),
                                       [&](OpBuilder &b, Location loc, Value col,
                                           ValueRange acc) -> SmallVector<Value> {
                                         return {arith::MaxNumFOp::create(
                                             b, loc, acc[0], load(b, loc, col))};
                                       })[0];
                Value max = splat(b, loc, reduce(b, maxVec, vector::CombiningKind::MAXNUMF), vw);
                // exp(x - max) goes to the output; its sum scales it after.
                auto pass = scf::ForOp::create(
                    b, loc, indexConstant(b, loc, 0), indexConstant(b, loc, width),
                    indexConstant(b, loc, vw), ValueRange{zeros, t},
                    [&](OpBuilder &b, Location loc, Value col, ValueRange acc) {
                      Value e = math::ExpOp::create(
                          b, loc, arith::SubFOp::create(b, loc, load(b, loc, col), max));
                      Value next = writeVector(b, loc, e, acc[1], {r, col});
                      scf::YieldOp::create(
                          b, loc, ValueRange{arith::AddFOp::create(b, loc, acc[0], e), next});
                    });
                Value sum = reduce(b, pass.getResult(0), vector::CombiningKind::ADD);
                Value inv = splat(b, loc,
                                  arith::DivFOp::create(b, loc, constantOf(b, loc, f32, 1.0), sum),
                                  vw);
                t = rowLoop(b, loc, width, vw, pass.getResult(1),
                            [&](OpBuilder &b, Location loc, Value col,
                                ValueRange acc) -> SmallVector<Value> {
                              Value e = readVector(b, loc, acc[0], {r, col}, vw);
                              return {writeVector(b, loc, arith::MulFOp::create(b, loc, e, inv),
                                                  acc[0], {r, col})};
                            })[0];
                scf::YieldOp::create(b, loc, t);
                return;
              }
              Value mean;
              Value spread;
              if (kind == RowKind::LayerNorm) {
                Value sumVec = rowLoop(b, loc, width, vw, zeros,
                                       [&](OpBuilder &b, Location loc, Value col,
                                           ValueRange acc) -> SmallVector<Value> {
                                         return {arith::AddFOp::create(b, loc, acc[0],
                                                                       load(b, loc, col))};
                                       })[0];
                mean = splat(b, loc,
                             arith::DivFOp::create(
                                 b, loc, reduce(b, sumVec, vector::CombiningKind::ADD), n),
                             vw);
              }
              Value squares = rowLoop(b, loc, width, vw, zeros,
                                      [&](OpBuilder &b, Location loc, Value col,
                                          ValueRange acc) -> SmallVector<Value> {
                                        Value v = load(b, loc, col);
                                        if (mean)
                                          v = arith::SubFOp::create(b, loc, v, mean);
                                        return {vector::FMAOp::create(b, loc, v, v, acc[0])};
                                      })[0];
              spread = arith::DivFOp::create(
                  b, loc, reduce(b, squares, vector::CombiningKind::ADD), n);
              Value denom = math::SqrtOp::create(
                  b, loc, arith::AddFOp::create(b, loc, spread, constantOf(b, loc, f32, epsilon)));
              Value inv = splat(
                  b, loc, arith::DivFOp::create(b, loc, constantOf(b, loc, f32, 1.0), denom), vw);
              t = rowLoop(b, loc, width, vw, t,
                          [&](OpBuilder &b, Location loc, Value col,
                              ValueRange acc) -> SmallVector<Value> {
                            Value v = load(b, loc, col);
                            if (mean)
                              v = arith::SubFOp::create(b, loc, v, mean);
                            Value y = arith::MulFOp::create(
                                b, loc, arith::MulFOp::create(b, loc, v, inv),
                                readVector(b, loc, gamma, col, vw));
                            if (beta)
                              y = arith::AddFOp::create(b, loc, y,
                                                        readVector(b, loc, beta, col, vw));
                            return {writeVector(b, loc, y, acc[0], {r, col})};
                          })[0];
              scf::YieldOp::create(b, loc, t);
            });
        return ParallelTile{perRow.getResult(0), offsets, sizes};
      });
  return reshapeTo(b, loc, result, type.getShape());
}
