//===- KvCache.cpp - a decoder's forward pass as a cached generation step -===//
//
// The frontends import a decoder as a function of the whole sequence. For
// generation the same graph, imported at the step shape [batch, tokens],
// needs three changes: attention reads earlier tokens from the runtime's
// paged cache, positions start at each sequence's cache length, and the new
// keys and values leave the step as outputs. The step never writes the
// cache: the runtime stores the rows it keeps, so a rejected speculative
// token or a padded prefill row never reaches it, and the compiled code stays
// a pure function with read-only inputs.
//
//===----------------------------------------------------------------------===//

#include "tfx/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "llvm/ADT/BitVector.h"

namespace mlir::tfx {
#define GEN_PASS_DEF_TFXKVCACHE
#include "passes/Passes.h.inc"
} // namespace mlir::tfx

using namespace mlir;
using namespace mlir::tfx;

namespace {

/// Whether `attr` holds integer rows that each read 0, 1, ..., T-1.
bool isPositionRange(DenseIntElementsAttr attr) {
  auto type = cast<RankedTensorType>(attr.getType());
  if (type.getRank() != 2)
    return false;
  int64_t cols = type.getDimSize(1), n = 0;
  for (const APInt &value : attr.getValues<APInt>())
    if (value.getSExtValue() != n++ % cols)
      return false;
  return true;
}

/// An operand that position ids feed: embedding ids, gather indices into a
/// weight table (the learned position embeddings) or rope positions. Sets
/// `tableRows` for a learned table.
bool isPositionUse(OpOperand &use, int64_t &tableRows) {
  Operation *user = use.getOwner();
  auto rowsOf = [](Value table) {
    return cast<RankedTensorType>(table.getType()).getDimSize(0);
  };
  if (auto e = dyn_cast<EmbeddingOp>(user);
      e && use.get() == e.getIds()) {
    tableRows = rowsOf(e.getTable());
    return true;
  }
  if (auto g = dyn_cast<GatherOp>(user); g && use.get() == g.getIndices() &&
                                         g.getAxis() == 0 &&
                                         g.getData().getDefiningOp<WeightOp>()) {
    tableRows = rowsOf(g.getData());
    return true;
  }
  if (auto r = dyn_cast<RopeOp>(user))
    return use.get() == r.getPositions();
  return false;
}

/// Re-infers the result types of the ops that (transitively) use `root`
/// after its type changed, stopping where a type stays the same.
LogicalResult propagateTypes(Value root) {
  SmallVector<Value> work = {root};
  while (!work.empty()) {
    Value v = work.pop_back_val();
    for (Operation *user : llvm::to_vector(v.getUsers())) {
      if (isa<func::ReturnOp>(user))
        return user->emitError("position ids reach the function's results");
      auto infer = dyn_cast<InferTypeOpInterface>(user);
      if (!infer)
        return user->emitError("position ids reach '")
               << user->getName()
               << "', whose shape does not follow its operands; import the "
                  "decoder with batch 1";
      SmallVector<Type> types;
      if (failed(infer.inferReturnTypes(
              user->getContext(), user->getLoc(), user->getOperands(),
              user->getRawDictionaryAttrs(), user->getPropertiesStorage(),
              user->getRegions(), types)))
        return failure();
      for (auto [result, type] : llvm::zip(user->getResults(), types))
        if (result.getType() != type) {
          result.setType(type);
          work.push_back(result);
        }
    }
  }
  return success();
}

struct StepShape {
  int64_t batch = 0, tokens = 0, kvWidth = 0;
  Type element;
};

struct KvCachePass : mlir::tfx::impl::TfxKvCacheBase<KvCachePass> {
  using TfxKvCacheBase::TfxKvCacheBase;

  void runOnOperation() override {
    if (blockSize <= 0 || context < 0 || blocks < 0) {
      getOperation().emitError("tfx-kv-cache: block-size must be positive, "
                               "context and blocks non-negative");
      return signalPassFailure();
    }
    for (func::FuncOp f : llvm::to_vector(getOperation().getOps<func::FuncOp>()))
      if (f.isPublic() && !f.isExternal() && failed(convert(f)))
        return signalPassFailure();
  }

