//===- MapToGpu.cpp - the loops of entry functions onto the GPU -----------===//
//
// Runs on buffers, after scratch assignment. Each entry function's linalg
// ops become loops (parallel dimensions as scf.parallel, reductions as
// scf.for inside), and each top-level loop nest one gpu.launch:
//
//   scf.parallel over N iterations -> ceil(N / 256) blocks of up to 256
//     threads, one iteration per thread; the linear thread id is split
//     innermost-fastest, so that neighbouring threads touch neighbouring
//     elements of row-major buffers (coalesced accesses);
//   an op without parallel dimensions (a full reduction, a scalar) -> one
//     thread.
//
// Every launch names the one kernel module `@tfx_kernels`, so outlining
// puts all kernels (and the memref.globals they read, cloned into the
// launches here) into one cubin. A scalar read on the host (the error flag
// of an index check) becomes a call of `@tfx_gpu_flag` (`@tfx_gpu_read` for
// any other value), which tfx-gpu-lower-launch turns into env->gpu_flag
// (env->gpu_read). Anything else left on the
// host that reads or writes a buffer is reported: generated host code
// cannot dereference device memory.
//
//===----------------------------------------------------------------------===//

#include "GpuLowering.h"
#include "../CPU/Lowering.h"
#include "tfx/Codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"

namespace mlir::tfx {
#define GEN_PASS_DEF_TFXGPUMAPLOOPS
#include "codegen/Passes.h.inc"
} // namespace mlir::tfx

using namespace mlir;
using namespace mlir::tfx;

/// memref.copy becomes linalg.copy, and every linalg op loops; an op
/// without parallel dimensions is first put in a one-iteration scf.parallel
/// so that it gets a (one-thread) launch like the others.
static LogicalResult lowerToLoops(func::FuncOp f, Type mmaType) {
  IRRewriter rewriter(f.getContext());
  SmallVector<memref::CopyOp> copies;
  f.walk([&](memref::CopyOp copy) { copies.push_back(copy); });
  for (memref::CopyOp copy : copies) {
    rewriter.setInsertionPoint(copy);
    linalg::CopyOp::create(rewriter, copy.getLoc(), copy.getSource(), copy.getTarget());
    rewriter.eraseOp(copy);
  }
  SmallVector<linalg::LinalgOp> ops;
  f.walk([&](linalg::LinalgOp op) { ops.push_back(op); });
  for (linalg::LinalgOp op : ops) {
    if (!op.hasPureBufferSemantics())
      return op->emitError("internal error: linalg op on tensors after bufferization");
    if (!op->getParentOfType<scf::ParallelOp>() &&
        (succeeded(emitGpuContraction(op, mmaType)) || succeeded(emitGpuRowReduction(op))))
      continue;
    Location loc = op.getLoc();
    rewriter.setInsertionPoint(op);
    if (op.getNumParallelLoops() == 0 && !op->getParentOfType<scf::ParallelOp>()) {
      Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
      Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
      auto single = scf::ParallelOp::create(rewriter, loc, ValueRange{zero},
                                            ValueRange{one}, ValueRange{one});
      rewriter.setInsertionPoint(single.getBody()->getTerminator());
      Operation *moved = rewriter.clone(*op);
      rewriter.eraseOp(op);
      op = cast<linalg::LinalgOp>(moved);
      rewriter.setInsertionPoint(op);
    }
    if (failed(linalg::linalgOpToParallelLoops(rewriter, op)))
      return op->emitError("cannot be lowered to loops for the GPU");
    rewriter.eraseOp(op);
  }
  return success();
}

