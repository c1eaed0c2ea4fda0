//===- LowerLaunch.cpp - gpu.launch_func to env->gpu_launch ---------------===//
//
// Runs on the LLVM dialect after gpu-module-to-binary. The serialized
// kernel module (gpu.binary @tfx_kernels) becomes a constant global
// `tfx_gpu_image`; each launch becomes
//
//   params[k] = &argument_k                          (stack slots)
//   env->gpu_launch(env->gpu, kernel_index, gx, gy, gz, bx, by, bz,
//                   shared_bytes, params)
//
// where kernel_index numbers the kernels in the order of the module
// attribute `tfx.gpu_kernels` (the descriptor's kernel-name table): the
// runtime resolves every kernel once at model open, not per launch. Calls
// of @tfx_gpu_read become env->gpu_read into a stack slot. Upstream's own
// lowering (global constructors loading the module through mgpu* wrapper
// functions) is not used: an artifact links against nothing and calls the
// runtime only through tfx_exec_env.
//
//===----------------------------------------------------------------------===//

#include "GpuLowering.h"
#include "../CPU/Lowering.h"
#include "tfx/Codegen/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

namespace mlir::tfx {
#define GEN_PASS_DEF_TFXGPULOWERLAUNCH
#include "codegen/Passes.h.inc"
} // namespace mlir::tfx

using namespace mlir;
using namespace mlir::tfx;

static constexpr llvm::StringLiteral kImageGlobal = "tfx_gpu_image";

/// A stack slot in the function's entry block.
static Value entryAlloca(OpBuilder &b, Location loc, LLVM::LLVMFuncOp f, Type type,
                         int64_t count = 1) {
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&f.getBody().front());
  auto ptr = LLVM::LLVMPointerType::get(b.getContext());
  Value n = LLVM::ConstantOp::create(b, loc, b.getI64Type(), count);
  return LLVM::AllocaOp::create(b, loc, ptr, type, n, /*alignment=*/8);
}

static LogicalResult lowerLaunch(gpu::LaunchFuncOp launch, int32_t kernelIndex) {
  Location loc = launch.getLoc();
  auto f = launch->getParentOfType<LLVM::LLVMFuncOp>();
  if (!f || f.getNumArguments() == 0 ||
      !isa<LLVM::LLVMPointerType>(f.getArgument(0).getType()))
    return launch.emitError("internal error: a launch outside an entry function");
  MLIRContext *ctx = launch.getContext();
  OpBuilder b(launch);
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  auto i32 = b.getI32Type();
  auto i64 = b.getI64Type();
  Value env = f.getArgument(0);

  ValueRange operands = launch.getKernelOperands();
  Value params = entryAlloca(b, loc, f, ptr, std::max<int64_t>(1, operands.size()));
  for (auto [k, operand] : llvm::enumerate(operands)) {
    Value slot = entryAlloca(b, loc, f, operand.getType());
    LLVM::StoreOp::create(b, loc, operand, slot);
    Value entry = LLVM::GEPOp::create(b, loc, ptr, ptr, params,
                                      ArrayRef<LLVM::GEPArg>{(int32_t)k});
    LLVM::StoreOp::create(b, loc, slot, entry);
  }
  auto asI64 = [&](Value v) -> Value {
    if (v.getType() == i64)
      return v;
    return LLVM::ZExtOp::create(b, loc, i64, v);
  };
  Value shared = launch.getDynamicSharedMemorySize();
  if (!shared)
    shared = LLVM::ConstantOp::create(b, loc, i32, 0);
  Value fn = loadEnvField(b, loc, env, EnvField::GpuLaunch);
  Value gpu = loadEnvField(b, loc, env, EnvField::Gpu);
  SmallVector<Value> args = {
      gpu, LLVM::ConstantOp::create(b, loc, i32, kernelIndex),
      asI64(launch.getGridSizeX()), asI64(launch.getGridSizeY()),
      asI64(launch.getGridSizeZ()), asI64(launch.getBlockSizeX()),
      asI64(launch.getBlockSizeY()), asI64(launch.getBlockSizeZ()), shared, params};
  auto type = LLVM::LLVMFunctionType::get(
      LLVM::LLVMVoidType::get(ctx), {ptr, i32, i64, i64, i64, i64, i64, i64, i32, ptr});
  SmallVector<Value> operandsWithCallee = {fn};
  operandsWithCallee.append(args);
  LLVM::CallOp::create(b, loc, type, operandsWithCallee);
  launch.erase();
  return success();
}

/// `call @tfx_gpu_flag(%env, %address, %bytes)` ->
/// env->gpu_flag(env->gpu, address, bytes).
static LogicalResult lowerFlag(LLVM::CallOp call) {
  Location loc = call.getLoc();
  OpBuilder b(call);
  MLIRContext *ctx = call.getContext();
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  auto i64 = b.getI64Type();
  if (call.getNumOperands() != 3 || call.getNumResults() != 0)
    return call.emitError("internal error: malformed ") << kGpuFlagFunction << " call";
  Value env = call.getOperand(0);
  Value device = LLVM::IntToPtrOp::create(b, loc, ptr, call.getOperand(1));
  Value fn = loadEnvField(b, loc, env, EnvField::GpuFlag);
  Value gpu = loadEnvField(b, loc, env, EnvField::Gpu);
  auto type = LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx), {ptr, ptr, i64});
  LLVM::CallOp::create(b, loc, type, ValueRange{fn, gpu, device, call.getOperand(2)});
  call.erase();
  return success();
}

