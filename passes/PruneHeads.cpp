//===- PruneHeads.cpp - remove the least important attention heads --------===//
//
// Importance per query head from calibration data, then, per attention
// block, the rows of q/k/v and the columns of the output projection of the
// removed heads go (ChannelPruning.cpp) and the head counts of the
// attention and RoPE ops follow.
//
//===----------------------------------------------------------------------===//

#include "ChannelPruning.h"
#include "CompressionReport.h"
#include "Structure.h"
#include "Weights.h"
#include "tfx/Passes/Passes.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/Format.h"

#include <cmath>
#include <numeric>

namespace mlir::tfx {
#define GEN_PASS_DEF_TFXPRUNEHEADS
#include "passes/Passes.h.inc"
} // namespace mlir::tfx

using namespace mlir;
using namespace mlir::tfx;

namespace {

/// Head `h`'s columns of every row of an attention result set to zero.
void zeroHead(Tensor &result, int64_t h, int64_t headDim) {
  int64_t cols = result.shape.back(), rows = result.numElements() / cols;
  for (int64_t r = 0; r < rows; ++r)
    std::fill_n(result.f.begin() + r * cols + h * headDim, headDim, 0.0f);
}

/// Sum over rows of || O[r, head h] . Wo[:, head h]^T ||^2 per head.
void accumulateContributions(const Tensor &out, const Tensor &wo, int64_t heads,
                             int64_t headDim, std::vector<double> &sums) {
  int64_t cols = out.shape.back(), rows = out.numElements() / cols;
  int64_t model = wo.shape[0];
  std::vector<double> y(model);
  for (int64_t r = 0; r < rows; ++r) {
    const float *o = out.f.data() + r * cols;
    for (int64_t h = 0; h < heads; ++h) {
      std::fill(y.begin(), y.end(), 0.0);
      for (int64_t m = 0; m < model; ++m) {
        const float *w = wo.f.data() + m * cols + h * headDim;
        double acc = 0;
        for (int64_t c = 0; c < headDim; ++c)
          acc += (double)o[h * headDim + c] * w[c];
        y[m] = acc;
      }
      double norm = 0;
      for (double v : y)
        norm += v * v;
      sums[h] += norm;
    }
  }
}

/// The `count` smallest entries of `scores` (indices, ascending order of
/// index), ties broken by index.
SmallVector<int64_t> smallest(ArrayRef<double> scores, int64_t count) {
  SmallVector<int64_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  llvm::stable_sort(order, [&](int64_t a, int64_t b) { return scores[a] < scores[b]; });
  order.resize(count);
  llvm::sort(order);
  return order;
}

std::string listString(ArrayRef<int64_t> values) {
  std::string s = "[";
  for (auto [n, v] : llvm::enumerate(values))
    s += (n ? "," : "") + std::to_string(v);
  return s + "]";
}

struct PruneHeadsPass : mlir::tfx::impl::TfxPruneHeadsBase<PruneHeadsPass> {
  using TfxPruneHeadsBase::TfxPruneHeadsBase;

  void runOnOperation() override {
    if (failed(run()))
      signalPassFailure();
  }

