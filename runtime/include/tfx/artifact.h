/*===- tfx/artifact.h - the ABI between compiled models and the runtime ---===*
 *
 * A compiled model (an object file, static library or shared object made by
 * `tfx-compile --target cpu`) exports one `tfx_artifact` descriptor. The
 * runtime validates it (magic, ABI version, CPU features, weight checksum)
 * before calling any entry point. Generated code calls back into the runtime
 * only through `tfx_exec_env`, so an artifact links against nothing.
 *
 * This header is C99, has no dependencies, and changes only together with
 * TFX_ARTIFACT_ABI_VERSION.
 *===----------------------------------------------------------------------===*/
#ifndef TFX_ARTIFACT_H
#define TFX_ARTIFACT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TFX_ARTIFACT_MAGIC "TFXART01" /* 8 bytes, no terminator stored */
/* 2 added the device fields at the end of tfx_artifact and tfx_exec_env;
 * runtimes also accept version 1 descriptors (CPU, without those fields). */
#define TFX_ARTIFACT_ABI_VERSION 2u
#define TFX_ARTIFACT_MAX_RANK 8

/* Element types of entry-point tensors. */
typedef enum tfx_dtype {
  TFX_DTYPE_F32 = 0,
  TFX_DTYPE_F16 = 1,
  TFX_DTYPE_BF16 = 2,
  TFX_DTYPE_I64 = 3,
  TFX_DTYPE_I32 = 4,
  TFX_DTYPE_I8 = 5,
  TFX_DTYPE_U8 = 6,
  TFX_DTYPE_BOOL = 7
} tfx_dtype;

/* x86-64 features an artifact may require (cpu_features bit set). */
enum {
  TFX_CPU_SSE42 = 1u << 0,
  TFX_CPU_AVX = 1u << 1,
  TFX_CPU_AVX2 = 1u << 2,
  TFX_CPU_FMA = 1u << 3,
  TFX_CPU_F16C = 1u << 4,
  TFX_CPU_AVX512F = 1u << 5,
  TFX_CPU_AVX512BW = 1u << 6,
  TFX_CPU_AVX512DQ = 1u << 7,
  TFX_CPU_AVX512VL = 1u << 8,
  TFX_CPU_AVX512VNNI = 1u << 9,
  TFX_CPU_AVX512BF16 = 1u << 10,
  /* Sapphire Rapids and later; a runtime refuses bits it does not know. */
  TFX_CPU_AVX512FP16 = 1u << 11,
  TFX_CPU_AMX_TILE = 1u << 12,
  TFX_CPU_AMX_INT8 = 1u << 13,
  TFX_CPU_AMX_BF16 = 1u << 14
};

/* Services the runtime lends generated code for one call. */
typedef struct tfx_exec_env {
  /* Runs body(closure, i) for every i in [0, count), spread over the
   * runtime's thread pool; returns when all have finished. */
  void (*parallel_for)(void *pool, int64_t count,
                       void (*body)(void *closure, int64_t i), void *closure);
  void *pool;
  /* Scratch memory of at least the entry's scratch_bytes, 64-byte aligned
   * (device memory for a CUDA artifact). */
  void *scratch;
  /* CUDA artifacts (NULL otherwise). Launches kernel `kernel` (an index
   * into tfx_artifact.gpu_kernels) on the model's stream with
   * cuLaunchKernel's grid, block, dynamic shared memory and parameter
   * array. A failure is kept in `gpu` and returned by the runtime when the
   * entry finishes; later launches of the call do nothing. */
  void (*gpu_launch)(void *gpu, int32_t kernel, int64_t grid_x, int64_t grid_y,
                     int64_t grid_z, int64_t block_x, int64_t block_y,
                     int64_t block_z, int32_t shared_bytes, void **params);
  /* Copies `bytes` (at most 8) of device memory to `host` once the work
   * launched so far has finished. */
  void (*gpu_read)(void *gpu, void *host, const void *device, int64_t bytes);
  /* An error flag of `bytes` (at most 8) in device memory, written by the
   * work launched so far: the runtime reads it when the call's work is
   * done, and the call fails as if the entry had returned nonzero when it
   * is nonzero. */
  void (*gpu_flag)(void *gpu, const void *device, int64_t bytes);
  void *gpu;
} tfx_exec_env;

/* Where an artifact's entries run. */
typedef enum tfx_device {
  TFX_DEVICE_CPU = 0,
  /* Entries take device pointers (weights, scratch, inputs, outputs) and
   * launch the kernels of gpu_image through tfx_exec_env. */
  TFX_DEVICE_CUDA = 1
} tfx_device;

typedef struct tfx_artifact_tensor {
  const char *name;
  int32_t dtype; /* tfx_dtype */
  int32_t rank;
  int64_t shape[TFX_ARTIFACT_MAX_RANK];
} tfx_artifact_tensor;

/* Returns 0 on success; a non-zero code is an error detected by generated
 * code (e.g. an embedding id out of range). Buffers are dense row-major. */
typedef int32_t (*tfx_entry_fn)(const tfx_exec_env *env, const void *weights,
                                void *const *inputs, void *const *outputs);

typedef struct tfx_artifact_entry {
  const char *name;
  int32_t num_inputs;
  int32_t num_outputs;
  const tfx_artifact_tensor *inputs;
  const tfx_artifact_tensor *outputs;
  uint64_t scratch_bytes;
  tfx_entry_fn fn;
} tfx_artifact_entry;

typedef struct tfx_artifact {
  char magic[8];          /* TFX_ARTIFACT_MAGIC */
  uint32_t abi_version;   /* TFX_ARTIFACT_ABI_VERSION */
  uint32_t num_entries;
  uint64_t cpu_features;  /* TFX_CPU_* bits the code needs */
  const char *target_cpu; /* e.g. "cascadelake" */
  const char *model_name;
  /* Packed weights: embedded (weights != 0) or in the sidecar file
   * `weights_file`, which the runtime maps; 64-byte aligned either way. */
  const uint8_t *weights;
  uint64_t weights_size;
  const char *weights_file;
  /* FNV-1a 64 over the weight bytes taken as little-endian 8-byte words,
   * the last partial word zero-padded (fast enough to check at open). */
  uint64_t weights_checksum;
  const tfx_artifact_entry *entries;
  /* ABI 2. */
  uint32_t device;          /* tfx_device */
  uint32_t num_gpu_kernels;
  const char *gpu_arch;     /* CUDA: the chip of gpu_image ("sm_90") */
  const uint8_t *gpu_image; /* CUDA: the cubin of every kernel */
  uint64_t gpu_image_size;
  const char *const *gpu_kernels; /* CUDA: kernel names, launch indices */
} tfx_artifact;

#ifdef __cplusplus
}
#endif

#endif /* TFX_ARTIFACT_H */
