//===- ONNXOps.cpp - one converter per ONNX operator ----------------------===//
//
// Converters map an ONNX node to tfx ops with static shapes. Ops whose
// operands are all known are folded by Importer::finish; the few operators
// that only make sense on known values (Shape, Range, ConstantOfShape) are
// computed here directly.
//
//===----------------------------------------------------------------------===//

#include "ONNXImporter.h"

#include "tfx/Frontend/ONNXTensor.h"

#include "llvm/ADT/StringSwitch.h"

#include <functional>

using namespace mlir;
using namespace mlir::tfx;
using namespace mlir::tfx::onnximport;

namespace {

using Converter = std::function<LogicalResult(Importer &)>;

int64_t normAxis(int64_t axis, int64_t rank) { return axis < 0 ? axis + rank : axis; }

/// Creates an op with an inferred type and finishes it as output 0.
template <typename OpT, typename... Args>
LogicalResult emitInferred(Importer &im, Args &&...args) {
  auto op = createInferred<OpT>(im.builder(), im.loc(), std::forward<Args>(args)...);
  if (failed(op))
    return failure();
  return im.finish(*op, im.node().output(0));
}

template <typename OpT>
LogicalResult binary(Importer &im) {
  auto lhs = im.get(im.input(0)), rhs = im.get(im.input(1));
  if (failed(lhs) || failed(rhs))
    return failure();
  Value a = *lhs, b = *rhs;
  // Pow may take an integer exponent; tfx wants one element type.
  if (std::is_same<OpT, PowOp>::value &&
      getElementTypeOrSelf(a) != getElementTypeOrSelf(b)) {
    auto bt = cast<RankedTensorType>(b.getType());
    b = CastOp::create(im.builder(), im.loc(),
                       bt.clone(getElementTypeOrSelf(a)), b)
            .getResult();
  }
  return emitInferred<OpT>(im, a, b);
}

/// Variadic Sum/Max/Min fold pairwise.
template <typename OpT>
LogicalResult variadic(Importer &im) {
  auto acc = im.get(im.input(0));
  if (failed(acc))
    return failure();
  Value v = *acc;
  for (int i = 1; i < im.node().input_size(); ++i) {
    auto next = im.get(im.input(i));
    if (failed(next))
      return failure();
    auto op = createInferred<OpT>(im.builder(), im.loc(), v, *next);
    if (failed(op))
      return failure();
    v = op->getResult();
  }
  if (Operation *def = v.getDefiningOp(); def && def != acc->getDefiningOp())
    return im.finish(def, im.node().output(0));
  im.setValue(im.node().output(0), v);
  return success();
}

template <typename OpT>
LogicalResult unary(Importer &im) {
  auto x = im.get(im.input(0));
  if (failed(x))
    return failure();
  auto op = OpT::create(im.builder(), im.loc(), *x);
  return im.finish(op, im.node().output(0));
}

LogicalResult isNan(Importer &im) {
  auto x = im.get(im.input(0));
  if (failed(x))
    return failure();
  auto t = cast<RankedTensorType>(x->getType());
  auto op = IsNanOp::create(im.builder(), im.loc(), t.clone(im.builder().getI1Type()), *x);
  return im.finish(op, im.node().output(0));
}

LogicalResult reshapeTo(Importer &im, Value x, ArrayRef<int64_t> shape,
                        llvm::StringRef out) {
  auto t = cast<RankedTensorType>(x.getType());
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  if (n != t.getNumElements()) {
    im.error() << "cannot reshape " << t << " to " << shape.size()
               << "-D shape with " << n << " elements";
    return failure();
  }
  auto op = ReshapeOp::create(im.builder(), im.loc(), t.clone(shape), x);
  return im.finish(op, out);
}

LogicalResult reshape(Importer &im) {
  auto x = im.get(im.input(0));
  auto spec = im.constInts(1, "the target shape");
  if (failed(x) || failed(spec))
    return failure();
  auto in = cast<RankedTensorType>(x->getType());
  bool allowZero = im.intAttr("allowzero", 0) != 0;
  std::vector<int64_t> shape = *spec;
  int64_t known = 1, inferAt = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 0 && !allowZero) {
      if ((int64_t)i >= in.getRank()) {
        im.error() << "shape entry 0 at position " << i << " has no input dimension to copy";
        return failure();
      }
      shape[i] = in.getDimSize(i);
    }
    if (shape[i] == -1) {
      if (inferAt >= 0) {
        im.error() << "the target shape has more than one -1";
        return failure();
      }
      inferAt = i;
    } else if (shape[i] < 0) {
      im.error() << "the target shape has a negative entry " << shape[i];
      return failure();
    } else {
      known *= shape[i];
    }
  }
  if (inferAt >= 0) {
    if (known == 0 || in.getNumElements() % known != 0) {
      im.error() << "cannot infer the -1 entry of the target shape for " << in;
      return failure();
    }
    shape[inferAt] = in.getNumElements() / known;
  }
  return reshapeTo(im, *x, shape, im.node().output(0));
}

