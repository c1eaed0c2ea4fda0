/*===- scheduler.c - continuous batching ----------------------------------===*
 *
 * Iteration-level scheduling (Yu et al., "Orca", OSDI 2022): every step
 * first admits queued requests, in order, while the batch has a free row
 * and the pool has the blocks their prompt and max_new_tokens need (the
 * blocks are taken at admission, so a running request never runs out);
 * their prompts are prefilled and their first token chosen. Then one decode
 * step runs every running request's pending token through the smallest
 * decode entry that holds them all; each request samples with its own
 * options and history, and leaves the batch, freeing its blocks, as soon as
 * it finishes.
 *===----------------------------------------------------------------------===*/
#include "decoder.h"
#include "generation.h"

#include <stdlib.h>
#include <string.h>

enum { QUEUED, RUNNING, DONE };

typedef struct request {
  int32_t state;
  tfx_generate_options options;
  int64_t *stop_tokens;
  int64_t *prompt;
  int32_t prompt_length;
  int64_t *tokens;
  tfx__generation gen;
  tfx__sequence seq;
  int32_t calls;
  double submitted, finished;
} request;

struct tfx_scheduler {
  tfx__decoder *decoder;
  int32_t max_batch;
  request **requests;
  int32_t num_requests, allocated;
  int32_t first_queued; /* requests before it are running or done */
  int32_t num_running;
  request **batch;      /* max_batch entries */
  tfx__row *rows;
};

tfx_status *tfx_scheduler_create(tfx_model *model, tfx_context *context,
                                 int32_t max_batch, tfx_scheduler **out) {
  if (!out)
    return tfx__status(TFX_STATUS_INVALID_ARGUMENT,
                       "tfx_scheduler_create: out_scheduler is NULL");
  *out = NULL;
  tfx__decoder *d;
  tfx_status *status = tfx__decoder_create(model, context, &d);
  if (status)
    return status;
  int32_t largest = tfx__decoder_max_batch(d);
  if (max_batch == 0)
    max_batch = largest;
  if (max_batch < 1 || max_batch > largest) {
    tfx__decoder_destroy(d);
    return tfx__status(TFX_STATUS_INVALID_ARGUMENT,
                       "max_batch %d: the model's decode entries take 1 to %d "
                       "sequences (tfx-compile --decode-batch)",
                       (int)max_batch, (int)largest);
  }
  tfx_scheduler *s = calloc(1, sizeof(*s));
  if (s) {
    s->batch = calloc((size_t)max_batch, sizeof(request *));
    s->rows = calloc((size_t)max_batch, sizeof(tfx__row));
  }
  if (!s || !s->batch || !s->rows) {
    if (s) {
      free(s->batch);
      free(s->rows);
    }
    free(s);
    tfx__decoder_destroy(d);
    return tfx__status(TFX_STATUS_OUT_OF_MEMORY, "out of memory");
  }
  s->decoder = d;
  s->max_batch = max_batch;
  *out = s;
  return NULL;
}

static void free_request(tfx__decoder *d, request *r) {
  if (r->seq.blocks)
    tfx__sequence_release(d, &r->seq);
  tfx__generation_free(&r->gen);
  free(r->stop_tokens);
  free(r->prompt);
  free(r->tokens);
  free(r);
}

void tfx_scheduler_destroy(tfx_scheduler *s) {
  if (!s)
    return;
  for (int32_t k = 0; k < s->num_requests; ++k)
    free_request(s->decoder, s->requests[k]);
  free(s->requests);
  free(s->batch);
  free(s->rows);
  tfx__decoder_destroy(s->decoder);
  free(s);
}

