//===- AssignScratch.cpp - entry buffers in the runtime's scratch memory --===//
//
// Generated code allocates nothing: the runtime lends each call a scratch
// block of the size the descriptor states. Buffers of an entry's top level
// get offsets in it by first-fit over their live ranges (program order of
// the top-level ops that touch the buffer or a view of it), so that layers
// reuse the memory of earlier layers. Buffers allocated inside parallel
// loop bodies are per-iteration temporaries and go on the stack.
//
//===----------------------------------------------------------------------===//

#include "Lowering.h"
#include "tfx/Codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/Support/MathExtras.h"

namespace mlir::tfx {
#define GEN_PASS_DEF_TFXCPUASSIGNSCRATCH
#include "codegen/Passes.h.inc"
} // namespace mlir::tfx

using namespace mlir;
using namespace mlir::tfx;

static constexpr int64_t kScratchAlignment = 64;

namespace {
struct Buffer {
  memref::AllocOp alloc;
  int64_t bytes = 0, start = 0, end = 0, offset = 0;
};
} // namespace

/// The op of `block` that contains `op`.
static Operation *topLevelAncestor(Block &block, Operation *op) {
  while (op && op->getBlock() != &block)
    op = op->getParentOp();
  return op;
}

/// Position (in `order`) of the last top-level op using `value` or a view
/// of it.
static int64_t lastUse(Block &block, Value value,
                       const DenseMap<Operation *, int64_t> &order) {
  int64_t last = 0;
  SmallVector<Value> worklist = {value};
  DenseSet<Value> seen = {value};
  while (!worklist.empty()) {
    Value v = worklist.pop_back_val();
    for (Operation *user : v.getUsers()) {
      if (Operation *top = topLevelAncestor(block, user))
        last = std::max(last, order.lookup(top));
      // Any memref an op returns may alias its memref operands (views,
      // casts, loop results): follow them all, which at worst keeps a
      // buffer alive longer than needed.
      for (Value r : user->getResults())
        if (isa<MemRefType>(r.getType()) && seen.insert(r).second)
          worklist.push_back(r);
    }
  }
  return last;
}

static LogicalResult assignScratch(func::FuncOp f) {
  Block &block = f.front();
  DenseMap<Operation *, int64_t> order;
  int64_t position = 0;
  for (Operation &op : block)
    order[&op] = position++;

  SmallVector<Buffer> buffers;
  SmallVector<memref::AllocOp> stackAllocs;
  WalkResult walk = f.walk([&](memref::AllocOp alloc) {
    MemRefType type = alloc.getType();
    if (!type.hasStaticShape() || !type.getLayout().isIdentity()) {
      alloc.emitError("internal error: scratch buffers need static shapes");
      return WalkResult::interrupt();
    }
    if (alloc->getParentOfType<scf::ForallOp>()) {
      stackAllocs.push_back(alloc);
      return WalkResult::advance();
    }
    if (alloc->getBlock() != &block) {
      alloc.emitError("internal error: buffer allocated inside a sequential loop");
      return WalkResult::interrupt();
    }
    Buffer buffer;
    buffer.alloc = alloc;
    buffer.bytes = std::max<int64_t>(
        1, type.getNumElements() *
               (int64_t)llvm::divideCeil(type.getElementTypeBitWidth(), 8));
    buffer.start = order.lookup(alloc);
    buffer.end = std::max(buffer.start, lastUse(block, alloc.getResult(), order));
    buffers.push_back(buffer);
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();

  // First fit, largest buffers first: big activations claim the low
  // offsets and small ones fill the gaps.
  SmallVector<Buffer *> bySize;
  for (Buffer &b : buffers)
    bySize.push_back(&b);
  llvm::stable_sort(bySize, [](Buffer *a, Buffer *b) { return a->bytes > b->bytes; });
  SmallVector<Buffer *> placed;
  int64_t total = 0;
  for (Buffer *buffer : bySize) {
    SmallVector<std::pair<int64_t, int64_t>> busy;
    for (Buffer *other : placed)
      if (other->start <= buffer->end && buffer->start <= other->end)
        busy.push_back({other->offset, other->offset + other->bytes});
    llvm::sort(busy);
    int64_t offset = 0;
    for (auto [from, to] : busy) {
      if (offset + buffer->bytes <= from)
        break;
      offset = std::max<int64_t>(offset, llvm::alignTo(to, kScratchAlignment));
    }
    buffer->offset = offset;
    total = std::max(total, offset + buffer->bytes);
    placed.push_back(buffer);
  }

  OpBuilder b(f.getContext());
  Value scratch = f.getArgument(2);
  for (Buffer &buffer : buffers) {
    b.setInsertionPoint(buffer.alloc);
    Location loc = buffer.alloc.getLoc();
    Value offset = arith::ConstantIndexOp::create(b, loc, buffer.offset);
    Value view = memref::ViewOp::create(b, loc, buffer.alloc.getType(), scratch,
                                        offset, ValueRange{});
    buffer.alloc.getResult().replaceAllUsesWith(view);
    buffer.alloc.erase();
  }
  for (memref::AllocOp alloc : stackAllocs) {
    b.setInsertionPoint(alloc);
    auto alloca = memref::AllocaOp::create(b, alloc.getLoc(), alloc.getType());
    alloc.getResult().replaceAllUsesWith(alloca.getResult());
    alloc.erase();
  }
  SmallVector<memref::DeallocOp> deallocs;
  f.walk([&](memref::DeallocOp d) { deallocs.push_back(d); });
  for (memref::DeallocOp d : deallocs)
    d.erase();
  f->setAttr(kScratchBytesAttr,
             b.getI64IntegerAttr((int64_t)llvm::alignTo(total, kScratchAlignment)));
  return success();
}

/// memref.copy between strided views would become a call of the MLIR
/// runtime's memrefCopy: turn those into loops (linalg.copy) instead.
static void expandStridedCopies(func::FuncOp f) {
  SmallVector<memref::CopyOp> copies;
  f.walk([&](memref::CopyOp copy) {
    auto source = cast<MemRefType>(copy.getSource().getType());
    auto target = cast<MemRefType>(copy.getTarget().getType());
    if (!source.getLayout().isIdentity() || !target.getLayout().isIdentity())
      copies.push_back(copy);
  });
  OpBuilder b(f.getContext());
  for (memref::CopyOp copy : copies) {
    b.setInsertionPoint(copy);
    linalg::CopyOp::create(b, copy.getLoc(), copy.getSource(), copy.getTarget());
    copy.erase();
  }
}

namespace {
struct AssignScratchPass
    : mlir::tfx::impl::TfxCpuAssignScratchBase<AssignScratchPass> {
  using TfxCpuAssignScratchBase::TfxCpuAssignScratchBase;
  void runOnOperation() override {
    for (auto f : getOperation().getOps<func::FuncOp>()) {
      if (!f->hasAttr(kEntryAttr))
        continue;
      expandStridedCopies(f);
      if (failed(assignScratch(f)))
        return signalPassFailure();
    }
  }
};
} // namespace
