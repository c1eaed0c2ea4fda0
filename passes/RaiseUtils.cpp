//===- RaiseUtils.cpp - matching helpers for the raising patterns ---------===//

#include "RaiseUtils.h"

#include "tfx/Interpreter/Interpreter.h"
#include "tfx/Support/WeightStore.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinOps.h"

#include <cmath>
#include <functional>

using namespace mlir;
using namespace mlir::tfx;

std::optional<Tensor> raise::constantValue(Value v) {
  if (auto c = v.getDefiningOp<arith::ConstantOp>()) {
    llvm::Expected<Tensor> t = tensorFromAttr(c.getValue());
    if (!t) {
      llvm::consumeError(t.takeError());
      return std::nullopt;
    }
    return std::move(*t);
  }
  if (auto w = v.getDefiningOp<WeightOp>()) {
    auto module = w->getParentOfType<ModuleOp>();
    auto path = module ? module->getAttrOfType<StringAttr>(kWeightsAttr) : nullptr;
    if (!path)
      return std::nullopt;
    llvm::Expected<Tensor> t = loadWeight(path.getValue(), w.getName(),
                                          w.getTransposed());
    if (!t) {
      llvm::consumeError(t.takeError());
      return std::nullopt;
    }
    return std::move(*t);
  }
  return std::nullopt;
}

std::optional<Tensor> raise::foldedValue(Value v, unsigned maxOps) {
  if (isConstantLike(v))
    return constantValue(v);
  llvm::DenseMap<Value, Tensor> known;
  unsigned budget = maxOps;
  std::function<const Tensor *(Value)> eval = [&](Value x) -> const Tensor * {
    auto it = known.find(x);
    if (it != known.end())
      return &it->second;
    if (isConstantLike(x)) {
      std::optional<Tensor> c = constantValue(x);
      return c ? &(known[x] = std::move(*c)) : nullptr;
    }
    Operation *op = x.getDefiningOp();
    if (!op || budget == 0 || op->getNumResults() != 1 || op->getNumRegions() ||
        !isa<TfxDialect>(op->getDialect()) || !isPure(op))
      return nullptr;
    --budget;
    SmallVector<const Tensor *> operands;
    for (Value operand : op->getOperands()) {
      const Tensor *t = eval(operand);
      if (!t)
        return nullptr;
      operands.push_back(t);
    }
    llvm::Expected<Tensor> r = evaluateOpOn(op, operands);
    if (!r) {
      llvm::consumeError(r.takeError());
      return nullptr;
    }
    return &(known[x] = std::move(*r));
  };
  const Tensor *t = eval(v);
  return t ? std::optional<Tensor>(*t) : std::nullopt;
}

bool raise::isConstantLike(Value v) {
  return v.getDefiningOp<arith::ConstantOp>() || v.getDefiningOp<WeightOp>();
}

Value raise::otherOperand(Operation *op, Value known) {
  return op->getOperand(0) == known ? op->getOperand(1) : op->getOperand(0);
}

Operation *raise::singleUser(Value v) {
  return v.hasOneUse() ? *v.getUsers().begin() : nullptr;
}

std::optional<double> raise::scalarValue(Value v) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  if (!type || !type.hasStaticShape() || type.getNumElements() != 1)
    return std::nullopt;
  auto c = v.getDefiningOp<arith::ConstantOp>();
  if (!c)
    return std::nullopt;
  std::optional<Tensor> t = constantValue(v);
  if (!t)
    return std::nullopt;
  return t->at(0);
}

bool raise::isScalar(Value v, double x, double tol) {
  auto c = v.getDefiningOp<arith::ConstantOp>();
  if (!c)
    return false;
  if (auto splat = dyn_cast<SplatElementsAttr>(c.getValue())) {
    if (auto f = dyn_cast<FloatAttr>(splat.getSplatValue<Attribute>()))
      return std::fabs(f.getValueAsDouble() - x) <= tol * std::max(1.0, std::fabs(x));
    if (auto i = dyn_cast<IntegerAttr>(splat.getSplatValue<Attribute>()))
      return std::fabs((double)i.getInt() - x) <= tol;
  }
  std::optional<double> s = scalarValue(v);
  return s && std::fabs(*s - x) <= tol * std::max(1.0, std::fabs(x));
}

