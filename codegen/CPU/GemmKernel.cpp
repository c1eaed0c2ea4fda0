//===- GemmKernel.cpp - register-blocked GEMM with fused epilogues --------===//
//
// C[M, N] = A[M, K] B + bias, then a chain of elementwise ops (GELU, a
// residual add, ...) applied while C is still in registers. B is a weight,
// packed at compile time into panels of NR = 2 vectors of columns
// ([N/NR][K][NR]) so that the inner loop streams it linearly. The loop nest:
//
//   forall column block j (the runtime's thread pool):
//     for row block i of MR rows:
//       acc[MR][NR] = bias                       (MR x 2 vector registers)
//       for k: acc[r][:] += broadcast(A[i+r, k]) * B[j, k, :]
//       acc = epilogue(acc); C[i.., j*NR..] = acc
//
// MR x 2 accumulators, 2 B vectors and a broadcast fit the 32 vector
// registers of AVX-512 with MR = 8; a panel of B (K x NR floats) stays in L2
// while every row block of A streams past it.
//
// A weight-only quantized B (`tfx.dequantize` of weights) is read as
// integers: int8 panels, or int4 two to a byte (WeightLayout::
// PanelsNKNibbles), widened, converted and multiplied by the group's scale
// vectors (loaded once per group of K) before the same FMAs.
//
// W8A8 (the input is tfx.quantize_activations, the weight int8 per output
// channel) on targets with AVX-512 VNNI is an integer GEMM: each row of A
// is quantized to int8 with its own scale and stored as the unsigned bytes
// q + 128, four to a 32-bit lane; B is packed four input channels to a lane
// (WeightLayout::PanelsNKQuads); vpdpbusd adds four u8 x s8 products per
// lane into int32 accumulators. The +128 shift adds 128 x (the column's
// weight sum), which is subtracted before the sums are converted and scaled
// by (row scale x channel scale) - what int8 GEMM libraries do on x86. A
// static quantization (one scale, a !quant.uniform type) stores unsigned
// bytes as they are and subtracts (zero point [+ 128 if signed]) x the sum.
//
//===----------------------------------------------------------------------===//

#include "Elementwise.h"
#include "KernelBuilders.h"
#include "LinalgBuilders.h"
#include "Lowering.h"

#include "tfx/Support/ResourceWeights.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::tfx;

namespace {
/// An elementwise op applied to the GEMM's result in registers.
struct EpilogueStep {
  enum Kind { Unary, Full, Row, Scalar, Self };
  Operation *op = nullptr;
  unsigned chainOperand = 0; ///< operand index of the running value
  Kind kind = Unary;
  Value other; ///< [M, N], [N] or a scalar, prepared before the loops
};

/// A weight-only quantized B (`tfx.dequantize` of weights): integers packed
/// in panels like a float B, unpacked and scaled in registers.
struct QuantizedB {
  WeightRef q, scales; ///< [N, K] i8/i4 and [N, K / groupSize] f32
  unsigned bits = 8;
  int64_t groupSize = 0;
};

struct GemmPlan {
  Value lhs; ///< [M, K]
  WeightRef weight;
  std::optional<QuantizedB> quant;
  /// W8A8 on VNNI: `lhs` is the float input of the tfx.quantize_activations,
  /// and `correction` holds 128 x the column sums of the integer weights.
  bool int8 = false;
  WeightRef correction;
  std::optional<ActivationQuant> fixed; ///< a static activation quantization

  WeightLayout layout = WeightLayout::PanelsNK;
  Value bias; ///< [N] or null
  int64_t m = 0, n = 0, k = 0;
  /// Columns per task (vectors x lanes) and N rounded up to them.
  int64_t vectors = 1, nr = 0, paddedN = 0;
  SmallVector<EpilogueStep> epilogue;
  Operation *last = nullptr; ///< the op whose result the kernel computes
};
} // namespace

static int64_t product(ArrayRef<int64_t> dims) {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= d;
  return n;
}

static bool isF32Tensor(Value v) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  return type && type.hasStaticShape() && type.getElementType().isF32();
}

