/*===- sampling.c - choosing the next token from logits -------------------===*/
#include "sampling.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Sorting by value, descending, ties by id: qsort has no context
 * argument, so the values travel with the ids. */
typedef struct ranked {
  float value;
  int32_t id;
} ranked;

static uint64_t splitmix64(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* xoshiro256** (Blackman and Vigna). */
static uint64_t next_u64(uint64_t s[4]) {
  uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double tfx__sampler_uniform(tfx__sampler *s) {
  return (double)(next_u64(s->rng) >> 11) * 0x1.0p-53;
}

tfx_status *tfx__sampler_init(tfx__sampler *s, const tfx_generate_options *o,
                              int32_t vocab) {
  memset(s, 0, sizeof(*s));
  if (!(o->temperature >= 0.0f) || !(o->top_p > 0.0f && o->top_p <= 1.0f) ||
      o->top_k < 0 || !(o->repetition_penalty > 0.0f))
    return tfx__status(TFX_STATUS_INVALID_ARGUMENT,
                       "sampling options out of range: temperature %g (>= 0), "
                       "top_k %d (>= 0), top_p %g (in (0, 1]), "
                       "repetition_penalty %g (> 0)",
                       (double)o->temperature, (int)o->top_k, (double)o->top_p,
                       (double)o->repetition_penalty);
  s->temperature = o->temperature;
  s->top_k = o->top_k;
  s->top_p = o->top_p;
  s->repetition_penalty = o->repetition_penalty;
  s->vocab = vocab;
  uint64_t state = o->seed;
  for (int k = 0; k < 4; ++k)
    s->rng[k] = splitmix64(&state);
  s->seen = calloc((size_t)vocab, sizeof(int32_t));
  s->work = malloc((size_t)vocab * sizeof(float));
  s->probs = malloc((size_t)vocab * sizeof(float));
  s->sorted = malloc((size_t)vocab * sizeof(ranked));
  if (!s->seen || !s->work || !s->probs || !s->sorted) {
    tfx__sampler_free(s);
    return tfx__status(TFX_STATUS_OUT_OF_MEMORY, "out of memory");
  }
  return NULL;
}

void tfx__sampler_free(tfx__sampler *s) {
  free(s->seen);
  free(s->work);
  free(s->probs);
  free(s->sorted);
  s->seen = NULL;
  s->work = NULL;
  s->probs = NULL;
  s->sorted = NULL;
}

int tfx__sampler_greedy(const tfx__sampler *s) {
  return s->temperature == 0.0f || s->top_k == 1;
}

void tfx__sampler_note(tfx__sampler *s, int64_t token, int32_t delta) {
  if (token >= 0 && token < s->vocab)
    s->seen[token] += delta;
}

/* work = the logits with the repetition penalty applied. */
static void penalize(tfx__sampler *s, const float *logits) {
  memcpy(s->work, logits, (size_t)s->vocab * sizeof(float));
  if (s->repetition_penalty == 1.0f)
    return;
  for (int32_t v = 0; v < s->vocab; ++v)
    if (s->seen[v] > 0)
      s->work[v] = s->work[v] > 0.0f ? s->work[v] / s->repetition_penalty
                                     : s->work[v] * s->repetition_penalty;
}

static int32_t argmax(const float *x, int32_t n) {
  int32_t best = 0;
  for (int32_t v = 1; v < n; ++v)
    if (x[v] > x[best])
      best = v;
  return best;
}

static int by_value(const void *a, const void *b) {
  const ranked *x = a, *y = b;
  if (x->value != y->value)
    return x->value > y->value ? -1 : 1;
  return (x->id > y->id) - (x->id < y->id);
}

void tfx__sampler_distribution(tfx__sampler *s, const float *logits,
                               float *probs) {
  int32_t n = s->vocab;
  penalize(s, logits);
  if (tfx__sampler_greedy(s)) {
    memset(probs, 0, (size_t)n * sizeof(float));
    probs[argmax(s->work, n)] = 1.0f;
    return;
  }
  for (int32_t v = 0; v < n; ++v)
    s->work[v] /= s->temperature;
  int filter = (s->top_k > 0 && s->top_k < n) || s->top_p < 1.0f;
  if (filter) {
    ranked *sorted = s->sorted;
    for (int32_t v = 0; v < n; ++v) {
      sorted[v].value = s->work[v];
      sorted[v].id = v;
    }
    qsort(sorted, (size_t)n, sizeof(ranked), by_value);
    /* top-k keeps every token at least as large as the k-th. */
    int32_t kept = n;
    if (s->top_k > 0 && s->top_k < n) {
      kept = s->top_k;
      while (kept < n && sorted[kept].value == sorted[s->top_k - 1].value)
        ++kept;
    }
    double max = sorted[0].value, sum = 0.0;
    for (int32_t r = 0; r < kept; ++r)
      sum += exp((double)sorted[r].value - max);
    /* top-p keeps tokens while the mass ranked above them is below p. */
    double above = 0.0;
    int32_t nucleus = 0;
    while (nucleus < kept && (nucleus == 0 || above < (double)s->top_p)) {
      above += exp((double)sorted[nucleus].value - max) / sum;
      ++nucleus;
    }
    memset(probs, 0, (size_t)n * sizeof(float));
    for (int32_t r = 0; r < nucleus; ++r)
      probs[sorted[r].id] =
          (float)(exp((double)sorted[r].value - max) / sum / above);
    return;
  }
  double max = s->work[argmax(s->work, n)], sum = 0.0;
  for (int32_t v = 0; v < n; ++v)
    sum += exp((double)s->work[v] - max);
  for (int32_t v = 0; v < n; ++v)
    probs[v] = (float)(exp((double)s->work[v] - max) / sum);
}

int64_t tfx__sampler_draw(tfx__sampler *s, const float *probs) {
  double total = 0.0;
  int32_t last = 0;
  for (int32_t v = 0; v < s->vocab; ++v)
    if (probs[v] > 0.0f) {
      total += probs[v];
      last = v;
    }
  double u = tfx__sampler_uniform(s) * total, cum = 0.0;
  for (int32_t v = 0; v < s->vocab; ++v) {
    cum += probs[v];
    if (probs[v] > 0.0f && u < cum)
      return v;
  }
  return last;
}

int64_t tfx__sampler_next(tfx__sampler *s, const float *logits) {
  if (tfx__sampler_greedy(s)) {
    penalize(s, logits);
    return argmax(s->work, s->vocab);
  }
  tfx__sampler_distribution(s, logits, s->probs);
  return tfx__sampler_draw(s, s->probs);
}
