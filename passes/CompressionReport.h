//===- CompressionReport.h - what a compression did and cost ----*- C++ -*-===//
//
// Every compression pass states what it did (sizes, FLOPs, sparsity, heads,
// ranks) and, given calibration data, what it cost in fidelity against the
// model as the pass received it. A pass opens a CompressionRun before it
// rewrites anything (this runs the model once over the calibration set,
// with the pass's statistics observer, and keeps the outputs), logs its
// decisions through it, and finishes it afterwards (this runs the rewritten
// model and compares). The report goes to stderr, one line per fact, each
// starting with the pass name.
//
//===----------------------------------------------------------------------===//
#ifndef TFX_PASSES_COMPRESSIONREPORT_H
#define TFX_PASSES_COMPRESSIONREPORT_H

#include "tfx/Calibration/Calibration.h"
#include "tfx/Dialect/Tfx.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>

namespace mlir::tfx {

/// Size and work of a module's entry function.
struct ModelCost {
  /// Parameters: elements of the distinct weights and large constants.
  int64_t params = 0;
  /// Bytes those weights occupy as stored (sparse formats count their
  /// values and indices).
  int64_t weightBytes = 0;
  /// Floating-point operations of one call (2 per multiply-add) of the
  /// linear layers, matmuls and attention.
  double flops = 0;
};

ModelCost measureModel(ModuleOp module);

/// Bytes a tensor of `type` occupies as stored (int4 two to a byte).
int64_t storedBytes(Type type);

/// Query/key pairs a softmax tfx.attention sees (the padding mask aside):
/// q_len x kv_len less what causal, window and block layouts hide.
double visibleAttentionPairs(AttentionOp op);

/// A number as a user typed it (0.1, not 1.000000e-01), for diagnostics.
std::string formatNumber(double value);

class CompressionRun {
public:
  /// Starts a run of `pass` on `module`. With a calibration path, loads up
  /// to `maxBatches` batches and runs the model over them with `observer`.
  /// Fails (with a diagnostic) when the set cannot be read or run, or when
  /// `needsCalibration` and no path is given.
  static FailureOr<CompressionRun> begin(ModuleOp module, llvm::StringRef pass,
                                         llvm::StringRef calibrationPath,
                                         int64_t maxBatches, bool needsCalibration,
                                         const OpObserver &observer = nullptr);

  /// The calibration set, or null without one.
  const CalibrationSet *calibration() const {
    return set ? &*set : nullptr;
  }
  /// A report line, prefixed with the pass name.
  llvm::raw_ostream &log();
  /// The rest of a report line (where log() goes).
  static llvm::raw_ostream &stream();
  /// Silences every run's log and progress while a search runs the
  /// passes of its candidate plans (one thread at a time runs passes).
  static void setQuiet(bool quiet);
  /// "pass: what n/total" on one refreshed terminal line (nothing when
  /// stderr is not a terminal); the line ends when n == total.
  void progress(llvm::StringRef what, size_t n, size_t total);

  /// Runs `module` over the calibration set with `observer` (which may
  /// alter results, e.g. zero a head) and compares with the reference
  /// outputs. Needs calibration data.
  FailureOr<Fidelity> measureWith(ModuleOp module, const OpObserver &observer);

  /// Prints the size and FLOPs before and after and, with calibration data,
  /// the fidelity of the rewritten module; returns it (nullopt without
  /// calibration). Fails when the rewritten module does not run.
  FailureOr<std::optional<Fidelity>> finish(ModuleOp module);

private:
  std::string pass;
  ModelCost before;
  std::optional<CalibrationSet> set;
};

} // namespace mlir::tfx

#endif // TFX_PASSES_COMPRESSIONREPORT_H
