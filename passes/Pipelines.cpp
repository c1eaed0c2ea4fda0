//===- Pipelines.cpp - named tfx pass pipelines ---------------------------===//

#include "tfx/Passes/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::tfx::registerTfxPipelines() {
  PassPipelineRegistration<>(
      "tfx-import-cleanup",
      "Raise decomposed ONNX math into tfx ops, then canonicalize and clean up",
      [](OpPassManager &pm) {
        pm.addPass(createCanonicalizerPass());
        pm.addPass(createTfxRaise());
        pm.addPass(createCanonicalizerPass());
        pm.addPass(createCSEPass());
      });
}
