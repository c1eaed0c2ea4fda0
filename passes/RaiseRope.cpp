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

/// The number of [seq, dim] rows a cos/sin table holds ([S,D], [1,S,D],
/// [1,1,S,D] or [B,1,S,D]; each row block is checked), or nullopt.
std::optional<int64_t> tableBlocks(const Tensor &t, int64_t seq, int64_t dim) {
  if (t.rank() < 2 || t.rank() > 4 || t.shape[t.rank() - 1] != dim ||
      t.shape[t.rank() - 2] != seq || (t.rank() == 4 && t.shape[1] != 1))
    return std::nullopt;
  int64_t blocks = 1;
  for (int64_t i = 0; i + 2 < t.rank(); ++i)
    blocks *= t.shape[i];
  return blocks;
}

/// Does every entry match tfx.rope's table for `theta` to within `tol`?
/// The frequencies and angles are computed in f32 as the interpreter and
/// Hugging Face do (a double angle would differ by up to pos * 1e-7).
bool tablesMatch(const Tensor &cosT, const Tensor &sinT, int64_t blocksCos,
                 int64_t blocksSin, int64_t seq, int64_t dim, double theta,
                 double tol) {
  int64_t half = dim / 2;
  std::vector<float> invFreq(half);
  for (int64_t i = 0; i < half; ++i)
    invFreq[i] = 1.0f / std::pow((float)theta, (float)(2 * i) / (float)dim);
  for (int64_t p = 0; p < seq; ++p)
    for (int64_t i = 0; i < dim; ++i) {
      float angle = (float)p * invFreq[i % half];
      double c = std::cos(angle), s = std::sin(angle);
      for (int64_t b = 0; b < blocksCos; ++b)
        if (!(std::fabs(cosT.f[(b * seq + p) * dim + i] - c) <= tol))
          return false;
      for (int64_t b = 0; b < blocksSin; ++b)
        if (!(std::fabs(sinT.f[(b * seq + p) * dim + i] - s) <= tol))
          return false;
    }
  return true;
}

} // namespace

std::optional<double> raise::fitRopeTheta(const Tensor &cosT, const Tensor &sinT,
                                          int64_t seq, int64_t dim, double tol) {
  std::optional<int64_t> blocksCos = tableBlocks(cosT, seq, dim);
  std::optional<int64_t> blocksSin = tableBlocks(sinT, seq, dim);
  if (!blocksCos || !blocksSin || !cosT.isFloat() || !sinT.isFloat() || seq < 2 ||
      dim < 4 || dim % 2)
    return std::nullopt;
  // At position 1 the angle of pair i is theta^(-2i/dim). The last pair
  // gives theta with the least amplified rounding (exponent dim/(dim-2));
  // the guess is then confirmed or rejected by the whole table.
  int64_t half = dim / 2, pair = half - 1;
  double angle = std::atan2(sinT.f[dim + pair], cosT.f[dim + pair]);
  if (!(angle > 0.0 && angle < 1.0))
    return std::nullopt;
  double fitted = std::pow(angle, -(double)dim / (2.0 * pair));
  if (!std::isfinite(fitted) || fitted <= 1.0)
    return std::nullopt;
  // Prefer what a config most likely said (10000, 500000), when it fits;
  // else the f32 values next to the fit (tfx.rope uses theta as f32), as
  // for an NTK-scaled theta.
  double rounded = std::round(fitted);
  if (tablesMatch(cosT, sinT, *blocksCos, *blocksSin, seq, dim, rounded, tol))
    return rounded;
  float up = (float)fitted, down = up;
  for (int ulps = 0; ulps < 8; ++ulps) {
    for (float theta : {up, down})
      if (tablesMatch(cosT, sinT, *blocksCos, *blocksSin, seq, dim, theta, tol))
        return theta;
    up = std::nextafter(up, INFINITY);
    down = std::nextafter(down, 0.0f);
  }
  return std::nullopt;
}

namespace {

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
          if (matchRotateHalf(rot) != x)
            continue;
          std::optional<HeadSplit> hs = matchHeadSplit(x);
          if (!hs || hs->keyTransposed || hs->repeat != 1)
            continue;
          auto xt = cast<RankedTensorType>(x.getType());
          if (op.getType() != xt)
            continue;
          std::optional<Tensor> cosT = foldedValue(cosV), sinT = foldedValue(sinV);
          if (!cosT || !sinT || !cosT->isFloat() || !sinT->isFloat())
            continue;
          std::optional<double> theta =
              fitRopeTheta(*cosT, *sinT, xt.getDimSize(2), xt.getDimSize(3));
          if (!theta)
            continue;
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