LogicalResult flatten(Importer &im) {
  auto x = im.get(im.input(0));
  if (failed(x))
    return failure();
  auto t = cast<RankedTensorType>(x->getType());
  int64_t axis = normAxis(im.intAttr("axis", 1), t.getRank());
  int64_t outer = 1;
  for (int64_t i = 0; i < axis; ++i)
    outer *= t.getDimSize(i);
  return reshapeTo(im, *x, {outer, t.getNumElements() / std::max<int64_t>(outer, 1)},
                   im.node().output(0));
}

/// Axes of Squeeze/Unsqueeze/Reduce*: an attribute before `inputFrom`, then
/// the optional second input.
FailureOr<std::optional<std::vector<int64_t>>> axesOf(Importer &im,
                                                      int64_t inputFrom) {
  if (im.opsetVersion() < inputFrom)
    return im.intsAttr("axes");
  if (im.input(1).empty())
    return std::optional<std::vector<int64_t>>();
  auto axes = im.constInts(1, "axes");
  if (failed(axes))
    return failure();
  return std::optional<std::vector<int64_t>>(*axes);
}

LogicalResult squeeze(Importer &im) {
  auto x = im.get(im.input(0));
  auto axes = axesOf(im, 13);
  if (failed(x) || failed(axes))
    return failure();
  auto t = cast<RankedTensorType>(x->getType());
  std::vector<bool> drop(t.getRank(), false);
  if (*axes) {
    for (int64_t a : **axes) {
      a = normAxis(a, t.getRank());
      if (a < 0 || a >= t.getRank() || t.getDimSize(a) != 1) {
        im.error() << "cannot squeeze axis " << a << " of " << t;
        return failure();
      }
      drop[a] = true;
    }
  } else {
    for (int64_t i = 0; i < t.getRank(); ++i)
      drop[i] = t.getDimSize(i) == 1;
  }
  std::vector<int64_t> shape;
  for (int64_t i = 0; i < t.getRank(); ++i)
    if (!drop[i])
      shape.push_back(t.getDimSize(i));
  return reshapeTo(im, *x, shape, im.node().output(0));
}

LogicalResult unsqueeze(Importer &im) {
  auto x = im.get(im.input(0));
  auto axes = axesOf(im, 13);
  if (failed(x) || failed(axes))
    return failure();
  if (!*axes) {
    im.error() << "needs axes";
    return failure();
  }
  auto t = cast<RankedTensorType>(x->getType());
  int64_t rank = t.getRank() + (int64_t)(*axes)->size();
  std::vector<bool> inserted(rank, false);
  for (int64_t a : **axes) {
    a = normAxis(a, rank);
    if (a < 0 || a >= rank || inserted[a]) {
      im.error() << "bad unsqueeze axis " << a << " for result rank " << rank;
      return failure();
    }
    inserted[a] = true;
  }
  std::vector<int64_t> shape;
  int64_t src = 0;
  for (int64_t i = 0; i < rank; ++i)
    shape.push_back(inserted[i] ? 1 : t.getDimSize(src++));
  return reshapeTo(im, *x, shape, im.node().output(0));
}

LogicalResult transpose(Importer &im) {
  auto x = im.get(im.input(0));
  if (failed(x))
    return failure();
  int64_t rank = cast<RankedTensorType>(x->getType()).getRank();
  std::vector<int64_t> perm;
  if (auto p = im.intsAttr("perm"))
    perm = *p;
  else
    for (int64_t i = rank - 1; i >= 0; --i)
      perm.push_back(i);
  return emitInferred<TransposeOp>(im, *x, perm);
}