/// Whether `user` can run on the GEMM result `value` in registers.
static std::optional<EpilogueStep> fusibleStep(Operation *user, Value value,
                                               int64_t n, bool padded) {
  if (!isa<SiluOp, ReluOp, SigmoidOp, TanhOp, ErfOp, ExpOp, LogOp, SqrtOp,
           RsqrtOp, ReciprocalOp, NegOp, AbsOp, GeluOp, AddOp, SubOp, MulOp,
           DivOp, MaxOp, MinOp>(user) ||
      user->getResult(0).getType() != value.getType())
    return std::nullopt;
  EpilogueStep step;
  step.op = user;
  if (user->getNumOperands() == 1)
    return step;
  Value lhs = user->getOperand(0), rhs = user->getOperand(1);
  if (lhs == rhs) {
    step.kind = EpilogueStep::Self;
    return step;
  }
  step.chainOperand = lhs == value ? 0 : 1;
  Value other = step.chainOperand == 0 ? rhs : lhs;
  if (!isF32Tensor(other))
    return std::nullopt;
  auto shape = cast<RankedTensorType>(other.getType()).getShape();
  auto full = cast<RankedTensorType>(value.getType()).getShape();
  ArrayRef<int64_t> trimmed = shape;
  while (!trimmed.empty() && trimmed.front() == 1)
    trimmed = trimmed.drop_front();
  if (shape == full)
    step.kind = EpilogueStep::Full;
  else if (product(shape) == 1)
    step.kind = EpilogueStep::Scalar;
  else if (trimmed.size() == 1 && trimmed[0] == n)
    step.kind = EpilogueStep::Row;
  else
    return std::nullopt;
  // Padded columns would read past the end of a per-column operand.
  if (padded && (step.kind == EpilogueStep::Full || step.kind == EpilogueStep::Row))
    return std::nullopt;
  step.other = other;
  return step;
}

/// Switches a W8A8 linear to the int8 GEMM where the target has VNNI;
/// fails only on an internal error.
static LogicalResult planInt8(FuncLowering &fl, GemmPlan &plan) {
  auto qa = plan.lhs.getDefiningOp<QuantizeActivationsOp>();
  if (!qa || qa.getBits() != 8 || !fl.options.vnni || fl.options.vectorWidth != 16 ||
      !plan.quant || plan.quant->bits != 8 || plan.quant->groupSize != plan.k ||
      plan.k % 4 != 0 || !isF32Tensor(qa.getInput()))
    return success();
  auto elements = dyn_cast<ElementsAttr>(plan.quant->q.source);
  if (!elements)
    return success();
  auto q = tensorFromElements(elements);
  if (!q) {
    llvm::consumeError(q.takeError());
    return success();
  }
  plan.fixed = staticActivationQuant(qa);
  // The unsigned bytes are the integers plus this offset.
  int64_t offset = unsignedShift(plan.fixed) + (plan.fixed ? plan.fixed->zeroPoint : 0);
  Tensor correction = Tensor::ints({plan.n, 1}, 0, DType::I32);
  for (int64_t j = 0; j < plan.n; ++j) {
    int64_t sum = 0;
    for (int64_t k = 0; k < plan.k; ++k)
      sum += q->i[j * plan.k + k];
    correction.i[j] = offset * sum;
  }
  auto type = RankedTensorType::get({plan.n, 1}, IntegerType::get(elements.getContext(), 32));
  auto attr = createResourceWeight(type, correction, "int8_column_sums");
  if (!attr) {
    llvm::consumeError(attr.takeError());
    return failure();
  }
  plan.correction = WeightRef{*attr, false, type};
  plan.lhs = qa.getInput();
  plan.int8 = true;
  return success();
}

