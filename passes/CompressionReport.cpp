//===- CompressionReport.cpp - what a compression did and cost ------------===//

#include "CompressionReport.h"

#include "tfx/Dialect/Tfx.h"
#include "tfx/Support/ResourceWeights.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/Format.h"

#include <atomic>
#include <sstream>

/// CompressionRun::setQuiet.
static std::atomic<bool> quietRuns{false};

using namespace mlir;
using namespace mlir::tfx;

/// Constants up to this size are code, not weights (as in the CPU lowering).
static constexpr int64_t kSmallConstant = 256;

static int64_t elementsOf(Type type) {
  auto shaped = dyn_cast<RankedTensorType>(type);
  return shaped && shaped.hasStaticShape() ? shaped.getNumElements() : 0;
}

static int64_t bytesOf(Type type) {
  auto shaped = dyn_cast<RankedTensorType>(type);
  if (!shaped || !shaped.hasStaticShape())
    return 0;
  // 4-bit integers ship two to a byte (the CPU weight blob packs them).
  if (shaped.getElementType().isInteger(4))
    return (shaped.getNumElements() + 1) / 2;
  return shaped.getNumElements() * blobElementBytes(shaped.getElementType());
}

/// Whether `value` is the integer tensor (`operand` 0) or the scales
/// (`operand` 1) of a quantized weight.
static bool feedsDequantize(Value value, unsigned operand) {
  return llvm::any_of(value.getUsers(), [&](Operation *user) {
    return isa<DequantizeOp>(user) && user->getOperand(operand) == value;
  });
}

int64_t mlir::tfx::storedBytes(Type type) { return bytesOf(type); }

ModelCost mlir::tfx::measureModel(ModuleOp module) {
  ModelCost cost;
  llvm::DenseSet<std::pair<Attribute, unsigned>> seen;
  module.walk([&](Operation *op) {
    if (auto weight = dyn_cast<WeightOp>(op)) {
      if (weight->use_empty() ||
          !seen.insert({weight.getNameAttr(), weight.getTransposed()}).second)
        return;
      cost.params += elementsOf(weight.getType());
      cost.weightBytes += bytesOf(weight.getType());
    } else if (auto constant = dyn_cast<arith::ConstantOp>(op)) {
      auto elements = dyn_cast<ElementsAttr>(constant.getValue());
      if (!elements || constant->use_empty() ||
          (!isa<DenseResourceElementsAttr>(elements) &&
           elementsOf(elements.getType()) <= kSmallConstant) ||
          !seen.insert({elements, 0}).second)
        return;
      // Index arrays of sparse formats are storage, not parameters.
      // Scales are storage too; the integers they scale are the parameters.
      if ((isa<FloatType>(elements.getElementType()) &&
           !feedsDequantize(constant.getResult(), 1)) ||
          feedsDequantize(constant.getResult(), 0))
        cost.params += elementsOf(elements.getType());
      cost.weightBytes += bytesOf(elements.getType());
    } else if (auto linear = dyn_cast<LinearOp>(op)) {
      auto w = cast<RankedTensorType>(linear.getWeight().getType());
      // A sparse weight costs a multiply-add per stored nonzero.
      double density = 1;
      if (auto csr = linear.getWeight().getDefiningOp<SparseCsrOp>())
        density = (double)elementsOf(csr.getValues().getType()) / elementsOf(w);
      else if (linear.getWeight().getDefiningOp<Sparse24Op>())
        density = 0.5;
      cost.flops += 2.0 * density * elementsOf(linear.getType()) * w.getDimSize(1);
    } else if (auto matmul = dyn_cast<MatMulOp>(op)) {
      auto lhs = cast<RankedTensorType>(matmul.getLhs().getType());
      cost.flops += 2.0 * elementsOf(matmul.getType()) * lhs.getShape().back();
    } else if (auto attention = dyn_cast<AttentionOp>(op)) {
      auto q = cast<RankedTensorType>(attention.getQ().getType());
      auto k = cast<RankedTensorType>(attention.getK().getType());
      if (!q.hasStaticShape() || !k.hasStaticShape())
        return;
      int64_t batch = q.getDimSize(0), sq = q.getDimSize(1), sk = k.getDimSize(1);
      int64_t heads = (int64_t)attention.getNumHeads();
      int64_t headDim = attention.getHeadDim();
      if (attention.isLinear()) {
        // Per token of each head, phi(k)^T v into the sums or phi(q) times
        // them: 2 x F x d each (and 2 x F x d for random features).
        int64_t features = attention.getKind() == AttentionKind::linear_random
                               ? (int64_t)attention.getFeatures()
                               : headDim;
        double perToken = 2.0 * features * headDim *
                          (attention.getKind() == AttentionKind::linear_random ? 2 : 1);
        cost.flops += perToken * batch * heads * (sq + sk);
        return;
      }
      // scores and probabilities @ values: 2 x B x pairs x (H x d). Dense
      // attention counts every pair, causal or not (as reports always have);
      // sparse layouts count the pairs they leave visible.
      bool sparse = attention.getWindow() > 0 || attention.getBlockSize() > 0;
      double pairs = sparse ? visibleAttentionPairs(attention) : (double)sq * sk;
      cost.flops += 4.0 * batch * heads * headDim * pairs;
    }
  });
  return cost;
}

