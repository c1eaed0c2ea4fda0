//===- AutoCompress.cpp - one compression per linear, under a budget ------===//
//
// 1. One calibration run records each targeted linear's input second
//    moment X^T X (GPTQ's Hessian; its diagonal is Wanda's channel norm),
//    on batches other than those the sensitivities are measured on.
// 2. Every scheme's weight is computed for every linear with the same math
//    as the passes that apply it, and its fidelity cost measured with only
//    that linear changed (an interpreter observer substitutes the result).
// 3. An exact multiple-choice knapsack (dynamic programming over the
//    budget in small units) picks one scheme per linear.
// 4. The plan becomes a pipeline of the ordinary passes; a copy of the
//    model runs it and is measured on the calibration and held-out sets.
//    What the checks measure moves the search limit (down after a miss, up
//    after a pass with room) and 3 repeats; the best plan that met wins.
//
//===----------------------------------------------------------------------===//

#include "CompressionReport.h"
#include "InputStats.h"
#include "Plan.h"
#include "Structure.h"
#include "Substitute.h"
#include "Weights.h"
#include "tfx/Passes/Passes.h"
#include "tfx/Support/Json.h"
#include "tfx/Support/LanguageModelMetrics.h"
#include "tfx/Support/Quantize.h"
#include "tfx/Support/SVD.h"

#include "mlir/IR/Threading.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Parallel.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"

#include <atomic>
#include <cmath>
#include <numeric>

namespace mlir::tfx {
#define GEN_PASS_DEF_TFXAUTOCOMPRESS
#include "passes/Passes.h.inc"
} // namespace mlir::tfx

using namespace mlir;
using namespace mlir::tfx;

namespace {

/// A scheme is a structure (the weight as stored: dense, 2:4, or two
/// low-rank factors) with a number format for what is stored.
enum class Structure { Dense, Sparse24, LowRank };
enum class Numeric { Float, Int8, Int4, Int4Channel, W8A8 };

struct SchemeInfo {
  const char *name;
  Structure structure;
  Numeric numeric;
};

// The CPU cost table, from whole-model timings of BERT-base [1, 128] at one
// thread on the two-vCPU AVX-512 VNNI Xeon the project is developed on
// (bench/quantize/vs_ort.py and bench/prune/run.py, passes/README.md): f32
// 214.6 ms, int8 weight-only 227.7, int4-g128 249.2, W8A8 65.6, so per
// multiply-add 1.06x, 1.16x and 0.31x the f32 time; 2:4 took the dense time
// (284 vs 285 ms) for half the multiply-adds, 2.0x per stored weight; the
// two thin GEMMs of a low-rank pair run at the rate of their format. The
// scale: 10.9 G multiply-adds of linears in ~90% of the f32 time, 112 GFLOP/s.
// One core streams weights at about 10 GB/s, which bounds rows-of-one
// (decode) calls. Only ratios decide a plan; the scale labels its estimate.
constexpr double kCpuSecondsPerMac = 2.0 / 112e9;
constexpr double kCpuBytesPerSecond = 10e9;
double relativeTime(Numeric n) {
  switch (n) {
  case Numeric::Float:
    return 1.0;
  case Numeric::Int8:
    return 1.06;
  case Numeric::Int4:
  case Numeric::Int4Channel:
    return 1.16;
  case Numeric::W8A8:
    return 0.31;
  }
  return 1.0;
}
constexpr double kSparse24RelativeTime = 2.0;

const SchemeInfo kSchemes[] = {
    {"float", Structure::Dense, Numeric::Float},
    {"int8", Structure::Dense, Numeric::Int8},
    {"int4-g128", Structure::Dense, Numeric::Int4},
    {"int4", Structure::Dense, Numeric::Int4Channel},
    {"w8a8", Structure::Dense, Numeric::W8A8},
    {"2:4", Structure::Sparse24, Numeric::Int8},
    {"low-rank", Structure::LowRank, Numeric::Float},
    {"low-rank+int8", Structure::LowRank, Numeric::Int8},
    {"low-rank+int4", Structure::LowRank, Numeric::Int4},
    {"low-rank+w8a8", Structure::LowRank, Numeric::W8A8},
};
constexpr const char *kDefaultChoices[] = {"int8", "int4-g128", "int4", "w8a8", "2:4",
                                           "low-rank+int8", "low-rank+int4",
                                           "low-rank+w8a8"};
constexpr const char *kChoiceList =
    "int8, int4-g128, int4, w8a8, 2:4, low-rank, low-rank+int8, low-rank+int4, low-rank+w8a8";

const SchemeInfo *findScheme(llvm::StringRef name) {
  for (const SchemeInfo &s : kSchemes)
    if (name == s.name)
      return &s;
  return nullptr;
}

/// Rank of the low-rank schemes: half of min(out, in).
int64_t lowRank(int64_t out, int64_t in) {
  return std::max<int64_t>(1, std::llround(0.5 * std::min(out, in)));
}

/// int4 groups of 128 input channels where they divide, else per channel.
int64_t int4Group(int64_t in) { return in % 128 == 0 ? 128 : in; }

/// One scheme applied to one linear.
struct Candidate {
  const SchemeInfo *info = nullptr;
  std::string why; // set when the scheme does not apply
  Tensor delta;    // W' - W (all but W8A8)
  Tensor quantized; // W8A8: the dequantized int8 weight
  int64_t bytes = 0;
  double macsPerRow = 0;
  double seconds = 0;
  double cost = 0;
};

struct Layer {
  LinearOp linear;
  std::string name, role;
  Tensor weight;
  int64_t rows = 0;
  std::vector<double> hessian;
  std::vector<Candidate> candidates; // [0] is float
};

enum class Budget { Perplexity, Agreement, Error };

/// What a run scored against the float model.
struct Score {
  double relL2 = 0, agreement = 1, nllIncrease = 0;
  /// Mean KL divergence of the next-token distributions from the float
  /// model's (language models): what a perplexity increase is predicted
  /// from, because unlike the loss difference it cannot come out negative
  /// on a small sample.
  double divergence = 0;
  std::string summary;
};

struct AutoCompressPass : mlir::tfx::impl::TfxAutoCompressBase<AutoCompressPass> {
  using TfxAutoCompressBase::TfxAutoCompressBase;

