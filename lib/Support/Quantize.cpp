//===- Quantize.cpp - weight quantization math ----------------------------===//

#include "tfx/Support/Quantize.h"

#include "llvm/ADT/Twine.h"

#include <algorithm>
#include <cmath>
#include <string>

using namespace mlir::tfx;

static llvm::Error quantizeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

Tensor QuantizedWeight::dequantized() const {
  Tensor t = Tensor::floats({rows, cols});
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      t.f[r * cols + c] =
          (float)q[r * cols + c] * scales[r * groups() + c / groupSize];
  return t;
}

namespace {
/// The integer grid of a bit width.
struct Grid {
  int lo, hi;
  explicit Grid(unsigned bits)
      : lo(-(1 << (bits - 1))), hi((1 << (bits - 1)) - 1) {}
  int round(double value, float scale) const {
    if (scale == 0.0f)
      return 0;
    double q = std::nearbyint(value / scale);
    return (int)std::clamp(q, (double)lo, (double)hi);
  }
};
} // namespace

/// The scale of `count` values: largest magnitude over the grid's positive
/// end, shrunk by the clipping ratio with the least squared error.
static float groupScale(const double *values, int64_t count, const Grid &grid,
                        bool searchClip) {
  double largest = 0;
  for (int64_t k = 0; k < count; ++k)
    largest = std::max(largest, std::fabs(values[k]));
  if (largest == 0)
    return 0.0f;
  float best = (float)(largest / grid.hi);
  if (!searchClip)
    return best;
  double bestError = INFINITY;
  for (int step = 0; step <= 25; ++step) {
    float scale = (float)(largest * (1.0 - 0.01 * step) / grid.hi);
    double error = 0;
    for (int64_t k = 0; k < count; ++k) {
      double d = values[k] - (double)grid.round(values[k], scale) * scale;
      error += d * d;
    }
    if (error < bestError) {
      bestError = error;
      best = scale;
    }
  }
  return best;
}

static llvm::Expected<QuantizedWeight> prepare(const Tensor &w,
                                               const QuantizeOptions &options) {
  if (!w.isFloat() || w.rank() != 2)
    return quantizeError("quantization needs a 2-D float weight, got " +
                         w.shapeString());
  if (options.bits != 8 && options.bits != 4)
    return quantizeError("quantization to " + llvm::Twine(options.bits) +
                         " bits is not supported (8 or 4)");
  QuantizedWeight out;
  out.rows = w.shape[0];
  out.cols = w.shape[1];
  out.bits = options.bits;
  out.groupSize = options.groupSize <= 0 || options.groupSize >= out.cols
                      ? out.cols
                      : options.groupSize;
  if (out.cols == 0 || out.cols % out.groupSize)
    return quantizeError("group size " + llvm::Twine(out.groupSize) +
                         " does not divide the " + llvm::Twine(out.cols) +
                         " input channels");
  out.q.assign(out.rows * out.cols, 0);
  out.scales.assign(out.rows * out.groups(), 0.0f);
  return out;
}

llvm::Expected<QuantizedWeight>
mlir::tfx::quantizeRoundToNearest(const Tensor &w, const QuantizeOptions &options) {
  auto out = prepare(w, options);
  if (!out)
    return out.takeError();
  Grid grid(options.bits);
  int64_t cols = out->cols, g = out->groupSize;
  std::vector<double> values(g);
  for (int64_t r = 0; r < out->rows; ++r)
    for (int64_t group = 0; group < out->groups(); ++group) {
      const float *row = w.f.data() + r * cols + group * g;
      for (int64_t k = 0; k < g; ++k)
        values[k] = row[k];
      float scale = groupScale(values.data(), g, grid, options.searchClip);
      out->scales[r * out->groups() + group] = scale;
      for (int64_t k = 0; k < g; ++k)
        out->q[r * cols + group * g + k] = (int8_t)grid.round(values[k], scale);
    }
  return out;
}

bool mlir::tfx::choleskyInPlace(std::vector<double> &a, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    double *rowJ = a.data() + j * n;
    double d = rowJ[j];
    for (int64_t k = 0; k < j; ++k)
      d -= rowJ[k] * rowJ[k];
    if (!(d > 0))
      return false;
    double pivot = std::sqrt(d);
    rowJ[j] = pivot;
    for (int64_t i = j + 1; i < n; ++i) {
      double *rowI = a.data() + i * n;
      double s = rowI[j];
      for (int64_t k = 0; k < j; ++k)
        s -= rowI[k] * rowJ[k];
      rowI[j] = s / pivot;
    }
    for (int64_t k = j + 1; k < n; ++k)
      rowJ[k] = 0;
  }
  return true;
}

