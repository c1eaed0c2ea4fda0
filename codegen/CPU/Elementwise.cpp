//===- Elementwise.cpp - scalar and vector math of tfx ops ----------------===//

#include "Elementwise.h"

#include "tfx/Dialect/Tfx.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tfx;

Type mlir::tfx::withElementType(Type type, Type element) {
  if (auto vector = dyn_cast<VectorType>(type))
    return vector.clone(element);
  return element;
}

Value mlir::tfx::constantOf(OpBuilder &b, Location loc, Type type, double value) {
  Type element = getElementTypeOrSelf(type);
  TypedAttr scalar;
  if (auto f = dyn_cast<FloatType>(element)) {
    APFloat v(value);
    bool lost;
    v.convert(f.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
    scalar = FloatAttr::get(f, v);
  } else {
    scalar = IntegerAttr::get(element, (int64_t)value);
  }
  if (auto vector = dyn_cast<VectorType>(type))
    return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(vector, scalar));
  return arith::ConstantOp::create(b, loc, scalar);
}

static bool isFloat(Value v) { return isa<FloatType>(getElementTypeOrSelf(v)); }
static bool isBool(Value v) { return getElementTypeOrSelf(v).isInteger(1); }

bool mlir::tfx::isElementwiseOp(Operation *op) {
  return isa<SiluOp, ReluOp, SigmoidOp, TanhOp, ErfOp, ExpOp, LogOp, SqrtOp,
             RsqrtOp, ReciprocalOp, NegOp, AbsOp, CosOp, SinOp, NotOp, IsNanOp,
             AddOp, SubOp, MulOp, DivOp, PowOp, MaxOp, MinOp, AndOp, OrOp,
             EqualOp, LessOp, LessEqualOp, GreaterOp, GreaterEqualOp, WhereOp,
             CastOp, GeluOp>(op);
}

Value mlir::tfx::emitGelu(OpBuilder &b, Location loc, Value x, bool tanhApprox) {
  Type t = x.getType();
  Value half = constantOf(b, loc, t, 0.5), one = constantOf(b, loc, t, 1.0);
  Value inner;
  if (tanhApprox) {
    // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    Value x3 = arith::MulFOp::create(b, loc, arith::MulFOp::create(b, loc, x, x), x);
    Value poly = arith::AddFOp::create(
        b, loc, x,
        arith::MulFOp::create(b, loc, constantOf(b, loc, t, 0.044715), x3));
    inner = math::TanhOp::create(
        b, loc,
        arith::MulFOp::create(b, loc,
                              constantOf(b, loc, t, 0.79788456080286535588), poly));
  } else {
    // 0.5 x (1 + erf(x / sqrt 2))
    inner = math::ErfOp::create(
        b, loc,
        arith::MulFOp::create(b, loc, x,
                              constantOf(b, loc, t, 0.70710678118654752440)));
  }
  Value halfX = arith::MulFOp::create(b, loc, half, x);
  return arith::MulFOp::create(b, loc, halfX,
                               arith::AddFOp::create(b, loc, one, inner));
}

/// float -> integer as the interpreter does it: truncation toward zero, NaN
/// to 0, saturation at the int64 range, then wrap-around to the width.
static Value floatToInt(OpBuilder &b, Location loc, Value x, Type to) {
  Type ft = x.getType(), i64 = withElementType(ft, b.getI64Type());
  Value limit = constantOf(b, loc, ft, 9.2233720368547758e18);
  Value negLimit = constantOf(b, loc, ft, -9.2233720368547758e18);
  Value zero = constantOf(b, loc, ft, 0.0);
  Value isNan = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, x, x);
  Value tooBig = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGE, x, limit);
  Value tooSmall =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLE, x, negLimit);
  // Keep fptosi's operand in range so that it is never poison.
  Value safe = arith::SelectOp::create(
      b, loc, arith::OrIOp::create(b, loc, arith::OrIOp::create(b, loc, isNan, tooBig), tooSmall),
      zero, x);
  Value v = arith::FPToSIOp::create(b, loc, i64, safe);
  // The int64 extremes do not round-trip through double: build them as bits.
  auto extreme = [&](int64_t value) {
    Attribute a = b.getI64IntegerAttr(value);
    if (auto vt = dyn_cast<VectorType>(i64))
      return (Value)arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(vt, cast<TypedAttr>(a)));
    return (Value)arith::ConstantOp::create(b, loc, cast<TypedAttr>(a));
  };
  v = arith::SelectOp::create(b, loc, tooBig, extreme(INT64_MAX), v);
  v = arith::SelectOp::create(b, loc, tooSmall, extreme(INT64_MIN), v);
  Type target = withElementType(ft, to);
  if (to.getIntOrFloatBitWidth() < 64)
    return arith::TruncIOp::create(b, loc, target, v);
  return v;
}

