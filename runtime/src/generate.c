/*===- generate.c - tfx_generate: one sequence, plain or speculative ------===*
 *
 * Plain decoding prefills the prompt, then runs one decode step per token.
 *
 * Speculative decoding (Leviathan et al., "Fast Inference from Transformers
 * via Speculative Decoding", 2023): the pending token x is not yet in the
 * model's cache. The draft proposes d_1..d_k from x, one decode step each;
 * the model runs [x, d_1..d_k] in one call, giving its distributions p_1..
 * p_{k+1}. d_i is accepted with probability min(1, p_i(d_i) / q_i(d_i))
 * (greedy: when it is p_i's argmax); at the first rejection the token is
 * drawn from max(0, p_i - q_i) normalized (greedy: p_i's argmax), and when
 * all are accepted one more from p_{k+1}. That keeps the model's
 * distribution exactly. Only the accepted rows' keys and values enter the
 * model's cache; the draft's cache is cut back to the same length.
 *===----------------------------------------------------------------------===*/
#include "decoder.h"
#include "generation.h"

#include <stdlib.h>
#include <string.h>

void tfx_generate_options_init(tfx_generate_options *o) {
  if (!o)
    return;
  memset(o, 0, sizeof(*o));
  o->max_new_tokens = 64;
  o->top_p = 1.0f;
  o->repetition_penalty = 1.0f;
  o->draft_tokens = 4;
}

tfx_status *tfx__generation_init(tfx__generation *g,
                                 const tfx_generate_options *o,
                                 const int64_t *prompt, int32_t prompt_length,
                                 int64_t *tokens, int32_t vocab) {
  memset(g, 0, sizeof(*g));
  g->options = o;
  g->tokens = tokens;
  g->prompt_length = prompt_length;
  g->finish = -1;
  g->start = tfx__now();
  if (!prompt || prompt_length < 1 || o->max_new_tokens < 0 ||
      o->num_stop_tokens < 0 || (o->num_stop_tokens > 0 && !o->stop_tokens))
    return tfx__status(TFX_STATUS_INVALID_ARGUMENT,
                       "needs a prompt of at least one token, max_new_tokens "
                       ">= 0 (got %d) and a stop-token array for %d stop "
                       "tokens",
                       (int)o->max_new_tokens, (int)o->num_stop_tokens);
  for (int32_t k = 0; k < prompt_length; ++k)
    if (prompt[k] < 0 || prompt[k] >= vocab)
      return tfx__status(TFX_STATUS_INVALID_ARGUMENT,
                         "prompt token %d (%lld) is outside the vocabulary "
                         "[0, %d)",
                         (int)k, (long long)prompt[k], (int)vocab);
  tfx_status *status = tfx__sampler_init(&g->sampler, o, vocab);
  if (status)
    return status;
  g->history = malloc(sizeof(int64_t) *
                      ((size_t)prompt_length + (size_t)o->max_new_tokens + 1));
  if (!g->history)
    return tfx__status(TFX_STATUS_OUT_OF_MEMORY, "out of memory");
  memcpy(g->history, prompt, sizeof(int64_t) * (size_t)prompt_length);
  for (int32_t k = 0; k < prompt_length; ++k)
    tfx__sampler_note(&g->sampler, prompt[k], 1);
  if (o->max_new_tokens == 0)
    g->finish = TFX_FINISH_LENGTH;
  return NULL;
}

void tfx__generation_free(tfx__generation *g) {
  tfx__sampler_free(&g->sampler);
  free(g->history);
  g->history = NULL;
}

int tfx__generation_emit(tfx__generation *g, int64_t token) {
  const tfx_generate_options *o = g->options;
  g->tokens[g->count] = token;
  g->history[g->prompt_length + g->count] = token;
  ++g->count;
  tfx__sampler_note(&g->sampler, token, 1);
  if (g->count == 1)
    g->first_token = tfx__now();
  if (o->on_token && o->on_token(o->user_data, token))
    g->finish = TFX_FINISH_CALLBACK;
  for (int32_t k = 0; g->finish < 0 && k < o->num_stop_tokens; ++k)
    if (o->stop_tokens[k] == token)
      g->finish = TFX_FINISH_STOP;
  if (g->finish < 0 && g->count >= o->max_new_tokens)
    g->finish = TFX_FINISH_LENGTH;
  return g->finish >= 0;
}

static tfx_status *decode_one(tfx__decoder *d, tfx__sequence *seq,
                              const int64_t *token, const float **logits) {
  tfx__step *step = tfx__decoder_find_step(d, 1, 1);
  tfx__row row = {seq, token, 1, seq->length, 1};
  tfx_status *status = tfx__decoder_run(d, step, &row, 1);
  *logits = step->logits;
  return status;
}