/// `%v = call @tfx_gpu_read(%env, %address, %bytes)` ->
/// env->gpu_read(env->gpu, &slot, address, bytes); %v = slot.
static LogicalResult lowerRead(LLVM::CallOp call) {
  Location loc = call.getLoc();
  auto f = call->getParentOfType<LLVM::LLVMFuncOp>();
  OpBuilder b(call);
  MLIRContext *ctx = call.getContext();
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  auto i64 = b.getI64Type();
  if (call.getNumOperands() != 3 || call.getNumResults() != 1)
    return call.emitError("internal error: malformed ") << kGpuReadFunction << " call";
  Value env = call.getOperand(0);
  Value slot = entryAlloca(b, loc, f, i64);
  LLVM::StoreOp::create(b, loc, LLVM::ConstantOp::create(b, loc, i64, 0), slot);
  Value device = LLVM::IntToPtrOp::create(b, loc, ptr, call.getOperand(1));
  Value fn = loadEnvField(b, loc, env, EnvField::GpuRead);
  Value gpu = loadEnvField(b, loc, env, EnvField::Gpu);
  auto type = LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx),
                                          {ptr, ptr, ptr, i64});
  LLVM::CallOp::create(b, loc, type, ValueRange{fn, gpu, slot, device, call.getOperand(2)});
  Value value = LLVM::LoadOp::create(b, loc, i64, slot);
  call.getResult().replaceAllUsesWith(value);
  call.erase();
  return success();
}

namespace {
struct LowerLaunchPass : mlir::tfx::impl::TfxGpuLowerLaunchBase<LowerLaunchPass> {
  using TfxGpuLowerLaunchBase::TfxGpuLowerLaunchBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = module.getContext();
    SmallVector<gpu::BinaryOp> binaries(module.getOps<gpu::BinaryOp>());
    SmallVector<gpu::LaunchFuncOp> launches;
    module.walk([&](gpu::LaunchFuncOp l) { launches.push_back(l); });
    if (binaries.size() > 1 ||
        (binaries.size() == 1 && binaries[0].getName() != kGpuKernelModule)) {
      module.emitError("internal error: expected one kernel binary @") << kGpuKernelModule;
      return signalPassFailure();
    }

    // Kernel names in first-launch order.
    llvm::StringMap<int32_t> index;
    SmallVector<Attribute> names;
    for (gpu::LaunchFuncOp l : launches) {
      StringRef name = l.getKernelName().getValue();
      if (index.try_emplace(name, (int32_t)names.size()).second)
        names.push_back(StringAttr::get(ctx, name));
    }
    if (!binaries.empty()) {
      gpu::BinaryOp binary = binaries[0];
      ArrayAttr objects = binary.getObjectsAttr();
      auto object = objects.size() == 1 ? dyn_cast<gpu::ObjectAttr>(objects[0]) : nullptr;
      if (!object || object.getFormat() != gpu::CompilationTarget::Binary) {
        binary.emitError("expected one cubin object (gpu-module-to-binary format=bin)");
        return signalPassFailure();
      }
      StringRef bytes = object.getObject().getValue();
      OpBuilder mb = OpBuilder::atBlockEnd(module.getBody());
      auto type = LLVM::LLVMArrayType::get(mb.getI8Type(), bytes.size());
      LLVM::GlobalOp::create(mb, binary.getLoc(), type, /*isConstant=*/true,
                             LLVM::Linkage::Internal, kImageGlobal,
                             StringAttr::get(ctx, bytes), /*alignment=*/64);
      module->setAttr(kGpuImageAttr, StringAttr::get(ctx, kImageGlobal));
      binary.erase();
    } else if (!launches.empty()) {
      module.emitError("internal error: launches without a kernel binary");
      return signalPassFailure();
    }
    module->setAttr(kGpuKernelsAttr, ArrayAttr::get(ctx, names));
    for (gpu::LaunchFuncOp l : launches)
      if (failed(lowerLaunch(l, index.lookup(l.getKernelName().getValue()))))
        return signalPassFailure();

    SmallVector<LLVM::CallOp> reads, flags;
    module.walk([&](LLVM::CallOp call) {
      if (call.getCallee() == kGpuReadFunction)
        reads.push_back(call);
      else if (call.getCallee() == kGpuFlagFunction)
        flags.push_back(call);
    });
    for (LLVM::CallOp call : reads)
      if (failed(lowerRead(call)))
        return signalPassFailure();
    for (LLVM::CallOp call : flags)
      if (failed(lowerFlag(call)))
        return signalPassFailure();
    for (StringRef name : {kGpuReadFunction, kGpuFlagFunction})
      if (auto decl = module.lookupSymbol<LLVM::LLVMFuncOp>(name))
        decl.erase();
    module->removeAttr(gpu::GPUDialect::getContainerModuleAttrName());
  }
};
} // namespace
