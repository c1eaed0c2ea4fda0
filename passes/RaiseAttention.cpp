//===- RaiseAttention.cpp - the attention core -> tfx.attention -----------===//
//
// Anchors on the softmax of softmax(scale * Q K^T + mask) V, where Q, K and V
// are head-split views of [batch, seq, heads * head_dim] tensors (K and V
// possibly repeated for grouped-query attention) and the result is merged
// back. The mask is whatever the exporter built from `attention_mask`; its
// meaning is established by probing: the mask subgraph is evaluated with the
// reference interpreter for several concrete attention masks and compared
// with the candidate semantics (none, padding, causal, causal + padding).
//
//===----------------------------------------------------------------------===//

#include "MaskProbe.h"
#include "RaiseUtils.h"

#include <cmath>
#include <memory>

using namespace mlir;
using namespace mlir::tfx;
using namespace mlir::tfx::raise;

namespace {

/// Strips multiplications/divisions by scalar constants, accumulating them.
Value stripScale(Value v, double &scale) {
  while (true) {
    if (auto m = v.getDefiningOp<MulOp>()) {
      if (auto s = scalarValue(m.getRhs())) {
        scale *= *s;
        v = m.getLhs();
        continue;
      }
      if (auto s = scalarValue(m.getLhs())) {
        scale *= *s;
        v = m.getRhs();
        continue;
      }
    }
    if (auto d = v.getDefiningOp<DivOp>())
      if (auto s = scalarValue(d.getRhs()); s && *s != 0.0) {
        scale /= *s;
        v = d.getLhs();
        continue;
      }
    return v;
  }
}

/// Does `v` reach the Q.K^T product through scalings, adds and wheres?
bool reachesScores(Value v, int depth = 0) {
  double unused = 1.0;
  v = stripScale(v, unused);
  if (v.getDefiningOp<MatMulOp>())
    return true;
  if (depth > 8)
    return false;
  if (auto add = v.getDefiningOp<AddOp>())
    return reachesScores(add.getLhs(), depth + 1) || reachesScores(add.getRhs(), depth + 1);
  if (auto where = v.getDefiningOp<WhereOp>())
    return reachesScores(where.getOnTrue(), depth + 1) ||
           reachesScores(where.getOnFalse(), depth + 1);
  return false;
}

/// A constant fill that hides a score: every element <= -1e4 (or -inf).
bool isHidingFill(Value v) {
  if (!isConstantLike(v))
    return false;
  std::optional<Tensor> t = constantValue(v);
  if (!t || !t->isFloat() || t->f.empty())
    return false;
  return llvm::all_of(t->f, [](float x) { return x <= -1e4f; });
}

/// Peels the masks off softmax's input down to the Q.K^T product: additive
/// terms (either operand order) and where(cond, scores, fill) or
/// where(cond, fill, scores) selections. Scalar factors met on the way
/// multiply `scale` and every additive term found below them.
std::optional<Value> peelMasks(Value v, SmallVectorImpl<MaskTerm> &terms,
                               double &scale) {
  double below = 1.0; // factor applied to what is added further down
  for (int depth = 0; depth < 16; ++depth) {
    double factor = 1.0;
    v = stripScale(v, factor);
    if (factor <= 0.0)
      return std::nullopt;
    scale *= factor;
    below *= factor;
    if (v.getDefiningOp<MatMulOp>())
      return v;
    if (auto add = v.getDefiningOp<AddOp>()) {
      bool lhs = reachesScores(add.getLhs()), rhs = reachesScores(add.getRhs());
      if (lhs == rhs)
        return std::nullopt;
      terms.push_back({lhs ? add.getRhs() : add.getLhs(), MaskTerm::Additive, below});
      v = lhs ? add.getLhs() : add.getRhs();
      continue;
    }
    auto where = v.getDefiningOp<WhereOp>();
    if (!where || where.getType() != v.getType())
      return std::nullopt;
    if (isHidingFill(where.getOnFalse()) && reachesScores(where.getOnTrue())) {
      terms.push_back({where.getCondition(), MaskTerm::KeepWhereTrue, 1.0});
      v = where.getOnTrue();
    } else if (isHidingFill(where.getOnTrue()) && reachesScores(where.getOnFalse())) {
      terms.push_back({where.getCondition(), MaskTerm::KeepWhereFalse, 1.0});
      v = where.getOnFalse();
    } else {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

struct RaiseAttention : OpRewritePattern<SoftmaxOp> {
  RaiseAttention(MLIRContext *context, std::shared_ptr<MaskProbeCache> cache)
      : OpRewritePattern(context), cache(std::move(cache)) {}
  std::shared_ptr<MaskProbeCache> cache;
  LogicalResult matchAndRewrite(SoftmaxOp op, PatternRewriter &rewriter) const override {
    auto st = op.getType();
    if (st.getRank() != 4 || ((int64_t)op.getAxis() != 3 && (int64_t)op.getAxis() != -1))
      return failure();
    // The probabilities reach P.V directly or through the guard
    // where(is_nan(p), 0, p) that exporters add for fully masked rows.
    Value probs = op.getResult();
    Operation *user = nullptr;
    if (op->hasOneUse()) {
      user = *probs.getUsers().begin();
    } else {
      WhereOp guard;
      IsNanOp nan;
      for (Operation *u : probs.getUsers()) {
        if (auto w = dyn_cast<WhereOp>(u))
          guard = w;
        else if (auto n = dyn_cast<IsNanOp>(u))
          nan = n;
        else
          return failure();
      }
      if (!guard || !nan || guard.getCondition() != nan.getResult() ||
          guard.getOnFalse() != probs || !isScalar(guard.getOnTrue(), 0.0) ||
          !guard->hasOneUse() || guard.getType() != st)
        return failure();
      probs = guard.getResult();
      user = *probs.getUsers().begin();
    }
    auto pv = dyn_cast<MatMulOp>(user);
    if (!pv || pv.getLhs() != probs || !pv->hasOneUse())
      return failure();
    // Output merge: reshape(transpose(o, [0,2,1,3]), [B, S, H*D]).
    auto merge = dyn_cast<TransposeOp>(*pv->getUsers().begin());
    if (!merge || merge.getPerm() != ArrayRef<int64_t>{0, 2, 1, 3} || !merge->hasOneUse())
      return failure();
    auto out = dyn_cast<ReshapeOp>(*merge->getUsers().begin());
    if (!out)
      return failure();

    // Scores: masks around scale * matmul(q, k^T).
    SmallVector<MaskTerm> terms;
    double scale = 1.0;
    std::optional<Value> scores = peelMasks(op.getInput(), terms, scale);
    if (!scores)
      return failure();
    auto qk = scores->getDefiningOp<MatMulOp>();
    std::optional<HeadSplit> q = matchHeadSplit(stripScale(qk.getLhs(), scale));
    std::optional<HeadSplit> k = matchHeadSplit(stripScale(qk.getRhs(), scale));
    std::optional<HeadSplit> v = matchHeadSplit(pv.getRhs());
    if (!q || !k || !v || q->keyTransposed || q->repeat != 1 || !k->keyTransposed ||
        v->keyTransposed)
      return failure();
    int64_t heads = q->heads;
    if (k->heads * k->repeat != heads || v->heads * v->repeat != heads ||
        k->heads != v->heads || q->headDim != k->headDim || k->headDim != v->headDim)
      return failure();
    auto qType = cast<RankedTensorType>(q->base.getType());
    auto kType = cast<RankedTensorType>(k->base.getType());
    int64_t B = qType.getDimSize(0), Sq = qType.getDimSize(1), Sk = kType.getDimSize(1);
    if (out.getType().getNumElements() != qType.getNumElements())
      return failure();

    MaskMeaning meaning;
    if (!terms.empty()) {
      std::optional<MaskMeaning> m = classifyMask(terms, B, Sq, Sk, cache.get());
      if (!m)
        return failure();
      meaning = *m;
    }
    // V may be computed after the softmax; the merged output is dominated by
    // every operand.
    rewriter.setInsertionPoint(out);
    auto attn = createInferred<AttentionOp>(
        rewriter, out.getLoc(), q->base, k->base, v->base, meaning.padding,
        (uint64_t)heads, (uint64_t)k->heads, llvm::APFloat((float)scale),
        meaning.causal, (uint64_t)meaning.window, AttentionKind::softmax);
    if (failed(attn))
      return failure();
    Value result = attn->getResult();
    if (out.getType() != qType) // e.g. flattened to [B*S, H*D] for a Gemm
      result = ReshapeOp::create(rewriter, out.getLoc(), out.getType(), result);
    rewriter.replaceOp(out, result);
    return success();
  }
};

} // namespace

void raise::populateRaiseAttentionPatterns(RewritePatternSet &patterns) {
  patterns.add<RaiseAttention>(patterns.getContext(), std::make_shared<MaskProbeCache>());
}
