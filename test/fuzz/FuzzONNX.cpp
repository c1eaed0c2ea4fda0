//===- FuzzONNX.cpp - the ONNX frontend on any bytes ----------------------===//
//
// Bytes -> importONNXBytes (protobuf parse, initializers, every converter,
// import-time folding, raising): a verified tfx module or an error, never a
// crash. The model "lives" in a folder that does not exist, so external data
// can never reach a real file.
//
//===----------------------------------------------------------------------===//

#include "FuzzTarget.h"

#include "tfx/Frontend/Frontend.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

using namespace mlir;

static void fuzzONNX(const uint8_t *data, size_t size) {
  MLIRContext ctx(MLIRContext::Threading::DISABLED);
  ScopedDiagnosticHandler quiet(&ctx, [](Diagnostic &) {
    return success(!tfx_fuzz::verbose());
  });
  tfx::ImportOptions options;
  llvm::StringRef bytes(reinterpret_cast<const char *>(data), size);
  OwningOpRef<ModuleOp> module = tfx::importONNXBytes(
      bytes, "/nonexistent-tfx-fuzz/model.onnx", ctx, options);
  if (module && failed(verify(*module)))
    tfx_fuzz::finding("the ONNX importer returned a module that does not "
                      "verify");
}

TFX_FUZZ_TARGET(onnx, fuzzONNX)
