//===- LinearAttentionKernel.cpp - kernelized attention in O(n) -----------===//
//
// tfx.attention with a linear kind, for every (batch, head) one task that
// walks the sequence once:
//
//   S [F, D] = sum_j phi(k_j)^T v_j,  z [F] = sum_j phi(k_j)
//   out_i    = (phi(q_i) S) / (phi(q_i) . z)   (zeros where that is not > 0)
//
// Without `causal` every key enters the sums before the first query; with
// it, query i first adds its own key (i + kv_len - q_len), so the sums are
// the running prefix. z stays in registers; S (F x D floats, 16 KiB for
// 64 x 64) is a tensor that stays in L1. The features of one token pass
// through a small buffer so that each phi_f is a broadcast load.
//
// Random features: the projection (tfx/Support/RandomFeatures.h) is a
// constant [D, F] with sqrt(scale) folded in. A query's features are
// exp(w.x - max_f w.x): the dropped factors exp(-|x|^2 / 2) / sqrt(F) and
// exp(max) are the same for the numerator and the denominator. A key's keep
// exp(-|x|^2 / 2), which differs between keys; only 1 / sqrt(F) is dropped.
//
//===----------------------------------------------------------------------===//

#include "Elementwise.h"
#include "KernelBuilders.h"
#include "LinalgBuilders.h"
#include "Lowering.h"
#include "tfx/Support/RandomFeatures.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tfx;