Value mlir::tfx::emitCast(OpBuilder &b, Location loc, Value from, Type to) {
  Type source = getElementTypeOrSelf(from);
  Type target = withElementType(from.getType(), to);
  if (source == to)
    return from;
  if (auto toFloat = dyn_cast<FloatType>(to)) {
    if (auto fromFloat = dyn_cast<FloatType>(source))
      return fromFloat.getWidth() < toFloat.getWidth()
                 ? (Value)arith::ExtFOp::create(b, loc, target, from)
                 : (Value)arith::TruncFOp::create(b, loc, target, from);
    if (source.isInteger(1))
      return arith::UIToFPOp::create(b, loc, target, from);
    return arith::SIToFPOp::create(b, loc, target, from);
  }
  if (to.isInteger(1)) {
    if (isa<FloatType>(source))
      // NaN != 0 is true, as in C.
      return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, from,
                                   constantOf(b, loc, from.getType(), 0.0));
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, from,
                                 constantOf(b, loc, from.getType(), 0));
  }
  if (isa<FloatType>(source))
    return floatToInt(b, loc, from, to);
  unsigned fromWidth = source.getIntOrFloatBitWidth();
  unsigned toWidth = to.getIntOrFloatBitWidth();
  if (fromWidth == 1)
    return arith::ExtUIOp::create(b, loc, target, from);
  if (fromWidth < toWidth)
    return arith::ExtSIOp::create(b, loc, target, from);
  return arith::TruncIOp::create(b, loc, target, from);
}

static Value emitUnaryFloat(OpBuilder &b, Location loc, Operation *op, Value x) {
  Type t = x.getType();
  auto one = [&] { return constantOf(b, loc, t, 1.0); };
  auto sigmoidDenominator = [&] {
    // 1 + exp(-x)
    return arith::AddFOp::create(
        b, loc, one(), math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x)));
  };
  return llvm::TypeSwitch<Operation *, Value>(op)
      .Case([&](SiluOp) {
        return arith::DivFOp::create(b, loc, x, sigmoidDenominator());
      })
      .Case([&](ReluOp) {
        Value zero = constantOf(b, loc, t, 0.0);
        Value positive =
            arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, x, zero);
        return arith::SelectOp::create(b, loc, positive, x, zero);
      })
      .Case([&](SigmoidOp) {
        return arith::DivFOp::create(b, loc, one(), sigmoidDenominator());
      })
      .Case([&](TanhOp) { return math::TanhOp::create(b, loc, x); })
      .Case([&](ErfOp) { return math::ErfOp::create(b, loc, x); })
      .Case([&](ExpOp) { return math::ExpOp::create(b, loc, x); })
      .Case([&](LogOp) { return math::LogOp::create(b, loc, x); })
      .Case([&](SqrtOp) { return math::SqrtOp::create(b, loc, x); })
      .Case([&](RsqrtOp) {
        return arith::DivFOp::create(b, loc, one(), math::SqrtOp::create(b, loc, x));
      })
      .Case([&](ReciprocalOp) { return arith::DivFOp::create(b, loc, one(), x); })
      .Case([&](NegOp) { return arith::NegFOp::create(b, loc, x); })
      .Case([&](AbsOp) { return math::AbsFOp::create(b, loc, x); })
      .Case([&](CosOp) { return math::CosOp::create(b, loc, x); })
      .Case([&](SinOp) { return math::SinOp::create(b, loc, x); })
      .Case([&](GeluOp o) {
        return emitGelu(b, loc, x, o.getApproximate() == GeluApprox::tanh);
      })
      .Default([](Operation *) { return Value(); });
}

static Value emitUnaryInt(OpBuilder &b, Location loc, Operation *op, Value x) {
  Type t = x.getType();
  Value zero = constantOf(b, loc, t, 0);
  return llvm::TypeSwitch<Operation *, Value>(op)
      .Case([&](ReluOp) { return arith::MaxSIOp::create(b, loc, x, zero); })
      .Case([&](NegOp) { return arith::SubIOp::create(b, loc, zero, x); })
      .Case([&](AbsOp) { return math::AbsIOp::create(b, loc, x); })
      .Case([&](NotOp) -> Value {
        Value isZero =
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, x, zero);
        if (isBool(x))
          return isZero;
        return arith::ExtUIOp::create(b, loc, t, isZero);
      })
      .Default([](Operation *) { return Value(); });
}

