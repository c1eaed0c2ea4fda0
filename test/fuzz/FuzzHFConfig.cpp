//===- FuzzHFConfig.cpp - config.json handling of the HF frontend ---------===//
//
// Input: config.json text, a NUL byte, then the weight index as JSON
// {"tensor name": [dims...]} (what the safetensors headers would give; the
// reader guarantees dims >= 0). -> importHuggingFaceConfig: a verified tfx
// module or an error naming the field, never a crash.
//
//===----------------------------------------------------------------------===//

#include "FuzzTarget.h"

#include "tfx/Frontend/Frontend.h"
#include "tfx/Support/Json.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/JSON.h"

using namespace mlir;

static void fuzzHFConfig(const uint8_t *data, size_t size) {
  auto [config, index] = tfx_fuzz::splitAtNul(data, size);
  llvm::StringMap<std::vector<int64_t>> shapes;
  llvm::Expected<llvm::json::Value> parsed = tfx::parseJson(index);
  if (!parsed) {
    llvm::consumeError(parsed.takeError());
  } else if (const llvm::json::Object *object = parsed->getAsObject()) {
    for (const auto &[name, dims] : *object) {
      const llvm::json::Array *list = dims.getAsArray();
      if (!list)
        continue;
      std::vector<int64_t> shape;
      for (const llvm::json::Value &d : *list)
        if (std::optional<int64_t> dim = d.getAsInteger(); dim && *dim >= 0)
          shape.push_back(*dim);
      shapes[name.str()] = std::move(shape);
    }
  }
  MLIRContext ctx(MLIRContext::Threading::DISABLED);
  ScopedDiagnosticHandler quiet(&ctx, [](Diagnostic &) {
    return success(!tfx_fuzz::verbose());
  });
  tfx::ImportOptions options;
  OwningOpRef<ModuleOp> module = tfx::importHuggingFaceConfig(
      config, "/nonexistent-tfx-fuzz/config.json",
      "/nonexistent-tfx-fuzz/model.safetensors", shapes, ctx, options);
  if (module && failed(verify(*module)))
    tfx_fuzz::finding("the Hugging Face importer returned a module that does "
                      "not verify");
}

TFX_FUZZ_TARGET(hf_config, fuzzHFConfig)
