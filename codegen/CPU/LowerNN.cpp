//===- LowerNN.cpp - embedding, linear, matmul, norms, rope, softmax ------===//
//
// GEMMs with a weight operand read it packed into panels of `panel` output
// channels ([N/P][K][P]): the contraction below is then a plain
// linalg.generic over (m, n/P, P, k), which the kernels replace with a
// register-blocked loop nest. Reductions accumulate in f32 (the interpreter
// uses double; the difference stays far below the 1e-4 tolerance).
//
//===----------------------------------------------------------------------===//

#include "Elementwise.h"
#include "LinalgBuilders.h"
#include "Lowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tfx;

static ArrayRef<int64_t> shapeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}

static int64_t product(ArrayRef<int64_t> dims) {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= d;
  return n;
}

static Value multiplyAdd(OpBuilder &b, Location loc, ValueRange args) {
  Value product = arith::MulFOp::create(b, loc, args[0], args[1]);
  return arith::AddFOp::create(b, loc, args[2], product);
}

/// The output of a GEMM: the bias broadcast over rows, or zeros.
static Value gemmInit(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                      Type element, Value bias) {
  if (!bias)
    return filledTensor(b, loc, shape, element, 0.0);
  // The bias, reshaped to the trailing dims of `shape`, broadcast over rows.
  Value reshaped = reshapeTo(b, loc, bias, shape.drop_front());
  return buildElementwise(b, loc, RankedTensorType::get(shape, element), reshaped,
                          [](OpBuilder &, Location, ValueRange args) { return args[0]; });
}

/// [M, K] x packed [N/P, K, P] (+ bias) -> [M, N].
static Value packedGemm(OpBuilder &b, Location loc, Value lhs, Value packed,
                        Value bias) {
  MLIRContext *ctx = b.getContext();
  ArrayRef<int64_t> packedShape = shapeOf(packed);
  int64_t m = shapeOf(lhs)[0], panels = packedShape[0], p = packedShape[2];
  Type element = cast<RankedTensorType>(lhs.getType()).getElementType();
  Value init = gemmInit(b, loc, {m, panels, p}, element, bias);
  AffineExpr dm, dnb, dp, dk;
  bindDims(ctx, dm, dnb, dp, dk);
  SmallVector<AffineMap> maps = {AffineMap::get(4, 0, {dm, dk}, ctx),
                                 AffineMap::get(4, 0, {dnb, dk, dp}, ctx),
                                 AffineMap::get(4, 0, {dm, dnb, dp}, ctx)};
  SmallVector<utils::IteratorType> iterators = parallelIterators(3);
  iterators.push_back(utils::IteratorType::reduction);
  auto gemm = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, ValueRange{lhs, packed}, ValueRange{init},
      maps, iterators, [](OpBuilder &nb, Location nloc, ValueRange args) {
        linalg::YieldOp::create(nb, nloc, multiplyAdd(nb, nloc, args));
      });
  return reshapeTo(b, loc, gemm.getResult(0), {m, panels * p});
}

static FailureOr<Value> lowerLinear(FuncLowering &fl, OpBuilder &b, LinearOp op) {
  Location loc = op.getLoc();
  Value x = op.getInput(), w = op.getWeight(), bias = op.getBias();
  ArrayRef<int64_t> xShape = shapeOf(x), wShape = shapeOf(w);
  auto resultType = cast<RankedTensorType>(op.getType());
  int64_t k = xShape.back(), n = wShape[0], m = product(xShape.drop_back());
  Type element = resultType.getElementType();
  Value lhs = reshapeTo(b, loc, x, {m, k});
  std::optional<WeightRef> ref = fl.weightSource(w);
  Value result;
  if (ref && (fl.options.gpu || n % fl.options.panel == 0)) {
    Value packed = fl.weightTensor(loc, *ref, WeightLayout::PanelsNK, fl.options.gpu ? n : 0);
    result = packedGemm(b, loc, lhs, packed, bias);
  } else {
    MLIRContext *ctx = b.getContext();
    Value init = gemmInit(b, loc, {m, n}, element, bias);
    AffineExpr dm, dn, dk;
    bindDims(ctx, dm, dn, dk);
    SmallVector<AffineMap> maps = {AffineMap::get(3, 0, {dm, dk}, ctx),
                                   AffineMap::get(3, 0, {dn, dk}, ctx),
                                   AffineMap::get(3, 0, {dm, dn}, ctx)};
    SmallVector<utils::IteratorType> iterators = parallelIterators(2);
    iterators.push_back(utils::IteratorType::reduction);
    result = linalg::GenericOp::create(
                 b, loc, TypeRange{init.getType()}, ValueRange{lhs, w},
                 ValueRange{init}, maps, iterators,
                 [](OpBuilder &nb, Location nloc, ValueRange args) {
                   linalg::YieldOp::create(nb, nloc, multiplyAdd(nb, nloc, args));
                 })
                 .getResult(0);
  }
  return reshapeTo(b, loc, result, resultType.getShape());
}

