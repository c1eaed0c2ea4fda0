/* tfxrt-probe: drives libtfxrt for the lit tests the way an application
 * would, and prints each status as "error: CODE: message".
 *
 *   tfxrt-probe MODEL.so | embedded:tiny | embedded:tiny_external
 *               [--weights-dir DIR] [--entry NAME] [--threads N]
 *               [--inputs N] [--shape AxB] [--dtype NAME] [--ids A,B]
 *               [--null-data] [--caller-outputs] [--repeat N]
 *
 * Describes the model, then runs the entry on inputs filled with k * 0.5
 * (f32) or --ids (i64); --inputs/--shape/--dtype/--null-data break the
 * first input on purpose. */
#include "tfx/runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const tfx_artifact tiny_artifact;
extern const tfx_artifact tiny_external_artifact;

static int report(tfx_status *status) {
  if (!status)
    return 0;
  printf("error: %s: %s\n", tfx_status_code_name(tfx_status_get_code(status)),
         tfx_status_message(status));
  tfx_status_free(status);
  return 1;
}

static void print_shape(int32_t rank, const int64_t *shape) {
  printf("[");
  for (int32_t d = 0; d < rank; ++d)
    printf("%s%lld", d ? "," : "", (long long)shape[d]);
  printf("]");
}

static void print_signature(const tfx_artifact_tensor *list, int32_t count) {
  for (int32_t k = 0; k < count; ++k) {
    printf("%s%s: %s", k ? ", " : "", list[k].name,
           tfx_dtype_name(list[k].dtype));
    print_shape(list[k].rank, list[k].shape);
  }
}

static void describe(const tfx_model *model) {
  const tfx_artifact *a = tfx_model_artifact(model);
  printf("model '%s' (target %s, %u entries, %llu bytes of weights%s)\n",
         a->model_name, a->target_cpu, (unsigned)a->num_entries,
         (unsigned long long)a->weights_size,
         a->weights ? ", embedded" : a->weights_file ? ", sidecar" : "");
  for (int32_t e = 0; e < tfx_model_num_entries(model); ++e) {
    const tfx_artifact_entry *entry = tfx_model_entry(model, e);
    printf("  %s(", entry->name);
    print_signature(entry->inputs, entry->num_inputs);
    printf(") -> (");
    print_signature(entry->outputs, entry->num_outputs);
    printf(") scratch %llu\n", (unsigned long long)entry->scratch_bytes);
  }
}

static int parse_shape(const char *text, tfx_tensor *t) {
  t->rank = 0;
  while (*text && t->rank < TFX_ARTIFACT_MAX_RANK) {
    char *end;
    t->shape[t->rank++] = strtoll(text, &end, 10);
    if (end == text)
      return 0;
    text = *end == 'x' ? end + 1 : end;
  }
  return 1;
}