static tfx_status *generate_plain(tfx__generation *g, tfx__decoder *d,
                                  tfx__sequence *seq, const float *logits) {
  for (;;) {
    int64_t token = tfx__sampler_next(&g->sampler, logits);
    if (tfx__generation_emit(g, token))
      return NULL;
    if (seq->length >= d->capacity) {
      g->finish = TFX_FINISH_CONTEXT;
      return NULL;
    }
    tfx_status *status =
        decode_one(d, seq, tfx__generation_last(g), &logits);
    if (status)
      return status;
  }
}

/* Feeds the draft the tokens the model has cached and it has not. */
static tfx_status *catch_up(tfx__generation *g, tfx__decoder *draft,
                            tfx__sequence *dseq, int32_t length) {
  while (dseq->length < length) {
    const float *unused;
    tfx_status *status = decode_one(draft, dseq, &g->history[dseq->length], &unused);
    if (status)
      return status;
  }
  return NULL;
}

static tfx_status *generate_speculative(tfx__generation *g, tfx__decoder *d,
                                        tfx__sequence *seq, tfx__decoder *draft,
                                        tfx__sequence *dseq, const float *logits,
                                        tfx_generate_stats *stats) {
  const tfx_generate_options *o = g->options;
  tfx__sampler *s = &g->sampler;
  int32_t k = o->draft_tokens, vocab = d->vocab;
  int greedy = tfx__sampler_greedy(s);
  tfx__step *verify = tfx__decoder_find_step(d, 1, k + 1);
  float *q = malloc((size_t)k * (size_t)vocab * sizeof(float));
  float *p = malloc((size_t)vocab * sizeof(float));
  int64_t *run = malloc((size_t)(k + 1) * sizeof(int64_t));
  tfx_status *status = NULL;
  if (!q || !p || !run) {
    status = tfx__status(TFX_STATUS_OUT_OF_MEMORY, "out of memory");
    goto done;
  }
  if (tfx__generation_emit(g, tfx__sampler_next(s, logits)))
    goto done;
  for (;;) {
    int64_t x = g->tokens[g->count - 1];
    int32_t length = seq->length; /* every token before x */
    int32_t left = o->max_new_tokens - g->count;
    int32_t kk = k < left - 1 ? k : left - 1;
    if (length + verify->tokens > d->capacity ||
        length + kk > draft->capacity)
      kk = 0; /* near the end of the context: plain steps */
    if (kk <= 0) {
      if (length >= d->capacity) {
        g->finish = TFX_FINISH_CONTEXT;
        goto done;
      }
      if ((status = decode_one(d, seq, tfx__generation_last(g),
                               &logits)))
        goto done;
      if (tfx__generation_emit(g, tfx__sampler_next(s, logits)))
        goto done;
      continue;
    }

    /* The draft proposes kk tokens. */
    if ((status = catch_up(g, draft, dseq, length)))
      goto done;
    run[0] = x;
    for (int32_t i = 0; i < kk; ++i) {
      const float *dl;
      if ((status = decode_one(draft, dseq, &run[i], &dl)))
        goto done;
      float *qi = q + (size_t)i * (size_t)vocab;
      tfx__sampler_distribution(s, dl, qi);
      run[i + 1] = tfx__sampler_draw(s, qi);
      tfx__sampler_note(s, run[i + 1], 1);
    }
    for (int32_t i = 1; i <= kk; ++i)
      tfx__sampler_note(s, run[i], -1);

    /* The model checks them in one call; nothing is stored yet. */
    tfx__row row = {seq, run, kk + 1, length, 0};
    if ((status = tfx__decoder_run(d, verify, &row, 1)))
      goto done;
    int32_t accepted = 0, finished = 0;
    int64_t next = -1;
    for (int32_t i = 0; i < kk && !finished; ++i) {
      float *qi = q + (size_t)i * (size_t)vocab;
      tfx__sampler_distribution(s, verify->logits + (size_t)i * (size_t)vocab, p);
      int64_t proposed = run[i + 1];
      int accept = greedy ? p[proposed] > 0.0f
                          : tfx__sampler_uniform(s) * qi[proposed] < p[proposed];
      if (!accept) {
        /* The residual max(0, p - q); p itself when it vanishes. */
        double mass = 0.0;
        for (int32_t v = 0; v < vocab; ++v)
          mass += p[v] > qi[v] ? p[v] - qi[v] : 0.0f;
        if (mass > 0.0)
          for (int32_t v = 0; v < vocab; ++v)
            p[v] = p[v] > qi[v] ? p[v] - qi[v] : 0.0f;
        next = tfx__sampler_draw(s, p);
        break;
      }
      ++accepted;
      finished = tfx__generation_emit(g, proposed);
    }
    if (!finished && next < 0) {
      tfx__sampler_distribution(
          s, verify->logits + (size_t)kk * (size_t)vocab, p);
      next = tfx__sampler_draw(s, p);
    }
    if (stats) {
      stats->draft_proposed += kk;
      stats->draft_accepted += accepted;
    }
    /* x and the accepted tokens enter the model's cache. */
    row.keep = accepted + 1;
    tfx__decoder_keep(d, verify, 0, &row);
    if (dseq->length > seq->length)
      dseq->length = seq->length;
    if (finished || tfx__generation_emit(g, next))
      goto done;
  }
done:
  free(q);
  free(p);
  free(run);
  return status;
}

