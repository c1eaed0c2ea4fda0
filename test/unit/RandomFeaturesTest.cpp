//===- RandomFeaturesTest.cpp - the projection of random-feature attention ===//
//
// The generator is part of what tfx.attention linear_random means, so its
// first values are pinned (they are those of the independent Python copy
// in test/Codegen/CPU/Inputs/make_attention.py); a larger draw has the
// moments of a standard normal.
//
//===----------------------------------------------------------------------===//

#include "tfx/Support/RandomFeatures.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace mlir::tfx;

TEST(RandomFeaturesTest, PinnedValues) {
  std::vector<float> w = randomFeatureProjection(2, 2, 7);
  ASSERT_EQ(w.size(), 4u);
  EXPECT_FLOAT_EQ(w[0], 1.3649922609329224f);
  EXPECT_FLOAT_EQ(w[1], 0.14452122151851654f);
  EXPECT_FLOAT_EQ(w[2], -0.39652398228645325f);
  EXPECT_FLOAT_EQ(w[3], -0.22759631276130676f);
  EXPECT_EQ(randomFeatureProjection(2, 2, 7), w);
  EXPECT_NE(randomFeatureProjection(2, 2, 8), w);
}

TEST(RandomFeaturesTest, OddCountAndMoments) {
  EXPECT_EQ(randomFeatureProjection(3, 1, 0).size(), 3u);
  std::vector<float> w = randomFeatureProjection(256, 64, 0);
  double sum = 0, squares = 0;
  for (float x : w) {
    sum += x;
    squares += (double)x * x;
  }
  double mean = sum / w.size(), variance = squares / w.size() - mean * mean;
  EXPECT_NEAR(mean, 0.0, 0.02);
  EXPECT_NEAR(variance, 1.0, 0.03);
}
