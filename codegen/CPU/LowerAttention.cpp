//===- LowerAttention.cpp - tfx.attention to linalg -----------------------===//
//
// The reference lowering: scores for all query/key pairs, the masks, a
// softmax that gives fully masked rows zeros (as tfx.attention defines), and
// the weighted sum of values. Heads are split as [kv_heads, group] so that
// grouped-query attention needs only projected-permutation maps. The
// kernels (AttentionKernel.cpp) replace this with a flash-style loop nest.
//
//===----------------------------------------------------------------------===//

#include "Elementwise.h"
#include "LinalgBuilders.h"
#include "Lowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tfx;

/// i1: whether mask element `m` keeps its key (nonzero).
Value mlir::tfx::maskKeeps(OpBuilder &b, Location loc, Value m) {
  if (isa<FloatType>(m.getType()))
    return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, m,
                                 constantOf(b, loc, m.getType(), 0.0));
  return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, m,
                               constantOf(b, loc, m.getType(), 0));
}

Value mlir::tfx::causalWindowVisible(OpBuilder &b, Location loc, Value query,
                                     Value key, int64_t offset, bool causal,
                                     int64_t window, int64_t globalTokens,
                                     int64_t blockSize, Value layout,
                                     int64_t layoutBlocks) {
  Value visible = arith::ConstantIntOp::create(b, loc, 1, 1);
  if (!causal && window <= 0 && blockSize <= 0)
    return visible;
  auto index = [&](int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); };
  // pos = i + (kv_len - q_len): the query's position among the keys.
  Value pos = arith::AddIOp::create(b, loc, query, index(offset));
  if (causal)
    visible = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle, key, pos);
  Value local;
  if (window > 0) {
    // pos - window < key < pos + window, written without going below zero
    // in index math.
    Value shifted = arith::AddIOp::create(b, loc, key, index(window));
    local = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt, shifted, pos);
    if (!causal)
      local = arith::AndIOp::create(
          b, loc, local,
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, key,
                                arith::AddIOp::create(b, loc, pos, index(window))));
  }
  if (blockSize > 0) {
    Value entry = arith::AddIOp::create(
        b, loc,
        arith::MulIOp::create(b, loc, arith::DivUIOp::create(b, loc, pos, index(blockSize)),
                              index(layoutBlocks)),
        arith::DivUIOp::create(b, loc, key, index(blockSize)));
    Value byte = tensor::ExtractOp::create(b, loc, layout, ValueRange{entry});
    local = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, byte,
                                  arith::ConstantIntOp::create(b, loc, 0, 8));
  }
  if (local && globalTokens > 0) {
    local = arith::OrIOp::create(
        b, loc, local,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, key, index(globalTokens)));
    local = arith::OrIOp::create(
        b, loc, local,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, pos, index(globalTokens)));
  }
  if (local)
    visible = arith::AndIOp::create(b, loc, visible, local);
  return visible;
}

