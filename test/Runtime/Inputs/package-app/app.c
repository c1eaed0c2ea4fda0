/* Opens the artifact linked in by tfx_add_model (weights looked up next to
 * the program) and runs its first entry on x[k] = k. */
#include <stdio.h>
#include <string.h>

#include "tfx/runtime.h"
#include HEADER

int main(int argc, char **argv) {
  char dir[4096] = ".";
  const char *slash = argc > 0 ? strrchr(argv[0], '/') : NULL;
  if (slash && (size_t)(slash - argv[0]) < sizeof(dir)) {
    memcpy(dir, argv[0], (size_t)(slash - argv[0]));
    dir[slash - argv[0]] = '\0';
  }
  tfx_model *model = NULL;
  tfx_status *status = tfx_model_open_embedded(&ARTIFACT, dir, &model);
  float x[12], y[12];
  for (int k = 0; k < 12; ++k)
    x[k] = (float)k;
  tfx_tensor in = {x, TFX_DTYPE_F32, 2, {4, 3}};
  tfx_tensor out = {y, TFX_DTYPE_F32, 2, {4, 3}};
  if (!status)
    status = tfx_model_run(model, NULL, 0, &in, 1, &out, 1);
  if (status) {
    printf("error: %s\n", tfx_status_message(status));
    tfx_status_free(status);
    tfx_model_close(model);
    return 1;
  }
  printf("%s:", tfx_model_artifact(model)->weights ? "embedded" : "sidecar");
  for (int k = 0; k < 12; ++k)
    printf(" %g", y[k]);
  printf("\n");
  tfx_model_close(model);
  return 0;
}
