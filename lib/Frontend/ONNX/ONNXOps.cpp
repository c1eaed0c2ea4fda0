//===- ONNXOps.cpp - elementwise, math and neural-network operators -------===//
//
// One converter per ONNX operator, and the table that maps op types to them.
// A converter builds tfx ops with static shapes and hands the node's result
// to Importer::finish, which folds it when every operand is known.
//
//===----------------------------------------------------------------------===//

#include "ONNXImporter.h"

#include "tfx/Frontend/ONNXTensor.h"

#include "llvm/ADT/StringMap.h"

using namespace mlir;
using namespace mlir::tfx;
using namespace mlir::tfx::onnximport;

namespace {

using Converter = LogicalResult (*)(Importer &);

RankedTensorType typeOfValue(Value v) { return cast<RankedTensorType>(v.getType()); }

/// An intermediate op of a decomposition (folded when its operands are).
template <typename OpT, typename... Args>
FailureOr<Value> inferred(Importer &im, Args &&...args) {
  auto op = createInferred<OpT>(im.builder(), im.loc(), std::forward<Args>(args)...);
  if (failed(op))
    return failure();
  return im.fold(*op);
}

/// Defines output 0 of the current node as `v`.
LogicalResult result(Importer &im, Value v) {
  im.define(im.node().output(0), v);
  return success();
}

/// A reshape inside a decomposition (folded when its input is known).
FailureOr<Value> reshaped(Importer &im, Value x, ArrayRef<int64_t> shape) {
  auto r = buildReshape(im, x, shape);
  if (failed(r))
    return failure();
  return im.fold(r->getDefiningOp());
}

/// Creates an op with an inferred type and finishes it as output 0.
template <typename OpT, typename... Args>
LogicalResult emitInferred(Importer &im, Args &&...args) {
  auto op = createInferred<OpT>(im.builder(), im.loc(), std::forward<Args>(args)...);
  if (failed(op))
    return failure();
  return im.finish(*op);
}

template <typename OpT>
LogicalResult binary(Importer &im) {
  auto lhs = im.get(im.input(0)), rhs = im.get(im.input(1));
  if (failed(lhs) || failed(rhs))
    return failure();
  Value a = *lhs, b = *rhs;
  // Pow may take an exponent of another type; tfx wants one element type.
  if (std::is_same<OpT, PowOp>::value &&
      getElementTypeOrSelf(a) != getElementTypeOrSelf(b))
    b = CastOp::create(im.builder(), im.loc(),
                       typeOfValue(b).clone(getElementTypeOrSelf(a)), b);
  return emitInferred<OpT>(im, a, b);
}

/// Variadic Sum/Max/Min fold pairwise.
template <typename OpT>
LogicalResult variadic(Importer &im) {
  auto acc = im.get(im.input(0));
  if (failed(acc))
    return failure();
  for (int i = 1; i < im.node().input_size(); ++i) {
    auto next = im.get(im.input(i));
    if (failed(next))
      return failure();
    acc = inferred<OpT>(im, *acc, *next);
    if (failed(acc))
      return failure();
  }
  return result(im, *acc);
}

template <typename OpT>
LogicalResult unary(Importer &im) {
  auto x = im.get(im.input(0));
  if (failed(x))
    return failure();
  return im.finish(OpT::create(im.builder(), im.loc(), *x));
}

LogicalResult isNan(Importer &im) {
  auto x = im.get(im.input(0));
  if (failed(x))
    return failure();
  if (!isa<FloatType>(getElementTypeOrSelf(*x))) {
    im.error() << "expects a float input";
    return failure();
  }
  auto type = typeOfValue(*x).clone(im.builder().getI1Type());
  return im.finish(IsNanOp::create(im.builder(), im.loc(), type, *x));
}

LogicalResult clip(Importer &im) {
  auto x = im.get(im.input(0));
  if (failed(x))
    return failure();
  Value v = *x;
  // min and max are optional inputs (opset 11+); absent means unbounded.
  for (int i : {1, 2}) {
    if (im.input(i).empty())
      continue;
    auto bound = im.get(im.input(i));
    if (failed(bound))
      return failure();
    auto op = i == 1 ? inferred<MaxOp>(im, v, *bound) : inferred<MinOp>(im, v, *bound);
    if (failed(op))
      return failure();
    v = *op;
  }
  return result(im, v);
}

LogicalResult castOp(Importer &im) {
  auto x = im.get(im.input(0));
  if (failed(x))
    return failure();
  int64_t to = im.intAttr("to", 0);
  std::optional<DType> dtype = dtypeFromONNX(to);
  if (!dtype) {
    im.error() << "cast to unsupported ONNX element type " << onnxTypeName(to);
    return failure();
  }
  auto type = typeOfValue(*x).clone(im.elementTypeOf(*dtype));
  return im.finish(CastOp::create(im.builder(), im.loc(), type, *x));
}

LogicalResult where(Importer &im) {
  auto c = im.get(im.input(0)), a = im.get(im.input(1)), b = im.get(im.input(2));
  if (failed(c) || failed(a) || failed(b))
    return failure();
  return emitInferred<WhereOp>(im, *c, *a, *b);
}

LogicalResult softmax(Importer &im) {
  auto x = im.get(im.input(0));
  if (failed(x))
    return failure();
  RankedTensorType t = typeOfValue(*x);
  int64_t rank = t.getRank();
  bool coerced = im.opsetVersion() < 13;
  auto axis = im.axisAttr("axis", coerced ? 1 : -1, rank);
  if (failed(axis))
    return failure();
  if (!coerced || *axis == rank - 1)
    return im.finish(SoftmaxOp::create(im.builder(), im.loc(), *x, *axis));
  // Before opset 13 Softmax sees the input as 2-D [outer, inner], split at
  // `axis`, and normalizes each row of the flattened inner part.
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < rank; ++i)
    (i < *axis ? outer : inner) *= t.getDimSize(i);
  auto flat = reshaped(im, *x, {outer, inner});
  if (failed(flat))
    return failure();
  auto s = im.fold(SoftmaxOp::create(im.builder(), im.loc(), *flat, 1));
  if (failed(s))
    return failure();
  auto back = reshaped(im, *s, t.getShape());
  return failed(back) ? failure() : result(im, *back);
}

