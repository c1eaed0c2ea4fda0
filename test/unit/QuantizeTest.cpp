//===- QuantizeTest.cpp - round-to-nearest and GPTQ weight quantization ---===//
//
// Exact round trips of weights already on the grid, group scales, the int4
// range, the Cholesky factor, and GPTQ's promise: on correlated inputs its
// layer output error is below round-to-nearest's, and with an identity
// Hessian it rounds like round-to-nearest; act-order (busiest channels
// first, static group scales) does better when few channels carry the
// input's energy. Static activation ranges: the
// min/max, percentile and MSE choices, symmetric and asymmetric.
//
//===----------------------------------------------------------------------===//

#include "tfx/Support/Quantize.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace mlir::tfx;

namespace {

Tensor randomWeight(int64_t rows, int64_t cols, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  Tensor w = Tensor::floats({rows, cols});
  for (float &v : w.f)
    v = normal(rng);
  return w;
}

/// || (W - Wq) X^T ||^2 over the rows of x [count, cols].
double outputError(const Tensor &w, const Tensor &wq, const std::vector<float> &x,
                   int64_t count) {
  int64_t rows = w.shape[0], cols = w.shape[1];
  double error = 0;
  for (int64_t s = 0; s < count; ++s)
    for (int64_t r = 0; r < rows; ++r) {
      double d = 0;
      for (int64_t c = 0; c < cols; ++c)
        d += ((double)w.f[r * cols + c] - wq.f[r * cols + c]) * x[s * cols + c];
      error += d * d;
    }
  return error;
}

TEST(Quantize, GridValuesRoundTripExactly) {
  // Every row spans the whole int8 grid with scale 0.5.
  Tensor w = Tensor::floats({3, 8});
  for (int64_t r = 0; r < 3; ++r)
    for (int64_t c = 0; c < 8; ++c)
      w.f[r * 8 + c] = 0.5f * (c == 0 ? 127 : (int)(c * 13 - 50 + r));
  QuantizeOptions options;
  options.searchClip = false;
  auto q = quantizeRoundToNearest(w, options);
  ASSERT_TRUE((bool)q) << llvm::toString(q.takeError());
  EXPECT_EQ(q->groupSize, 8);
  EXPECT_EQ(q->scales.size(), 3u);
  EXPECT_FLOAT_EQ(q->scales[0], 0.5f);
  Tensor back = q->dequantized();
  for (size_t k = 0; k < w.f.size(); ++k)
    EXPECT_EQ(back.f[k], w.f[k]) << k;
}

TEST(Quantize, Int4GroupsStayInRange) {
  Tensor w = randomWeight(16, 64, 1);
  QuantizeOptions options;
  options.bits = 4;
  options.groupSize = 16;
  auto q = quantizeRoundToNearest(w, options);
  ASSERT_TRUE((bool)q);
  EXPECT_EQ(q->groups(), 4);
  EXPECT_EQ(q->scales.size(), 64u);
  for (int8_t v : q->q) {
    EXPECT_GE(v, -8);
    EXPECT_LE(v, 7);
  }
  // Each group's error is at most half a step (inside the clipping range)
  // or the clipped amount; overall the relative error of a Gaussian int4
  // quantization is about 10%.
  Tensor back = q->dequantized();
  double diff = 0, norm = 0;
  for (size_t k = 0; k < w.f.size(); ++k) {
    diff += std::pow(back.f[k] - w.f[k], 2);
    norm += w.f[k] * w.f[k];
  }
  EXPECT_LT(std::sqrt(diff / norm), 0.15);
}

TEST(Quantize, ClipSearchNeverIncreasesTheError) {
  Tensor w = randomWeight(32, 128, 2);
  for (unsigned bits : {4u, 8u}) {
    QuantizeOptions plain, searched;
    plain.bits = searched.bits = bits;
    plain.groupSize = searched.groupSize = 32;
    plain.searchClip = false;
    auto a = quantizeRoundToNearest(w, plain), b = quantizeRoundToNearest(w, searched);
    ASSERT_TRUE(a && b);
    Tensor da = a->dequantized(), db = b->dequantized();
    double ea = 0, eb = 0;
    for (size_t k = 0; k < w.f.size(); ++k) {
      ea += std::pow(da.f[k] - w.f[k], 2);
      eb += std::pow(db.f[k] - w.f[k], 2);
    }
    EXPECT_LE(eb, ea * (1 + 1e-9)) << bits;
  }
}

TEST(Quantize, RefusesBadOptions) {
  Tensor w = randomWeight(4, 48, 3);
  QuantizeOptions options;
  options.groupSize = 32;
  auto q = quantizeRoundToNearest(w, options);
  ASSERT_FALSE((bool)q);
  EXPECT_EQ(llvm::toString(q.takeError()),
            "group size 32 does not divide the 48 input channels");
  options.groupSize = 0;
  options.bits = 3;
  auto r = quantizeRoundToNearest(w, options);
  ASSERT_FALSE((bool)r);
  EXPECT_EQ(llvm::toString(r.takeError()),
            "quantization to 3 bits is not supported (8 or 4)");
  auto g = quantizeGPTQ(w, std::vector<double>(10, 0.0), QuantizeOptions());
  ASSERT_FALSE((bool)g);
  EXPECT_EQ(llvm::toString(g.takeError()),
            "GPTQ: the Hessian has 10 entries, expected 48^2");
}

TEST(Quantize, CholeskyReconstructs) {
  int64_t n = 5;
  std::vector<double> a(n * n), m = {4, 2, 0, 1, 0, 2, 5, 1, 0, 1, 0, 1, 6, 2, 0,
                                     1, 0, 2, 7, 1, 0, 1, 0, 1, 3};
  a = m;
  ASSERT_TRUE(choleskyInPlace(a, n));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t k = 0; k < n; ++k)
        s += a[i * n + k] * a[j * n + k];
      EXPECT_NEAR(s, m[i * n + j], 1e-12);
    }
  std::vector<double> indefinite = {1, 2, 2, 1};
  EXPECT_FALSE(choleskyInPlace(indefinite, 2));
}

