//===- SmoothQuant.cpp - move activation outliers into the weights --------===//
//
// SmoothQuant (Xiao et al., 2023): a few input channels of a linear carry
// most of the magnitude, so one int8 scale per row or per tensor wastes its
// levels on them. Dividing channel j of the input by s_j and multiplying
// column j of the weight by s_j leaves x W^T unchanged and moves the
// difficulty from the activations to the weights (which have a scale per
// output channel), with
//
//     s_j = max|X_j|^alpha / max|W_:,j|^(1 - alpha).
//
// The division needs an op that produces channel j linearly and whose
// result feeds only the smoothed linears, so it costs nothing at run time:
//
//  - a norm (tfx.layer_norm, tfx.rms_norm): gamma_j (and beta_j) / s_j;
//    all the norm's users must be targeted linears (a pre-LN block: GPT-2's
//    ln_1 -> c_attn, Llama's input_layernorm -> q/k/v);
//  - attention: its output channel h*d + j is a weighted sum of V's channel
//    (h / group)*d + j, so rows of the V projection (weight and bias) / s and
//    the output projection's columns * s; query heads that share a kv-head
//    share s.
//
// Inputs with no such producer (the FFN down projection after GELU, BERT's
// post-LN blocks whose norm also feeds the residual) are left as they are
// and the report says so. All scales come from one calibration run of the
// unmodified model; the rewritten model computes the same function (the
// report's fidelity is rounding only).
//
//===----------------------------------------------------------------------===//

#include "CompressionReport.h"
#include "Structure.h"
#include "Weights.h"
#include "tfx/Passes/Passes.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>

namespace mlir::tfx {
#define GEN_PASS_DEF_TFXSMOOTHQUANT
#include "passes/Passes.h.inc"
} // namespace mlir::tfx

using namespace mlir;
using namespace mlir::tfx;

namespace {

/// Channels whose scale moves between a producer and the linears it feeds.
struct Group {
  /// The norm or the attention op.
  Operation *producer = nullptr;
  std::string label;
  /// The linears whose input columns are multiplied by s.
  SmallVector<LinearOp, 3> consumers;
  /// Attention: the projection whose output rows [offset, offset + width)
  /// are divided by s, and how output channels map to V channels.
  LinearOp vLinear;
  int64_t vOffset = 0, heads = 1, kvHeads = 1, headDim = 0;
  /// Input channels of the consumers, and the channels s is indexed by
  /// (the same for norms; V's for attention).
  int64_t channels = 0, scaled = 0;
  std::vector<double> inputMax, scales;

  /// The scale channel of consumer input channel c.
  int64_t scaleIndex(int64_t c) const {
    if (!vLinear)
      return c;
    int64_t head = c / headDim, group = heads / kvHeads;
    return (head / group) * headDim + c % headDim;
  }
};

/// A weight value read once, edited by every group that touches it, and
/// written back at the end.
struct Edit {
  Tensor data;
  bool changed = false;
};

bool singleUseWeight(Value v) { return isWeightValue(v) && v.hasOneUse(); }

bool isF32(Value v) {
  return cast<RankedTensorType>(v.getType()).getElementType().isF32();
}

/// A linear smoothing can rewrite: plain f32 weight (and bias) used nowhere else.
bool smoothable(LinearOp l) {
  return singleUseWeight(l.getWeight()) && isF32(l.getWeight()) &&
         (!l.getBias() || singleUseWeight(l.getBias()));
}

struct SmoothQuantPass : mlir::tfx::impl::TfxSmoothQuantBase<SmoothQuantPass> {
  using TfxSmoothQuantBase::TfxSmoothQuantBase;

  void runOnOperation() override {
    if (failed(run()))
      signalPassFailure();
  }

  LogicalResult run() {
    ModuleOp module = getOperation();
    if (!(alpha >= 0 && alpha <= 1))
      return emitError(module.getLoc(), "tfx-smooth-quant: alpha must be in [0, 1], got ")
             << formatNumber(alpha);
    auto roleList = targetRoles(module, getArgument(), targets);
    if (failed(roleList))
      return failure();
    SmallVector<std::string> roles = *roleList;
    auto func = findEntryFunction(module);
    if (!func)
      return emitError(module.getLoc(), "tfx-smooth-quant: ")
             << llvm::toString(func.takeError());
    llvm::DenseMap<Operation *, std::string> roleOf = linearRoles(*func);
    auto targeted = [&](LinearOp l) {
      std::string role = roleOf.lookup(l);
      return llvm::is_contained(roles, role.empty() ? std::string("other") : role);
    };

    std::vector<Group> groups;
    SmallVector<std::string> skipped;
    collectNormGroups(*func, targeted, groups, skipped);
    collectAttentionGroups(*func, targeted, groups, skipped);

    // max |x_c| of each group's input (its first consumer's operand 0).
    llvm::DenseMap<Operation *, unsigned> observed;
    for (auto [n, g] : llvm::enumerate(groups)) {
      g.inputMax.assign(g.channels, 0.0);
      observed[g.consumers.front()] = n;
    }
    OpObserver observer = [&](Operation *op, ArrayRef<const Tensor *> operands, Tensor &) {
      auto it = observed.find(op);
      if (it == observed.end())
        return;
      Group &g = groups[it->second];
      const Tensor &x = *operands[0];
      int64_t rows = x.numElements() / g.channels;
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < g.channels; ++c)
          g.inputMax[c] = std::max(g.inputMax[c], (double)std::fabs(x.f[r * g.channels + c]));
    };
    auto run = CompressionRun::begin(module, getArgument(), calibration, calibrationBatches,
                                     /*needsCalibration=*/true, observer);
    if (failed(run))
      return failure();