LogicalResult matmul(Importer &im) {
  auto a = im.get(im.input(0)), b = im.get(im.input(1));
  if (failed(a) || failed(b))
    return failure();
  return emitInferred<MatMulOp>(im, *a, *b);
}

/// Scales `v` by the constant `factor` (no op when it is 1).
FailureOr<Value> scaled(Importer &im, Value v, float factor) {
  if (factor == 1.0f)
    return v;
  return inferred<MulOp>(im, v, im.scalarLike(v, factor));
}

LogicalResult gemm(Importer &im) {
  auto a = im.get(im.input(0)), w = im.get(im.input(1));
  if (failed(a) || failed(w))
    return failure();
  if (typeOfValue(*a).getRank() != 2 || typeOfValue(*w).getRank() != 2) {
    im.error() << "A and B must be 2-D, got " << a->getType() << " and "
               << w->getType();
    return failure();
  }
  Value lhs = *a, weight = *w;
  if (im.intAttr("transA", 0) != 0) {
    auto t = inferred<TransposeOp>(im, lhs, ArrayRef<int64_t>{1, 0});
    if (failed(t))
      return failure();
    lhs = *t;
  }
  // tfx.linear wants [out, in]: Gemm's B is [in, out] unless transB. The
  // canonicalizer turns the transpose of a weight into a `transposed` read.
  if (im.intAttr("transB", 0) == 0) {
    auto t = inferred<TransposeOp>(im, weight, ArrayRef<int64_t>{1, 0});
    if (failed(t))
      return failure();
    weight = *t;
  }
  float alpha = im.floatAttr("alpha", 1.0f), beta = im.floatAttr("beta", 1.0f);
  Value bias;
  if (!im.input(2).empty() && beta != 0.0f) {
    auto c = im.get(im.input(2));
    if (failed(c))
      return failure();
    bias = *c;
  }
  // A 1-D [out] bias with unit scales fuses into tfx.linear; anything else
  // (2-D C, alpha, beta) is a broadcast multiply-add after it.
  int64_t outDim = typeOfValue(weight).getDimSize(0);
  bool fused = bias && alpha == 1.0f && beta == 1.0f &&
               typeOfValue(bias).getShape() == ArrayRef<int64_t>{outDim};
  auto lin = inferred<LinearOp>(im, lhs, weight, fused ? bias : Value());
  if (failed(lin))
    return failure();
  auto y = scaled(im, *lin, alpha);
  if (failed(y))
    return failure();
  if (bias && !fused) {
    auto c = scaled(im, bias, beta);
    if (failed(c))
      return failure();
    y = inferred<AddOp>(im, *y, *c);
    if (failed(y))
      return failure();
  }
  return result(im, *y);
}

