/*===- internal.h - shared by the runtime's own files ----------------------===*
 *
 * Not installed. Everything here has hidden visibility in libtfxrt.so.
 *===----------------------------------------------------------------------===*/
#ifndef TFX_RUNTIME_INTERNAL_H
#define TFX_RUNTIME_INTERNAL_H

#include "tfx/runtime.h"

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define TFX_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define TFX_PRINTF(fmt, args)
#endif

/* Weights and runtime-allocated buffers are aligned to a cache line, which
 * is also what AVX-512 loads want. */
#define TFX_ALIGNMENT 64

/* A status with a printf-formatted message; the shared out-of-memory status
 * when the message cannot be allocated. */
tfx_status *tfx__status(tfx_status_code code, const char *fmt, ...)
    TFX_PRINTF(2, 3);
/* The same status with "prefix: " put before its message; frees `status`. */
tfx_status *tfx__status_prefix(tfx_status *status, const char *prefix);

/* 64-byte aligned, zero-filled allocation (NULL on failure or overflow). */
void *tfx__alloc(size_t bytes);

/* The tfx_exec_env services of a context (NULL: serial). */
void tfx__exec_parallel_for(void *pool, int64_t count,
                            void (*body)(void *closure, int64_t i),
                            void *closure);
void *tfx__context_pool(tfx_context *context);

/* "[1,128]" into buf. */
void tfx__format_shape(char *buf, size_t size, int32_t rank,
                       const int64_t *shape);
/* Element count of a shape; -1 if a dimension is negative or the product or
 * its byte size overflows. */
int64_t tfx__num_elements(int32_t rank, const int64_t *shape,
                          size_t element_size);

#endif /* TFX_RUNTIME_INTERNAL_H */