FailureOr<Value> mlir::tfx::lowerLinearAttention(FuncLowering &fl, OpBuilder &b,
                                                 AttentionOp op) {
  auto qType = cast<RankedTensorType>(op.getQ().getType());
  auto kType = cast<RankedTensorType>(op.getK().getType());
  int64_t vw = fl.options.vectorWidth;
  if (qType.getRank() != 3 || kType.getRank() != 3 || !qType.hasStaticShape() ||
      !kType.hasStaticShape() || !qType.getElementType().isF32() ||
      !kType.getElementType().isF32() ||
      !cast<RankedTensorType>(op.getV().getType()).getElementType().isF32())
    return op.emitError("linear attention needs static f32 [batch, seq, heads*head_dim] "
                        "operands");
  int64_t batch = qType.getDimSize(0), sq = qType.getDimSize(1);
  int64_t sk = kType.getDimSize(1);
  int64_t heads = (int64_t)op.getNumHeads(), kvHeads = (int64_t)op.getNumKvHeads();
  int64_t headDim = qType.getDimSize(2) / heads, group = heads / kvHeads;
  AttentionKind kind = op.getKind();
  bool random = kind == AttentionKind::linear_random;
  int64_t features = random ? (int64_t)op.getFeatures() : headDim;
  if (headDim % vw || features % vw)
    return op.emitError("linear attention needs head_dim and features that are "
                        "multiples of ")
           << vw;
  bool causal = op.getCausal();
  if (causal && sq > sk)
    return op.emitError("causal linear attention needs q_len <= kv_len");
  int64_t offset = sk - sq;
  double scale = op.getScale().convertToDouble();
  int64_t headChunks = headDim / vw, featureChunks = features / vw;

  Location loc = op.getLoc();
  Type f32 = b.getF32Type();
  auto vecType = VectorType::get({vw}, f32);
  Value mask = op.getMask();
  if (mask && cast<RankedTensorType>(mask.getType()).getElementType().isInteger(1)) {
    auto type = cast<RankedTensorType>(mask.getType());
    mask = buildElementwise(b, loc, type.clone(b.getI8Type()), mask,
                            [](OpBuilder &nb, Location l, ValueRange args) {
                              return (Value)arith::ExtUIOp::create(nb, l, nb.getI8Type(),
                                                                   args[0]);
                            });
  }
  Value projection;
  if (random) {
    std::vector<float> w =
        randomFeatureProjection(features, headDim, (uint64_t)op.getFeatureSeed());
    std::vector<float> wt(w.size());
    float rootScale = (float)std::sqrt(scale);
    for (int64_t f = 0; f < features; ++f)
      for (int64_t d = 0; d < headDim; ++d)
        wt[d * features + f] = w[f * headDim + d] * rootScale;
    auto type = RankedTensorType::get({headDim, features}, f32);
    projection = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(type, ArrayRef<float>(wt)));
  }
  Value q = op.getQ(), k = op.getK(), v = op.getV();
  Value out = emptyTensor(b, loc, qType.getShape(), f32);

  Value result = buildParallel(
      b, loc, batch * heads, out,
      [&](OpBuilder &b, Location loc, Value task, Value shared) -> ParallelTile {
        auto idx = [&](int64_t c) { return indexConstant(b, loc, c); };
        Value bi = arith::DivUIOp::create(b, loc, task, idx(heads));
        Value h = arith::RemUIOp::create(b, loc, task, idx(heads));
        Value qCol0 = arith::MulIOp::create(b, loc, h, idx(headDim));
        Value kvCol0 = arith::MulIOp::create(
            b, loc, arith::DivUIOp::create(b, loc, h, idx(group)), idx(headDim));
        Value zeroVec = constantOf(b, loc, vecType, 0.0);

        // phi of the row `row` of `source` from column `col0`.
        auto featureMap = [&](OpBuilder &b, Location loc, Value source, Value row,
                              Value col0, bool query) {
          SmallVector<Value> x;
          for (int64_t c = 0; c < headChunks; ++c)
            x.push_back(readVector(
                b, loc, source,
                {bi, row, arith::AddIOp::create(b, loc, col0, idx(c * vw))}, vw));
          SmallVector<Value> phi;
          if (!random) {
            for (Value chunk : x) {
              if (kind == AttentionKind::linear_relu) {
                phi.push_back(arith::MaximumFOp::create(b, loc, chunk, zeroVec));
                continue;
              }
              Value positive = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT,
                                                     chunk, zeroVec);
              Value plusOne =
                  arith::AddFOp::create(b, loc, chunk, constantOf(b, loc, vecType, 1.0));
              phi.push_back(arith::SelectOp::create(b, loc, positive, plusOne,
                                                    math::ExpOp::create(b, loc, chunk)));
            }
            return phi;
          }
          // w . x for all features: one broadcast x_d per row of W^T.
          SmallVector<Value> zeros(featureChunks, zeroVec);
          auto dLoop = scf::ForOp::create(
              b, loc, idx(0), idx(headDim), idx(1), zeros,
              [&](OpBuilder &b, Location loc, Value d, ValueRange acc) {
                Value xd = tensor::ExtractOp::create(
                    b, loc, source,
                    ValueRange{bi, row, arith::AddIOp::create(b, loc, col0, d)});
                Value xv = splat(b, loc, xd, vw);
                SmallVector<Value> next;
                for (int64_t c = 0; c < featureChunks; ++c)
                  next.push_back(vector::FMAOp::create(
                      b, loc, xv, readVector(b, loc, projection, {d, idx(c * vw)}, vw),
                      acc[c]));
                scf::YieldOp::create(b, loc, next);
              });
          SmallVector<Value> dots(dLoop.getResults());
          Value shift;
          if (query) {
            Value maxVec = dots[0];
            for (int64_t c = 1; c < featureChunks; ++c)
              maxVec = arith::MaxNumFOp::create(b, loc, maxVec, dots[c]);
            shift = vector::ReductionOp::create(b, loc, vector::CombiningKind::MAXNUMF,
                                                maxVec, arith::FastMathFlags::nnan);
          } else {
            Value squares = zeroVec;
            for (Value chunk : x)
              squares = vector::FMAOp::create(b, loc, chunk, chunk, squares);
            Value norm2 =
                vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, squares,
                                            arith::FastMathFlags::reassoc);
            shift =
                arith::MulFOp::create(b, loc, norm2, constantOf(b, loc, f32, scale / 2));
          }
          Value shiftVec = splat(b, loc, shift, vw);
          for (Value dot : dots)
            phi.push_back(math::ExpOp::create(
                b, loc, arith::SubFOp::create(b, loc, dot, shiftVec)));
          return phi;
        };
        auto buffer = [&](OpBuilder &b, Location loc, ArrayRef<Value> phi) {
          Value buf = emptyTensor(b, loc, {features}, f32);
          for (auto [c, chunk] : llvm::enumerate(phi))
            buf = writeVector(b, loc, chunk, buf, {idx((int64_t)c * vw)});
          return buf;
        };
        // State: S, then the z vectors.
        auto addKey = [&](OpBuilder &b, Location loc, Value key, ValueRange state) {
          SmallVector<Value> phi = featureMap(b, loc, k, key, kvCol0, false);
          if (mask) {
            Value keep = maskKeeps(
                b, loc, tensor::ExtractOp::create(b, loc, mask, ValueRange{bi, key}));
            for (Value &chunk : phi)
              chunk = arith::SelectOp::create(b, loc, keep, chunk, zeroVec);
          }
          SmallVector<Value> next = {state[0]};
          for (int64_t c = 0; c < featureChunks; ++c)
            next.push_back(arith::AddFOp::create(b, loc, state[1 + c], phi[c]));
          Value buf = buffer(b, loc, phi);
          SmallVector<Value> vRow;
          for (int64_t c = 0; c < headChunks; ++c)
            vRow.push_back(readVector(
                b, loc, v, {bi, key, arith::AddIOp::create(b, loc, kvCol0, idx(c * vw))},
                vw));
          auto fLoop = scf::ForOp::create(
              b, loc, idx(0), idx(features), idx(1), ValueRange{state[0]},
              [&](OpBuilder &b, Location loc, Value f, ValueRange acc) {
                Value pf = splat(
                    b, loc, tensor::ExtractOp::create(b, loc, buf, ValueRange{f}), vw);
                Value sums = acc[0];
                for (int64_t c = 0; c < headChunks; ++c) {
                  Value old = readVector(b, loc, sums, {f, idx(c * vw)}, vw);
                  sums =
                      writeVector(b, loc, vector::FMAOp::create(b, loc, pf, vRow[c], old),
                                  sums, {f, idx(c * vw)});
                }
                scf::YieldOp::create(b, loc, sums);
              });
          next[0] = fLoop.getResult(0);
          return next;
        };

        Value sums = emptyTensor(b, loc, {features, headDim}, f32);
        auto zeroLoop =
            scf::ForOp::create(b, loc, idx(0), idx(features), idx(1), ValueRange{sums},
                               [&](OpBuilder &b, Location loc, Value f, ValueRange acc) {
                                 Value t = acc[0];
                                 for (int64_t c = 0; c < headChunks; ++c)
                                   t = writeVector(b, loc, zeroVec, t, {f, idx(c * vw)});
                                 scf::YieldOp::create(b, loc, t);
                               });
        SmallVector<Value> state = {zeroLoop.getResult(0)};
        state.append(featureChunks, zeroVec);
        auto prefix =
            scf::ForOp::create(b, loc, idx(0), idx(causal ? offset : sk), idx(1), state,
                               [&](OpBuilder &b, Location loc, Value j, ValueRange acc) {
                                 scf::YieldOp::create(b, loc, addKey(b, loc, j, acc));
                               });

        SmallVector<OpFoldResult> offsets = {bi, b.getIndexAttr(0), qCol0};
        SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1), b.getIndexAttr(sq),
                                           b.getIndexAttr(headDim)};
        SmallVector<OpFoldResult> strides(3, b.getIndexAttr(1));
        Value tile = tensor::ExtractSliceOp::create(
            b, loc, RankedTensorType::get({sq, headDim}, f32), shared, offsets, sizes,
            strides);
        SmallVector<Value> queryState(prefix.getResults());
        queryState.push_back(tile);
        auto queries = scf::ForOp::create(
            b, loc, idx(0), idx(sq), idx(1), queryState,
            [&](OpBuilder &b, Location loc, Value i, ValueRange acc) {
              SmallVector<Value> kv(acc.drop_back());
              if (causal)
                kv = addKey(b, loc, arith::AddIOp::create(b, loc, i, idx(offset)), kv);
              SmallVector<Value> phi = featureMap(b, loc, q, i, qCol0, true);
              Value denVec = zeroVec;
              for (int64_t c = 0; c < featureChunks; ++c)
                denVec = vector::FMAOp::create(b, loc, phi[c], kv[1 + c], denVec);
              Value den =
                  vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, denVec,
                                              arith::FastMathFlags::reassoc);
              Value buf = buffer(b, loc, phi);
              SmallVector<Value> zeros(headChunks, zeroVec);
              auto fLoop = scf::ForOp::create(
                  b, loc, idx(0), idx(features), idx(1), zeros,
                  [&](OpBuilder &b, Location loc, Value f, ValueRange num) {
                    Value pf =
                        splat(b, loc,
                              tensor::ExtractOp::create(b, loc, buf, ValueRange{f}), vw);
                    SmallVector<Value> next;
                    for (int64_t c = 0; c < headChunks; ++c)
                      next.push_back(vector::FMAOp::create(
                          b, loc, pf, readVector(b, loc, kv[0], {f, idx(c * vw)}, vw),
                          num[c]));
                    scf::YieldOp::create(b, loc, next);
                  });
              Value zero = constantOf(b, loc, f32, 0.0);
              Value any =
                  arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, den, zero);
              Value inv = arith::SelectOp::create(
                  b, loc, any,
                  arith::DivFOp::create(b, loc, constantOf(b, loc, f32, 1.0), den), zero);
              Value invVec = splat(b, loc, inv, vw);
              Value t = acc.back();
              for (int64_t c = 0; c < headChunks; ++c)
                t = writeVector(b, loc,
                                arith::MulFOp::create(b, loc, fLoop.getResult(c), invVec),
                                t, {i, idx(c * vw)});
              kv.push_back(t);
              scf::YieldOp::create(b, loc, kv);
            });
        return ParallelTile{queries.getResults().back(), offsets, sizes};
      });
  return result;
}