/// A scale or bias of LayerNormalization as the 1-D [n] parameter of
/// tfx.layer_norm over the flattened normalized dimensions `normShape`.
FailureOr<Value> normParam(Importer &im, Value p, ArrayRef<int64_t> normShape,
                           int64_t n) {
  RankedTensorType t = typeOfValue(p);
  if (t.getShape() == ArrayRef<int64_t>{n})
    return p;
  auto full = broadcastShapes(t.getShape(), normShape);
  if (failed(full) || ArrayRef<int64_t>(*full) != normShape) {
    im.error() << "scale/bias " << t << " does not broadcast to the normalized "
               << "shape of " << n << " elements";
    return failure();
  }
  if (t.getNumElements() != n) {
    auto e = im.fold(ExpandOp::create(im.builder(), im.loc(), t.clone(normShape), p));
    if (failed(e))
      return failure();
    p = *e;
  }
  return reshaped(im, p, {n});
}

LogicalResult layerNorm(Importer &im) {
  auto x = im.get(im.input(0)), g = im.get(im.input(1));
  if (failed(x) || failed(g))
    return failure();
  for (int i = 1; i < im.node().output_size(); ++i)
    if (!im.node().output(i).empty()) {
      im.error() << "the Mean and InvStdDev outputs are not supported";
      return failure();
    }
  RankedTensorType t = typeOfValue(*x);
  int64_t rank = t.getRank();
  auto axis = im.axisAttr("axis", -1, rank);
  if (failed(axis))
    return failure();
  // Normalizing over several trailing axes is layer_norm over their
  // flattening.
  ArrayRef<int64_t> normShape = t.getShape().drop_front(*axis);
  int64_t n = 1;
  for (int64_t d : normShape)
    n *= d;
  auto gamma = normParam(im, *g, normShape, n);
  if (failed(gamma))
    return failure();
  Value beta;
  if (!im.input(2).empty()) {
    auto bv = im.get(im.input(2));
    if (failed(bv))
      return failure();
    auto p = normParam(im, *bv, normShape, n);
    if (failed(p))
      return failure();
    beta = *p;
  }
  Value input = *x;
  if (*axis != rank - 1) {
    SmallVector<int64_t> flat(t.getShape().take_front(*axis));
    flat.push_back(n);
    auto r = reshaped(im, input, flat);
    if (failed(r))
      return failure();
    input = *r;
  }
  auto eps = im.builder().getF32FloatAttr(im.floatAttr("epsilon", 1e-5f));
  auto ln = inferred<LayerNormOp>(im, input, *gamma, beta, eps);
  if (failed(ln))
    return failure();
  if (*axis == rank - 1)
    return result(im, *ln);
  auto back = reshaped(im, *ln, t.getShape());
  return failed(back) ? failure() : result(im, *back);
}

LogicalResult gelu(Importer &im) {
  auto x = im.get(im.input(0));
  if (failed(x))
    return failure();
  const onnx::AttributeProto *a = im.attr("approximate");
  std::string mode = a ? a->s() : "none";
  if (mode != "none" && mode != "tanh") {
    im.error() << "approximate = '" << mode << "' is not 'none' or 'tanh'";
    return failure();
  }
  GeluApprox approx = mode == "tanh" ? GeluApprox::tanh : GeluApprox::erf;
  return im.finish(GeluOp::create(im.builder(), im.loc(), *x, approx));
}

LogicalResult reduce(Importer &im, ReduceKind kind, int64_t axesInputFrom) {
  auto x = im.get(im.input(0));
  if (failed(x))
    return failure();
  bool noop = false;
  auto axes = reduceAxes(im, axesInputFrom, typeOfValue(*x).getRank(), noop);
  if (failed(axes))
    return failure();
  if (noop) {
    im.alias(im.node().output(0), im.input(0));
    return success();
  }
  return emitInferred<ReduceOp>(im, *x, kind, *axes, im.intAttr("keepdims", 1) != 0);
}