/// result[n, k] = sitofp(q[n, k]) * scales[n, k / groupSize], where no
/// kernel reads the integers itself.
static FailureOr<Value> lowerDequantize(FuncLowering &fl, OpBuilder &b,
                                        DequantizeOp op) {
  Location loc = op.getLoc();
  MLIRContext *ctx = b.getContext();
  auto resultType = cast<RankedTensorType>(op.getType());
  Value q = op.getQ(), scales = op.getScales();
  if (std::optional<WeightRef> ref = fl.weightSource(q))
    q = fl.weightTensor(loc, *ref, WeightLayout::Plain);
  if (std::optional<WeightRef> ref = fl.weightSource(scales))
    scales = fl.weightTensor(loc, *ref, WeightLayout::Plain);
  AffineExpr dn, dk;
  bindDims(ctx, dn, dk);
  int64_t group = (int64_t)op.getGroupSize();
  SmallVector<AffineMap> maps = {AffineMap::get(2, 0, {dn, dk}, ctx),
                                 AffineMap::get(2, 0, {dn, dk.floorDiv(group)}, ctx),
                                 AffineMap::get(2, 0, {dn, dk}, ctx)};
  Value init = emptyTensor(b, loc, resultType.getShape(), resultType.getElementType());
  return linalg::GenericOp::create(
             b, loc, TypeRange{resultType}, ValueRange{q, scales}, ValueRange{init},
             maps, parallelIterators(2),
             [&](OpBuilder &nb, Location nloc, ValueRange args) {
               Value value = arith::SIToFPOp::create(nb, nloc, args[1].getType(), args[0]);
               linalg::YieldOp::create(
                   nb, nloc, ValueRange{arith::MulFOp::create(nb, nloc, value, args[1])});
             })
      .getResult(0);
}

static FailureOr<Value> lowerMatMul(FuncLowering &fl, OpBuilder &b, MatMulOp op) {
  Location loc = op.getLoc();
  MLIRContext *ctx = b.getContext();
  auto resultType = cast<RankedTensorType>(op.getType());
  Type element = resultType.getElementType();
  Value lhs = op.getLhs(), rhs = op.getRhs();
  SmallVector<int64_t> ls(shapeOf(lhs)), rs(shapeOf(rhs));
  // numpy: a 1-D lhs is a row, a 1-D rhs a column; the final reshape drops
  // the unit dimension again.
  if (ls.size() == 1)
    ls.insert(ls.begin(), 1);
  if (rs.size() == 1)
    rs.push_back(1);
  lhs = reshapeTo(b, loc, lhs, ls);
  int64_t m = ls[ls.size() - 2], k = ls.back(), n = rs.back();
  if (rs[rs.size() - 2] != k)
    return op.emitError("matmul contraction sizes differ");
  std::optional<WeightRef> ref = fl.weightSource(op.getRhs());
  if (ref && rs.size() == 2 && shapeOf(op.getRhs()).size() == 2 &&
      (fl.options.gpu || n % fl.options.panel == 0)) {
    int64_t rows = product(ArrayRef<int64_t>(ls).drop_back());
    Value packed = fl.weightTensor(loc, *ref, WeightLayout::PanelsKN, fl.options.gpu ? n : 0);
    Value result = packedGemm(b, loc, reshapeTo(b, loc, lhs, {rows, k}), packed,
                              Value());
    return reshapeTo(b, loc, result, resultType.getShape());
  }
  rhs = reshapeTo(b, loc, rhs, rs);
  SmallVector<int64_t> lb(ls.begin(), ls.end() - 2), rb(rs.begin(), rs.end() - 2);
  size_t batchRank = std::max(lb.size(), rb.size());
  SmallVector<int64_t> batch(batchRank);
  for (size_t d = 0; d < batchRank; ++d) {
    int64_t dl = d < batchRank - lb.size() ? 1 : lb[d - (batchRank - lb.size())];
    int64_t dr = d < batchRank - rb.size() ? 1 : rb[d - (batchRank - rb.size())];
    if (dl != dr && dl != 1 && dr != 1)
      return op.emitError("matmul batch dimensions do not broadcast");
    batch[d] = dl == 1 ? dr : dl;
  }
  SmallVector<int64_t> outShape(batch);
  outShape.push_back(m);
  outShape.push_back(n);
  Value init = filledTensor(b, loc, outShape, element, 0.0);
  Value result;
  if (ArrayRef<int64_t>(lb) == ArrayRef<int64_t>(batch) &&
      ArrayRef<int64_t>(rb) == ArrayRef<int64_t>(batch)) {
    // Equal batch dims: the named ops, on the batch dims folded into one.
    if (batch.empty()) {
      result = linalg::MatmulOp::create(b, loc, TypeRange{init.getType()},
                                        ValueRange{lhs, rhs}, ValueRange{init})
                   .getResult(0);
    } else {
      int64_t count = product(batch);
      Value l3 = reshapeTo(b, loc, lhs, {count, m, k});
      Value r3 = reshapeTo(b, loc, rhs, {count, k, n});
      Value i3 = reshapeTo(b, loc, init, {count, m, n});
      result = linalg::BatchMatmulOp::create(b, loc, TypeRange{i3.getType()},
                                             ValueRange{l3, r3}, ValueRange{i3})
                   .getResult(0);
    }
  } else {
    // Broadcast batch dims: a generic contraction whose maps read index 0
    // of the broadcast dims.
    unsigned loops = batchRank + 3;
    AffineExpr dm = getAffineDimExpr(batchRank, ctx);
    AffineExpr dn = getAffineDimExpr(batchRank + 1, ctx);
    AffineExpr dk = getAffineDimExpr(batchRank + 2, ctx);
    auto operandMap = [&](ArrayRef<int64_t> own, AffineExpr row, AffineExpr col) {
      SmallVector<AffineExpr> exprs;
      size_t offset = batchRank - own.size();
      for (size_t d = 0; d < own.size(); ++d)
        exprs.push_back(own[d] == 1 && batch[offset + d] != 1
                            ? getAffineConstantExpr(0, ctx)
                            : getAffineDimExpr(offset + d, ctx));
      exprs.push_back(row);
      exprs.push_back(col);
      return AffineMap::get(loops, 0, exprs, ctx);
    };
    SmallVector<AffineExpr> outExprs;
    for (unsigned d = 0; d < batchRank; ++d)
      outExprs.push_back(getAffineDimExpr(d, ctx));
    outExprs.push_back(dm);
    outExprs.push_back(dn);
    SmallVector<AffineMap> maps = {operandMap(lb, dm, dk), operandMap(rb, dk, dn),
                                   AffineMap::get(loops, 0, outExprs, ctx)};
    SmallVector<utils::IteratorType> iterators = parallelIterators(batchRank + 2);
    iterators.push_back(utils::IteratorType::reduction);
    result = linalg::GenericOp::create(
                 b, loc, TypeRange{init.getType()}, ValueRange{lhs, rhs},
                 ValueRange{init}, maps, iterators,
                 [](OpBuilder &nb, Location nloc, ValueRange args) {
                   linalg::YieldOp::create(nb, nloc, multiplyAdd(nb, nloc, args));
                 })
                 .getResult(0);
  }
  return reshapeTo(b, loc, result, resultType.getShape());
}