    llvm::MapVector<Value, Edit> edits;
    auto edit = [&](Value v) -> FailureOr<Edit *> {
      auto it = edits.find(v);
      if (it != edits.end())
        return &it->second;
      auto data = readWeight(v);
      if (!data)
        return emitError(v.getLoc(), "tfx-smooth-quant: ") << llvm::toString(data.takeError());
      Edit &e = edits[v];
      e.data = std::move(*data);
      return &e;
    };

    for (Group &g : groups) {
      // max |W_:,j| over every consumer, per scale channel.
      std::vector<double> weightMax(g.scaled, 0.0);
      for (LinearOp l : g.consumers) {
        auto w = edit(l.getWeight());
        if (failed(w))
          return failure();
        const Tensor &t = (*w)->data;
        int64_t out = t.shape[0], in = t.shape[1];
        for (int64_t r = 0; r < out; ++r)
          for (int64_t c = 0; c < in; ++c)
            weightMax[g.scaleIndex(c)] =
                std::max(weightMax[g.scaleIndex(c)], (double)std::fabs(t.f[r * in + c]));
      }
      std::vector<double> actMax(g.scaled, 0.0);
      for (int64_t c = 0; c < g.channels; ++c)
        actMax[g.scaleIndex(c)] = std::max(actMax[g.scaleIndex(c)], g.inputMax[c]);
      g.scales.assign(g.scaled, 1.0);
      for (int64_t j = 0; j < g.scaled; ++j)
        if (actMax[j] > 0 && weightMax[j] > 0)
          g.scales[j] = std::max(1e-5, std::pow(actMax[j], (double)alpha) /
                                           std::pow(weightMax[j], 1.0 - alpha));
      if (failed(apply(g, edit)))
        return failure();
      logGroup(*run, g, actMax);
    }

    for (auto &[value, e] : edits) {
      if (!e.changed)
        continue;
      OpBuilder b(value.getParentBlock(), value.getParentBlock()->begin());
      if (Operation *def = value.getDefiningOp())
        b.setInsertionPoint(def);
      std::string name = weightName(value);
      auto replacement = createF32Weight(b, value.getLoc(), e.data,
                                         (name.empty() ? std::string("weight") : name) + ".smooth");
      if (failed(replacement))
        return failure();
      value.replaceAllUsesWith(*replacement);
    }
    eraseDeadOps(*func);
    for (const std::string &why : skipped)
      run->log() << why << "\n";
    size_t linears = 0;
    llvm::DenseSet<Operation *> smoothed;
    for (const Group &g : groups) {
      linears += g.consumers.size();
      for (LinearOp l : g.consumers)
        smoothed.insert(l);
    }
    SmallVector<std::string> alone;
    func->walk([&](LinearOp l) {
      if (targeted(l) && !smoothed.contains(l))
        alone.push_back("'" + weightName(l.getWeight()) + "'");
    });
    if (!alone.empty())
      run->log() << alone.size()
                 << " targeted linears left alone (no norm or attention feeds only them): "
                 << llvm::join(ArrayRef(alone).take_front(3), ", ")
                 << (alone.size() > 3 ? ", ..." : "") << "\n";
    run->log() << llvm::formatv("{0} groups smoothed ({1} linears, alpha {2})\n", groups.size(),
                                linears, formatNumber(alpha));
    return success(succeeded(run->finish(module)));
  }

  template <typename EditFn>
  static LogicalResult apply(Group &g, EditFn &edit) {
    // The consumers' columns * s.
    for (LinearOp l : g.consumers) {
      auto w = edit(l.getWeight());
      if (failed(w))
        return failure();
      Tensor &t = (*w)->data;
      int64_t out = t.shape[0], in = t.shape[1];
      for (int64_t r = 0; r < out; ++r)
        for (int64_t c = 0; c < in; ++c)
          t.f[r * in + c] = (float)(t.f[r * in + c] * g.scales[g.scaleIndex(c)]);
      (*w)->changed = true;
    }
    // The producer's channels / s.
    auto divide = [&](Value v, int64_t rowLength, int64_t offset) -> LogicalResult {
      auto e = edit(v);
      if (failed(e))
        return failure();
      Tensor &t = (*e)->data;
      for (int64_t j = 0; j < g.scaled; ++j)
        for (int64_t k = 0; k < rowLength; ++k) {
          float &x = t.f[(offset + j) * rowLength + k];
          x = (float)(x / g.scales[j]);
        }
      (*e)->changed = true;
      return success();
    };
    if (g.vLinear) {
      int64_t in = cast<RankedTensorType>(g.vLinear.getWeight().getType()).getDimSize(1);
      if (failed(divide(g.vLinear.getWeight(), in, g.vOffset)) ||
          (g.vLinear.getBias() && failed(divide(g.vLinear.getBias(), 1, g.vOffset))))
        return failure();
      return success();
    }
    auto [gamma, beta] = normParameters(g.producer);
    if (failed(divide(gamma, 1, 0)) || (beta && failed(divide(beta, 1, 0))))
      return failure();
    return success();
  }

