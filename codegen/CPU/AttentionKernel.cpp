//===- AttentionKernel.cpp - flash-style attention loop nest --------------===//
//
// Scores never exist as a [seq, seq] buffer: each task takes QB query rows
// of one head and walks the keys in blocks of one vector (16 keys),
// keeping per row the running maximum m, the running sum l of
// exp(s - m) and the output accumulator o[head_dim] in registers (online
// softmax). Per key block:
//
//   s[r][:]  = scale * sum_d q[r, d] * K^T[d, keys]   (K^T packed per head)
//   s        = -inf where the causal/window/padding masks hide a key
//   m'       = max(m, max(s)); alpha = exp(m - m'); p = exp(s - m')
//   l        = l * alpha + sum(p);  o = o * alpha + sum_j p_j v[j, :]
//
// and at the end out = o / l (zeros for a row that saw no key, as
// tfx.attention defines). Tasks are (batch, head, query block) on the
// runtime's thread pool.
//
// A task visits only the key blocks its rows can see, so that sparse masks
// save work instead of computing scores to hide them: with `causal` and
// `window` its keys run from the block of (first position - window + 1) to
// the block of its last position (last position + window - 1 without
// `causal`), after the blocks of the global tokens;
// with a block-sparse layout it walks a compile-time list of the key
// blocks its rows see (offsets per query block into one index array, as in
// CSR). The per-key masks then only trim the edges of those blocks.
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

