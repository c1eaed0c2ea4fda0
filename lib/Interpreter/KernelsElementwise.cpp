//===- KernelsElementwise.cpp - unary, binary, where, cast ----------------===//
//
// Elementwise math follows ONNX/numpy: float ops are computed in f32 (what
// the exported graph computes), integer ops in int64 with wrap-around rather
// than undefined behaviour on overflow.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/Twine.h"

#include <cmath>
#include <cstring>
#include <limits>

using namespace mlir::tfx;
using namespace mlir::tfx::kernels;

llvm::Error kernels::kernelError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

static std::string shapeStr(const Shape &s) {
  Tensor t;
  t.shape = s;
  return t.shapeString();
}

llvm::Expected<Shape> kernels::broadcast(const Shape &a, const Shape &b) {
  size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t d = 0; d < rank; ++d) {
    int64_t da = d < rank - a.size() ? 1 : a[d - (rank - a.size())];
    int64_t db = d < rank - b.size() ? 1 : b[d - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      return kernelError("shapes " + shapeStr(a) + " and " + shapeStr(b) +
                         " do not broadcast");
    out[d] = da == 1 ? db : da;
  }
  return out;
}

//===----------------------------------------------------------------------===//
// Unary
//===----------------------------------------------------------------------===//

static const char *unaryName(UnaryKind kind) {
  switch (kind) {
  case UnaryKind::Silu: return "silu";
  case UnaryKind::Relu: return "relu";
  case UnaryKind::Sigmoid: return "sigmoid";
  case UnaryKind::Tanh: return "tanh";
  case UnaryKind::Erf: return "erf";
  case UnaryKind::Exp: return "exp";
  case UnaryKind::Log: return "log";
  case UnaryKind::Sqrt: return "sqrt";
  case UnaryKind::Rsqrt: return "rsqrt";
  case UnaryKind::Reciprocal: return "reciprocal";
  case UnaryKind::Neg: return "neg";
  case UnaryKind::Abs: return "abs";
  case UnaryKind::Cos: return "cos";
  case UnaryKind::Sin: return "sin";
  case UnaryKind::Not: return "not";
  case UnaryKind::IsNan: return "is_nan";
  }
  return "?";
}

static float unaryFloat(UnaryKind kind, float x) {
  switch (kind) {
  case UnaryKind::Silu: return x / (1.0f + std::exp(-x));
  case UnaryKind::Relu: return x > 0.0f ? x : 0.0f;
  case UnaryKind::Sigmoid: return 1.0f / (1.0f + std::exp(-x));
  case UnaryKind::Tanh: return std::tanh(x);
  case UnaryKind::Erf: return std::erf(x);
  case UnaryKind::Exp: return std::exp(x);
  case UnaryKind::Log: return std::log(x);
  case UnaryKind::Sqrt: return std::sqrt(x);
  case UnaryKind::Rsqrt: return 1.0f / std::sqrt(x);
  case UnaryKind::Reciprocal: return 1.0f / x;
  case UnaryKind::Neg: return -x;
  case UnaryKind::Abs: return std::fabs(x);
  case UnaryKind::Cos: return std::cos(x);
  case UnaryKind::Sin: return std::sin(x);
  case UnaryKind::Not:
  case UnaryKind::IsNan: break;
  }
  return x;
}

llvm::Expected<Tensor> kernels::unary(UnaryKind kind, const Tensor &x,
                                      DType resultType) {
  if (kind == UnaryKind::IsNan) {
    if (!x.isFloat())
      return kernelError("is_nan expects a float tensor");
    Tensor out = Tensor::ints(x.shape, 0, DType::Bool);
    for (size_t k = 0; k < x.f.size(); ++k)
      out.i[k] = std::isnan(x.f[k]) ? 1 : 0;
    return out;
  }
  if (x.isFloat()) {
    if (kind == UnaryKind::Not)
      return kernelError("not expects an i1 tensor, got a float tensor");
    Tensor out = Tensor::floats(x.shape, 0.0f, resultType);
    for (size_t k = 0; k < x.f.size(); ++k)
      out.f[k] = unaryFloat(kind, x.f[k]);
    return out;
  }
  Tensor out = Tensor::ints(x.shape, 0, resultType);
  for (size_t k = 0; k < x.i.size(); ++k) {
    int64_t v = x.i[k];
    switch (kind) {
    case UnaryKind::Relu: out.i[k] = v > 0 ? v : 0; break;
    case UnaryKind::Neg: out.i[k] = (int64_t)(0 - (uint64_t)v); break;
    case UnaryKind::Abs: out.i[k] = v < 0 ? (int64_t)(0 - (uint64_t)v) : v; break;
    case UnaryKind::Not: out.i[k] = v == 0 ? 1 : 0; break;
    default:
      return kernelError(llvm::Twine(unaryName(kind)) +
                         " expects a float tensor, got " + dtypeName(x.dtype));
    }
  }
  return out;
}