static Value emitBinaryFloat(OpBuilder &b, Location loc, Operation *op, Value l,
                             Value r) {
  using P = arith::CmpFPredicate;
  auto cmp = [&](P p) { return (Value)arith::CmpFOp::create(b, loc, p, l, r); };
  return llvm::TypeSwitch<Operation *, Value>(op)
      .Case([&](AddOp) { return arith::AddFOp::create(b, loc, l, r); })
      .Case([&](SubOp) { return arith::SubFOp::create(b, loc, l, r); })
      .Case([&](MulOp) { return arith::MulFOp::create(b, loc, l, r); })
      .Case([&](DivOp) { return arith::DivFOp::create(b, loc, l, r); })
      .Case([&](PowOp) { return math::PowFOp::create(b, loc, l, r); })
      // numpy maximum/minimum propagate NaN, as maximumf/minimumf do.
      .Case([&](MaxOp) { return arith::MaximumFOp::create(b, loc, l, r); })
      .Case([&](MinOp) { return arith::MinimumFOp::create(b, loc, l, r); })
      .Case([&](EqualOp) { return cmp(P::OEQ); })
      .Case([&](LessOp) { return cmp(P::OLT); })
      .Case([&](LessEqualOp) { return cmp(P::OLE); })
      .Case([&](GreaterOp) { return cmp(P::OGT); })
      .Case([&](GreaterEqualOp) { return cmp(P::OGE); })
      .Default([](Operation *) { return Value(); });
}

/// Integer division as the interpreter does it, without the traps of x86's
/// idiv: x / 0 gives 0 (the interpreter reports an error) and
/// INT_MIN / -1 wraps to INT_MIN.
static Value safeDivide(OpBuilder &b, Location loc, Value l, Value r) {
  Type t = l.getType();
  Value zero = constantOf(b, loc, t, 0), one = constantOf(b, loc, t, 1);
  Value minusOne = constantOf(b, loc, t, -1);
  Value isZero = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, r, zero);
  Value isMinusOne =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, r, minusOne);
  Value divisor = arith::SelectOp::create(
      b, loc, arith::OrIOp::create(b, loc, isZero, isMinusOne), one, r);
  Value quotient = arith::DivSIOp::create(b, loc, l, divisor);
  quotient = arith::SelectOp::create(b, loc, isMinusOne,
                                     arith::SubIOp::create(b, loc, zero, l), quotient);
  return arith::SelectOp::create(b, loc, isZero, zero, quotient);
}

static Value emitBinaryInt(OpBuilder &b, Location loc, Operation *op, Value l,
                           Value r) {
  using P = arith::CmpIPredicate;
  bool boolean = isBool(l);
  auto cmp = [&](P p) { return (Value)arith::CmpIOp::create(b, loc, p, l, r); };
  return llvm::TypeSwitch<Operation *, Value>(op)
      .Case([&](AddOp) { return arith::AddIOp::create(b, loc, l, r); })
      .Case([&](SubOp) { return arith::SubIOp::create(b, loc, l, r); })
      .Case([&](MulOp) { return arith::MulIOp::create(b, loc, l, r); })
      .Case([&](DivOp) { return safeDivide(b, loc, l, r); })
      .Case([&](MaxOp) -> Value {
        if (boolean)
          return arith::OrIOp::create(b, loc, l, r);
        return arith::MaxSIOp::create(b, loc, l, r);
      })
      .Case([&](MinOp) -> Value {
        if (boolean)
          return arith::AndIOp::create(b, loc, l, r);
        return arith::MinSIOp::create(b, loc, l, r);
      })
      .Case([&](AndOp) { return arith::AndIOp::create(b, loc, l, r); })
      .Case([&](OrOp) { return arith::OrIOp::create(b, loc, l, r); })
      .Case([&](EqualOp) { return cmp(P::eq); })
      // i1 holds 0/1 (true is -1 as a signed i1): compare it unsigned.
      .Case([&](LessOp) { return cmp(boolean ? P::ult : P::slt); })
      .Case([&](LessEqualOp) { return cmp(boolean ? P::ule : P::sle); })
      .Case([&](GreaterOp) { return cmp(boolean ? P::ugt : P::sgt); })
      .Case([&](GreaterEqualOp) { return cmp(boolean ? P::uge : P::sge); })
      .Default([](Operation *) { return Value(); });
}

FailureOr<Value> mlir::tfx::emitElementwise(OpBuilder &b, Location loc,
                                            Operation *op, ValueRange args) {
  Value result;
  if (auto cast = dyn_cast<CastOp>(op)) {
    result = emitCast(b, loc, args[0],
                      getElementTypeOrSelf(cast.getResult().getType()));
  } else if (isa<IsNanOp>(op)) {
    result = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, args[0],
                                   args[0]);
  } else if (isa<WhereOp>(op)) {
    result = arith::SelectOp::create(b, loc, args[0], args[1], args[2]);
  } else if (args.size() == 1) {
    result = isFloat(args[0]) ? emitUnaryFloat(b, loc, op, args[0])
                              : emitUnaryInt(b, loc, op, args[0]);
  } else if (args.size() == 2) {
    if (isFloat(args[0]) != isFloat(args[1]))
      return op->emitError("operand element types differ");
    result = isFloat(args[0]) ? emitBinaryFloat(b, loc, op, args[0], args[1])
                              : emitBinaryInt(b, loc, op, args[0], args[1]);
  }
  if (!result)
    return op->emitError("no CPU lowering of '")
           << op->getName() << "' for element type "
           << getElementTypeOrSelf(args[0].getType());
  return result;
}
