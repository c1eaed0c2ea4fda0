//===- ReductionKernel.cpp - row reductions as one block per row ----------===//
//
// A linalg op on buffers with one reduction dimension whose body folds each
// element into the output with one associative, commutative operation
// (`out = out + f(x)`, `max(out, f(x))`, ...: softmax's max and sum, the
// norms' sums) becomes a launch of one block per output element:
//
//   the block's threads walk the reduction dimension with a stride of the
//   block size, each folding its elements into a private partial that
//   starts at the operation's identity (the op's own body, run with `out`
//   replaced by the partial); the partials are combined in shared memory by
//   a tree of halvings; thread 0 folds the total into the output's initial
//   value and stores it.
//
// The block has 256 threads, or the reduction extent rounded up to a power
// of two when that is smaller. Reductions shorter than 32 elements
// keep a thread per output element. The order of the additions differs from
// a sequential loop, so sums agree to rounding.
//
//===----------------------------------------------------------------------===//

#include "GpuLowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"

using namespace mlir;
using namespace mlir::tfx;

static constexpr int64_t kMinReduction = 32;

/// The identity of a combining op, or null for one that is not a
/// supported associative and commutative reduction.
static TypedAttr identityOf(Operation *combiner, Type type) {
  Builder b(type.getContext());
  if (auto f = dyn_cast<FloatType>(type)) {
    const llvm::fltSemantics &sem = f.getFloatSemantics();
    if (isa<arith::AddFOp>(combiner))
      return b.getFloatAttr(type, 0.0);
    if (isa<arith::MulFOp>(combiner))
      return b.getFloatAttr(type, 1.0);
    if (isa<arith::MaximumFOp, arith::MaxNumFOp>(combiner))
      return b.getFloatAttr(type, APFloat::getInf(sem, /*Negative=*/true));
    if (isa<arith::MinimumFOp, arith::MinNumFOp>(combiner))
      return b.getFloatAttr(type, APFloat::getInf(sem, /*Negative=*/false));
    return nullptr;
  }
  auto i = dyn_cast<IntegerType>(type);
  if (!i)
    return nullptr;
  unsigned w = i.getWidth();
  if (isa<arith::AddIOp, arith::OrIOp, arith::XOrIOp>(combiner))
    return b.getIntegerAttr(type, APInt::getZero(w));
  if (isa<arith::AndIOp>(combiner))
    return b.getIntegerAttr(type, APInt::getAllOnes(w));
  if (isa<arith::MaxSIOp>(combiner))
    return b.getIntegerAttr(type, APInt::getSignedMinValue(w));
  if (isa<arith::MinSIOp>(combiner))
    return b.getIntegerAttr(type, APInt::getSignedMaxValue(w));
  return nullptr;
}

