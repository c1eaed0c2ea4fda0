/* Times entry 0 of a shared-object artifact through libtfxrt.
 *
 * usage: time_artifact MODEL.so THREADS RUNS [GFLOP]
 *
 * Inputs are zeros, except tensors named like "*mask*", which are ones (so
 * that no key is masked). Prints the minimum and median of RUNS runs after
 * one warm-up, and GFLOP/s at the minimum when GFLOP (the work of one run)
 * is given. The machine is shared: the minimum is the figure to quote. */
#include "tfx/runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double clock_ms(clockid_t clock) {
  struct timespec t;
  clock_gettime(clock, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int check(tfx_status *st) {
  if (!st)
    return 0;
  fprintf(stderr, "time_artifact: %s\n", tfx_status_message(st));
  tfx_status_free(st);
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: time_artifact MODEL.so THREADS RUNS [GFLOP]\n");
    return 2;
  }
  int threads = atoi(argv[2]), runs = atoi(argv[3]);
  double gflop = argc > 4 ? atof(argv[4]) : 0.0;
  tfx_context *ctx;
  tfx_model *model;
  if (check(tfx_context_create(threads, &ctx)) ||
      check(tfx_model_open(argv[1], &model)))
    return 1;
  const tfx_artifact_entry *entry = tfx_model_entry(model, 0);
  tfx_tensor inputs[16], outputs[16];
  memset(outputs, 0, sizeof(outputs));
  for (int k = 0; k < entry->num_inputs && k < 16; ++k) {
    const tfx_artifact_tensor *sig = &entry->inputs[k];
    size_t count = 1, size = tfx_dtype_size(sig->dtype);
    for (int d = 0; d < sig->rank; ++d)
      count *= (size_t)sig->shape[d];
    unsigned char *data = aligned_alloc(64, (count * size + 63) / 64 * 64);
    memset(data, 0, count * size);
    if (strstr(sig->name, "mask"))
      for (size_t i = 0; i < count; ++i)
        data[i * size] = 1;
    inputs[k].data = data;
    inputs[k].dtype = sig->dtype;
    inputs[k].rank = sig->rank;
    memcpy(inputs[k].shape, sig->shape, sizeof(sig->shape));
  }
  double *times = calloc((size_t)runs + 1, sizeof(double));
  double *cpu = calloc((size_t)runs + 1, sizeof(double));
  for (int r = 0; r <= runs; ++r) {
    double start = clock_ms(CLOCK_MONOTONIC);
    double cpuStart = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
    if (check(tfx_model_run(model, ctx, 0, inputs, entry->num_inputs, outputs,
                            entry->num_outputs)))
      return 1;
    times[r] = clock_ms(CLOCK_MONOTONIC) - start;
    cpu[r] = clock_ms(CLOCK_PROCESS_CPUTIME_ID) - cpuStart;
  }
  qsort(times + 1, (size_t)runs, sizeof(double), compare);
  qsort(cpu + 1, (size_t)runs, sizeof(double), compare);
  /* On a shared machine the CPU time of the process is the steadier figure
   * (with one thread it is the run time without interference). */
  printf("threads %d: min %.2f ms, median %.2f ms, cpu min %.2f ms",
         tfx_context_num_threads(ctx), times[1], times[1 + runs / 2], cpu[1]);
  if (gflop > 0)
    printf(", %.1f GFLOP/s", gflop / (times[1] / 1e3));
  printf("\n");
  return 0;
}