/// Replaces a top-level scf.parallel by a gpu.launch of one thread per
/// iteration.
static LogicalResult launchParallel(scf::ParallelOp loop) {
  if (!loop.getInitVals().empty())
    return loop.emitError("parallel loops with reductions are not mapped to the GPU");
  Location loc = loop.getLoc();
  OpBuilder b(loop);
  SmallVector<int64_t> counts;
  int64_t total = 1;
  for (auto [lb, ub, step] :
       llvm::zip(loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) {
    std::optional<int64_t> l = getConstantIntValue(lb), u = getConstantIntValue(ub),
                           s = getConstantIntValue(step);
    if (!l || !u || !s || *s <= 0)
      return loop.emitError("GPU mapping needs static loop bounds");
    int64_t count = *u > *l ? (*u - *l + *s - 1) / *s : 0;
    counts.push_back(count);
    total *= count;
  }
  if (total == 0) {
    loop.erase();
    return success();
  }
  int64_t threads = std::min<int64_t>(total, kGpuBlockThreads);
  int64_t blocks = (total + threads - 1) / threads;
  if (blocks > std::numeric_limits<int32_t>::max())
    return loop.emitError("too many iterations for one launch: ") << total;
  auto cst = [&](OpBuilder &ob, int64_t v) -> Value {
    return arith::ConstantIndexOp::create(ob, loc, v);
  };
  Value one = cst(b, 1);
  auto launch = gpu::LaunchOp::create(
      b, loc, cst(b, blocks), one, one, cst(b, threads), one, one,
      /*dynamicSharedMemorySize=*/nullptr, /*asyncTokenType=*/nullptr,
      /*asyncDependencies=*/{}, /*workgroupAttributions=*/{},
      /*privateAttributions=*/{}, nullptr, nullptr, nullptr,
      FlatSymbolRefAttr::get(b.getContext(), kGpuKernelModule), nullptr);
  Block &body = launch.getBody().front();
  OpBuilder lb = OpBuilder::atBlockBegin(&body);
  Value id = arith::AddIOp::create(
      lb, loc,
      arith::MulIOp::create(lb, loc, launch.getBlockIds().x, cst(lb, threads)),
      launch.getThreadIds().x);
  Value inRange = arith::CmpIOp::create(lb, loc, arith::CmpIPredicate::ult, id,
                                        cst(lb, total));
  auto guard = scf::IfOp::create(lb, loc, inRange, /*withElseRegion=*/false);
  gpu::TerminatorOp::create(lb, loc);

  OpBuilder ib = OpBuilder::atBlockBegin(&guard.getThenRegion().front());
  IRMapping mapping;
  Value rest = id;
  for (int64_t d = (int64_t)counts.size() - 1; d >= 0; --d) {
    Value index = d == 0 ? rest
                         : (Value)arith::RemUIOp::create(ib, loc, rest, cst(ib, counts[d]));
    if (d > 0)
      rest = arith::DivUIOp::create(ib, loc, rest, cst(ib, counts[d]));
    int64_t lbv = *getConstantIntValue(loop.getLowerBound()[d]);
    int64_t step = *getConstantIntValue(loop.getStep()[d]);
    Value iv = index;
    if (step != 1)
      iv = arith::MulIOp::create(ib, loc, iv, cst(ib, step));
    if (lbv != 0)
      iv = arith::AddIOp::create(ib, loc, iv, cst(ib, lbv));
    mapping.map(loop.getInductionVars()[d], iv);
  }
  for (Operation &op : loop.getBody()->without_terminator())
    ib.clone(op, mapping);
  loop.erase();
  return success();
}

/// Clones values the launch body uses that must be materialized on the
/// device side (constants of any kind, globals) into the body.
static void sinkIntoLaunch(gpu::LaunchOp launch) {
  llvm::SetVector<Value> used;
  getUsedValuesDefinedAbove(launch.getBody(), used);
  OpBuilder b = OpBuilder::atBlockBegin(&launch.getBody().front());
  for (Value v : used) {
    Operation *def = v.getDefiningOp();
    if (!def || !(isa<memref::GetGlobalOp>(def) ||
                  (def->hasTrait<OpTrait::ConstantLike>() && def->getNumOperands() == 0)))
      continue;
    Operation *copy = b.clone(*def);
    replaceAllUsesInRegionWith(v, copy->getResult(0), launch.getBody());
  }
}

/// Is `v` an error flag: an i1 that only reaches the entry's returned
/// status through ORs (of i1 flags, then of the zero-extended status), as
/// addErrorFlag builds it and canonicalization merges it?
static bool isStatusFlag(Value v) {
  if (!v.getType().isInteger(1) || !v.hasOneUse())
    return false;
  Operation *user = *v.getUsers().begin();
  while (isa<arith::OrIOp, arith::ExtUIOp>(user)) {
    if (isa<arith::ExtUIOp>(user) && !user->getResult(0).getType().isInteger(32))
      return false;
    if (!user->hasOneUse())
      return false;
    user = *user->getUsers().begin();
  }
  return isa<func::ReturnOp>(user);
}

/// `memref.load %m[%i...]` on the host: the element's device address and
/// a call of @tfx_gpu_read that copies it to the host, or, for an error
/// flag, of @tfx_gpu_flag, which lets the runtime check it once the call's
/// work is done (no wait in the middle of the entry, and CUDA graphs can
/// capture the copy); the flag's place in the status becomes false.
static LogicalResult readOnHost(func::FuncOp f, memref::LoadOp load) {
  Location loc = load.getLoc();
  OpBuilder b(load);
  MLIRContext *ctx = b.getContext();
  Type element = load.getType();
  if (!element.isIntOrFloat() || element.getIntOrFloatBitWidth() > 64)
    return load.emitError("cannot read this element type back from the GPU");
  auto module = f->getParentOfType<ModuleOp>();
  auto i64 = b.getI64Type();
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  bool flag = isStatusFlag(load.getResult());
  StringRef name = flag ? kGpuFlagFunction : kGpuReadFunction;
  auto fnType = b.getFunctionType({ptr, b.getIndexType(), i64},
                                  flag ? TypeRange{} : TypeRange{i64});
  auto callee = module.lookupSymbol<func::FuncOp>(name);
  if (!callee) {
    OpBuilder mb = OpBuilder::atBlockBegin(module.getBody());
    callee = func::FuncOp::create(mb, loc, name, fnType);
    callee.setPrivate();
  }
  auto meta = memref::ExtractStridedMetadataOp::create(b, loc, load.getMemRef());
  Value offset = meta.getOffset();
  for (auto [index, stride] : llvm::zip(load.getIndices(), meta.getStrides()))
    offset = arith::AddIOp::create(b, loc, offset,
                                   arith::MulIOp::create(b, loc, index, stride));
  unsigned bytes = (element.getIntOrFloatBitWidth() + 7) / 8;
  Value base = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, load.getMemRef());
  Value address = arith::AddIOp::create(
      b, loc, base,
      arith::MulIOp::create(b, loc, offset, arith::ConstantIndexOp::create(b, loc, bytes)));
  Value size = arith::ConstantIntOp::create(b, loc, i64, bytes);
  auto call = func::CallOp::create(b, loc, callee, ValueRange{f.getArgument(0), address, size});
  if (flag) {
    load.replaceAllUsesWith((Value)arith::ConstantIntOp::create(b, loc, b.getI1Type(), 0));
    load.erase();
    return success();
  }
  Value word = call.getResult(0);
  unsigned width = element.getIntOrFloatBitWidth();
  Value bits = width == 64 ? word
                           : (Value)arith::TruncIOp::create(b, loc, b.getIntegerType(width), word);
  Value value = isa<FloatType>(element) ? (Value)arith::BitcastOp::create(b, loc, element, bits)
                                        : bits;
  load.replaceAllUsesWith(value);
  load.erase();
  return success();
}