LogicalResult expand(Importer &im) {
  auto x = im.get(im.input(0));
  auto shape = im.constInts(1, "the target shape");
  if (failed(x) || failed(shape))
    return failure();
  auto t = cast<RankedTensorType>(x->getType());
  auto out = broadcastShapes(t.getShape(), *shape);
  if (failed(out)) {
    im.error() << "cannot expand " << t << " to the given shape";
    return failure();
  }
  auto op = ExpandOp::create(im.builder(), im.loc(), t.clone(*out), *x);
  return im.finish(op, im.node().output(0));
}

LogicalResult concat(Importer &im) {
  SmallVector<Value> inputs;
  for (int i = 0; i < im.node().input_size(); ++i) {
    auto v = im.get(im.input(i));
    if (failed(v))
      return failure();
    inputs.push_back(*v);
  }
  if (inputs.empty()) {
    im.error() << "has no inputs";
    return failure();
  }
  int64_t rank = cast<RankedTensorType>(inputs[0].getType()).getRank();
  int64_t axis = normAxis(im.intAttr("axis", 0), rank);
  return emitInferred<ConcatOp>(im, ValueRange(inputs), axis);
}

template <typename OpT>
LogicalResult gatherLike(Importer &im) {
  auto data = im.get(im.input(0)), idx = im.get(im.input(1));
  if (failed(data) || failed(idx))
    return failure();
  int64_t rank = cast<RankedTensorType>(data->getType()).getRank();
  return emitInferred<OpT>(im, *data, *idx, normAxis(im.intAttr("axis", 0), rank));
}

LogicalResult gatherNd(Importer &im) {
  auto data = im.get(im.input(0)), idx = im.get(im.input(1));
  if (failed(data) || failed(idx))
    return failure();
  return emitInferred<GatherNdOp>(im, *data, *idx, im.intAttr("batch_dims", 0));
}

LogicalResult slice(Importer &im) {
  auto x = im.get(im.input(0));
  if (failed(x))
    return failure();
  auto t = cast<RankedTensorType>(x->getType());
  int64_t rank = t.getRank();
  std::vector<int64_t> starts, ends, axes, steps;
  if (im.opsetVersion() < 10) {
    starts = im.intsAttr("starts").value_or(std::vector<int64_t>());
    ends = im.intsAttr("ends").value_or(std::vector<int64_t>());
    axes = im.intsAttr("axes").value_or(std::vector<int64_t>());
  } else {
    auto s = im.constInts(1, "starts"), e = im.constInts(2, "ends");
    if (failed(s) || failed(e))
      return failure();
    starts = *s;
    ends = *e;
    if (!im.input(3).empty()) {
      auto a = im.constInts(3, "axes");
      if (failed(a))
        return failure();
      axes = *a;
    }
    if (!im.input(4).empty()) {
      auto st = im.constInts(4, "steps");
      if (failed(st))
        return failure();
      steps = *st;
    }
  }
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i)
      axes.push_back(i);
  if (steps.empty())
    steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      steps.size() != starts.size()) {
    im.error() << "starts, ends, axes and steps differ in length";
    return failure();
  }
  SmallVector<int64_t> offsets(rank, 0), sizes(t.getShape()), strides(rank, 1);
  for (size_t i = 0; i < starts.size(); ++i) {
    int64_t a = normAxis(axes[i], rank);
    if (a < 0 || a >= rank) {
      im.error() << "slice axis " << axes[i] << " out of range";
      return failure();
    }
    int64_t dim = t.getDimSize(a), step = steps[i];
    if (step <= 0) {
      im.error() << "slice steps must be positive (got " << step << ")";
      return failure();
    }
    int64_t s = starts[i] < 0 ? starts[i] + dim : starts[i];
    int64_t e = ends[i] < 0 ? ends[i] + dim : ends[i];
    s = std::clamp<int64_t>(s, 0, dim);
    e = std::clamp<int64_t>(e, 0, dim);
    offsets[a] = s;
    strides[a] = step;
    sizes[a] = e > s ? (e - s + step - 1) / step : 0;
  }
  return emitInferred<SliceOp>(im, *x, offsets, sizes, strides);
}