static std::optional<GemmPlan> planGemm(FuncLowering &fl, Operation *op) {
  GemmPlan plan;
  Value x, w;
  if (auto linear = dyn_cast<LinearOp>(op)) {
    x = linear.getInput();
    w = linear.getWeight();
    plan.bias = linear.getBias();
    plan.layout = WeightLayout::PanelsNK;
  } else if (auto matmul = dyn_cast<MatMulOp>(op)) {
    x = matmul.getLhs();
    w = matmul.getRhs();
    plan.layout = WeightLayout::PanelsKN;
    if (cast<RankedTensorType>(x.getType()).getRank() < 2)
      return std::nullopt;
  } else {
    return std::nullopt;
  }
  std::optional<WeightRef> ref = fl.weightSource(w);
  auto dequantize = w.getDefiningOp<DequantizeOp>();
  if (dequantize && isa<LinearOp>(op) && isF32Tensor(w)) {
    std::optional<WeightRef> q = fl.weightSource(dequantize.getQ());
    std::optional<WeightRef> scales = fl.weightSource(dequantize.getScales());
    if (q && scales && scales->type.getElementType().isF32())
      plan.quant = QuantizedB{*q, *scales, dequantize.getBits(),
                              (int64_t)dequantize.getGroupSize()};
    if (plan.quant)
      ref = WeightRef{Attribute(), false, cast<RankedTensorType>(w.getType())};
  }
  if (!ref || ref->type.getRank() != 2 || !isF32Tensor(x) ||
      !isF32Tensor(op->getResult(0)) || !ref->type.getElementType().isF32() ||
      (plan.bias && !isF32Tensor(plan.bias)))
    return std::nullopt;
  ArrayRef<int64_t> xShape = cast<RankedTensorType>(x.getType()).getShape();
  plan.weight = *ref;
  plan.k = xShape.back();
  plan.m = product(xShape.drop_back());
  plan.n = plan.layout == WeightLayout::PanelsNK ? ref->type.getDimSize(0)
                                                 : ref->type.getDimSize(1);
  if (plan.m == 0 || plan.k == 0 || plan.n == 0)
    return std::nullopt;
  int64_t vw = fl.options.vectorWidth;
  // A quantized panel always spans two vectors (one byte vector of int4
  // unpacks into both).
  plan.vectors = plan.n > vw || plan.quant ? 2 : 1;
  plan.nr = plan.vectors * vw;
  plan.paddedN = llvm::alignTo(plan.n, plan.nr);
  bool padded = plan.paddedN != plan.n;
  plan.lhs = x;
  if (failed(planInt8(fl, plan)))
    return std::nullopt;
  // Absorb the elementwise ops that only consume the running result.
  Value value = op->getResult(0);
  plan.last = op;
  while (value.hasOneUse()) {
    std::optional<EpilogueStep> step =
        fusibleStep(*value.getUsers().begin(), value, plan.n, padded);
    if (!step)
      break;
    plan.epilogue.push_back(*step);
    plan.last = step->op;
    value = step->op->getResult(0);
  }
  return plan;
}

