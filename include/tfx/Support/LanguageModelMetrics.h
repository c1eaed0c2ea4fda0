//===- LanguageModelMetrics.h - perplexity and top-1 agreement -*- C++ -*-===//
//
// The two fidelity figures every compression in tfx is stated in: held-out
// perplexity, exp(mean next-token cross-entropy), and top-1 agreement of a
// compressed model's logits with the float model's.
//
//===----------------------------------------------------------------------===//
#ifndef TFX_SUPPORT_LANGUAGEMODELMETRICS_H
#define TFX_SUPPORT_LANGUAGEMODELMETRICS_H

#include "tfx/Support/Tensor.h"

#include "llvm/Support/Error.h"

namespace mlir::tfx {

struct NextTokenLoss {
  double nllSum = 0.0; ///< sum of -log p(token t | tokens < t)
  int64_t tokens = 0;  ///< predicted tokens counted
  double perplexity() const;
  NextTokenLoss &operator+=(const NextTokenLoss &other);
};

/// Cross-entropy of `logits` [rows, seq, vocab] against `ids` [rows, seq]:
/// the logits at position t predict ids[t + 1], so each row contributes
/// seq - 1 tokens (position 0 is never predicted). Computed in double.
llvm::Expected<NextTokenLoss> nextTokenLoss(const Tensor &logits,
                                            const Tensor &ids);

struct TopOneAgreement {
  int64_t same = 0, total = 0; ///< positions whose argmax is equal / all
  double maxAbsDiff = 0.0;     ///< largest |logit - reference logit|
  double rate() const { return total ? (double)same / (double)total : 1.0; }
  TopOneAgreement &operator+=(const TopOneAgreement &other);
};

/// Argmax agreement over the last axis of two logits tensors of one shape.
llvm::Expected<TopOneAgreement> topOneAgreement(const Tensor &logits,
                                                const Tensor &reference);

} // namespace mlir::tfx

#endif // TFX_SUPPORT_LANGUAGEMODELMETRICS_H
