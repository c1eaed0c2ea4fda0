//===- tfx-opt.cpp - the tfx optimizer driver -----------------------------===//

#include "tfx/Codegen/Passes.h"
#include "tfx/Frontend/Frontend.h"
#include "tfx/Passes/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::tfx::registerTfxDialects(registry);
  mlir::registerTransformsPasses();
  mlir::tfx::registerTfxPasses();
  mlir::tfx::registerTfxPipelines();
  mlir::tfx::registerCodegenDialects(registry);
  mlir::tfx::registerCodegenPasses();
  llvm::cl::AddExtraVersionPrinter(
      [](llvm::raw_ostream &os) { os << "tfx-opt " TFX_VERSION "\n"; });
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "tfx optimizer driver\n", registry));
}