/// `count` input rows of `cols` channels with strongly correlated channels:
/// `factors` shared random factors mixed into every channel, plus noise,
/// channel c scaled by gain[c] (1 when `gain` is empty).
std::vector<float> correlatedInputs(int64_t count, int64_t cols, int factors, float noise,
                                    unsigned seed, const std::vector<float> &gain = {}) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> mixing(factors * cols);
  for (float &v : mixing)
    v = normal(rng);
  std::vector<float> x(count * cols), f(factors);
  for (int64_t s = 0; s < count; ++s) {
    for (float &v : f)
      v = normal(rng);
    for (int64_t c = 0; c < cols; ++c) {
      float v = noise * normal(rng);
      for (int k = 0; k < factors; ++k)
        v += f[k] * mixing[k * cols + c];
      x[s * cols + c] = gain.empty() ? v : gain[c] * v;
    }
  }
  return x;
}

/// X^T X of `count` rows of `cols` channels.
std::vector<double> hessianOf(const std::vector<float> &x, int64_t count, int64_t cols) {
  std::vector<double> hessian(cols * cols, 0.0);
  for (int64_t s = 0; s < count; ++s)
    for (int64_t i = 0; i < cols; ++i)
      for (int64_t j = 0; j < cols; ++j)
        hessian[i * cols + j] += (double)x[s * cols + i] * x[s * cols + j];
  return hessian;
}

TEST(Quantize, GptqBeatsRoundToNearestOnCorrelatedInputs) {
  int64_t rows = 24, cols = 64, count = 512;
  Tensor w = randomWeight(rows, cols, 4);
  // Inputs with strongly correlated channels: a few factors, plus noise.
  std::vector<float> x = correlatedInputs(count, cols, 8, 0.1f, 5);
  std::vector<double> hessian = hessianOf(x, count, cols);
  for (unsigned bits : {4u, 8u}) {
    QuantizeOptions options;
    options.bits = bits;
    options.groupSize = 32;
    auto rtn = quantizeRoundToNearest(w, options);
    auto gptq = quantizeGPTQ(w, hessian, options);
    ASSERT_TRUE((bool)rtn);
    ASSERT_TRUE((bool)gptq) << llvm::toString(gptq.takeError());
    double eRtn = outputError(w, rtn->dequantized(), x, count);
    double eGptq = outputError(w, gptq->dequantized(), x, count);
    std::printf("int%u output error: rtn %.4g, gptq %.4g (%.2fx)\n", bits, eRtn, eGptq,
                eRtn / eGptq);
    EXPECT_LT(eGptq, 0.7 * eRtn) << bits;
  }
}

