//===- RaiseRope.cpp - rotate-half rotary embeddings -> tfx.rope -----------===//
//
// Exporters leave RoPE as x*cos + rotate_half(x)*sin with cos/sin tables
// folded to constants. The tables are only trusted after checking them: the
// pattern fits theta from position 1 and verifies every entry against what
// tfx.rope computes, so a model with scaled or shifted positions is left
// alone rather than silently changed.
//
//===----------------------------------------------------------------------===//

#include "RaiseUtils.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tfx;
using namespace mlir::tfx::raise;

namespace {

/// concat(neg(x[..., D/2:]), x[..., :D/2]) on the last axis: returns x.
Value matchRotateHalf(Value v) {
  auto cat = v.getDefiningOp<ConcatOp>();
  if (!cat || cat.getInputs().size() != 2)
    return Value();
  int64_t rank = cat.getType().getRank();
  if ((int64_t)cat.getAxis() != rank - 1)
    return Value();
  auto neg = cat.getInputs()[0].getDefiningOp<NegOp>();
  auto hi = neg ? neg.getInput().getDefiningOp<SliceOp>() : nullptr;
  auto lo = cat.getInputs()[1].getDefiningOp<SliceOp>();
  if (!hi || !lo || hi.getInput() != lo.getInput())
    return Value();
  auto in = cast<RankedTensorType>(lo.getInput().getType());
  int64_t d = in.getShape().back();
  auto isHalf = [&](SliceOp s, int64_t off) {
    for (int64_t i = 0; i < rank; ++i) {
      bool last = i == rank - 1;
      if (s.getStrides()[i] != 1 || s.getOffsets()[i] != (last ? off : 0) ||
          s.getSizes()[i] != (last ? d / 2 : in.getDimSize(i)))
        return false;
    }
    return true;
  };
  if (d % 2 || !isHalf(lo, 0) || !isHalf(hi, d / 2))
    return Value();
  return lo.getInput();
}

/// Checks a cos or sin table (broadcastable to [1 or B, 1, S, D]) against
/// positions 0..S-1 and returns theta, or nullopt.
std::optional<double> fitTheta(const Tensor &cosT, const Tensor &sinT, int64_t seq,
                               int64_t dim) {
  auto rows = [&](const Tensor &t) -> std::optional<int64_t> {
    // Accept [S,D], [1,S,D], [1,1,S,D] and [B,1,S,D] (rows checked per batch).
    if (t.rank() < 2 || t.shape[t.rank() - 1] != dim || t.shape[t.rank() - 2] != seq)
      return std::nullopt;
    int64_t lead = 1;
    for (int64_t i = 0; i + 2 < t.rank(); ++i)
      lead *= t.shape[i];
    if (t.rank() == 4 && t.shape[1] != 1)
      return std::nullopt;
    return lead;
  };
  auto cl = rows(cosT), sl = rows(sinT);
  if (!cl || !sl || seq < 2 || dim < 4)
    return std::nullopt;
  // Position 1, pair 1: angle = theta^(-2/dim).
  double angle = std::atan2(sinT.f[dim + 1], cosT.f[dim + 1]);
  if (!(angle > 0.0 && angle < 1.0))
    return std::nullopt;
  double theta = std::pow(angle, -(double)dim / 2.0);
  // Verify every entry the way tfx.rope computes it (f32 frequencies and
  // angles, then cos/sin).
  for (const auto &[t, isSin] : {std::pair<const Tensor *, bool>{&cosT, false},
                                {&sinT, true}}) {
    int64_t lead = t == &cosT ? *cl : *sl;
    for (int64_t b = 0; b < lead; ++b)
      for (int64_t p = 0; p < seq; ++p)
        for (int64_t i = 0; i < dim; ++i) {
          int64_t pair = i % (dim / 2);
          float invFreq = (float)(1.0 / std::pow(theta, (double)(2 * pair) / dim));
          float a = (float)p * invFreq;
          double expected = isSin ? std::sin(a) : std::cos(a);
          if (std::fabs(t->f[(b * seq + p) * dim + i] - expected) > 2e-5)
            return std::nullopt;
        }
  }
  return theta;
}

/// x*cos + rotate_half(x)*sin on a head-split view -> rope on the base.
struct RaiseRope : OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AddOp op, PatternRewriter &rewriter) const override {
    for (int swap = 0; swap < 2; ++swap) {
      auto direct = (swap ? op.getRhs() : op.getLhs()).getDefiningOp<MulOp>();
      auto rotated = (swap ? op.getLhs() : op.getRhs()).getDefiningOp<MulOp>();
      if (!direct || !rotated)
        continue;
      for (int a = 0; a < 2; ++a)
        for (int c = 0; c < 2; ++c) {
          Value x = direct->getOperand(a), cosV = direct->getOperand(1 - a);
          Value rot = rotated->getOperand(c), sinV = rotated->getOperand(1 - c);
          if (matchRotateHalf(rot) != x || !isConstantLike(cosV) || !isConstantLike(sinV))
            continue;
          std::optional<HeadSplit> hs = matchHeadSplit(x);
          if (!hs || hs->keyTransposed || hs->repeat != 1)
            continue;
          auto xt = cast<RankedTensorType>(x.getType());
          if (op.getType() != xt)
            continue;
          std::optional<Tensor> cosT = constantValue(cosV), sinT = constantValue(sinV);
          if (!cosT || !sinT || !cosT->isFloat() || !sinT->isFloat())
            continue;
          std::optional<double> theta =
              fitTheta(*cosT, *sinT, xt.getDimSize(2), xt.getDimSize(3));
          if (!theta)
            continue;
          // Round theta to what the config most likely said (10000, 500000).
          double rounded = std::round(*theta);
          if (std::fabs(rounded - *theta) < 1e-3 * *theta)
            theta = rounded;
          auto rope = RopeOp::create(rewriter, op.getLoc(), hs->base.getType(),
                                     hs->base, Value(), (uint64_t)hs->heads,
                                     (uint64_t)hs->headDim, llvm::APFloat(*theta),
                                     RopeLayout::half);
          rewriter.replaceOp(op, buildHeadSplit(rewriter, op.getLoc(), rope,
                                                hs->heads));
          return success();
        }
    }
    return failure();
  }
};

} // namespace

void raise::populateRaiseRopePatterns(RewritePatternSet &patterns) {
  patterns.add<RaiseRope>(patterns.getContext());
}
