/*===- decoder.h - step entries, the paged KV pool and sequences ----------===*
 *
 * A decoder compiled with `tfx-compile --decoder` has step entries (see
 * runtime.h, "generation"): each runs T new tokens of B sequences against a
 * pool of key/value cache blocks and returns the logits and the new tokens'
 * keys and values. This file's objects own the pool and the sequences'
 * block lists, feed the entries and store the rows the caller keeps.
 *===----------------------------------------------------------------------===*/
#ifndef TFX_RUNTIME_DECODER_H
#define TFX_RUNTIME_DECODER_H

#include "internal.h"

/* One step entry and its call buffers (inputs and outputs, 64-byte
 * aligned, allocated once). */
typedef struct tfx__step {
  int32_t entry;
  int32_t batch, tokens;
  int64_t *input_ids;     /* [batch, tokens] */
  int64_t *cache_lengths; /* [batch] */
  int32_t *block_table;   /* [batch, max_blocks] */
  float *logits;          /* [batch, tokens, vocab] */
  float *new_k, *new_v;   /* [layers, batch, tokens, kv_width] */
} tfx__step;

typedef struct tfx__decoder {
  tfx_model *model;
  tfx_context *context;
  int32_t vocab, layers, kv_width, block_size, blocks, max_blocks;
  int32_t capacity; /* tokens one sequence may hold: max_blocks * block_size */
  tfx__step *steps;
  int32_t num_steps;
  float *k_cache; /* [blocks, layers, kv_width, block_size] */
  float *v_cache; /* [blocks, layers, block_size, kv_width] */
  int32_t *free_blocks; /* a stack of unused block ids */
  int32_t num_free;
  int32_t calls; /* step-entry calls so far */
} tfx__decoder;

/* A sequence's place in the pool: `length` tokens are cached in
 * blocks[0 .. ceil(length / block_size)). */
typedef struct tfx__sequence {
  int32_t *blocks; /* max_blocks entries, -1 where none is assigned */
  int32_t num_blocks;
  int32_t length;
} tfx__sequence;

/* Finds and checks the step entries; allocates the pool. */
tfx_status *tfx__decoder_create(tfx_model *model, tfx_context *context,
                                tfx__decoder **out);
void tfx__decoder_destroy(tfx__decoder *decoder);

/* The cheapest entry with at least `batch` rows of at least `tokens` tokens
 * (NULL if none); tfx__decoder_prefill_step: the B=1 entry with the most
 * tokens. */
tfx__step *tfx__decoder_find_step(tfx__decoder *decoder, int32_t batch,
                                  int32_t tokens);
tfx__step *tfx__decoder_prefill_step(tfx__decoder *decoder);
/* The largest batch among the entries with the fewest tokens (decode). */
int32_t tfx__decoder_max_batch(const tfx__decoder *decoder);

tfx_status *tfx__sequence_init(tfx__decoder *decoder, tfx__sequence *seq);
/* Gives the sequence's blocks back to the pool. */
void tfx__sequence_release(tfx__decoder *decoder, tfx__sequence *seq);
/* Assigns blocks so that positions [0, tokens) have a place; fails with
 * OUT_OF_MEMORY when the pool is exhausted. */
tfx_status *tfx__sequence_reserve(tfx__decoder *decoder, tfx__sequence *seq,
                                  int32_t tokens);
/* Blocks that tfx__sequence_reserve(seq, tokens) would still take. */
int32_t tfx__blocks_needed(const tfx__decoder *decoder,
                           const tfx__sequence *seq, int32_t tokens);

/* One row of a step call: `count` tokens at positions start, start+1, ...
 * of `seq` (start <= seq->length: rows before the cached length are
 * recomputed, not stored again). Of the computed rows, those at positions
 * [seq->length, start + keep) are stored and seq->length advances to
 * start + keep (keep <= count). */
typedef struct tfx__row {
  tfx__sequence *seq;
  const int64_t *tokens;
  int32_t count, start, keep;
} tfx__row;

/* Runs `step` on rows[0 .. num_rows) (num_rows <= step->batch; the rest are
 * padding) and stores the kept keys and values; the logits of row r, token
 * t are then step->logits + (r * step->tokens + t) * vocab. */
tfx_status *tfx__decoder_run(tfx__decoder *decoder, tfx__step *step,
                             const tfx__row *rows, int32_t num_rows);

/* Stores the keys and values of row r of the step's last call as if it had
 * been run with `row` (a different keep). */
void tfx__decoder_keep(tfx__decoder *decoder, const tfx__step *step,
                       int32_t r, const tfx__row *row);

/* Prefills `seq` (empty) with a prompt, in chunks of the prefill entry;
 * returns the logits of the prompt's last token. */
tfx_status *tfx__decoder_prefill(tfx__decoder *decoder, tfx__sequence *seq,
                                 const int64_t *prompt, int32_t length,
                                 const float **logits);

/* Seconds on a monotonic clock. */
double tfx__now(void);

#endif /* TFX_RUNTIME_DECODER_H */
