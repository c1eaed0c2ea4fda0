//===- RaiseActivations.cpp - GELU (erf and tanh forms) and SiLU ----------===//
//
// Each pattern anchors on the op that identifies the idiom (the erf, the
// tanh, the sigmoid) and checks every constant it relies on, so that a
// near miss (another constant, another input) is left as it is.
//
//===----------------------------------------------------------------------===//

#include "RaiseUtils.h"

#include <cmath>
#include <functional>

using namespace mlir;
using namespace mlir::tfx;
using namespace mlir::tfx::raise;

namespace {

/// Climbs the single-use products above `start` (a mul by the other factor,
/// or a division by 2) until the factors collected are exactly {x, 1/2}, in
/// any order or nesting. Returns the op that computes the whole product.
Operation *climbHalfX(Value start, Value x) {
  bool haveX = false, haveHalf = false;
  Value cur = start;
  std::function<bool(Value)> absorb = [&](Value f) -> bool {
    if (f == x && !haveX)
      return haveX = true;
    if (!haveHalf && isScalar(f, 0.5))
      return haveHalf = true;
    if (auto m = f.getDefiningOp<MulOp>())
      return absorb(m.getLhs()) && absorb(m.getRhs());
    if (auto d = f.getDefiningOp<DivOp>())
      if (!haveHalf && isScalar(d.getRhs(), 2.0)) {
        haveHalf = true;
        return absorb(d.getLhs());
      }
    return false;
  };
  while (!(haveX && haveHalf)) {
    Operation *user = singleUser(cur);
    if (auto mul = dyn_cast_or_null<MulOp>(user)) {
      if (!absorb(otherOperand(mul, cur)))
        return nullptr;
    } else if (auto div = dyn_cast_or_null<DivOp>(user)) {
      if (haveHalf || div.getLhs() != cur || !isScalar(div.getRhs(), 2.0))
        return nullptr;
      haveHalf = true;
    } else {
      return nullptr;
    }
    cur = user->getResult(0);
  }
  return cur.getDefiningOp();
}

/// The x of x / sqrt(2) or x * (1 / sqrt(2)).
Value matchOverSqrt2(Value v) {
  if (auto div = v.getDefiningOp<DivOp>())
    return isScalar(div.getRhs(), std::sqrt(2.0), 1e-5) ? div.getLhs() : Value();
  if (auto mul = v.getDefiningOp<MulOp>())
    for (Value s : {mul.getLhs(), mul.getRhs()})
      if (isScalar(s, 1.0 / std::sqrt(2.0), 1e-5))
        return otherOperand(mul, s);
  return Value();
}

/// 0.5 x (1 + erf(x / sqrt 2)) -> gelu(x) (erf form).
struct RaiseGeluErf : OpRewritePattern<ErfOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ErfOp op, PatternRewriter &rewriter) const override {
    Value x = matchOverSqrt2(op.getInput());
    auto add = dyn_cast_or_null<AddOp>(singleUser(op.getResult()));
    if (!x || !add || !isScalar(otherOperand(add, op.getResult()), 1.0))
      return failure();
    Operation *last = climbHalfX(add.getResult(), x);
    if (!last || last->getResult(0).getType() != x.getType())
      return failure();
    rewriter.replaceOpWithNewOp<GeluOp>(last, x, GeluApprox::erf);
    return success();
  }
};

/// x^3 as pow(x, 3), x*x*x or x*(x*x).
bool isCube(Value v, Value &x) {
  if (auto p = v.getDefiningOp<PowOp>())
    if (isScalar(p.getRhs(), 3.0)) {
      x = p.getLhs();
      return true;
    }
  if (auto m = v.getDefiningOp<MulOp>())
    for (Value s : {m.getLhs(), m.getRhs()})
      if (auto sq = s.getDefiningOp<MulOp>())
        if (sq.getLhs() == sq.getRhs() && otherOperand(m, s) == sq.getLhs()) {
          x = sq.getLhs();
          return true;
        }
  return false;
}

/// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) -> gelu(x) (tanh form).
struct RaiseGeluTanh : OpRewritePattern<TanhOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TanhOp op, PatternRewriter &rewriter) const override {
    auto scaled = op.getInput().getDefiningOp<MulOp>();
    if (!scaled)
      return failure();
    Value inner;
    for (Value s : {scaled.getLhs(), scaled.getRhs()})
      if (isScalar(s, std::sqrt(2.0 / M_PI), 1e-5))
        inner = otherOperand(scaled, s);
    auto sum = inner ? inner.getDefiningOp<AddOp>() : nullptr;
    if (!sum)
      return failure();
    Value x;
    for (Value s : {sum.getLhs(), sum.getRhs()}) {
      auto m = s.getDefiningOp<MulOp>();
      if (!m)
        continue;
      for (Value c : {m.getLhs(), m.getRhs()}) {
        Value cubed;
        if (isScalar(c, 0.044715, 1e-4) && isCube(otherOperand(m, c), cubed) &&
            otherOperand(sum, s) == cubed)
          x = cubed;
      }
    }
    auto add = dyn_cast_or_null<AddOp>(singleUser(op.getResult()));
    if (!x || !add || !isScalar(otherOperand(add, op.getResult()), 1.0))
      return failure();
    Operation *last = climbHalfX(add.getResult(), x);
    if (!last || last->getResult(0).getType() != x.getType())
      return failure();
    rewriter.replaceOpWithNewOp<GeluOp>(last, x, GeluApprox::tanh);
    return success();
  }
};

/// x * sigmoid(x) -> silu(x).
struct RaiseSilu : OpRewritePattern<MulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MulOp op, PatternRewriter &rewriter) const override {
    for (Value s : {op.getLhs(), op.getRhs()})
      if (auto sig = s.getDefiningOp<SigmoidOp>())
        if (otherOperand(op, s) == sig.getInput() && op.getType() == sig.getType()) {
          rewriter.replaceOpWithNewOp<SiluOp>(op, sig.getInput());
          return success();
        }
    return failure();
  }
};

} // namespace

void raise::populateRaiseActivationPatterns(RewritePatternSet &patterns) {
  patterns.add<RaiseGeluErf, RaiseGeluTanh, RaiseSilu>(patterns.getContext());
}
