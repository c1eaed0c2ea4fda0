//===- OutlineParallel.cpp - scf.forall bodies to dispatched functions ----===//
//
// An outermost scf.forall of an entry becomes
//   func.call @<entry>_par<N>_dispatch(%env, %count, captures...)
// and its body the function @<entry>_par<N>(%i, captures...), which
// recovers the induction variables from the linear index %i. The dispatch
// declaration carries `tfx.dispatch_body`; after the conversion to LLVM,
// tfx-cpu-lower-dispatch replaces its calls by env->parallel_for with a
// closure, when every capture has become plain LLVM values.
//
//===----------------------------------------------------------------------===//

#include "Lowering.h"
#include "tfx/Codegen/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/RegionUtils.h"

namespace mlir::tfx {
#define GEN_PASS_DEF_TFXCPUOUTLINEPARALLEL
#include "codegen/Passes.h.inc"
} // namespace mlir::tfx

using namespace mlir;
using namespace mlir::tfx;

/// Attribute of a dispatch declaration naming its body function.
static constexpr llvm::StringLiteral kDispatchBodyAttr = "tfx.dispatch_body";

/// Values that are cheaper to recreate in the body than to pass.
static bool isRematerializable(Value v) {
  Operation *def = v.getDefiningOp();
  return def && def->hasTrait<OpTrait::ConstantLike>() && def->getNumOperands() == 0;
}

static LogicalResult outline(func::FuncOp entry, scf::ForallOp forall,
                             unsigned index) {
  MLIRContext *ctx = entry.getContext();
  Location loc = forall.getLoc();
  OpBuilder b(forall);
  ModuleOp module = entry->getParentOfType<ModuleOp>();

  // The iteration count of each dimension, and in all.
  SmallVector<Value> lbs = getValueOrCreateConstantIndexOp(b, loc, forall.getMixedLowerBound());
  SmallVector<Value> ubs = getValueOrCreateConstantIndexOp(b, loc, forall.getMixedUpperBound());
  SmallVector<Value> steps = getValueOrCreateConstantIndexOp(b, loc, forall.getMixedStep());
  SmallVector<Value> counts;
  Value total = arith::ConstantIndexOp::create(b, loc, 1);
  for (auto [lb, ub, step] : llvm::zip(lbs, ubs, steps)) {
    Value span = arith::SubIOp::create(b, loc, ub, lb);
    Value count = arith::CeilDivSIOp::create(b, loc, span, step);
    counts.push_back(count);
    total = arith::MulIOp::create(b, loc, total, count);
  }

  // Captures: what the body uses from above, less constants.
  llvm::SetVector<Value> used;
  getUsedValuesDefinedAbove(forall.getRegion(), used);
  SmallVector<Value> captures, constants;
  for (Value v : used)
    (isRematerializable(v) ? constants : captures).push_back(v);
  // Bounds and steps are also needed inside to rebuild the indices.
  auto capture = [&](Value v) {
    if (isRematerializable(v)) {
      if (!llvm::is_contained(constants, v))
        constants.push_back(v);
    } else if (!llvm::is_contained(captures, v)) {
      captures.push_back(v);
    }
  };
  for (ValueRange group : {ValueRange(lbs), ValueRange(steps), ValueRange(counts)})
    for (Value v : group)
      capture(v);

  std::string name = (entry.getSymName() + "_par" + Twine(index)).str();
  SmallVector<Type> bodyTypes = {b.getIndexType()};
  for (Value v : captures)
    bodyTypes.push_back(v.getType());
  OpBuilder mb = OpBuilder::atBlockEnd(module.getBody());
  auto body = func::FuncOp::create(mb, loc, name, FunctionType::get(ctx, bodyTypes, {}));
  body.setPrivate();
  Block *block = body.addEntryBlock();
  OpBuilder bb = OpBuilder::atBlockBegin(block);
  IRMapping mapping;
  for (Value c : constants)
    mapping.map(c, bb.clone(*c.getDefiningOp())->getResult(0));
  for (auto [i, v] : llvm::enumerate(captures))
    mapping.map(v, block->getArgument(i + 1));
  // Delinearize: the last dimension varies fastest.
  Value rest = block->getArgument(0);
  SmallVector<Value> ivs(counts.size());
  for (int64_t d = (int64_t)counts.size() - 1; d >= 0; --d) {
    Value count = mapping.lookupOrDefault(counts[d]);
    Value within = d == 0 ? rest : (Value)arith::RemUIOp::create(bb, loc, rest, count);
    if (d > 0)
      rest = arith::DivUIOp::create(bb, loc, rest, count);
    Value scaled = arith::MulIOp::create(bb, loc, within, mapping.lookupOrDefault(steps[d]));
    ivs[d] = arith::AddIOp::create(bb, loc, scaled, mapping.lookupOrDefault(lbs[d]));
  }
  for (auto [iv, value] : llvm::zip(forall.getInductionVars(), ivs))
    mapping.map(iv, value);
  for (Operation &op : forall.getBody()->without_terminator())
    bb.clone(op, mapping);
  func::ReturnOp::create(bb, loc);
  // Stack temporaries at the top of the body: one frame per call, not one
  // per inner loop iteration.
  body.walk([&](memref::AllocaOp alloca) {
    if (alloca->getBlock() != block && alloca->getNumOperands() == 0)
      alloca->moveBefore(block, block->begin());
  });

  // The declaration that tfx-cpu-lower-dispatch implements.
  SmallVector<Type> dispatchTypes = {LLVM::LLVMPointerType::get(ctx), b.getIndexType()};
  for (Value v : captures)
    dispatchTypes.push_back(v.getType());
  auto dispatch = func::FuncOp::create(mb, loc, name + "_dispatch",
                                       FunctionType::get(ctx, dispatchTypes, {}));
  dispatch.setPrivate();
  dispatch->setAttr(kDispatchBodyAttr, FlatSymbolRefAttr::get(body.getSymNameAttr()));
  SmallVector<Value> operands = {entry.getArgument(0), total};
  operands.append(captures);
  func::CallOp::create(b, loc, dispatch, operands);
  forall.erase();
  return success();
}

