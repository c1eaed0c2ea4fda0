//===- Pipeline.cpp - the CUDA pipeline from tfx to the LLVM dialect ------===//
//
// tfx -> linalg (the plain lowering, no CPU kernels) -> buffers in the
// scratch arena -> loops -> one gpu.launch per loop nest -> kernels
// outlined into one gpu.module -> NVVM -> PTX (LLVM's NVPTX backend) ->
// cubin (ptxas of the CUDA toolkit) embedded in the host code, whose
// launches call the runtime through tfx_exec_env.
//
//===----------------------------------------------------------------------===//

#include "tfx/Codegen/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"

#include <cstdlib>

using namespace mlir;

/// The CUDA toolkit whose bin/ptxas assembles the kernels.
llvm::Expected<std::string> mlir::tfx::findCudaToolkit(llvm::StringRef requested) {
  std::vector<std::string> candidates;
  if (!requested.empty()) {
    candidates.push_back(requested.str());
  } else {
    if (const char *env = std::getenv("CUDA_PATH"))
      candidates.push_back(env);
    candidates.push_back("/usr/local/cuda");
    if (llvm::ErrorOr<std::string> onPath = llvm::sys::findProgramByName("ptxas"))
      candidates.push_back(
          llvm::sys::path::parent_path(llvm::sys::path::parent_path(*onPath)).str());
  }
  for (const std::string &dir : candidates) {
    llvm::SmallString<256> ptxas(dir);
    llvm::sys::path::append(ptxas, "bin", "ptxas");
    if (llvm::sys::fs::can_execute(ptxas))
      return dir;
  }
  if (!requested.empty())
    return llvm::createStringError(llvm::inconvertibleErrorCode(), "no bin/ptxas in the CUDA toolkit '" + requested + "'");
  return llvm::createStringError(llvm::inconvertibleErrorCode(), "the cuda target needs ptxas from the CUDA toolkit: none in "
               "$CUDA_PATH, /usr/local/cuda or on PATH (or pass --cuda-path DIR)");
}


void mlir::tfx::buildGpuPipeline(OpPassManager &pm, const GpuPipelineOptions &options) {
  TfxLowerToLinalgOptions lowering;
  lowering.kernels = false;
  lowering.gpu = true;
  pm.addPass(createTfxLowerToLinalg(lowering));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  addBufferizePasses(pm);
  TfxGpuMapLoopsOptions mapping;
  mapping.matmulPrecision = options.matmulPrecision;
  pm.addPass(createTfxGpuMapLoops(mapping));
  pm.addPass(createGpuKernelOutliningPass());
  // Polynomials rather than libdevice calls: no bitcode library to link.
  pm.addPass(createTfxCpuExpandMath());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());

  GpuNVVMAttachTargetOptions target;
  target.chip = options.chip;
  target.optLevel = 3;
  pm.addPass(createGpuNVVMAttachTarget(target));
  ConvertGpuOpsToNVVMOpsOptions nvvm;
  nvvm.indexBitwidth = 64;
  pm.addNestedPass<gpu::GPUModuleOp>(createConvertNVGPUToNVVMPass());
  pm.addNestedPass<gpu::GPUModuleOp>(createConvertGpuOpsToNVVMOps(nvvm));
  pm.addNestedPass<gpu::GPUModuleOp>(createReconcileUnrealizedCastsPass());

  // The host side, as on the CPU, then the launches' operands.
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createGpuToLLVMConversionPass());
  pm.addPass(createReconcileUnrealizedCastsPass());

  if (options.serialize) {
    GpuModuleToBinaryPassOptions binary;
    binary.toolkitPath = options.toolkitPath;
    if (binary.toolkitPath.empty()) {
      if (llvm::Expected<std::string> found = findCudaToolkit(""))
        binary.toolkitPath = *found;
      else
        llvm::consumeError(found.takeError()); // ptxas then reports it
    }
    binary.compilationTarget = "bin";
    pm.addPass(createGpuModuleToBinaryPass(binary));
    pm.addPass(createTfxGpuLowerLaunch());
    pm.addPass(createTfxCpuLowerDispatch());
    pm.addPass(createCanonicalizerPass());
  }
}