/// `reshape(expand(reshape(X, [B,Hk,1,S,D]), [B,Hk,n,S,D]), [B,Hk*n,S,D])`:
/// the repeat-kv of grouped-query attention.
static std::optional<std::pair<Value, int64_t>> matchRepeatKv(Value v) {
  auto outer = v.getDefiningOp<ReshapeOp>();
  if (!outer)
    return std::nullopt;
  auto expand = outer.getInput().getDefiningOp<ExpandOp>();
  if (!expand)
    return std::nullopt;
  auto inner = expand.getInput().getDefiningOp<ReshapeOp>();
  if (!inner)
    return std::nullopt;
  ArrayRef<int64_t> in = inner.getInput().getType().getShape();
  ArrayRef<int64_t> mid = inner.getType().getShape();
  ArrayRef<int64_t> ex = expand.getType().getShape();
  ArrayRef<int64_t> out = outer.getType().getShape();
  if (in.size() != 4 || mid.size() != 5 || ex.size() != 5 || out.size() != 4)
    return std::nullopt;
  if (mid[0] != in[0] || mid[1] != in[1] || mid[2] != 1 || mid[3] != in[2] ||
      mid[4] != in[3] || ex[0] != in[0] || ex[1] != in[1] || ex[3] != in[2] ||
      ex[4] != in[3] || out[0] != in[0] || out[1] != in[1] * ex[2] ||
      out[2] != in[2] || out[3] != in[3])
    return std::nullopt;
  return std::make_pair(inner.getInput(), ex[2]);
}

std::optional<raise::HeadSplit> raise::matchHeadSplit(Value v) {
  int64_t repeat = 1;
  bool swapLast = false;
  // transpose(.., [0,1,3,2]) of a [B,H,S,D] view is a key view.
  if (auto t = v.getDefiningOp<TransposeOp>()) {
    if (t.getPerm() == ArrayRef<int64_t>{0, 1, 3, 2}) {
      swapLast = true;
      v = t.getInput();
    }
  }
  // reshape(transpose(reshape(K, [B*H,S,D]), [0,2,1]), [B,H,D,S]).
  if (!swapLast)
    if (auto r2 = v.getDefiningOp<ReshapeOp>())
      if (auto t = r2.getInput().getDefiningOp<TransposeOp>())
        if (auto r1 = t.getInput().getDefiningOp<ReshapeOp>())
          if (t.getPerm() == ArrayRef<int64_t>{0, 2, 1} &&
              r1.getInput().getType().getRank() == 4 && r2.getType().getRank() == 4) {
            ArrayRef<int64_t> k = r1.getInput().getType().getShape();
            ArrayRef<int64_t> o = r2.getType().getShape();
            if (o[0] == k[0] && o[1] == k[1] && o[2] == k[3] && o[3] == k[2]) {
              swapLast = true;
              v = r1.getInput();
            }
          }
  if (auto rep = matchRepeatKv(v)) {
    v = rep->first;
    repeat = rep->second;
  }
  auto t = v.getDefiningOp<TransposeOp>();
  if (!t)
    return std::nullopt;
  ArrayRef<int64_t> perm = t.getPerm();
  bool qLayout = perm == ArrayRef<int64_t>{0, 2, 1, 3};
  bool kLayout = perm == ArrayRef<int64_t>{0, 2, 3, 1};
  if (!qLayout && !kLayout)
    return std::nullopt;
  if (kLayout && (swapLast || repeat != 1))
    return std::nullopt;
  auto r = t.getInput().getDefiningOp<ReshapeOp>();
  if (!r || r.getType().getRank() != 4 || r.getInput().getType().getRank() != 3)
    return std::nullopt;
  ArrayRef<int64_t> in = r.getInput().getType().getShape();
  ArrayRef<int64_t> split = r.getType().getShape();
  if (split[0] != in[0] || split[1] != in[1] || split[2] * split[3] != in[2])
    return std::nullopt;
  HeadSplit hs;
  hs.base = r.getInput();
  hs.heads = split[2];
  hs.headDim = split[3];
  hs.keyTransposed = kLayout != swapLast;
  hs.repeat = repeat;
  return hs;
}

Value raise::buildHeadSplit(PatternRewriter &rewriter, Location loc, Value base,
                            int64_t heads) {
  auto type = cast<RankedTensorType>(base.getType());
  ArrayRef<int64_t> s = type.getShape();
  auto split = ReshapeOp::create(rewriter, loc,
                                 type.clone({s[0], s[1], heads, s[2] / heads}), base);
  return TransposeOp::create(
             rewriter, loc, type.clone({s[0], heads, s[1], s[2] / heads}), split,
             ArrayRef<int64_t>{0, 2, 1, 3})
      .getResult();
}