/// U upper triangular with U^T U = H^-1, from the lower Cholesky factor L of
/// H: X = L^-1 row by row, H^-1 = X^T X, then U = chol(H^-1)^T.
static std::vector<double> inverseCholeskyUpper(const std::vector<double> &lower,
                                                int64_t n, bool &ok) {
  std::vector<double> x(n * n, 0.0);
  for (int64_t i = 0; i < n; ++i) {
    double *rowX = x.data() + i * n;
    rowX[i] = 1.0;
    const double *rowL = lower.data() + i * n;
    for (int64_t k = 0; k < i; ++k) {
      double l = rowL[k];
      const double *rowK = x.data() + k * n;
      for (int64_t j = 0; j <= k; ++j)
        rowX[j] -= l * rowK[j];
    }
    for (int64_t j = 0; j <= i; ++j)
      rowX[j] /= rowL[i];
  }
  std::vector<double> inverse(n * n, 0.0);
  for (int64_t k = 0; k < n; ++k) {
    const double *rowK = x.data() + k * n;
    for (int64_t i = 0; i <= k; ++i) {
      double xi = rowK[i];
      double *rowI = inverse.data() + i * n;
      for (int64_t j = 0; j <= i; ++j)
        rowI[j] += xi * rowK[j];
    }
  }
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < i; ++j)
      inverse[j * n + i] = inverse[i * n + j];
  ok = choleskyInPlace(inverse, n);
  std::vector<double> upper(n * n, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j <= i; ++j)
      upper[j * n + i] = inverse[i * n + j];
  return upper;
}

llvm::Expected<QuantizedWeight> mlir::tfx::quantizeGPTQ(const Tensor &w,
                                                        std::vector<double> hessian,
                                                        const QuantizeOptions &options,
                                                        double damping) {
  auto out = prepare(w, options);
  if (!out)
    return out.takeError();
  int64_t n = out->cols, g = out->groupSize;
  if ((int64_t)hessian.size() != n * n)
    return quantizeError("GPTQ: the Hessian has " + llvm::Twine(hessian.size()) +
                         " entries, expected " + llvm::Twine(n) + "^2");
  // Channels the data never uses carry no information: zero them.
  std::vector<bool> dead(n, false);
  double meanDiagonal = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (hessian[i * n + i] <= 0) {
      dead[i] = true;
      for (int64_t j = 0; j < n; ++j)
        hessian[i * n + j] = hessian[j * n + i] = 0;
      hessian[i * n + i] = 1;
    }
    meanDiagonal += hessian[i * n + i] / n;
  }
  // The order channels are rounded in: order[k] is the k-th channel.
  std::vector<int64_t> order(n);
  for (int64_t i = 0; i < n; ++i)
    order[i] = i;
  if (options.actOrder) {
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      return hessian[a * n + a] > hessian[b * n + b];
    });
    std::vector<double> permuted(n * n);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j)
        permuted[i * n + j] = hessian[order[i] * n + order[j]];
    hessian = std::move(permuted);
  }
  for (int64_t i = 0; i < n; ++i)
    hessian[i * n + i] += damping * meanDiagonal;
  if (!choleskyInPlace(hessian, n))
    return quantizeError("GPTQ: the damped Hessian is not positive definite "
                         "(raise the damping)");
  bool ok = true;
  std::vector<double> upper = inverseCholeskyUpper(hessian, n, ok);
  if (!ok)
    return quantizeError("GPTQ: the inverse Hessian is not positive definite "
                         "(raise the damping)");

  Grid grid(options.bits);
  int64_t groups = out->groups();
  std::vector<double> row(n);
  for (int64_t r = 0; r < out->rows; ++r) {
    float *scales = out->scales.data() + r * groups;
    if (options.actOrder)
      // Static groups: each group's scale from the weight as it came.
      for (int64_t group = 0; group < groups; ++group) {
        for (int64_t k = 0; k < g; ++k) {
          int64_t c = group * g + k;
          row[k] = dead[c] ? 0.0 : w.f[r * n + c];
        }
        scales[group] = groupScale(row.data(), g, grid, options.searchClip);
      }
    // row[k] is channel order[k] as updated so far.
    for (int64_t k = 0; k < n; ++k)
      row[k] = dead[order[k]] ? 0.0 : w.f[r * n + order[k]];
    for (int64_t i = 0; i < n; ++i) {
      int64_t c = order[i];
      // In channel order, each group's scale comes from its values as
      // updated so far.
      if (!options.actOrder && c % g == 0)
        scales[c / g] = groupScale(row.data() + i, g, grid, options.searchClip);
      float scale = scales[c / g];
      int q = grid.round(row[i], scale);
      out->q[r * n + c] = (int8_t)q;
      double error = (row[i] - (double)q * scale) / upper[i * n + i];
      const double *u = upper.data() + i * n;
      for (int64_t j = i + 1; j < n; ++j)
        row[j] -= error * u[j];
    }
  }
  return out;
}