FailureOr<Value> mlir::tfx::lowerAttentionKernel(FuncLowering &fl, OpBuilder &b,
                                                 AttentionOp op) {
  auto qType = cast<RankedTensorType>(op.getQ().getType());
  auto kType = cast<RankedTensorType>(op.getK().getType());
  int64_t vw = fl.options.vectorWidth;
  if (qType.getRank() != 3 || kType.getRank() != 3 || !qType.hasStaticShape() ||
      !kType.hasStaticShape() || !qType.getElementType().isF32() ||
      !kType.getElementType().isF32() ||
      !cast<RankedTensorType>(op.getV().getType()).getElementType().isF32())
    return failure();
  int64_t batch = qType.getDimSize(0), sq = qType.getDimSize(1);
  int64_t sk = kType.getDimSize(1);
  int64_t heads = (int64_t)op.getNumHeads(), kvHeads = (int64_t)op.getNumKvHeads();
  int64_t headDim = qType.getDimSize(2) / heads, group = heads / kvHeads;
  if (sk % vw || headDim % vw || sk == 0 || sq == 0)
    return failure();
  Value mask = op.getMask();
  if (mask && !cast<RankedTensorType>(mask.getType()).getElementType().isIntOrFloat())
    return failure();
  bool causal = op.getCausal();
  int64_t window = (int64_t)op.getWindow();
  int64_t globalTokens = (int64_t)op.getGlobalTokens();
  int64_t blockSize = (int64_t)op.getBlockSize();
  // A key vector must lie inside one layout block.
  if (op.isLinear() || (blockSize > 0 && (blockSize % vw || sq > sk)))
    return failure();
  double scale = op.getScale().convertToDouble();
  // Rows per task: their accumulators (headDim / vw vectors each) must
  // leave registers for the scores and a row of V.
  int64_t chunks = headDim / vw;
  int64_t qb = std::max<int64_t>(1, std::min<int64_t>(8, 16 / chunks));
  while (sq % qb)
    --qb;
  int64_t queryBlocks = sq / qb;
  int64_t offset = sk - sq;

  Location loc = op.getLoc();
  Type f32 = b.getF32Type(), i64 = b.getI64Type();
  auto vecType = VectorType::get({vw}, f32);
  auto idxVecType = VectorType::get({vw}, i64);

  // K^T per kv head: [B, KvH, D, Sk], so that a vector holds 16 keys.
  Value k4 = reshapeTo(b, loc, op.getK(), {batch, sk, kvHeads, headDim});
  Value ktInit = emptyTensor(b, loc, {batch, kvHeads, headDim, sk}, f32);
  Value kt = linalg::TransposeOp::create(b, loc, k4, ktInit,
                                         ArrayRef<int64_t>{0, 2, 3, 1})
                 .getResult()[0];
  Value q = op.getQ(), v = op.getV();
  Value out = emptyTensor(b, loc, qType.getShape(), f32);
  // i1 memory holds a byte per element, but a vector<16xi1> load reads
  // bits: widen a boolean mask to bytes first.
  if (mask && cast<RankedTensorType>(mask.getType()).getElementType().isInteger(1)) {
    auto type = cast<RankedTensorType>(mask.getType());
    mask = buildElementwise(b, loc, type.clone(b.getI8Type()), mask,
                            [](OpBuilder &nb, Location l, ValueRange args) {
                              return (Value)arith::ExtUIOp::create(
                                  nb, l, nb.getI8Type(), args[0]);
                            });
  }

  // Block-sparse: the layout as bytes, and per query block the key vectors
  // (16 keys each) that any of its rows sees.
  Value layoutTable, blockOffsets, blockKeys;
  int64_t layoutBlocks = blockSize > 0 ? (sk + blockSize - 1) / blockSize : 0;
  if (blockSize > 0) {
    ArrayRef<bool> layout = op.getBlockLayout();
    SmallVector<int8_t> bytes(layout.begin(), layout.end());
    auto i8Type = RankedTensorType::get({(int64_t)bytes.size()}, b.getI8Type());
    layoutTable = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(i8Type, ArrayRef<int8_t>(bytes)));
    SmallVector<int32_t> offsets = {0}, keyVectors;
    for (int64_t block = 0; block < queryBlocks; ++block) {
      for (int64_t key0 = 0; key0 < sk; key0 += vw) {
        bool seen = false;
        for (int64_t r = 0; r < qb && !seen; ++r) {
          int64_t pos = block * qb + r + offset;
          if (causal && key0 > pos)
            continue;
          seen = layout[(pos / blockSize) * layoutBlocks + key0 / blockSize] ||
                 key0 < globalTokens || pos < globalTokens;
        }
        if (seen)
          keyVectors.push_back((int32_t)(key0 / vw));
      }
      offsets.push_back((int32_t)keyVectors.size());
    }
    if (keyVectors.empty())
      keyVectors.push_back(0); // never read: every range is empty
    auto table = [&](ArrayRef<int32_t> data) {
      auto type = RankedTensorType::get({(int64_t)data.size()}, b.getI32Type());
      return (Value)arith::ConstantOp::create(b, loc, DenseElementsAttr::get(type, data));
    };
    blockOffsets = table(offsets);
    blockKeys = table(keyVectors);
  }

  Value result = buildParallel(
      b, loc, batch * heads * queryBlocks, out,
      [&](OpBuilder &b, Location loc, Value task, Value shared) -> ParallelTile {
        auto idx = [&](int64_t c) { return indexConstant(b, loc, c); };
        Value bi = arith::DivUIOp::create(b, loc, task, idx(heads * queryBlocks));
        Value h = arith::RemUIOp::create(
            b, loc, arith::DivUIOp::create(b, loc, task, idx(queryBlocks)), idx(heads));
        Value row0 = arith::MulIOp::create(
            b, loc, arith::RemUIOp::create(b, loc, task, idx(queryBlocks)), idx(qb));
        Value g = arith::DivUIOp::create(b, loc, h, idx(group));
        Value qCol0 = arith::MulIOp::create(b, loc, h, idx(headDim));
        Value vCol0 = arith::MulIOp::create(b, loc, g, idx(headDim));
        SmallVector<Value> rows;
        for (int64_t r = 0; r < qb; ++r)
          rows.push_back(arith::AddIOp::create(b, loc, row0, idx(r)));

        Value negInf = constantOf(b, loc, f32, -INFINITY);
        Value zero = constantOf(b, loc, f32, 0.0);
        SmallVector<Value> init;
        for (int64_t r = 0; r < qb; ++r)
          init.push_back(negInf); // m
        for (int64_t r = 0; r < qb; ++r)
          init.push_back(zero); // l
        for (int64_t r = 0; r < qb * chunks; ++r)
          init.push_back(constantOf(b, loc, vecType, 0.0)); // o
        SmallVector<int64_t> lanes;
        for (int64_t l = 0; l < vw; ++l)
          lanes.push_back(l);
        Value iota = arith::ConstantOp::create(
            b, loc, DenseElementsAttr::get(idxVecType, ArrayRef<int64_t>(lanes)));

        auto keyBlock = [&](OpBuilder &b, Location loc, Value key0,
                            ValueRange state) -> SmallVector<Value> {
              SmallVector<Value> m(state.take_front(qb));
              SmallVector<Value> l(state.slice(qb, qb));
              SmallVector<Value> o(state.drop_front(2 * qb));
              // Scores of qb rows against vw keys: a loop over head_dim
              // whose body loads one row of K^T and broadcasts q scalars.
              int64_t unroll = headDim % 4 == 0 ? 4 : 1;
              SmallVector<Value> zeroScores(qb, constantOf(b, loc, vecType, 0.0));
              auto dLoop = scf::ForOp::create(
                  b, loc, idx(0), idx(headDim), idx(unroll), zeroScores,
                  [&](OpBuilder &b, Location loc, Value d0, ValueRange acc) {
                    SmallVector<Value> next(acc);
                    for (int64_t u = 0; u < unroll; ++u) {
                      Value d = arith::AddIOp::create(b, loc, d0, idx(u));
                      Value kv = readVector(b, loc, kt, {bi, g, d, key0}, vw);
                      Value col = arith::AddIOp::create(b, loc, qCol0, d);
                      for (int64_t r = 0; r < qb; ++r) {
                        Value qs = tensor::ExtractOp::create(
                            b, loc, q, ValueRange{bi, rows[r], col});
                        next[r] = vector::FMAOp::create(b, loc, splat(b, loc, qs, vw),
                                                        kv, next[r]);
                      }
                    }
                    scf::YieldOp::create(b, loc, next);
                  });
              SmallVector<Value> s(dLoop.getResults());
              // Visibility of the keys, shared by the rows up to the
              // causal/window part.
              Value keys = arith::AddIOp::create(
                  b, loc,
                  splat(b, loc, arith::IndexCastOp::create(b, loc, i64, key0), vw), iota);
              Value keep;
              if (mask) {
                Value mv = readVector(b, loc, mask, {bi, key0}, vw);
                keep = maskKeeps(b, loc, mv);
              }
              Value globalVec;
              if (globalTokens > 0)
                globalVec = arith::CmpIOp::create(
                    b, loc, arith::CmpIPredicate::slt, keys,
                    constantOf(b, loc, idxVecType, (double)globalTokens));
              Value scaleVec = constantOf(b, loc, vecType, scale);
              Value negInfVec = constantOf(b, loc, vecType, -INFINITY);
              Value zeroVec = constantOf(b, loc, vecType, 0.0);
              SmallVector<Value> p(qb);
              for (int64_t r = 0; r < qb; ++r) {
                Value visible = keep;
                if (causal || window > 0 || blockSize > 0) {
                  Value posIndex = arith::AddIOp::create(b, loc, rows[r], idx(offset));
                  Value pos = arith::IndexCastOp::create(b, loc, i64, posIndex);
                  Value posVec = splat(b, loc, pos, vw);
                  Value vis, local;
                  if (causal)
                    vis = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle, keys,
                                                posVec);
                  if (window > 0) {
                    Value shifted = arith::AddIOp::create(
                        b, loc, keys, constantOf(b, loc, idxVecType, (double)window));
                    local = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt,
                                                  shifted, posVec);
                    if (!causal) {
                      Value ahead = arith::AddIOp::create(
                          b, loc, posVec, constantOf(b, loc, idxVecType, (double)window));
                      local = arith::AndIOp::create(
                          b, loc, local,
                          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, keys,
                                                ahead));
                    }
                  }
                  if (blockSize > 0) {
                    // The row's and the vector's layout blocks: one entry.
                    Value entry = arith::AddIOp::create(
                        b, loc,
                        arith::MulIOp::create(
                            b, loc, arith::DivUIOp::create(b, loc, posIndex, idx(blockSize)),
                            idx(layoutBlocks)),
                        arith::DivUIOp::create(b, loc, key0, idx(blockSize)));
                    Value byte = tensor::ExtractOp::create(b, loc, layoutTable, ValueRange{entry});
                    Value keepBlock = arith::CmpIOp::create(
                        b, loc, arith::CmpIPredicate::ne, byte,
                        constantOf(b, loc, b.getI8Type(), 0));
                    local = splat(b, loc, keepBlock, vw);
                  }
                  if (local && globalTokens > 0) {
                    Value globalQuery = arith::CmpIOp::create(
                        b, loc, arith::CmpIPredicate::slt, pos,
                        constantOf(b, loc, i64, (double)globalTokens));
                    local = arith::OrIOp::create(b, loc, local, globalVec);
                    local = arith::OrIOp::create(b, loc, local,
                                                 splat(b, loc, globalQuery, vw));
                  }
                  if (local)
                    vis = vis ? (Value)arith::AndIOp::create(b, loc, vis, local) : local;
                  visible = visible ? (Value)arith::AndIOp::create(b, loc, visible, vis)
                                    : vis;
                }
                Value scores = arith::MulFOp::create(b, loc, s[r], scaleVec);
                if (visible)
                  scores = arith::SelectOp::create(b, loc, visible, scores, negInfVec);
                // No NaN among scores (masked ones are -inf): lets LLVM use
                // a shuffle tree instead of NaN-checking scalar steps.
                Value blockMax = vector::ReductionOp::create(
                    b, loc, vector::CombiningKind::MAXNUMF, scores,
                    arith::FastMathFlags::nnan);
                Value mNew = arith::MaxNumFOp::create(b, loc, m[r], blockMax);
                // With every key so far hidden, m stays -inf: shift by 0.
                Value hidden = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                                     mNew, negInf);
                Value shift = arith::SelectOp::create(b, loc, hidden, zero, mNew);
                Value e = math::ExpOp::create(
                    b, loc, arith::SubFOp::create(b, loc, scores, splat(b, loc, shift, vw)));
                p[r] = visible ? (Value)arith::SelectOp::create(b, loc, visible, e, zeroVec)
                               : e;
                Value wasHidden = arith::CmpFOp::create(
                    b, loc, arith::CmpFPredicate::OEQ, m[r], negInf);
                Value alpha = arith::SelectOp::create(
                    b, loc, wasHidden, zero,
                    math::ExpOp::create(b, loc, arith::SubFOp::create(b, loc, m[r], shift)));
                Value blockSum = vector::ReductionOp::create(
                    b, loc, vector::CombiningKind::ADD, p[r],
                    arith::FastMathFlags::reassoc);
                l[r] = arith::AddFOp::create(
                    b, loc, arith::MulFOp::create(b, loc, l[r], alpha), blockSum);
                Value alphaVec = splat(b, loc, alpha, vw);
                for (int64_t c = 0; c < chunks; ++c)
                  o[r * chunks + c] =
                      arith::MulFOp::create(b, loc, o[r * chunks + c], alphaVec);
                m[r] = mNew;
              }
              // o += p_j * v[j, :], one key at a time, its row loaded once;
              // the probabilities go through a small buffer so that each p_j
              // is a broadcast load rather than a lane shuffle.
              Value probs = emptyTensor(b, loc, {qb, vw}, f32);
              for (int64_t r = 0; r < qb; ++r)
                probs = writeVector(b, loc, p[r], probs, {idx(r), idx(0)});
              auto jLoop = scf::ForOp::create(
                  b, loc, idx(0), idx(vw), idx(1), o,
                  [&](OpBuilder &b, Location loc, Value j, ValueRange acc) {
                    SmallVector<Value> next(acc);
                    Value key = arith::AddIOp::create(b, loc, key0, j);
                    SmallVector<Value> vRow;
                    for (int64_t c = 0; c < chunks; ++c)
                      vRow.push_back(readVector(
                          b, loc, v,
                          {bi, key, arith::AddIOp::create(b, loc, vCol0, idx(c * vw))},
                          vw));
                    for (int64_t r = 0; r < qb; ++r) {
                      Value pj = tensor::ExtractOp::create(b, loc, probs,
                                                           ValueRange{idx(r), j});
                      Value pv = splat(b, loc, pj, vw);
                      for (int64_t c = 0; c < chunks; ++c)
                        next[r * chunks + c] = vector::FMAOp::create(
                            b, loc, pv, vRow[c], next[r * chunks + c]);
                    }
                    scf::YieldOp::create(b, loc, next);
                  });
              o.assign(jLoop.getResults().begin(), jLoop.getResults().end());
              SmallVector<Value> next(m);
              next.append(l);
              next.append(o);
              return next;
            };
        auto keyLoop = [&](Value lower, Value upper, Value step, ValueRange state,
                           bool indirect) {
          auto loop = scf::ForOp::create(
              b, loc, lower, upper, step, state,
              [&](OpBuilder &b, Location loc, Value iv, ValueRange acc) {
                Value key0 = iv;
                if (indirect) {
                  Value vector = tensor::ExtractOp::create(b, loc, blockKeys, ValueRange{iv});
                  key0 = arith::MulIOp::create(
                      b, loc,
                      arith::IndexCastOp::create(b, loc, b.getIndexType(), vector),
                      idx(vw));
                }
                scf::YieldOp::create(b, loc, keyBlock(b, loc, key0, acc));
              });
          return SmallVector<Value>(loop.getResults());
        };
        SmallVector<Value> finalState;
        if (blockSize > 0) {
          Value block = arith::RemUIOp::create(b, loc, task, idx(queryBlocks));
          auto bound = [&](Value at) {
            return (Value)arith::IndexCastOp::create(
                b, loc, b.getIndexType(),
                tensor::ExtractOp::create(b, loc, blockOffsets, ValueRange{at}));
          };
          finalState = keyLoop(bound(block),
                               bound(arith::AddIOp::create(b, loc, block, idx(1))),
                               idx(1), init, true);
        } else {
          // Key range of the task's rows, in whole vectors, from the first
          // row's window start.
          auto alignUp = [&](Value x) {
            return (Value)arith::MulIOp::create(
                b, loc,
                arith::DivUIOp::create(b, loc, arith::AddIOp::create(b, loc, x, idx(vw - 1)),
                                       idx(vw)),
                idx(vw));
          };
          auto clamp = [&](Value x) {
            return (Value)arith::MinSIOp::create(
                b, loc, arith::MaxSIOp::create(b, loc, x, idx(0)), idx(sk));
          };
          // Up to the last row's position (causal) or window end (not).
          Value upper = idx(sk);
          if (causal)
            upper = alignUp(clamp(arith::AddIOp::create(b, loc, row0, idx(qb + offset))));
          else if (window > 0)
            upper = alignUp(
                clamp(arith::AddIOp::create(b, loc, row0, idx(qb - 1 + offset + window))));
          Value lower = idx(0);
          if (window > 0) {
            Value start =
                clamp(arith::AddIOp::create(b, loc, row0, idx(offset - window + 1)));
            lower = arith::MulIOp::create(
                b, loc, arith::DivUIOp::create(b, loc, start, idx(vw)), idx(vw));
          }
          finalState = SmallVector<Value>(init);
          if (window > 0 && globalTokens > 0) {
            // Rows at global positions see every key; the others see the
            // global tokens' vectors, then their window.
            Value globalRows = arith::CmpIOp::create(
                b, loc, arith::CmpIPredicate::slt,
                arith::AddIOp::create(b, loc, row0, idx(offset)), idx(globalTokens));
            lower = arith::SelectOp::create(b, loc, globalRows, idx(0), lower);
            if (!causal)
              upper = arith::SelectOp::create(b, loc, globalRows, idx(sk), upper);
            Value globalEnd = arith::MinSIOp::create(
                b, loc, idx(std::min(sk, (globalTokens + vw - 1) / vw * vw)), upper);
            globalEnd = arith::MinSIOp::create(b, loc, globalEnd, lower);
            finalState = keyLoop(idx(0), globalEnd, idx(vw), finalState, false);
          }
          finalState = keyLoop(lower, upper, idx(vw), finalState, false);
        }

        SmallVector<OpFoldResult> offsets = {bi, row0, qCol0};
        SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1), b.getIndexAttr(qb),
                                           b.getIndexAttr(headDim)};
        SmallVector<OpFoldResult> strides(3, b.getIndexAttr(1));
        Value tile = tensor::ExtractSliceOp::create(
            b, loc, RankedTensorType::get({qb, headDim}, f32), shared, offsets, sizes,
            strides);
        for (int64_t r = 0; r < qb; ++r) {
          Value l = finalState[qb + r];
          Value any = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, l, zero);
          Value inv = arith::SelectOp::create(
              b, loc, any,
              arith::DivFOp::create(b, loc, constantOf(b, loc, f32, 1.0), l), zero);
          Value invVec = splat(b, loc, inv, vw);
          for (int64_t c = 0; c < chunks; ++c) {
            Value value = arith::MulFOp::create(
                b, loc, finalState[2 * qb + r * chunks + c], invVec);
            tile = writeVector(b, loc, value, tile, {idx(r), idx(c * vw)});
          }
        }
        return ParallelTile{tile, offsets, sizes};
      });
  return result;
}
