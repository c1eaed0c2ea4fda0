/* Runs a model linked into this program: opens the embedded artifact,
 * prints its entry points, runs it on a fixed input and prints the output.
 * Every runtime call returns a status, printed with its code on failure. */
#include <stdio.h>

#include "tfx/runtime.h"
#include "tiny_classifier.h" /* made by tfx_add_model */

static int check(tfx_status *status, const char *what) {
  if (!status)
    return 0;
  fprintf(stderr, "embed-model: %s: %s: %s\n", what,
          tfx_status_code_name(tfx_status_get_code(status)),
          tfx_status_message(status));
  tfx_status_free(status);
  return 1;
}

static void print_tensors(const tfx_artifact_tensor *list, int32_t count) {
  for (int32_t k = 0; k < count; ++k) {
    printf("%s%s: %s[", k ? ", " : "", list[k].name,
           tfx_dtype_name(list[k].dtype));
    for (int32_t d = 0; d < list[k].rank; ++d)
      printf("%s%lld", d ? "x" : "", (long long)list[k].shape[d]);
    printf("]");
  }
}

int main(void) {
  tfx_context *context = NULL;
  tfx_model *model = NULL;
  if (check(tfx_context_create(0, &context), "creating the thread pool"))
    return 1;
  /* Weights are embedded, so no folder is needed. */
  if (check(tfx_model_open_embedded(&tiny_classifier_artifact, NULL, &model),
            "opening the model")) {
    tfx_context_destroy(context);
    return 1;
  }

  const tfx_artifact *artifact = tfx_model_artifact(model);
  printf("model %s, compiled for %s\n", artifact->model_name,
         artifact->target_cpu);
  for (int32_t e = 0; e < tfx_model_num_entries(model); ++e) {
    const tfx_artifact_entry *entry = tfx_model_entry(model, e);
    printf("entry %s(", entry->name);
    print_tensors(entry->inputs, entry->num_inputs);
    printf(") -> ");
    print_tensors(entry->outputs, entry->num_outputs);
    printf("\n");
  }

  int64_t ids[4] = {1, 5, 2, 7};
  tfx_tensor input = {ids, TFX_DTYPE_I64, 2, {1, 4}};
  tfx_tensor output = {0}; /* no data: the runtime allocates it */
  int failed = check(tfx_model_run(model, context, 0, &input, 1, &output, 1),
                     "running the model");
  if (!failed) {
    const float *probs = output.data;
    for (int64_t token = 0; token < output.shape[1]; ++token) {
      printf("token %lld (id %lld):", (long long)token, (long long)ids[token]);
      for (int64_t c = 0; c < output.shape[2]; ++c)
        printf(" %.4f", probs[token * output.shape[2] + c]);
      printf("\n");
    }
  }
  tfx_buffer_free(output.data);
  tfx_model_close(model);
  tfx_context_destroy(context);
  return failed;
}