tfx_status *tfx_scheduler_submit(tfx_scheduler *s, const int64_t *prompt,
                                 int32_t prompt_length,
                                 const tfx_generate_options *options,
                                 int64_t *out_id) {
  if (!s || !out_id)
    return tfx__status(TFX_STATUS_INVALID_ARGUMENT,
                       "tfx_scheduler_submit: scheduler and out_id must not "
                       "be NULL");
  if (s->num_requests == s->allocated) {
    int32_t grown = s->allocated ? 2 * s->allocated : 16;
    request **more = realloc(s->requests, (size_t)grown * sizeof(request *));
    if (!more)
      return tfx__status(TFX_STATUS_OUT_OF_MEMORY, "out of memory");
    s->requests = more;
    s->allocated = grown;
  }
  request *r = calloc(1, sizeof(*r));
  if (!r)
    return tfx__status(TFX_STATUS_OUT_OF_MEMORY, "out of memory");
  if (options)
    r->options = *options;
  else
    tfx_generate_options_init(&r->options);
  r->options.draft = NULL;
  tfx__decoder *d = s->decoder;
  int32_t stops = r->options.num_stop_tokens > 0 ? r->options.num_stop_tokens : 0;
  r->stop_tokens = malloc(sizeof(int64_t) * ((size_t)stops + 1));
  r->prompt = malloc(sizeof(int64_t) * ((size_t)(prompt_length > 0 ? prompt_length : 0) + 1));
  r->tokens = malloc(sizeof(int64_t) *
                     ((size_t)(r->options.max_new_tokens > 0 ? r->options.max_new_tokens : 0) + 1));
  tfx_status *status = NULL;
  if (!r->stop_tokens || !r->prompt || !r->tokens)
    status = tfx__status(TFX_STATUS_OUT_OF_MEMORY, "out of memory");
  if (!status && stops && r->options.stop_tokens)
    memcpy(r->stop_tokens, r->options.stop_tokens, sizeof(int64_t) * (size_t)stops);
  r->options.stop_tokens = r->options.stop_tokens ? r->stop_tokens : NULL;
  if (!status && prompt && prompt_length > 0)
    memcpy(r->prompt, prompt, sizeof(int64_t) * (size_t)prompt_length);
  r->prompt_length = prompt_length;
  if (!status)
    status = tfx__generation_init(&r->gen, &r->options, prompt ? r->prompt : NULL,
                                  prompt_length, r->tokens, d->vocab);
  if (!status && prompt_length > d->capacity)
    status = tfx__status(TFX_STATUS_INVALID_ARGUMENT,
                         "the prompt has %d tokens; the model holds at most %d "
                         "per sequence",
                         (int)prompt_length, (int)d->capacity);
  if (!status) {
    /* A request that needs more blocks than the whole pool would wait
     * forever. */
    tfx__sequence empty;
    memset(&empty, 0, sizeof(empty));
    int32_t need = tfx__blocks_needed(d, &empty,
                                      prompt_length + r->options.max_new_tokens);
    if (need > d->blocks)
      status = tfx__status(TFX_STATUS_INVALID_ARGUMENT,
                           "the request needs %d cache blocks; the pool has "
                           "%d (tfx-compile --kv-blocks)",
                           (int)need, (int)d->blocks);
  }
  if (status) {
    free_request(d, r);
    return tfx__status_prefix(status, "tfx_scheduler_submit");
  }
  r->state = r->gen.finish >= 0 ? DONE : QUEUED;
  r->submitted = tfx__now();
  r->finished = r->submitted;
  *out_id = s->num_requests;
  s->requests[s->num_requests++] = r;
  return NULL;
}

static void finish(tfx_scheduler *s, request *r) {
  if (r->state == RUNNING)
    --s->num_running;
  r->state = DONE;
  r->finished = tfx__now();
  tfx__sequence_release(s->decoder, &r->seq);
}

/* Admits the request: blocks, prefill, first token. */
static tfx_status *admit(tfx_scheduler *s, request *r) {
  tfx__decoder *d = s->decoder;
  int32_t calls = d->calls;
  int32_t need = r->prompt_length + r->options.max_new_tokens;
  tfx_status *status = tfx__sequence_init(d, &r->seq);
  if (!status)
    status = tfx__sequence_reserve(d, &r->seq, need < d->capacity ? need : d->capacity);
  const float *logits = NULL;
  if (!status)
    status = tfx__decoder_prefill(d, &r->seq, r->prompt, r->prompt_length, &logits);
  r->calls += d->calls - calls;
  if (status) {
    r->state = DONE;
    r->finished = tfx__now();
    if (r->seq.blocks)
      tfx__sequence_release(d, &r->seq);
    return status;
  }
  r->state = RUNNING;
  ++s->num_running;
  if (tfx__generation_emit(&r->gen, tfx__sampler_next(&r->gen.sampler, logits)))
    finish(s, r);
  return NULL;
}

