/*===- decoder.c - step entries, the paged KV pool and sequences ----------===*/
#include "decoder.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

double tfx__now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The position of the tensor called `name` in `list`, or -1. */
static int32_t find_tensor(const tfx_artifact_tensor *list, int32_t count,
                           const char *name) {
  for (int32_t k = 0; k < count; ++k)
    if (list[k].name && strcmp(list[k].name, name) == 0)
      return k;
  return -1;
}

static int has_shape(const tfx_artifact_tensor *t, int32_t dtype, int32_t rank,
                     const int64_t *shape) {
  if (t->dtype != dtype || t->rank != rank)
    return 0;
  for (int32_t d = 0; d < rank; ++d)
    if (shape[d] >= 0 && t->shape[d] != shape[d])
      return 0;
  return 1;
}

static const char *const kInputs[] = {"input_ids", "cache_lengths",
                                      "block_table", "k_cache", "v_cache"};
static const char *const kOutputs[] = {"logits", "new_k", "new_v"};

/* Checks entry `index` against the step signature; the pool geometry comes
 * from the first step entry and must match in the others. */
static tfx_status *check_step(tfx__decoder *d, const tfx_artifact_entry *e,
                              int32_t *batch, int32_t *tokens) {
  const tfx_model *m = d->model;
  const char *label = tfx_model_artifact(m)->model_name;
  if (e->num_inputs != 5 || e->num_outputs != 3)
    goto bad;
  for (int32_t k = 0; k < 5; ++k)
    if (find_tensor(e->inputs, 5, kInputs[k]) != k)
      goto bad;
  for (int32_t k = 0; k < 3; ++k)
    if (find_tensor(e->outputs, 3, kOutputs[k]) != k)
      goto bad;
  const tfx_artifact_tensor *ids = &e->inputs[0], *kc = &e->inputs[3];
  if (ids->rank != 2 || kc->rank != 4 || e->outputs[0].rank != 3)
    goto bad;
  int64_t b = ids->shape[0], t = ids->shape[1];
  if (d->num_steps == 0) {
    d->blocks = (int32_t)kc->shape[0];
    d->layers = (int32_t)kc->shape[1];
    d->kv_width = (int32_t)kc->shape[2];
    d->block_size = (int32_t)kc->shape[3];
    d->max_blocks = (int32_t)e->inputs[2].shape[1];
    d->vocab = (int32_t)e->outputs[0].shape[2];
  }
  int64_t n = d->blocks, l = d->layers, w = d->kv_width, s = d->block_size;
  int64_t ids_shape[] = {b, t}, len_shape[] = {b}, table_shape[] = {b, d->max_blocks};
  int64_t kc_shape[] = {n, l, w, s}, vc_shape[] = {n, l, s, w};
  int64_t logits_shape[] = {b, t, d->vocab}, new_shape[] = {l, b, t, w};
  if (b <= 0 || t <= 0 || n <= 0 || l <= 0 || w <= 0 || s <= 0 ||
      d->max_blocks <= 0 || d->vocab <= 0 ||
      !has_shape(ids, TFX_DTYPE_I64, 2, ids_shape) ||
      !has_shape(&e->inputs[1], TFX_DTYPE_I64, 1, len_shape) ||
      !has_shape(&e->inputs[2], TFX_DTYPE_I32, 2, table_shape) ||
      !has_shape(kc, TFX_DTYPE_F32, 4, kc_shape) ||
      !has_shape(&e->inputs[4], TFX_DTYPE_F32, 4, vc_shape) ||
      !has_shape(&e->outputs[0], TFX_DTYPE_F32, 3, logits_shape) ||
      !has_shape(&e->outputs[1], TFX_DTYPE_F32, 4, new_shape) ||
      !has_shape(&e->outputs[2], TFX_DTYPE_F32, 4, new_shape))
    return tfx__status(TFX_STATUS_CORRUPT_ARTIFACT,
                       "model '%s': entry '%s' has generation tensors whose "
                       "shapes disagree with each other or with the other "
                       "step entries' cache",
                       label ? label : "?", e->name);
  *batch = (int32_t)b;
  *tokens = (int32_t)t;
  return NULL;
bad:
  /* Not a step entry at all (e.g. a forward pass compiled beside). */
  *batch = 0;
  return NULL;
}

