/*===- model_internal.h - the tfx_model object ------------------------------===*/
#ifndef TFX_RUNTIME_MODEL_INTERNAL_H
#define TFX_RUNTIME_MODEL_INTERNAL_H

#include "internal.h"

#include <pthread.h>

/* Scratch buffers are cached per model so that a call does not allocate;
 * concurrent calls each take one. */
typedef struct tfx_scratch {
  struct tfx_scratch *next;
  void *data;
} tfx_scratch;

struct tfx_model {
  const tfx_artifact *artifact;
  void *dl_handle;           /* tfx_model_open: the dlopen handle */
  const void *weights;       /* embedded, or the mapping below */
  void *weights_mapping;     /* sidecar file mapping, or NULL */
  size_t weights_mapping_size;
  uint64_t scratch_bytes;    /* the largest entry's */
  pthread_mutex_t scratch_mutex;
  tfx_scratch *free_scratch;
  char *label;               /* "'path.so'" or "model 'name'", for messages */
  struct tfx_cuda_model *cuda; /* CUDA artifacts: device state (cuda.c) */
};

typedef struct tfx_cuda_model tfx_cuda_model;

/* The artifact's device (ABI 1 descriptors are CPU ones). */
uint32_t tfx__artifact_device(const tfx_artifact *artifact);
/* Bytes of the descriptor a version implies (ABI 1 lacks the device). */
size_t tfx__descriptor_size(uint32_t abi_version);

/* CUDA artifacts: opens the driver and the GPU, loads the kernels and
 * uploads the weights of a model whose weights are loaded. */
tfx_status *tfx__cuda_open(tfx_model *model);
/* Accepts a model without CUDA state. */
void tfx__cuda_close(tfx_model *model);
/* Runs an entry `repeat` times on host tensors (checked by the caller),
 * copying inputs in and outputs back; NULL inputs/outputs: no copies (the
 * device buffers keep the last call's). *code is the generated code's
 * status. */
tfx_status *tfx__cuda_run(tfx_model *model, const tfx_artifact_entry *entry,
                          void *const *inputs, void *const *outputs,
                          int32_t repeat, int32_t *code);

/* Checks every field of a descriptor; `label` names it in messages. */
tfx_status *tfx__validate_artifact(const tfx_artifact *artifact,
                                   const char *label);
/* Validates and maps (or checks) the weights of a validated descriptor. */
tfx_status *tfx__load_weights(tfx_model *model, const char *weights_dir);
/* Frees everything but the model struct's dl handle. */
void tfx__release_weights(tfx_model *model);
/* Checks that a .so file is a complete x86-64 ELF shared object before it
 * is mapped: the loader would fault on a truncated one. */
tfx_status *tfx__check_elf(const char *path);

#endif /* TFX_RUNTIME_MODEL_INTERNAL_H */
