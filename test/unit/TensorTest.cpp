#include "tfx/Support/Tensor.h"

#include <gtest/gtest.h>

using namespace mlir::tfx;

TEST(Tensor, StridesAreRowMajor) {
  EXPECT_EQ(stridesOf({2, 3, 4}), (std::vector<int64_t>{12, 4, 1}));
  EXPECT_EQ(stridesOf({}), (std::vector<int64_t>{}));
}

TEST(Tensor, FactoriesFillAndCount) {
  Tensor t = Tensor::floats({2, 3}, 1.5f);
  EXPECT_EQ(t.numElements(), 6);
  EXPECT_FLOAT_EQ(t.f[5], 1.5f);
  EXPECT_EQ(t.shapeString(), "[2,3]");
  Tensor ids = Tensor::ints({4}, 7);
  EXPECT_FALSE(ids.isFloat());
  EXPECT_EQ(ids.at(3), 7.0);
}
