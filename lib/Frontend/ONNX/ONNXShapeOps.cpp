//===- ONNXShapeOps.cpp - shape and data movement operators ---------------===//
//
// Reshape-like operators become static tfx.reshape/slice/concat ops: their
// shape operands must be known at import time, which the folding of shape
// subgraphs (Shape -> Gather -> Concat ...) makes true for the exports we
// support. Shape, Size, ConstantOfShape, Range and Constant only produce
// known values and are computed here.
//
//===----------------------------------------------------------------------===//

#include "ONNXImporter.h"

#include "tfx/Frontend/ONNXTensor.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tfx;
using namespace mlir::tfx::onnximport;

static RankedTensorType typeOfValue(Value v) {
  return cast<RankedTensorType>(v.getType());
}

FailureOr<Value> mlir::tfx::onnximport::buildReshape(Importer &im, Value x,
                                                     ArrayRef<int64_t> shape) {
  RankedTensorType t = typeOfValue(x);
  int64_t n = checkedElementCount(shape);
  if (n != t.getNumElements()) {
    im.error() << "cannot reshape " << t << " (" << t.getNumElements()
               << " elements) to " << shapeText(shape);
    return failure();
  }
  return ReshapeOp::create(im.builder(), im.loc(), t.clone(shape), x).getResult();
}

static LogicalResult reshapeTo(Importer &im, Value x, ArrayRef<int64_t> shape) {
  FailureOr<Value> r = buildReshape(im, x, shape);
  if (failed(r))
    return failure();
  return im.finish(r->getDefiningOp());
}

