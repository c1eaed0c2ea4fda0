/*===- run.c - checking a call's tensors and running an entry -------------===*/
#include "model_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Compares a caller's tensor with its signature; NULL when they agree. */
static tfx_status *check_tensor(const tfx_artifact_entry *entry,
                                const char *kind, int32_t index,
                                const tfx_artifact_tensor *expected,
                                const tfx_tensor *actual) {
  int same = actual->dtype == expected->dtype &&
             actual->rank == expected->rank;
  for (int32_t d = 0; same && d < expected->rank; ++d)
    same = actual->shape[d] == expected->shape[d];
  if (!same) {
    char want[256], got[256];
    int32_t rank = actual->rank;
    if (rank < 0 || rank > TFX_ARTIFACT_MAX_RANK)
      rank = 0;
    tfx__format_shape(want, sizeof(want), expected->rank, expected->shape);
    if (actual->rank == rank)
      tfx__format_shape(got, sizeof(got), rank, actual->shape);
    else
      snprintf(got, sizeof(got), "rank %d", (int)actual->rank);
    return tfx__status(TFX_STATUS_INVALID_ARGUMENT,
                       "entry '%s': %s '%s' (#%d): expected %s %s, got %s %s",
                       entry->name, kind, expected->name, (int)index,
                       tfx_dtype_name(expected->dtype), want,
                       tfx_dtype_name(actual->dtype), got);
  }
  if (!actual->data)
    return tfx__status(TFX_STATUS_INVALID_ARGUMENT,
                       "entry '%s': %s '%s' (#%d) has no data", entry->name,
                       kind, expected->name, (int)index);
  if ((uintptr_t)actual->data % tfx_dtype_size(expected->dtype) != 0)
    return tfx__status(TFX_STATUS_INVALID_ARGUMENT,
                       "entry '%s': %s '%s' (#%d): data is not aligned to "
                       "its %u-byte elements",
                       entry->name, kind, expected->name, (int)index,
                       (unsigned)tfx_dtype_size(expected->dtype));
  return NULL;
}

static tfx_status *check_count(const tfx_artifact_entry *entry,
                               const char *kind, int32_t expected,
                               int32_t actual, const void *array) {
  if (actual == expected && (array || expected == 0))
    return NULL;
  if (actual == expected)
    return tfx__status(TFX_STATUS_INVALID_ARGUMENT,
                       "entry '%s': the %s array is NULL", entry->name, kind);
  /* List the names so that the caller sees what is expected. */
  const tfx_artifact_tensor *list =
      strcmp(kind, "input") == 0 ? entry->inputs : entry->outputs;
  char names[512];
  size_t used = 0;
  names[0] = '\0';
  for (int32_t k = 0; k < expected && used < sizeof(names); ++k)
    used += (size_t)snprintf(names + used, sizeof(names) - used, "%s'%s'",
                             k ? ", " : "", list[k].name);
  return tfx__status(TFX_STATUS_INVALID_ARGUMENT,
                     "entry '%s' takes %d %s%s (%s), got %d", entry->name,
                     (int)expected, kind, expected == 1 ? "" : "s", names,
                     (int)actual);
}

static tfx_status *entry_error(const tfx_model *model,
                               const tfx_artifact_entry *entry, int32_t code) {
  return tfx__status(TFX_STATUS_INVALID_ARGUMENT,
                     "%s: entry '%s' failed with error %d (the generated "
                     "code rejected an input value, e.g. an embedding id "
                     "out of range)",
                     model->label, entry->name, (int)code);
}

static void *take_scratch(tfx_model *model) {
  pthread_mutex_lock(&model->scratch_mutex);
  tfx_scratch *cached = model->free_scratch;
  if (cached)
    model->free_scratch = cached->next;
  pthread_mutex_unlock(&model->scratch_mutex);
  if (cached) {
    void *data = cached->data;
    free(cached);
    return data;
  }
  return tfx__alloc((size_t)model->scratch_bytes);
}

