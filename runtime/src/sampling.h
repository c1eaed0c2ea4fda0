/*===- sampling.h - choosing the next token from logits -------------------===*
 *
 * The logits processors of Hugging Face's generate(), in its order:
 * repetition penalty (CTRL: a seen token's logit is divided by the penalty
 * when positive, multiplied when negative), temperature, top-k, top-p
 * (nucleus: the smallest set of most likely tokens whose probability
 * reaches p), then a draw from a seeded xoshiro256** generator. Temperature
 * 0 is greedy: the first token of largest (penalized) logit.
 *===----------------------------------------------------------------------===*/
#ifndef TFX_RUNTIME_SAMPLING_H
#define TFX_RUNTIME_SAMPLING_H

#include "internal.h"

typedef struct tfx__sampler {
  float temperature;
  int32_t top_k;
  float top_p;
  float repetition_penalty;
  uint64_t rng[4];
  int32_t vocab;
  int32_t *seen;  /* how often each token occurs in the sequence so far */
  float *work;    /* vocab floats */
  float *probs;   /* vocab floats */
  void *sorted;   /* vocab (value, id) pairs */
} tfx__sampler;

tfx_status *tfx__sampler_init(tfx__sampler *s, const tfx_generate_options *o,
                              int32_t vocab);
void tfx__sampler_free(tfx__sampler *s);
int tfx__sampler_greedy(const tfx__sampler *s);

/* Adds (+1) or removes (-1) a token of the sequence's history. */
void tfx__sampler_note(tfx__sampler *s, int64_t token, int32_t delta);

/* The processed distribution over the vocabulary (sums to 1; a one-hot of
 * the argmax when greedy) into probs. */
void tfx__sampler_distribution(tfx__sampler *s, const float *logits,
                               float *probs);
/* The next token: the argmax when greedy, else a draw. */
int64_t tfx__sampler_next(tfx__sampler *s, const float *logits);
/* A draw from `probs` (non-negative, any positive sum). */
int64_t tfx__sampler_draw(tfx__sampler *s, const float *probs);
/* Uniform in [0, 1). */
double tfx__sampler_uniform(tfx__sampler *s);

#endif /* TFX_RUNTIME_SAMPLING_H */