/// out[..., d] = table[ids[...], d]. Over a tfx.dequantize (int8
/// embeddings) the gather reads the integers and their row's scale, so the
/// float table is never built.
static FailureOr<Value> lowerEmbedding(FuncLowering &fl, OpBuilder &b,
                                       EmbeddingOp op) {
  Location loc = op.getLoc();
  Value ids = op.getIds(), table = op.getTable();
  int64_t rows = shapeOf(table)[0];
  Value q, scales;
  int64_t group = 0;
  if (auto dq = table.getDefiningOp<DequantizeOp>()) {
    q = dq.getQ();
    scales = dq.getScales();
    group = (int64_t)dq.getGroupSize();
    if (std::optional<WeightRef> ref = fl.weightSource(q))
      q = fl.weightTensor(loc, *ref, WeightLayout::Plain);
    if (std::optional<WeightRef> ref = fl.weightSource(scales))
      scales = fl.weightTensor(loc, *ref, WeightLayout::Plain);
  }
  fl.addErrorFlag(b, loc, anyIndexOutOfRange(b, loc, ids, rows, false));
  auto type = cast<RankedTensorType>(op.getType());
  unsigned rank = type.getRank();
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineMap> maps = {
      AffineMap::getMultiDimIdentityMap(rank, ctx).dropResult(rank - 1),
      AffineMap::getMultiDimIdentityMap(rank, ctx)};
  Value init = emptyTensor(b, loc, type.getShape(), type.getElementType());
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, ValueRange{ids}, ValueRange{init}, maps,
             parallelIterators(rank),
             [&](OpBuilder &nb, Location nloc, ValueRange args) {
               Value row = clampIndex(nb, nloc, args[0], rows, false);
               Value col = linalg::IndexOp::create(nb, nloc, rank - 1);
               if (!q) {
                 Value v = tensor::ExtractOp::create(nb, nloc, table, ValueRange{row, col});
                 linalg::YieldOp::create(nb, nloc, v);
                 return;
               }
               Value integer = tensor::ExtractOp::create(nb, nloc, q, ValueRange{row, col});
               Value groupIndex = arith::DivUIOp::create(
                   nb, nloc, col, arith::ConstantIndexOp::create(nb, nloc, group));
               Value scale =
                   tensor::ExtractOp::create(nb, nloc, scales, ValueRange{row, groupIndex});
               Value value =
                   arith::SIToFPOp::create(nb, nloc, type.getElementType(), integer);
               linalg::YieldOp::create(nb, nloc,
                                       ValueRange{arith::MulFOp::create(nb, nloc, value, scale)});
             })
      .getResult(0);
}

