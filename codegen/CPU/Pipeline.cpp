//===- Pipeline.cpp - the CPU pipeline from tfx to the LLVM dialect -------===//

#include "tfx/Codegen/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace {
struct GpuCodegenOptions : PassPipelineOptions<GpuCodegenOptions> {
  Option<std::string> chip{*this, "chip", llvm::cl::desc("NVIDIA chip (sm_80, sm_89, sm_90, sm_90a)"),
                           llvm::cl::init("sm_90")};
  Option<std::string> toolkit{*this, "toolkit",
                              llvm::cl::desc("CUDA toolkit directory (for ptxas)"),
                              llvm::cl::init("")};
  Option<std::string> matmulPrecision{
      *this, "matmul-precision",
      llvm::cl::desc("Inputs of f32 contractions: f32, or f16 (tensor cores)"),
      llvm::cl::init("f32")};
  Option<bool> serialize{*this, "serialize",
                         llvm::cl::desc("Assemble the cubin and lower the launches"),
                         llvm::cl::init(true)};
};
} // namespace

void mlir::tfx::registerCodegenDialects(DialectRegistry &registry) {
  // Bufferization, tiling and LLVM conversion work through interfaces that
  // the dialects register as extensions.
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerAllToLLVMIRTranslations(registry);
}

void mlir::tfx::addBufferizePasses(OpPassManager &pm) {
  // Entries have no tensor arguments or results left: bufferize bodies only.
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = false;
  bufferize.unknownTypeConversion = bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createTfxCpuAssignScratch());
}

void mlir::tfx::buildCpuPipeline(OpPassManager &pm,
                                 const CpuPipelineOptions &options) {
  TfxLowerToLinalgOptions lowering;
  lowering.kernels = options.kernels;
  lowering.vectorWidth = options.vectorWidth;
  lowering.vnni = options.vnni;
  pm.addPass(createTfxLowerToLinalg(lowering));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  TfxCpuTileGenericsOptions tiling;
  tiling.minWork = options.parallelMinWork;
  pm.addPass(createTfxCpuTileGenerics(tiling));

  addBufferizePasses(pm);
  pm.addPass(createConvertLinalgToLoopsPass());
  pm.addPass(createTfxCpuOutlineParallel());
  pm.addPass(createTfxCpuExpandMath());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());

  // Subview offsets become affine.apply in expand-strided-metadata, and
  // vector transfers may add more while lowering: lower affine after both.
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createTfxCpuLowerDispatch());
  pm.addPass(createCanonicalizerPass());
}

void mlir::tfx::registerCodegenPasses() {
  registerTfxCodegenPasses();
  PassPipelineRegistration<>(
      "tfx-cpu-codegen",
      "Lower a tfx module to the LLVM dialect for the CPU (AVX-512 kernels)",
      [](OpPassManager &pm) { buildCpuPipeline(pm, CpuPipelineOptions()); });
  PassPipelineRegistration<GpuCodegenOptions>(
      "tfx-gpu-codegen",
      "Lower a tfx module to the LLVM dialect with an embedded cubin (NVVM, ptxas)",
      [](OpPassManager &pm, const GpuCodegenOptions &cl) {
        GpuPipelineOptions options;
        options.chip = cl.chip;
        options.toolkitPath = cl.toolkit;
        options.serialize = cl.serialize;
        options.matmulPrecision = cl.matmulPrecision;
        buildGpuPipeline(pm, options);
      });
}