LogicalResult mlir::tfx::onnximport::convertReshape(Importer &im) {
  auto x = im.get(im.input(0));
  auto spec = im.constInts(1, "the target shape");
  if (failed(x) || failed(spec))
    return failure();
  RankedTensorType in = typeOfValue(*x);
  bool allowZero = im.intAttr("allowzero", 0) != 0;
  std::vector<int64_t> shape = *spec;
  int64_t known = 1, inferAt = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    // Without allowzero a 0 copies the input's dimension at that position.
    if (shape[i] == 0 && !allowZero) {
      if ((int64_t)i >= in.getRank()) {
        im.error() << "target shape entry 0 at position " << i
                   << " has no input dimension to copy (input " << in << ")";
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
    } else if (shape[i] != 0 && known > kMaxTensorElements / shape[i]) {
      im.error() << "the target shape " << shapeText(*spec)
                 << " has more than 2^40 elements";
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
  return reshapeTo(im, *x, shape);
}

LogicalResult mlir::tfx::onnximport::convertFlatten(Importer &im) {
  auto x = im.get(im.input(0));
  if (failed(x))
    return failure();
  RankedTensorType t = typeOfValue(*x);
  auto axis = im.axisAttr("axis", 1, t.getRank(), /*inclusive=*/true);
  if (failed(axis))
    return failure();
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < t.getRank(); ++i)
    (i < *axis ? outer : inner) *= t.getDimSize(i);
  return reshapeTo(im, *x, {outer, inner});
}

/// Axes of Squeeze/Unsqueeze/Reduce*: an attribute before opset `inputFrom`,
/// the optional second input from then on.
static FailureOr<std::optional<std::vector<int64_t>>> axesOf(Importer &im,
                                                             int64_t inputFrom) {
  if (im.opsetVersion() < inputFrom)
    return im.intsAttr("axes");
  if (im.attr("axes")) {
    im.error() << "'axes' is an input from opset " << inputFrom
               << ", not an attribute";
    return failure();
  }
  if (im.input(1).empty())
    return std::optional<std::vector<int64_t>>();
  auto axes = im.constInts(1, "axes");
  if (failed(axes))
    return failure();
  return std::optional<std::vector<int64_t>>(*axes);
}

/// Normalizes `axes` against `rank`; repeated axes are an error.
static FailureOr<std::vector<bool>> axisSet(Importer &im,
                                            const std::vector<int64_t> &axes,
                                            int64_t rank) {
  std::vector<bool> set(rank, false);
  for (int64_t a : axes) {
    auto n = im.axis(a, rank, "axes");
    if (failed(n))
      return failure();
    if (set[*n]) {
      im.error() << "axis " << a << " is repeated";
      return failure();
    }
    set[*n] = true;
  }
  return set;
}

FailureOr<std::vector<int64_t>>
mlir::tfx::onnximport::reduceAxes(Importer &im, int64_t inputFrom, int64_t rank,
                                  bool &noop) {
  auto axes = axesOf(im, inputFrom);
  if (failed(axes))
    return failure();
  noop = false;
  std::vector<int64_t> list;
  if (!*axes || (*axes)->empty()) {
    // No axes: all of them, unless noop_with_empty_axes (opset 18) asks for
    // the identity.
    noop = im.intAttr("noop_with_empty_axes", 0) != 0;
    for (int64_t i = 0; i < rank; ++i)
      list.push_back(i);
    return list;
  }
  auto set = axisSet(im, **axes, rank);
  if (failed(set))
    return failure();
  for (int64_t i = 0; i < rank; ++i)
    if ((*set)[i])
      list.push_back(i);
  return list;
}

LogicalResult mlir::tfx::onnximport::convertSqueeze(Importer &im) {
  auto x = im.get(im.input(0));
  auto axes = axesOf(im, 13);
  if (failed(x) || failed(axes))
    return failure();
  RankedTensorType t = typeOfValue(*x);
  std::vector<bool> drop(t.getRank(), false);
  if (*axes) {
    auto set = axisSet(im, **axes, t.getRank());
    if (failed(set))
      return failure();
    drop = *set;
    for (int64_t i = 0; i < t.getRank(); ++i)
      if (drop[i] && t.getDimSize(i) != 1) {
        im.error() << "cannot squeeze axis " << i << " of size "
                   << t.getDimSize(i) << " (input " << t << ")";
        return failure();
      }
  } else {
    for (int64_t i = 0; i < t.getRank(); ++i)
      drop[i] = t.getDimSize(i) == 1;
  }
  std::vector<int64_t> shape;
  for (int64_t i = 0; i < t.getRank(); ++i)
    if (!drop[i])
      shape.push_back(t.getDimSize(i));
  return reshapeTo(im, *x, shape);
}

LogicalResult mlir::tfx::onnximport::convertUnsqueeze(Importer &im) {
  auto x = im.get(im.input(0));
  auto axes = axesOf(im, 13);
  if (failed(x) || failed(axes))
    return failure();
  if (!*axes) {
    im.error() << "needs axes";
    return failure();
  }
  RankedTensorType t = typeOfValue(*x);
  int64_t rank = t.getRank() + (int64_t)(*axes)->size();
  auto inserted = axisSet(im, **axes, rank);
  if (failed(inserted))
    return failure();
  std::vector<int64_t> shape;
  int64_t src = 0;
  for (int64_t i = 0; i < rank; ++i)
    shape.push_back((*inserted)[i] ? 1 : t.getDimSize(src++));
  return reshapeTo(im, *x, shape);
}

LogicalResult mlir::tfx::onnximport::convertTranspose(Importer &im) {
  auto x = im.get(im.input(0));
  if (failed(x))
    return failure();
  int64_t rank = typeOfValue(*x).getRank();
  std::vector<int64_t> perm;
  if (auto p = im.intsAttr("perm"))
    perm = *p;
  else
    for (int64_t i = rank - 1; i >= 0; --i)
      perm.push_back(i);
  auto op = createInferred<TransposeOp>(im.builder(), im.loc(), *x, perm);
  return failed(op) ? failure() : im.finish(*op);
}

LogicalResult mlir::tfx::onnximport::convertExpand(Importer &im) {
  auto x = im.get(im.input(0));
  auto shape = im.constInts(1, "the target shape");
  if (failed(x) || failed(shape))
    return failure();
  RankedTensorType t = typeOfValue(*x);
  auto out = broadcastShapes(t.getShape(), *shape);
  if (failed(out) || llvm::any_of(*out, [](int64_t d) { return d < 0; })) {
    im.error() << "cannot expand " << t << " to the given shape";
    return failure();
  }
  auto op = ExpandOp::create(im.builder(), im.loc(), t.clone(*out), *x);
  return im.finish(op);
}

LogicalResult mlir::tfx::onnximport::convertConcat(Importer &im) {
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
  auto axis = im.axisAttr("axis", 0, typeOfValue(inputs[0]).getRank());
  if (failed(axis))
    return failure();
  auto op = createInferred<ConcatOp>(im.builder(), im.loc(), ValueRange(inputs), *axis);
  return failed(op) ? failure() : im.finish(*op);
}

template <typename OpT>
static LogicalResult gatherAlong(Importer &im) {
  auto data = im.get(im.input(0)), idx = im.get(im.input(1));
  if (failed(data) || failed(idx))
    return failure();
  auto axis = im.axisAttr("axis", 0, typeOfValue(*data).getRank());
  if (failed(axis))
    return failure();
  auto op = createInferred<OpT>(im.builder(), im.loc(), *data, *idx, *axis);
  return failed(op) ? failure() : im.finish(*op);
}

LogicalResult mlir::tfx::onnximport::convertGather(Importer &im) {
  return gatherAlong<GatherOp>(im);
}

LogicalResult mlir::tfx::onnximport::convertGatherElements(Importer &im) {
  return gatherAlong<GatherElementsOp>(im);
}

LogicalResult mlir::tfx::onnximport::convertGatherND(Importer &im) {
  auto data = im.get(im.input(0)), idx = im.get(im.input(1));
  if (failed(data) || failed(idx))
    return failure();
  auto op = createInferred<GatherNdOp>(im.builder(), im.loc(), *data, *idx,
                                       im.intAttr("batch_dims", 0));
  return failed(op) ? failure() : im.finish(*op);
}

LogicalResult mlir::tfx::onnximport::convertSlice(Importer &im) {
  auto x = im.get(im.input(0));
  if (failed(x))
    return failure();
  RankedTensorType t = typeOfValue(*x);
  int64_t rank = t.getRank();
  auto starts = im.constInts(1, "starts"), ends = im.constInts(2, "ends");
  if (failed(starts) || failed(ends))
    return failure();
  std::vector<int64_t> axes, steps;
  if (!im.input(3).empty()) {
    auto a = im.constInts(3, "axes");
    if (failed(a))
      return failure();
    axes = *a;
  } else {
    for (size_t i = 0; i < starts->size(); ++i)
      axes.push_back(i);
  }
  if (!im.input(4).empty()) {
    auto s = im.constInts(4, "steps");
    if (failed(s))
      return failure();
    steps = *s;
  } else {
    steps.assign(starts->size(), 1);
  }
  if (ends->size() != starts->size() || axes.size() != starts->size() ||
      steps.size() != starts->size()) {
    im.error() << "starts, ends, axes and steps differ in length";
    return failure();
  }
  if (failed(axisSet(im, axes, rank)))
    return failure();
  SmallVector<int64_t> offsets(rank, 0), sizes(t.getShape()), strides(rank, 1);
  for (size_t i = 0; i < starts->size(); ++i) {
    int64_t a = axes[i] < 0 ? axes[i] + rank : axes[i];
    int64_t dim = t.getDimSize(a), step = steps[i];
    if (step <= 0) {
      im.error() << "slice steps must be positive (got " << step
                 << " on axis " << a << ")";
      return failure();
    }
    // Negative positions count from the end; out-of-range ones clamp (the
    // exporters use INT64_MAX for "to the end").
    int64_t s = (*starts)[i], e = (*ends)[i];
    s = std::clamp<int64_t>(s < 0 ? s + dim : s, 0, dim);
    e = std::clamp<int64_t>(e < 0 ? e + dim : e, 0, dim);
    offsets[a] = s;
    strides[a] = step;
    sizes[a] = e > s ? (e - s + step - 1) / step : 0;
    if (sizes[a] == 0)
      offsets[a] = 0;
  }
  auto op = createInferred<SliceOp>(im.builder(), im.loc(), *x, offsets, sizes, strides);
  return failed(op) ? failure() : im.finish(*op);
}

LogicalResult mlir::tfx::onnximport::convertSplit(Importer &im) {
  auto x = im.get(im.input(0));
  if (failed(x))
    return failure();
  RankedTensorType t = typeOfValue(*x);
  auto axis = im.axisAttr("axis", 0, t.getRank());
  if (failed(axis))
    return failure();
  int64_t dim = t.getDimSize(*axis);
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
    // Equal parts, the last one smaller when the axis does not divide
    // (opset 18's num_outputs rule; before, it must divide).
    int64_t parts = im.intAttr("num_outputs", outputs);
    if (parts != outputs || parts <= 0) {
      im.error() << "num_outputs " << parts << " does not match the "
                 << outputs << " outputs";
      return failure();
    }
    int64_t chunk = (dim + parts - 1) / parts;
    for (int64_t i = 0; i < parts; ++i)
      sizes.push_back(std::clamp<int64_t>(dim - i * chunk, 0, chunk));
  }
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s < 0) {
      im.error() << "split sizes must be non-negative (got " << s << ")";
      return failure();
    }
    total += s;
  }
  if ((int)sizes.size() != outputs || total != dim) {
    im.error() << "split sizes (" << sizes.size() << " parts, " << total
               << " in all) do not cut axis " << *axis << " of size " << dim
               << " into the " << outputs << " outputs";
    return failure();
  }
  int64_t offset = 0;
  for (int i = 0; i < outputs; ++i) {
    SmallVector<int64_t> offsets(t.getRank(), 0), sz(t.getShape()),
        strides(t.getRank(), 1);
    offsets[*axis] = sizes[i] ? offset : 0;
    sz[*axis] = sizes[i];
    offset += sizes[i];
    auto op = createInferred<SliceOp>(im.builder(), im.loc(), *x, offsets, sz, strides);
    if (failed(op) || failed(im.finish(*op, im.node().output(i))))
      return failure();
  }
  return success();
}