Tensor kernels::gelu(const Tensor &x, bool tanhApprox) {
  Tensor out = Tensor::floats(x.shape, 0.0f, x.dtype);
  const double invSqrt2 = 0.70710678118654752440;
  const double sqrt2OverPi = 0.79788456080286535588;
  for (size_t k = 0; k < x.f.size(); ++k) {
    double v = x.f[k];
    double g = tanhApprox
                   ? 0.5 * v * (1.0 + std::tanh(sqrt2OverPi * (v + 0.044715 * v * v * v)))
                   : 0.5 * v * (1.0 + std::erf(v * invSqrt2));
    out.f[k] = (float)g;
  }
  return out;
}

//===----------------------------------------------------------------------===//
// Binary
//===----------------------------------------------------------------------===//

static bool isComparison(BinaryKind kind) {
  return kind == BinaryKind::Equal || kind == BinaryKind::Less ||
         kind == BinaryKind::LessEqual || kind == BinaryKind::Greater ||
         kind == BinaryKind::GreaterEqual;
}

template <typename T> static bool compare(BinaryKind kind, T a, T b) {
  switch (kind) {
  case BinaryKind::Equal: return a == b;
  case BinaryKind::Less: return a < b;
  case BinaryKind::LessEqual: return a <= b;
  case BinaryKind::Greater: return a > b;
  case BinaryKind::GreaterEqual: return a >= b;
  default: return false;
  }
}

static float binaryFloat(BinaryKind kind, float a, float b) {
  switch (kind) {
  case BinaryKind::Add: return a + b;
  case BinaryKind::Sub: return a - b;
  case BinaryKind::Mul: return a * b;
  case BinaryKind::Div: return a / b;
  case BinaryKind::Pow: return std::pow(a, b);
  // numpy maximum/minimum propagate NaN.
  case BinaryKind::Max: return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b);
  case BinaryKind::Min: return std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b);
  default: return 0.0f;
  }
}

static int64_t intPow(int64_t base, int64_t exponent) {
  if (exponent < 0) // Truncated 1 / base^|e|.
    return base == 1 ? 1 : base == -1 ? (exponent % 2 ? -1 : 1) : 0;
  uint64_t result = 1, b = (uint64_t)base;
  for (; exponent; exponent >>= 1, b *= b)
    if (exponent & 1)
      result *= b;
  return (int64_t)result;
}

/// Division by zero is checked by the caller.
static int64_t binaryInt(BinaryKind kind, int64_t a, int64_t b) {
  switch (kind) {
  case BinaryKind::Add: return (int64_t)((uint64_t)a + (uint64_t)b);
  case BinaryKind::Sub: return (int64_t)((uint64_t)a - (uint64_t)b);
  case BinaryKind::Mul: return (int64_t)((uint64_t)a * (uint64_t)b);
  case BinaryKind::Div:
    if (a == std::numeric_limits<int64_t>::min() && b == -1)
      return a;
    return a / b;
  case BinaryKind::Pow: return intPow(a, b);
  case BinaryKind::Max: return std::max(a, b);
  case BinaryKind::Min: return std::min(a, b);
  case BinaryKind::And: return (a != 0 && b != 0) ? 1 : 0;
  case BinaryKind::Or: return (a != 0 || b != 0) ? 1 : 0;
  default: return compare(kind, a, b) ? 1 : 0;
  }
}

llvm::Expected<Tensor> kernels::binary(BinaryKind kind, const Tensor &a,
                                       const Tensor &b, DType resultType) {
  if (a.isFloat() != b.isFloat())
    return kernelError(llvm::Twine("operand element types differ (") +
                       dtypeName(a.dtype) + " vs " + dtypeName(b.dtype) + ")");
  if (a.isFloat() && (kind == BinaryKind::And || kind == BinaryKind::Or))
    return kernelError("logical and/or expect i1 tensors, got float tensors");
  auto shape = broadcast(a.shape, b.shape);
  if (!shape)
    return shape.takeError();
  Shape ins[2] = {a.shape, b.shape};
  bool cmp = isComparison(kind);
  if (a.isFloat() && !cmp) {
    Tensor out = Tensor::floats(*shape, 0.0f, resultType);
    forEachBroadcast(*shape, ins, [&](int64_t o, const int64_t *idx) {
      out.f[o] = binaryFloat(kind, a.f[idx[0]], b.f[idx[1]]);
    });
    return out;
  }
  Tensor out = Tensor::ints(*shape, 0, cmp ? DType::Bool : resultType);
  if (a.isFloat()) {
    forEachBroadcast(*shape, ins, [&](int64_t o, const int64_t *idx) {
      out.i[o] = compare(kind, a.f[idx[0]], b.f[idx[1]]) ? 1 : 0;
    });
    return out;
  }
  bool divByZero = false;
  forEachBroadcast(*shape, ins, [&](int64_t o, const int64_t *idx) {
    int64_t lhs = a.i[idx[0]], rhs = b.i[idx[1]];
    if (kind == BinaryKind::Div && rhs == 0) {
      divByZero = true;
      return;
    }
    out.i[o] = binaryInt(kind, lhs, rhs);
  });
  if (divByZero)
    return kernelError("integer division by zero");
  return out;
}