  Budget budget = Budget::Error;
  double limit = 0;
  std::string logitsName;
  bool languageModel = false;

  void runOnOperation() override {
    if (failed(run()))
      signalPassFailure();
  }

  llvm::raw_ostream &log() { return llvm::errs() << "tfx-auto-compress: "; }

  LogicalResult fail(const llvm::Twine &message) {
    return getOperation().emitError("tfx-auto-compress: ") << message;
  }

  /// What one linear's change is charged against the budget.
  double sensitivity(const Score &s) const {
    return budget == Budget::Perplexity ? s.divergence : additive(s);
  }

  /// The additive measure the budget bounds.
  double additive(const Score &s) const {
    switch (budget) {
    case Budget::Perplexity:
      return s.nllIncrease;
    case Budget::Agreement:
      return 1 - s.agreement;
    case Budget::Error:
      return s.relL2 * s.relL2;
    }
    return 0;
  }

  /// Scores per-batch outputs against `set`'s reference.
  FailureOr<Score> score(const CalibrationSet &set, const std::vector<TensorMap> &outputs) {
    auto fidelity = compareOutputs(set.reference, outputs);
    if (!fidelity)
      return fail(llvm::toString(fidelity.takeError()));
    Score s;
    s.relL2 = fidelity->worstRelL2();
    s.summary = fidelity->summary();
    for (const OutputFidelity &o : fidelity->outputs)
      if (o.top1 >= 0)
        s.agreement = o.top1;
    if (languageModel) {
      NextTokenLoss base, ours;
      double divergence = 0;
      int64_t positions = 0;
      for (size_t b = 0; b < outputs.size(); ++b) {
        const Tensor &ids = set.batches[b].at("input_ids");
        const Tensor &ref = set.reference[b].at(logitsName);
        const Tensor &got = outputs[b].at(logitsName);
        auto f = nextTokenLoss(ref, ids);
        auto c = nextTokenLoss(got, ids);
        if (!f || !c)
          return fail(llvm::toString(f ? c.takeError() : f.takeError()));
        base += *f;
        ours += *c;
        int64_t vocab = ref.shape.back(), rows = ref.numElements() / vocab;
        for (int64_t r = 0; r < rows; ++r)
          divergence += klDivergence(ref.f.data() + r * vocab, got.f.data() + r * vocab, vocab);
        positions += rows;
      }
      if (base.tokens > 0)
        s.nllIncrease = (ours.nllSum - base.nllSum) / base.tokens;
      s.divergence = positions ? divergence / positions : 0;
      s.summary += llvm::formatv(", perplexity {0:F3} -> {1:F3}", base.perplexity(),
                                 ours.perplexity())
                       .str();
    }
    return s;
  }

  /// KL(softmax(p) || softmax(q)) of two logit rows, in double.
  static double klDivergence(const float *p, const float *q, int64_t n) {
    double pMax = -INFINITY, qMax = -INFINITY;
    for (int64_t i = 0; i < n; ++i) {
      pMax = std::max(pMax, (double)p[i]);
      qMax = std::max(qMax, (double)q[i]);
    }
    double pSum = 0, qSum = 0;
    for (int64_t i = 0; i < n; ++i) {
      pSum += std::exp(p[i] - pMax);
      qSum += std::exp(q[i] - qMax);
    }
    double pLog = pMax + std::log(pSum), qLog = qMax + std::log(qSum), kl = 0;
    for (int64_t i = 0; i < n; ++i) {
      double lp = p[i] - pLog, lq = q[i] - qLog;
      kl += std::exp(lp) * (lp - lq);
    }
    return std::max(kl, 0.0);
  }

  FailureOr<Score> measure(ModuleOp module, const CalibrationSet &set,
                           const OpObserver &observer) {
    auto outputs = runCalibration(module, set, observer);
    if (!outputs)
      return fail(llvm::toString(outputs.takeError()));
    return score(set, *outputs);
  }

  bool meets(const Score &s) const {
    switch (budget) {
    case Budget::Perplexity:
      return s.nllIncrease <= limit;
    case Budget::Agreement:
      return s.agreement >= minAgreement;
    case Budget::Error:
      return s.relL2 <= maxError;
    }
    return false;
  }

  /// `w` [rows, cols] in `numeric` (W8A8 stores int8 weights), as the
  /// passes round it, dequantized; `hessian` is X^T X of its input (GPTQ).
  static llvm::Expected<Tensor> rounded(const Tensor &w, Numeric numeric,
                                        const std::vector<double> &hessian) {
    if (numeric == Numeric::Float)
      return w;
    bool int4 = numeric == Numeric::Int4 || numeric == Numeric::Int4Channel;
    QuantizeOptions options;
    options.bits = int4 ? 4 : 8;
    if (int4) {
      options.groupSize = numeric == Numeric::Int4 ? int4Group(w.shape[1]) : 0;
      options.actOrder = true;
    }
    auto q = int4 ? quantizeGPTQ(w, hessian, options) : quantizeRoundToNearest(w, options);
    if (!q)
      return q.takeError();
    return q->dequantized();
  }