//===--- operators that only produce known values --------------------------===//

LogicalResult mlir::tfx::onnximport::convertShape(Importer &im) {
  // Shapes are static, so Shape is known even for a runtime input.
  RankedTensorType t = im.typeOf(im.input(0));
  int64_t rank = t.getRank();
  auto clampAxis = [&](int64_t a) {
    return std::clamp<int64_t>(a < 0 ? a + rank : a, 0, rank);
  };
  int64_t start = clampAxis(im.intAttr("start", 0));
  int64_t end = std::max(start, clampAxis(im.intAttr("end", rank)));
  Tensor out = Tensor::ints({end - start});
  for (int64_t i = start; i < end; ++i)
    out.i[i - start] = t.getDimSize(i);
  im.setConstant(im.node().output(0), std::move(out));
  return success();
}

LogicalResult mlir::tfx::onnximport::convertSize(Importer &im) {
  Tensor out = Tensor::ints({});
  out.i[0] = im.typeOf(im.input(0)).getNumElements();
  im.setConstant(im.node().output(0), std::move(out));
  return success();
}

/// Folded tensors are held on the host: refuse sizes no model needs.
static constexpr int64_t kMaxFoldedElements = int64_t(1) << 28;

LogicalResult mlir::tfx::onnximport::convertConstantOfShape(Importer &im) {
  auto shape = im.constInts(0, "the shape");
  if (failed(shape))
    return failure();
  int64_t n = 1;
  for (int64_t d : *shape) {
    if (d < 0 || (d > 0 && n > kMaxFoldedElements / d)) {
      im.error() << "invalid or too large shape entry " << d;
      return failure();
    }
    n *= d;
  }
  Tensor value = Tensor::floats({1}, 0.0f);
  if (const onnx::AttributeProto *a = im.attr("value")) {
    auto t = decodeTensorProto(a->t(), im.modelDir(), "value");
    if (!t) {
      im.error() << llvm::toString(t.takeError());
      return failure();
    }
    if (t->numElements() != 1) {
      im.error() << "attribute 'value' must hold one element, not "
                 << t->numElements();
      return failure();
    }
    value = std::move(*t);
  }
  Tensor out = value.isFloat() ? Tensor::floats(*shape, value.f[0], value.dtype)
                               : Tensor::ints(*shape, value.i[0], value.dtype);
  im.setConstant(im.node().output(0), std::move(out));
  return success();
}

