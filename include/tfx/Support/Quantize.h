//===- Quantize.h - weight quantization math ---------------------*- C++ -*-===//
//
// Symmetric integer quantization of a 2-D weight W [out, in] with one scale
// per output channel and group of input channels, by round-to-nearest or by
// GPTQ (Frantar et al., 2022): each input channel is rounded in turn and its
// rounding error is spread over the channels not yet rounded, weighted by
// the inverse of the layer's input second moment H = X^T X, so that the
// layer's output on the calibration data moves as little as possible.
// Rows are independent given H, so both run row by row.
//
//===----------------------------------------------------------------------===//
#ifndef TFX_SUPPORT_QUANTIZE_H
#define TFX_SUPPORT_QUANTIZE_H

#include "tfx/Support/Tensor.h"

#include "llvm/Support/Error.h"

#include <cstdint>
#include <vector>

namespace mlir::tfx {

struct QuantizeOptions {
  /// 8 or 4: integers in [-2^(bits-1), 2^(bits-1) - 1].
  unsigned bits = 8;
  /// Input channels per scale; the whole row (per output channel) when 0
  /// or >= in. Must divide `in` otherwise.
  int64_t groupSize = 0;
  /// Search the clipping ratio of each group (1.0 down to 0.75) for the
  /// least squared rounding error instead of scaling by the group's
  /// largest magnitude.
  bool searchClip = true;
  /// GPTQ only: round the input channels in order of decreasing Hessian
  /// diagonal (the "act-order" of GPTQ's reference code), so the channels
  /// that carry the most input energy are rounded first and the error of
  /// each is spread over the many channels still free. Group scales are
  /// then fixed up front from the unmodified weight (static groups), so the
  /// storage format and the kernels stay the same.
  bool actOrder = false;
};

/// A quantized weight: W ~ q * scales[row, col / groupSize].
struct QuantizedWeight {
  int64_t rows = 0, cols = 0, groupSize = 0;
  unsigned bits = 8;
  std::vector<int8_t> q;      ///< [rows, cols]
  std::vector<float> scales;  ///< [rows, cols / groupSize]

  int64_t groups() const { return cols / groupSize; }
  /// q * scale as f32, computed as the kernels do (one f32 product).
  Tensor dequantized() const;
};

/// Round-to-nearest of the 2-D float tensor `w`.
llvm::Expected<QuantizedWeight> quantizeRoundToNearest(const Tensor &w,
                                                       const QuantizeOptions &options);

/// GPTQ of `w` [out, in] against `hessian`, the in x in row-major sum of
/// x x^T over calibration rows. `damping` (a fraction of the mean diagonal)
/// is added to the diagonal; input channels the data never uses are
/// zeroed. Fails when the damped matrix is not positive definite.
llvm::Expected<QuantizedWeight> quantizeGPTQ(const Tensor &w,
                                             std::vector<double> hessian,
                                             const QuantizeOptions &options,
                                             double damping = 0.01);

/// Lower Cholesky factor of the symmetric positive definite n x n
/// row-major `a` (in place; the upper triangle is zeroed). False when a
/// pivot is not positive.
bool choleskyInPlace(std::vector<double> &a, int64_t n);

/// Static (per-tensor) quantization of activations: the numbers of a
/// `!quant.uniform` type. x ~ (clamp(round(x / scale) + zeroPoint, qmin,
/// qmax) - zeroPoint) * scale.
struct ActivationQuant {
  float scale = 1;
  int64_t zeroPoint = 0, qmin = -127, qmax = 127;
  /// x quantized and back, in f32 as the generated code computes it
  /// (multiplying by 1 / scale rounded to f32).
  float roundTrip(float x) const;
};

/// Dynamic (per row) quantization of activations in place: each of `rows`
/// rows of `cols` values rounded to `bits`-bit integers times its scale
/// amax / (2^(bits-1) - 1), in f32 as the generated code computes it.
void roundTripRows(float *data, int64_t rows, int64_t cols, int64_t bits);

/// How a calibrated activation range is chosen from what the layer saw.
enum class RangeMethod {
  MinMax,     ///< the extremes
  Percentile, ///< the given percentile of |x| (symmetric) or of x at both ends
  MSE,        ///< the clipping with the least mean squared rounding error
};

/// The values a calibration run saw at one tensor: exact extremes and a
/// uniform sample (reservoir sampling, deterministic) for percentiles and
/// the MSE search.
class ActivationStats {
public:
  explicit ActivationStats(size_t capacity = 1 << 17) : capacity(capacity) {}
  void add(const float *values, size_t count);
  float min() const { return lo; }
  float max() const { return hi; }
  size_t seen() const { return count; }
  const std::vector<float> &sample() const { return kept; }

private:
  size_t capacity, count = 0;
  float lo = 0, hi = 0;
  std::vector<float> kept;
  uint64_t state = 0x9E3779B97F4A7C15ull;
};

/// The 8-bit static quantization for `stats`: symmetric (int8 in
/// [-127, 127], zero point 0) or asymmetric (uint8 in [0, 255] with a zero
/// point; the range always contains 0 so that zero padding stays exact).
/// `percentile` is in (50, 100] for RangeMethod::Percentile. Fails when the
/// tensor was never seen or was all zeros.
llvm::Expected<ActivationQuant> chooseActivationQuant(const ActivationStats &stats,
                                                      RangeMethod method, bool symmetric,
                                                      double percentile = 99.99);

} // namespace mlir::tfx

#endif // TFX_SUPPORT_QUANTIZE_H