LogicalResult split(Importer &im) {
  auto x = im.get(im.input(0));
  if (failed(x))
    return failure();
  auto t = cast<RankedTensorType>(x->getType());
  int64_t axis = normAxis(im.intAttr("axis", 0), t.getRank());
  int outputs = im.node().output_size();
  std::vector<int64_t> sizes;
  if (!im.input(1).empty()) {
    auto s = im.constInts(1, "split");
    if (failed(s))
      return failure();
    sizes = *s;
  } else if (auto s = im.intsAttr("split")) {
    sizes = *s;
  } else {
    int64_t dim = t.getDimSize(axis), chunk = (dim + outputs - 1) / outputs;
    for (int i = 0; i < outputs; ++i)
      sizes.push_back(std::min(chunk, dim - i * chunk));
  }
  if ((int)sizes.size() != outputs) {
    im.error() << "has " << outputs << " outputs but " << sizes.size()
               << " split sizes";
    return failure();
  }
  int64_t offset = 0;
  for (int i = 0; i < outputs; ++i) {
    SmallVector<int64_t> offsets(t.getRank(), 0), sz(t.getShape()),
        strides(t.getRank(), 1);
    offsets[axis] = offset;
    sz[axis] = sizes[i];
    offset += sizes[i];
    auto op = createInferred<SliceOp>(im.builder(), im.loc(), *x, offsets, sz, strides);
    if (failed(op) || failed(im.finish(*op, im.node().output(i))))
      return failure();
  }
  return success();
}

LogicalResult castOp(Importer &im) {
  auto x = im.get(im.input(0));
  if (failed(x))
    return failure();
  std::optional<DType> to = dtypeFromONNX(im.intAttr("to", 1));
  if (!to) {
    im.error() << "cast to an unsupported element type " << im.intAttr("to", 1);
    return failure();
  }
  auto t = cast<RankedTensorType>(x->getType());
  auto op = CastOp::create(im.builder(), im.loc(), t.clone(im.elementTypeOf(*to)), *x);
  return im.finish(op, im.node().output(0));
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
  int64_t rank = cast<RankedTensorType>(x->getType()).getRank();
  int64_t axis = normAxis(im.intAttr("axis", im.opsetVersion() < 13 ? 1 : -1), rank);
  // Before opset 13 Softmax flattens from `axis` on; that equals the
  // per-axis form only on the last axis.
  if (im.opsetVersion() < 13 && axis != rank - 1) {
    im.error() << "opset < 13 Softmax over axis " << axis
               << " (not the last) is not supported";
    return failure();
  }
  auto op = SoftmaxOp::create(im.builder(), im.loc(), *x, axis);
  return im.finish(op, im.node().output(0));
}

LogicalResult matmul(Importer &im) {
  auto a = im.get(im.input(0)), b = im.get(im.input(1));
  if (failed(a) || failed(b))
    return failure();
  return emitInferred<MatMulOp>(im, *a, *b);
}

LogicalResult gemm(Importer &im) {
  if (im.intAttr("transA", 0) != 0) {
    im.error() << "transA = 1 is not supported";
    return failure();
  }
  auto a = im.get(im.input(0)), w = im.get(im.input(1));
  if (failed(a) || failed(w))
    return failure();
  OpBuilder &b = im.builder();
  Value weight = *w;
  // tfx.linear wants [out, in]: Gemm's B is [in, out] unless transB.
  if (im.intAttr("transB", 0) == 0) {
    auto t = createInferred<TransposeOp>(b, im.loc(), weight, ArrayRef<int64_t>{1, 0});
    if (failed(t))
      return failure();
    weight = t->getResult();
  }
  float alpha = im.floatAttr("alpha", 1.0f), beta = im.floatAttr("beta", 1.0f);
  if (alpha != 1.0f) {
    auto wt = cast<RankedTensorType>(weight.getType());
    Value scale = arith::ConstantOp::create(
        b, im.loc(), DenseElementsAttr::get(RankedTensorType::get({}, wt.getElementType()),
                                            b.getF32FloatAttr(alpha)));
    auto m = createInferred<MulOp>(b, im.loc(), weight, scale);
    if (failed(m))
      return failure();
    weight = m->getResult();
  }
  Value bias;
  bool biasAsAdd = false;
  if (!im.input(2).empty() && beta != 0.0f) {
    auto c = im.get(im.input(2));
    if (failed(c))
      return failure();
    bias = *c;
    auto ct = cast<RankedTensorType>(bias.getType());
    auto wt = cast<RankedTensorType>(weight.getType());
    biasAsAdd = beta != 1.0f || ct.getRank() != 1 || ct.getDimSize(0) != wt.getDimSize(0);
  }
  auto lin = createInferred<LinearOp>(b, im.loc(), *a, weight,
                                      biasAsAdd ? Value() : bias);
  if (failed(lin))
    return failure();
  if (!biasAsAdd)
    return im.finish(*lin, im.node().output(0));
  Value c = bias;
  if (beta != 1.0f) {
    auto ct = cast<RankedTensorType>(c.getType());
    Value s = arith::ConstantOp::create(
        b, im.loc(), DenseElementsAttr::get(RankedTensorType::get({}, ct.getElementType()),
                                            b.getF32FloatAttr(beta)));
    auto m = createInferred<MulOp>(b, im.loc(), c, s);
    if (failed(m))
      return failure();
    c = m->getResult();
  }
  return emitInferred<AddOp>(im, lin->getResult(), c);
}