FailureOr<Value> mlir::tfx::lowerAttention(FuncLowering &fl, OpBuilder &b,
                                           AttentionOp op) {
  Location loc = op.getLoc();
  MLIRContext *ctx = b.getContext();
  auto qType = cast<RankedTensorType>(op.getQ().getType());
  auto kType = cast<RankedTensorType>(op.getK().getType());
  if (qType.getRank() != 3 || kType.getRank() != 3 || !qType.hasStaticShape() ||
      !kType.hasStaticShape())
    return op.emitError("attention needs static [batch, seq, heads*head_dim] operands");
  Type t = qType.getElementType();
  int64_t batch = qType.getDimSize(0), sq = qType.getDimSize(1);
  int64_t sk = kType.getDimSize(1);
  int64_t heads = (int64_t)op.getNumHeads(), kvHeads = (int64_t)op.getNumKvHeads();
  int64_t headDim = qType.getDimSize(2) / heads, group = heads / kvHeads;
  bool causal = op.getCausal();
  int64_t window = (int64_t)op.getWindow();
  int64_t globalTokens = (int64_t)op.getGlobalTokens();
  int64_t blockSize = (int64_t)op.getBlockSize();
  double scale = op.getScale().convertToDouble();
  if (op.isLinear())
    return lowerLinearAttention(fl, b, op);
  if (blockSize > 0 && sq > sk)
    return op.emitError("block-sparse attention needs q_len <= kv_len");
  Value layout;
  int64_t layoutBlocks = blockSize > 0 ? (sk + blockSize - 1) / blockSize : 0;
  if (blockSize > 0) {
    ArrayRef<bool> entries = op.getBlockLayout();
    SmallVector<int8_t> bytes(entries.begin(), entries.end());
    auto type = RankedTensorType::get({(int64_t)bytes.size()}, b.getI8Type());
    layout = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(type, ArrayRef<int8_t>(bytes)));
  }

  Value q = reshapeTo(b, loc, op.getQ(), {batch, sq, kvHeads, group, headDim});
  Value k = reshapeTo(b, loc, op.getK(), {batch, sk, kvHeads, headDim});
  Value v = reshapeTo(b, loc, op.getV(), {batch, sk, kvHeads, headDim});

  // scores[b, h, g, i, j] = sum_d q[b, i, h, g, d] k[b, j, h, d]
  AffineExpr db, dh, dg, di, dj, dd;
  bindDims(ctx, db, dh, dg, di, dj, dd);
  SmallVector<int64_t> scoreShape = {batch, kvHeads, group, sq, sk};
  Value zeros = filledTensor(b, loc, scoreShape, t, 0.0);
  SmallVector<utils::IteratorType> iterators = parallelIterators(5);
  iterators.push_back(utils::IteratorType::reduction);
  Value scores =
      linalg::GenericOp::create(
          b, loc, TypeRange{zeros.getType()}, ValueRange{q, k}, ValueRange{zeros},
          SmallVector<AffineMap>{AffineMap::get(6, 0, {db, di, dh, dg, dd}, ctx),
                                 AffineMap::get(6, 0, {db, dj, dh, dd}, ctx),
                                 AffineMap::get(6, 0, {db, dh, dg, di, dj}, ctx)},
          iterators,
          [](OpBuilder &nb, Location l, ValueRange a) {
            Value p = arith::MulFOp::create(nb, l, a[0], a[1]);
            linalg::YieldOp::create(nb, l, (Value)arith::AddFOp::create(nb, l, a[2], p));
          })
          .getResult(0);

  // Scale, then hide masked keys behind -inf.
  AffineMap all5 = AffineMap::getMultiDimIdentityMap(5, ctx);
  AffineExpr e0, e1, e2, e3, e4;
  bindDims(ctx, e0, e1, e2, e3, e4);
  SmallVector<Value> inputs = {scores};
  SmallVector<AffineMap> maps = {all5};
  if (Value mask = op.getMask()) {
    inputs.push_back(mask);
    maps.push_back(AffineMap::get(5, 0, {e0, e4}, ctx));
  }
  maps.push_back(all5);
  Value init = emptyTensor(b, loc, scoreShape, t);
  Value masked =
      linalg::GenericOp::create(
          b, loc, TypeRange{init.getType()}, inputs, ValueRange{init}, maps,
          parallelIterators(5),
          [&](OpBuilder &nb, Location l, ValueRange a) {
            Value query = linalg::IndexOp::create(nb, l, 3);
            Value key = linalg::IndexOp::create(nb, l, 4);
            Value visible =
                causalWindowVisible(nb, l, query, key, sk - sq, causal, window,
                                    globalTokens, blockSize, layout, layoutBlocks);
            if (a.size() > 2)
              visible = arith::AndIOp::create(nb, l, visible, maskKeeps(nb, l, a[1]));
            Value scaled =
                arith::MulFOp::create(nb, l, a[0], constantOf(nb, l, t, scale));
            Value hidden = constantOf(nb, l, t, -INFINITY);
            linalg::YieldOp::create(
                nb, l, (Value)arith::SelectOp::create(nb, l, visible, scaled, hidden));
          })
          .getResult(0);

  // Softmax over keys; a row without visible keys gets zeros.
  AffineMap row = all5.dropResult(4);
  SmallVector<int64_t> rowShape = {batch, kvHeads, group, sq};
  SmallVector<utils::IteratorType> rowIterators = parallelIterators(5);
  rowIterators.back() = utils::IteratorType::reduction;
  auto reduce = [&](ValueRange ins, double start, BodyFn body) {
    SmallVector<AffineMap> m = {all5};
    for (size_t i = 1; i < ins.size(); ++i)
      m.push_back(row);
    m.push_back(row);
    Value acc = filledTensor(b, loc, rowShape, t, start);
    return linalg::GenericOp::create(
               b, loc, TypeRange{acc.getType()}, ins, ValueRange{acc}, m,
               rowIterators,
               [&](OpBuilder &nb, Location l, ValueRange a) {
                 linalg::YieldOp::create(nb, l, body(nb, l, a));
               })
        .getResult(0);
  };
  auto expShifted = [&](OpBuilder &nb, Location l, Value s, Value max) {
    Value isHidden = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OEQ, s,
                                           constantOf(nb, l, t, -INFINITY));
    Value e = math::ExpOp::create(nb, l, arith::SubFOp::create(nb, l, s, max));
    return (Value)arith::SelectOp::create(nb, l, isHidden, constantOf(nb, l, t, 0.0), e);
  };
  Value max = reduce(masked, -INFINITY, [](OpBuilder &nb, Location l, ValueRange a) {
    return (Value)arith::MaximumFOp::create(nb, l, a[1], a[0]);
  });
  Value sum = reduce(ValueRange{masked, max}, 0.0,
                     [&](OpBuilder &nb, Location l, ValueRange a) {
                       return (Value)arith::AddFOp::create(
                           nb, l, a[2], expShifted(nb, l, a[0], a[1]));
                     });
  Value probsInit = emptyTensor(b, loc, scoreShape, t);
  Value probs =
      linalg::GenericOp::create(
          b, loc, TypeRange{probsInit.getType()}, ValueRange{masked, max, sum},
          ValueRange{probsInit}, SmallVector<AffineMap>{all5, row, row, all5},
          parallelIterators(5),
          [&](OpBuilder &nb, Location l, ValueRange a) {
            Value e = expShifted(nb, l, a[0], a[1]);
            Value any = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OGT, a[2],
                                              constantOf(nb, l, t, 0.0));
            Value p = arith::DivFOp::create(nb, l, e, a[2]);
            linalg::YieldOp::create(
                nb, l,
                (Value)arith::SelectOp::create(nb, l, any, p, constantOf(nb, l, t, 0.0)));
          })
          .getResult(0);

  // out[b, i, h, g, d] = sum_j probs[b, h, g, i, j] v[b, j, h, d]
  AffineExpr ob, oi, oh, og, od, oj;
  bindDims(ctx, ob, oi, oh, og, od, oj);
  Value outInit = filledTensor(b, loc, {batch, sq, kvHeads, group, headDim}, t, 0.0);
  Value out =
      linalg::GenericOp::create(
          b, loc, TypeRange{outInit.getType()}, ValueRange{probs, v},
          ValueRange{outInit},
          SmallVector<AffineMap>{AffineMap::get(6, 0, {ob, oh, og, oi, oj}, ctx),
                                 AffineMap::get(6, 0, {ob, oj, oh, od}, ctx),
                                 AffineMap::get(6, 0, {ob, oi, oh, og, od}, ctx)},
          iterators,
          [](OpBuilder &nb, Location l, ValueRange a) {
            Value p = arith::MulFOp::create(nb, l, a[0], a[1]);
            linalg::YieldOp::create(nb, l, (Value)arith::AddFOp::create(nb, l, a[2], p));
          })
          .getResult(0);
  return reshapeTo(b, loc, out, qType.getShape());
}
