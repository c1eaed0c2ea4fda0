/* Calls entry 0 of an artifact linked into this program (an object file
 * and its generated header) with a sequential parallel_for, no runtime.
 *
 * Build: cc -DHEADER='"m.h"' -DARTIFACT=m_artifact -I<artifact.h dir>
 *        -I<header dir> call_entry.c m.o
 * usage: call_entry IN0.bin ... OUT.bin  (raw little-endian tensors in the
 *        entry's input order; writes output 0 raw)
 * Weights are the embedded ones, or ARTIFACT.weights_file read from the
 * current directory. */
#include HEADER

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void sequential_for(void *pool, int64_t count,
                           void (*body)(void *closure, int64_t i),
                           void *closure) {
  (void)pool;
  for (int64_t i = 0; i < count; ++i)
    body(closure, i);
}

static size_t dtype_size(int32_t dtype) {
  switch (dtype) {
  case TFX_DTYPE_F32: case TFX_DTYPE_I32: return 4;
  case TFX_DTYPE_I64: return 8;
  case TFX_DTYPE_F16: case TFX_DTYPE_BF16: return 2;
  default: return 1;
  }
}

static size_t tensor_bytes(const tfx_artifact_tensor *t) {
  size_t n = dtype_size(t->dtype);
  for (int d = 0; d < t->rank; ++d)
    n *= (size_t)t->shape[d];
  return n;
}

static void *aligned(size_t bytes) {
  void *p = aligned_alloc(64, (bytes + 63) / 64 * 64 + 64);
  memset(p, 0, bytes);
  return p;
}

static void *read_file(const char *path, size_t bytes) {
  void *data = aligned(bytes);
  FILE *f = fopen(path, "rb");
  if (!f || fread(data, 1, bytes, f) != bytes) {
    fprintf(stderr, "call_entry: cannot read %zu bytes from %s\n", bytes, path);
    exit(1);
  }
  fclose(f);
  return data;
}

int main(int argc, char **argv) {
  const tfx_artifact *art = &ARTIFACT;
  if (memcmp(art->magic, TFX_ARTIFACT_MAGIC, 8) || art->abi_version != TFX_ARTIFACT_ABI_VERSION) {
    fprintf(stderr, "call_entry: bad descriptor\n");
    return 1;
  }
  const tfx_artifact_entry *entry = &art->entries[0];
  if (argc != entry->num_inputs + 2) {
    fprintf(stderr, "call_entry: entry '%s' takes %d inputs\n", entry->name,
            entry->num_inputs);
    return 2;
  }
  const void *weights = art->weights;
  if (!weights && art->weights_file)
    weights = read_file(art->weights_file, art->weights_size);
  void *inputs[16], *outputs[16];
  for (int k = 0; k < entry->num_inputs; ++k)
    inputs[k] = read_file(argv[1 + k], tensor_bytes(&entry->inputs[k]));
  for (int k = 0; k < entry->num_outputs; ++k)
    outputs[k] = aligned(tensor_bytes(&entry->outputs[k]));
  tfx_exec_env env = {sequential_for, NULL, aligned(entry->scratch_bytes + 1)};
  int32_t status = entry->fn(&env, weights, inputs, outputs);
  printf("entry %s: status %d\n", entry->name, status);
  FILE *f = fopen(argv[argc - 1], "wb");
  fwrite(outputs[0], 1, tensor_bytes(&entry->outputs[0]), f);
  fclose(f);
  return status != 0;
}
