//===- LinearAttention.cpp - softmax attention to kernelized attention ----===//
//
// Changes the kind of each dense softmax tfx.attention; the op's own
// semantics (and the backends) define the kernelized formula. Attention
// with a window or block layout stays softmax: a linear kind has no masks
// but causal and padding.
//
//===----------------------------------------------------------------------===//

#include "CompressionReport.h"
#include "tfx/Passes/Passes.h"

#include "llvm/ADT/StringSwitch.h"

namespace mlir::tfx {
#define GEN_PASS_DEF_TFXLINEARATTENTION
#include "passes/Passes.h.inc"
} // namespace mlir::tfx

using namespace mlir;
using namespace mlir::tfx;

namespace {

struct LinearAttentionPass
    : mlir::tfx::impl::TfxLinearAttentionBase<LinearAttentionPass> {
  using TfxLinearAttentionBase::TfxLinearAttentionBase;

  void runOnOperation() override {
    if (failed(run()))
      signalPassFailure();
  }

  LogicalResult run() {
    ModuleOp module = getOperation();
    StringRef name = getArgument();
    std::optional<AttentionKind> kind =
        llvm::StringSwitch<std::optional<AttentionKind>>(featureMap)
            .Case("elu", AttentionKind::linear_elu)
            .Case("relu", AttentionKind::linear_relu)
            .Case("random", AttentionKind::linear_random)
            .Default(std::nullopt);
    if (!kind)
      return module.emitError(name)
             << ": feature-map must be elu, relu or random, got '" << featureMap << "'";
    bool random = *kind == AttentionKind::linear_random;
    if (random && randomFeatures <= 0)
      return module.emitError(name) << ": random-features must be > 0";
    auto run =
        CompressionRun::begin(module, name, calibration, calibrationBatches, false);
    if (failed(run))
      return failure();

    int64_t index = 0, rewritten = 0;
    module.walk([&](AttentionOp op) {
      int64_t n = index++;
      if (op.isLinear() || op.getWindow() > 0 || op.getBlockSize() > 0) {
        run->log() << "attention " << n << ": left as it is (already "
                   << (op.isLinear() ? "linear" : "sparse") << ")\n";
        return;
      }
      op.setKind(*kind);
      if (random) {
        op.setFeatures(randomFeatures);
        op.setFeatureSeed(seed);
      }
      ++rewritten;
      run->log() << "attention " << n << ": softmax -> " << stringifyAttentionKind(*kind);
      if (random)
        llvm::errs() << " (" << randomFeatures << " features, seed " << seed << ")";
      llvm::errs() << (op.getCausal() ? ", causal (running sums)\n" : ", global sums\n");
    });
    run->log() << rewritten << " of " << index
               << " attentions now compute a different function (linear attention)\n";
    return success(succeeded(run->finish(module)));
  }
};

} // namespace