  /// Bytes of `rows` x `cols` stored in `numeric`, with its scales.
  static int64_t storedSize(int64_t rows, int64_t cols, Numeric numeric) {
    switch (numeric) {
    case Numeric::Float:
      return rows * cols * 4;
    case Numeric::Int8:
    case Numeric::W8A8:
      return rows * cols + rows * 4;
    case Numeric::Int4:
      return rows * cols / 2 + rows * (cols / int4Group(cols)) * 4;
    case Numeric::Int4Channel:
      return rows * cols / 2 + rows * 4;
    }
    return 0;
  }

  /// The weight a candidate stores and computes with: W' - W (or, for
  /// W8A8, W' itself, whose input the substitute rounds too), its bytes
  /// and its multiply-adds per input row.
  void prepare(Layer &l, Candidate &c) {
    int64_t out = l.weight.shape[0], in = l.weight.shape[1];
    Numeric numeric = c.info->numeric;
    auto finish = [&](llvm::Expected<Tensor> w) {
      if (!w) {
        c.why = llvm::toString(w.takeError());
        return;
      }
      if (numeric == Numeric::W8A8) {
        c.quantized = std::move(*w);
        return;
      }
      c.delta = std::move(*w);
      for (size_t k = 0; k < c.delta.f.size(); ++k)
        c.delta.f[k] -= l.weight.f[k];
    };
    switch (c.info->structure) {
    case Structure::Dense:
      c.bytes = storedSize(out, in, numeric);
      c.macsPerRow = (double)out * in;
      if (numeric != Numeric::Float)
        finish(rounded(l.weight, numeric, l.hessian));
      return;
    case Structure::Sparse24: {
      if (in % 8) {
        c.why = "input channels not a multiple of 8";
        return;
      }
      // Wanda: |W| x ||X_k||, two of every four kept; int8 values.
      Tensor pruned = l.weight;
      for (int64_t n = 0; n < out; ++n)
        for (int64_t g = 0; g < in; g += 4) {
          float score[4];
          for (int k = 0; k < 4; ++k)
            score[k] = std::fabs(l.weight.f[n * in + g + k]) *
                       (float)std::sqrt(l.hessian[(g + k) * in + g + k]);
          int order[4] = {0, 1, 2, 3};
          std::sort(order, order + 4, [&](int a, int b) {
            return score[a] < score[b] || (score[a] == score[b] && a < b);
          });
          pruned.f[n * in + g + order[0]] = 0;
          pruned.f[n * in + g + order[1]] = 0;
        }
      c.bytes = out * in / 2 + out * in / 8 + out * 4;
      c.macsPerRow = (double)out * in / 2;
      finish(rounded(pruned, numeric, l.hessian));
      return;
    }
    case Structure::LowRank: {
      int64_t rank = lowRank(out, in);
      if (rank * (out + in) >= out * in) {
        c.why = "rank " + std::to_string(rank) + " saves no work";
        return;
      }
      // W ~ B A: A [rank, in] reads the layer input, B [out, rank] reads
      // A x, whose second moment is A H A^T (with A as rounded).
      auto [first, second] = TruncatedSVD(l.weight).factors(rank);
      auto a = rounded(first, numeric, l.hessian);
      if (!a)
        return finish(a.takeError());
      std::vector<double> inner;
      if (numeric == Numeric::Int4 || numeric == Numeric::Int4Channel) {
        std::vector<double> ah(rank * in, 0.0);
        for (int64_t r = 0; r < rank; ++r)
          for (int64_t k = 0; k < in; ++k) {
            double v = a->f[r * in + k];
            if (v == 0)
              continue;
            const double *hk = l.hessian.data() + k * in;
            double *row = ah.data() + r * in;
            for (int64_t j = 0; j < in; ++j)
              row[j] += v * hk[j];
          }
        inner.assign(rank * rank, 0.0);
        for (int64_t r = 0; r < rank; ++r)
          for (int64_t q = 0; q < rank; ++q) {
            double sum = 0;
            for (int64_t j = 0; j < in; ++j)
              sum += ah[r * in + j] * a->f[q * in + j];
            inner[r * rank + q] = sum;
          }
      }
      auto b = rounded(second, numeric, inner);
      if (!b)
        return finish(b.takeError());
      Tensor w = Tensor::floats({out, in});
      for (int64_t n = 0; n < out; ++n)
        for (int64_t k = 0; k < rank; ++k) {
          float s = b->f[n * rank + k];
          for (int64_t j = 0; j < in; ++j)
            w.f[n * in + j] += s * a->f[k * in + j];
        }
      c.bytes = storedSize(rank, in, numeric) + storedSize(out, rank, numeric);
      c.macsPerRow = (double)rank * (out + in);
      finish(std::move(w));
      return;
    }
    }
  }

  double seconds(const Layer &l, const Candidate &c) const {
    double relative = c.info->structure == Structure::Sparse24 ? kSparse24RelativeTime
                                                                : relativeTime(c.info->numeric);
    double compute = c.macsPerRow * l.rows * kCpuSecondsPerMac * relative;
    return std::max(compute, c.bytes / kCpuBytesPerSecond);
  }

  double objectiveOf(const Candidate &c) const {
    return objective == "latency" ? c.seconds : (double)c.bytes;
  }