static tfx_status *alloc_step(tfx__decoder *d, tfx__step *s) {
  size_t rows = (size_t)s->batch * (size_t)s->tokens;
  size_t kv = (size_t)d->layers * rows * (size_t)d->kv_width;
  s->input_ids = tfx__alloc(rows * sizeof(int64_t));
  s->cache_lengths = tfx__alloc((size_t)s->batch * sizeof(int64_t));
  s->block_table =
      tfx__alloc((size_t)s->batch * (size_t)d->max_blocks * sizeof(int32_t));
  s->logits = tfx__alloc(rows * (size_t)d->vocab * sizeof(float));
  s->new_k = tfx__alloc(kv * sizeof(float));
  s->new_v = tfx__alloc(kv * sizeof(float));
  if (!s->input_ids || !s->cache_lengths || !s->block_table || !s->logits ||
      !s->new_k || !s->new_v)
    return tfx__status(TFX_STATUS_OUT_OF_MEMORY,
                       "out of memory for the buffers of a step entry");
  return NULL;
}

tfx_status *tfx__decoder_create(tfx_model *model, tfx_context *context,
                                tfx__decoder **out) {
  *out = NULL;
  if (!model)
    return tfx__status(TFX_STATUS_INVALID_ARGUMENT, "model is NULL");
  tfx__decoder *d = calloc(1, sizeof(*d));
  int32_t count = tfx_model_num_entries(model);
  if (!d || !(d->steps = calloc((size_t)count + 1, sizeof(tfx__step)))) {
    free(d);
    return tfx__status(TFX_STATUS_OUT_OF_MEMORY, "out of memory");
  }
  d->model = model;
  d->context = context;
  tfx_status *status = NULL;
  for (int32_t i = 0; i < count && !status; ++i) {
    int32_t batch, tokens;
    status = check_step(d, tfx_model_entry(model, i), &batch, &tokens);
    if (status || batch == 0)
      continue;
    tfx__step *s = &d->steps[d->num_steps++];
    s->entry = i;
    s->batch = batch;
    s->tokens = tokens;
    status = alloc_step(d, s);
  }
  if (!status && d->num_steps == 0)
    status = tfx__status(TFX_STATUS_INVALID_ARGUMENT,
                         "model '%s' has no generation entries (compile the "
                         "decoder with tfx-compile --decoder)",
                         tfx_model_artifact(model)->model_name);
  if (!status) {
    d->capacity = d->max_blocks * d->block_size;
    size_t pool = (size_t)d->blocks * (size_t)d->layers *
                  (size_t)d->kv_width * (size_t)d->block_size;
    /* Zero-filled: a slot read before it is written holds 0, not NaN. */
    d->k_cache = tfx__alloc(pool * sizeof(float));
    d->v_cache = tfx__alloc(pool * sizeof(float));
    d->free_blocks = malloc((size_t)d->blocks * sizeof(int32_t));
    if (!d->k_cache || !d->v_cache || !d->free_blocks)
      status = tfx__status(TFX_STATUS_OUT_OF_MEMORY,
                           "out of memory for a KV cache pool of %d blocks",
                           (int)d->blocks);
  }
  if (!status && !tfx__decoder_prefill_step(d))
    status = tfx__status(TFX_STATUS_INVALID_ARGUMENT,
                         "model '%s' has no single-sequence step entry",
                         tfx_model_artifact(model)->model_name);
  if (!status && tfx__decoder_prefill_step(d)->tokens > d->capacity)
    status = tfx__status(TFX_STATUS_CORRUPT_ARTIFACT,
                         "model '%s': the prefill chunk is longer than a "
                         "sequence's capacity",
                         tfx_model_artifact(model)->model_name);
  if (status) {
    tfx__decoder_destroy(d);
    return status;
  }
  /* Lowest ids on top of the stack. */
  for (int32_t k = 0; k < d->blocks; ++k)
    d->free_blocks[k] = d->blocks - 1 - k;
  d->num_free = d->blocks;
  *out = d;
  return NULL;
}

void tfx__decoder_destroy(tfx__decoder *d) {
  if (!d)
    return;
  for (int32_t k = 0; k < d->num_steps; ++k) {
    tfx__step *s = &d->steps[k];
    tfx_buffer_free(s->input_ids);
    tfx_buffer_free(s->cache_lengths);
    tfx_buffer_free(s->block_table);
    tfx_buffer_free(s->logits);
    tfx_buffer_free(s->new_k);
    tfx_buffer_free(s->new_v);
  }
  free(d->steps);
  tfx_buffer_free(d->k_cache);
  tfx_buffer_free(d->v_cache);
  free(d->free_blocks);
  free(d);
}

tfx__step *tfx__decoder_find_step(tfx__decoder *d, int32_t batch,
                                  int32_t tokens) {
  tfx__step *best = NULL;
  for (int32_t k = 0; k < d->num_steps; ++k) {
    tfx__step *s = &d->steps[k];
    if (s->batch < batch || s->tokens < tokens)
      continue;
    if (!best || (int64_t)s->batch * s->tokens <
                     (int64_t)best->batch * best->tokens)
      best = s;
  }
  return best;
}

