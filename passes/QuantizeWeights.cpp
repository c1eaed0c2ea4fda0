//===- QuantizeWeights.cpp - weight-only int8/int4 quantization -----------===//
//
// The rounding math is lib/Support/Quantize.cpp; this pass picks the
// linears, gathers X^T X of their inputs for GPTQ through the calibration
// observer, quantizes the weights in parallel on the context's thread pool
// and rewrites each weight into `tfx.dequantize` of two resource blobs.
//
//===----------------------------------------------------------------------===//

#include "CompressionReport.h"
#include "InputStats.h"
#include "Structure.h"
#include "Substitute.h"
#include "Weights.h"
#include "tfx/Passes/Passes.h"
#include "tfx/Support/Quantize.h"

#include "mlir/IR/Threading.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <atomic>
#include <cmath>

namespace mlir::tfx {
#define GEN_PASS_DEF_TFXQUANTIZEWEIGHTS
#include "passes/Passes.h.inc"
} // namespace mlir::tfx

using namespace mlir;
using namespace mlir::tfx;

namespace {

struct Target {
  LinearOp linear;
  /// Set when the linear's weight is 2:4 sparse: its values are quantized.
  Sparse24Op sparse;
  std::string role, name;
  Tensor weight;
  int64_t groupSize = 0;
  /// X^T X of the input, [in, in] (GPTQ only).
  std::vector<double> hessian;
  int64_t rows = 0;
  // Results.
  std::optional<QuantizedWeight> quantized;
  /// Mixed precision: the higher-precision choice (int8, or none for
  /// float), this linear's sensitivity, and whether it was promoted.
  std::optional<QuantizedWeight> higher;
  double sensitivity = 0;
  /// What the input held on the calibration data (static activations).
  std::optional<ActivationStats> inputs;
  /// The static range chosen from `inputs`, or why none could be (the
  /// input then stays quantized per row at run time).
  std::optional<ActivationQuant> fixed;
  std::string fixedError;
  bool promoted = false;
  std::string error;
  double relativeError = 0;
};

struct QuantizeWeightsPass
    : mlir::tfx::impl::TfxQuantizeWeightsBase<QuantizeWeightsPass> {
  using TfxQuantizeWeightsBase::TfxQuantizeWeightsBase;

  void runOnOperation() override {
    if (failed(run()))
      signalPassFailure();
  }

  LogicalResult run() {
    ModuleOp module = getOperation();
    if (bits != 8 && bits != 4)
      return module.emitError("tfx-quantize-weights: bits must be 8 or 4, got ")
             << (int64_t)bits;
    if (groupSize < 0)
      return module.emitError("tfx-quantize-weights: group-size must be >= 0");
    if (method != "rtn" && method != "gptq")
      return module.emitError("tfx-quantize-weights: unknown method '")
             << std::string(method) << "' (rtn, gptq)";
    bool staticActivations = activations == "static";
    bool dynamicActivations = activations == "dynamic" || staticActivations;
    if (!dynamicActivations && activations != "none")
      return module.emitError("tfx-quantize-weights: unknown activations '")
             << std::string(activations) << "' (none, dynamic, static)";
    if (dynamicActivations && (bits != 8 || groupSize != 0))
      return module.emitError("tfx-quantize-weights: activations=")
             << std::string(activations)
             << " needs bits=8 group-size=0 (int8 weights, one scale per output channel)";
    RangeMethod range = RangeMethod::MinMax;
    if (rangeMethod == "percentile")
      range = RangeMethod::Percentile;
    else if (rangeMethod == "mse")
      range = RangeMethod::MSE;
    else if (rangeMethod != "minmax")
      return module.emitError("tfx-quantize-weights: unknown range-method '")
             << std::string(rangeMethod) << "' (minmax, percentile, mse)";
    if (range == RangeMethod::Percentile && !(percentile > 50 && percentile <= 100))
      return module.emitError("tfx-quantize-weights: percentile must be in (50, 100], got ")
             << formatNumber(percentile);
    if (damping <= 0)
      return module.emitError("tfx-quantize-weights: damping must be > 0");
    bool gptq = method == "gptq";
    auto selection = LinearSelection::get(module, getArgument(), targets, layers);
    if (failed(selection))
      return failure();
    auto func = findEntryFunction(module);
    if (!func)
      return module.emitError("tfx-quantize-weights: ")
             << llvm::toString(func.takeError());

    llvm::DenseMap<Operation *, std::string> roleOf = linearRoles(*func);
    std::vector<Target> work;
    SmallVector<std::string> sparseKept;
    llvm::DenseMap<Operation *, unsigned> indexOf;
    WalkResult walk = func->walk([&](LinearOp linear) -> WalkResult {
      std::string role = roleOf.lookup(linear);
      if (role.empty())
        role = "other";
      // A 2:4 sparse weight quantizes its values [out, in / 2] (round to
      // nearest: GPTQ and the sensitivity search assume dense weights).
      auto semi = linear.getWeight().getDefiningOp<Sparse24Op>();
      Value weight = semi ? semi.getValues() : linear.getWeight();
      auto type = cast<RankedTensorType>(weight.getType());
      if (!isWeightValue(weight) || !type.getElementType().isF32() ||
          !selection->selects(role, weightName(weight)))
        return WalkResult::advance();
      if (semi && (gptq || maxError > 0)) {
        sparseKept.push_back(weightName(weight));
        return WalkResult::advance();
      }
      auto w = readWeight(weight);
      if (!w) {
        linear.emitError("tfx-quantize-weights: ") << llvm::toString(w.takeError());
        return WalkResult::interrupt();
      }
      Target t;
      t.linear = linear;
      t.sparse = semi;
      t.role = role;
      t.name = weightName(weight);
      if (t.name.empty())
        t.name = "linear";
      int64_t in = type.getDimSize(1);
      t.groupSize = groupSize == 0 || groupSize >= in || in % groupSize ? in
                                                                        : groupSize;
      t.weight = std::move(*w);
      if (gptq)
        t.hessian.assign(in * in, 0.0);
      if (staticActivations && !semi)
        t.inputs.emplace();
      indexOf[linear] = work.size();
      work.push_back(std::move(t));
      return WalkResult::advance();
    });
    if (walk.wasInterrupted() || failed(selection->checkAllFound(module)))
      return failure();

    OpObserver observer;
    if (gptq || staticActivations)
      observer = [&](Operation *op, ArrayRef<const Tensor *> operands, Tensor &) {
        auto it = indexOf.find(op);
        if (it == indexOf.end())
          return;
        Target &t = work[it->second];
        if (gptq)
          accumulateHessian(t, *operands[0]);
        if (t.inputs)
          t.inputs->add(operands[0]->f.data(), operands[0]->f.size());
      };
    if (maxError < 0)
      return module.emitError("tfx-quantize-weights: max-error must be >= 0");
    auto run = CompressionRun::begin(module, getArgument(), calibration,
                                     calibrationBatches,
                                     gptq || maxError > 0 || staticActivations, observer);
    if (failed(run))
      return failure();

    QuantizeOptions options;
    options.bits = (unsigned)bits;
    options.searchClip = clipSearch;
    std::atomic<size_t> done{0};
    parallelForEach(&getContext(), work, [&](Target &t) {
      QuantizeOptions local = options;
      local.groupSize = t.groupSize;
      local.actOrder = actOrder;
      auto q = gptq ? quantizeGPTQ(t.weight, t.hessian, local, damping)
                    : quantizeRoundToNearest(t.weight, local);
      if (q) {
        t.quantized = std::move(*q);
        Tensor back = t.quantized->dequantized();
        double diff = 0, norm = 0;
        for (size_t k = 0; k < back.f.size(); ++k) {
          diff += std::pow((double)back.f[k] - t.weight.f[k], 2);
          norm += (double)t.weight.f[k] * t.weight.f[k];
        }
        t.relativeError = norm > 0 ? std::sqrt(diff / norm) : 0;
      } else {
        t.error = llvm::toString(q.takeError());
      }
      t.hessian.clear();
      run->progress("quantizing", ++done, work.size());
    });

    for (Target &t : work) {
      if (!t.quantized)
        return t.linear.emitError("tfx-quantize-weights: '")
               << t.name << "': " << t.error;
      if (t.inputs) {
        auto fixed = chooseActivationQuant(*t.inputs, range, symmetric, percentile);
        if (fixed)
          t.fixed = *fixed;
        else
          t.fixedError = llvm::toString(fixed.takeError());
      }
    }
    if (maxError > 0 && failed(choosePrecisions(*run, work)))
      return failure();

    for (Target &t : work) {
      if (t.promoted && !t.higher) {
        run->log() << "'" << t.name << "' (" << t.role << "): kept in float\n";
        continue;
      }
      if (t.promoted)
        std::swap(t.quantized, t.higher);
      int64_t out = t.weight.shape[0], in = t.weight.shape[1];
      run->log() << "'" << t.name << "' (" << t.role << (t.sparse ? ", 2:4 values " : ", ")
                 << out << "x" << in << "): int" << t.quantized->bits << ", "
                 << (t.quantized->groupSize == in
                         ? std::string("per output channel")
                         : "group " + std::to_string(t.quantized->groupSize))
                 << (groupSize > 0 && t.groupSize == in && in != groupSize
                         ? " (group-size does not divide " + std::to_string(in) + ")"
                         : std::string())
                 << (t.promoted ? std::string(" (mixed precision)")
                                : llvm::formatv(", weight rel. error {0:F4}", t.relativeError).str())
                 << (gptq ? llvm::formatv(", {0} calibration rows", t.rows).str()
                          : std::string())
                 << "\n";
      if (failed(rewrite(t, range, *run)))
        return failure();
    }
    for (const std::string &name : sparseKept)
      run->log() << "'" << name << "' (2:4 values): kept in float (" << method
                 << (maxError > 0 ? ", max-error" : "") << " needs dense weights)\n";
    if (embeddings && failed(quantizeEmbeddings(*func, *run)))
      return failure();
    eraseDeadOps(*func);
    size_t kept = llvm::count_if(work, [](const Target &t) { return t.promoted && !t.higher; });
    run->log() << work.size() - kept << " linears quantized (" << method << ", int"
               << bits << (maxError > 0 ? ", mixed precision" : "")
               << (staticActivations    ? llvm::formatv(", {0} activations, {1} ranges",
                                                     symmetric ? "int8" : "uint8 asymmetric",
                                                     std::string(rangeMethod))
                                           .str()
                   : dynamicActivations ? ", int8 activations per row"
                                        : "")
               << ")\n";
    return success(succeeded(run->finish(module)));
  }

  static Tensor delta(const Target &t, const std::optional<QuantizedWeight> &q) {
    Tensor d = q ? q->dequantized() : Tensor::floats(t.weight.shape);
    if (q)
      for (size_t k = 0; k < d.f.size(); ++k)
        d.f[k] -= t.weight.f[k];
    return d;
  }

  /// Greedy mixed precision: sensitivities one linear at a time, then
  /// promotions in decreasing sensitivity until the budget holds.
  LogicalResult choosePrecisions(CompressionRun &run, std::vector<Target> &work) {
    if (bits == 4) {
      QuantizeOptions high;
      high.bits = 8;
      high.searchClip = clipSearch;
      for (Target &t : work) {
        auto q = quantizeRoundToNearest(t.weight, high);
        if (!q)
          return t.linear.emitError("tfx-quantize-weights: '")
                 << t.name << "': " << llvm::toString(q.takeError());
        t.higher = std::move(*q);
      }
    }
    ModuleOp module = getOperation();
    // What each choice computes, prepared once for every measurement:
    // Wq - W for weight-only, Wq for W8A8 (its promotion is float, which
    // changes nothing).
    bool w8a8 = activations != "none";
    std::vector<Tensor> lowDelta, highDelta, lowWeight;
    std::vector<LinearSubstitute> low, high;
    for (Target &t : work) {
      lowWeight.push_back(w8a8 ? t.quantized->dequantized() : Tensor());
      lowDelta.push_back(w8a8 ? Tensor() : delta(t, t.quantized));
      highDelta.push_back(delta(t, t.higher));
    }
    for (auto [n, t] : llvm::enumerate(work)) {
      high.push_back({&highDelta[n]});
      if (w8a8)
        low.push_back({nullptr, &lowWeight[n], &t.weight, t.fixed ? &*t.fixed : nullptr});
      else
        low.push_back({&lowDelta[n]});
    }
    auto measure = [&](llvm::DenseMap<Operation *, LinearSubstitute> choices) -> FailureOr<double> {
      auto fidelity = run.measureWith(module, substituteLinears(std::move(choices)));
      if (failed(fidelity))
        return failure();
      return fidelity->worstRelL2();
    };
    for (auto [n, t] : llvm::enumerate(work)) {
      llvm::DenseMap<Operation *, LinearSubstitute> one;
      one[t.linear] = low[n];
      auto error = measure(std::move(one));
      if (failed(error))
        return failure();
      t.sensitivity = *error;
      run.progress("sensitivity", n + 1, work.size());
    }
    std::vector<Target *> order;
    for (Target &t : work)
      order.push_back(&t);
    llvm::stable_sort(order, [](Target *a, Target *b) {
      return a->sensitivity > b->sensitivity;
    });
    auto current = [&]() {
      llvm::DenseMap<Operation *, LinearSubstitute> all;
      for (auto [n, t] : llvm::enumerate(work))
        all[t.linear] = t.promoted ? high[n] : low[n];
      return measure(std::move(all));
    };
    FailureOr<double> error = current();
    if (failed(error))
      return failure();
    size_t promoted = 0;
    while (*error > maxError && promoted < order.size()) {
      order[promoted++]->promoted = true;
      error = current();
      if (failed(error))
        return failure();
    }
    std::string higher = bits == 4 ? "int8" : "float";
    run.log() << "mixed precision: budget rel_l2 " << formatNumber(maxError) << ", "
              << promoted << " of " << work.size() << " linears in " << higher
              << llvm::format(", model rel_l2 %.4e", *error)
              << (*error > maxError ? " (over budget with every linear promoted)" : "")
              << "\n";
    run.log() << llvm::format("  %-44s %12s  %s\n", "linear", "sensitivity", "precision");
    for (Target *t : order)
      run.log() << llvm::format("  %-44s %12.4e  %s\n", t->name.c_str(), t->sensitivity,
                                t->promoted ? higher.c_str()
                                            : ("int" + std::to_string(bits)).c_str());
    return success();
  }

  /// H += x x^T over the rows of `x` [..., in] (the full matrix).
  static void accumulateHessian(Target &t, const Tensor &x) {
    int64_t in = t.weight.shape[1];
    addSecondMoment(t.hessian, x, in);
    t.rows += x.numElements() / in;
  }

  /// embeddings=true: each embedding table [vocab, hidden] becomes int8
  /// with one scale per row (per token), a tfx.dequantize that the CPU
  /// gather reads directly. A linear that shares the table (a tied LM head,
  /// [vocab, hidden] = [out, in]) reads the same integers as int8 per output
  /// channel (its input quantized per row too under W8A8), so the table is
  /// stored once; any other user keeps the float table, and the log says so.
  LogicalResult quantizeEmbeddings(func::FuncOp func, CompressionRun &run) {
    SmallVector<Value> tables;
    func->walk([&](EmbeddingOp e) {
      if (!llvm::is_contained(tables, e.getTable()))
        tables.push_back(e.getTable());
    });
    for (Value table : tables) {
      auto type = cast<RankedTensorType>(table.getType());
      std::string name = weightName(table);
      if (name.empty())
        name = "embedding";
      if (!isWeightValue(table) || type.getRank() != 2 || !type.getElementType().isF32()) {
        run.log() << "'" << name << "' (embedding): kept in float (not a 2-D f32 weight)\n";
        continue;
      }
      auto w = readWeight(table);
      if (!w)
        return emitError(table.getLoc(), "tfx-quantize-weights: ") << llvm::toString(w.takeError());
      QuantizeOptions options;
      options.bits = 8;
      options.searchClip = clipSearch;
      auto q = quantizeRoundToNearest(*w, options);
      if (!q)
        return emitError(table.getLoc(), "tfx-quantize-weights: '")
               << name << "': " << llvm::toString(q.takeError());
      OpBuilder b(table.getContext());
      b.setInsertionPointAfterValue(table);
      Location loc = table.getLoc();
      Tensor ints = Tensor::ints({q->rows, q->cols}, 0, DType::I8);
      for (size_t k = 0; k < q->q.size(); ++k)
        ints.i[k] = q->q[k];
      Tensor scales = Tensor::floats({q->rows, 1});
      scales.f = q->scales;
      auto qValue = createWeight(b, loc, RankedTensorType::get({q->rows, q->cols}, b.getI8Type()),
                                 ints, name + ".q8");
      auto sValue = createF32Weight(b, loc, scales, name + ".scales");
      if (failed(qValue) || failed(sValue))
        return failure();
      auto dq = createInferred<DequantizeOp>(b, loc, *qValue, *sValue,
                                             b.getI64IntegerAttr(q->cols));
      if (failed(dq) || dq->getType() != type)
        return emitError(loc, "tfx-quantize-weights: cannot build the dequantize of '")
               << name << "'";
      int64_t heads = 0, others = 0;
      for (OpOperand &use : llvm::make_early_inc_range(table.getUses())) {
        Operation *user = use.getOwner();
        if (isa<EmbeddingOp>(user) && use.getOperandNumber() == 1) {
          use.set(dq->getResult());
        } else if (auto linear = dyn_cast<LinearOp>(user);
                   linear && use.getOperandNumber() == 1) {
          use.set(dq->getResult());
          ++heads;
          if (activations != "none" &&
              !linear.getInput().getDefiningOp<QuantizeActivationsOp>()) {
            OpBuilder at(linear);
            auto xq = QuantizeActivationsOp::create(at, linear.getLoc(), linear.getInput(),
                                                    at.getI64IntegerAttr(8), TypeAttr());
            linear.getInputMutable().assign(xq.getResult());
          }
        } else if (user != dq->getOperation()) {
          ++others;
        }
      }
      run.log() << "'" << name << "' (embedding, " << q->rows << "x" << q->cols
                << "): int8, one scale per row"
                << llvm::formatv(", weight rel. error {0:F4}", relativeError(*w, *q))
                << (heads ? ", shared with the tied LM head (int8 per output channel" +
                                std::string(activations != "none"
                                                ? ", int8 activations per row)"
                                                : ")")
                          : std::string())
                << (others ? ", float copy kept for " + std::to_string(others) + " other users"
                           : std::string())
                << "\n";
    }
    return success();
  }

  static double relativeError(const Tensor &w, const QuantizedWeight &q) {
    Tensor back = q.dequantized();
    double diff = 0, norm = 0;
    for (size_t k = 0; k < back.f.size(); ++k) {
      diff += std::pow((double)back.f[k] - w.f[k], 2);
      norm += (double)w.f[k] * w.f[k];
    }
    return norm > 0 ? std::sqrt(diff / norm) : 0;
  }

  /// `!quant.uniform<i8<-127:127>:f32, s>` or `!quant.uniform<u8:f32, s:z>`.
  quant::UniformQuantizedType staticType(const ActivationQuant &q) {
    MLIRContext *ctx = &getContext();
    return quant::UniformQuantizedType::get(
        q.qmin < 0 ? quant::QuantizationFlags::Signed : 0, IntegerType::get(ctx, 8),
        Float32Type::get(ctx), q.scale, q.zeroPoint, q.qmin, q.qmax);
  }

  LogicalResult rewrite(Target &t, RangeMethod range, CompressionRun &run) {
    LinearOp linear = t.linear;
    // Before the sparse op that reads the values, or before the linear.
    OpBuilder b(t.sparse ? t.sparse.getOperation() : linear.getOperation());
    Location loc = linear.getLoc();
    const QuantizedWeight &qw = *t.quantized;
    Tensor q = Tensor::ints({qw.rows, qw.cols}, 0, DType::I8);
    for (size_t k = 0; k < qw.q.size(); ++k)
      q.i[k] = qw.q[k];
    Tensor scales = Tensor::floats({qw.rows, qw.groups()});
    scales.f = qw.scales;
    auto qType = RankedTensorType::get({qw.rows, qw.cols}, b.getIntegerType(qw.bits));
    auto qValue = createWeight(b, loc, qType, q, t.name + ".q" + std::to_string(qw.bits));
    auto sValue = createF32Weight(b, loc, scales, t.name + ".scales");
    if (failed(qValue) || failed(sValue))
      return failure();
    auto dq = createInferred<DequantizeOp>(b, loc, *qValue, *sValue,
                                           b.getI64IntegerAttr(qw.groupSize));
    Type expected = t.sparse ? t.sparse.getValues().getType() : linear.getWeight().getType();
    if (failed(dq) || dq->getType() != expected)
      return linear.emitError("tfx-quantize-weights: cannot build the dequantize "
                              "of '")
             << t.name << "'";
    if (t.sparse)
      t.sparse.getValuesMutable().assign(dq->getResult());
    else
      linear.getWeightMutable().assign(dq->getResult());
    // W8A8: the input too, one scale per row at run time (the sparse kernel
    // multiplies float activations, so 2:4 linears stay weight-only).
    if (activations != "none" && !t.sparse) {
      OpBuilder at(linear);
      TypeAttr type;
      if (t.fixed) {
        type = TypeAttr::get(staticType(*t.fixed));
        run.log() << llvm::formatv("  '{0}' input: scale {1:e4}, zero point {2} (seen "
                                   "[{3:g4}, {4:g4}])\n",
                                   t.name, t.fixed->scale, t.fixed->zeroPoint, t.inputs->min(),
                                   t.inputs->max());
      } else if (t.inputs) {
        // A layer whose calibration inputs were all zero stays dynamic.
        run.log() << "  '" << t.name << "' input: " << t.fixedError
                  << "; quantized per row at run time\n";
      }
      auto xq = QuantizeActivationsOp::create(at, loc, linear.getInput(),
                                              at.getI64IntegerAttr(8), type);
      linear.getInputMutable().assign(xq.getResult());
    }
    return success();
  }
};

} // namespace