  static std::pair<Value, Value> normParameters(Operation *op) {
    if (auto ln = dyn_cast<LayerNormOp>(op))
      return {ln.getGamma(), ln.getBeta()};
    return {cast<RmsNormOp>(op).getGamma(), Value()};
  }

  template <typename TargetFn>
  static void collectNormGroups(func::FuncOp func, TargetFn &targeted, std::vector<Group> &groups,
                                SmallVector<std::string> &skipped) {
    func.walk([&](Operation *op) {
      if (!isa<LayerNormOp, RmsNormOp>(op))
        return;
      auto [gamma, beta] = normParameters(op);
      Value result = op->getResult(0);
      Group g;
      g.producer = op;
      g.label = weightName(gamma);
      bool allLinears = !result.use_empty();
      for (Operation *user : result.getUsers()) {
        auto l = dyn_cast<LinearOp>(user);
        if (!l || l.getInput() != result) {
          allLinears = false;
          break;
        }
        if (!llvm::is_contained(g.consumers, l))
          g.consumers.push_back(l);
      }
      // A norm that also feeds the residual stream or an untargeted linear
      // (the LM head) cannot change its output.
      if (!allLinears || !llvm::all_of(g.consumers, [&](LinearOp l) { return targeted(l); }))
        return;
      llvm::sort(g.consumers, [](LinearOp a, LinearOp b) {
        return a->isBeforeInBlock(b.getOperation());
      });
      if (!singleUseWeight(gamma) || (beta && !singleUseWeight(beta)) ||
          !llvm::all_of(g.consumers, smoothable)) {
        skipped.push_back("'" + g.label + "': kept (a weight it touches is shared or not f32)");
        return;
      }
      g.channels = g.scaled = cast<RankedTensorType>(result.getType()).getShape().back();
      groups.push_back(std::move(g));
    });
  }

  template <typename TargetFn>
  static void collectAttentionGroups(func::FuncOp func, TargetFn &targeted,
                                     std::vector<Group> &groups,
                                     SmallVector<std::string> &skipped) {
    func.walk([&](AttentionOp op) {
      if (op.getKind() != AttentionKind::softmax)
        return;
      std::optional<AttentionBlock> block = matchAttentionBlock(op);
      if (!block || block->v.rope || !targeted(block->out))
        return;
      Group g;
      g.producer = op;
      g.label = weightName(block->out.getWeight());
      // The fused QKV weight is used by that one linear; its other rows
      // (q and k) are left alone.
      if (!smoothable(block->out) || !smoothable(block->v.linear) ||
          !block->out.getInput().hasOneUse()) {
        skipped.push_back("'" + g.label + "': kept (a weight it touches is shared or not f32)");
        return;
      }
      g.consumers.push_back(block->out);
      g.vLinear = block->v.linear;
      g.vOffset = block->v.offset;
      g.heads = block->heads;
      g.kvHeads = block->kvHeads;
      g.headDim = block->headDim;
      g.channels = block->heads * block->headDim;
      g.scaled = block->kvHeads * block->headDim;
      groups.push_back(std::move(g));
    });
  }

  /// One line per group: how uneven the input channels were (the largest
  /// channel maximum over the median one) and are after smoothing.
  void logGroup(CompressionRun &run, const Group &g, const std::vector<double> &actMax) {
    auto spread = [](std::vector<double> v) {
      if (v.empty())
        return 0.0;
      double top = *std::max_element(v.begin(), v.end());
      std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
      double median = v[v.size() / 2];
      return median > 0 ? top / median : 0.0;
    };
    std::vector<double> after(actMax.size());
    for (size_t j = 0; j < actMax.size(); ++j)
      after[j] = actMax[j] / g.scales[j];
    auto [lo, hi] = std::minmax_element(g.scales.begin(), g.scales.end());
    std::string into;
    for (LinearOp l : g.consumers)
      into += (into.empty() ? "" : ", ") + ("'" + weightName(l.getWeight()) + "'");
    LinearOp v = g.vLinear;
    run.log() << llvm::formatv("'{0}' -> {1}: {2} channels, s in [{3:e2}, {4:e2}], input "
                               "max/median {5:F1} -> {6:F1}\n",
                               v ? weightName(v.getWeight()) + " (v rows)"
                                         : g.label,
                               into, g.scaled, *lo, *hi, spread(actMax), spread(after));
  }
};

} // namespace
