//===- PruneWeights.cpp - unstructured and 2:4 pruning into sparse storage ===//
//
// Scores every weight of the targeted linears (|W|, or |W| x ||X_k|| with
// Wanda), removes the lowest-scoring ones under the chosen pattern and
// scope, and replaces each weight by its sparse storage: tfx.sparse_csr
// (unstructured) or tfx.sparse_2to4. Scoring and selection run per linear
// on the context's thread pool; the IR is rewritten afterwards, in order.
//
//===----------------------------------------------------------------------===//

#include "CompressionReport.h"
#include "InputStats.h"
#include "Structure.h"
#include "Weights.h"
#include "tfx/Passes/Passes.h"

#include "mlir/IR/Threading.h"
#include "llvm/Support/Format.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <numeric>

namespace mlir::tfx {
#define GEN_PASS_DEF_TFXPRUNEWEIGHTS
#include "passes/Passes.h.inc"
} // namespace mlir::tfx

using namespace mlir;
using namespace mlir::tfx;

namespace {

struct Target {
  LinearOp linear;
  std::string role, name;
  Tensor weight;
  std::vector<float> score;
  /// Whether each weight stays (unstructured: decided by a threshold or a
  /// per-layer/row count; 2:4: two per group).
  std::vector<bool> keep;
  int64_t kept = 0;
  bool skipped = false;
  std::string why;
};

/// Marks the `count` lowest of `score[begin, end)` as pruned.
static void pruneLowest(const std::vector<float> &score, std::vector<bool> &keep,
                        int64_t begin, int64_t end, int64_t count) {
  if (count <= 0)
    return;
  std::vector<int64_t> order(end - begin);
  std::iota(order.begin(), order.end(), begin);
  std::nth_element(order.begin(), order.begin() + (count - 1), order.end(),
                   [&](int64_t a, int64_t b) {
                     return score[a] < score[b] || (score[a] == score[b] && a < b);
                   });
  for (int64_t i = 0; i < count; ++i)
    keep[order[i]] = false;
}

struct PruneWeightsPass : mlir::tfx::impl::TfxPruneWeightsBase<PruneWeightsPass> {
  using TfxPruneWeightsBase::TfxPruneWeightsBase;

  void runOnOperation() override {
    if (failed(run()))
      signalPassFailure();
  }

  LogicalResult run() {
    ModuleOp module = getOperation();
    bool semi = pattern == "2:4";
    if (!semi && pattern != "unstructured")
      return module.emitError("tfx-prune-weights: unknown pattern '")
             << std::string(pattern) << "' (unstructured, 2:4)";
    if (criterion != "magnitude" && criterion != "wanda")
      return module.emitError("tfx-prune-weights: unknown criterion '")
             << std::string(criterion) << "' (magnitude, wanda)";
    if (scope != "layer" && scope != "row" && scope != "global")
      return module.emitError("tfx-prune-weights: unknown scope '")
             << std::string(scope) << "' (layer, row, global)";
    if (!semi && (sparsity < 0 || sparsity >= 1))
      return module.emitError("tfx-prune-weights: sparsity must be in [0, 1), got ")
             << formatNumber(sparsity);
    bool wanda = criterion == "wanda";
    auto selection = LinearSelection::get(module, getArgument(), targets, layers);
    if (failed(selection))
      return failure();
    auto func = findEntryFunction(module);
    if (!func)
      return module.emitError("tfx-prune-weights: ") << llvm::toString(func.takeError());

    auto found = collectLinearTargets(*func, *selection, /*f32Only=*/true);
    if (failed(found))
      return failure();
    std::vector<Target> work;
    for (LinearTarget &l : *found) {
      Target t;
      t.linear = l.linear;
      t.role = l.role;
      t.name = l.name;
      t.weight = std::move(l.weight);
      work.push_back(std::move(t));
    }

    InputStats stats;
    if (wanda)
      for (Target &t : work)
        stats.track(t.linear, t.weight.shape[1]);
    auto run = CompressionRun::begin(module, getArgument(), calibration,
                                     calibrationBatches, wanda,
                                     wanda ? stats.observer() : nullptr);
    if (failed(run))
      return failure();

    // Scores, and the per-linear selections.
    std::atomic<size_t> done{0};
    parallelForEach(&getContext(), work, [&](Target &t) {
      int64_t out = t.weight.shape[0], in = t.weight.shape[1];
      std::vector<double> norms = wanda ? stats.norms(t.linear) : std::vector<double>();
      t.score.resize(out * in);
      for (int64_t n = 0; n < out; ++n)
        for (int64_t k = 0; k < in; ++k)
          t.score[n * in + k] = std::fabs(t.weight.f[n * in + k]) *
                                (wanda ? (float)norms[k] : 1.0f);
      t.keep.assign(out * in, true);
      if (semi) {
        if (in % 8) {
          t.skipped = true;
          t.why = "input channels not a multiple of 8";
        } else {
          for (int64_t g = 0; g < out * in; g += 4)
            pruneLowest(t.score, t.keep, g, g + 4, 2);
        }
      } else if (scope == "row") {
        for (int64_t n = 0; n < out; ++n)
          pruneLowest(t.score, t.keep, n * in, (n + 1) * in,
                      (int64_t)std::llround(sparsity * in));
      } else if (scope == "layer") {
        pruneLowest(t.score, t.keep, 0, out * in, (int64_t)std::llround(sparsity * out * in));
      }
      run->progress("scoring", ++done, work.size());
    });
    if (!semi && scope == "global" && !work.empty()) {
      // One threshold over every targeted weight.
      std::vector<float> all;
      for (const Target &t : work)
        all.insert(all.end(), t.score.begin(), t.score.end());
      int64_t count = (int64_t)std::llround(sparsity * all.size());
      if (count > 0) {
        std::nth_element(all.begin(), all.begin() + (count - 1), all.end());
        float threshold = all[count - 1];
        for (Target &t : work)
          for (size_t i = 0; i < t.score.size(); ++i)
            t.keep[i] = t.score[i] > threshold;
      }
    }

    int64_t pruned = 0, total = 0;
    for (Target &t : work) {
      int64_t out = t.weight.shape[0], in = t.weight.shape[1];
      run->log() << "'" << t.name << "' (" << t.role << ", " << out << "x" << in << "): ";
      if (t.skipped) {
        CompressionRun::stream() << "kept dense (" << t.why << ")\n";
        continue;
      }
      FailureOr<int64_t> stored = semi ? rewrite24(t) : rewriteCsr(t);
      if (failed(stored))
        return failure();
      int64_t zeros = out * in - t.kept;
      pruned += zeros;
      total += out * in;
      CompressionRun::stream() << llvm::format("%.1f%% zero, ", 100.0 * zeros / (out * in))
                   << (semi ? "2:4" : "CSR") << ", "
                   << llvm::format("%.3fx", (double)*stored / (4.0 * out * in))
                   << " the bytes\n";
    }
    eraseDeadOps(*func);
    run->log() << llvm::format("%.1f%% of the weights of %zu linears pruned\n",
                               total ? 100.0 * pruned / total : 0.0, work.size());
    return success(succeeded(run->finish(module)));
  }

