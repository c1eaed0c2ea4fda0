//===- Calibration.h - run a model over calibration inputs ------*- C++ -*-===//
//
// Compression passes look at what a model computes on representative
// inputs: activation statistics (per-channel norms for Wanda, head output
// norms, layer similarities) and, after they rewrote the model, how far its
// outputs moved. Both run the reference interpreter over a calibration set
// read from a safetensors file.
//
//===----------------------------------------------------------------------===//
#ifndef TFX_CALIBRATION_CALIBRATION_H
#define TFX_CALIBRATION_CALIBRATION_H

#include "tfx/Interpreter/Interpreter.h"
#include "tfx/Support/Tensor.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <map>
#include <string>
#include <vector>

namespace mlir::tfx {

using TensorMap = std::map<std::string, Tensor>;

/// Batches of the entry function's inputs.
struct CalibrationSet {
  std::string path;
  std::vector<TensorMap> batches;
  /// Outputs of the model the set was last run on (filled by
  /// recordReference), so that later comparisons need not run it again.
  std::vector<TensorMap> reference;
};

/// Reads the calibration set at `path` for `func`. Each input is the tensor
/// `input.<name>` (or `<name>`) of the file; its first dimension may be a
/// multiple of the function's, and is split into that many batches (the
/// other dimensions must match). An `attention_mask` input missing from
/// the file is all ones. At most `maxBatches` batches are kept (0: all).
/// A `.txt` path is text instead: encoded with the tokenizer.json beside
/// the model's weights (the module's tfx.weights) and cut into input_ids
/// rows of the model's sequence length (WordPiece rows framed by [CLS] and
/// [SEP]), as many as fill whole batches.
llvm::Expected<CalibrationSet> loadCalibrationSet(llvm::StringRef path,
                                                  mlir::func::FuncOp func,
                                                  int64_t maxBatches = 0);

/// Runs `module` on every batch, calling `observer` (may be empty) on each
/// op; returns the outputs per batch. With a non-empty `label`, shows
/// progress on stderr when it is a terminal.
llvm::Expected<std::vector<TensorMap>>
runCalibration(mlir::ModuleOp module, const CalibrationSet &set,
               const OpObserver &observer, llvm::StringRef label = "");

/// How far one output of a transformed model lies from the reference.
struct OutputFidelity {
  std::string name;
  double maxAbs = 0, meanAbs = 0;
  /// ||candidate - reference|| / ||reference|| over all elements.
  double relL2 = 0;
  /// Mean cosine similarity of rows (last axis).
  double cosine = 1;
  /// Fraction of rows whose argmax agrees (only for outputs named *logits*;
  /// negative otherwise).
  double top1 = -1;
  int64_t rows = 0;
};

struct Fidelity {
  std::vector<OutputFidelity> outputs;
  /// "logits: rel_l2 3.1e-02, cos 0.9995, max_abs 0.41, top1 97.66% (2048 rows)"
  std::string summary() const;
  /// The largest relative L2 error over the outputs.
  double worstRelL2() const;
};

/// Compares per-batch outputs (same names and shapes) with a reference.
llvm::Expected<Fidelity> compareOutputs(const std::vector<TensorMap> &reference,
                                        const std::vector<TensorMap> &candidate);

} // namespace mlir::tfx

#endif // TFX_CALIBRATION_CALIBRATION_H