  /// The multiple-choice knapsack, exactly, by dynamic programming: one
  /// scheme per linear, the least total objective whose predicted cost
  /// stays within `budgetLimit`. Costs are counted in 1/kUnits of the limit,
  /// rounded up (so the plan never exceeds the limit it was given); with
  /// ~100 linears and ~10 schemes that is a few million steps.
  std::vector<size_t> knapsack(const std::vector<Layer> &layers, double budgetLimit) {
    constexpr int64_t kUnits = 4000;
    size_t n = layers.size();
    std::vector<size_t> floatPlan(n, 0);
    if (!(budgetLimit > 0))
      return floatPlan;
    constexpr double kNone = INFINITY;
    // best[j]: least objective of the layers so far within j units.
    std::vector<double> best(kUnits + 1, 0.0), next(kUnits + 1);
    std::vector<std::vector<uint8_t>> pick(n, std::vector<uint8_t>(kUnits + 1, 0));
    for (size_t i = 0; i < n; ++i) {
      std::fill(next.begin(), next.end(), kNone);
      for (size_t c = 0; c < layers[i].candidates.size(); ++c) {
        const Candidate &cand = layers[i].candidates[c];
        if (!cand.why.empty())
          continue;
        double units = std::ceil(std::max(cand.cost, 0.0) / budgetLimit * kUnits - 1e-9);
        if (units > kUnits)
          continue;
        int64_t u = (int64_t)units;
        double objective = objectiveOf(cand);
        for (int64_t j = u; j <= kUnits; ++j) {
          double v = best[j - u] + objective;
          if (v < next[j]) {
            next[j] = v;
            pick[i][j] = (uint8_t)c;
          }
        }
      }
      std::swap(best, next);
    }
    std::vector<size_t> chosen(n, 0);
    int64_t j = kUnits;
    for (size_t i = n; i-- > 0;) {
      size_t c = pick[i][j];
      chosen[i] = c;
      const Candidate &cand = layers[i].candidates[c];
      j -= (int64_t)std::ceil(std::max(cand.cost, 0.0) / budgetLimit * kUnits - 1e-9);
    }
    return chosen;
  }

  /// The predicted Pareto front: the knapsack at fractions of `budgetLimit`
  /// up to twice it, for the report.
  std::vector<PlanPoint> frontier(const std::vector<Layer> &layers, double budgetLimit) {
    std::vector<PlanPoint> points;
    for (int k = 1; k <= 20; ++k) {
      double at = budgetLimit * k / 10.0;
      points.push_back(point(layers, knapsack(layers, at), "optimum within " +
                                                               llvm::formatv("{0:F1}", k / 10.0).str() +
                                                               "x the budget",
                             "step"));
    }
    return points;
  }

  PlanPoint point(const std::vector<Layer> &layers, const std::vector<size_t> &chosen,
                  std::string label, std::string kind) {
    PlanPoint p;
    p.label = std::move(label);
    p.kind = std::move(kind);
    for (size_t i = 0; i < layers.size(); ++i) {
      const Candidate &c = layers[i].candidates[chosen[i]];
      p.cost += std::max(c.cost, 0.0);
      p.bytes += c.bytes;
      p.seconds += c.seconds;
    }
    return p;
  }

  /// The passes that apply `chosen`, in the order they compose: low rank,
  /// 2:4 pruning, then the number formats of what those store (GPTQ int4,
  /// int8 weight-only and 2:4 values, W8A8).
  std::string pipelineFor(const std::vector<Layer> &layers, const std::vector<size_t> &chosen,
                          llvm::StringRef calibrationFile) {
    auto names = [&](llvm::function_ref<bool(Structure, Numeric)> which) {
      std::string list;
      for (size_t i = 0; i < layers.size(); ++i) {
        const SchemeInfo *info = layers[i].candidates[chosen[i]].info;
        if (info->numeric != Numeric::Float || info->structure != Structure::Dense)
          if (which(info->structure, info->numeric))
            list += (list.empty() ? "" : ",") + layers[i].name;
      }
      return list;
    };
    std::string cal = " calibration=" + calibrationFile.str() +
                      " calibration-batches=" + std::to_string(calibrationBatches);
    std::vector<std::string> passes;
    auto add = [&](const std::string &list, const std::string &pass) {
      if (!list.empty())
        passes.push_back(pass + " layers=" + list + "}");
    };
    using S = Structure;
    using N = Numeric;
    add(names([](S s, N) { return s == S::LowRank; }), "tfx-low-rank{rank-ratio=0.5");
    add(names([](S s, N) { return s == S::Sparse24; }),
        "tfx-prune-weights{pattern=2:4 criterion=wanda" + cal);
    add(names([](S, N n) { return n == N::Int4; }),
        "tfx-quantize-weights{bits=4 group-size=128 method=gptq" + cal);
    add(names([](S, N n) { return n == N::Int4Channel; }),
        "tfx-quantize-weights{bits=4 group-size=0 method=gptq" + cal);
    add(names([](S, N n) { return n == N::Int8; }), "tfx-quantize-weights{bits=8 group-size=0");
    add(names([](S, N n) { return n == N::W8A8; }),
        "tfx-quantize-weights{bits=8 group-size=0 activations=dynamic");
    return llvm::join(passes, ",");
  }

  /// Runs `pipeline` on a copy of the module (quietly).
  FailureOr<OwningOpRef<ModuleOp>> applied(const std::string &pipeline) {
    OwningOpRef<ModuleOp> copy = getOperation().clone();
    if (pipeline.empty())
      return copy;
    PassManager pm(&getContext(), ModuleOp::getOperationName());
    std::string message;
    llvm::raw_string_ostream os(message);
    if (failed(parsePassPipeline(pipeline, pm, os)))
      return fail("cannot build the plan's pipeline: " + message);
    CompressionRun::setQuiet(true);
    LogicalResult ok = pm.run(*copy);
    CompressionRun::setQuiet(false);
    if (failed(ok))
      return fail("the plan's pipeline failed: " + pipeline);
    return copy;
  }