  /// Replaces the weight by tfx.sparse_csr; returns the stored bytes.
  FailureOr<int64_t> rewriteCsr(Target &t) {
    int64_t out = t.weight.shape[0], in = t.weight.shape[1];
    Tensor offsets = Tensor::ints({out + 1}, 0, DType::I32);
    std::vector<int64_t> columns;
    std::vector<float> values;
    for (int64_t n = 0; n < out; ++n) {
      for (int64_t k = 0; k < in; ++k) {
        float w = t.weight.f[n * in + k];
        // A kept weight that is zero anyway costs nothing to drop.
        if (!t.keep[n * in + k] || w == 0)
          continue;
        columns.push_back(k);
        values.push_back(w);
      }
      offsets.i[n + 1] = (int64_t)values.size();
    }
    int64_t nonzeros = (int64_t)values.size();
    t.kept = nonzeros;
    Tensor valueTensor = Tensor::floats({nonzeros});
    valueTensor.f = std::move(values);
    Tensor columnTensor = Tensor::ints({nonzeros}, 0, DType::I32);
    columnTensor.i = std::move(columns);
    bool narrow = in <= 32768;
    OpBuilder b(t.linear);
    Location loc = t.linear.getLoc();
    auto valuesValue = createF32Weight(b, loc, valueTensor, t.name + ".values");
    auto columnsValue = createWeight(
        b, loc, RankedTensorType::get({nonzeros}, b.getIntegerType(narrow ? 16 : 32)),
        columnTensor, t.name + ".columns");
    auto offsetsValue = createWeight(b, loc, RankedTensorType::get({out + 1}, b.getI32Type()),
                                     offsets, t.name + ".row_offsets");
    if (failed(valuesValue) || failed(columnsValue) || failed(offsetsValue))
      return failure();
    auto sparse = SparseCsrOp::create(b, loc, t.linear.getWeight().getType(), *valuesValue,
                                      *columnsValue, *offsetsValue);
    t.linear.getWeightMutable().assign(sparse.getResult());
    return nonzeros * (4 + (narrow ? 2 : 4)) + (out + 1) * 4;
  }

  /// Replaces the weight by tfx.sparse_2to4; returns the stored bytes.
  FailureOr<int64_t> rewrite24(Target &t) {
    int64_t out = t.weight.shape[0], in = t.weight.shape[1];
    Tensor values = Tensor::floats({out, in / 2});
    Tensor meta = Tensor::ints({out, in / 8}, 0, DType::I8);
    int64_t kept = 0;
    for (int64_t n = 0; n < out; ++n)
      for (int64_t g = 0; g < in / 4; ++g) {
        int64_t slot = 0;
        uint8_t bits = 0;
        for (int64_t p = 0; p < 4; ++p) {
          if (!t.keep[n * in + 4 * g + p])
            continue;
          values.f[n * (in / 2) + 2 * g + slot] = t.weight.f[n * in + 4 * g + p];
          bits |= (uint8_t)(p << (2 * slot));
          kept += t.weight.f[n * in + 4 * g + p] != 0;
          ++slot;
        }
        int64_t &byte = meta.i[n * (in / 8) + g / 2];
        byte = (int8_t)(uint8_t)((uint8_t)byte | (uint8_t)(bits << (4 * (g % 2))));
      }
    t.kept = kept;
    OpBuilder b(t.linear);
    Location loc = t.linear.getLoc();
    auto valuesValue = createF32Weight(b, loc, values, t.name + ".values");
    auto metaValue = createWeight(b, loc, RankedTensorType::get({out, in / 8}, b.getI8Type()),
                                  meta, t.name + ".meta");
    if (failed(valuesValue) || failed(metaValue))
      return failure();
    auto sparse = createInferred<Sparse24Op>(b, loc, *valuesValue, *metaValue);
    if (failed(sparse) || sparse->getType() != t.linear.getWeight().getType())
      return t.linear.emitError("tfx-prune-weights: cannot build the 2:4 weight of '")
             << t.name << "'";
    t.linear.getWeightMutable().assign(sparse->getResult());
    return out * (in / 2) * 4 + out * (in / 8);
  }
};

} // namespace
