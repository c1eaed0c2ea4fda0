//===- Evaluate.cpp - evaluate one op on host tensors ---------------------===//
//
// Maps each op of the tfx dialect (and arith.constant) onto its kernel in
// Kernels*.cpp. Kernels compute their result shape from the operands; it is
// checked against the op's static result type here, which catches both
// ill-typed IR and kernel bugs. Errors name the op and its location.
//
//===----------------------------------------------------------------------===//

#include "tfx/Interpreter/Interpreter.h"

#include "Kernels.h"
#include "tfx/Dialect/Tfx.h"
#include "tfx/Support/Quantize.h"
#include "tfx/Support/ResourceWeights.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/Location.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::tfx;
namespace k = mlir::tfx::kernels;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

std::string mlir::tfx::formatLocation(Location loc) {
  std::string s;
  llvm::raw_string_ostream os(s);
  if (auto file = dyn_cast<FileLineColLoc>(loc)) {
    os << file.getFilename().getValue() << ":" << file.getLine() << ":"
       << file.getColumn();
  } else if (auto name = dyn_cast<NameLoc>(loc)) {
    os << "'" << name.getName().getValue() << "'";
    if (!isa<UnknownLoc>(name.getChildLoc()))
      os << " (" << formatLocation(name.getChildLoc()) << ")";
  } else if (auto fused = dyn_cast<FusedLoc>(loc)) {
    llvm::interleave(
        fused.getLocations(), os,
        [&](Location part) { os << formatLocation(part); }, ", ");
  } else if (auto call = dyn_cast<CallSiteLoc>(loc)) {
    os << formatLocation(call.getCallee());
  } else if (isa<UnknownLoc>(loc)) {
    os << "unknown location";
  } else {
    os << loc;
  }
  return s;
}

//===----------------------------------------------------------------------===//
// Types and attributes
//===----------------------------------------------------------------------===//

DType mlir::tfx::dtypeOf(Type elementType) {
  if (elementType.isF16())
    return DType::F16;
  if (elementType.isBF16())
    return DType::BF16;
  if (elementType.isF64())
    return DType::F64;
  if (isa<FloatType>(elementType))
    return DType::F32; // f32 and anything narrower (f8) is held as f32
  if (auto intType = dyn_cast<IntegerType>(elementType)) {
    unsigned width = intType.getWidth();
    if (width == 1)
      return DType::Bool;
    if (width == 8)
      return intType.isUnsigned() ? DType::U8 : DType::I8;
    if (width <= 32)
      return DType::I32;
  }
  return DType::I64; // i64, index and wider integers
}

static std::string typeShapeString(RankedTensorType type) {
  std::string s = "[";
  for (auto [n, d] : llvm::enumerate(type.getShape()))
    s += (n ? "," : "") + (ShapedType::isDynamic(d) ? "?" : std::to_string(d));
  s += "] (";
  llvm::raw_string_ostream os(s);
  os << type.getElementType() << ")";
  return s;
}

llvm::Error mlir::tfx::checkTensorType(const Tensor &t, RankedTensorType type,
                                       llvm::StringRef what) {
  bool shapeOk = t.rank() == type.getRank();
  for (int64_t d = 0; shapeOk && d < t.rank(); ++d)
    shapeOk = type.isDynamicDim(d) || type.getDimSize(d) == t.shape[d];
  bool wantFloat = isa<FloatType>(type.getElementType());
  if (shapeOk && wantFloat == t.isFloat())
    return llvm::Error::success();
  return makeError(what + ": expected shape " + typeShapeString(type) +
                   ", got " + t.shapeString() + " (" + dtypeName(t.dtype) + ")");
}

llvm::Expected<Tensor> mlir::tfx::tensorFromAttr(Attribute attr) {
  auto elements = dyn_cast_if_present<ElementsAttr>(attr);
  if (!elements)
    return makeError("unsupported constant attribute kind");
  auto tensor = tensorFromElements(elements);
  if (tensor)
    tensor->dtype = dtypeOf(elements.getElementType());
  return tensor;
}

