//===- InputStats.h - input-channel statistics of linear layers -*- C++ -*-===//
//
// Activation-aware criteria (Wanda's |W| x ||X||, activation-aware SVD)
// weigh each input channel of a linear layer by how much the calibration
// data uses it. InputStats collects the per-channel sums of squares of the
// inputs of the linears it tracks while CompressionRun::begin runs the
// model over the calibration set.
//
//===----------------------------------------------------------------------===//
#ifndef TFX_PASSES_INPUTSTATS_H
#define TFX_PASSES_INPUTSTATS_H

#include "tfx/Interpreter/Interpreter.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/Parallel.h"

#include <vector>

namespace mlir::tfx {

/// h += x^T x over the rows of `x` [..., in] (the full in x in matrix, row
/// major): GPTQ's Hessian. Each entry sums the rows in order, one input
/// channel per task, so the result does not depend on the threads.
inline void addSecondMoment(std::vector<double> &h, const Tensor &x, int64_t in) {
  int64_t rows = x.numElements() / in;
  llvm::parallelFor(0, in, [&](size_t i) {
    double *hi = h.data() + i * in;
    for (int64_t r = 0; r < rows; ++r) {
      const float *row = x.f.data() + r * in;
      double xi = row[i];
      if (xi == 0)
        continue;
      for (int64_t j = 0; j < in; ++j)
        hi[j] += xi * row[j];
    }
  });
}

class InputStats {
public:
  /// Collects statistics of operand 0 of `op` ([..., channels]).
  void track(Operation *op, int64_t channels) {
    entries[op].sumSquares.assign(channels, 0.0);
  }

  /// The observer for CompressionRun::begin; it refers to this object.
  OpObserver observer() {
    return [this](Operation *op, llvm::ArrayRef<const Tensor *> operands, Tensor &) {
      auto it = entries.find(op);
      if (it == entries.end())
        return;
      const Tensor &x = *operands[0];
      std::vector<double> &sums = it->second.sumSquares;
      int64_t cols = sums.size(), count = x.numElements() / cols;
      for (int64_t r = 0; r < count; ++r)
        for (int64_t c = 0; c < cols; ++c)
          sums[c] += (double)x.f[r * cols + c] * x.f[r * cols + c];
      it->second.rows += count;
    };
  }

  /// sqrt(sum of x_c^2) per channel: the L2 norm of the channel over all
  /// calibration rows.
  std::vector<double> norms(Operation *op) const {
    std::vector<double> out = entries.lookup(op).sumSquares;
    for (double &v : out)
      v = std::sqrt(v);
    return out;
  }

  /// The root mean square of each channel.
  std::vector<double> rms(Operation *op) const {
    Entry e = entries.lookup(op);
    for (double &v : e.sumSquares)
      v = std::sqrt(v / std::max<int64_t>(e.rows, 1));
    return e.sumSquares;
  }

private:
  struct Entry {
    std::vector<double> sumSquares;
    int64_t rows = 0;
  };
  llvm::DenseMap<Operation *, Entry> entries;
};

} // namespace mlir::tfx

#endif // TFX_PASSES_INPUTSTATS_H