/// Ops that may stay on the host: no memory effects, or effects only on
/// memref metadata (views, casts) and the function's own control.
static bool allowedOnHost(Operation *op) {
  if (isa<gpu::LaunchOp, func::ReturnOp, func::CallOp>(op))
    return true;
  if (isa<memref::ViewOp, memref::SubViewOp, memref::ReinterpretCastOp,
          memref::ExpandShapeOp, memref::CollapseShapeOp, memref::CastOp,
          memref::DimOp, memref::ExtractStridedMetadataOp,
          memref::ExtractAlignedPointerAsIndexOp, memref::GetGlobalOp,
          memref::AssumeAlignmentOp>(op))
    return true;
  return isMemoryEffectFree(op);
}

LogicalResult mlir::tfx::mapEntryToGpu(func::FuncOp f, Type mmaType) {
  if (failed(lowerToLoops(f, mmaType)))
    return failure();
  Block &entry = f.getBody().front();
  for (Operation &op : llvm::make_early_inc_range(entry)) {
    if (auto loop = dyn_cast<scf::ParallelOp>(op)) {
      if (failed(launchParallel(loop)))
        return failure();
    } else if (auto load = dyn_cast<memref::LoadOp>(op)) {
      if (failed(readOnHost(f, load)))
        return failure();
    }
  }
  // Kernels are named after their entry and kind, numbered in launch
  // order (what a profile lists).
  llvm::StringMap<unsigned> counts;
  for (Operation &op : entry) {
    if (auto launch = dyn_cast<gpu::LaunchOp>(op)) {
      sinkIntoLaunch(launch);
      auto kind = launch->getAttrOfType<StringAttr>(kGpuKernelKindAttr);
      StringRef k = kind ? kind.getValue() : "loop";
      std::string name = (f.getName() + "_" + k + Twine(counts[k]++)).str();
      launch.setFunctionAttr(FlatSymbolRefAttr::get(f.getContext(), name));
      launch->removeAttr(kGpuKernelKindAttr);
      continue;
    }
    if (!allowedOnHost(&op))
      return op.emitError("cannot run on the GPU: this op is left on the host "
                          "(the cuda target maps only loop nests to kernels)");
  }
  return success();
}

namespace {
struct MapLoopsPass : mlir::tfx::impl::TfxGpuMapLoopsBase<MapLoopsPass> {
  using TfxGpuMapLoopsBase::TfxGpuMapLoopsBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    Type mmaType;
    // bf16 waits for a lowering: nvgpu.mma.sync deduces no PTX types for it.
    if (matmulPrecision == "f16")
      mmaType = Float16Type::get(&getContext());
    else if (matmulPrecision != "f32")
      return (void)(module.emitError("unknown matmul-precision '")
                        << matmulPrecision << "' (f32, f16)",
                    signalPassFailure());
    for (auto f : llvm::to_vector(module.getOps<func::FuncOp>())) {
      if (f.isExternal())
        continue;
      if (!f->hasAttr(kEntryAttr))
        return (void)(f.emitError("the cuda target supports entry functions only"),
                      signalPassFailure());
      if (!f.getBody().hasOneBlock())
        return (void)(f.emitError("internal error: control flow at the top of an entry"),
                      signalPassFailure());
      if (failed(mapEntryToGpu(f, mmaType)))
        return signalPassFailure();
    }
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                    UnitAttr::get(module.getContext()));
  }
};
} // namespace
