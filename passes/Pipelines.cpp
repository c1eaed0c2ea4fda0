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

llvm::Expected<std::string>
mlir::tfx::quantizationPipeline(llvm::StringRef scheme, llvm::StringRef calibration) {
  auto bad = [&](const llvm::Twine &why) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "unknown quantization scheme '" + scheme +
                                       "': " + why +
                                       " (w8, w8a8, w8-g128, w4-g128, w4-g32-gptq, ...)");
  };
  llvm::SmallVector<llvm::StringRef> parts;
  scheme.split(parts, '-');
  // w8a8[-static][-gptq]: int8 weights per output channel and int8
  // activations, quantized per row at run time or (static) with one
  // calibrated range per layer.
  bool dynamic = parts[0] == "w8a8";
  bool calibrated = dynamic && parts.size() > 1 && parts[1] == "static";
  if (dynamic)
    parts[0] = "w8";
  if (calibrated)
    parts.erase(parts.begin() + 1);
  int64_t bits = parts[0] == "w8" ? 8 : parts[0] == "w4" ? 4 : 0;
  if (!bits)
    return bad("it must start with w8 or w4");
  int64_t group = bits == 8 ? 0 : 128;
  bool gptq = false;
  for (llvm::StringRef part : llvm::ArrayRef(parts).drop_front()) {
    if (part == "gptq" && !gptq) {
      gptq = true;
    } else if (!dynamic && part.consume_front("g") && !part.getAsInteger(10, group) &&
               group > 0) {
      continue;
    } else {
      return bad("'" + part + "' is neither g<N> nor gptq");
    }
  }
  if ((gptq || calibrated) && calibration.empty())
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "quantization scheme '" + scheme + "' needs --calibration (" +
                                       (gptq ? "GPTQ" : "activation ranges") + ")");
  std::string pipeline = "tfx-quantize-weights{bits=" + std::to_string(bits) +
                         " group-size=" + std::to_string(group) +
                         (gptq ? " method=gptq" : "") +
                         (calibrated ? " activations=static"
                          : dynamic  ? " activations=dynamic"
                                     : "");
  if (!calibration.empty())
    pipeline += " calibration=" + calibration.str();
  return pipeline + "}";
}