static int32_t parse_dtype(const char *name) {
  for (int32_t d = 0; d < 8; ++d)
    if (strcmp(tfx_dtype_name(d), name) == 0)
      return d;
  return 99;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: tfxrt-probe MODEL [options]\n");
    return 2;
  }
  const char *path = argv[1], *weights_dir = NULL, *entry_name = NULL;
  const char *shape = NULL, *dtype = NULL, *ids = NULL;
  int threads = 1, num_inputs = -1, null_data = 0, caller_outputs = 0;
  int repeat = 1;
  for (int k = 2; k < argc; ++k) {
    const char *arg = argv[k], *value = k + 1 < argc ? argv[k + 1] : NULL;
    if (!strcmp(arg, "--null-data"))
      null_data = 1;
    else if (!strcmp(arg, "--caller-outputs"))
      caller_outputs = 1;
    else if (!value) {
      fprintf(stderr, "tfxrt-probe: %s needs a value\n", arg);
      return 2;
    } else if (++k, !strcmp(arg, "--weights-dir"))
      weights_dir = value;
    else if (!strcmp(arg, "--entry"))
      entry_name = value;
    else if (!strcmp(arg, "--threads"))
      threads = atoi(value);
    else if (!strcmp(arg, "--inputs"))
      num_inputs = atoi(value);
    else if (!strcmp(arg, "--shape"))
      shape = value;
    else if (!strcmp(arg, "--dtype"))
      dtype = value;
    else if (!strcmp(arg, "--ids"))
      ids = value;
    else if (!strcmp(arg, "--repeat"))
      repeat = atoi(value);
    else {
      fprintf(stderr, "tfxrt-probe: unknown option %s\n", arg);
      return 2;
    }
  }

  tfx_model *model = NULL;
  tfx_status *status;
  if (!strcmp(path, "embedded:tiny"))
    status = tfx_model_open_embedded(&tiny_artifact, weights_dir, &model);
  else if (!strcmp(path, "embedded:tiny_external"))
    status =
        tfx_model_open_embedded(&tiny_external_artifact, weights_dir, &model);
  else
    status = tfx_model_open(path, &model);
  if (report(status))
    return 1;
  describe(model);

  int32_t entry = entry_name ? tfx_model_find_entry(model, entry_name) : 0;
  if (entry < 0) {
    printf("error: no entry '%s'\n", entry_name);
    tfx_model_close(model);
    return 1;
  }
  const tfx_artifact_entry *sig = tfx_model_entry(model, entry);
  tfx_context *context = NULL;
  if (report(tfx_context_create(threads, &context))) {
    tfx_model_close(model);
    return 1;
  }

  /* Inputs as the signature says, then broken as asked. */
  tfx_tensor inputs[8];
  static double storage[8][64];
  memset(inputs, 0, sizeof(inputs));
  for (int32_t k = 0; k < sig->num_inputs && k < 8; ++k) {
    inputs[k].data = storage[k];
    inputs[k].dtype = sig->inputs[k].dtype;
    inputs[k].rank = sig->inputs[k].rank;
    memcpy(inputs[k].shape, sig->inputs[k].shape, sizeof(inputs[k].shape));
    const char *next = ids;
    for (int n = 0; n < 64; ++n) {
      if (inputs[k].dtype == TFX_DTYPE_F32)
        ((float *)storage[k])[n] = (float)n * 0.5f;
      else if (inputs[k].dtype == TFX_DTYPE_I64) {
        long long id = n % 4;
        if (next && *next) {
          char *end;
          id = strtoll(next, &end, 10);
          next = *end == ',' ? end + 1 : end;
        }
        ((int64_t *)storage[k])[n] = id;
      }
    }
  }
  if (shape && !parse_shape(shape, &inputs[0])) {
    fprintf(stderr, "tfxrt-probe: bad --shape %s\n", shape);
    return 2;
  }
  if (dtype)
    inputs[0].dtype = parse_dtype(dtype);
  if (null_data)
    inputs[0].data = NULL;

  tfx_tensor outputs[8];
  static float output_storage[8][64];
  memset(outputs, 0, sizeof(outputs));
  for (int32_t k = 0; caller_outputs && k < sig->num_outputs && k < 8; ++k) {
    outputs[k].data = output_storage[k];
    outputs[k].dtype = sig->outputs[k].dtype;
    outputs[k].rank = sig->outputs[k].rank;
    memcpy(outputs[k].shape, sig->outputs[k].shape, sizeof(outputs[k].shape));
  }

  int failed = 0;
  for (int r = 0; r < repeat && !failed; ++r) {
    failed = report(tfx_model_run(model, context, entry, inputs,
                                  num_inputs >= 0 ? num_inputs
                                                  : sig->num_inputs,
                                  outputs, sig->num_outputs));
    for (int32_t k = 0; !failed && k < sig->num_outputs; ++k) {
      int64_t count = 1;
      for (int32_t d = 0; d < outputs[k].rank; ++d)
        count *= outputs[k].shape[d];
      if (r + 1 == repeat) {
        printf("%s %s ", sig->outputs[k].name, tfx_dtype_name(outputs[k].dtype));
        print_shape(outputs[k].rank, outputs[k].shape);
        printf(" =");
        for (int64_t n = 0; n < count; ++n)
          printf(" %g", ((float *)outputs[k].data)[n]);
        printf("\n");
      }
      if (!caller_outputs) {
        tfx_buffer_free(outputs[k].data);
        outputs[k].data = NULL;
      }
    }
  }
  tfx_context_destroy(context);
  tfx_model_close(model);
  return failed;
}