LogicalResult trilu(Importer &im) {
  auto x = im.get(im.input(0));
  if (failed(x))
    return failure();
  RankedTensorType t = typeOfValue(*x);
  if (t.getRank() < 2) {
    im.error() << "expects rank >= 2, got " << t;
    return failure();
  }
  int64_t k = 0;
  if (!im.input(1).empty()) {
    auto kv = im.constInts(1, "k");
    if (failed(kv))
      return failure();
    if (kv->size() != 1) {
      im.error() << "k must hold one value";
      return failure();
    }
    k = (*kv)[0];
  }
  bool upper = im.intAttr("upper", 1) != 0;
  // Trilu keeps the elements on one side of diagonal k of the last two
  // dimensions: a select against a mask known at import time.
  int64_t rows = t.getDimSize(t.getRank() - 2), cols = t.getDimSize(t.getRank() - 1);
  Tensor mask = Tensor::ints({rows, cols}, 0, DType::Bool);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      mask.i[i * cols + j] = upper ? j - i >= k : j - i <= k;
  Value m = im.materialize(std::move(mask), im.node().output(0) + "_mask");
  return emitInferred<WhereOp>(im, m, *x, im.scalarLike(*x, 0.0));
}

LogicalResult identity(Importer &im) {
  im.alias(im.node().output(0), im.input(0));
  return success();
}

LogicalResult dropout(Importer &im) {
  // Inference only: the data passes through, the optional mask is all true.
  im.alias(im.node().output(0), im.input(0));
  if (im.node().output_size() > 1 && !im.node().output(1).empty()) {
    RankedTensorType t = im.typeOf(im.input(0));
    im.setConstant(im.node().output(1),
                   Tensor::ints(std::vector<int64_t>(t.getShape().begin(),
                                                     t.getShape().end()),
                                1, DType::Bool));
  }
  return success();
}

const llvm::StringMap<Converter> &converters() {
  static const llvm::StringMap<Converter> table = {
      {"Add", binary<AddOp>}, {"Sub", binary<SubOp>}, {"Mul", binary<MulOp>},
      {"Div", binary<DivOp>}, {"Pow", binary<PowOp>}, {"And", binary<AndOp>},
      {"Or", binary<OrOp>}, {"Equal", binary<EqualOp>}, {"Less", binary<LessOp>},
      {"LessOrEqual", binary<LessEqualOp>}, {"Greater", binary<GreaterOp>},
      {"GreaterOrEqual", binary<GreaterEqualOp>},
      {"Max", variadic<MaxOp>}, {"Min", variadic<MinOp>}, {"Sum", variadic<AddOp>},
      {"Neg", unary<NegOp>}, {"Exp", unary<ExpOp>}, {"Log", unary<LogOp>},
      {"Sqrt", unary<SqrtOp>}, {"Reciprocal", unary<ReciprocalOp>},
      {"Tanh", unary<TanhOp>}, {"Erf", unary<ErfOp>}, {"Sigmoid", unary<SigmoidOp>},
      {"Cos", unary<CosOp>}, {"Sin", unary<SinOp>}, {"Abs", unary<AbsOp>},
      {"Relu", unary<ReluOp>}, {"Not", unary<NotOp>}, {"IsNaN", isNan},
      {"Clip", clip}, {"Gelu", gelu}, {"Softmax", softmax}, {"MatMul", matmul},
      {"Gemm", gemm}, {"LayerNormalization", layerNorm}, {"Cast", castOp},
      {"Where", where}, {"Trilu", trilu},
      {"ReduceMean", [](Importer &im) { return reduce(im, ReduceKind::mean, 18); }},
      {"ReduceSum", [](Importer &im) { return reduce(im, ReduceKind::sum, 13); }},
      {"ReduceMax", [](Importer &im) { return reduce(im, ReduceKind::max, 18); }},
      {"ReduceMin", [](Importer &im) { return reduce(im, ReduceKind::min, 18); }},
      {"Identity", identity}, {"Dropout", dropout},
      {"Reshape", convertReshape}, {"Flatten", convertFlatten},
      {"Squeeze", convertSqueeze}, {"Unsqueeze", convertUnsqueeze},
      {"Transpose", convertTranspose}, {"Expand", convertExpand},
      {"Concat", convertConcat}, {"Gather", convertGather},
      {"GatherElements", convertGatherElements}, {"GatherND", convertGatherND},
      {"Slice", convertSlice}, {"Split", convertSplit}, {"Shape", convertShape},
      {"Size", convertSize}, {"ConstantOfShape", convertConstantOfShape},
      {"Range", convertRange}, {"Constant", convertConstant},
  };
  return table;
}

} // namespace

bool mlir::tfx::onnximport::hasConverter(llvm::StringRef opType) {
  return converters().count(opType);
}

LogicalResult mlir::tfx::onnximport::convertOp(Importer &im) {
  return converters().lookup(im.node().op_type())(im);
}
