//===- LanguageModelMetricsTest.cpp - perplexity and top-1 agreement ------===//

#include "tfx/Support/LanguageModelMetrics.h"

#include <cmath>
#include <gtest/gtest.h>

using namespace mlir::tfx;

TEST(LanguageModelMetrics, UniformLogitsHavePerplexityOfTheVocabulary) {
  Tensor logits = Tensor::floats({2, 5, 7}, 0.25f);
  Tensor ids = Tensor::ints({2, 5}, 3);
  auto loss = nextTokenLoss(logits, ids);
  ASSERT_TRUE((bool)loss) << llvm::toString(loss.takeError());
  EXPECT_EQ(loss->tokens, 8); // position 0 of each row is never predicted
  EXPECT_NEAR(loss->perplexity(), 7.0, 1e-12);
}

TEST(LanguageModelMetrics, LossUsesTheNextToken) {
  // One row, vocab 2: position 0 predicts ids[1] = 1 with p = e/(1+e).
  Tensor logits = Tensor::floats({1, 2, 2});
  logits.f = {0.0f, 1.0f, 5.0f, 5.0f};
  Tensor ids = Tensor::ints({1, 2});
  ids.i = {0, 1};
  auto loss = nextTokenLoss(logits, ids);
  ASSERT_TRUE((bool)loss);
  EXPECT_NEAR(loss->nllSum, std::log(1.0 + std::exp(1.0)) - 1.0, 1e-12);
  ids.i = {0, 2};
  auto bad = nextTokenLoss(logits, ids);
  ASSERT_FALSE((bool)bad);
  EXPECT_EQ(llvm::toString(bad.takeError()),
            "token id 2 at [0, 1] is outside the vocabulary (2)");
}

TEST(LanguageModelMetrics, TopOneAgreementCountsArgmaxMatches) {
  Tensor a = Tensor::floats({3, 2});
  a.f = {1, 0, 0, 1, 2, 3};
  Tensor b = Tensor::floats({3, 2});
  b.f = {1, 0.5f, 1, 0, 2, 3};
  auto agreement = topOneAgreement(a, b);
  ASSERT_TRUE((bool)agreement);
  EXPECT_EQ(agreement->same, 2);
  EXPECT_EQ(agreement->total, 3);
  EXPECT_DOUBLE_EQ(agreement->maxAbsDiff, 1.0);
  auto mismatch = topOneAgreement(a, Tensor::floats({2, 3}));
  EXPECT_FALSE((bool)mismatch);
  llvm::consumeError(mismatch.takeError());
}