double mlir::tfx::visibleAttentionPairs(AttentionOp op) {
  int64_t sq = cast<RankedTensorType>(op.getQ().getType()).getDimSize(1);
  int64_t sk = cast<RankedTensorType>(op.getK().getType()).getDimSize(1);
  if (!op.getCausal() && op.getWindow() == 0 && op.getBlockSize() == 0)
    return (double)sq * sk;
  if (op.getCausal() && op.getWindow() == 0 && op.getBlockSize() == 0 && sq <= sk)
    return (double)sq * (sk - sq) + (double)sq * (sq + 1) / 2;
  double pairs = 0;
  for (int64_t i = 0; i < sq; ++i)
    for (int64_t j = 0; j < sk; ++j)
      pairs += op.seesKey(i + sk - sq, j);
  return pairs;
}

std::string mlir::tfx::formatNumber(double value) {
  std::ostringstream os;
  os << value;
  return os.str();
}

static std::string megabytes(int64_t bytes) {
  std::string s;
  llvm::raw_string_ostream(s) << llvm::format("%.2f MB", bytes / 1e6);
  return s;
}

FailureOr<CompressionRun>
CompressionRun::begin(ModuleOp module, llvm::StringRef pass,
                      llvm::StringRef calibrationPath, int64_t maxBatches,
                      bool needsCalibration, const OpObserver &observer) {
  CompressionRun run;
  run.pass = pass.str();
  run.before = measureModel(module);
  if (calibrationPath.empty()) {
    if (needsCalibration) {
      emitError(module.getLoc())
          << pass << ": this criterion needs calibration data (calibration=FILE)";
      return failure();
    }
    return run;
  }
  auto func = findEntryFunction(module);
  if (!func) {
    emitError(module.getLoc()) << pass << ": " << llvm::toString(func.takeError());
    return failure();
  }
  auto set = loadCalibrationSet(calibrationPath, *func, maxBatches);
  if (!set) {
    emitError(module.getLoc()) << pass << ": " << llvm::toString(set.takeError());
    return failure();
  }
  auto outputs = runCalibration(module, *set, observer,
                                quietRuns ? "" : pass.str() + " calibration");
  if (!outputs) {
    emitError(module.getLoc()) << pass << ": " << llvm::toString(outputs.takeError());
    return failure();
  }
  set->reference = std::move(*outputs);
  run.set = std::move(*set);
  return run;
}

void CompressionRun::setQuiet(bool quiet) { quietRuns = quiet; }

llvm::raw_ostream &CompressionRun::stream() {
  return quietRuns ? llvm::nulls() : llvm::errs();
}

llvm::raw_ostream &CompressionRun::log() {
  return stream() << pass << ": ";
}

void CompressionRun::progress(llvm::StringRef what, size_t n, size_t total) {
  if (quietRuns || !llvm::errs().is_displayed())
    return;
  llvm::errs() << "\r" << pass << ": " << what << " " << n << "/" << total << "   ";
  if (n == total)
    llvm::errs() << "\n";
}

FailureOr<Fidelity> CompressionRun::measureWith(ModuleOp module,
                                                const OpObserver &observer) {
  if (!set) {
    emitError(module.getLoc()) << pass << ": needs calibration data";
    return failure();
  }
  auto outputs = runCalibration(module, *set, observer);
  if (!outputs) {
    emitError(module.getLoc()) << pass << ": " << llvm::toString(outputs.takeError());
    return failure();
  }
  auto fidelity = compareOutputs(set->reference, *outputs);
  if (!fidelity) {
    emitError(module.getLoc()) << pass << ": " << llvm::toString(fidelity.takeError());
    return failure();
  }
  return std::move(*fidelity);
}

FailureOr<std::optional<Fidelity>> CompressionRun::finish(ModuleOp module) {
  ModelCost after = measureModel(module);
  log() << "weights " << megabytes(before.weightBytes) << " -> "
        << megabytes(after.weightBytes)
        << llvm::format(" (%.3fx), ", before.weightBytes
                                           ? (double)after.weightBytes / before.weightBytes
                                           : 1.0)
        << "params " << before.params << " -> " << after.params << ", GFLOP "
        << llvm::format("%.4f -> %.4f (%.3fx)\n", before.flops / 1e9, after.flops / 1e9,
                        before.flops > 0 ? after.flops / before.flops : 1.0);
  if (!set) {
    log() << "fidelity not measured (no calibration data)\n";
    return std::optional<Fidelity>();
  }
  auto outputs = runCalibration(module, *set, nullptr, quietRuns ? "" : pass + " check");
  if (!outputs) {
    emitError(module.getLoc()) << pass << ": the rewritten model does not run: "
                               << llvm::toString(outputs.takeError());
    return failure();
  }
  auto fidelity = compareOutputs(set->reference, *outputs);
  if (!fidelity) {
    emitError(module.getLoc()) << pass << ": " << llvm::toString(fidelity.takeError());
    return failure();
  }
  log() << "fidelity vs the input model on " << set->batches.size()
        << " calibration batches: " << fidelity->summary() << "\n";
  return std::optional<Fidelity>(std::move(*fidelity));
}