  FailureOr<StepShape> checkAttentions(func::FuncOp f,
                                       ArrayRef<AttentionOp> attentions) {
    StepShape shape;
    for (AttentionOp a : attentions) {
      auto q = cast<RankedTensorType>(a.getQ().getType());
      auto k = cast<RankedTensorType>(a.getK().getType());
      if (!a.getCausal() || a.getKind() != AttentionKind::softmax)
        return a.emitError("tfx-kv-cache needs causal softmax attention "
                           "(a decoder); this one is not");
      if (!q.hasStaticShape() || !k.hasStaticShape() ||
          q.getDimSize(1) != k.getDimSize(1))
        return a.emitError("tfx-kv-cache needs self-attention with static "
                           "shapes, got q ")
               << q << " and k " << k;
      if (!shape.element) {
        shape = {q.getDimSize(0), q.getDimSize(1), k.getDimSize(2),
                 q.getElementType()};
      } else if (q.getDimSize(0) != shape.batch ||
                 q.getDimSize(1) != shape.tokens ||
                 k.getDimSize(2) != shape.kvWidth ||
                 q.getElementType() != shape.element) {
        return a.emitError("tfx-kv-cache needs every layer to share the "
                           "step shape and key/value width; this layer has q ")
               << q << " and k " << k;
      }
      if (Value mask = a.getMask()) {
        auto arg = dyn_cast<BlockArgument>(mask);
        if (!arg || arg.getOwner() != &f.front())
          return a.emitError("tfx-kv-cache: the attention mask must be an "
                             "argument of the function");
        for (Operation *user : arg.getUsers())
          if (!isa<AttentionOp>(user))
            return user->emitError("tfx-kv-cache: the attention mask "
                                   "(argument #")
                   << arg.getArgNumber()
                   << ") is also used here; a cached step has no padding mask";
      }
    }
    return shape;
  }

