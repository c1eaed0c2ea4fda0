//===- RaiseLayers.cpp - linear, embedding, activations and norms ---------===//
//
// Patterns over the math, not over node names: each anchors on the one op
// that identifies the idiom (the erf of GELU, the mean of a norm) and checks
// every constant it relies on.
//
//===----------------------------------------------------------------------===//

#include "RaiseUtils.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tfx;
using namespace mlir::tfx::raise;

namespace {

Value otherOperand(Operation *op, Value known) {
  return op->getOperand(0) == known ? op->getOperand(1) : op->getOperand(0);
}

Operation *singleUser(Value v) {
  return v.hasOneUse() ? *v.getUsers().begin() : nullptr;
}

//===--- linear and embedding ----------------------------------------------===//

/// matmul(x, W) with a 2-D weight W [in, out] -> linear(x, W^T).
struct MatMulToLinear : OpRewritePattern<MatMulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MatMulOp op, PatternRewriter &rewriter) const override {
    Value w = op.getRhs();
    auto wt = cast<RankedTensorType>(w.getType());
    if (wt.getRank() != 2 || !isConstantLike(w) || op.getLhs().getType().getRank() < 2)
      return failure();
    auto t = TransposeOp::create(rewriter, op.getLoc(),
                                 wt.clone({wt.getDimSize(1), wt.getDimSize(0)}), w,
                                 ArrayRef<int64_t>{1, 0});
    rewriter.replaceOpWithNewOp<LinearOp>(op, op.getType(), op.getLhs(), t, Value());
    return success();
  }
};

/// add(linear(x, W), b) with a constant [out] bias -> linear(x, W, b).
struct FoldBiasIntoLinear : OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AddOp op, PatternRewriter &rewriter) const override {
    for (Value side : {op.getLhs(), op.getRhs()}) {
      auto lin = side.getDefiningOp<LinearOp>();
      if (!lin || lin.getBias() || !lin->hasOneUse() || lin.getType() != op.getType())
        continue;
      Value bias = otherOperand(op, side);
      auto bt = cast<RankedTensorType>(bias.getType());
      if (!isConstantLike(bias) || bt.getRank() != 1 ||
          bt.getDimSize(0) != lin.getType().getShape().back())
        continue;
      rewriter.replaceOpWithNewOp<LinearOp>(op, op.getType(), lin.getInput(),
                                            lin.getWeight(), bias);
      return success();
    }
    return failure();
  }
};

/// gather(W, ids, axis 0) of a 2-D weight -> embedding(ids, W).
struct GatherToEmbedding : OpRewritePattern<GatherOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GatherOp op, PatternRewriter &rewriter) const override {
    auto dt = cast<RankedTensorType>(op.getData().getType());
    if (op.getAxis() != 0 || dt.getRank() != 2 || !op.getData().getDefiningOp<WeightOp>() ||
        !isa<FloatType>(dt.getElementType()))
      return failure();
    rewriter.replaceOpWithNewOp<EmbeddingOp>(op, op.getType(), op.getIndices(), op.getData());
    return success();
  }
};

/// linear(reshape(x)) where the reshape only merges leading dimensions (as
/// exporters do around Gemm) -> reshape(linear(x)), so that reshapes meet
/// and cancel.
struct SinkCollapseThroughLinear : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LinearOp op, PatternRewriter &rewriter) const override {
    auto collapse = op.getInput().getDefiningOp<ReshapeOp>();
    if (!collapse)
      return failure();
    auto src = collapse.getInput().getType();
    if (src.getRank() < 2 || op.getInput().getType().getRank() != 2 ||
        src.getShape().back() != op.getInput().getType().getShape().back())
      return failure();
    SmallVector<int64_t> shape(src.getShape());
    shape.back() = op.getType().getShape().back();
    auto lin = LinearOp::create(rewriter, op.getLoc(), op.getType().clone(shape),
                                collapse.getInput(), op.getWeight(), op.getBias());
    rewriter.replaceOpWithNewOp<ReshapeOp>(op, op.getType(), lin);
    return success();
  }
};

/// unary(reshape(x)) -> reshape(unary(x)) for elementwise activations.
template <typename OpT>
struct SinkReshapeThroughUnary : OpRewritePattern<OpT> {
  using OpRewritePattern<OpT>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpT op, PatternRewriter &rewriter) const override {
    auto reshape = op.getInput().template getDefiningOp<ReshapeOp>();
    if (!reshape || !reshape->hasOneUse())
      return failure();
    Operation *inner = rewriter.clone(*op);
    inner->setOperand(0, reshape.getInput());
    inner->getResult(0).setType(reshape.getInput().getType());
    rewriter.replaceOpWithNewOp<ReshapeOp>(op, op.getType(), inner->getResult(0));
    return success();
  }
};

//===--- activations -------------------------------------------------------===//

/// Climbs a chain of single-use multiplications from `start`, collecting
/// the other factors (flattening products), until the factors are exactly
/// {x, 0.5}. Returns the last multiplication.
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
    return false;
  };
  while (!(haveX && haveHalf)) {
    auto mul = dyn_cast_or_null<MulOp>(singleUser(cur));
    if (!mul || !absorb(otherOperand(mul, cur)))
      return nullptr;
    cur = mul.getResult();
  }
  return cur.getDefiningOp();
}

