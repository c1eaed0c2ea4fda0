/* Hand-written decoder artifacts with generation step entries (the
 * signature of tfx-compile --decoder, see runtime.h), for the runtime's
 * generation tests. Vocabulary 16, one layer, key/value width 2, blocks of
 * 4 tokens, 12 blocks, 4 blocks (16 tokens) per sequence.
 *
 * Each step stores (token, position) as the key and (token, 1) as the value
 * of a new token, and checks every cached key and value it reads through
 * the block table: a misplaced row makes the entry fail (error 3/4), so a
 * runtime that stores or addresses the cache wrongly cannot pass. The
 * logits of a token at position p, with s the sum of the tokens up to it:
 *
 *   toy_decoder_artifact   one-hot-ish at (3s + p) % 16
 *   toy_draft_artifact     the same, but + 1 where p % 3 == 0 (a draft
 *                          that is right two times in three)
 *   toy_sampling_artifact  log(p % 4 + 1), independent of the history
 *   toy_sampling_draft_artifact  log((p + 2) % 5 + 1)
 *
 * (for the sampling pair, p is the vocabulary index v, not the position). */
#include "tfx/artifact.h"

#include <math.h>
#include <stdint.h>

#define V 16
#define W 2
#define S 4
#define N 12
#define M 4

enum { RULE_TARGET, RULE_DRAFT, RULE_SAMPLE, RULE_SAMPLE_DRAFT };

static void fill_logits(int rule, double sum, int64_t pos, float *logits) {
  for (int v = 0; v < V; ++v) {
    switch (rule) {
    case RULE_TARGET:
    case RULE_DRAFT: {
      int64_t next = ((int64_t)(3 * sum) + pos) % V;
      if (rule == RULE_DRAFT && pos % 3 == 0)
        next = (next + 1) % V;
      logits[v] = v == next ? 5.0f : -0.1f * (float)v;
      break;
    }
    case RULE_SAMPLE:
      logits[v] = logf((float)(v % 4 + 1));
      break;
    default:
      logits[v] = logf((float)((v + 2) % 5 + 1));
      break;
    }
  }
}

static int32_t step(int rule, int64_t batch, int64_t tokens, void *const *in,
                    void *const *out) {
  const int64_t *ids = in[0], *lengths = in[1];
  const int32_t *table = in[2];
  const float *kc = in[3], *vc = in[4];
  float *logits = out[0], *nk = out[1], *nv = out[2];
  for (int64_t b = 0; b < batch; ++b) {
    int64_t length = lengths[b];
    if (length < 0 || length > M * S)
      return 1;
    double sum = 0;
    for (int64_t j = 0; j < length; ++j) {
      int64_t block = table[b * M + j / S], slot = j % S;
      if (block < 0 || block >= N)
        return 2;
      /* k_cache [N,1,W,S], v_cache [N,1,S,W] */
      float token = kc[(block * W + 0) * S + slot];
      if (kc[(block * W + 1) * S + slot] != (float)j)
        return 3;
      if (vc[(block * S + slot) * W + 0] != token ||
          vc[(block * S + slot) * W + 1] != 1.0f)
        return 4;
      sum += token;
    }
    for (int64_t t = 0; t < tokens; ++t) {
      int64_t token = ids[b * tokens + t], pos = length + t;
      if (token < 0 || token >= V)
        return 5;
      sum += (double)token;
      float *k = nk + (b * tokens + t) * W, *v = nv + (b * tokens + t) * W;
      k[0] = (float)token;
      k[1] = (float)pos;
      v[0] = (float)token;
      v[1] = 1.0f;
      fill_logits(rule, sum, pos, logits + (b * tokens + t) * V);
    }
  }
  return 0;
}