tfx_status *tfx_generate(tfx_model *model, tfx_context *context,
                         const int64_t *prompt, int32_t prompt_length,
                         const tfx_generate_options *options, int64_t *tokens,
                         int32_t capacity, int32_t *num_tokens,
                         tfx_generate_stats *stats) {
  tfx_generate_options defaults;
  tfx_generate_options_init(&defaults);
  const tfx_generate_options *o = options ? options : &defaults;
  if (!num_tokens || !prompt || (!tokens && o->max_new_tokens > 0))
    return tfx__status(TFX_STATUS_INVALID_ARGUMENT,
                       "tfx_generate: prompt, tokens and num_tokens must not "
                       "be NULL");
  *num_tokens = 0;
  if (stats)
    memset(stats, 0, sizeof(*stats));
  if (capacity < o->max_new_tokens || (o->draft && o->draft_tokens < 1))
    return tfx__status(TFX_STATUS_INVALID_ARGUMENT,
                       "tfx_generate: max_new_tokens %d exceeds the output "
                       "capacity %d, or a draft has draft_tokens < 1",
                       (int)o->max_new_tokens, (int)capacity);

  tfx__generation g;
  memset(&g, 0, sizeof(g));
  g.finish = -1;
  tfx__decoder *d = NULL, *draft = NULL;
  tfx__sequence seq, dseq;
  memset(&seq, 0, sizeof(seq));
  memset(&dseq, 0, sizeof(dseq));
  const float *logits = NULL;
  tfx_status *status = tfx__decoder_create(model, context, &d);
  if (!status && o->draft) {
    status = tfx__decoder_create(o->draft, context, &draft);
    if (status)
      status = tfx__status_prefix(status, "draft model");
    else if (draft->vocab != d->vocab)
      status = tfx__status(TFX_STATUS_INVALID_ARGUMENT,
                           "the draft's vocabulary (%d) differs from the "
                           "model's (%d)",
                           (int)draft->vocab, (int)d->vocab);
    else if (!tfx__decoder_find_step(d, 1, o->draft_tokens + 1))
      status = tfx__status(TFX_STATUS_INVALID_ARGUMENT,
                           "the model has no step entry of %d tokens to check "
                           "%d draft tokens (tfx-compile --verify-tokens)",
                           (int)o->draft_tokens + 1, (int)o->draft_tokens);
  }
  if (!status)
    status = tfx__generation_init(&g, o, prompt, prompt_length, tokens, d->vocab);
  if (!status && g.finish < 0) {
    status = tfx__sequence_init(d, &seq);
    if (!status) {
      int32_t need = prompt_length + o->max_new_tokens;
      status = tfx__sequence_reserve(d, &seq, need < d->capacity ? need : d->capacity);
    }
    if (!status)
      status = tfx__decoder_prefill(d, &seq, prompt, prompt_length, &logits);
  }
  if (!status && g.finish < 0 && draft) {
    const float *unused;
    int32_t need = prompt_length + o->max_new_tokens;
    status = tfx__sequence_init(draft, &dseq);
    if (!status)
      status = tfx__sequence_reserve(draft, &dseq,
                                     need < draft->capacity ? need : draft->capacity);
    if (!status)
      status = tfx__decoder_prefill(draft, &dseq, prompt, prompt_length, &unused);
    if (status)
      status = tfx__status_prefix(status, "draft model");
  }
  if (!status && g.finish < 0)
    status = draft ? generate_speculative(&g, d, &seq, draft, &dseq, logits, stats)
                   : generate_plain(&g, d, &seq, logits);

  *num_tokens = g.count;
  if (stats) {
    stats->prompt_tokens = prompt_length;
    stats->new_tokens = g.count;
    stats->finish_reason = g.finish < 0 ? TFX_FINISH_LENGTH : g.finish;
    stats->model_calls = d ? d->calls : 0;
    stats->draft_calls = draft ? draft->calls : 0;
    stats->prefill_seconds = g.count ? g.first_token - g.start : 0.0;
    stats->total_seconds = tfx__now() - g.start;
  }
  if (d && seq.blocks)
    tfx__sequence_release(d, &seq);
  if (draft && dseq.blocks)
    tfx__sequence_release(draft, &dseq);
  tfx__generation_free(&g);
  tfx__decoder_destroy(d);
  tfx__decoder_destroy(draft);
  return status;
}