  LogicalResult convert(func::FuncOp f) {
    SmallVector<AttentionOp> attentions;
    f.walk([&](AttentionOp a) { attentions.push_back(a); });
    if (attentions.empty())
      return f.emitError("tfx-kv-cache: '")
             << f.getSymName() << "' has no tfx.attention; not a decoder";
    FailureOr<StepShape> shape = checkAttentions(f, attentions);
    if (failed(shape))
      return failure();
    MLIRContext *ctx = f.getContext();
    OpBuilder b(ctx);
    Location loc = f.getLoc();
    int64_t batch = shape->batch, tokens = shape->tokens;
    int64_t layers = attentions.size();

    // Position ids: constants reading 0..T-1 per row where an embedding,
    // gather or rope takes positions; rope without positions counts too.
    SmallVector<OpOperand *> positionUses;
    SmallVector<RopeOp> implicitRopes;
    int64_t tableRows = 0;
    f.walk([&](Operation *op) {
      if (auto rope = dyn_cast<RopeOp>(op)) {
        if (!rope.getPositions())
          implicitRopes.push_back(rope);
        return;
      }
      auto constant = dyn_cast<arith::ConstantOp>(op);
      if (!constant)
        return;
      auto attr = dyn_cast<DenseIntElementsAttr>(constant.getValue());
      if (!attr || !isPositionRange(attr) ||
          cast<RankedTensorType>(attr.getType()).getDimSize(1) != tokens)
        return;
      for (OpOperand &use : constant->getUses()) {
        int64_t rows = 0;
        if (isPositionUse(use, rows)) {
          positionUses.push_back(&use);
          if (rows)
            tableRows = tableRows ? std::min(tableRows, rows) : rows;
        }
      }
    });
    if (positionUses.empty() && implicitRopes.empty())
      return f.emitError("tfx-kv-cache: found no position ids in '")
             << f.getSymName()
             << "' (a constant 0..T-1 feeding an embedding, gather or rope, "
                "or a rope without positions)";

    int64_t tokensPerSequence = context ? context : tableRows ? tableRows : 1024;
    if (tableRows && tokensPerSequence > tableRows)
      return f.emitError("tfx-kv-cache: context ")
             << tokensPerSequence << " exceeds the learned position table ("
             << tableRows << " positions)";
    int64_t maxBlocks = tokensPerSequence / blockSize;
    if (maxBlocks == 0)
      return f.emitError("tfx-kv-cache: context ")
             << tokensPerSequence << " is less than one block of " << (int64_t)blockSize;
    int64_t poolBlocks = blocks ? blocks : batch * maxBlocks;

    // The new arguments, after the existing ones.
    Type i64 = b.getI64Type(), i32 = b.getI32Type();
    auto named = [&](StringRef name) {
      return b.getDictionaryAttr(b.getNamedAttr(kNameAttr, b.getStringAttr(name)));
    };
    unsigned first = f.getNumArguments();
    std::pair<StringRef, Type> newArgs[] = {
        {"cache_lengths", RankedTensorType::get({batch}, i64)},
        {"block_table", RankedTensorType::get({batch, maxBlocks}, i32)},
        {"k_cache", RankedTensorType::get(
                        {poolBlocks, layers, shape->kvWidth, blockSize},
                        shape->element)},
        {"v_cache", RankedTensorType::get(
                        {poolBlocks, layers, blockSize, shape->kvWidth},
                        shape->element)}};
    for (auto [i, arg] : llvm::enumerate(newArgs))
      if (failed(f.insertArgument(first + i, arg.second, named(arg.first), loc)))
        return failure();
    Value lengths = f.getArgument(first), table = f.getArgument(first + 1);
    Value kCache = f.getArgument(first + 2), vCache = f.getArgument(first + 3);

    // positions[b, t] = cache_lengths[b] + t
    b.setInsertionPointToStart(&f.front());
    Value column = ReshapeOp::create(
        b, loc, RankedTensorType::get({batch, 1}, i64), lengths);
    SmallVector<int64_t> range;
    for (int64_t t = 0; t < tokens; ++t)
      range.push_back(t);
    auto rangeType = RankedTensorType::get({1, tokens}, i64);
    Value offsets = arith::ConstantOp::create(
        b, loc, DenseIntElementsAttr::get(rangeType, ArrayRef<int64_t>(range)));
    FailureOr<AddOp> positions =
        createInferred<AddOp>(b, loc, column, offsets);
    if (failed(positions))
      return failure();
    Value pos = positions->getResult();
    for (OpOperand *use : positionUses) {
      use->set(pos);
      // The user's result may now be batch-wide ([1,T] ids became [B,T]).
      Operation *user = use->getOwner();
      auto infer = dyn_cast<InferTypeOpInterface>(user);
      SmallVector<Type> types;
      if (!infer || failed(infer.inferReturnTypes(
                        ctx, user->getLoc(), user->getOperands(),
                        user->getRawDictionaryAttrs(),
                        user->getPropertiesStorage(), user->getRegions(), types)))
        return user->emitError("tfx-kv-cache: cannot give this op per-sequence "
                               "positions");
      if (user->getResult(0).getType() != types[0]) {
        user->getResult(0).setType(types[0]);
        if (failed(propagateTypes(user->getResult(0))))
          return failure();
      }
    }
    for (RopeOp rope : implicitRopes)
      rope.getPositionsMutable().assign(pos);
    // The position constants are dead now.
    f.walk([&](arith::ConstantOp c) {
      if (c->use_empty() && isa<DenseIntElementsAttr>(c.getValue()))
        c->erase();
    });

    // Attention over the cache; the new keys and values leave the step.
    SmallVector<Value> newKeys, newValues;
    SmallVector<unsigned> maskArgs;
    auto rowType = RankedTensorType::get({1, batch, tokens, shape->kvWidth},
                                         shape->element);
    for (auto [layer, a] : llvm::enumerate(attentions)) {
      b.setInsertionPoint(a);
      if (Value mask = a.getMask())
        maskArgs.push_back(cast<BlockArgument>(mask).getArgNumber());
      auto paged = createInferred<PagedAttentionOp>(
          b, a.getLoc(), a.getQ(), a.getK(), a.getV(), kCache, vCache, table,
          lengths, a.getNumHeads(), a.getNumKvHeads(), a.getScale(),
          (uint64_t)layer, a.getWindow());
      if (failed(paged))
        return failure();
      newKeys.push_back(ReshapeOp::create(b, a.getLoc(), rowType, a.getK()));
      newValues.push_back(ReshapeOp::create(b, a.getLoc(), rowType, a.getV()));
      a.getResult().replaceAllUsesWith(paged->getResult());
      a.erase();
    }
    auto ret = cast<func::ReturnOp>(f.front().getTerminator());
    b.setInsertionPoint(ret);
    unsigned resultIndex = f.getNumResults();
    for (auto [name, rows] : {std::pair<StringRef, ArrayRef<Value>>{"new_k", newKeys},
                              {"new_v", newValues}}) {
      Value all = rows.front();
      if (rows.size() > 1) {
        auto concat = createInferred<ConcatOp>(b, loc, rows, (uint64_t)0);
        if (failed(concat))
          return failure();
        all = concat->getResult();
      }
      ret.getOperandsMutable().append(all);
      if (failed(f.insertResult(resultIndex, all.getType(), named(name))))
        return failure();
      ++resultIndex;
    }

    // The padding mask is gone.
    llvm::sort(maskArgs);
    maskArgs.erase(std::unique(maskArgs.begin(), maskArgs.end()), maskArgs.end());
    llvm::BitVector erase(f.getNumArguments());
    for (unsigned i : maskArgs)
      erase.set(i);
    if (failed(f.eraseArguments(erase)))
      return failure();
    return success();
  }
};

} // namespace
