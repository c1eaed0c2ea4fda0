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

#include "RaiseUtils.h"

#include "tfx/Interpreter/Interpreter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "llvm/ADT/SetVector.h"

#include <cmath>

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

struct MaskMeaning {
  bool causal = false;
  Value padding; ///< the [batch, kv_len] argument, when the mask uses it
};

/// The backward slice of a mask value: ops in program order and the one
/// runtime leaf it may depend on.
struct MaskSlice {
  SmallVector<Operation *> ops;
  BlockArgument arg;
};

std::optional<MaskSlice> sliceOf(Value mask) {
  MaskSlice slice;
  llvm::SetVector<Operation *> seen;
  SmallVector<Value> work{mask};
  while (!work.empty()) {
    Value v = work.pop_back_val();
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      if (slice.arg && slice.arg != arg)
        return std::nullopt;
      slice.arg = arg;
      continue;
    }
    Operation *op = v.getDefiningOp();
    if (seen.contains(op) || isConstantLike(v))
      continue;
    if (op->getNumRegions() || op->getNumResults() != 1 ||
        !isa<TfxDialect>(op->getDialect()))
      return std::nullopt;
    seen.insert(op);
    for (Value operand : op->getOperands())
      work.push_back(operand);
  }
  slice.ops.assign(seen.begin(), seen.end());
  llvm::sort(slice.ops, [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });
  return slice;
}

std::optional<Tensor> evaluateSlice(const MaskSlice &slice, Value mask,
                                    const Tensor *argValue) {
  llvm::DenseMap<Value, Tensor> values;
  auto lookup = [&](Value v) -> const Tensor * {
    auto it = values.find(v);
    if (it != values.end())
      return &it->second;
    if (slice.arg && v == slice.arg)
      return argValue;
    if (std::optional<Tensor> c = constantValue(v))
      return &(values[v] = std::move(*c));
    return nullptr;
  };
  for (Operation *op : slice.ops) {
    SmallVector<const Tensor *> operands;
    for (Value operand : op->getOperands()) {
      const Tensor *t = lookup(operand);
      if (!t)
        return std::nullopt;
      operands.push_back(t);
    }
    llvm::Expected<Tensor> r = evaluateOpOn(op, operands);
    if (!r) {
      llvm::consumeError(r.takeError());
      return std::nullopt;
    }
    values[op->getResult(0)] = std::move(*r);
  }
  const Tensor *result = lookup(mask);
  return result ? std::optional<Tensor>(*result) : std::nullopt;
}

/// Does the evaluated mask (additive or boolean, broadcastable to
/// [B, H, Sq, Sk]) mean `causal` / padding by `pad` (null: no padding)?
bool meansCandidate(const Tensor &m, bool additive, int64_t B, int64_t Sq,
                    int64_t Sk, bool causal, const Tensor *pad) {
  if (m.rank() > 4 || m.rank() < 2)
    return false;
  std::vector<int64_t> shape(4 - m.rank(), 1);
  shape.insert(shape.end(), m.shape.begin(), m.shape.end());
  if ((shape[0] != 1 && shape[0] != B) || (shape[2] != 1 && shape[2] != Sq) ||
      shape[3] != Sk)
    return false;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < shape[1]; ++h)
      for (int64_t i = 0; i < Sq; ++i)
        for (int64_t j = 0; j < Sk; ++j) {
          int64_t k = (((shape[0] == 1 ? 0 : b) * shape[1] + h) * shape[2] +
                       (shape[2] == 1 ? 0 : i)) * Sk + j;
          bool allowed;
          if (additive) {
            double v = m.f[k];
            if (std::fabs(v) < 1e-6)
              allowed = true;
            else if (v <= -1e4)
              allowed = false;
            else
              return false;
          } else {
            allowed = m.i[k] != 0;
          }
          bool expected = (!pad || pad->i[b * Sk + j] != 0) &&
                          (!causal || j <= i + (Sk - Sq));
          if (allowed != expected)
            return false;
        }
  return true;
}

std::optional<MaskMeaning> classifyMask(Value mask, int64_t B, int64_t Sq,
                                        int64_t Sk) {
  std::optional<MaskSlice> slice = sliceOf(mask);
  if (!slice)
    return std::nullopt;
  bool additive = isa<FloatType>(getElementTypeOrSelf(mask.getType()));
  if (!slice->arg) {
    std::optional<Tensor> m = evaluateSlice(*slice, mask, nullptr);
    if (!m)
      return std::nullopt;
    for (bool causal : {false, true})
      if (meansCandidate(*m, additive, B, Sq, Sk, causal, nullptr))
        return MaskMeaning{causal, Value()};
    return std::nullopt;
  }
  auto argType = dyn_cast<RankedTensorType>(slice->arg.getType());
  if (!argType || argType.getShape() != ArrayRef<int64_t>{B, Sk} ||
      !argType.getElementType().isSignlessInteger())
    return std::nullopt;
  // Probes: all ones, right padding, left padding, scattered zeros; every
  // row keeps at least one visible key.
  std::vector<Tensor> probes;
  for (int kind = 0; kind < 4; ++kind) {
    Tensor p = Tensor::ints({B, Sk}, 1, dtypeOf(argType.getElementType()));
    for (int64_t b = 0; b < B; ++b) {
      int64_t zeros = std::min<int64_t>(Sk - 1, 1 + b % 3);
      for (int64_t j = 0; j < Sk; ++j) {
        bool zero = (kind == 1 && j >= Sk - zeros) || (kind == 2 && j < zeros) ||
                    (kind == 3 && j > 0 && (j * 7 + b * 3) % 5 == 0);
        if (zero)
          p.i[b * Sk + j] = 0;
      }
    }
    probes.push_back(std::move(p));
  }
  for (bool padding : {false, true})
    for (bool causal : {false, true}) {
      bool all = true;
      for (const Tensor &probe : probes) {
        std::optional<Tensor> m = evaluateSlice(*slice, mask, &probe);
        if (!m || !meansCandidate(*m, additive, B, Sq, Sk, causal,
                                  padding ? &probe : nullptr)) {
          all = false;
          break;
        }
      }
      if (all)
        return MaskMeaning{causal, padding ? Value(slice->arg) : Value()};
    }
  return std::nullopt;
}

struct RaiseAttention : OpRewritePattern<SoftmaxOp> {
  using OpRewritePattern::OpRewritePattern;
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

    // Scores: [mask +] scale * matmul(q, k^T).
    Value scores = op.getInput(), mask;
    if (auto add = scores.getDefiningOp<AddOp>()) {
      for (int side = 0; side < 2 && !mask; ++side) {
        double unused = 1.0;
        Value s = stripScale(add->getOperand(side), unused);
        if (s.getDefiningOp<MatMulOp>()) {
          scores = add->getOperand(side);
          mask = add->getOperand(1 - side);
        }
      }
      if (!mask)
        return failure();
    }
    double scale = 1.0;
    auto qk = stripScale(scores, scale).getDefiningOp<MatMulOp>();
    if (!qk)
      return failure();
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
    if (mask) {
      std::optional<MaskMeaning> m = classifyMask(mask, B, Sq, Sk);
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
        meaning.causal, (uint64_t)0, AttentionKind::softmax);
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
  patterns.add<RaiseAttention>(patterns.getContext());
}