llvm::Expected<Tensor> kernels::where(const Tensor &cond, const Tensor &onTrue,
                                      const Tensor &onFalse, DType resultType) {
  if (cond.isFloat())
    return kernelError("where condition must be i1, got a float tensor");
  if (onTrue.isFloat() != onFalse.isFloat())
    return kernelError(llvm::Twine("where branches differ in element type (") +
                       dtypeName(onTrue.dtype) + " vs " +
                       dtypeName(onFalse.dtype) + ")");
  auto branches = broadcast(onTrue.shape, onFalse.shape);
  if (!branches)
    return branches.takeError();
  auto shape = broadcast(cond.shape, *branches);
  if (!shape)
    return shape.takeError();
  Shape ins[3] = {cond.shape, onTrue.shape, onFalse.shape};
  Tensor out;
  out.dtype = resultType;
  out.shape = *shape;
  if (onTrue.isFloat()) {
    out.f.resize(out.numElements());
    forEachBroadcast(*shape, ins, [&](int64_t o, const int64_t *idx) {
      out.f[o] = cond.i[idx[0]] ? onTrue.f[idx[1]] : onFalse.f[idx[2]];
    });
  } else {
    out.i.resize(out.numElements());
    forEachBroadcast(*shape, ins, [&](int64_t o, const int64_t *idx) {
      out.i[o] = cond.i[idx[0]] ? onTrue.i[idx[1]] : onFalse.i[idx[2]];
    });
  }
  return out;
}

//===----------------------------------------------------------------------===//
// Cast
//===----------------------------------------------------------------------===//

static float roundFloat(float v, DType to) {
  if (to == DType::BF16) {
    if (std::isnan(v))
      return v;
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    bits += 0x7FFF + ((bits >> 16) & 1); // round to nearest even
    bits &= 0xFFFF0000u;
    std::memcpy(&v, &bits, 4);
    return v;
  }
  if (to == DType::F16) {
    llvm::APFloat value(v);
    bool losesInfo;
    value.convert(llvm::APFloat::IEEEhalf(), llvm::APFloat::rmNearestTiesToEven,
                  &losesInfo);
    return value.convertToFloat();
  }
  return v;
}

/// Wraps an int64 value to the width of an integer dtype (two's complement).
static int64_t wrapInt(int64_t v, DType to) {
  switch (to) {
  case DType::I32: return (int32_t)(uint32_t)(uint64_t)v;
  case DType::I8: return (int8_t)(uint8_t)(uint64_t)v;
  case DType::U8: return (uint8_t)(uint64_t)v;
  case DType::Bool: return v != 0 ? 1 : 0;
  default: return v;
  }
}

static int64_t truncToInt(float v) {
  if (std::isnan(v))
    return 0;
  double d = std::trunc((double)v);
  if (d >= 9.2233720368547758e18)
    return std::numeric_limits<int64_t>::max();
  if (d <= -9.2233720368547758e18)
    return std::numeric_limits<int64_t>::min();
  return (int64_t)d;
}

Tensor kernels::cast(const Tensor &x, DType to) {
  Tensor out;
  out.dtype = to;
  out.shape = x.shape;
  if (isFloatDType(to)) {
    out.f.resize(x.numElements());
    for (size_t k = 0; k < out.f.size(); ++k)
      out.f[k] = roundFloat(x.isFloat() ? x.f[k] : (float)x.i[k], to);
    return out;
  }
  out.i.resize(x.numElements());
  for (size_t k = 0; k < out.i.size(); ++k) {
    if (x.isFloat())
      out.i[k] = to == DType::Bool ? (x.f[k] != 0.0f ? 1 : 0)
                                   : wrapInt(truncToInt(x.f[k]), to);
    else
      out.i[k] = wrapInt(x.i[k], to);
  }
  return out;
}
