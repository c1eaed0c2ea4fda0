//===- RaiseLinear.cpp - matmul by a weight -> linear, gather -> embedding ===//
//
// Exporters write nn.Linear as MatMul by the [in, out] weight plus a bias
// Add (or as Gemm, which the frontend already maps to tfx.linear), often
// between reshapes that flatten the leading dimensions. These patterns give
// one tfx.linear over the [out, in] weight and move the reshapes outwards so
// that they meet and cancel.
//
//===----------------------------------------------------------------------===//

#include "RaiseUtils.h"

#include "tfx/Interpreter/Interpreter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace mlir::tfx;
using namespace mlir::tfx::raise;

namespace {

/// The [out, in] form of a 2-D weight `w` given as [in, out]: a transpose
/// that canonicalization turns into a transposed weight read, or a
/// transposed copy of a literal constant.
Value transposedWeight(PatternRewriter &rewriter, Location loc, Value w) {
  auto wt = cast<RankedTensorType>(w.getType());
  auto type = wt.clone({wt.getDimSize(1), wt.getDimSize(0)});
  if (auto t = w.getDefiningOp<TransposeOp>())
    if (t.getPerm() == ArrayRef<int64_t>{1, 0})
      return t.getInput();
  if (w.getDefiningOp<arith::ConstantOp>()) {
    std::optional<Tensor> value = constantValue(w);
    if (!value)
      return Value();
    Tensor out = *value;
    int64_t rows = wt.getDimSize(0), cols = wt.getDimSize(1);
    out.shape = {cols, rows};
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) {
        if (out.isFloat())
          out.f[c * rows + r] = value->f[r * cols + c];
        else
          out.i[c * rows + r] = value->i[r * cols + c];
      }
    return arith::ConstantOp::create(rewriter, loc, attrFromTensor(out, type));
  }
  return TransposeOp::create(rewriter, loc, type, w, ArrayRef<int64_t>{1, 0});
}

/// A 2-D weight operand: a constant, or the transpose of one.
bool isWeightOperand(Value w) {
  auto wt = dyn_cast<RankedTensorType>(w.getType());
  if (!wt || wt.getRank() != 2 || !wt.hasStaticShape())
    return false;
  if (auto t = w.getDefiningOp<TransposeOp>())
    return isConstantLike(t.getInput());
  return isConstantLike(w);
}

/// matmul(x, W) with a 2-D weight W [in, out] -> linear(x, W^T).
struct MatMulToLinear : OpRewritePattern<MatMulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MatMulOp op, PatternRewriter &rewriter) const override {
    Value w = op.getRhs();
    if (!isWeightOperand(w) || op.getLhs().getType().getRank() < 2 ||
        !isa<FloatType>(op.getLhs().getType().getElementType()))
      return failure();
    Value weight = transposedWeight(rewriter, op.getLoc(), w);
    if (!weight)
      return failure();
    rewriter.replaceOpWithNewOp<LinearOp>(op, op.getType(), op.getLhs(), weight, Value());
    return success();
  }
};

/// add(linear(x, W), b) with a constant [out] bias, either operand order ->
/// linear(x, W, b).
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

/// gather(W, ids, axis 0) of a 2-D float weight -> embedding(ids, W).
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

} // namespace

void raise::populateRaiseLinearPatterns(RewritePatternSet &patterns) {
  patterns.add<MatMulToLinear, FoldBiasIntoLinear, GatherToEmbedding,
               SinkCollapseThroughLinear, SinkReshapeThroughUnary<GeluOp>,
               SinkReshapeThroughUnary<SiluOp>, SinkReshapeThroughUnary<ReluOp>>(
      patterns.getContext());
}
