//===- Structure.cpp - find the transformer layers of a function ----------===//

#include "Structure.h"

#include "mlir/Interfaces/InferTypeOpInterface.h"

using namespace mlir;
using namespace mlir::tfx;

/// q, k or v of an attention: [rope] <- [last-axis slice] <- linear.
static std::optional<Projection> matchProjection(Value v) {
  Projection p;
  if (!v.hasOneUse())
    return std::nullopt;
  if (auto rope = v.getDefiningOp<RopeOp>()) {
    p.rope = rope;
    v = rope.getInput();
    if (!v.hasOneUse())
      return std::nullopt;
  }
  if (auto slice = v.getDefiningOp<SliceOp>()) {
    auto in = cast<RankedTensorType>(slice.getInput().getType());
    int64_t last = in.getRank() - 1;
    for (int64_t d = 0; d <= last; ++d)
      if (slice.getStrides()[d] != 1 ||
          (d < last && (slice.getOffsets()[d] != 0 ||
                        slice.getSizes()[d] != in.getDimSize(d))))
        return std::nullopt;
    p.slice = slice;
    p.offset = slice.getOffsets()[last];
    p.width = slice.getSizes()[last];
    p.linear = slice.getInput().getDefiningOp<LinearOp>();
  } else {
    p.linear = v.getDefiningOp<LinearOp>();
    if (p.linear)
      p.width = cast<RankedTensorType>(p.linear.getType()).getShape().back();
  }
  if (!p.linear)
    return std::nullopt;
  return p;
}

std::optional<AttentionBlock> mlir::tfx::matchAttentionBlock(AttentionOp op) {
  AttentionBlock block;
  block.attention = op;
  auto q = matchProjection(op.getQ()), k = matchProjection(op.getK()),
       v = matchProjection(op.getV());
  if (!q || !k || !v)
    return std::nullopt;
  block.q = *q;
  block.k = *k;
  block.v = *v;
  Value result = op.getResult();
  if (!result.hasOneUse())
    return std::nullopt;
  block.out = dyn_cast<LinearOp>(*result.getUsers().begin());
  if (!block.out || block.out.getInput() != result)
    return std::nullopt;
  block.heads = (int64_t)op.getNumHeads();
  block.kvHeads = (int64_t)op.getNumKvHeads();
  block.headDim = op.getHeadDim();
  if (block.q.width != block.heads * block.headDim ||
      block.k.width != block.kvHeads * block.headDim ||
      block.v.width != block.kvHeads * block.headDim)
    return std::nullopt;
  if ((block.q.rope && (int64_t)block.q.rope.getNumHeads() != block.heads) ||
      (block.k.rope && (int64_t)block.k.rope.getNumHeads() != block.kvHeads) ||
      block.v.rope)
    return std::nullopt;
  // A fused linear must feed nothing but this block's slices.
  for (Projection *p : {&block.q, &block.k, &block.v}) {
    if (!p->slice)
      continue;
    for (Operation *user : p->linear.getResult().getUsers())
      if (user != block.q.slice.getOperation() &&
          user != block.k.slice.getOperation() &&
          user != block.v.slice.getOperation())
        return std::nullopt;
  }
  return block;
}

static bool isChannelwiseUnary(Operation *op) {
  return isa<GeluOp, ReluOp, SiluOp, SigmoidOp, TanhOp>(op);
}

/// Collects the linears and elementwise ops that compute `v`.
static bool collectFfnInputs(Value v, FfnBlock &block) {
  if (!v.hasOneUse())
    return false;
  Operation *def = v.getDefiningOp();
  if (!def)
    return false;
  if (auto linear = dyn_cast<LinearOp>(def)) {
    if (llvm::is_contained(block.ups, linear))
      return false;
    block.ups.push_back(linear);
    return true;
  }
  if (isChannelwiseUnary(def)) {
    block.chain.push_back(def);
    return collectFfnInputs(def->getOperand(0), block);
  }
  if (auto mul = dyn_cast<MulOp>(def)) {
    if (mul.getLhs().getType() != mul.getType() ||
        mul.getRhs().getType() != mul.getType())
      return false;
    block.chain.push_back(def);
    return collectFfnInputs(mul.getLhs(), block) &&
           collectFfnInputs(mul.getRhs(), block);
  }
  return false;
}

static std::optional<FfnBlock> matchFfnBlock(LinearOp down) {
  FfnBlock block;
  block.down = down;
  if (!collectFfnInputs(down.getInput(), block) || block.chain.empty() ||
      block.ups.size() > 2)
    return std::nullopt;
  block.width = cast<RankedTensorType>(down.getInput().getType()).getShape().back();
  Value input = block.ups.front().getInput();
  for (LinearOp up : block.ups)
    if (up.getInput() != input ||
        cast<RankedTensorType>(up.getType()).getShape().back() != block.width)
      return std::nullopt;
  llvm::sort(block.chain,
             [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });
  // Gate first: the linear that goes through the activation.
  if (block.ups.size() == 2 && !block.ups[0].getResult().hasOneUse())
    return std::nullopt;
  if (block.ups.size() == 2) {
    Operation *user0 = *block.ups[0].getResult().getUsers().begin();
    if (!isChannelwiseUnary(user0))
      std::swap(block.ups[0], block.ups[1]);
  }
  return block;
}