  LogicalResult run() {
    ModuleOp module = getOperation();
    int budgets = (maxPplIncrease > 0) + (minAgreement > 0) + (maxError > 0);
    if (budgets != 1)
      return fail("state one budget: max-ppl-increase=PERCENT, min-agreement=A "
                  "(0..1) or max-error=X");
    if (minAgreement > 1)
      return fail("min-agreement must be at most 1");
    if (objective != "size" && objective != "latency")
      return fail("unknown objective '" + objective + "' (size, latency)");
    if (target != "cpu" && target != "cuda")
      return fail("unknown target '" + target + "' (cpu, cuda)");
    if (objective == "latency" && target != "cpu")
      return fail("no latency cost table for target '" + target +
                  "' yet (measured: cpu); objective=size needs none");
    if (calibration.empty())
      return fail("needs calibration data (calibration=FILE)");
    if (sensitivityBatches < 1)
      return fail("sensitivity-batches must be >= 1");
    for (const std::string &name : {std::string(savePlan), std::string(htmlReport)})
      if (!name.empty() && llvm::sys::path::filename(name).empty())
        return fail("bad output path '" + name + "'");
    budget = maxPplIncrease > 0 ? Budget::Perplexity
             : minAgreement > 0 ? Budget::Agreement
                                : Budget::Error;
    limit = budget == Budget::Perplexity ? std::log1p(maxPplIncrease / 100)
            : budget == Budget::Agreement ? 1 - minAgreement
                                          : maxError * maxError;

    std::vector<const SchemeInfo *> schemes = {&kSchemes[0]};
    SmallVector<std::string> wanted(choices.begin(), choices.end());
    if (wanted.empty())
      wanted.assign(std::begin(kDefaultChoices), std::end(kDefaultChoices));
    for (const std::string &name : wanted) {
      const SchemeInfo *s = findScheme(name);
      if (!s || s == &kSchemes[0])
        return fail("unknown choice '" + name + "' (" + kChoiceList + ")");
      if (!llvm::is_contained(schemes, s))
        schemes.push_back(s);
    }

    auto func = findEntryFunction(module);
    if (!func)
      return fail(llvm::toString(func.takeError()));
    for (auto [i, name] : llvm::enumerate(inputNames(*func)))
      languageModel |= name == "input_ids";
    for (unsigned i = 0; i < func->getNumResults(); ++i)
      if (auto attr = func->getResultAttrOfType<StringAttr>(i, "tfx.name"))
        if (attr.getValue().contains("logits") && logitsName.empty())
          logitsName = attr.getValue().str();
    languageModel &= !logitsName.empty();
    if (budget == Budget::Perplexity && !languageModel)
      return fail("max-ppl-increase needs a language model (an input_ids input and "
                  "a logits output); use min-agreement or max-error");
    if (budget == Budget::Agreement && logitsName.empty())
      return fail("min-agreement needs a logits output; use max-error");

    auto selection = LinearSelection::get(module, getArgument(), targets, {});
    if (failed(selection))
      return failure();
    auto found = collectLinearTargets(*func, *selection, /*f32Only=*/true);
    if (failed(found))
      return failure();
    std::vector<Layer> layers;
    llvm::DenseMap<Operation *, size_t> indexOf;
    for (LinearTarget &t : *found) {
      for (char c : t.name)
        if (c == ',' || c == '{' || c == '}' || c == ' ' || c == '=' || c == '"')
          return t.linear.emitError("tfx-auto-compress: weight name '")
                 << t.name << "' cannot be listed in a pass option";
      Layer l;
      l.linear = t.linear;
      l.name = t.name;
      l.role = t.role;
      l.weight = std::move(t.weight);
      int64_t in = l.weight.shape[1];
      l.hessian.assign(in * in, 0.0);
      indexOf[t.linear] = layers.size();
      layers.push_back(std::move(l));
    }
    if (layers.empty())
      return fail("no linear layer to compress");

    // 1. Calibration: the float outputs and each input's X^T X.
    OpObserver observer = [&](Operation *op, ArrayRef<const Tensor *> operands, Tensor &) {
      auto it = indexOf.find(op);
      if (it == indexOf.end())
        return;
      Layer &l = layers[it->second];
      const Tensor &x = *operands[0];
      int64_t in = l.weight.shape[1];
      l.rows = x.numElements() / in;
      addSecondMoment(l.hessian, x, in);
    };
    auto runStart = CompressionRun::begin(module, getArgument(), calibration,
                                          calibrationBatches, true);
    if (failed(runStart))
      return failure();
    const CalibrationSet &full = *runStart->calibration();
    // Sensitivities are measured on the first batches and the candidates'
    // statistics (GPTQ, Wanda) come from the others, so that a rounding is
    // judged on data it was not fitted to; the plan's passes then use every
    // batch. A set too small to split serves both.
    CalibrationSet subset, fitting;
    subset.path = fitting.path = full.path;
    bool split = (int64_t)full.batches.size() > sensitivityBatches;
    for (size_t b = 0; b < full.batches.size(); ++b) {
      bool measured = (int64_t)b < sensitivityBatches;
      if (measured) {
        subset.batches.push_back(full.batches[b]);
        subset.reference.push_back(full.reference[b]);
      }
      if (!measured || !split)
        fitting.batches.push_back(full.batches[b]);
    }
    auto fitted = runCalibration(module, fitting, observer, "tfx-auto-compress statistics");
    if (!fitted)
      return fail(llvm::toString(fitted.takeError()));

    // Float runs of the sensitivity batches with a checkpoint at every
    // target: a measurement reruns only from its linear on (the ops
    // before it compute the same values), half the work on average.
    std::vector<RunCheckpoints> checkpoints(subset.batches.size());
    for (size_t b = 0; b < subset.batches.size(); ++b) {
      for (Layer &l : layers)
        checkpoints[b][l.linear] = RunCheckpoint();
      auto outputs = runFunction(module, subset.batches[b], "", nullptr, &checkpoints[b]);
      if (!outputs)
        return fail(llvm::toString(outputs.takeError()));
    }

    // 2. Candidates and their sensitivities.
    std::atomic<size_t> done{0};
    parallelForEach(&getContext(), layers, [&](Layer &l) {
      for (const SchemeInfo *s : schemes) {
        Candidate c;
        c.info = s;
        prepare(l, c);
        c.seconds = seconds(l, c);
        l.candidates.push_back(std::move(c));
      }
      l.hessian.clear();
      l.hessian.shrink_to_fit();
      runStart->progress("candidate weights", ++done, layers.size());
    });
    size_t measurements = 0, total = 0;
    for (Layer &l : layers)
      for (Candidate &c : l.candidates)
        total += c.info != &kSchemes[0] && c.why.empty();
    for (Layer &l : layers) {
      for (Candidate &c : l.candidates) {
        if (c.info == &kSchemes[0] || !c.why.empty())
          continue;
        // Low rank and 2:4 must save something to be worth a measurement.
        if (c.bytes >= l.candidates[0].bytes && c.seconds >= l.candidates[0].seconds) {
          c.why = "saves nothing";
          continue;
        }
        LinearSubstitute sub;
        if (c.info->numeric == Numeric::W8A8) {
          sub.quantized = &c.quantized;
          sub.weight = &l.weight;
        } else {
          sub.delta = &c.delta;
        }
        llvm::DenseMap<Operation *, LinearSubstitute> one;
        one[l.linear] = sub;
        OpObserver observer = substituteLinears(std::move(one));
        std::vector<TensorMap> outputs;
        for (size_t b = 0; b < subset.batches.size(); ++b) {
          auto out = resumeFunction(checkpoints[b][l.linear], observer);
          if (!out)
            return fail(llvm::toString(out.takeError()));
          outputs.push_back(std::move(*out));
        }
        auto s = score(subset, outputs);
        if (failed(s))
          return failure();
        c.cost = sensitivity(*s);
        runStart->progress("sensitivity", ++measurements, total);
      }
    }
    if (measurements < total)
      runStart->progress("sensitivity", total, total);
    checkpoints.clear();

    // The held-out set and its float outputs.
    std::optional<CalibrationSet> held;
    if (!heldOut.empty()) {
      auto set = loadCalibrationSet(heldOut, *func, heldOutBatches);
      if (!set)
        return fail("held-out: " + llvm::toString(set.takeError()));
      auto outputs = runCalibration(module, *set, nullptr, "tfx-auto-compress held-out");
      if (!outputs)
        return fail(llvm::toString(outputs.takeError()));
      set->reference = std::move(*outputs);
      held = std::move(*set);
    }

    PlanSummary plan;
    plan.budgetKind = budget == Budget::Perplexity ? "max-ppl-increase"
                      : budget == Budget::Agreement ? "min-agreement"
                                                    : "max-error";
    plan.budget = budget == Budget::Perplexity ? (double)maxPplIncrease
                  : budget == Budget::Agreement ? (double)minAgreement
                                                : (double)maxError;
    plan.limit = limit;
    plan.objective = objective;
    plan.target = target;
    for (const SchemeInfo *s : schemes)
      plan.schemes.push_back(s->name);

    // Uniform single-scheme plans, for comparison.
    for (size_t k = 1; k < schemes.size(); ++k) {
      std::vector<size_t> uniform(layers.size(), 0);
      for (size_t i = 0; i < layers.size(); ++i)
        if (layers[i].candidates[k].why.empty())
          uniform[i] = k;
      plan.points.push_back(point(layers, uniform, std::string("all ") + schemes[k]->name,
                                  "uniform"));
    }
    plan.points.push_back(point(layers, std::vector<size_t>(layers.size(), 0), "float",
                                "uniform"));

    const PlanPoint floatPoint = plan.points.back();
    for (PlanPoint &f : frontier(layers, limit))
      plan.points.push_back(std::move(f));

    // 3-4. Search, apply, verify. The prediction errs both ways (summed
    // one-at-a-time costs miss interactions; the plan's passes fit on more
    // rows than the candidates did), so the search limit is steered by what
    // the checks measure: below a plan that missed by the ratio it missed
    // by, above one that met with room to spare, never past a limit known
    // to miss. The best plan that met wins.
    SmallString<256> calibrationFile(calibration);
    (void)llvm::sys::fs::make_absolute(calibrationFile);
    double searchLimit = limit, missedAt = INFINITY;
    std::vector<size_t> chosen(layers.size(), 0);
    std::vector<std::vector<size_t>> tried;
    OwningOpRef<ModuleOp> result;
    std::vector<PlanCheck> resultChecks;
    double resultObjective = INFINITY, resultMeasured = -1;
    constexpr int kAttempts = 6;
    for (int attempt = 1; attempt <= kAttempts; ++attempt) {
      std::vector<size_t> candidate = knapsack(layers, searchLimit);
      if (llvm::is_contained(tried, candidate))
        break;
      tried.push_back(candidate);
      plan.attempts = attempt;
      std::string pipeline = pipelineFor(layers, candidate, calibrationFile);
      PlanPoint p = point(layers, candidate, "attempt " + std::to_string(attempt), "tried");
      log() << "attempt " << attempt << ": predicted "
            << llvm::format("%.4g", budgetValue(plan, p.cost)) << " (search limit "
            << llvm::format("%.4g", budgetValue(plan, searchLimit)) << "), weights "
            << llvm::format("%.3fx", (double)p.bytes / std::max<int64_t>(floatPoint.bytes, 1))
            << "; verifying\n";
      auto copy = applied(pipeline);
      if (failed(copy))
        return failure();
      std::vector<PlanCheck> checks;
      double worst = 0;
      bool ok = true;
      const CalibrationSet *heldSet = held ? &*held : nullptr;
      for (const CalibrationSet *set : {&full, heldSet}) {
        if (!set)
          continue;
        auto s = measure(**copy, *set, nullptr);
        if (failed(s))
          return failure();
        PlanCheck check;
        check.set = set == &full ? "calibration" : "held-out";
        check.value = budgetValue(plan, additive(*s));
        check.meets = meets(*s);
        check.summary = s->summary;
        checks.push_back(check);
        log() << "  " << check.set << ": " << s->summary
              << (check.meets ? " (meets the budget)" : " (misses the budget)") << "\n";
        worst = std::max(worst, additive(*s));
        ok &= check.meets;
      }
      p.measured = worst;
      plan.points.push_back(p);
      double ratio = 0.95 * limit / std::max(worst, 1e-30);
      if (ok) {
        double objectiveValue = objective == "latency" ? p.seconds : (double)p.bytes;
        if (objectiveValue < resultObjective) {
          result = std::move(*copy);
          resultChecks = checks;
          resultObjective = objectiveValue;
          resultMeasured = worst;
          chosen = candidate;
          plan.pipeline = pipeline;
        }
        // Close enough to the budget, or nothing more to allow.
        if (ratio < 1.1 || searchLimit >= missedAt)
          break;
        searchLimit = std::min(searchLimit * std::min(ratio, 3.0),
                               std::isfinite(missedAt) ? (searchLimit + missedAt) / 2 : INFINITY);
      } else {
        missedAt = std::min(missedAt, searchLimit);
        searchLimit = std::min(searchLimit, std::max(p.cost, 1e-30)) * std::clamp(ratio, 0.2, 0.9);
      }
    }
    plan.checks = resultChecks;
    if (!result) {
      log() << "no plan met the budget in " << plan.attempts
            << " attempts; the model stays in float\n";
      plan.pipeline.clear();
    }

    PlanPoint finalPoint = point(layers, chosen, "chosen", "chosen");
    finalPoint.measured = resultMeasured;
    plan.points.push_back(finalPoint);
    plan.floatBytes = floatPoint.bytes;
    plan.floatSeconds = floatPoint.seconds;
    plan.bytes = finalPoint.bytes;
    plan.seconds = finalPoint.seconds;
    for (size_t i = 0; i < layers.size(); ++i) {
      PlanLayer pl;
      pl.name = layers[i].name;
      pl.role = layers[i].role;
      pl.out = layers[i].weight.shape[0];
      pl.in = layers[i].weight.shape[1];
      pl.rows = layers[i].rows;
      pl.chosen = chosen[i];
      for (const Candidate &c : layers[i].candidates)
        pl.choices.push_back({c.info->name, c.why.empty(), c.why, c.bytes, c.seconds, c.cost});
      plan.layers.push_back(std::move(pl));
    }
    printTable(plan);

    if (result) {
      // The verified copy becomes the module: the same pipeline on the
      // same input, so `--plan` replays it to the same bits.
      module.getBody()->clear();
      module.getBody()->getOperations().splice(module.getBody()->end(),
                                               result->getBody()->getOperations());
    }
    if (!savePlan.empty() && failed(write(savePlan, [&](llvm::raw_ostream &os) {
          os << llvm::formatv("{0:2}", planToJson(plan)) << "\n";
        })))
      return failure();
    if (!htmlReport.empty() &&
        failed(write(htmlReport, [&](llvm::raw_ostream &os) { os << renderPlanHtml(plan); })))
      return failure();
    return success();
  }

