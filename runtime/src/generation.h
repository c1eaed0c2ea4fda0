/*===- generation.h - one sequence's generation state ---------------------===*
 *
 * Shared by tfx_generate (generate.c) and the batching scheduler
 * (scheduler.c): the tokens so far, the sampler with the sequence's history,
 * and the rules that end generation.
 *===----------------------------------------------------------------------===*/
#ifndef TFX_RUNTIME_GENERATION_H
#define TFX_RUNTIME_GENERATION_H

#include "sampling.h"

typedef struct tfx__generation {
  const tfx_generate_options *options;
  tfx__sampler sampler;
  int64_t *history; /* the prompt, then the new tokens */
  int32_t prompt_length;
  int64_t *tokens;  /* the new tokens */
  int32_t count;
  int32_t finish;   /* tfx_finish_reason, -1 while running */
  double start, first_token;
} tfx__generation;

/* Checks the options and prompt, sets up the sampler and the history;
 * `tokens` receives the new tokens. */
tfx_status *tfx__generation_init(tfx__generation *g,
                                 const tfx_generate_options *options,
                                 const int64_t *prompt, int32_t prompt_length,
                                 int64_t *tokens, int32_t vocab);
void tfx__generation_free(tfx__generation *g);

/* Takes a new token (streams it, checks stop tokens and the length);
 * returns nonzero once generation has finished. */
int tfx__generation_emit(tfx__generation *g, int64_t token);

/* The token that was chosen last. */
static inline const int64_t *tfx__generation_last(const tfx__generation *g) {
  return &g->history[g->prompt_length + g->count - 1];
}

#endif /* TFX_RUNTIME_GENERATION_H */