LogicalResult mlir::tfx::onnximport::convertRange(Importer &im) {
  const Tensor *s = im.constant(im.input(0)), *l = im.constant(im.input(1)),
               *d = im.constant(im.input(2));
  if (!s || !l || !d || s->numElements() != 1 || l->numElements() != 1 ||
      d->numElements() != 1) {
    im.error() << "start, limit and delta must be scalars known at import time";
    return failure();
  }
  if (s->isFloat() != l->isFloat() || s->isFloat() != d->isFloat()) {
    im.error() << "start, limit and delta must have one element type";
    return failure();
  }
  double start = s->at(0), limit = l->at(0), delta = d->at(0);
  if (delta == 0 || !std::isfinite(start) || !std::isfinite(limit) ||
      !std::isfinite(delta)) {
    im.error() << "delta must be non-zero and every operand finite";
    return failure();
  }
  double count = std::max(std::ceil((limit - start) / delta), 0.0);
  if (count > (double)kMaxFoldedElements) {
    im.error() << "the range has too many (" << count << ") elements";
    return failure();
  }
  int64_t n = (int64_t)count;
  Tensor out = s->isFloat() ? Tensor::floats({n}, 0.0f, s->dtype)
                            : Tensor::ints({n}, 0, s->dtype);
  for (int64_t k = 0; k < n; ++k) {
    // Element k is start + k * delta, as the ONNX reference computes it.
    if (out.isFloat())
      out.f[k] = s->f[0] + (float)k * d->f[0];
    else
      out.i[k] = s->i[0] + k * d->i[0];
  }
  im.setConstant(im.node().output(0), std::move(out));
  return success();
}

LogicalResult mlir::tfx::onnximport::convertConstant(Importer &im) {
  const onnx::NodeProto &node = im.node();
  if (node.attribute_size() != 1) {
    im.error() << "needs exactly one value attribute, has "
               << node.attribute_size();
    return failure();
  }
  const onnx::AttributeProto &a = node.attribute(0);
  Tensor t;
  if (a.name() == "value") {
    const onnx::TensorProto &proto = a.t();
    std::optional<DType> dt = dtypeFromONNX(proto.data_type());
    // Large float tensors are weights, read by the output's name; invalid
    // shapes go to the decoder, which names the problem.
    int64_t n = checkedElementCount(proto.dims());
    if (dt && isFloatDType(*dt) && n > kMaxInlineElements) {
      im.setWeight(node.output(0), node.output(0),
                   RankedTensorType::get(std::vector<int64_t>(proto.dims().begin(),
                                                              proto.dims().end()),
                                         im.builder().getF32Type()));
      return success();
    }
    auto decoded = decodeTensorProto(proto, im.modelDir(), node.output(0));
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
    im.error() << "attribute '" << a.name() << "' is not supported";
    return failure();
  }
  im.setConstant(node.output(0), std::move(t));
  return success();
}