#define TOY_ENTRY(rule, name, B, T)                                            \
  static int32_t name(const tfx_exec_env *env, const void *weights,            \
                      void *const *in, void *const *out) {                     \
    (void)env;                                                                 \
    (void)weights;                                                             \
    return step(rule, B, T, in, out);                                          \
  }                                                                            \
  static const tfx_artifact_tensor name##_in[] = {                             \
      {"input_ids", TFX_DTYPE_I64, 2, {B, T}},                                 \
      {"cache_lengths", TFX_DTYPE_I64, 1, {B}},                                \
      {"block_table", TFX_DTYPE_I32, 2, {B, M}},                               \
      {"k_cache", TFX_DTYPE_F32, 4, {N, 1, W, S}},                             \
      {"v_cache", TFX_DTYPE_F32, 4, {N, 1, S, W}}};                            \
  static const tfx_artifact_tensor name##_out[] = {                            \
      {"logits", TFX_DTYPE_F32, 3, {B, T, V}},                                 \
      {"new_k", TFX_DTYPE_F32, 4, {1, B, T, W}},                               \
      {"new_v", TFX_DTYPE_F32, 4, {1, B, T, W}}};

#define TOY_DESC(name, B, T)                                                   \
  { #name, 5, 3, name##_in, name##_out, 0, name }

/* The target: prefill 1x4, decode 3x1 and 1x1, verify 1x3. */
TOY_ENTRY(RULE_TARGET, prefill, 1, 4)
TOY_ENTRY(RULE_TARGET, decode, 3, 1)
TOY_ENTRY(RULE_TARGET, decode_b1, 1, 1)
TOY_ENTRY(RULE_TARGET, verify, 1, 3)
static const tfx_artifact_entry target_entries[] = {
    TOY_DESC(prefill, 1, 4), TOY_DESC(decode, 3, 1),
    TOY_DESC(decode_b1, 1, 1), TOY_DESC(verify, 1, 3)};

/* The draft: prefill 1x2 and decode 1x1. */
TOY_ENTRY(RULE_DRAFT, draft_prefill, 1, 2)
TOY_ENTRY(RULE_DRAFT, draft_decode, 1, 1)
static const tfx_artifact_entry draft_entries[] = {
    TOY_DESC(draft_prefill, 1, 2), TOY_DESC(draft_decode, 1, 1)};

TOY_ENTRY(RULE_SAMPLE, sample_prefill, 1, 4)
TOY_ENTRY(RULE_SAMPLE, sample_decode, 1, 1)
static const tfx_artifact_entry sample_entries[] = {
    TOY_DESC(sample_prefill, 1, 4), TOY_DESC(sample_decode, 1, 1)};

TOY_ENTRY(RULE_SAMPLE_DRAFT, sample_draft_prefill, 1, 4)
TOY_ENTRY(RULE_SAMPLE_DRAFT, sample_draft_decode, 1, 1)
static const tfx_artifact_entry sample_draft_entries[] = {
    TOY_DESC(sample_draft_prefill, 1, 4), TOY_DESC(sample_draft_decode, 1, 1)};

#define TOY_ARTIFACT(symbol, entries, name)                                    \
  const tfx_artifact symbol = {TFX_ARTIFACT_MAGIC,                             \
                               TFX_ARTIFACT_ABI_VERSION,                       \
                               sizeof(entries) / sizeof(entries[0]),           \
                               0,                                              \
                               "x86-64",                                       \
                               name,                                           \
                               0,                                              \
                               0,                                              \
                               0,                                              \
                               0,                                              \
                               entries,                                        \
                               TFX_DEVICE_CPU,                                 \
                               0,                                              \
                               0,                                              \
                               0,                                              \
                               0,                                              \
                               0};

TOY_ARTIFACT(toy_decoder_artifact, target_entries, "toy")
TOY_ARTIFACT(toy_draft_artifact, draft_entries, "toy_draft")
TOY_ARTIFACT(toy_sampling_artifact, sample_entries, "toy_sampling")
TOY_ARTIFACT(toy_sampling_draft_artifact, sample_draft_entries,
             "toy_sampling_draft")