  LogicalResult run() {
    ModuleOp module = getOperation();
    if (ratio < 0 || ratio >= 1)
      return module.emitError("tfx-prune-heads: ratio must be in [0, 1), got ")
             << formatNumber(ratio);
    if (criterion != "output-norm" && criterion != "ablation")
      return module.emitError("tfx-prune-heads: unknown criterion '")
             << criterion << "' (output-norm or ablation)";
    if (scope != "layer" && scope != "global")
      return module.emitError("tfx-prune-heads: unknown scope '")
             << scope << "' (layer or global)";
    auto func = findEntryFunction(module);
    if (!func)
      return module.emitError("tfx-prune-heads: ")
             << llvm::toString(func.takeError());

    std::vector<AttentionBlock> blocks;
    int64_t unmatched = 0;
    func->walk([&](AttentionOp op) {
      if (auto block = matchAttentionBlock(op))
        blocks.push_back(*block);
      else
        ++unmatched;
    });

    // Output projections, read once, for the output-norm criterion.
    llvm::DenseMap<Operation *, unsigned> blockOf;
    std::vector<Tensor> outWeights(blocks.size());
    std::vector<std::vector<double>> importance(blocks.size());
    for (auto [n, block] : llvm::enumerate(blocks)) {
      blockOf[block.attention] = n;
      importance[n].assign(block.heads, 0.0);
      if (criterion != "output-norm")
        continue;
      auto wo = readWeight(block.out.getWeight());
      if (!wo)
        return block.out.emitError("tfx-prune-heads: ")
               << llvm::toString(wo.takeError());
      outWeights[n] = std::move(*wo);
    }
    OpObserver observer;
    if (criterion == "output-norm")
      observer = [&](Operation *op, ArrayRef<const Tensor *>, Tensor &result) {
        auto it = blockOf.find(op);
        if (it == blockOf.end())
          return;
        const AttentionBlock &b = blocks[it->second];
        accumulateContributions(result, outWeights[it->second], b.heads, b.headDim,
                                importance[it->second]);
      };
    auto run = CompressionRun::begin(module, getArgument(), calibration,
                                     calibrationBatches, true, observer);
    if (failed(run))
      return failure();
    if (blocks.empty()) {
      run->log() << "no attention block matched (" << unmatched
                 << " attention ops); nothing to prune\n";
      return success();
    }

    if (criterion == "ablation") {
      size_t total = 0, done = 0;
      for (const AttentionBlock &b : blocks)
        total += b.heads;
      for (auto [n, block] : llvm::enumerate(blocks))
        for (int64_t h = 0; h < block.heads; ++h) {
          Operation *target = block.attention;
          int64_t headDim = block.headDim;
          auto fidelity = run->measureWith(
              module, [&](Operation *op, ArrayRef<const Tensor *>, Tensor &result) {
                if (op == target)
                  zeroHead(result, h, headDim);
              });
          if (failed(fidelity))
            return failure();
          importance[n][h] = fidelity->worstRelL2();
          run->progress("ablating heads", ++done, total);
        }
    }

    // Which query heads go.
    std::vector<SmallVector<int64_t>> removed(blocks.size());
    bool global = scope == "global";
    if (global && llvm::any_of(blocks, [](const AttentionBlock &b) {
          return b.kvHeads != b.heads;
        }))
      return module.emitError(
          "tfx-prune-heads: scope=global needs multi-head attention in every "
          "layer (grouped-query layers prune per group; use scope=layer)");
    if (global) {
      std::vector<double> all;
      std::vector<std::pair<unsigned, int64_t>> where;
      for (auto [n, block] : llvm::enumerate(blocks))
        for (int64_t h = 0; h < block.heads; ++h) {
          all.push_back(importance[n][h]);
          where.push_back({(unsigned)n, h});
        }
      int64_t goal = (int64_t)std::llround(ratio * all.size());
      SmallVector<int64_t> order(all.size());
      std::iota(order.begin(), order.end(), 0);
      llvm::stable_sort(order, [&](int64_t a, int64_t b) { return all[a] < all[b]; });
      for (int64_t idx : order) {
        if (goal == 0)
          break;
        auto [n, h] = where[idx];
        if ((int64_t)removed[n].size() + 1 >= blocks[n].heads)
          continue; // every layer keeps a head
        removed[n].push_back(h);
        --goal;
      }
      for (auto &r : removed)
        llvm::sort(r);
    } else {
      for (auto [n, block] : llvm::enumerate(blocks)) {
        int64_t group = block.heads / block.kvHeads;
        if (block.kvHeads == block.heads) {
          int64_t count = std::min<int64_t>(std::llround(ratio * block.heads),
                                            block.heads - 1);
          removed[n] = smallest(importance[n], count);
          continue;
        }
        // Grouped-query: the same number of query heads from every group.
        int64_t perGroup = std::min<int64_t>(std::llround(ratio * group), group - 1);
        for (int64_t g = 0; g < block.kvHeads; ++g) {
          ArrayRef<double> scores(importance[n].data() + g * group, group);
          for (int64_t h : smallest(scores, perGroup))
            removed[n].push_back(g * group + h);
        }
      }
    }

    int64_t headsBefore = 0, headsAfter = 0;
    for (auto [n, block] : llvm::enumerate(blocks)) {
      SmallVector<int64_t> keepQ, keepKv;
      for (int64_t h = 0; h < block.heads; ++h)
        if (!llvm::is_contained(removed[n], h))
          keepQ.push_back(h);
      if (block.kvHeads == block.heads)
        keepKv = keepQ;
      else
        for (int64_t h = 0; h < block.kvHeads; ++h)
          keepKv.push_back(h);
      headsBefore += block.heads;
      headsAfter += keepQ.size();
      std::string scores;
      llvm::raw_string_ostream os(scores);
      for (auto [h, s] : llvm::enumerate(importance[n]))
        os << (h ? " " : "") << llvm::format("%.3g", s);
      run->log() << "layer " << n << ": kept heads " << listString(keepQ) << " of "
                 << block.heads << ", kv-heads " << keepKv.size() << " of "
                 << block.kvHeads << " (" << criterion << ": " << scores << ")\n";
      if (removed[n].empty())
        continue;
      if (failed(apply(block, keepQ, keepKv)))
        return failure();
    }
    eraseDeadOps(*func);
    run->log() << "heads " << headsBefore << " -> " << headsAfter << "\n";
    return success(succeeded(run->finish(module)));
  }

  LogicalResult apply(const AttentionBlock &block, ArrayRef<int64_t> keepQ,
                      ArrayRef<int64_t> keepKv) {
    int64_t d = block.headDim;
    // Rows per linear: fused projections share one.
    llvm::DenseMap<Operation *, SmallVector<int64_t>> rows;
    SmallVector<LinearOp> order;
    auto add = [&](const Projection &p, ArrayRef<int64_t> heads) {
      if (!rows.count(p.linear))
        order.push_back(p.linear);
      llvm::append_range(rows[p.linear], expandBlocks(heads, d, p.offset));
    };
    add(block.q, keepQ);
    add(block.k, keepKv);
    add(block.v, keepKv);
    for (LinearOp linear : order) {
      SmallVector<int64_t> &keep = rows[linear];
      llvm::sort(keep);
      if (failed(keepOutputChannels(linear, keep, ".pruned")))
        return failure();
    }
    if (RopeOp rope = block.q.rope) {
      rope.setNumHeads(keepQ.size());
      if (failed(refreshResultType(rope)))
        return failure();
    }
    if (RopeOp rope = block.k.rope) {
      rope.setNumHeads(keepKv.size());
      if (failed(refreshResultType(rope)))
        return failure();
    }
    AttentionOp attention = block.attention;
    attention.setNumHeads(keepQ.size());
    attention.setNumKvHeads(keepKv.size());
    if (failed(refreshResultType(attention)))
      return failure();
    return keepInputChannels(block.out, expandBlocks(keepQ, d), ".pruned");
  }
};

} // namespace