  void printTable(const PlanSummary &plan) {
    log() << "plan for " << plan.budgetKind << " " << formatNumber(plan.budget)
          << ", objective " << plan.objective << " (" << plan.target << "):\n";
    llvm::errs() << llvm::format("  %-44s %-10s", "linear", "choice");
    for (size_t k = 1; k < plan.schemes.size(); ++k)
      llvm::errs() << llvm::format(" %11s", plan.schemes[k].c_str());
    llvm::errs() << "\n";
    for (const PlanLayer &l : plan.layers) {
      llvm::errs() << llvm::format("  %-44s %-10s", l.name.c_str(),
                                   plan.schemes[l.chosen].c_str());
      for (size_t k = 1; k < l.choices.size(); ++k) {
        const PlanChoice &c = l.choices[k];
        if (c.available)
          llvm::errs() << llvm::format(" %11.3e", budgetValue(plan, c.cost));
        else
          llvm::errs() << llvm::format(" %11s", "-");
      }
      llvm::errs() << "\n";
    }
    log() << llvm::format("weights %.2f MB -> %.2f MB (%.3fx), estimated linear time "
                          "%.2f ms -> %.2f ms (%.3fx)\n",
                          plan.floatBytes / 1e6, plan.bytes / 1e6,
                          (double)plan.bytes / std::max<int64_t>(plan.floatBytes, 1),
                          plan.floatSeconds * 1e3, plan.seconds * 1e3,
                          plan.seconds / std::max(plan.floatSeconds, 1e-30));
    for (const PlanCheck &c : plan.checks)
      log() << c.set << ": " << plan.budgetKind << " measure "
            << llvm::format("%.4g", c.value) << (c.meets ? " meets " : " misses ")
            << formatNumber(plan.budget) << "\n";
    if (!plan.pipeline.empty())
      log() << "pipeline: " << plan.pipeline << "\n";
  }