LogicalResult layerNorm(Importer &im) {
  auto x = im.get(im.input(0)), g = im.get(im.input(1));
  if (failed(x) || failed(g))
    return failure();
  int64_t rank = cast<RankedTensorType>(x->getType()).getRank();
  if (normAxis(im.intAttr("axis", -1), rank) != rank - 1) {
    im.error() << "normalizing over more than the last axis is not supported";
    return failure();
  }
  Value beta;
  if (!im.input(2).empty()) {
    auto bv = im.get(im.input(2));
    if (failed(bv))
      return failure();
    beta = *bv;
  }
  if (im.node().output_size() > 1)
    for (int i = 1; i < im.node().output_size(); ++i)
      if (!im.node().output(i).empty()) {
        im.error() << "the mean and inverse-std-dev outputs are not supported";
        return failure();
      }
  return emitInferred<LayerNormOp>(im, *x, *g, beta,
                                   im.builder().getF32FloatAttr(im.floatAttr("epsilon", 1e-5f)));
}

LogicalResult gelu(Importer &im) {
  auto x = im.get(im.input(0));
  if (failed(x))
    return failure();
  const onnx::AttributeProto *a = im.attr("approximate");
  GeluApprox approx = a && a->s() == "tanh" ? GeluApprox::tanh : GeluApprox::erf;
  auto op = GeluOp::create(im.builder(), im.loc(), *x, approx);
  return im.finish(op, im.node().output(0));
}

LogicalResult reduce(Importer &im, ReduceKind kind, int64_t axesInputFrom) {
  auto x = im.get(im.input(0));
  auto axes = axesOf(im, axesInputFrom);
  if (failed(x) || failed(axes))
    return failure();
  auto t = cast<RankedTensorType>(x->getType());
  std::vector<int64_t> list;
  if (*axes && !(*axes)->empty()) {
    for (int64_t a : **axes)
      list.push_back(normAxis(a, t.getRank()));
  } else if (im.intAttr("noop_with_empty_axes", 0)) {
    im.alias(im.node().output(0), im.input(0));
    return success();
  } else {
    for (int64_t i = 0; i < t.getRank(); ++i)
      list.push_back(i);
  }
  llvm::sort(list);
  return emitInferred<ReduceOp>(im, *x, kind, list, im.intAttr("keepdims", 1) != 0);
}

//===--- operators only meaningful on known values -------------------------===//

LogicalResult shape(Importer &im) {
  RankedTensorType t = im.typeOf(im.input(0));
  int64_t rank = t.getRank();
  int64_t start = normAxis(im.intAttr("start", 0), rank);
  int64_t end = im.attr("end") ? normAxis(im.intAttr("end", rank), rank) : rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, start, rank);
  Tensor out = Tensor::ints({end - start});
  for (int64_t i = start; i < end; ++i)
    out.i[i - start] = t.getDimSize(i);
  im.setConstant(im.node().output(0), std::move(out));
  return success();
}

LogicalResult size(Importer &im) {
  Tensor out = Tensor::ints({});
  out.i[0] = im.typeOf(im.input(0)).getNumElements();
  im.setConstant(im.node().output(0), std::move(out));
  return success();
}

LogicalResult constantOfShape(Importer &im) {
  auto shape = im.constInts(0, "the shape");
  if (failed(shape))
    return failure();
  Tensor value = Tensor::floats({1}, 0.0f);
  if (const onnx::AttributeProto *a = im.attr("value")) {
    auto t = decodeTensorProto(a->t(), "", "value");
    if (!t) {
      im.error() << llvm::toString(t.takeError());
      return failure();
    }
    value = std::move(*t);
  }
  Tensor out = value.isFloat() ? Tensor::floats(*shape, value.f.at(0), value.dtype)
                               : Tensor::ints(*shape, value.i.at(0), value.dtype);
  im.setConstant(im.node().output(0), std::move(out));
  return success();
}

