//===- PagedAttentionKernel.cpp - attention over the paged key/value cache ===//
//
// tfx.paged_attention as a loop nest, one task per (sequence, head, new
// token) on the runtime's thread pool. A task walks the keys its token sees
// with the online softmax of AttentionKernel.cpp (running max m, sum l and
// output o in registers):
//
//   1. cached positions [lo, length), `kw` keys at a time: the block table
//      names the cache block, whose keys are stored transposed
//      ([kv_width][block_size]), so one vector load per head feature gives
//      kw scores; only the valid keys' value rows are read;
//   2. the step's own keys up to the token, one at a time (few per step).
//
// The loop bounds come from cache_lengths at run time: a decode step costs
// the length of the sequence, not the capacity of the cache. Lengths and
// block ids are clamped into range so that reads stay inside the buffers;
// the entry reports out-of-range values as an error status.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilders.h"
#include "LinalgBuilders.h"
#include "Lowering.h"
#include "Elementwise.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tfx;

/// The largest power of two <= limit that divides n.
static int64_t lanesDividing(int64_t n, int64_t limit) {
  int64_t lanes = 1;
  while (lanes * 2 <= limit && n % (lanes * 2) == 0)
    lanes *= 2;
  return lanes;
}

/// i1: some cache length lies outside [0, capacity], or a block id of the
/// used part of a sequence's table outside [0, blocks).
static Value anyCacheIndexOutOfRange(OpBuilder &b, Location loc, Value table,
                                     Value lengths, int64_t blocks,
                                     int64_t blockSize) {
  auto tableType = cast<RankedTensorType>(table.getType());
  int64_t batch = tableType.getDimSize(0), maxBlocks = tableType.getDimSize(1);
  auto idx = [&](int64_t c) { return indexConstant(b, loc, c); };
  Value no = arith::ConstantIntOp::create(b, loc, 0, 1);
  auto rows = scf::ForOp::create(
      b, loc, idx(0), idx(batch), idx(1), ValueRange{no},
      [&](OpBuilder &b, Location loc, Value row, ValueRange bad) {
        Value length = tensor::ExtractOp::create(b, loc, lengths, row);
        Type t = length.getType();
        Value tooSmall = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                               length, constantOf(b, loc, t, 0));
        Value tooLarge = arith::CmpIOp::create(
            b, loc, arith::CmpIPredicate::sgt, length,
            constantOf(b, loc, t, (double)(maxBlocks * blockSize)));
        Value lengthBad = arith::OrIOp::create(b, loc, tooSmall, tooLarge);
        // Blocks in use: ceil(clamped length / block size).
        Value clamped = clampIndex(b, loc, length, maxBlocks * blockSize + 1, false);
        Value used = arith::CeilDivUIOp::create(b, loc, clamped, idx(blockSize));
        auto ids = scf::ForOp::create(
            b, loc, idx(0), used, idx(1), ValueRange{lengthBad},
            [&](OpBuilder &b, Location loc, Value m, ValueRange acc) {
              Value id = tensor::ExtractOp::create(b, loc, table, ValueRange{row, m});
              Type it = id.getType();
              Value low = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, id,
                                                constantOf(b, loc, it, 0));
              Value high = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge,
                                                 id, constantOf(b, loc, it, (double)blocks));
              Value idBad = arith::OrIOp::create(b, loc, low, high);
              scf::YieldOp::create(b, loc,
                                   (Value)arith::OrIOp::create(b, loc, acc[0], idBad));
            });
        scf::YieldOp::create(
            b, loc, (Value)arith::OrIOp::create(b, loc, bad[0], ids.getResult(0)));
      });
  return rows.getResult(0);
}

