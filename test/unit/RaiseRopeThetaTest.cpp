//===- RaiseRopeThetaTest.cpp - fitting and verifying RoPE tables ---------===//

#include "passes/RaiseUtils.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace mlir::tfx;
using namespace mlir::tfx::raise;

namespace {

/// cos/sin tables [1, 1, seq, dim] as Hugging Face builds them: f32
/// inv_freq = 1 / theta^(2i/dim), f32 angle = pos * inv_freq, both halves
/// alike. `posScale` and `posShift` model position interpolation and an
/// offset; `thetaF` is the f32 theta the f32 power sees.
std::pair<Tensor, Tensor> tables(float thetaF, int64_t seq, int64_t dim,
                                 float posScale = 1.0f, float posShift = 0.0f) {
  Tensor c = Tensor::floats({1, 1, seq, dim}), s = Tensor::floats({1, 1, seq, dim});
  int64_t half = dim / 2;
  for (int64_t p = 0; p < seq; ++p)
    for (int64_t i = 0; i < dim; ++i) {
      float invFreq = 1.0f / std::pow(thetaF, (float)(2 * (i % half)) / (float)dim);
      float angle = ((float)p * posScale + posShift) * invFreq;
      c.f[p * dim + i] = std::cos(angle);
      s.f[p * dim + i] = std::sin(angle);
    }
  return {c, s};
}

TEST(RopeThetaTest, RecoversConfigThetas) {
  for (double theta : {10000.0, 500000.0, 1000000.0}) {
    auto [c, s] = tables((float)theta, 128, 64);
    std::optional<double> fitted = fitRopeTheta(c, s, 128, 64);
    ASSERT_TRUE(fitted) << theta;
    EXPECT_EQ(*fitted, theta);
  }
}

TEST(RopeThetaTest, RecoversANonIntegerTheta) {
  // NTK-aware scaling changes theta to a non-integer value.
  float theta = (float)(10000.0 * std::pow(4.0, 64.0 / 62.0));
  auto [c, s] = tables(theta, 64, 64);
  std::optional<double> fitted = fitRopeTheta(c, s, 64, 64);
  ASSERT_TRUE(fitted);
  // Neighbouring f32 thetas can give the same table; any of them is right.
  EXPECT_NEAR(*fitted / theta, 1.0, 1e-6);
  auto [c2, s2] = tables((float)*fitted, 64, 64);
  for (size_t k = 0; k < c.f.size(); ++k) {
    ASSERT_NEAR(c2.f[k], c.f[k], 1e-6);
    ASSERT_NEAR(s2.f[k], s.f[k], 1e-6);
  }
}

TEST(RopeThetaTest, AcceptsBatchedAndFlatTables) {
  auto [c, s] = tables(10000.0f, 16, 32);
  Tensor c2 = c, s2 = s;
  c2.shape = {16, 32};
  s2.shape = {16, 32};
  EXPECT_TRUE(fitRopeTheta(c2, s2, 16, 32));
  // [B, 1, S, D] with two identical rows.
  Tensor cb = Tensor::floats({2, 1, 16, 32}), sb = Tensor::floats({2, 1, 16, 32});
  for (int b = 0; b < 2; ++b)
    for (size_t k = 0; k < c.f.size(); ++k) {
      cb.f[b * c.f.size() + k] = c.f[k];
      sb.f[b * s.f.size() + k] = s.f[k];
    }
  EXPECT_TRUE(fitRopeTheta(cb, sb, 16, 32));
  // A second batch row at other positions is not 0..S-1.
  auto [cs, ss] = tables(10000.0f, 16, 32, 1.0f, 3.0f);
  for (size_t k = 0; k < c.f.size(); ++k) {
    cb.f[c.f.size() + k] = cs.f[k];
    sb.f[s.f.size() + k] = ss.f[k];
  }
  EXPECT_FALSE(fitRopeTheta(cb, sb, 16, 32));
}

TEST(RopeThetaTest, RejectsOtherPositionsAndNoise) {
  // Positions 1..S (an offset), interpolated positions (pos / 2).
  auto [c1, s1] = tables(10000.0f, 32, 64, 1.0f, 1.0f);
  EXPECT_FALSE(fitRopeTheta(c1, s1, 32, 64));
  auto [c2, s2] = tables(10000.0f, 32, 64, 0.5f);
  EXPECT_FALSE(fitRopeTheta(c2, s2, 32, 64));
  // One entry off by 1e-5.
  auto [c3, s3] = tables(10000.0f, 32, 64);
  c3.f[17 * 64 + 40] += 1e-5f;
  EXPECT_FALSE(fitRopeTheta(c3, s3, 32, 64));
  // cos and sin swapped, or the table shape not [.., S, D].
  auto [c4, s4] = tables(10000.0f, 32, 64);
  EXPECT_FALSE(fitRopeTheta(s4, c4, 32, 64));
  EXPECT_FALSE(fitRopeTheta(c4, s4, 16, 64));
}

} // namespace