tfx_status *tfx_scheduler_step(tfx_scheduler *s, int32_t *num_pending) {
  if (!s)
    return tfx__status(TFX_STATUS_INVALID_ARGUMENT,
                       "tfx_scheduler_step: scheduler is NULL");
  tfx__decoder *d = s->decoder;
  tfx_status *status = NULL;
  /* Admission, in submission order. */
  while (s->first_queued < s->num_requests && s->num_running < s->max_batch) {
    request *r = s->requests[s->first_queued];
    if (r->state != QUEUED) {
      ++s->first_queued;
      continue;
    }
    int32_t need = tfx__blocks_needed(d, &(tfx__sequence){0},
                                      r->prompt_length + r->options.max_new_tokens);
    if (need > d->num_free)
      break; /* waits for a running request to free its blocks */
    ++s->first_queued;
    if ((status = admit(s, r)))
      return tfx__status_prefix(status, "prefill");
  }

  /* One decode step for the running requests. */
  int32_t n = 0;
  for (int32_t k = 0; k < s->first_queued && n < s->max_batch; ++k) {
    request *r = s->requests[k];
    if (r->state != RUNNING)
      continue;
    if (r->seq.length >= d->capacity) {
      r->gen.finish = TFX_FINISH_CONTEXT;
      finish(s, r);
      continue;
    }
    s->batch[n] = r;
    s->rows[n] = (tfx__row){&r->seq, tfx__generation_last(&r->gen), 1,
                            r->seq.length, 1};
    ++n;
  }
  if (n > 0) {
    tfx__step *step = tfx__decoder_find_step(d, n, 1);
    if ((status = tfx__decoder_run(d, step, s->rows, n)))
      return tfx__status_prefix(status, "decode");
    for (int32_t i = 0; i < n; ++i) {
      request *r = s->batch[i];
      ++r->calls;
      const float *logits = step->logits + (size_t)i * (size_t)d->vocab;
      if (tfx__generation_emit(&r->gen, tfx__sampler_next(&r->gen.sampler, logits)))
        finish(s, r);
    }
  }
  if (num_pending) {
    int32_t pending = 0;
    for (int32_t k = 0; k < s->num_requests; ++k)
      pending += s->requests[k]->state != DONE;
    *num_pending = pending;
  }
  return NULL;
}

tfx_status *tfx_scheduler_run(tfx_scheduler *s) {
  int32_t pending = 1;
  while (pending > 0) {
    tfx_status *status = tfx_scheduler_step(s, &pending);
    if (status)
      return status;
  }
  return NULL;
}

tfx_status *tfx_scheduler_result(tfx_scheduler *s, int64_t id,
                                 const int64_t **tokens, int32_t *num_tokens,
                                 int32_t *finished, tfx_generate_stats *stats) {
  if (!s || id < 0 || id >= s->num_requests)
    return tfx__status(TFX_STATUS_NOT_FOUND, "no request %lld",
                       (long long)id);
  request *r = s->requests[id];
  if (tokens)
    *tokens = r->tokens;
  if (num_tokens)
    *num_tokens = r->gen.count;
  if (finished)
    *finished = r->state == DONE;
  if (stats) {
    memset(stats, 0, sizeof(*stats));
    stats->prompt_tokens = r->prompt_length;
    stats->new_tokens = r->gen.count;
    stats->finish_reason = r->gen.finish < 0 ? TFX_FINISH_LENGTH : r->gen.finish;
    stats->model_calls = r->calls;
    stats->prefill_seconds = r->gen.count ? r->gen.first_token - r->submitted : 0.0;
    stats->total_seconds =
        (r->state == DONE ? r->finished : tfx__now()) - r->submitted;
  }
  return NULL;
}