static void give_back_scratch(tfx_model *model, void *data) {
  tfx_scratch *node = malloc(sizeof(*node));
  if (!node) {
    free(data);
    return;
  }
  node->data = data;
  pthread_mutex_lock(&model->scratch_mutex);
  node->next = model->free_scratch;
  model->free_scratch = node;
  pthread_mutex_unlock(&model->scratch_mutex);
}

tfx_status *tfx_model_run(tfx_model *model, tfx_context *context,
                          int32_t entry_index, const tfx_tensor *inputs,
                          int32_t num_inputs, tfx_tensor *outputs,
                          int32_t num_outputs) {
  if (!model)
    return tfx__status(TFX_STATUS_INVALID_ARGUMENT,
                       "tfx_model_run: model is NULL");
  const tfx_artifact_entry *entry = tfx_model_entry(model, entry_index);
  if (!entry)
    return tfx__status(TFX_STATUS_INVALID_ARGUMENT,
                       "%s has %u entry points; there is no entry %d",
                       model->label, (unsigned)model->artifact->num_entries,
                       (int)entry_index);
  tfx_status *status =
      check_count(entry, "input", entry->num_inputs, num_inputs, inputs);
  if (!status)
    status = check_count(entry, "output", entry->num_outputs, num_outputs,
                         outputs);
  for (int32_t k = 0; !status && k < num_inputs; ++k)
    status = check_tensor(entry, "input", k, &entry->inputs[k], &inputs[k]);
  for (int32_t k = 0; !status && k < num_outputs; ++k)
    if (outputs[k].data)
      status =
          check_tensor(entry, "output", k, &entry->outputs[k], &outputs[k]);
  if (status)
    return status;

  /* Pointer arrays for the generated function; at least one element so
   * that an entry without inputs gets a valid pointer. */
  size_t slots = (size_t)num_inputs + (size_t)num_outputs + 1;
  void **pointers = calloc(slots, sizeof(void *));
  char *allocated = calloc((size_t)num_outputs + 1, 1);
  void *scratch = NULL;
  if (!pointers || !allocated)
    goto out_of_memory;
  for (int32_t k = 0; k < num_inputs; ++k)
    pointers[k] = inputs[k].data;
  for (int32_t k = 0; k < num_outputs; ++k) {
    tfx_tensor *out = &outputs[k];
    if (!out->data) {
      const tfx_artifact_tensor *sig = &entry->outputs[k];
      size_t size = tfx_dtype_size(sig->dtype);
      int64_t count = tfx__num_elements(sig->rank, sig->shape, size);
      out->data = tfx__alloc((size_t)count * size);
      if (!out->data)
        goto out_of_memory;
      allocated[k] = 1;
      out->dtype = sig->dtype;
      out->rank = sig->rank;
      memset(out->shape, 0, sizeof(out->shape));
      memcpy(out->shape, sig->shape, sizeof(int64_t) * (size_t)sig->rank);
    }
    pointers[num_inputs + k] = out->data;
  }
  if (model->cuda) {
    int32_t code = 0;
    status = tfx__cuda_run(model, entry, pointers, pointers + num_inputs, 1, &code);
    if (!status && code != 0)
      status = entry_error(model, entry, code);
    goto finish;
  }
  if (model->scratch_bytes) {
    scratch = take_scratch(model);
    if (!scratch)
      goto out_of_memory;
  }

  tfx_exec_env env;
  env.parallel_for = tfx__exec_parallel_for;
  env.pool = tfx__context_pool(context);
  env.scratch = scratch;
  int32_t code = entry->fn(&env, model->weights, pointers,
                           pointers + num_inputs);
  if (code != 0)
    status = entry_error(model, entry, code);
  goto finish;

out_of_memory:
  status = tfx__status(TFX_STATUS_OUT_OF_MEMORY,
                       "%s: out of memory preparing a call of entry '%s'",
                       model->label, entry->name);
finish:
  if (scratch)
    give_back_scratch(model, scratch);
  for (int32_t k = 0; status && allocated && k < num_outputs; ++k)
    if (allocated[k]) {
      tfx_buffer_free(outputs[k].data);
      outputs[k].data = NULL;
    }
  free(pointers);
  free(allocated);
  return status;
}