TEST(Quantize, GptqWithIdentityHessianIsRoundToNearest) {
  // H = I: no correlations to exploit, every error stays where it is
  // (the damping only scales the diagonal).
  int64_t cols = 32;
  Tensor w = randomWeight(6, cols, 6);
  std::vector<double> identity(cols * cols, 0.0);
  for (int64_t i = 0; i < cols; ++i)
    identity[i * cols + i] = 1;
  QuantizeOptions options;
  options.bits = 4;
  options.groupSize = 16;
  auto rtn = quantizeRoundToNearest(w, options);
  auto gptq = quantizeGPTQ(w, identity, options);
  ASSERT_TRUE(rtn && gptq);
  EXPECT_EQ(rtn->q, gptq->q);
  EXPECT_EQ(rtn->scales, gptq->scales);
}

TEST(Quantize, GptqActOrderHelpsWhenFewChannelsCarryTheEnergy) {
  // Correlated inputs whose energy sits in a few channels spread over the
  // row (outlier features): act-order rounds those first, while every
  // other channel can still absorb their error.
  int64_t rows = 32, cols = 128, count = 1024;
  Tensor w = randomWeight(rows, cols, 8);
  std::vector<float> gain(cols, 1.0f);
  for (int64_t c = 5; c < cols; c += 17)
    gain[c] = 20.0f;
  std::vector<float> x = correlatedInputs(count, cols, 4, 0.3f, 9, gain);
  std::vector<double> hessian = hessianOf(x, count, cols);
  QuantizeOptions options;
  options.bits = 4;
  options.groupSize = 32;
  auto plain = quantizeGPTQ(w, hessian, options);
  options.actOrder = true;
  auto ordered = quantizeGPTQ(w, hessian, options);
  ASSERT_TRUE(plain && ordered);
  double ePlain = outputError(w, plain->dequantized(), x, count);
  double eOrdered = outputError(w, ordered->dequantized(), x, count);
  std::printf("int4 output error: gptq %.4g, gptq act-order %.4g (%.2fx)\n", ePlain, eOrdered,
              ePlain / eOrdered);
  EXPECT_LT(eOrdered, 0.9 * ePlain);
  // Static groups: the scales are the unmodified weight's, as round to
  // nearest chooses them.
  auto rtn = quantizeRoundToNearest(w, options);
  ASSERT_TRUE((bool)rtn);
  EXPECT_EQ(rtn->scales, ordered->scales);
}

TEST(Quantize, GptqActOrderWithIdentityHessianIsRoundToNearest) {
  int64_t cols = 32;
  Tensor w = randomWeight(6, cols, 10);
  std::vector<double> identity(cols * cols, 0.0);
  for (int64_t i = 0; i < cols; ++i)
    identity[i * cols + i] = 1;
  QuantizeOptions options;
  options.bits = 4;
  options.groupSize = 16;
  options.actOrder = true;
  auto rtn = quantizeRoundToNearest(w, options);
  auto gptq = quantizeGPTQ(w, identity, options);
  ASSERT_TRUE(rtn && gptq);
  EXPECT_EQ(rtn->q, gptq->q);
  EXPECT_EQ(rtn->scales, gptq->scales);
}

//===----------------------------------------------------------------------===//
// Static activation quantization
//===----------------------------------------------------------------------===//

/// Mostly small positive values with a few large ones, like the input of a
/// second FFN linear after GELU (lower bound -0.17).
ActivationStats geluLike(size_t count, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> values(count);
  for (float &v : values) {
    float x = normal(rng);
    v = 0.5f * x * (1 + std::erf(x / std::sqrt(2.0f)));
  }
  values[7] = 9.0f; // an outlier
  ActivationStats stats;
  stats.add(values.data(), values.size());
  return stats;
}

double sampleError(const ActivationStats &stats, const ActivationQuant &q) {
  double error = 0;
  for (float v : stats.sample())
    error += std::pow((double)q.roundTrip(v) - v, 2);
  return error;
}

TEST(ActivationQuant, MinMaxSymmetricCoversTheLargestMagnitude) {
  ActivationStats stats;
  std::vector<float> values = {-3.0f, 0.5f, 1.25f, 2.0f};
  stats.add(values.data(), values.size());
  auto q = chooseActivationQuant(stats, RangeMethod::MinMax, /*symmetric=*/true);
  ASSERT_TRUE((bool)q);
  EXPECT_FLOAT_EQ(q->scale, 3.0f / 127);
  EXPECT_EQ(q->zeroPoint, 0);
  EXPECT_EQ(q->qmin, -127);
  EXPECT_EQ(q->qmax, 127);
  EXPECT_NEAR(q->roundTrip(-3.0f), -3.0f, 1e-6);
  EXPECT_NEAR(q->roundTrip(5.0f), 3.0f, 1e-6); // clipped
}