DenseElementsAttr mlir::tfx::attrFromTensor(const Tensor &t, RankedTensorType type) {
  if (!type.hasStaticShape() || type.getNumElements() != t.numElements())
    return {};
  Type elt = type.getElementType();
  int64_t count = t.numElements();
  if (auto floatType = dyn_cast<FloatType>(elt)) {
    if (elt.isF32() && t.isFloat())
      return DenseElementsAttr::get(type, llvm::ArrayRef<float>(t.f));
    SmallVector<llvm::APFloat> values;
    values.reserve(count);
    for (int64_t n = 0; n < count; ++n) {
      llvm::APFloat v((float)t.at(n));
      bool losesInfo;
      v.convert(floatType.getFloatSemantics(), llvm::APFloat::rmNearestTiesToEven,
                &losesInfo);
      values.push_back(v);
    }
    return DenseElementsAttr::get(type, values);
  }
  if (!elt.isIntOrIndex())
    return {};
  unsigned width = elt.isIndex() ? 64 : elt.getIntOrFloatBitWidth();
  SmallVector<llvm::APInt> values;
  values.reserve(count);
  for (int64_t n = 0; n < count; ++n) {
    int64_t v = t.isFloat() ? (int64_t)t.f[n] : t.i[n];
    values.push_back(width == 1 ? llvm::APInt(1, v != 0)
                                : llvm::APInt(width, (uint64_t)v, /*isSigned=*/true,
                                              /*implicitTrunc=*/true));
  }
  return DenseElementsAttr::get(type, values);
}

//===----------------------------------------------------------------------===//
// evaluateOp
//===----------------------------------------------------------------------===//

namespace {
/// Operands of the op being evaluated, by position.
struct Args {
  llvm::ArrayRef<const Tensor *> values;
  const Tensor &operator[](size_t n) const { return *values[n]; }
  /// The operand at `n` when the op's optional operand `v` is present.
  const Tensor *optional(Value v, size_t n) const {
    return v ? values[n] : nullptr;
  }
};
} // namespace

static llvm::Expected<Tensor> unaryOp(k::UnaryKind kind, const Args &args,
                                      DType type) {
  return k::unary(kind, args[0], type);
}

static llvm::Expected<Tensor> binaryOp(k::BinaryKind kind, const Args &args,
                                       DType type) {
  return k::binary(kind, args[0], args[1], type);
}

static std::vector<int64_t> staticShape(RankedTensorType type) {
  return std::vector<int64_t>(type.getShape().begin(), type.getShape().end());
}

