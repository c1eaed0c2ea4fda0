//===- PruneFfn.cpp - remove the least important FFN neurons --------------===//

#include "ChannelPruning.h"
#include "CompressionReport.h"
#include "Structure.h"
#include "Weights.h"
#include "tfx/Passes/Passes.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>
#include <numeric>

namespace mlir::tfx {
#define GEN_PASS_DEF_TFXPRUNEFFN
#include "passes/Passes.h.inc"
} // namespace mlir::tfx

using namespace mlir;
using namespace mlir::tfx;

namespace {

double rowNorm(const Tensor &w, int64_t row) {
  int64_t cols = w.shape[1];
  double s = 0;
  for (int64_t c = 0; c < cols; ++c)
    s += (double)w.f[row * cols + c] * w.f[row * cols + c];
  return std::sqrt(s);
}

std::vector<double> columnNorms(const Tensor &w) {
  int64_t rows = w.shape[0], cols = w.shape[1];
  std::vector<double> norms(cols, 0.0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      norms[c] += (double)w.f[r * cols + c] * w.f[r * cols + c];
  for (double &n : norms)
    n = std::sqrt(n);
  return norms;
}

struct PruneFfnPass : mlir::tfx::impl::TfxPruneFfnBase<PruneFfnPass> {
  using TfxPruneFfnBase::TfxPruneFfnBase;

  void runOnOperation() override {
    if (failed(run()))
      signalPassFailure();
  }

  LogicalResult run() {
    ModuleOp module = getOperation();
    if (ratio < 0 || ratio >= 1)
      return module.emitError("tfx-prune-ffn: ratio must be in [0, 1), got ") << formatNumber(ratio);
    if (criterion != "output-norm" && criterion != "magnitude")
      return module.emitError("tfx-prune-ffn: unknown criterion '")
             << criterion << "' (output-norm or magnitude)";
    if (multiple < 1)
      return module.emitError("tfx-prune-ffn: multiple must be positive");
    auto func = findEntryFunction(module);
    if (!func)
      return module.emitError("tfx-prune-ffn: ") << llvm::toString(func.takeError());
    std::vector<FfnBlock> blocks = findFfnBlocks(*func);

    // Down-projection column norms weigh every criterion.
    std::vector<std::vector<double>> importance(blocks.size());
    std::vector<std::vector<double>> sumSquares(blocks.size());
    llvm::DenseMap<Operation *, unsigned> blockOf;
    int64_t rows = 0;
    for (auto [n, block] : llvm::enumerate(blocks)) {
      auto down = readWeight(block.down.getWeight());
      if (!down)
        return block.down.emitError("tfx-prune-ffn: ")
               << llvm::toString(down.takeError());
      importance[n] = columnNorms(*down);
      sumSquares[n].assign(block.width, 0.0);
      blockOf[block.down.getInput().getDefiningOp()] = n;
      if (criterion != "magnitude")
        continue;
      for (LinearOp up : block.ups) {
        auto w = readWeight(up.getWeight());
        if (!w)
          return up.emitError("tfx-prune-ffn: ") << llvm::toString(w.takeError());
        for (int64_t j = 0; j < block.width; ++j)
          importance[n][j] *= rowNorm(*w, j);
      }
    }
    OpObserver observer;
    if (criterion == "output-norm")
      observer = [&](Operation *op, ArrayRef<const Tensor *>, Tensor &result) {
        auto it = blockOf.find(op);
        if (it == blockOf.end())
          return;
        std::vector<double> &sums = sumSquares[it->second];
        int64_t width = sums.size(), count = result.numElements() / width;
        for (int64_t r = 0; r < count; ++r)
          for (int64_t j = 0; j < width; ++j) {
            double a = result.f[r * width + j];
            sums[j] += a * a;
          }
        if (it->second == 0)
          rows += count;
      };
    auto run = CompressionRun::begin(module, getArgument(), calibration,
                                     calibrationBatches, criterion == "output-norm",
                                     observer);
    if (failed(run))
      return failure();
    if (blocks.empty()) {
      run->log() << "no FFN block matched; nothing to prune\n";
      return success();
    }
    if (criterion == "output-norm")
      for (auto [n, block] : llvm::enumerate(blocks))
        for (int64_t j = 0; j < block.width; ++j)
          importance[n][j] *= std::sqrt(sumSquares[n][j] / std::max<int64_t>(rows, 1));

    int64_t before = 0, after = 0;
    for (auto [n, block] : llvm::enumerate(blocks)) {
      int64_t width = block.width;
      int64_t keepCount = width - (int64_t)std::llround(ratio * width);
      keepCount = std::min<int64_t>(width, llvm::alignTo(std::max<int64_t>(keepCount, 1),
                                                         (uint64_t)multiple));
      SmallVector<int64_t> order(width);
      std::iota(order.begin(), order.end(), 0);
      llvm::stable_sort(order, [&](int64_t a, int64_t b) {
        return importance[n][a] > importance[n][b];
      });
      order.resize(keepCount);
      llvm::sort(order);
      before += width;
      after += keepCount;
      run->log() << "ffn " << n << " ('" << weightName(block.down.getWeight())
                 << "'): kept " << keepCount << " of " << width << " neurons\n";
      if (keepCount == width)
        continue;
      for (LinearOp up : block.ups)
        if (failed(keepOutputChannels(up, order, ".pruned")))
          return failure();
      for (Operation *op : block.chain)
        if (failed(refreshResultType(op)))
          return failure();
      if (failed(keepInputChannels(block.down, order, ".pruned")))
        return failure();
    }
    eraseDeadOps(*func);
    run->log() << "FFN neurons " << before << " -> " << after << "\n";
    return success(succeeded(run->finish(module)));
  }
};

} // namespace
