/* A hand-written artifact for the runtime tests: what tfx-compile emits,
 * written in C. Two entries over 72 bytes of f32 weights:
 *   affine(x f32[4,3]) -> y f32[4,3]:   y = x * scale + shift (row-parallel)
 *   gather(ids i64[2]) -> rows f32[2,3]: rows of a 4x3 table, through the
 *                                        scratch buffer; error 1 on a bad id
 * Compile-time variants (-DTFX_TEST_<VARIANT>) make broken descriptors. */
#include "tfx/artifact.h"

#include <stdint.h>
#include <string.h>

#define ROWS 4
#define COLS 3
#define TABLE_ROWS 4
#define IDS 2

/* scale[3], shift[3], table[4][3]; FNV-1a checksum computed independently
 * in Python: 0x8a545854370829bf. */
static const float weight_values[18] __attribute__((aligned(64))) = {
    1, 2, 3, 0.5f, -1, 2, 0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32};
#define WEIGHTS_CHECKSUM 0x8a545854370829bfull

typedef struct affine_closure {
  const float *x, *scale, *shift;
  float *y;
} affine_closure;

static void affine_row(void *closure, int64_t row) {
  const affine_closure *c = closure;
  for (int j = 0; j < COLS; ++j)
    c->y[row * COLS + j] = c->x[row * COLS + j] * c->scale[j] + c->shift[j];
}

static int32_t affine(const tfx_exec_env *env, const void *weights,
                      void *const *inputs, void *const *outputs) {
  const float *w = weights;
  affine_closure closure = {inputs[0], w, w + COLS, outputs[0]};
  env->parallel_for(env->pool, ROWS, affine_row, &closure);
  return 0;
}

static int32_t gather(const tfx_exec_env *env, const void *weights,
                      void *const *inputs, void *const *outputs) {
  const int64_t *ids = inputs[0];
  const float *table = (const float *)weights + 2 * COLS;
  float *staging = env->scratch;
  if (!staging || ((uintptr_t)staging % 64) != 0)
    return 2;
  for (int i = 0; i < IDS; ++i) {
    if (ids[i] < 0 || ids[i] >= TABLE_ROWS)
      return 1;
    memcpy(staging + i * COLS, table + ids[i] * COLS, COLS * sizeof(float));
  }
  memcpy(outputs[0], staging, IDS * COLS * sizeof(float));
  return 0;
}

static const tfx_artifact_tensor affine_inputs[] = {
    {"x", TFX_DTYPE_F32, 2, {ROWS, COLS}}};
static const tfx_artifact_tensor affine_outputs[] = {
    {"y", TFX_DTYPE_F32, 2, {ROWS, COLS}}};
static const tfx_artifact_tensor gather_inputs[] = {
    {"ids", TFX_DTYPE_I64, 1, {IDS}}};
static const tfx_artifact_tensor gather_outputs[] = {
    {"rows", TFX_DTYPE_F32, 2, {IDS, COLS}}};

static const tfx_artifact_entry entries[] __attribute__((used)) = {
    {"affine", 1, 1, affine_inputs, affine_outputs, 0, affine},
    {"gather", 1, 1, gather_inputs, gather_outputs, IDS * COLS * 4, gather},
};

#ifndef TFX_TEST_SYMBOL
#define TFX_TEST_SYMBOL tfx_artifact_main
#endif

#if defined(TFX_TEST_BAD_MAGIC)
#define MAGIC "TFXART\0\x7f"
#else
#define MAGIC TFX_ARTIFACT_MAGIC
#endif

#if defined(TFX_TEST_BAD_ABI)
#define ABI_VERSION 7
#elif defined(TFX_TEST_ABI1)
#define ABI_VERSION 1 /* what tfx-compile wrote before the device fields */
#else
#define ABI_VERSION TFX_ARTIFACT_ABI_VERSION
#endif

/* AMX and AVX512-FP16 are absent on the AMD and pre-Sapphire-Rapids Intel
 * machines this project builds on; bit 40 is not a feature at all. */
#if defined(TFX_TEST_NEEDS_AMX)
#define FEATURES (TFX_CPU_AVX2 | TFX_CPU_AMX_TILE | TFX_CPU_AMX_BF16)
#define TARGET "sapphirerapids"
#elif defined(TFX_TEST_UNKNOWN_FEATURE)
#define FEATURES (TFX_CPU_AVX2 | (1ull << 40))
#define TARGET "future"
#else
#define FEATURES 0
#define TARGET "x86-64"
#endif

#if defined(TFX_TEST_EXTERNAL)
#define WEIGHTS 0
#ifdef TFX_TEST_WEIGHTS_FILE
#define WEIGHTS_FILE TFX_TEST_WEIGHTS_FILE
#else
#define WEIGHTS_FILE "test_external.weights"
#endif
#else
#define WEIGHTS (const uint8_t *)weight_values
#define WEIGHTS_FILE 0
#endif

/* The device fields: a CUDA artifact whose image starts like a cubin (an
 * ELF file) but holds no kernel; one whose image is not an ELF file; an
 * unknown device. */
#if defined(TFX_TEST_CUDA) || defined(TFX_TEST_CUDA_BAD_IMAGE)
static const unsigned char image[64] __attribute__((aligned(64))) =
#if defined(TFX_TEST_CUDA)
    {0x7f, 'E', 'L', 'F', 2, 1, 1, 0x41};
#else
    "PTX text, not a cubin";
#endif
static const char *const kernel_names[] = {"main_kernel"};
#define DEVICE TFX_DEVICE_CUDA, 1, "sm_90", image, sizeof(image), kernel_names
#elif defined(TFX_TEST_BAD_DEVICE)
#define DEVICE 7, 0, 0, 0, 0, 0
#else
#define DEVICE TFX_DEVICE_CPU, 0, 0, 0, 0, 0
#endif

#if defined(TFX_TEST_SMALL_SYMBOL)
__attribute__((visibility("default"))) const int32_t tfx_artifact_main = 1;
#elif !defined(TFX_TEST_NO_SYMBOL)
__attribute__((visibility("default"))) const tfx_artifact TFX_TEST_SYMBOL = {
    MAGIC,        ABI_VERSION,     2,
    FEATURES,     TARGET,          "tiny",
    WEIGHTS,      sizeof(weight_values),
    WEIGHTS_FILE, WEIGHTS_CHECKSUM, entries,
    DEVICE};
#endif

#if !defined(TFX_TEST_OBJECT)
/* Lets a test write the sidecar file with the exact bytes. */
__attribute__((visibility("default"))) const float *tfx_test_weight_values(
    void) {
  return weight_values;
}
#endif
