/*===- status.c - status objects, buffers, dtypes ---------------------------===*/
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tfx_status {
  tfx_status_code code;
  const char *message;
};

/* Returned when a status itself cannot be allocated; never freed. */
static const tfx_status out_of_memory_status = {TFX_STATUS_OUT_OF_MEMORY,
                                                "out of memory"};

tfx_status *tfx__status(tfx_status_code code, const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  int length = vsnprintf(NULL, 0, fmt, args);
  va_end(args);
  if (length < 0)
    length = 0;
  /* The message lives in the same block as the status. */
  tfx_status *status = malloc(sizeof(tfx_status) + (size_t)length + 1);
  if (!status)
    return (tfx_status *)&out_of_memory_status;
  char *message = (char *)(status + 1);
  va_start(args, fmt);
  vsnprintf(message, (size_t)length + 1, fmt, args);
  va_end(args);
  status->code = code;
  status->message = message;
  return status;
}

tfx_status *tfx__status_prefix(tfx_status *status, const char *prefix) {
  if (!status || status == &out_of_memory_status)
    return status;
  tfx_status *result =
      tfx__status(status->code, "%s: %s", prefix, status->message);
  tfx_status_free(status);
  return result;
}

tfx_status_code tfx_status_get_code(const tfx_status *status) {
  return status ? status->code : TFX_STATUS_OK;
}

const char *tfx_status_message(const tfx_status *status) {
  return status ? status->message : "OK";
}

const char *tfx_status_code_name(tfx_status_code code) {
  switch (code) {
  case TFX_STATUS_OK:
    return "OK";
  case TFX_STATUS_INVALID_ARGUMENT:
    return "INVALID_ARGUMENT";
  case TFX_STATUS_NOT_FOUND:
    return "NOT_FOUND";
  case TFX_STATUS_IO_ERROR:
    return "IO_ERROR";
  case TFX_STATUS_CORRUPT_ARTIFACT:
    return "CORRUPT_ARTIFACT";
  case TFX_STATUS_UNSUPPORTED_CPU:
    return "UNSUPPORTED_CPU";
  case TFX_STATUS_OUT_OF_MEMORY:
    return "OUT_OF_MEMORY";
  case TFX_STATUS_INTERNAL:
    return "INTERNAL";
  case TFX_STATUS_UNAVAILABLE:
    return "UNAVAILABLE";
  case TFX_STATUS_DEVICE_ERROR:
    return "DEVICE_ERROR";
  }
  return "UNKNOWN";
}

void tfx_status_free(tfx_status *status) {
  if (status != &out_of_memory_status)
    free(status);
}

void *tfx__alloc(size_t bytes) {
  /* Round up so that the size is a multiple of the alignment, as C11's
   * aligned_alloc wants; posix_memalign would do, but this stays in C. */
  size_t rounded = (bytes + TFX_ALIGNMENT - 1) & ~(size_t)(TFX_ALIGNMENT - 1);
  if (rounded < bytes)
    return NULL;
  if (rounded == 0)
    rounded = TFX_ALIGNMENT;
  void *data = NULL;
  if (posix_memalign(&data, TFX_ALIGNMENT, rounded) != 0)
    return NULL;
  memset(data, 0, rounded);
  return data;
}

void tfx_buffer_free(void *data) { free(data); }

size_t tfx_dtype_size(int32_t dtype) {
  switch (dtype) {
  case TFX_DTYPE_F32:
  case TFX_DTYPE_I32:
    return 4;
  case TFX_DTYPE_F16:
  case TFX_DTYPE_BF16:
    return 2;
  case TFX_DTYPE_I64:
    return 8;
  case TFX_DTYPE_I8:
  case TFX_DTYPE_U8:
  case TFX_DTYPE_BOOL:
    return 1;
  }
  return 0;
}

const char *tfx_dtype_name(int32_t dtype) {
  static const char *const names[] = {"f32", "f16", "bf16", "i64",
                                      "i32", "i8",  "u8",   "bool"};
  if (dtype < 0 || dtype >= (int32_t)(sizeof(names) / sizeof(names[0])))
    return "?";
  return names[dtype];
}

void tfx__format_shape(char *buf, size_t size, int32_t rank,
                       const int64_t *shape) {
  size_t used = 0;
  if (size == 0)
    return;
  buf[0] = '\0';
  used += (size_t)snprintf(buf, size, "[");
  for (int32_t d = 0; d < rank && d < TFX_ARTIFACT_MAX_RANK && used < size;
       ++d)
    used += (size_t)snprintf(buf + used, size - used, "%s%lld", d ? "," : "",
                             (long long)shape[d]);
  if (used < size)
    snprintf(buf + used, size - used, "]");
}

int64_t tfx__num_elements(int32_t rank, const int64_t *shape,
                          size_t element_size) {
  int64_t count = 1;
  const int64_t limit = INT64_MAX / (int64_t)(element_size ? element_size : 1);
  for (int32_t d = 0; d < rank; ++d) {
    if (shape[d] < 0)
      return -1;
    if (shape[d] != 0 && count > limit / shape[d])
      return -1;
    count *= shape[d];
  }
  return count;
}

uint64_t tfx_weights_checksum(const void *data, uint64_t size) {
  const unsigned char *bytes = data;
  uint64_t hash = 14695981039346656037ull;
  uint64_t whole = size / 8;
  for (uint64_t w = 0; w < whole; ++w) {
    uint64_t word;
    /* memcpy: no alignment assumption; little-endian hosts only (x86-64). */
    memcpy(&word, bytes + w * 8, 8);
    hash ^= word;
    hash *= 1099511628211ull;
  }
  if (size % 8) {
    uint64_t word = 0;
    memcpy(&word, bytes + whole * 8, (size_t)(size % 8));
    hash ^= word;
    hash *= 1099511628211ull;
  }
  return hash;
}
