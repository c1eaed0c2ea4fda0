//===- MaskProbe.h - what an attention mask subgraph means ------*- C++ -*-===//
//
// Exporters build the attention mask from the `attention_mask` input with
// dozens of ops (casts, ranges, comparisons, gathers, where). Rather than
// matching each exporter's spelling, the subgraph is evaluated on concrete
// masks and its output compared with the semantics tfx.attention can express.
//
//===----------------------------------------------------------------------===//
#ifndef TFX_PASSES_MASKPROBE_H
#define TFX_PASSES_MASKPROBE_H

#include "mlir/IR/Value.h"
#include "llvm/ADT/ArrayRef.h"

#include <map>
#include <optional>
#include <vector>

namespace mlir::tfx::raise {

/// One way a mask reaches the scores of softmax(scores).
struct MaskTerm {
  enum Kind {
    Additive,     ///< scores + value; 0 keeps, <= -1e4 (or -inf) hides
    KeepWhereTrue,  ///< where(value, scores, fill)
    KeepWhereFalse, ///< where(value, fill, scores)
  };
  Value value;
  Kind kind = Additive;
  /// Product of the scalar factors applied to the sum after this term was
  /// added (an additive term scaled with the scores).
  double factor = 1.0;
};

/// The meaning of a combination of mask terms, as tfx.attention states it.
struct MaskMeaning {
  bool causal = false;
  /// Sliding window of a causal mask (0: none): only the last `window` keys
  /// up to the query's position are visible.
  int64_t window = 0;
  /// The [batch, kv_len] argument that hides padded keys (nonzero = keep),
  /// or null when the mask does not depend on one.
  Value padding;
};

/// Classifications remembered by the structure of the mask subgraphs: ops,
/// their (uniqued) attributes and types, constants and the argument. Every
/// layer of a model repeats or shares one mask computation, so it is probed
/// once; being keyed by content, not by op identity, an entry stays right
/// while the IR is rewritten.
struct MaskProbeCache {
  std::map<std::vector<const void *>, std::optional<MaskMeaning>> entries;
};

/// Classifies the conjunction of `terms` over scores [B, heads, Sq, Sk] as
/// one of: no mask, causal, causal with a sliding window, each with or
/// without padding. Each term must be
/// computed from constants and at most one runtime value, a [B, Sk] integer
/// function argument (the same for every term). The terms are evaluated
/// with the reference interpreter for several concrete masks (all ones,
/// right and left padding, scattered zeros, pseudo-random rows) and a
/// meaning is returned only when it matches every probe exactly.
std::optional<MaskMeaning> classifyMask(llvm::ArrayRef<MaskTerm> terms, int64_t B,
                                        int64_t Sq, int64_t Sk,
                                        MaskProbeCache *cache = nullptr);

} // namespace mlir::tfx::raise

#endif // TFX_PASSES_MASKPROBE_H
