//===- RaiseNorms.cpp - decomposed RMS and layer norms -> tfx ops ---------===//
//
// Both anchor on the mean of a square over the last axis. The division by
// the root appears in every form exporters write: x / sqrt(v + eps),
// x * reciprocal(sqrt(v + eps)), x * (1 / sqrt(v + eps)) and
// x * rsqrt(v + eps).
//
//===----------------------------------------------------------------------===//

#include "RaiseUtils.h"

using namespace mlir;
using namespace mlir::tfx;
using namespace mlir::tfx::raise;

namespace {

bool isLastAxisMean(ReduceOp r) {
  auto t = r.getInput().getType();
  return r.getKind() == ReduceKind::mean && r.getKeepdims() &&
         r.getAxes() == ArrayRef<int64_t>{t.getRank() - 1};
}

bool isSquareOf(Value v, Value &x) {
  if (auto p = v.getDefiningOp<PowOp>())
    if (isScalar(p.getRhs(), 2.0)) {
      x = p.getLhs();
      return true;
    }
  if (auto m = v.getDefiningOp<MulOp>())
    if (m.getLhs() == m.getRhs()) {
      x = m.getLhs();
      return true;
    }
  return false;
}

/// `mean + eps` with a scalar constant eps >= 0: returns (sum, eps).
std::optional<std::pair<Value, double>> matchPlusEps(ReduceOp mean) {
  auto add = dyn_cast_or_null<AddOp>(singleUser(mean.getResult()));
  if (!add)
    return std::nullopt;
  std::optional<double> eps = scalarValue(otherOperand(add, mean.getResult()));
  if (!eps || *eps < 0.0)
    return std::nullopt;
  return std::make_pair(add.getResult(), *eps);
}

/// From `sum` = v + eps, finds n = x / sqrt(sum) in its forms and returns n.
Value findNormalized(Value sum, Value x) {
  Operation *user = singleUser(sum);
  Value inverse; // 1 / sqrt(sum)
  if (auto rsqrt = dyn_cast_or_null<RsqrtOp>(user)) {
    inverse = rsqrt.getResult();
  } else if (auto root = dyn_cast_or_null<SqrtOp>(user)) {
    Value d = root.getResult();
    for (Operation *u : d.getUsers()) {
      if (auto div = dyn_cast<DivOp>(u); div && div.getRhs() == d) {
        if (div.getLhs() == x)
          return div.getResult();
        if (isScalar(div.getLhs(), 1.0))
          inverse = div.getResult();
      } else if (auto rec = dyn_cast<ReciprocalOp>(u)) {
        inverse = rec.getResult();
      }
    }
  }
  if (!inverse)
    return Value();
  for (Operation *u : inverse.getUsers())
    if (auto mul = dyn_cast<MulOp>(u); mul && otherOperand(mul, inverse) == x)
      return mul.getResult();
  return Value();
}

/// A [width] constant operand of a scaling mul or shifting add of `n`.
Value affineParam(Operation *op, Value n, int64_t width) {
  Value p = otherOperand(op, n);
  auto pt = cast<RankedTensorType>(p.getType());
  if (!isConstantLike(p) || pt.getRank() != 1 || pt.getDimSize(0) != width)
    return Value();
  return p;
}

/// gamma * (x / sqrt(mean(x^2) + eps)) -> rms_norm(x, gamma).
struct RaiseRmsNorm : OpRewritePattern<ReduceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReduceOp op, PatternRewriter &rewriter) const override {
    Value x;
    if (!isLastAxisMean(op) || !isSquareOf(op.getInput(), x))
      return failure();
    // x - mean(x) is a layer norm's centering: leave it to RaiseLayerNorm.
    if (auto sub = x.getDefiningOp<SubOp>())
      if (auto m = sub.getRhs().getDefiningOp<ReduceOp>())
        if (isLastAxisMean(m) && m.getInput() == sub.getLhs())
          return failure();
    auto sum = matchPlusEps(op);
    if (!sum)
      return failure();
    Value n = findNormalized(sum->first, x);
    auto scale = n ? dyn_cast_or_null<MulOp>(singleUser(n)) : nullptr;
    auto xt = cast<RankedTensorType>(x.getType());
    if (!scale || scale.getType() != xt)
      return failure();
    Value gamma = affineParam(scale, n, xt.getShape().back());
    if (!gamma)
      return failure();
    rewriter.replaceOpWithNewOp<RmsNormOp>(scale, xt, x, gamma,
                                           rewriter.getF32FloatAttr(sum->second));
    return success();
  }
};

/// (x - mean(x)) / sqrt(mean((x - mean(x))^2) + eps) * gamma + beta
/// -> layer_norm(x, gamma, beta).
struct RaiseLayerNorm : OpRewritePattern<ReduceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReduceOp op, PatternRewriter &rewriter) const override {
    Value d;
    if (!isLastAxisMean(op) || !isSquareOf(op.getInput(), d))
      return failure();
    auto centered = d.getDefiningOp<SubOp>();
    auto mean = centered ? centered.getRhs().getDefiningOp<ReduceOp>() : nullptr;
    if (!mean || !isLastAxisMean(mean) || mean.getInput() != centered.getLhs())
      return failure();
    Value x = centered.getLhs();
    auto xt = cast<RankedTensorType>(x.getType());
    int64_t width = xt.getShape().back();
    auto sum = matchPlusEps(op);
    if (!sum)
      return failure();
    Value n = findNormalized(sum->first, d);
    auto scale = n ? dyn_cast_or_null<MulOp>(singleUser(n)) : nullptr;
    Value gamma = scale ? affineParam(scale, n, width) : Value();
    if (!gamma)
      return failure();
    Operation *last = scale;
    Value beta;
    if (auto shift = dyn_cast_or_null<AddOp>(singleUser(scale.getResult())))
      if ((beta = affineParam(shift, scale.getResult(), width)))
        last = shift;
    if (last->getResult(0).getType() != xt)
      return failure();
    rewriter.replaceOpWithNewOp<LayerNormOp>(last, xt, x, gamma, beta,
                                             rewriter.getF32FloatAttr(sum->second));
    return success();
  }
};

} // namespace

void raise::populateRaiseNormPatterns(RewritePatternSet &patterns) {
  patterns.add<RaiseRmsNorm, RaiseLayerNorm>(patterns.getContext());
}