FailureOr<Value> mlir::tfx::lowerLinearKernel(FuncLowering &fl, OpBuilder &b,
                                              Operation *op) {
  std::optional<GemmPlan> plan = planGemm(fl, op);
  if (!plan)
    return failure();
  // Every operand of the chain dominates its last op: build there.
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(plan->last);
  Location loc = op->getLoc();
  int64_t vw = fl.options.vectorWidth;
  int64_t m = plan->m, n = plan->n, k = plan->k;
  int64_t vectors = plan->vectors, nr = plan->nr, paddedN = plan->paddedN;
  // 8x32 (AVX-512: 16 of 32 registers) and 6x16 (AVX2: 12 of 16) blocks.
  int64_t mr = std::min<int64_t>(vw == 16 ? 8 : vw == 8 ? 6 : 4, m);
  int64_t unroll = (plan->quant ? plan->quant->groupSize : k) % 4 == 0 ? 4 : 1;
  Type f32 = b.getF32Type();

  Value lhs = reshapeTo(b, loc, plan->lhs, {m, k});
  const std::optional<QuantizedB> &quant = plan->quant;
  Value packed, scales, quads, rowScales, correction;
  int64_t groupSize = k, groups = 1;
  if (plan->int8) {
    packed = fl.weightTensor(loc, quant->q, WeightLayout::PanelsNKQuads, nr);
    scales = fl.weightTensor(loc, quant->scales, WeightLayout::PanelsNK, nr);
    correction = fl.weightTensor(loc, plan->correction, WeightLayout::PanelsNK, nr);
    std::tie(quads, rowScales) = quantizeRowsToQuads(b, loc, lhs, plan->fixed);
  } else if (quant) {
    packed = fl.weightTensor(loc, quant->q,
                             quant->bits == 4 ? WeightLayout::PanelsNKNibbles
                                              : WeightLayout::PanelsNK,
                             nr);
    scales = fl.weightTensor(loc, quant->scales, WeightLayout::PanelsNK, nr);
    groupSize = quant->groupSize;
    groups = k / groupSize;
  } else {
    packed = fl.weightTensor(loc, plan->weight, plan->layout, nr);
  }
  Value bias = plan->bias ? reshapeTo(b, loc, plan->bias, {n}) : Value();
  if (bias && paddedN != n)
    bias = tensor::InsertSliceOp::create(
        b, loc, bias, filledTensor(b, loc, {paddedN}, f32, 0.0),
        ArrayRef<OpFoldResult>{b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(n)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
  for (EpilogueStep &step : plan->epilogue) {
    if (step.kind == EpilogueStep::Full)
      step.other = reshapeTo(b, loc, step.other, {m, n});
    else if (step.kind == EpilogueStep::Row)
      step.other = reshapeTo(b, loc, step.other, {n});
    else if (step.kind == EpilogueStep::Scalar)
      step.other = tensor::ExtractOp::create(
          b, loc, reshapeTo(b, loc, step.other, {}), ValueRange{});
  }

  auto microKernel = [&](OpBuilder &b, Location loc, Value block, Value col0,
                         Value row0, int64_t rows, Value tile) -> Value {
    auto vecType = VectorType::get({vw}, f32);
    SmallVector<Value> init;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t v = 0; v < vectors; ++v) {
        if (plan->int8) {
          init.push_back(constantOf(b, loc, VectorType::get({vw}, b.getI32Type()), 0.0));
        } else if (bias) {
          Value col = arith::AddIOp::create(b, loc, col0, indexConstant(b, loc, v * vw));
          init.push_back(readVector(b, loc, bias, col, vw));
        } else {
          init.push_back(constantOf(b, loc, vecType, 0.0));
        }
      }
    SmallVector<Value> rowIndex;
    for (int64_t r = 0; r < rows; ++r)
      rowIndex.push_back(arith::AddIOp::create(b, loc, row0, indexConstant(b, loc, r)));
    // The B vectors of row kk of the panel: floats as stored, or integers
    // unpacked, converted and scaled by their group's scales.
    auto loadB = [&](OpBuilder &b, Location loc, Value kk,
                     ArrayRef<Value> scaleVecs) {
      SmallVector<Value> bv;
      if (!quant) {
        for (int64_t v = 0; v < vectors; ++v)
          bv.push_back(readVector(b, loc, packed,
                                  {block, kk, indexConstant(b, loc, v * vw)}, vw));
        return bv;
      }
      SmallVector<Value> ints;
      if (quant->bits == 4) {
        // Widened to i32 first: x86 has no byte shifts, i32 ones are cheap.
        auto wordsType = VectorType::get({vw}, b.getI32Type());
        Value bytes = readVector(b, loc, packed, {block, kk, indexConstant(b, loc, 0)}, vw);
        Value words = arith::ExtSIOp::create(b, loc, wordsType, bytes);
        Value low = constantOf(b, loc, wordsType, 28);
        ints.push_back(arith::ShRSIOp::create(
            b, loc, arith::ShLIOp::create(b, loc, words, low), low));
        ints.push_back(arith::ShRSIOp::create(b, loc, words,
                                              constantOf(b, loc, wordsType, 4)));
      } else {
        for (int64_t v = 0; v < vectors; ++v)
          ints.push_back(readVector(b, loc, packed,
                                    {block, kk, indexConstant(b, loc, v * vw)}, vw));
      }
      auto floatType = VectorType::get({vw}, f32);
      for (int64_t v = 0; v < vectors; ++v)
        bv.push_back(arith::MulFOp::create(
            b, loc, arith::SIToFPOp::create(b, loc, floatType, ints[v]), scaleVecs[v]));
      return bv;
    };
    // acc += A[rows, lo:hi] B[lo:hi, panel], unrolled by `unroll`.
    auto kRange = [&](OpBuilder &b, Location loc, Value lo, Value hi,
                      ValueRange init, ArrayRef<Value> scaleVecs) {
      return scf::ForOp::create(
          b, loc, lo, hi, indexConstant(b, loc, unroll), init,
          [&](OpBuilder &b, Location loc, Value k0, ValueRange accs) {
            SmallVector<Value> acc(accs);
            for (int64_t u = 0; u < unroll; ++u) {
              Value kk = u ? (Value)arith::AddIOp::create(b, loc, k0,
                                                          indexConstant(b, loc, u))
                           : k0;
              SmallVector<Value> bv = loadB(b, loc, kk, scaleVecs);
              for (int64_t r = 0; r < rows; ++r) {
                Value a = tensor::ExtractOp::create(b, loc, lhs, ValueRange{rowIndex[r], kk});
                Value av = splat(b, loc, a, vw);
                for (int64_t v = 0; v < vectors; ++v)
                  acc[r * vectors + v] =
                      vector::FMAOp::create(b, loc, av, bv[v], acc[r * vectors + v]);
              }
            }
            scf::YieldOp::create(b, loc, acc);
          });
    };
    scf::ForOp kLoop;
    if (plan->int8) {
      // acc[r][v] += 4 u8 x s8 products per lane (vpdpbusd).
      // LLVM 22 types the operands as bytes: (<16 x i32>, <64 x i8>, <64 x i8>).
      auto lanes = VectorType::get({vw}, b.getI32Type());
      auto bytesType = VectorType::get({vw * 4}, b.getI8Type());
      kLoop = scf::ForOp::create(
          b, loc, indexConstant(b, loc, 0), indexConstant(b, loc, k / 4),
          indexConstant(b, loc, 1), init,
          [&](OpBuilder &b, Location loc, Value kq, ValueRange accs) {
            SmallVector<Value> acc(accs);
            SmallVector<Value> bv;
            for (int64_t v = 0; v < vectors; ++v) {
              Value bytes = readVector(b, loc, packed,
                                       {block, kq, indexConstant(b, loc, v * vw * 4)}, vw * 4);
              bv.push_back(bytes);
            }
            for (int64_t r = 0; r < rows; ++r) {
              Value a = vector::BitCastOp::create(
                  b, loc, bytesType,
                  splat(b, loc,
                        tensor::ExtractOp::create(b, loc, quads, ValueRange{rowIndex[r], kq}),
                        vw));
              for (int64_t v = 0; v < vectors; ++v)
                acc[r * vectors + v] =
                    LLVM::CallIntrinsicOp::create(
                        b, loc, lanes, b.getStringAttr("llvm.x86.avx512.vpdpbusd.512"),
                        ValueRange{acc[r * vectors + v], a, bv[v]})
                        .getResult(0);
            }
            scf::YieldOp::create(b, loc, acc);
          });
    } else if (!quant) {
      kLoop = kRange(b, loc, indexConstant(b, loc, 0), indexConstant(b, loc, k), init, {});
    } else {
      // One scale vector per panel vector and group, loaded once per group.
      kLoop = scf::ForOp::create(
          b, loc, indexConstant(b, loc, 0), indexConstant(b, loc, groups),
          indexConstant(b, loc, 1), init,
          [&](OpBuilder &b, Location loc, Value g, ValueRange accs) {
            SmallVector<Value> scaleVecs;
            for (int64_t v = 0; v < vectors; ++v)
              scaleVecs.push_back(readVector(
                  b, loc, scales, {block, g, indexConstant(b, loc, v * vw)}, vw));
            Value lo = arith::MulIOp::create(b, loc, g, indexConstant(b, loc, groupSize));
            Value hi = arith::AddIOp::create(b, loc, lo, indexConstant(b, loc, groupSize));
            scf::ForOp inner = kRange(b, loc, lo, hi, accs, scaleVecs);
            scf::YieldOp::create(b, loc, inner.getResults());
          });
    }
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t v = 0; v < vectors; ++v) {
        Value value = kLoop.getResult(r * vectors + v);
        Value col = arith::AddIOp::create(b, loc, col0, indexConstant(b, loc, v * vw));
        if (plan->int8) {
          // (sum - offset x column sum) x row scale x channel scale (+ bias).
          Value v0 = indexConstant(b, loc, v * vw), zero = indexConstant(b, loc, 0);
          Value exact = arith::SubIOp::create(
              b, loc, value, readVector(b, loc, correction, {block, zero, v0}, vw));
          Value rowScale = splat(b, loc,
                                 tensor::ExtractOp::create(b, loc, rowScales, rowIndex[r]), vw);
          Value scale = arith::MulFOp::create(
              b, loc, rowScale, readVector(b, loc, scales, {block, zero, v0}, vw));
          value = arith::MulFOp::create(
              b, loc, arith::SIToFPOp::create(b, loc, VectorType::get({vw}, f32), exact), scale);
          if (bias)
            value = arith::AddFOp::create(b, loc, value, readVector(b, loc, bias, col, vw));
        }
        for (const EpilogueStep &step : plan->epilogue) {
          SmallVector<Value> args;
          Value other;
          switch (step.kind) {
          case EpilogueStep::Unary:
            break;
          case EpilogueStep::Self:
            other = value;
            break;
          case EpilogueStep::Full:
            other = readVector(b, loc, step.other, {rowIndex[r], col}, vw);
            break;
          case EpilogueStep::Row:
            other = readVector(b, loc, step.other, col, vw);
            break;
          case EpilogueStep::Scalar:
            other = splat(b, loc, step.other, vw);
            break;
          }
          if (step.kind == EpilogueStep::Unary)
            args.push_back(value);
          else if (step.chainOperand == 0)
            args.append({value, other});
          else
            args.append({other, value});
          value = *emitElementwise(b, loc, step.op, args);
        }
        Value tileCol = indexConstant(b, loc, v * vw);
        tile = writeVector(b, loc, value, tile, {rowIndex[r], tileCol});
      }
    return tile;
  };

  Value out = emptyTensor(b, loc, {m, paddedN}, f32);
  Value result = buildParallel(
      b, loc, paddedN / nr, out,
      [&](OpBuilder &b, Location loc, Value block, Value shared) -> ParallelTile {
        Value col0 = arith::MulIOp::create(b, loc, block, indexConstant(b, loc, nr));
        SmallVector<OpFoldResult> offsets = {b.getIndexAttr(0), col0};
        SmallVector<OpFoldResult> sizes = {b.getIndexAttr(m), b.getIndexAttr(nr)};
        SmallVector<OpFoldResult> strides = {b.getIndexAttr(1), b.getIndexAttr(1)};
        Value tile = tensor::ExtractSliceOp::create(b, loc, shared, offsets, sizes, strides);
        int64_t full = m / mr * mr;
        if (full > 0) {
          auto rowLoop = scf::ForOp::create(
              b, loc, indexConstant(b, loc, 0), indexConstant(b, loc, full),
              indexConstant(b, loc, mr), ValueRange{tile},
              [&](OpBuilder &b, Location loc, Value row0, ValueRange iter) {
                scf::YieldOp::create(
                    b, loc, microKernel(b, loc, block, col0, row0, mr, iter[0]));
              });
          tile = rowLoop.getResult(0);
        }
        if (m % mr)
          tile = microKernel(b, loc, block, col0, indexConstant(b, loc, full),
                             m % mr, tile);
        return ParallelTile{tile, offsets, sizes};
      });

  if (paddedN != n)
    result = tensor::ExtractSliceOp::create(
        b, loc, RankedTensorType::get({m, n}, f32), result,
        ArrayRef<OpFoldResult>{b.getIndexAttr(0), b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(m), b.getIndexAttr(n)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
  Value final = reshapeTo(
      b, loc, result, cast<RankedTensorType>(plan->last->getResult(0).getType()).getShape());
  // The absorbed ops go now; the caller replaces and erases `op` itself.
  if (plan->last != op) {
    plan->last->getResult(0).replaceAllUsesWith(final);
    for (const EpilogueStep &step : llvm::reverse(plan->epilogue)) {
      fl.erased.insert(step.op);
      step.op->erase();
    }
  }
  return final;
}