static llvm::Expected<Tensor> dispatch(Operation *op, const Args &args,
                                       RankedTensorType resultType) {
  DType rt = dtypeOf(resultType.getElementType());
  using Result = llvm::Expected<Tensor>;
  return llvm::TypeSwitch<Operation *, Result>(op)
      .Case([&](arith::ConstantOp c) { return tensorFromAttr(c.getValue()); })
      .Case([&](EmbeddingOp) { return k::embedding(args[0], args[1]); })
      .Case([&](LinearOp o) {
        return k::linear(args[0], args[1], args.optional(o.getBias(), 2));
      })
      .Case([&](MatMulOp) { return k::matmul(args[0], args[1]); })
      .Case([&](DequantizeOp o) {
        return k::dequantize(args[0], args[1], (int64_t)o.getGroupSize());
      })
      .Case([&](QuantizeActivationsOp o) {
        quant::UniformQuantizedType type = o.getStaticType();
        if (!type)
          return k::quantizeActivations(args[0], (int64_t)o.getBits());
        ActivationQuant fixed{(float)type.getScale(), type.getZeroPoint(),
                              type.getStorageTypeMin(), type.getStorageTypeMax()};
        return k::quantizeActivations(args[0], (int64_t)o.getBits(), &fixed);
      })
      .Case([&](SparseCsrOp o) {
        auto shape = cast<RankedTensorType>(o.getType()).getShape();
        return k::sparseCsr(args[0], args[1], args[2], shape[0], shape[1]);
      })
      .Case([&](Sparse24Op) { return k::sparse24(args[0], args[1]); })
      .Case([&](AttentionOp o) {
        k::AttentionParams p;
        p.numHeads = (int64_t)o.getNumHeads();
        p.numKvHeads = (int64_t)o.getNumKvHeads();
        p.scale = o.getScale().convertToFloat();
        p.causal = o.getCausal();
        p.window = (int64_t)o.getWindow();
        p.globalTokens = (int64_t)o.getGlobalTokens();
        p.blockSize = (int64_t)o.getBlockSize();
        ArrayRef<bool> layout = o.getBlockLayout();
        p.blockLayout.assign(layout.begin(), layout.end());
        switch (o.getKind()) {
        case AttentionKind::softmax:
          p.formula = k::AttentionFormula::Softmax;
          break;
        case AttentionKind::linear_elu:
          p.formula = k::AttentionFormula::LinearElu;
          break;
        case AttentionKind::linear_relu:
          p.formula = k::AttentionFormula::LinearRelu;
          break;
        case AttentionKind::linear_random:
          p.formula = k::AttentionFormula::LinearRandom;
          break;
        }
        p.features = (int64_t)o.getFeatures();
        p.featureSeed = (uint64_t)o.getFeatureSeed();
        return k::attention(args[0], args[1], args[2],
                            args.optional(o.getMask(), 3), p);
      })
      .Case([&](PagedAttentionOp o) {
        k::PagedAttentionParams p;
        p.numHeads = (int64_t)o.getNumHeads();
        p.numKvHeads = (int64_t)o.getNumKvHeads();
        p.scale = o.getScale().convertToFloat();
        p.layer = (int64_t)o.getLayer();
        p.window = (int64_t)o.getWindow();
        return k::pagedAttention(args[0], args[1], args[2], args[3], args[4],
                                 args[5], args[6], p);
      })
      .Case([&](LayerNormOp o) {
        return k::layerNorm(args[0], args[1], args.optional(o.getBeta(), 2),
                            o.getEpsilon().convertToFloat());
      })
      .Case([&](RmsNormOp o) {
        return k::rmsNorm(args[0], args[1], o.getEpsilon().convertToFloat());
      })
      .Case([&](RopeOp o) {
        k::RopeParams p;
        p.numHeads = (int64_t)o.getNumHeads();
        p.rotaryDim = (int64_t)o.getRotaryDim();
        p.theta = o.getTheta().convertToDouble();
        p.interleaved = o.getLayout() == RopeLayout::interleaved;
        return k::rope(args[0], args.optional(o.getPositions(), 1), p);
      })
      .Case([&](SoftmaxOp o) { return k::softmax(args[0], o.getAxis()); })
      .Case([&](GeluOp o) -> Result {
        if (!args[0].isFloat())
          return makeError("gelu expects a float tensor");
        return k::gelu(args[0], o.getApproximate() == GeluApprox::tanh);
      })
      .Case([&](SiluOp) { return unaryOp(k::UnaryKind::Silu, args, rt); })
      .Case([&](ReluOp) { return unaryOp(k::UnaryKind::Relu, args, rt); })
      .Case([&](SigmoidOp) { return unaryOp(k::UnaryKind::Sigmoid, args, rt); })
      .Case([&](TanhOp) { return unaryOp(k::UnaryKind::Tanh, args, rt); })
      .Case([&](ErfOp) { return unaryOp(k::UnaryKind::Erf, args, rt); })
      .Case([&](ExpOp) { return unaryOp(k::UnaryKind::Exp, args, rt); })
      .Case([&](LogOp) { return unaryOp(k::UnaryKind::Log, args, rt); })
      .Case([&](SqrtOp) { return unaryOp(k::UnaryKind::Sqrt, args, rt); })
      .Case([&](RsqrtOp) { return unaryOp(k::UnaryKind::Rsqrt, args, rt); })
      .Case([&](ReciprocalOp) {
        return unaryOp(k::UnaryKind::Reciprocal, args, rt);
      })
      .Case([&](NegOp) { return unaryOp(k::UnaryKind::Neg, args, rt); })
      .Case([&](AbsOp) { return unaryOp(k::UnaryKind::Abs, args, rt); })
      .Case([&](CosOp) { return unaryOp(k::UnaryKind::Cos, args, rt); })
      .Case([&](SinOp) { return unaryOp(k::UnaryKind::Sin, args, rt); })
      .Case([&](NotOp) { return unaryOp(k::UnaryKind::Not, args, rt); })
      .Case([&](IsNanOp) { return unaryOp(k::UnaryKind::IsNan, args, rt); })
      .Case([&](AddOp) { return binaryOp(k::BinaryKind::Add, args, rt); })
      .Case([&](SubOp) { return binaryOp(k::BinaryKind::Sub, args, rt); })
      .Case([&](MulOp) { return binaryOp(k::BinaryKind::Mul, args, rt); })
      .Case([&](DivOp) { return binaryOp(k::BinaryKind::Div, args, rt); })
      .Case([&](PowOp) { return binaryOp(k::BinaryKind::Pow, args, rt); })
      .Case([&](MaxOp) { return binaryOp(k::BinaryKind::Max, args, rt); })
      .Case([&](MinOp) { return binaryOp(k::BinaryKind::Min, args, rt); })
      .Case([&](AndOp) { return binaryOp(k::BinaryKind::And, args, rt); })
      .Case([&](OrOp) { return binaryOp(k::BinaryKind::Or, args, rt); })
      .Case([&](EqualOp) { return binaryOp(k::BinaryKind::Equal, args, rt); })
      .Case([&](LessOp) { return binaryOp(k::BinaryKind::Less, args, rt); })
      .Case([&](LessEqualOp) {
        return binaryOp(k::BinaryKind::LessEqual, args, rt);
      })
      .Case([&](GreaterOp) { return binaryOp(k::BinaryKind::Greater, args, rt); })
      .Case([&](GreaterEqualOp) {
        return binaryOp(k::BinaryKind::GreaterEqual, args, rt);
      })
      .Case([&](WhereOp) { return k::where(args[0], args[1], args[2], rt); })
      .Case([&](CastOp) -> Result { return k::cast(args[0], rt); })
      .Case([&](ReshapeOp) -> Result {
        if (!resultType.hasStaticShape())
          return makeError("reshape needs a static result shape");
        return k::reshape(args[0], staticShape(resultType));
      })
      .Case([&](ExpandOp) -> Result {
        if (!resultType.hasStaticShape())
          return makeError("expand needs a static result shape");
        return k::expand(args[0], staticShape(resultType));
      })
      .Case([&](TransposeOp o) { return k::transpose(args[0], o.getPerm()); })
      .Case([&](SliceOp o) {
        return k::slice(args[0], o.getOffsets(), o.getSizes(), o.getStrides());
      })
      .Case([&](ConcatOp o) { return k::concat(args.values, o.getAxis(), rt); })
      .Case([&](GatherOp o) { return k::gather(args[0], args[1], o.getAxis()); })
      .Case([&](GatherElementsOp o) {
        return k::gatherElements(args[0], args[1], o.getAxis());
      })
      .Case([&](GatherNdOp o) {
        return k::gatherNd(args[0], args[1], (int64_t)o.getBatchDims());
      })
      .Case([&](ReduceOp o) -> Result {
        k::ReduceKind kind = k::ReduceKind::Sum;
        switch (o.getKind()) {
        case ReduceKind::sum: kind = k::ReduceKind::Sum; break;
        case ReduceKind::mean: kind = k::ReduceKind::Mean; break;
        case ReduceKind::max: kind = k::ReduceKind::Max; break;
        case ReduceKind::min: kind = k::ReduceKind::Min; break;
        }
        return k::reduce(args[0], kind, o.getAxes(), o.getKeepdims());
      })
      .Case([&](WeightOp) -> Result {
        return makeError("weights are loaded by runFunction, not evaluateOp");
      })
      .Default([&](Operation *) -> Result {
        return makeError("no interpreter kernel for this op");
      });
}

