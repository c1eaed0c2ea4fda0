//===- LowRank.cpp - linear layers as two thinner ones --------------------===//
//
// The SVDs (lib/Support/SVD.cpp) of all targeted weights run in parallel on
// the context's thread pool; the IR is rewritten afterwards, in order.
//
//===----------------------------------------------------------------------===//

#include "CompressionReport.h"
#include "InputStats.h"
#include "Structure.h"
#include "Weights.h"
#include "tfx/Passes/Passes.h"
#include "tfx/Support/SVD.h"

#include "mlir/IR/Threading.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/Format.h"

#include <cmath>

namespace mlir::tfx {
#define GEN_PASS_DEF_TFXLOWRANK
#include "passes/Passes.h.inc"
} // namespace mlir::tfx

using namespace mlir;
using namespace mlir::tfx;

namespace {

struct Target {
  LinearOp linear;
  std::string role;
  Tensor weight;
  /// Input-channel scales (activation-aware), empty otherwise.
  std::vector<double> scale;
  // Results.
  int64_t rank = 0;
  double retained = 0;
  Tensor first, second;
  bool factorized = false;
};

struct LowRankPass : mlir::tfx::impl::TfxLowRankBase<LowRankPass> {
  using TfxLowRankBase::TfxLowRankBase;

  void runOnOperation() override {
    if (failed(run()))
      signalPassFailure();
  }

  LogicalResult run() {
    ModuleOp module = getOperation();
    if (rank < 0 || rankRatio < 0 || rankRatio > 1 || energy <= 0 || energy > 1)
      return module.emitError("tfx-low-rank: need rank >= 0, rank-ratio in [0, 1] "
                              "and energy in (0, 1]");
    auto selection = LinearSelection::get(module, getArgument(), targets, layers);
    if (failed(selection))
      return failure();
    auto func = findEntryFunction(module);
    if (!func)
      return module.emitError("tfx-low-rank: ") << llvm::toString(func.takeError());

    auto found = collectLinearTargets(*func, *selection, /*f32Only=*/false);
    if (failed(found))
      return failure();
    std::vector<Target> work;
    for (LinearTarget &l : *found) {
      Target t;
      t.linear = l.linear;
      t.role = l.role;
      t.weight = std::move(l.weight);
      work.push_back(std::move(t));
    }

    // Input-channel root mean squares of the targets (activation-aware).
    InputStats stats;
    if (activationAware)
      for (Target &t : work)
        stats.track(t.linear, t.weight.shape[1]);
    auto run = CompressionRun::begin(module, getArgument(), calibration,
                                     calibrationBatches, activationAware,
                                     activationAware ? stats.observer() : nullptr);
    if (failed(run))
      return failure();
    if (activationAware)
      for (Target &t : work) {
        t.scale = stats.rms(t.linear);
        double mean = 0;
        for (double s : t.scale)
          mean += s / t.scale.size();
        // A channel the data never uses still gets a small weight.
        for (double &s : t.scale)
          s = std::max(s, 1e-3 * mean + 1e-12);
      }

    // The SVDs, in parallel.
    std::atomic<size_t> done{0};
    parallelForEach(&getContext(), work, [&](Target &t) {
      factorize(t);
      run->progress("factorizing", ++done, work.size());
    });

    int64_t factorized = 0;
    for (Target &t : work) {
      int64_t out = t.weight.shape[0], in = t.weight.shape[1];
      run->log() << "'" << weightName(t.linear.getWeight()) << "' (" << t.role << ", "
                 << out << "x" << in << "): ";
      if (!t.factorized) {
        CompressionRun::stream() << "kept dense (rank " << t.rank << " saves no work)\n";
        continue;
      }
      CompressionRun::stream() << "rank " << t.rank << ", "
                   << llvm::format("%.1f%%", 100 * t.retained) << " of the energy, "
                   << llvm::format("%.3fx", (double)t.rank * (out + in) / (out * in))
                   << " the multiply-adds\n";
      if (failed(rewrite(t)))
        return failure();
      ++factorized;
    }
    eraseDeadOps(*func);
    run->log() << factorized << " of " << work.size() << " linears factorized\n";
    return success(succeeded(run->finish(module)));
  }

  void factorize(Target &t) {
    int64_t out = t.weight.shape[0], in = t.weight.shape[1];
    Tensor scaled = t.weight;
    if (!t.scale.empty())
      for (int64_t r = 0; r < out; ++r)
        for (int64_t c = 0; c < in; ++c)
          scaled.f[r * in + c] *= t.scale[c];
    TruncatedSVD svd(scaled);
    int64_t full = std::min(out, in);
    if (rank > 0)
      t.rank = std::min<int64_t>(rank, full);
    else if (rankRatio > 0)
      t.rank = std::max<int64_t>(1, std::llround(rankRatio * full));
    else
      t.rank = svd.rankForEnergy(energy);
    double total = 0, kept = 0;
    for (auto [k, s] : llvm::enumerate(svd.singularValues())) {
      total += s * s;
      if ((int64_t)k < t.rank)
        kept += s * s;
    }
    t.retained = total > 0 ? kept / total : 1;
    if (t.rank * (out + in) >= out * in)
      return;
    std::tie(t.first, t.second) = svd.factors(t.rank);
    if (!t.scale.empty())
      for (int64_t k = 0; k < t.rank; ++k)
        for (int64_t c = 0; c < in; ++c)
          t.first.f[k * in + c] /= t.scale[c];
    t.factorized = true;
  }

  LogicalResult rewrite(Target &t) {
    LinearOp linear = t.linear;
    OpBuilder b(linear);
    std::string name = weightName(linear.getWeight());
    if (name.empty())
      name = "linear";
    auto elt = cast<RankedTensorType>(linear.getWeight().getType()).getElementType();
    auto a = createWeight(b, linear.getLoc(), RankedTensorType::get(t.first.shape, elt),
                          t.first, name + ".lowrank_a");
    auto bw = createWeight(b, linear.getLoc(), RankedTensorType::get(t.second.shape, elt),
                           t.second, name + ".lowrank_b");
    if (failed(a) || failed(bw))
      return failure();
    auto inner = createInferred<LinearOp>(b, linear.getLoc(), linear.getInput(), *a,
                                          Value());
    if (failed(inner))
      return linear.emitError("tfx-low-rank: cannot build the first factor");
    auto outer = createInferred<LinearOp>(b, linear.getLoc(), inner->getResult(), *bw,
                                          linear.getBias());
    if (failed(outer) || outer->getType() != linear.getType())
      return linear.emitError("tfx-low-rank: cannot build the second factor");
    linear.getResult().replaceAllUsesWith(outer->getResult());
    linear.erase();
    return success();
  }
};

} // namespace