/// Maps reading a [..., D] tensor and a per-row [...] tensor in the loops
/// of [..., D].
static SmallVector<AffineMap> rowMaps(MLIRContext *ctx, unsigned rank) {
  AffineMap all = AffineMap::getMultiDimIdentityMap(rank, ctx);
  return {all, all.dropResult(rank - 1)};
}

static Value reduceRows(OpBuilder &b, Location loc, ValueRange inputs,
                        BodyFn body) {
  auto type = cast<RankedTensorType>(inputs[0].getType());
  unsigned rank = type.getRank();
  MLIRContext *ctx = b.getContext();
  Value acc = filledTensor(b, loc, type.getShape().drop_back(),
                           type.getElementType(), 0.0);
  SmallVector<AffineMap> maps;
  SmallVector<AffineMap> pair = rowMaps(ctx, rank);
  maps.push_back(pair[0]);
  for (size_t i = 1; i < inputs.size(); ++i)
    maps.push_back(pair[1]);
  maps.push_back(pair[1]);
  SmallVector<utils::IteratorType> iterators = parallelIterators(rank);
  iterators.back() = utils::IteratorType::reduction;
  return linalg::GenericOp::create(
             b, loc, TypeRange{acc.getType()}, inputs, ValueRange{acc}, maps,
             iterators,
             [&](OpBuilder &nb, Location nloc, ValueRange args) {
               linalg::YieldOp::create(nb, nloc, body(nb, nloc, args));
             })
      .getResult(0);
}

/// out = f(x, per-row stats..., per-channel params...) over [..., D].
static Value normalizeRows(OpBuilder &b, Location loc, Value x, ValueRange rowStats,
                           ValueRange channelParams, BodyFn body) {
  auto type = cast<RankedTensorType>(x.getType());
  unsigned rank = type.getRank();
  MLIRContext *ctx = b.getContext();
  SmallVector<Value> inputs = {x};
  SmallVector<AffineMap> maps = {AffineMap::getMultiDimIdentityMap(rank, ctx)};
  for (Value s : rowStats) {
    inputs.push_back(s);
    maps.push_back(rowMaps(ctx, rank)[1]);
  }
  for (Value p : channelParams) {
    inputs.push_back(p);
    maps.push_back(AffineMap::get(rank, 0, getAffineDimExpr(rank - 1, ctx)));
  }
  maps.push_back(AffineMap::getMultiDimIdentityMap(rank, ctx));
  Value init = emptyTensor(b, loc, type.getShape(), type.getElementType());
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, inputs, ValueRange{init}, maps,
             parallelIterators(rank),
             [&](OpBuilder &nb, Location nloc, ValueRange args) {
               linalg::YieldOp::create(nb, nloc, body(nb, nloc, args.drop_back()));
             })
      .getResult(0);
}

static FailureOr<Value> lowerLayerNorm(OpBuilder &b, LayerNormOp op) {
  Location loc = op.getLoc();
  Value x = op.getInput();
  auto type = cast<RankedTensorType>(x.getType());
  Type t = type.getElementType();
  double dim = (double)type.getShape().back();
  double epsilon = op.getEpsilon().convertToDouble();
  Value sum = reduceRows(b, loc, x, [](OpBuilder &nb, Location l, ValueRange a) {
    return (Value)arith::AddFOp::create(nb, l, a[1], a[0]);
  });
  auto mean = [&](OpBuilder &nb, Location l, Value s) {
    return (Value)arith::DivFOp::create(nb, l, s, constantOf(nb, l, t, dim));
  };
  Value squares = reduceRows(
      b, loc, ValueRange{x, sum}, [&](OpBuilder &nb, Location l, ValueRange a) {
        Value centered = arith::SubFOp::create(nb, l, a[0], mean(nb, l, a[1]));
        Value square = arith::MulFOp::create(nb, l, centered, centered);
        return (Value)arith::AddFOp::create(nb, l, a[2], square);
      });
  SmallVector<Value> params = {op.getGamma()};
  if (op.getBeta())
    params.push_back(op.getBeta());
  return normalizeRows(
      b, loc, x, ValueRange{sum, squares}, params,
      [&](OpBuilder &nb, Location l, ValueRange a) {
        Value centered = arith::SubFOp::create(nb, l, a[0], mean(nb, l, a[1]));
        Value variance = arith::DivFOp::create(nb, l, a[2], constantOf(nb, l, t, dim));
        Value denom = math::SqrtOp::create(
            nb, l, arith::AddFOp::create(nb, l, variance, constantOf(nb, l, t, epsilon)));
        Value inv = arith::DivFOp::create(nb, l, constantOf(nb, l, t, 1.0), denom);
        Value y = arith::MulFOp::create(
            nb, l, arith::MulFOp::create(nb, l, centered, inv), a[3]);
        if (a.size() > 4)
          y = arith::AddFOp::create(nb, l, y, a[4]);
        return y;
      });
}