/// 0.5 x (1 + erf(x / sqrt 2)) -> gelu(x) (erf form).
struct RaiseGeluErf : OpRewritePattern<ErfOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ErfOp op, PatternRewriter &rewriter) const override {
    Value x;
    if (auto div = op.getInput().getDefiningOp<DivOp>()) {
      if (isScalar(div.getRhs(), std::sqrt(2.0), 1e-5))
        x = div.getLhs();
    } else if (auto mul = op.getInput().getDefiningOp<MulOp>()) {
      for (Value s : {mul.getLhs(), mul.getRhs()})
        if (isScalar(s, 1.0 / std::sqrt(2.0), 1e-5))
          x = otherOperand(mul, s);
    }
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

/// x^3 as pow(x, 3) or x*x*x.
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

//===--- norms -------------------------------------------------------------===//

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

/// From d = sqrt(var + eps), finds n = x / d in its forms (x * 1/d,
/// x * reciprocal(d), x / d) and returns n.
Value findNormalized(Value d, Value x) {
  Operation *user = singleUser(d);
  if (auto div = dyn_cast_or_null<DivOp>(user)) {
    if (div.getRhs() == d && div.getLhs() == x)
      return div.getResult();
    if (div.getRhs() == d && isScalar(div.getLhs(), 1.0))
      user = singleUser(div.getResult()), d = div.getResult();
    else
      return Value();
  } else if (auto rec = dyn_cast_or_null<ReciprocalOp>(user)) {
    user = singleUser(rec.getResult());
    d = rec.getResult();
  } else {
    return Value();
  }
  auto mul = dyn_cast_or_null<MulOp>(user);
  if (!mul || otherOperand(mul, d) != x)
    return Value();
  return mul.getResult();
}

/// Finds `mean(x^2) + eps` under a sqrt: returns (sqrt value, eps).
std::optional<std::pair<Value, double>> matchRootOfMeanPlusEps(ReduceOp mean) {
  auto add = dyn_cast_or_null<AddOp>(singleUser(mean.getResult()));
  if (!add)
    return std::nullopt;
  std::optional<double> eps = scalarValue(otherOperand(add, mean.getResult()));
  auto root = dyn_cast_or_null<SqrtOp>(singleUser(add.getResult()));
  if (!eps || !root)
    return std::nullopt;
  return std::make_pair(root.getResult(), *eps);
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
    auto root = matchRootOfMeanPlusEps(op);
    if (!root)
      return failure();
    Value n = findNormalized(root->first, x);
    auto scale = n ? dyn_cast_or_null<MulOp>(singleUser(n)) : nullptr;
    if (!scale)
      return failure();
    Value gamma = otherOperand(scale, n);
    auto gt = cast<RankedTensorType>(gamma.getType());
    if (!isConstantLike(gamma) || gt.getRank() != 1 ||
        scale.getType() != x.getType())
      return failure();
    rewriter.replaceOpWithNewOp<RmsNormOp>(scale, x.getType(), x, gamma,
                                           rewriter.getF32FloatAttr(root->second));
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
    auto root = matchRootOfMeanPlusEps(op);
    if (!root)
      return failure();
    // d feeds both the square and the division.
    Value n;
    for (Operation *user : d.getUsers())
      if (auto div = dyn_cast<DivOp>(user))
        if (div.getLhs() == d && div.getRhs() == root->first)
          n = div.getResult();
    auto scale = n ? dyn_cast_or_null<MulOp>(singleUser(n)) : nullptr;
    if (!scale || !isConstantLike(otherOperand(scale, n)))
      return failure();
    Value gamma = otherOperand(scale, n);
    Operation *last = scale;
    Value beta;
    if (auto shift = dyn_cast_or_null<AddOp>(singleUser(scale.getResult())))
      if (isConstantLike(otherOperand(shift, scale.getResult()))) {
        beta = otherOperand(shift, scale.getResult());
        last = shift;
      }
    int64_t width = cast<RankedTensorType>(x.getType()).getShape().back();
    for (Value p : {gamma, beta})
      if (p && (cast<RankedTensorType>(p.getType()).getRank() != 1 ||
                cast<RankedTensorType>(p.getType()).getDimSize(0) != width))
        return failure();
    if (last->getResult(0).getType() != x.getType())
      return failure();
    rewriter.replaceOpWithNewOp<LayerNormOp>(last, x.getType(), x, gamma, beta,
                                             rewriter.getF32FloatAttr(root->second));
    return success();
  }
};

} // namespace

void raise::populateRaiseLinearPatterns(RewritePatternSet &patterns) {
  patterns.add<MatMulToLinear, FoldBiasIntoLinear, GatherToEmbedding,
               SinkCollapseThroughLinear, SinkReshapeThroughUnary<GeluOp>,
               SinkReshapeThroughUnary<SiluOp>, SinkReshapeThroughUnary<ReluOp>>(
      patterns.getContext());
}

void raise::populateRaiseActivationPatterns(RewritePatternSet &patterns) {
  patterns.add<RaiseGeluErf, RaiseGeluTanh, RaiseSilu>(patterns.getContext());
}

void raise::populateRaiseNormPatterns(RewritePatternSet &patterns) {
  patterns.add<RaiseRmsNorm, RaiseLayerNorm>(patterns.getContext());
}