FailureOr<Value> mlir::tfx::lowerPagedAttention(FuncLowering &fl, OpBuilder &b,
                                                PagedAttentionOp op) {
  Location loc = op.getLoc();
  auto qType = cast<RankedTensorType>(op.getQ().getType());
  auto kcType = cast<RankedTensorType>(op.getKCache().getType());
  auto tableType = cast<RankedTensorType>(op.getBlockTable().getType());
  if (!qType.getElementType().isF32())
    return op.emitError("paged_attention is compiled for f32 only, got ")
           << qType.getElementType();
  if (!qType.hasStaticShape() || !kcType.hasStaticShape() ||
      !tableType.hasStaticShape())
    return op.emitError("paged_attention needs static shapes");
  int64_t batch = qType.getDimSize(0), tokens = qType.getDimSize(1);
  int64_t heads = (int64_t)op.getNumHeads(), kvHeads = (int64_t)op.getNumKvHeads();
  int64_t headDim = qType.getDimSize(2) / heads, group = heads / kvHeads;
  int64_t blocks = kcType.getDimSize(0), blockSize = kcType.getDimSize(3);
  int64_t maxBlocks = tableType.getDimSize(1), capacity = maxBlocks * blockSize;
  int64_t layer = (int64_t)op.getLayer(), window = (int64_t)op.getWindow();
  double scale = op.getScale().convertToDouble();
  int64_t vw = fl.options.vectorWidth;
  int64_t kw = lanesDividing(blockSize, vw); // keys per score vector
  int64_t cw = lanesDividing(headDim, vw);   // head features per vector
  int64_t chunks = headDim / cw;

  Value q = op.getQ(), k = op.getK(), v = op.getV();
  Value kCache = op.getKCache(), vCache = op.getVCache();
  Value table = op.getBlockTable(), lengths = op.getCacheLengths();
  fl.addErrorFlag(b, loc,
                  anyCacheIndexOutOfRange(b, loc, table, lengths, blocks, blockSize));

  Type f32 = b.getF32Type(), i64 = b.getI64Type();
  auto keyVecType = VectorType::get({kw}, f32);
  auto chunkType = VectorType::get({cw}, f32);
  Value out = emptyTensor(b, loc, qType.getShape(), f32);

  return buildParallel(
      b, loc, batch * heads * tokens, out,
      [&](OpBuilder &b, Location loc, Value task, Value shared) -> ParallelTile {
        auto idx = [&](int64_t c) { return indexConstant(b, loc, c); };
        Value bi = arith::DivUIOp::create(b, loc, task, idx(heads * tokens));
        Value h = arith::RemUIOp::create(
            b, loc, arith::DivUIOp::create(b, loc, task, idx(tokens)), idx(heads));
        Value i = arith::RemUIOp::create(b, loc, task, idx(tokens));
        Value g = arith::DivUIOp::create(b, loc, h, idx(group));
        Value qCol0 = arith::MulIOp::create(b, loc, h, idx(headDim));
        Value kvCol0 = arith::MulIOp::create(b, loc, g, idx(headDim));
        Value layerIdx = idx(layer);
        Value length = clampIndex(
            b, loc, tensor::ExtractOp::create(b, loc, lengths, bi), capacity + 1, false);
        Value pos = arith::AddIOp::create(b, loc, length, i);
        // First visible position: pos - window + 1, at least 0.
        Value lo = idx(0);
        if (window > 0)
          lo = arith::MaxSIOp::create(
              b, loc, lo,
              arith::SubIOp::create(b, loc, arith::AddIOp::create(b, loc, pos, idx(1)),
                                    idx(window)));

        Value negInf = constantOf(b, loc, f32, -INFINITY);
        Value zero = constantOf(b, loc, f32, 0.0);
        Value scaleVec = constantOf(b, loc, keyVecType, scale);
        SmallVector<Value> init = {negInf, zero};
        for (int64_t c = 0; c < chunks; ++c)
          init.push_back(constantOf(b, loc, chunkType, 0.0));
        SmallVector<int64_t> laneIds;
        for (int64_t l = 0; l < kw; ++l)
          laneIds.push_back(l);
        Value iota = arith::ConstantOp::create(
            b, loc,
            DenseElementsAttr::get(VectorType::get({kw}, i64), ArrayRef<int64_t>(laneIds)));

        // o += p * v[row], for the value row at `indices` of `source`.
        auto accumulate = [&](OpBuilder &b, Location loc, SmallVector<Value> &o,
                              Value p, Value source, SmallVector<Value> indices) {
          Value pv = splat(b, loc, p, cw);
          Value col = indices.back();
          for (int64_t c = 0; c < chunks; ++c) {
            indices.back() = arith::AddIOp::create(b, loc, col, idx(c * cw));
            Value row = readVector(b, loc, source, indices, cw);
            o[c] = vector::FMAOp::create(b, loc, pv, row, o[c]);
          }
        };

        // 1. Cached keys, kw at a time, from the aligned block below lo.
        Value start = arith::MulIOp::create(
            b, loc, arith::DivUIOp::create(b, loc, lo, idx(kw)), idx(kw));
        auto cached = scf::ForOp::create(
            b, loc, start, length, idx(kw), init,
            [&](OpBuilder &b, Location loc, Value key0, ValueRange state) {
              Value m = state[0], l = state[1];
              SmallVector<Value> o(state.drop_front(2));
              Value slot = arith::RemUIOp::create(b, loc, key0, idx(blockSize));
              Value page = clampIndex(
                  b, loc,
                  tensor::ExtractOp::create(
                      b, loc, table,
                      ValueRange{bi, arith::DivUIOp::create(b, loc, key0,
                                                            idx(blockSize))}),
                  blocks, false);
              int64_t unroll = headDim % 4 == 0 ? 4 : 1;
              auto dLoop = scf::ForOp::create(
                  b, loc, idx(0), idx(headDim), idx(unroll),
                  ValueRange{constantOf(b, loc, keyVecType, 0.0)},
                  [&](OpBuilder &b, Location loc, Value d0, ValueRange acc) {
                    Value s = acc[0];
                    for (int64_t u = 0; u < unroll; ++u) {
                      Value d = arith::AddIOp::create(b, loc, d0, idx(u));
                      Value keys = readVector(
                          b, loc, kCache,
                          {page, layerIdx, arith::AddIOp::create(b, loc, kvCol0, d), slot},
                          kw);
                      Value qd = tensor::ExtractOp::create(
                          b, loc, q,
                          ValueRange{bi, i, arith::AddIOp::create(b, loc, qCol0, d)});
                      s = vector::FMAOp::create(b, loc, splat(b, loc, qd, kw), keys, s);
                    }
                    scf::YieldOp::create(b, loc, s);
                  });
              Value keys = arith::AddIOp::create(
                  b, loc, splat(b, loc, arith::IndexCastOp::create(b, loc, i64, key0), kw),
                  iota);
              auto bound = [&](Value x) {
                return splat(b, loc, arith::IndexCastOp::create(b, loc, i64, x), kw);
              };
              Value visible = arith::AndIOp::create(
                  b, loc,
                  arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, keys, bound(lo)),
                  arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, keys,
                                        bound(length)));
              Value scores = arith::SelectOp::create(
                  b, loc, visible,
                  arith::MulFOp::create(b, loc, dLoop.getResult(0), scaleVec),
                  constantOf(b, loc, keyVecType, -INFINITY));
              Value blockMax = vector::ReductionOp::create(
                  b, loc, vector::CombiningKind::MAXNUMF, scores,
                  arith::FastMathFlags::nnan);
              Value mNew = arith::MaxNumFOp::create(b, loc, m, blockMax);
              // While every key so far is hidden m stays -inf: shift by 0.
              Value hidden =
                  arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, mNew, negInf);
              Value shift = arith::SelectOp::create(b, loc, hidden, zero, mNew);
              Value e = math::ExpOp::create(
                  b, loc, arith::SubFOp::create(b, loc, scores, splat(b, loc, shift, kw)));
              Value p = arith::SelectOp::create(b, loc, visible, e,
                                                constantOf(b, loc, keyVecType, 0.0));
              Value wasHidden =
                  arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, m, negInf);
              Value alpha = arith::SelectOp::create(
                  b, loc, wasHidden, zero,
                  math::ExpOp::create(b, loc, arith::SubFOp::create(b, loc, m, shift)));
              Value blockSum = vector::ReductionOp::create(
                  b, loc, vector::CombiningKind::ADD, p, arith::FastMathFlags::reassoc);
              l = arith::AddFOp::create(b, loc, arith::MulFOp::create(b, loc, l, alpha),
                                        blockSum);
              Value alphaVec = splat(b, loc, alpha, cw);
              for (Value &oc : o)
                oc = arith::MulFOp::create(b, loc, oc, alphaVec);
              // Value rows of the valid keys only: the slots past the
              // length may hold anything.
              Value valid = arith::MinUIOp::create(
                  b, loc, idx(kw), arith::SubIOp::create(b, loc, length, key0));
              auto jLoop = scf::ForOp::create(
                  b, loc, idx(0), valid, idx(1), o,
                  [&](OpBuilder &b, Location loc, Value j, ValueRange acc) {
                    SmallVector<Value> next(acc);
                    Value pj = vector::ExtractOp::create(b, loc, p, ArrayRef<OpFoldResult>{j});
                    accumulate(b, loc, next, pj, vCache,
                               {page, layerIdx, arith::AddIOp::create(b, loc, slot, j),
                                kvCol0});
                    scf::YieldOp::create(b, loc, next);
                  });
              SmallVector<Value> next = {mNew, l};
              next.append(jLoop.getResults().begin(), jLoop.getResults().end());
              scf::YieldOp::create(b, loc, next);
            });

        // 2. The step's own keys, positions length .. pos, one at a time;
        // the token always sees itself, so the final sum is positive.
        SmallVector<Value> qRow;
        for (int64_t c = 0; c < chunks; ++c)
          qRow.push_back(readVector(
              b, loc, q, {bi, i, arith::AddIOp::create(b, loc, qCol0, idx(c * cw))}, cw));
        Value firstNew = arith::SubIOp::create(
            b, loc, arith::MaxSIOp::create(b, loc, lo, length), length);
        auto fresh = scf::ForOp::create(
            b, loc, firstNew, arith::AddIOp::create(b, loc, i, idx(1)), idx(1),
            cached.getResults(),
            [&](OpBuilder &b, Location loc, Value j, ValueRange state) {
              Value m = state[0], l = state[1];
              SmallVector<Value> o(state.drop_front(2));
              Value dot = constantOf(b, loc, chunkType, 0.0);
              for (int64_t c = 0; c < chunks; ++c) {
                Value keyRow = readVector(
                    b, loc, k,
                    {bi, j, arith::AddIOp::create(b, loc, kvCol0, idx(c * cw))}, cw);
                dot = vector::FMAOp::create(b, loc, qRow[c], keyRow, dot);
              }
              Value s = arith::MulFOp::create(
                  b, loc,
                  vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, dot,
                                              arith::FastMathFlags::reassoc),
                  constantOf(b, loc, f32, scale));
              Value mNew = arith::MaxNumFOp::create(b, loc, m, s);
              Value alpha =
                  math::ExpOp::create(b, loc, arith::SubFOp::create(b, loc, m, mNew));
              Value p = math::ExpOp::create(b, loc, arith::SubFOp::create(b, loc, s, mNew));
              l = arith::AddFOp::create(b, loc, arith::MulFOp::create(b, loc, l, alpha), p);
              Value alphaVec = splat(b, loc, alpha, cw);
              for (Value &oc : o)
                oc = arith::MulFOp::create(b, loc, oc, alphaVec);
              accumulate(b, loc, o, p, v, {bi, j, kvCol0});
              SmallVector<Value> next = {mNew, l};
              next.append(o);
              scf::YieldOp::create(b, loc, next);
            });

        SmallVector<OpFoldResult> offsets = {bi, i, qCol0};
        SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1), b.getIndexAttr(1),
                                           b.getIndexAttr(headDim)};
        SmallVector<OpFoldResult> strides(3, b.getIndexAttr(1));
        Value tile = tensor::ExtractSliceOp::create(
            b, loc, RankedTensorType::get({headDim}, f32), shared, offsets, sizes,
            strides);
        Value inv = arith::DivFOp::create(b, loc, constantOf(b, loc, f32, 1.0),
                                          fresh.getResult(1));
        Value invVec = splat(b, loc, inv, cw);
        for (int64_t c = 0; c < chunks; ++c)
          tile = writeVector(
              b, loc, arith::MulFOp::create(b, loc, fresh.getResult(2 + c), invVec),
              tile, {idx(c * cw)});
        return ParallelTile{tile, offsets, sizes};
      });
}