  LogicalResult write(llvm::StringRef path,
                      llvm::function_ref<void(llvm::raw_ostream &)> body) {
    std::string error;
    auto file = openOutputFile(path, &error);
    if (!file)
      return fail(error);
    body(file->os());
    file->keep();
    return success();
  }
};

} // namespace

double mlir::tfx::budgetValue(const PlanSummary &plan, double additive) {
  if (plan.budgetKind == "max-ppl-increase")
    return 100 * std::expm1(additive);
  if (plan.budgetKind == "min-agreement")
    return 1 - additive;
  return std::sqrt(std::max(additive, 0.0));
}

llvm::json::Value mlir::tfx::planToJson(const PlanSummary &plan) {
  llvm::json::Array layers;
  for (const PlanLayer &l : plan.layers) {
    llvm::json::Object choices;
    for (const PlanChoice &c : l.choices) {
      if (!c.available) {
        choices[c.scheme] = llvm::json::Object{{"unavailable", c.why}};
        continue;
      }
      choices[c.scheme] = llvm::json::Object{{"bytes", c.bytes},
                                             {"seconds", c.seconds},
                                             {"cost", budgetValue(plan, std::max(c.cost, 0.0))}};
    }
    layers.push_back(llvm::json::Object{{"name", l.name},
                                        {"role", l.role},
                                        {"shape", llvm::json::Array{l.out, l.in}},
                                        {"choice", plan.schemes[l.chosen]},
                                        {"choices", std::move(choices)}});
  }
  llvm::json::Array checks;
  for (const PlanCheck &c : plan.checks)
    checks.push_back(llvm::json::Object{
        {"set", c.set}, {"value", c.value}, {"meets", c.meets}, {"summary", c.summary}});
  return llvm::json::Object{
      {"tfx_plan", 1},
      {"budget", llvm::json::Object{{"kind", plan.budgetKind}, {"value", plan.budget}}},
      {"objective", plan.objective},
      {"target", plan.target},
      {"weights", llvm::json::Object{{"float_bytes", plan.floatBytes}, {"bytes", plan.bytes}}},
      {"estimated_linear_seconds",
       llvm::json::Object{{"float", plan.floatSeconds}, {"plan", plan.seconds}}},
      {"checks", std::move(checks)},
      {"pipeline", plan.pipeline},
      {"layers", std::move(layers)}};
}

