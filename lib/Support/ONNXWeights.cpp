// Placeholder until the ONNX initializer reader lands.
#include "tfx/Support/WeightStore.h"
llvm::Expected<std::unique_ptr<mlir::tfx::WeightSource>>
mlir::tfx::openONNXWeights(llvm::StringRef path) {
  return llvm::createStringError("ONNX weights not readable yet: " + path.str());
}