static FailureOr<Value> lowerRmsNorm(OpBuilder &b, RmsNormOp op) {
  Location loc = op.getLoc();
  Value x = op.getInput();
  auto type = cast<RankedTensorType>(x.getType());
  Type t = type.getElementType();
  double dim = (double)type.getShape().back();
  double epsilon = op.getEpsilon().convertToDouble();
  Value squares = reduceRows(b, loc, x, [](OpBuilder &nb, Location l, ValueRange a) {
    Value square = arith::MulFOp::create(nb, l, a[0], a[0]);
    return (Value)arith::AddFOp::create(nb, l, a[1], square);
  });
  return normalizeRows(
      b, loc, x, squares, op.getGamma(), [&](OpBuilder &nb, Location l, ValueRange a) {
        Value meanSquare = arith::DivFOp::create(nb, l, a[1], constantOf(nb, l, t, dim));
        Value denom = math::SqrtOp::create(
            nb, l, arith::AddFOp::create(nb, l, meanSquare, constantOf(nb, l, t, epsilon)));
        Value inv = arith::DivFOp::create(nb, l, constantOf(nb, l, t, 1.0), denom);
        return (Value)arith::MulFOp::create(
            nb, l, arith::MulFOp::create(nb, l, a[0], inv), a[2]);
      });
}

/// max |x| over the last dimension.
static Value rowAbsMax(OpBuilder &b, Location loc, Value x) {
  return reduceRows(b, loc, x, [](OpBuilder &nb, Location l, ValueRange a) {
    return (Value)arith::MaximumFOp::create(nb, l, a[1], math::AbsFOp::create(nb, l, a[0]));
  });
}

/// clamp(round_even(x * qmax / amax), -qmax, qmax) (0 where amax is 0), in
/// the element type of x: the integer tfx.quantize_activations rounds to.
static Value quantizeElement(OpBuilder &b, Location loc, Value x, Value amax,
                             double qmax) {
  Type t = x.getType();
  Value zero = constantOf(b, loc, t, 0.0), limit = constantOf(b, loc, t, qmax);
  Value positive = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, amax, zero);
  Value inv = arith::SelectOp::create(b, loc, positive,
                                      arith::DivFOp::create(b, loc, limit, amax), zero);
  Value q = math::RoundEvenOp::create(b, loc, arith::MulFOp::create(b, loc, x, inv));
  return arith::MinimumFOp::create(
      b, loc, arith::MaximumFOp::create(b, loc, q, arith::NegFOp::create(b, loc, limit)),
      limit);
}

std::optional<ActivationQuant> mlir::tfx::staticActivationQuant(QuantizeActivationsOp op) {
  quant::UniformQuantizedType type = op.getStaticType();
  if (!type)
    return std::nullopt;
  return ActivationQuant{(float)type.getScale(), type.getZeroPoint(),
                         type.getStorageTypeMin(), type.getStorageTypeMax()};
}

/// clamp(round_even(x * (1 / scale)) + zero point, qmin, qmax), in the
/// element type of x: the stored integer of a static quantization.
static Value quantizeStatic(OpBuilder &b, Location loc, Value x, const ActivationQuant &fixed) {
  Type t = x.getType();
  Value scaled = arith::MulFOp::create(b, loc, x, constantOf(b, loc, t, 1.0f / fixed.scale));
  Value q = arith::AddFOp::create(b, loc, math::RoundEvenOp::create(b, loc, scaled),
                                  constantOf(b, loc, t, (double)fixed.zeroPoint));
  return arith::MinimumFOp::create(
      b, loc, arith::MaximumFOp::create(b, loc, q, constantOf(b, loc, t, (double)fixed.qmin)),
      constantOf(b, loc, t, (double)fixed.qmax));
}

