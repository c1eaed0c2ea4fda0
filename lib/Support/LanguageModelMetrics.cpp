//===- LanguageModelMetrics.cpp - perplexity and top-1 agreement ----------===//

#include "tfx/Support/LanguageModelMetrics.h"

#include <cmath>

using namespace mlir::tfx;

double NextTokenLoss::perplexity() const {
  return tokens ? std::exp(nllSum / (double)tokens) : NAN;
}

NextTokenLoss &NextTokenLoss::operator+=(const NextTokenLoss &other) {
  nllSum += other.nllSum;
  tokens += other.tokens;
  return *this;
}

TopOneAgreement &TopOneAgreement::operator+=(const TopOneAgreement &other) {
  same += other.same;
  total += other.total;
  maxAbsDiff = std::max(maxAbsDiff, other.maxAbsDiff);
  return *this;
}

static int64_t argmax(const float *row, int64_t n) {
  int64_t best = 0;
  for (int64_t v = 1; v < n; ++v)
    if (row[v] > row[best])
      best = v;
  return best;
}

llvm::Expected<NextTokenLoss> mlir::tfx::nextTokenLoss(const Tensor &logits,
                                                       const Tensor &ids) {
  if (!logits.isFloat() || logits.rank() != 3 || ids.isFloat() ||
      ids.rank() != 2 || ids.shape[0] != logits.shape[0] ||
      ids.shape[1] != logits.shape[1])
    return llvm::createStringError(
        "perplexity needs float logits [rows, seq, vocab] and integer token "
        "ids [rows, seq]; got logits %s and ids %s",
        logits.shapeString().c_str(), ids.shapeString().c_str());
  int64_t rows = ids.shape[0], seq = ids.shape[1], vocab = logits.shape[2];
  NextTokenLoss loss;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t t = 0; t + 1 < seq; ++t) {
      int64_t target = ids.i[r * seq + t + 1];
      if (target < 0 || target >= vocab)
        return llvm::createStringError(
            "token id %lld at [%lld, %lld] is outside the vocabulary (%lld)",
            (long long)target, (long long)r, (long long)(t + 1),
            (long long)vocab);
      const float *row = logits.f.data() + (r * seq + t) * vocab;
      double maxLogit = row[argmax(row, vocab)], sum = 0.0;
      for (int64_t v = 0; v < vocab; ++v)
        sum += std::exp((double)row[v] - maxLogit);
      loss.nllSum += maxLogit + std::log(sum) - (double)row[target];
      ++loss.tokens;
    }
  }
  return loss;
}

llvm::Expected<TopOneAgreement>
mlir::tfx::topOneAgreement(const Tensor &logits, const Tensor &reference) {
  if (!logits.isFloat() || !reference.isFloat() ||
      logits.shape != reference.shape || logits.rank() < 1)
    return llvm::createStringError(
        "top-1 agreement needs two float logits tensors of one shape; got %s "
        "and %s",
        logits.shapeString().c_str(), reference.shapeString().c_str());
  int64_t vocab = logits.shape.back();
  int64_t positions = vocab ? logits.numElements() / vocab : 0;
  TopOneAgreement agreement;
  for (int64_t p = 0; p < positions; ++p) {
    const float *a = logits.f.data() + p * vocab;
    const float *b = reference.f.data() + p * vocab;
    agreement.same += argmax(a, vocab) == argmax(b, vocab);
    ++agreement.total;
    for (int64_t v = 0; v < vocab; ++v)
      agreement.maxAbsDiff =
          std::max(agreement.maxAbsDiff, (double)std::fabs(a[v] - b[v]));
  }
  return agreement;
}