//===----------------------------------------------------------------------===//
// Static activation ranges
//===----------------------------------------------------------------------===//

float ActivationQuant::roundTrip(float x) const {
  float inv = 1.0f / scale;
  float q = std::nearbyint(x * inv) + (float)zeroPoint;
  q = std::min(std::max(q, (float)qmin), (float)qmax);
  return (q - (float)zeroPoint) * scale;
}

void mlir::tfx::roundTripRows(float *data, int64_t rows, int64_t cols, int64_t bits) {
  float qmax = (float)((1 << (bits - 1)) - 1);
  for (int64_t r = 0; r < rows; ++r) {
    float *row = data + r * cols;
    float amax = 0;
    for (int64_t c = 0; c < cols; ++c)
      amax = std::max(amax, std::fabs(row[c]));
    float inv = amax > 0 ? qmax / amax : 0.0f, scale = amax / qmax;
    for (int64_t c = 0; c < cols; ++c) {
      float q = std::nearbyint(row[c] * inv);
      row[c] = std::min(std::max(q, -qmax), qmax) * scale;
    }
  }
}

void ActivationStats::add(const float *values, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    float v = values[i];
    if (count == 0) {
      lo = hi = v;
    } else {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    ++count;
    if (kept.size() < capacity) {
      kept.push_back(v);
      continue;
    }
    // Algorithm R: the i-th value replaces a kept one with probability
    // capacity / i (xorshift64, so that runs are reproducible).
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    uint64_t slot = state % count;
    if (slot < capacity)
      kept[slot] = v;
  }
}

/// The quantization of [lo, hi] (lo <= 0 <= hi, not both 0).
static ActivationQuant fromRange(double lo, double hi, bool symmetric) {
  ActivationQuant q;
  if (symmetric) {
    double amax = std::max(-lo, hi);
    q.scale = (float)(amax / 127.0);
    q.qmin = -127;
    q.qmax = 127;
    return q;
  }
  q.scale = (float)((hi - lo) / 255.0);
  q.qmin = 0;
  q.qmax = 255;
  q.zeroPoint = std::min<int64_t>(255, std::max<int64_t>(0, std::llround(-lo / q.scale)));
  return q;
}

/// The value at fraction `p` of the sorted sample (nearest rank).
static double quantile(std::vector<float> values, double p) {
  size_t index = std::min(values.size() - 1, (size_t)(p * (double)(values.size() - 1) + 0.5));
  std::nth_element(values.begin(), values.begin() + index, values.end());
  return values[index];
}

llvm::Expected<ActivationQuant> mlir::tfx::chooseActivationQuant(const ActivationStats &stats,
                                                                 RangeMethod method,
                                                                 bool symmetric,
                                                                 double percentile) {
  if (stats.seen() == 0)
    return quantizeError("no calibration values reached this tensor");
  double lo = std::min(0.0f, stats.min()), hi = std::max(0.0f, stats.max());
  if (lo == 0 && hi == 0)
    return quantizeError("every calibration value of this tensor is 0");
  const std::vector<float> &sample = stats.sample();
  if (method == RangeMethod::Percentile) {
    if (!(percentile > 50 && percentile <= 100))
      return quantizeError("percentile must be in (50, 100], got " + std::to_string(percentile));
    double p = percentile / 100.0;
    if (symmetric) {
      std::vector<float> magnitudes(sample.size());
      for (size_t i = 0; i < sample.size(); ++i)
        magnitudes[i] = std::fabs(sample[i]);
      double amax = quantile(std::move(magnitudes), p);
      if (amax > 0)
        lo = -amax, hi = amax;
    } else {
      double plo = std::min(0.0, quantile(sample, 1 - p));
      double phi = std::max(0.0, quantile(sample, p));
      if (phi > plo)
        lo = plo, hi = phi;
    }
  } else if (method == RangeMethod::MSE) {
    // Shrink the range towards 0 by a common factor and keep the factor
    // whose round trip errs least on the sample (clipping against rounding).
    double best = INFINITY, bestFactor = 1;
    for (int step = 0; step < 96; ++step) {
      double factor = 1.0 - step / 100.0;
      ActivationQuant q = fromRange(lo * factor, hi * factor, symmetric);
      if (!(q.scale > 0))
        continue;
      double error = 0;
      for (float v : sample) {
        double d = (double)q.roundTrip(v) - v;
        error += d * d;
      }
      if (error < best) {
        best = error;
        bestFactor = factor;
      }
    }
    lo *= bestFactor;
    hi *= bestFactor;
  }
  return fromRange(lo, hi, symmetric);
}