LogicalResult mlir::tfx::emitGpuRowReduction(linalg::LinalgOp op) {
  auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
  if (!generic || generic.getNumDpsInits() != 1 || op.getNumReductionLoops() != 1 ||
      !op.hasPureBufferSemantics())
    return failure();
  SmallVector<int64_t> extents = op.getStaticLoopRanges();
  if (llvm::any_of(extents, ShapedType::isDynamic))
    return failure();
  SmallVector<unsigned> reductionDims;
  op.getReductionDims(reductionDims);
  unsigned rdim = reductionDims.front();
  int64_t reduction = extents[rdim];
  if (reduction < kMinReduction)
    return failure();
  // The body must end in combiner(out, t) where t does not use out.
  Block *body = generic.getBody();
  BlockArgument out = body->getArguments().back();
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  Operation *combiner = yield.getOperand(0).getDefiningOp();
  if (!combiner || combiner->getBlock() != body || combiner->getNumOperands() != 2 ||
      combiner->getNumResults() != 1 || !out.hasOneUse() ||
      out.getUses().begin()->getOwner() != combiner)
    return failure();
  TypedAttr identity = identityOf(combiner, out.getType());
  if (!identity)
    return failure();
  unsigned outOperand = combiner->getOperand(0) == out ? 0 : 1;
  for (AffineMap map : op.getIndexingMapsArray())
    if (!map.isProjectedPermutation())
      return failure();

  Location loc = op.getLoc();
  MLIRContext *ctx = op.getContext();
  OpBuilder b(op);
  auto cst = [&](OpBuilder &ob, int64_t v) -> Value {
    return arith::ConstantIndexOp::create(ob, loc, v);
  };
  int64_t rows = 1;
  SmallVector<unsigned> parallelDims;
  for (unsigned d = 0; d < extents.size(); ++d)
    if (d != rdim) {
      parallelDims.push_back(d);
      rows *= extents[d];
    }
  if (rows > std::numeric_limits<int32_t>::max())
    return failure();
  // A power of two for the tree: 256, or fewer for short rows.
  int64_t tree = llvm::PowerOf2Ceil(std::min<int64_t>(kGpuBlockThreads, reduction));
  Type element = out.getType();
  auto workgroup = gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  auto sharedType = MemRefType::get({tree}, element, MemRefLayoutAttrInterface(), workgroup);
  Value one = cst(b, 1);
  auto launch = gpu::LaunchOp::create(
      b, loc, cst(b, rows), one, one, cst(b, tree), one, one, nullptr, nullptr, {},
      TypeRange{sharedType}, {}, nullptr, nullptr, nullptr,
      FlatSymbolRefAttr::get(ctx, kGpuKernelModule), nullptr);
  launch->setAttr(kGpuKernelKindAttr, b.getStringAttr("reduce"));
  Value shared = launch.getWorkgroupAttributions()[0];
  OpBuilder kb = OpBuilder::atBlockBegin(&launch.getBody().front());
  Value tid = launch.getThreadIds().x;

  // The block's output element.
  SmallVector<Value> ivs(extents.size());
  Value rest = launch.getBlockIds().x;
  for (int64_t k = (int64_t)parallelDims.size() - 1; k >= 0; --k) {
    unsigned d = parallelDims[k];
    ivs[d] = k == 0 ? rest : (Value)arith::RemUIOp::create(kb, loc, rest, cst(kb, extents[d]));
    if (k > 0)
      rest = arith::DivUIOp::create(kb, loc, rest, cst(kb, extents[d]));
  }
  auto operandIndices = [&](OpBuilder &ob, AffineMap map) {
    SmallVector<Value> indices;
    for (AffineExpr e : map.getResults()) {
      auto dim = cast<AffineDimExpr>(e);
      indices.push_back(ivs[dim.getPosition()]);
    }
    (void)ob;
    return indices;
  };
  // Each thread folds elements tid, tid + tree, ... into its partial.
  Value start = arith::ConstantOp::create(kb, loc, identity);
  auto loop = scf::ForOp::create(
      kb, loc, tid, cst(kb, reduction), cst(kb, tree), ValueRange{start},
      [&](OpBuilder &lb, Location, Value r, ValueRange partial) {
        ivs[rdim] = r;
        IRMapping mapping;
        for (OpOperand *input : op.getDpsInputOperands()) {
          Value v = input->get();
          SmallVector<Value> idx = operandIndices(lb, op.getMatchingIndexingMap(input));
          Value loaded = isa<MemRefType>(v.getType())
                             ? (Value)memref::LoadOp::create(lb, loc, v, idx)
                             : v;
          mapping.map(body->getArgument(input->getOperandNumber()), loaded);
        }
        mapping.map(out, partial[0]);
        for (Operation &inner : body->without_terminator()) {
          if (auto index = dyn_cast<linalg::IndexOp>(inner)) {
            mapping.map(index.getResult(), ivs[index.getDim()]);
            continue;
          }
          lb.clone(inner, mapping);
        }
        scf::YieldOp::create(lb, loc, ValueRange{mapping.lookup(yield.getOperand(0))});
      });
  auto combine = [&](OpBuilder &ob, Value x, Value y) -> Value {
    IRMapping m;
    m.map(combiner->getOperand(outOperand), x);
    m.map(combiner->getOperand(1 - outOperand), y);
    return ob.clone(*combiner, m)->getResult(0);
  };
  memref::StoreOp::create(kb, loc, loop.getResult(0), shared, ValueRange{tid});
  gpu::BarrierOp::create(kb, loc);
  for (int64_t half = tree / 2; half >= 1; half /= 2) {
    Value active = arith::CmpIOp::create(kb, loc, arith::CmpIPredicate::ult, tid, cst(kb, half));
    scf::IfOp::create(kb, loc, active, [&](OpBuilder &tb, Location l) {
      Value mine = memref::LoadOp::create(tb, l, shared, ValueRange{tid});
      Value other = memref::LoadOp::create(
          tb, l, shared, ValueRange{arith::AddIOp::create(tb, l, tid, cst(tb, half))});
      memref::StoreOp::create(tb, l, combine(tb, mine, other), shared, ValueRange{tid});
      scf::YieldOp::create(tb, l);
    });
    gpu::BarrierOp::create(kb, loc);
  }
  Value first = arith::CmpIOp::create(kb, loc, arith::CmpIPredicate::eq, tid, cst(kb, 0));
  OpOperand *init = op.getDpsInitOperand(0);
  scf::IfOp::create(kb, loc, first, [&](OpBuilder &tb, Location l) {
    SmallVector<Value> idx = operandIndices(tb, op.getMatchingIndexingMap(init));
    Value total = memref::LoadOp::create(tb, l, shared, ValueRange{cst(tb, 0)});
    Value old = memref::LoadOp::create(tb, l, init->get(), idx);
    memref::StoreOp::create(tb, l, combine(tb, old, total), init->get(), idx);
    scf::YieldOp::create(tb, l);
  });
  gpu::TerminatorOp::create(kb, loc);
  op->erase();
  return success();
}