static llvm::Error opError(Operation *op, const llvm::Twine &message) {
  return makeError(formatLocation(op->getLoc()) + ": '" +
                   op->getName().getStringRef() + "': " + message);
}

llvm::Expected<Tensor> mlir::tfx::evaluateOpOn(Operation *op,
                                               llvm::ArrayRef<const Tensor *> operands) {
  if (op->getNumResults() != 1)
    return opError(op, "expected one result");
  if (operands.size() != op->getNumOperands())
    return opError(op, "got " + llvm::Twine(operands.size()) +
                           " operand values for " +
                           llvm::Twine(op->getNumOperands()) + " operands");
  auto resultType = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!resultType)
    return opError(op, "result is not a ranked tensor");
  auto result = dispatch(op, Args{operands}, resultType);
  if (!result)
    return opError(op, llvm::toString(result.takeError()));
  if (auto err = checkTensorType(*result, resultType, "result"))
    return opError(op, llvm::toString(std::move(err)));
  result->dtype = dtypeOf(resultType.getElementType());
  return result;
}

llvm::Expected<std::vector<Tensor>>
mlir::tfx::evaluateOp(Operation *op, const std::vector<Tensor> &operands) {
  std::vector<const Tensor *> pointers;
  for (const Tensor &t : operands)
    pointers.push_back(&t);
  auto result = evaluateOpOn(op, pointers);
  if (!result)
    return result.takeError();
  std::vector<Tensor> results;
  results.push_back(std::move(*result));
  return results;
}