static FailureOr<Value> lowerQuantizeActivations(OpBuilder &b, QuantizeActivationsOp op) {
  Location loc = op.getLoc();
  Value x = op.getInput();
  auto type = cast<RankedTensorType>(x.getType());
  if (!type.getElementType().isF32())
    return op.emitError("quantize_activations: the CPU lowering needs f32");
  if (std::optional<ActivationQuant> fixed = staticActivationQuant(op))
    return buildElementwise(b, loc, type, x, [&](OpBuilder &nb, Location l, ValueRange a) {
      Type t = a[0].getType();
      Value q = quantizeStatic(nb, l, a[0], *fixed);
      Value centred = arith::SubFOp::create(nb, l, q, constantOf(nb, l, t, (double)fixed->zeroPoint));
      return (Value)arith::MulFOp::create(nb, l, centred, constantOf(nb, l, t, fixed->scale));
    });
  double qmax = (double)((1 << (op.getBits() - 1)) - 1);
  Value amax = rowAbsMax(b, loc, x);
  return normalizeRows(b, loc, x, amax, {}, [&](OpBuilder &nb, Location l, ValueRange a) {
    Value q = quantizeElement(nb, l, a[0], a[1], qmax);
    Value scale = arith::DivFOp::create(nb, l, a[1], constantOf(nb, l, a[1].getType(), qmax));
    return (Value)arith::MulFOp::create(nb, l, q, scale);
  });
}

std::pair<Value, Value>
mlir::tfx::quantizeRowsToQuads(OpBuilder &b, Location loc, Value x,
                               const std::optional<ActivationQuant> &fixed) {
  MLIRContext *ctx = b.getContext();
  auto type = cast<RankedTensorType>(x.getType());
  int64_t m = type.getDimSize(0), k = type.getDimSize(1), quads = k / 4;
  Type f32 = type.getElementType(), i32 = b.getI32Type();
  // Dynamic: the amax of each row; static: one scale for all.
  Value amax = fixed ? filledTensor(b, loc, {m}, f32, 0.0) : rowAbsMax(b, loc, x);
  int64_t shift = unsignedShift(fixed);
  AffineExpr dm, dq, di;
  bindDims(ctx, dm, dq, di);
  Value grouped = reshapeTo(b, loc, x, {m, quads, 4});
  SmallVector<AffineMap> maps = {AffineMap::get(3, 0, {dm, dq, di}, ctx),
                                 AffineMap::get(3, 0, {dm}, ctx),
                                 AffineMap::get(3, 0, {dm, dq}, ctx)};
  SmallVector<utils::IteratorType> iterators = parallelIterators(2);
  iterators.push_back(utils::IteratorType::reduction);
  Value init = filledTensor(b, loc, {m, quads}, i32, 0.0);
  Value packed =
      linalg::GenericOp::create(
          b, loc, TypeRange{init.getType()}, ValueRange{grouped, amax}, ValueRange{init},
          maps, iterators,
          [&](OpBuilder &nb, Location l, ValueRange a) {
            Value q = fixed ? quantizeStatic(nb, l, a[0], *fixed)
                            : quantizeElement(nb, l, a[0], a[1], 127);
            // The unsigned byte, at byte i of the lane.
            Value byte = arith::AddIOp::create(nb, l, arith::FPToSIOp::create(nb, l, i32, q),
                                               arith::ConstantIntOp::create(nb, l, i32, shift));
            Value i = arith::IndexCastOp::create(nb, l, i32, linalg::IndexOp::create(nb, l, 2));
            Value bits = arith::MulIOp::create(nb, l, i, arith::ConstantIntOp::create(nb, l, i32, 8));
            linalg::YieldOp::create(
                nb, l, ValueRange{arith::OrIOp::create(nb, l, a[2],
                                                       arith::ShLIOp::create(nb, l, byte, bits))});
          })
          .getResult(0);
  if (fixed)
    return {packed, filledTensor(b, loc, {m}, f32, fixed->scale)};
  Value scales = buildElementwise(
      b, loc, cast<RankedTensorType>(amax.getType()), amax,
      [](OpBuilder &nb, Location l, ValueRange a) {
        return (Value)arith::DivFOp::create(nb, l, a[0], constantOf(nb, l, a[0].getType(), 127.0));
      });
  return {packed, scales};
}