TEST(ActivationQuant, AsymmetricSpendsTheLevelsOnTheRange) {
  ActivationStats stats = geluLike(20000, 1);
  auto sym = chooseActivationQuant(stats, RangeMethod::MinMax, true);
  auto asym = chooseActivationQuant(stats, RangeMethod::MinMax, false);
  ASSERT_TRUE(sym && asym);
  EXPECT_EQ(asym->qmin, 0);
  EXPECT_EQ(asym->qmax, 255);
  // [-0.17, 9] in 255 steps: the zero point sits near the bottom and the
  // step is about half the symmetric one.
  EXPECT_GT(asym->zeroPoint, 0);
  EXPECT_LT(asym->zeroPoint, 10);
  EXPECT_LT(asym->scale, 0.6 * sym->scale);
  EXPECT_EQ(asym->roundTrip(0.0f), 0.0f); // zero stays exact
  EXPECT_NEAR(asym->roundTrip(stats.max()), stats.max(), asym->scale);
  EXPECT_NEAR(asym->roundTrip(stats.min()), stats.min(), asym->scale);
  EXPECT_LT(sampleError(stats, *asym), 0.5 * sampleError(stats, *sym));
}

TEST(ActivationQuant, PercentileClipsTheOutlier) {
  ActivationStats stats = geluLike(20000, 2);
  auto minmax = chooseActivationQuant(stats, RangeMethod::MinMax, true);
  auto all = chooseActivationQuant(stats, RangeMethod::Percentile, true, 100.0);
  auto p999 = chooseActivationQuant(stats, RangeMethod::Percentile, true, 99.9);
  ASSERT_TRUE(minmax && all && p999);
  EXPECT_FLOAT_EQ(all->scale, minmax->scale);
  // The 99.9th percentile of |x| for this distribution is about 3.1.
  EXPECT_LT(p999->scale * 127, 4.0f);
  EXPECT_GT(p999->scale * 127, 2.5f);
  auto bad = chooseActivationQuant(stats, RangeMethod::Percentile, true, 40.0);
  ASSERT_FALSE((bool)bad);
  EXPECT_EQ(llvm::toString(bad.takeError()), "percentile must be in (50, 100], got 40.000000");
}

TEST(ActivationQuant, MseNeverErrsMoreThanMinMax) {
  for (bool symmetric : {true, false}) {
    ActivationStats stats = geluLike(20000, 3);
    auto minmax = chooseActivationQuant(stats, RangeMethod::MinMax, symmetric);
    auto mse = chooseActivationQuant(stats, RangeMethod::MSE, symmetric);
    ASSERT_TRUE(minmax && mse);
    EXPECT_LE(sampleError(stats, *mse), sampleError(stats, *minmax)) << symmetric;
    EXPECT_LT(mse->scale, minmax->scale) << symmetric; // the outlier is clipped
  }
}

TEST(ActivationQuant, RefusesEmptyAndZeroTensors) {
  ActivationStats empty;
  auto e = chooseActivationQuant(empty, RangeMethod::MinMax, true);
  ASSERT_FALSE((bool)e);
  EXPECT_EQ(llvm::toString(e.takeError()), "no calibration values reached this tensor");
  ActivationStats zeros;
  std::vector<float> values(64, 0.0f);
  zeros.add(values.data(), values.size());
  auto z = chooseActivationQuant(zeros, RangeMethod::MSE, false);
  ASSERT_FALSE((bool)z);
  EXPECT_EQ(llvm::toString(z.takeError()), "every calibration value of this tensor is 0");
}

TEST(ActivationQuant, ReservoirIsBoundedExactAtTheEndsAndReproducible) {
  std::vector<float> values(5000);
  for (size_t i = 0; i < values.size(); ++i)
    values[i] = (float)i - 1000;
  ActivationStats a(256), b(256);
  for (size_t i = 0; i < values.size(); i += 100) {
    a.add(values.data() + i, 100);
    b.add(values.data() + i, 100);
  }
  EXPECT_EQ(a.seen(), 5000u);
  EXPECT_EQ(a.sample().size(), 256u);
  EXPECT_EQ(a.min(), -1000.0f);
  EXPECT_EQ(a.max(), 3999.0f);
  EXPECT_EQ(a.sample(), b.sample());
  // A uniform sample: its mean is near the data's (1499.5; sd of the mean
  // of 256 draws is about 90).
  double mean = 0;
  for (float v : a.sample())
    mean += v;
  mean /= 256;
  EXPECT_NEAR(mean, 1499.5, 400);
}

} // namespace
