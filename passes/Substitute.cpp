//===- Substitute.cpp - what-if runs of one changed linear ----------------===//

#include "Substitute.h"

#include "llvm/Support/Parallel.h"

#include <vector>

using namespace mlir;
using namespace mlir::tfx;

OpObserver
mlir::tfx::substituteLinears(llvm::DenseMap<Operation *, LinearSubstitute> choices) {
  return [choices = std::move(choices)](Operation *op, ArrayRef<const Tensor *> operands,
                                        Tensor &result) {
    auto it = choices.find(op);
    if (it == choices.end())
      return;
    const LinearSubstitute &choice = it->second;
    const Tensor &x = *operands[0];
    // Rows are independent: each runs its own sums, in parallel.
    if (!choice.quantized) {
      const Tensor &d = *choice.delta;
      int64_t out = d.shape[0], in = d.shape[1], rows = x.numElements() / in;
      llvm::parallelFor(0, rows, [&](size_t r) {
        const float *xr = x.f.data() + r * in;
        for (int64_t o = 0; o < out; ++o) {
          const float *dr = d.f.data() + o * in;
          double s = 0;
          for (int64_t c = 0; c < in; ++c)
            s += (double)xr[c] * dr[c];
          result.f[r * out + o] += (float)s;
        }
      });
      return;
    }
    const Tensor &wq = *choice.quantized, &w = *choice.weight;
    int64_t out = w.shape[0], in = w.shape[1], rows = x.numElements() / in;
    std::vector<float> xq(x.f.begin(), x.f.end());
    if (choice.fixed)
      for (float &v : xq)
        v = choice.fixed->roundTrip(v);
    else
      roundTripRows(xq.data(), rows, in, 8);
    llvm::parallelFor(0, rows, [&](size_t r) {
      const float *xr = x.f.data() + r * in, *qr = xq.data() + r * in;
      for (int64_t o = 0; o < out; ++o) {
        const float *wr = w.f.data() + o * in, *wqr = wq.f.data() + o * in;
        double s = 0;
        for (int64_t c = 0; c < in; ++c)
          s += (double)qr[c] * wqr[c] - (double)xr[c] * wr[c];
        result.f[r * out + o] += (float)s;
      }
    });
  };
}