tfx__step *tfx__decoder_prefill_step(tfx__decoder *d) {
  tfx__step *best = NULL;
  for (int32_t k = 0; k < d->num_steps; ++k)
    if (d->steps[k].batch == 1 && (!best || d->steps[k].tokens > best->tokens))
      best = &d->steps[k];
  return best;
}

int32_t tfx__decoder_max_batch(const tfx__decoder *d) {
  /* Decode entries have the fewest tokens (1; 2 for ONNX decoders). */
  int32_t fewest = 0, best = 0;
  for (int32_t k = 0; k < d->num_steps; ++k)
    if (!fewest || d->steps[k].tokens < fewest)
      fewest = d->steps[k].tokens;
  for (int32_t k = 0; k < d->num_steps; ++k)
    if (d->steps[k].tokens == fewest && d->steps[k].batch > best)
      best = d->steps[k].batch;
  return best;
}

tfx_status *tfx__sequence_init(tfx__decoder *d, tfx__sequence *seq) {
  memset(seq, 0, sizeof(*seq));
  seq->blocks = malloc((size_t)d->max_blocks * sizeof(int32_t));
  if (!seq->blocks)
    return tfx__status(TFX_STATUS_OUT_OF_MEMORY, "out of memory");
  for (int32_t k = 0; k < d->max_blocks; ++k)
    seq->blocks[k] = -1;
  return NULL;
}

void tfx__sequence_release(tfx__decoder *d, tfx__sequence *seq) {
  if (!seq->blocks)
    return;
  for (int32_t k = 0; k < seq->num_blocks; ++k)
    d->free_blocks[d->num_free++] = seq->blocks[k];
  free(seq->blocks);
  memset(seq, 0, sizeof(*seq));
}

int32_t tfx__blocks_needed(const tfx__decoder *d, const tfx__sequence *seq,
                           int32_t tokens) {
  if (tokens > d->capacity)
    tokens = d->capacity;
  int32_t blocks = (tokens + d->block_size - 1) / d->block_size;
  return blocks > seq->num_blocks ? blocks - seq->num_blocks : 0;
}

tfx_status *tfx__sequence_reserve(tfx__decoder *d, tfx__sequence *seq,
                                  int32_t tokens) {
  if (tokens > d->capacity)
    return tfx__status(TFX_STATUS_INVALID_ARGUMENT,
                       "%d tokens exceed a sequence's capacity of %d",
                       (int)tokens, (int)d->capacity);
  int32_t need = tfx__blocks_needed(d, seq, tokens);
  if (need > d->num_free)
    return tfx__status(TFX_STATUS_OUT_OF_MEMORY,
                       "the KV cache pool has %d free blocks, %d more are "
                       "needed",
                       (int)d->num_free, (int)need);
  while (need-- > 0)
    seq->blocks[seq->num_blocks++] = d->free_blocks[--d->num_free];
  return NULL;
}

void tfx__decoder_keep(tfx__decoder *d, const tfx__step *s, int32_t r,
                      const tfx__row *row) {
  int64_t L = d->layers, W = d->kv_width, S = d->block_size;
  for (int32_t t = 0; t < row->keep; ++t) {
    int32_t pos = row->start + t;
    if (pos < row->seq->length)
      continue;
    if (pos / S >= row->seq->num_blocks)
      break; /* not reserved: tfx__decoder_run refuses such rows */
    int64_t block = row->seq->blocks[pos / S], slot = pos % S;
    for (int64_t l = 0; l < L; ++l) {
      size_t src = (size_t)(((l * s->batch + r) * s->tokens + t) * W);
      float *kdst = d->k_cache + ((block * L + l) * W) * S + slot;
      for (int64_t w = 0; w < W; ++w)
        kdst[w * S] = s->new_k[src + (size_t)w];
      memcpy(d->v_cache + ((block * L + l) * S + slot) * W, s->new_v + src,
             (size_t)W * sizeof(float));
    }
  }
  int32_t end = row->start + row->keep;
  if (end > row->seq->num_blocks * (int32_t)S)
    end = row->seq->num_blocks * (int32_t)S;
  if (end > row->seq->length)
    row->seq->length = end;
}