llvm::Expected<std::string> mlir::tfx::planPipeline(llvm::StringRef path, ModuleOp module) {
  auto bad = [&](const llvm::Twine &why) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "plan " + path + ": " + why);
  };
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return bad(buffer.getError().message());
  auto value = parseJson((*buffer)->getBuffer());
  if (!value)
    return bad(llvm::toString(value.takeError()));
  const llvm::json::Object *root = value->getAsObject();
  if (!root || root->getInteger("tfx_plan") != 1)
    return bad("not a tfx plan file (no \"tfx_plan\": 1)");
  std::optional<llvm::StringRef> pipeline = root->getString("pipeline");
  const llvm::json::Array *layers = root->getArray("layers");
  if (!pipeline || !layers)
    return bad("needs \"pipeline\" and \"layers\"");
  auto func = findEntryFunction(module);
  if (!func)
    return func.takeError();
  // Every linear the plan names must be here, with the shape it had.
  llvm::StringMap<std::pair<int64_t, int64_t>> shapes;
  func->walk([&](LinearOp linear) {
    auto type = cast<RankedTensorType>(linear.getWeight().getType());
    std::string name = weightName(linear.getWeight());
    if (!name.empty() && type.getRank() == 2)
      shapes[name] = {type.getDimSize(0), type.getDimSize(1)};
  });
  for (auto [i, entry] : llvm::enumerate(*layers)) {
    const llvm::json::Object *layer = entry.getAsObject();
    std::optional<llvm::StringRef> name = layer ? layer->getString("name") : std::nullopt;
    const llvm::json::Array *shape = layer ? layer->getArray("shape") : nullptr;
    if (!name || !shape || shape->size() != 2 || !(*shape)[0].getAsInteger() ||
        !(*shape)[1].getAsInteger())
      return bad("layer " + llvm::Twine(i) + " needs a name and a [out, in] shape");
    auto it = shapes.find(*name);
    std::pair<int64_t, int64_t> want = {*(*shape)[0].getAsInteger(),
                                        *(*shape)[1].getAsInteger()};
    if (it == shapes.end())
      return bad("linear '" + *name + "' is not in this model");
    if (it->second != want)
      return bad("linear '" + *name + "' is " + llvm::Twine(it->second.first) + "x" +
                 llvm::Twine(it->second.second) + " here, " + llvm::Twine(want.first) + "x" +
                 llvm::Twine(want.second) + " in the plan");
  }
  return pipeline->str();
}
