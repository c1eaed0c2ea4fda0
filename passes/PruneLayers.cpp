//===- PruneLayers.cpp - remove whole transformer layers ------------------===//

#include "CompressionReport.h"
#include "Structure.h"
#include "tfx/Passes/Passes.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/Format.h"

#include <cmath>
#include <numeric>

namespace mlir::tfx {
#define GEN_PASS_DEF_TFXPRUNELAYERS
#include "passes/Passes.h.inc"
} // namespace mlir::tfx

using namespace mlir;
using namespace mlir::tfx;

namespace {

struct PruneLayersPass : mlir::tfx::impl::TfxPruneLayersBase<PruneLayersPass> {
  using TfxPruneLayersBase::TfxPruneLayersBase;

  void runOnOperation() override {
    if (failed(run()))
      signalPassFailure();
  }

  LogicalResult run() {
    ModuleOp module = getOperation();
    if (criterion != "block-influence" && criterion != "ablation")
      return module.emitError("tfx-prune-layers: unknown criterion '")
             << criterion << "' (block-influence or ablation)";
    auto func = findEntryFunction(module);
    if (!func)
      return module.emitError("tfx-prune-layers: ")
             << llvm::toString(func.takeError());
    std::vector<TransformerLayer> layers;
    for (TransformerLayer &layer : analyzeLayers(*func))
      // The stream must be computed by ops, so that calibration sees it.
      if (layer.input && layer.output && layer.input.getDefiningOp())
        layers.push_back(layer);
    if (count < 0 || count >= (int64_t)layers.size())
      return module.emitError("tfx-prune-layers: count must be in [0, ")
             << layers.size() << ") (the layers recognised), got " << (int64_t)count;

    // Per layer: where its input and output are computed.
    llvm::DenseMap<Operation *, SmallVector<unsigned>> inputOf, outputOf;
    for (auto [n, layer] : llvm::enumerate(layers)) {
      inputOf[layer.input.getDefiningOp()].push_back(n);
      outputOf[layer.output.getDefiningOp()].push_back(n);
    }
    std::vector<Tensor> inputs(layers.size());
    std::vector<double> cosSum(layers.size(), 0.0);
    std::vector<int64_t> rowCount(layers.size(), 0);
    auto remember = [&](Operation *op, const Tensor &result) {
      auto it = inputOf.find(op);
      if (it != inputOf.end())
        for (unsigned n : it->second)
          inputs[n] = result;
    };
    OpObserver influence = [&](Operation *op, ArrayRef<const Tensor *>,
                               Tensor &result) {
      remember(op, result);
      auto it = outputOf.find(op);
      if (it == outputOf.end())
        return;
      for (unsigned n : it->second) {
        const Tensor &in = inputs[n];
        int64_t cols = result.shape.back(), rows = result.numElements() / cols;
        for (int64_t r = 0; r < rows; ++r) {
          double dot = 0, a = 0, b = 0;
          for (int64_t c = 0; c < cols; ++c) {
            double x = in.f[r * cols + c], y = result.f[r * cols + c];
            dot += x * y;
            a += x * x;
            b += y * y;
          }
          cosSum[n] += a > 0 && b > 0 ? dot / std::sqrt(a * b) : 1.0;
        }
        rowCount[n] += rows;
      }
    };
    auto run = CompressionRun::begin(
        module, getArgument(), calibration, calibrationBatches, true,
        criterion == "block-influence" ? influence : OpObserver());
    if (failed(run))
      return failure();

    std::vector<double> importance(layers.size());
    for (size_t n = 0; n < layers.size(); ++n)
      importance[n] = 1.0 - cosSum[n] / std::max<int64_t>(rowCount[n], 1);
    if (criterion == "ablation")
      for (size_t n = 0; n < layers.size(); ++n) {
        Operation *in = layers[n].input.getDefiningOp();
        Operation *out = layers[n].output.getDefiningOp();
        Tensor saved;
        auto fidelity = run->measureWith(
            module, [&](Operation *op, ArrayRef<const Tensor *>, Tensor &result) {
              if (op == in)
                saved = result;
              if (op == out)
                result = saved;
            });
        if (failed(fidelity))
          return failure();
        importance[n] = fidelity->worstRelL2();
        run->progress("ablating layers", n + 1, layers.size());
      }

    SmallVector<int64_t> order(layers.size());
    std::iota(order.begin(), order.end(), 0);
    llvm::stable_sort(order,
                      [&](int64_t a, int64_t b) { return importance[a] < importance[b]; });
    order.resize(count);
    llvm::sort(order);
    for (size_t n = 0; n < layers.size(); ++n)
      run->log() << "layer " << n << ": " << criterion << " "
                 << llvm::format("%.3e", importance[n])
                 << (llvm::is_contained(order, (int64_t)n) ? " (removed)" : "") << "\n";
    // Later layers first: a removed layer's input may be the output of the
    // one before it, which is removed next.
    for (int64_t n : llvm::reverse(order))
      layers[n].output.replaceAllUsesWith(layers[n].input);
    eraseDeadOps(*func);
    run->log() << "layers " << layers.size() << " -> " << layers.size() - count << "\n";
    return success(succeeded(run->finish(module)));
  }
};

} // namespace