static FailureOr<Value> lowerSoftmax(OpBuilder &b, SoftmaxOp op) {
  Location loc = op.getLoc();
  Value x = op.getInput();
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank();
  int64_t axis = op.getAxisAttr().getInt();
  if (axis < 0)
    axis += rank;
  Type t = type.getElementType();
  MLIRContext *ctx = b.getContext();
  AffineMap all = AffineMap::getMultiDimIdentityMap(rank, ctx);
  AffineMap reduced = all.dropResult(axis);
  SmallVector<int64_t> statShape(type.getShape());
  statShape.erase(statShape.begin() + axis);
  SmallVector<utils::IteratorType> iterators = parallelIterators(rank);
  iterators[axis] = utils::IteratorType::reduction;
  auto reduce = [&](ValueRange inputs, double init, BodyFn body) {
    SmallVector<AffineMap> maps = {all};
    for (size_t i = 1; i < inputs.size(); ++i)
      maps.push_back(reduced);
    maps.push_back(reduced);
    Value acc = filledTensor(b, loc, statShape, t, init);
    return linalg::GenericOp::create(
               b, loc, TypeRange{acc.getType()}, inputs, ValueRange{acc}, maps,
               iterators,
               [&](OpBuilder &nb, Location nloc, ValueRange args) {
                 linalg::YieldOp::create(nb, nloc, body(nb, nloc, args));
               })
        .getResult(0);
  };
  Value max = reduce(x, -INFINITY, [](OpBuilder &nb, Location l, ValueRange a) {
    return (Value)arith::MaximumFOp::create(nb, l, a[1], a[0]);
  });
  Value sum = reduce(ValueRange{x, max}, 0.0, [](OpBuilder &nb, Location l, ValueRange a) {
    Value e = math::ExpOp::create(nb, l, arith::SubFOp::create(nb, l, a[0], a[1]));
    return (Value)arith::AddFOp::create(nb, l, a[2], e);
  });
  Value init = emptyTensor(b, loc, type.getShape(), t);
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, ValueRange{x, max, sum}, ValueRange{init},
             SmallVector<AffineMap>{all, reduced, reduced, all},
             parallelIterators(rank),
             [&](OpBuilder &nb, Location l, ValueRange a) {
               Value e = math::ExpOp::create(nb, l, arith::SubFOp::create(nb, l, a[0], a[1]));
               linalg::YieldOp::create(nb, l,
                                       (Value)arith::DivFOp::create(nb, l, e, a[2]));
             })
      .getResult(0);
}

/// An elementwise generic over `x` whose body also gets the loop indices.
static Value buildIndexedRope(
    OpBuilder &b, Location loc, RankedTensorType type,
    llvm::function_ref<Value(OpBuilder &, Location, Value, ValueRange)> body,
    Value x) {
  unsigned rank = type.getRank();
  AffineMap all = AffineMap::getMultiDimIdentityMap(rank, b.getContext());
  Value init = emptyTensor(b, loc, type.getShape(), type.getElementType());
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, ValueRange{x}, ValueRange{init},
             SmallVector<AffineMap>{all, all}, parallelIterators(rank),
             [&](OpBuilder &nb, Location l, ValueRange args) {
               SmallVector<Value> ivs;
               for (unsigned d = 0; d < rank; ++d)
                 ivs.push_back(linalg::IndexOp::create(nb, l, d));
               linalg::YieldOp::create(nb, l, body(nb, l, args[0], ivs));
             })
      .getResult(0);
}

