//===- tfx-opt.cpp - the tfx optimizer driver -----------------------------===//

#include "tfx/Codegen/Passes.h"
#include "tfx/Frontend/Frontend.h"
#include "tfx/Passes/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>
#include <vector>

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
  // A pass that rejects its options reports on the module; printing the
  // whole module under the error buries the message, so that is off unless
  // asked for (--mlir-print-op-on-diagnostic=true).
  std::vector<char *> args(argv, argv + argc);
  bool asked = false;
  for (char *arg : args)
    asked |= std::strstr(arg, "mlir-print-op-on-diagnostic") != nullptr;
  static char quiet[] = "--mlir-print-op-on-diagnostic=false";
  if (!asked)
    args.insert(args.begin() + 1, quiet);
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      static_cast<int>(args.size()), args.data(), "tfx optimizer driver\n", registry));
}