LogicalResult range(Importer &im) {
  const Tensor *s = im.constant(im.input(0)), *l = im.constant(im.input(1)),
               *d = im.constant(im.input(2));
  if (!s || !l || !d || s->numElements() != 1 || l->numElements() != 1 ||
      d->numElements() != 1) {
    im.error() << "start, limit and delta must be scalars known at import time";
    return failure();
  }
  double start = s->at(0), limit = l->at(0), delta = d->at(0);
  if (delta == 0) {
    im.error() << "delta is zero";
    return failure();
  }
  int64_t n = std::max<int64_t>((int64_t)std::ceil((limit - start) / delta), 0);
  Tensor out = s->isFloat() ? Tensor::floats({n}, 0.0f, s->dtype)
                            : Tensor::ints({n}, 0, s->dtype);
  for (int64_t k = 0; k < n; ++k) {
    if (out.isFloat())
      out.f[k] = (float)(start + k * delta);
    else
      out.i[k] = (int64_t)start + k * (int64_t)delta;
  }
  im.setConstant(im.node().output(0), std::move(out));
  return success();
}

LogicalResult constantOp(Importer &im) {
  const onnx::NodeProto &node = im.node();
  for (const onnx::AttributeProto &a : node.attribute()) {
    Tensor t;
    if (a.name() == "value") {
      int64_t n = 1;
      for (int64_t dim : a.t().dims())
        n *= dim;
      std::optional<DType> dt = dtypeFromONNX(a.t().data_type());
      if (dt && isFloatDType(*dt) && n > 64) {
        im.setWeight(node.output(0), node.output(0),
                     RankedTensorType::get(std::vector<int64_t>(a.t().dims().begin(),
                                                                a.t().dims().end()),
                                           im.builder().getF32Type()));
        return success();
      }
      auto decoded = decodeTensorProto(a.t(), "", node.output(0));
      if (!decoded) {
        im.error() << llvm::toString(decoded.takeError());
        return failure();
      }
      t = std::move(*decoded);
    } else if (a.name() == "value_float") {
      t = Tensor::floats({}, a.f());
    } else if (a.name() == "value_floats") {
      t = Tensor::floats({(int64_t)a.floats_size()});
      t.f.assign(a.floats().begin(), a.floats().end());
    } else if (a.name() == "value_int") {
      t = Tensor::ints({}, a.i());
    } else if (a.name() == "value_ints") {
      t = Tensor::ints({(int64_t)a.ints_size()});
      t.i.assign(a.ints().begin(), a.ints().end());
    } else {
      continue;
    }
    im.setConstant(node.output(0), std::move(t));
    return success();
  }
  im.error() << "has no supported value attribute";
  return failure();
}

LogicalResult identity(Importer &im) {
  im.alias(im.node().output(0), im.input(0));
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
      {"Gelu", gelu}, {"Softmax", softmax}, {"MatMul", matmul}, {"Gemm", gemm},
      {"LayerNormalization", layerNorm}, {"Cast", castOp}, {"Where", where},
      {"Reshape", reshape}, {"Flatten", flatten}, {"Squeeze", squeeze},
      {"Unsqueeze", unsqueeze}, {"Transpose", transpose}, {"Expand", expand},
      {"Concat", concat}, {"Gather", gatherLike<GatherOp>},
      {"GatherElements", gatherLike<GatherElementsOp>}, {"GatherND", gatherNd},
      {"Slice", slice}, {"Split", split},
      {"ReduceMean", [](Importer &im) { return reduce(im, ReduceKind::mean, 18); }},
      {"ReduceSum", [](Importer &im) { return reduce(im, ReduceKind::sum, 13); }},
      {"ReduceMax", [](Importer &im) { return reduce(im, ReduceKind::max, 18); }},
      {"ReduceMin", [](Importer &im) { return reduce(im, ReduceKind::min, 18); }},
      {"Shape", shape}, {"Size", size}, {"ConstantOfShape", constantOfShape},
      {"Range", range}, {"Constant", constantOp}, {"Identity", identity},
      {"Dropout", identity},
  };
  return table;
}

} // namespace

LogicalResult mlir::tfx::onnximport::convertOp(Importer &im) {
  const onnx::NodeProto &node = im.node();
  auto it = converters().find(node.op_type());
  if (it == converters().end()) {
    emitError(im.loc()) << "unsupported ONNX op '" << node.op_type()
                        << "' (node '" << node.name() << "')";
    return failure();
  }
  return it->second(im);
}