/// Turns the foralls left in `op` (nested ones) into sequential loops.
static LogicalResult sequentialize(Operation *op) {
  SmallVector<scf::ForallOp> nested;
  op->walk([&](scf::ForallOp f) { nested.push_back(f); });
  IRRewriter rewriter(op->getContext());
  for (scf::ForallOp f : llvm::reverse(nested)) {
    if (!f.getOutputs().empty())
      return f.emitError("internal error: forall with tensor outputs after bufferization");
    rewriter.setInsertionPoint(f);
    if (failed(scf::forallToForLoop(rewriter, f)))
      return failure();
  }
  return success();
}

namespace {
struct OutlineParallelPass
    : mlir::tfx::impl::TfxCpuOutlineParallelBase<OutlineParallelPass> {
  using TfxCpuOutlineParallelBase::TfxCpuOutlineParallelBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (auto entry : llvm::to_vector(module.getOps<func::FuncOp>())) {
      if (!entry->hasAttr(kEntryAttr))
        continue;
      SmallVector<scf::ForallOp> outermost;
      entry.walk([&](scf::ForallOp f) {
        if (!f->getParentOfType<scf::ForallOp>())
          outermost.push_back(f);
      });
      unsigned index = 0;
      for (scf::ForallOp f : outermost) {
        if (!f.getOutputs().empty()) {
          f.emitError("internal error: forall with tensor outputs after bufferization");
          return signalPassFailure();
        }
        if (failed(outline(entry, f, index++)))
          return signalPassFailure();
      }
    }
    // Nested foralls (and any outside entries) run sequentially.
    if (failed(sequentialize(module)))
      return signalPassFailure();
  }
};
} // namespace
