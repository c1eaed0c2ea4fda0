//===- Pipelines.cpp - named tfx pass pipelines ---------------------------===//

#include "tfx/Passes/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include <cstdio>

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
mlir::tfx::quantizationPipeline(llvm::StringRef scheme, llvm::StringRef calibration,
                                double maxError) {
  auto bad = [&](const llvm::Twine &why) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "unknown quantization scheme '" + scheme + "': " + why +
                                       " (w8, w8a8, w8a8-static-asym-mse, w8a8-sq0.5, "
                                       "w8-g128, w4-g128, w4-g32-gptq, ...)");
  };
  llvm::SmallVector<llvm::StringRef> parts;
  scheme.split(parts, '-');
  // w8a8: int8 weights per output channel and int8 activations, quantized
  // per row at run time or (static) with one calibrated !quant.uniform type
  // per layer input: asym (uint8 with a zero point), mse or pct<P> (how
  // the range is chosen), sq[<alpha>] (SmoothQuant before quantizing).
  bool w8a8 = parts[0] == "w8a8";
  if (w8a8)
    parts[0] = "w8";
  int64_t bits = parts[0] == "w8" ? 8 : parts[0] == "w4" ? 4 : 0;
  if (!bits)
    return bad("it must start with w8 or w4");
  int64_t group = bits == 8 ? 0 : 128;
  bool gptq = false, calibrated = false, asymmetric = false, embeddings = false;
  std::string range, smooth;
  auto numberAfter = [](llvm::StringRef text, llvm::StringRef prefix,
                        double &value) {
    return text.consume_front(prefix) && !text.empty() && !text.getAsDouble(value);
  };
  for (llvm::StringRef part : llvm::ArrayRef(parts).drop_front()) {
    double value = 0;
    if (part == "gptq" && !gptq) {
      gptq = true;
    } else if (part == "emb" && !embeddings) {
      embeddings = true;
    } else if (w8a8 && part == "static" && !calibrated) {
      calibrated = true;
    } else if (w8a8 && part == "asym" && !asymmetric) {
      asymmetric = true;
    } else if (w8a8 && part == "mse" && range.empty()) {
      range = " range-method=mse";
    } else if (w8a8 && range.empty() && numberAfter(part, "pct", value)) {
      range = " range-method=percentile percentile=" + part.drop_front(3).str();
    } else if (w8a8 && part == "sq" && smooth.empty()) {
      smooth = "tfx-smooth-quant{alpha=0.5";
    } else if (w8a8 && smooth.empty() && numberAfter(part, "sq", value)) {
      smooth = "tfx-smooth-quant{alpha=" + part.drop_front(2).str();
    } else if (!w8a8 && part.consume_front("g") && !part.getAsInteger(10, group) &&
               group > 0) {
      continue;
    } else {
      return bad("'" + part + "' is not " +
                 (w8a8 ? "static, asym, mse, pct<P>, sq[<alpha>], emb or gptq"
                       : "g<N>, emb or gptq"));
    }
  }
  if ((asymmetric || !range.empty()) && !calibrated)
    return bad("asym, mse and pct<P> choose static ranges: add -static");
  if ((gptq || calibrated || !smooth.empty() || maxError > 0) && calibration.empty())
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "quantization scheme '" + scheme + "' needs --calibration (" +
            (gptq                ? "GPTQ"
             : !smooth.empty()   ? "SmoothQuant"
             : calibrated        ? "activation ranges"
                                 : "the --max-error sensitivity search") +
            ")");
  std::string calibrationOption =
      calibration.empty() ? "" : " calibration=" + calibration.str();
  std::string pipeline;
  if (!smooth.empty())
    pipeline = smooth + calibrationOption + "},";
  pipeline += "tfx-quantize-weights{bits=" + std::to_string(bits) +
              " group-size=" + std::to_string(group) + (gptq ? " method=gptq" : "") +
              (calibrated ? " activations=static" : w8a8 ? " activations=dynamic" : "") +
              (asymmetric ? " symmetric=false" : "") + range +
              (embeddings ? " embeddings=true" : "");
  if (maxError > 0) {
    char budget[32];
    std::snprintf(budget, sizeof budget, "%.9g", maxError);
    pipeline += std::string(" max-error=") + budget;
  }
  return pipeline + calibrationOption + "}";
}