std::vector<FfnBlock> mlir::tfx::findFfnBlocks(func::FuncOp func) {
  std::vector<FfnBlock> blocks;
  func.walk([&](LinearOp op) {
    if (auto block = matchFfnBlock(op))
      blocks.push_back(*block);
  });
  return blocks;
}

static bool isNorm(Operation *op) { return isa_and_nonnull<LayerNormOp, RmsNormOp>(op); }

/// `v` is `stream` or a norm of it.
static bool readsStream(Value v, Value stream) {
  if (v == stream)
    return true;
  Operation *def = v.getDefiningOp();
  return isNorm(def) && def->getOperand(0) == stream;
}

/// The add of `branch` (its only user) into a residual stream, and that
/// stream.
static std::optional<std::pair<AddOp, Value>> residualAdd(Value branch) {
  if (!branch.hasOneUse())
    return std::nullopt;
  auto add = dyn_cast<AddOp>(*branch.getUsers().begin());
  if (!add || add.getLhs().getType() != add.getRhs().getType())
    return std::nullopt;
  Value stream = add.getLhs() == branch ? add.getRhs() : add.getLhs();
  return std::make_pair(add, stream);
}

std::vector<TransformerLayer> mlir::tfx::analyzeLayers(func::FuncOp func) {
  std::vector<FfnBlock> ffns = findFfnBlocks(func);
  std::vector<TransformerLayer> layers;
  func.walk([&](AttentionOp op) {
    auto block = matchAttentionBlock(op);
    if (!block)
      return;
    TransformerLayer layer;
    layer.attention = *block;
    auto attnAdd = residualAdd(block->out.getResult());
    if (!attnAdd || !readsStream(block->q.linear.getInput(), attnAdd->second) ||
        !readsStream(block->k.linear.getInput(), attnAdd->second) ||
        !readsStream(block->v.linear.getInput(), attnAdd->second)) {
      layers.push_back(layer);
      return;
    }
    Value input = attnAdd->second;
    // Post-LN: the add's only user is a norm, whose output is the stream.
    Value mid = attnAdd->first.getResult();
    bool postNorm = false;
    if (mid.hasOneUse() && isNorm(*mid.getUsers().begin())) {
      mid = (*mid.getUsers().begin())->getResult(0);
      postNorm = true;
    }
    for (FfnBlock &ffn : ffns) {
      if (!readsStream(ffn.ups.front().getInput(), mid))
        continue;
      auto ffnAdd = residualAdd(ffn.down.getResult());
      if (!ffnAdd || ffnAdd->second != mid)
        continue;
      layer.ffn = ffn;
      Value out = ffnAdd->first.getResult();
      if (postNorm) {
        if (!out.hasOneUse() || !isNorm(*out.getUsers().begin()))
          break;
        out = (*out.getUsers().begin())->getResult(0);
      }
      layer.input = input;
      layer.output = out;
      break;
    }
    layers.push_back(layer);
  });
  return layers;
}

LogicalResult mlir::tfx::refreshResultType(Operation *op) {
  if (auto infer = dyn_cast<InferTypeOpInterface>(op)) {
    SmallVector<Type> types;
    if (failed(infer.inferReturnTypes(op->getContext(), op->getLoc(),
                                      op->getOperands(), op->getRawDictionaryAttrs(),
                                      op->getPropertiesStorage(), op->getRegions(),
                                      types)))
      return failure();
    for (auto [result, type] : llvm::zip(op->getResults(), types))
      result.setType(type);
    return success();
  }
  if (op->hasTrait<OpTrait::SameOperandsAndResultType>() &&
      op->getNumOperands() >= 1) {
    for (Value result : op->getResults())
      result.setType(op->getOperand(0).getType());
    return success();
  }
  return op->emitError("cannot recompute the result type of this op");
}

void mlir::tfx::eraseDeadOps(func::FuncOp func) {
  bool changed = true;
  while (changed) {
    changed = false;
    for (Operation &op : llvm::make_early_inc_range(
             llvm::reverse(func.getBody().front().getOperations()))) {
      if (!op.use_empty() || op.getNumResults() == 0)
        continue;
      if (isa<arith::ConstantOp>(op) ||
          (isa<TfxDialect>(op.getDialect()) && isMemoryEffectFree(&op))) {
        op.erase();
        changed = true;
      }
    }
  }
}

llvm::DenseMap<Operation *, std::string> mlir::tfx::linearRoles(func::FuncOp func) {
  llvm::DenseMap<Operation *, std::string> roleOf;
  func->walk([&](AttentionOp op) {
    if (auto b = matchAttentionBlock(op))
      for (LinearOp l : {b->q.linear, b->k.linear, b->v.linear, b->out})
        roleOf[l] = "attention";
  });
  for (FfnBlock &ffn : findFfnBlocks(func)) {
    roleOf[ffn.down] = "ffn";
    for (LinearOp up : ffn.ups)
      roleOf[up] = "ffn";
  }
  return roleOf;
}

FailureOr<SmallVector<std::string>>
mlir::tfx::targetRoles(ModuleOp module, llvm::StringRef pass,
                       llvm::ArrayRef<std::string> targets) {
  SmallVector<std::string> roles(targets.begin(), targets.end());
  if (roles.empty())
    roles = {"ffn", "attention"};
  for (const std::string &r : roles)
    if (r != "ffn" && r != "attention" && r != "other")
      return module.emitError(pass) << ": unknown target '" << r
                                    << "' (ffn, attention, other)";
  return roles;
}