static FailureOr<Value> lowerRope(OpBuilder &b, RopeOp op) {
  Location loc = op.getLoc();
  Value x = op.getInput(), positions = op.getPositions();
  auto type = cast<RankedTensorType>(x.getType());
  if (type.getRank() != 3)
    return op.emitError("rope input must be [batch, seq, heads*head_dim]");
  int64_t seq = type.getDimSize(1), width = type.getDimSize(2);
  int64_t heads = (int64_t)op.getNumHeads(), rot = (int64_t)op.getRotaryDim();
  if (width % heads || rot % 2 || rot > width / heads)
    return op.emitError("rope rotary_dim must be even and fit the head");
  int64_t headDim = width / heads, half = rot / 2;
  bool interleaved = op.getLayout() == RopeLayout::interleaved;
  Type t = type.getElementType();
  // inv_freq and, without a positions operand, the cos/sin tables are
  // computed here in f32 exactly as the interpreter (and Hugging Face) do.
  std::vector<float> invFreq(half);
  float theta = (float)op.getTheta().convertToDouble();
  for (int64_t i = 0; i < half; ++i)
    invFreq[i] = 1.0f / std::pow(theta, (float)(2 * i) / (float)rot);
  Value cosTable, sinTable, freqTable;
  if (!positions) {
    std::vector<float> c(seq * half), s(seq * half);
    for (int64_t p = 0; p < seq; ++p)
      for (int64_t i = 0; i < half; ++i) {
        float angle = (float)p * invFreq[i];
        c[p * half + i] = std::cos(angle);
        s[p * half + i] = std::sin(angle);
      }
    auto tableType = RankedTensorType::get({seq, half}, b.getF32Type());
    cosTable = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(tableType, ArrayRef<float>(c)));
    sinTable = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(tableType, ArrayRef<float>(s)));
  } else {
    auto freqType = RankedTensorType::get({half}, b.getF32Type());
    freqTable = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(freqType, ArrayRef<float>(invFreq)));
  }
  using P = arith::CmpIPredicate;
  return buildIndexedRope(b, loc, type, [&](OpBuilder &nb, Location l,
                                             Value value, ValueRange ivs) -> Value {
    Value bi = ivs[0], ti = ivs[1], ci = ivs[2];
    auto idx = [&](int64_t v) { return (Value)arith::ConstantIndexOp::create(nb, l, v); };
    Value d = arith::RemUIOp::create(nb, l, ci, idx(headDim));
    Value rotated = arith::CmpIOp::create(nb, l, P::ult, d, idx(rot));
    Value first, pairIndex, partner;
    if (interleaved) {
      Value odd = arith::RemUIOp::create(nb, l, d, idx(2));
      first = arith::CmpIOp::create(nb, l, P::eq, odd, idx(0));
      pairIndex = arith::DivUIOp::create(nb, l, d, idx(2));
      partner = arith::SelectOp::create(nb, l, first,
                                        arith::AddIOp::create(nb, l, ci, idx(1)),
                                        arith::SubIOp::create(nb, l, ci, idx(1)));
    } else {
      first = arith::CmpIOp::create(nb, l, P::ult, d, idx(half));
      pairIndex = arith::SelectOp::create(nb, l, first, d,
                                          arith::SubIOp::create(nb, l, d, idx(half)));
      partner = arith::SelectOp::create(nb, l, first,
                                        arith::AddIOp::create(nb, l, ci, idx(half)),
                                        arith::SubIOp::create(nb, l, ci, idx(half)));
    }
    // Pass-through features still compute (in bounds) and are discarded.
    pairIndex = arith::MinUIOp::create(nb, l, pairIndex, idx(half - 1));
    partner = arith::MinUIOp::create(nb, l, partner, idx(width - 1));
    Value other = tensor::ExtractOp::create(nb, l, x, ValueRange{bi, ti, partner});
    Value c, s;
    if (!positions) {
      c = tensor::ExtractOp::create(nb, l, cosTable, ValueRange{ti, pairIndex});
      s = tensor::ExtractOp::create(nb, l, sinTable, ValueRange{ti, pairIndex});
    } else {
      Value p = tensor::ExtractOp::create(nb, l, positions, ValueRange{bi, ti});
      Value pos = arith::SIToFPOp::create(nb, l, nb.getF32Type(), p);
      Value f = tensor::ExtractOp::create(nb, l, freqTable, ValueRange{pairIndex});
      Value angle = arith::MulFOp::create(nb, l, pos, f);
      // The f32 approximations of cos/sin reduce their argument in f32,
      // which loses ~|angle| * 2^-24 for large positions: reduce it to
      // [-pi, pi] in f64 first (the f32 angle itself is what HF computes).
      Type f64 = nb.getF64Type();
      Value wide = arith::ExtFOp::create(nb, l, f64, angle);
      Value turns = math::FloorOp::create(
          nb, l,
          arith::AddFOp::create(
              nb, l,
              arith::MulFOp::create(nb, l, wide,
                                    constantOf(nb, l, f64, 0.15915494309189535)),
              constantOf(nb, l, f64, 0.5)));
      Value reduced = arith::SubFOp::create(
          nb, l, wide,
          arith::MulFOp::create(nb, l, turns,
                                constantOf(nb, l, f64, 6.283185307179586)));
      Value small = arith::TruncFOp::create(nb, l, nb.getF32Type(), reduced);
      c = math::CosOp::create(nb, l, small);
      s = math::SinOp::create(nb, l, small);
    }
    if (!t.isF32()) {
      c = emitCast(nb, l, c, t);
      s = emitCast(nb, l, s, t);
    }
    Value xc = arith::MulFOp::create(nb, l, value, c);
    Value os = arith::MulFOp::create(nb, l, other, s);
    Value out = arith::SelectOp::create(nb, l, first,
                                        arith::SubFOp::create(nb, l, xc, os),
                                        arith::AddFOp::create(nb, l, xc, os));
    return arith::SelectOp::create(nb, l, rotated, out, value);
  }, x);
}

FailureOr<Value> mlir::tfx::lowerNNOp(FuncLowering &fl, OpBuilder &b,
                                      Operation *op) {
  if (!cast<RankedTensorType>(op->getResult(0).getType()).hasStaticShape())
    return op->emitError("CPU code generation needs static shapes");
  return llvm::TypeSwitch<Operation *, FailureOr<Value>>(op)
      .Case([&](EmbeddingOp o) { return lowerEmbedding(fl, b, o); })
      .Case([&](LinearOp o) { return lowerLinear(fl, b, o); })
      .Case([&](MatMulOp o) { return lowerMatMul(fl, b, o); })
      .Case([&](DequantizeOp o) { return lowerDequantize(fl, b, o); })
      .Case([&](QuantizeActivationsOp o) { return lowerQuantizeActivations(b, o); })
      .Case([&](LayerNormOp o) { return lowerLayerNorm(b, o); })
      .Case([&](RmsNormOp o) { return lowerRmsNorm(b, o); })
      .Case([&](SoftmaxOp o) { return lowerSoftmax(b, o); })
      .Case([&](RopeOp o) { return lowerRope(b, o); })
      .Default([&](Operation *) -> FailureOr<Value> {
        return op->emitError("no CPU lowering for this op");
      });
}