tfx_status *tfx__decoder_run(tfx__decoder *d, tfx__step *s,
                             const tfx__row *rows, int32_t num_rows) {
  if (num_rows > s->batch)
    return tfx__status(TFX_STATUS_INTERNAL, "%d rows for a step of batch %d",
                       (int)num_rows, (int)s->batch);
  memset(s->input_ids, 0, sizeof(int64_t) * (size_t)s->batch * (size_t)s->tokens);
  memset(s->cache_lengths, 0, sizeof(int64_t) * (size_t)s->batch);
  memset(s->block_table, 0,
         sizeof(int32_t) * (size_t)s->batch * (size_t)d->max_blocks);
  for (int32_t r = 0; r < num_rows; ++r) {
    const tfx__row *row = &rows[r];
    if (row->count < 1 || row->count > s->tokens || row->keep < 0 ||
        row->keep > row->count || row->start < 0 ||
        row->start > row->seq->length ||
        row->start + s->tokens > d->capacity ||
        tfx__blocks_needed(d, row->seq, row->start + row->keep) > 0)
      return tfx__status(TFX_STATUS_INTERNAL,
                         "bad step row: %d tokens at %d (keep %d) of a "
                         "sequence of length %d, step of %d tokens, capacity "
                         "%d",
                         (int)row->count, (int)row->start, (int)row->keep,
                         (int)row->seq->length, (int)s->tokens,
                         (int)d->capacity);
    memcpy(s->input_ids + (size_t)r * (size_t)s->tokens, row->tokens,
           sizeof(int64_t) * (size_t)row->count);
    s->cache_lengths[r] = row->start;
    for (int32_t k = 0; k < row->seq->num_blocks; ++k)
      s->block_table[(size_t)r * (size_t)d->max_blocks + (size_t)k] =
          row->seq->blocks[k];
  }

  const tfx_artifact_entry *e = tfx_model_entry(d->model, s->entry);
  void *in_data[5] = {s->input_ids, s->cache_lengths, s->block_table,
                      d->k_cache, d->v_cache};
  void *out_data[3] = {s->logits, s->new_k, s->new_v};
  tfx_tensor inputs[5], outputs[3];
  for (int32_t k = 0; k < 5; ++k) {
    memset(&inputs[k], 0, sizeof(tfx_tensor));
    inputs[k].data = in_data[k];
    inputs[k].dtype = e->inputs[k].dtype;
    inputs[k].rank = e->inputs[k].rank;
    memcpy(inputs[k].shape, e->inputs[k].shape,
           sizeof(int64_t) * (size_t)e->inputs[k].rank);
  }
  for (int32_t k = 0; k < 3; ++k) {
    memset(&outputs[k], 0, sizeof(tfx_tensor));
    outputs[k].data = out_data[k];
    outputs[k].dtype = e->outputs[k].dtype;
    outputs[k].rank = e->outputs[k].rank;
    memcpy(outputs[k].shape, e->outputs[k].shape,
           sizeof(int64_t) * (size_t)e->outputs[k].rank);
  }
  ++d->calls;
  tfx_status *status =
      tfx_model_run(d->model, d->context, s->entry, inputs, 5, outputs, 3);
  if (status)
    return status;
  for (int32_t r = 0; r < num_rows; ++r)
    tfx__decoder_keep(d, s, r, &rows[r]);
  return NULL;
}

tfx_status *tfx__decoder_prefill(tfx__decoder *d, tfx__sequence *seq,
                                 const int64_t *prompt, int32_t length,
                                 const float **logits) {
  tfx__step *s = tfx__decoder_prefill_step(d);
  if (length < 1)
    return tfx__status(TFX_STATUS_INVALID_ARGUMENT,
                       "the prompt must have at least one token");
  if (length > d->capacity)
    return tfx__status(TFX_STATUS_INVALID_ARGUMENT,
                       "the prompt has %d tokens; the model holds at most %d "
                       "per sequence",
                       (int)length, (int)d->capacity);
  tfx_status *status = tfx__sequence_reserve(d, seq, length);
  if (status)
    return status;
  int32_t chunk = s->tokens, start = 0, last = 0;
  while (start < length) {
    tfx__row row = {seq, prompt + start, length - start, start, 0};
    if (row.count > chunk)
      row.count = chunk;
    /* A short tail is run as the prompt's last full chunk, recomputing
     * tokens already cached rather than padding past them: padded
     * positions could run past a learned position table. */
    if (row.count < chunk && length >= chunk) {
      row.start = length - chunk;
      row.tokens = prompt + row.start;
      row.count = chunk;
    }
    row.keep = row.count;
    status = tfx__decoder_run(d, s, &row, 1);
    if (status)
      return status;
    last = row.count - 1;
    start = row.start + row.count;
  }
  *logits = s->logits + (size_t)last * (size_t)d->vocab;
  return NULL;
}
