/*===- tfxrt-run.c - run a compiled artifact with nothing but libtfxrt ----===*
 *
 *   tfxrt-run MODEL.so --inputs IN.safetensors [--entry NAME] [--threads N]
 *             [--check REF.safetensors [--rtol R] [--atol A] | [--rel-l2 E]]
 *             [--bench N]
 *
 * The deployment-side twin of `tfx-run --backend cpu|cuda`: it needs no
 * LLVM/MLIR, so it runs where only the runtime is installed (a GPU server,
 * an embedded target). Inputs are the `input.<name>` tensors of IN,
 * converted to the entry's element types; with --check every
 * `output.<name>` of REF is compared as numpy.allclose(out, ref, rtol,
 * atol) would — or, with --rel-l2 E, by ||out - ref|| / ||ref|| <= E (for
 * reduced-precision code) — one line per output ending in OK or FAIL; --bench N times N
 * calls after a warm-up and prints their median. Exit status: 0 when
 * everything ran and passed, 1 otherwise.
 *===----------------------------------------------------------------------===*/
#include "tfx/runtime.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*===------------------------- safetensors files --------------------------===*/

typedef struct {
  char name[256];
  int32_t dtype; /* tfx_dtype, -1 if not one the runtime has */
  int32_t rank;
  int64_t shape[TFX_ARTIFACT_MAX_RANK];
  uint64_t begin, end; /* data offsets */
} st_tensor;

typedef struct {
  unsigned char *data; /* the whole file */
  size_t size;
  size_t base; /* where tensor data starts */
  st_tensor *tensors;
  int count;
  char error[512];
} st_file;

typedef struct {
  const char *at, *end;
  int failed;
} json;

static void skip_space(json *j) {
  while (j->at < j->end && (*j->at == ' ' || *j->at == '\n' || *j->at == '\r' || *j->at == '\t'))
    ++j->at;
}

static int expect(json *j, char c) {
  skip_space(j);
  if (j->at < j->end && *j->at == c) {
    ++j->at;
    return 1;
  }
  j->failed = 1;
  return 0;
}

/* A string into out (truncated to size; escapes other than \" and \\
 * are kept as written, which is enough for tensor names). */
static int parse_string(json *j, char *out, size_t size) {
  if (!expect(j, '"'))
    return 0;
  size_t n = 0;
  while (j->at < j->end && *j->at != '"') {
    char c = *j->at++;
    if (c == '\\' && j->at < j->end)
      c = *j->at++;
    if (out && n + 1 < size)
      out[n++] = c;
  }
  if (out && size)
    out[n] = '\0';
  return expect(j, '"');
}

static int parse_int(json *j, int64_t *value) {
  skip_space(j);
  int negative = 0;
  if (j->at < j->end && *j->at == '-') {
    negative = 1;
    ++j->at;
  }
  if (j->at >= j->end || *j->at < '0' || *j->at > '9') {
    j->failed = 1;
    return 0;
  }
  int64_t v = 0;
  while (j->at < j->end && *j->at >= '0' && *j->at <= '9') {
    if (v > (INT64_MAX - 9) / 10) {
      j->failed = 1;
      return 0;
    }
    v = v * 10 + (*j->at++ - '0');
  }
  *value = negative ? -v : v;
  return 1;
}

/* Skips any JSON value (for __metadata__ and unknown fields). */
static void skip_value(json *j, int depth) {
  skip_space(j);
  if (j->at >= j->end || depth > 32) {
    j->failed = 1;
    return;
  }
  char c = *j->at;
  if (c == '"') {
    parse_string(j, NULL, 0);
  } else if (c == '{' || c == '[') {
    char close = c == '{' ? '}' : ']';
    ++j->at;
    skip_space(j);
    if (j->at < j->end && *j->at == close) {
      ++j->at;
      return;
    }
    while (!j->failed) {
      if (c == '{') {
        parse_string(j, NULL, 0);
        expect(j, ':');
      }
      skip_value(j, depth + 1);
      skip_space(j);
      if (j->at < j->end && *j->at == ',') {
        ++j->at;
        continue;
      }
      expect(j, close);
      return;
    }
  } else {
    while (j->at < j->end && *j->at != ',' && *j->at != '}' && *j->at != ']')
      ++j->at;
  }
}

static int32_t dtype_of(const char *name) {
  static const struct {
    const char *name;
    int32_t dtype;
  } names[] = {{"F32", TFX_DTYPE_F32}, {"F16", TFX_DTYPE_F16}, {"BF16", TFX_DTYPE_BF16},
               {"I64", TFX_DTYPE_I64}, {"I32", TFX_DTYPE_I32}, {"I8", TFX_DTYPE_I8},
               {"U8", TFX_DTYPE_U8},   {"BOOL", TFX_DTYPE_BOOL}};
  for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); ++k)
    if (strcmp(name, names[k].name) == 0)
      return names[k].dtype;
  return -1;
}

static int parse_tensor(json *j, st_tensor *t) {
  char key[32], dtype[16] = "";
  int have_offsets = 0;
  t->rank = -1;
  if (!expect(j, '{'))
    return 0;
  while (!j->failed) {
    parse_string(j, key, sizeof(key));
    expect(j, ':');
    if (strcmp(key, "dtype") == 0) {
      parse_string(j, dtype, sizeof(dtype));
    } else if (strcmp(key, "shape") == 0 || strcmp(key, "data_offsets") == 0) {
      int shape = key[0] == 's';
      int64_t values[TFX_ARTIFACT_MAX_RANK];
      int n = 0;
      expect(j, '[');
      skip_space(j);
      if (j->at < j->end && *j->at == ']') {
        ++j->at;
      } else {
        while (!j->failed) {
          int64_t v;
          if (!parse_int(j, &v) || v < 0 || n == (shape ? TFX_ARTIFACT_MAX_RANK : 2)) {
            j->failed = 1;
            break;
          }
          values[n++] = v;
          skip_space(j);
          if (j->at < j->end && *j->at == ',') {
            ++j->at;
            continue;
          }
          expect(j, ']');
          break;
        }
      }
      if (shape) {
        t->rank = n;
        memcpy(t->shape, values, sizeof(int64_t) * (size_t)n);
      } else if (n == 2) {
        t->begin = (uint64_t)values[0];
        t->end = (uint64_t)values[1];
        have_offsets = 1;
      } else {
        j->failed = 1;
      }
    } else {
      skip_value(j, 1);
    }
    skip_space(j);
    if (j->at < j->end && *j->at == ',') {
      ++j->at;
      continue;
    }
    expect(j, '}');
    break;
  }
  t->dtype = dtype_of(dtype);
  return !j->failed && dtype[0] && t->rank >= 0 && have_offsets;
}

static void st_close(st_file *f) {
  free(f->data);
  free(f->tensors);
  memset(f, 0, sizeof(*f));
}

/* Reads and checks a whole file; 0 with f->error set on failure. */
static int st_open(const char *path, st_file *f) {
  memset(f, 0, sizeof(*f));
  FILE *in = fopen(path, "rb");
  if (!in) {
    snprintf(f->error, sizeof(f->error), "cannot open '%s': %s", path, strerror(errno));
    return 0;
  }
  fseek(in, 0, SEEK_END);
  long size = ftell(in);
  fseek(in, 0, SEEK_SET);
  f->data = size > 0 ? malloc((size_t)size) : NULL;
  if (size < 8 || !f->data || fread(f->data, 1, (size_t)size, in) != (size_t)size) {
    fclose(in);
    snprintf(f->error, sizeof(f->error), "'%s' is not a safetensors file (%ld bytes)", path, size);
    return 0;
  }
  fclose(in);
  f->size = (size_t)size;
  uint64_t header = 0;
  for (int k = 7; k >= 0; --k)
    header = header << 8 | f->data[k];
  if (header > f->size - 8) {
    snprintf(f->error, sizeof(f->error),
             "'%s': header of %llu bytes runs past the end of the file", path,
             (unsigned long long)header);
    return 0;
  }
  f->base = 8 + (size_t)header;
  json j = {(const char *)f->data + 8, (const char *)f->data + f->base, 0};
  int capacity = 0;
  expect(&j, '{');
  skip_space(&j);
  int empty = j.at < j.end && *j.at == '}';
  while (!j.failed && !empty) {
    char name[256];
    parse_string(&j, name, sizeof(name));
    expect(&j, ':');
    if (strcmp(name, "__metadata__") == 0) {
      skip_value(&j, 1);
    } else {
      if (f->count == capacity) {
        capacity = capacity ? 2 * capacity : 16;
        st_tensor *grown = realloc(f->tensors, sizeof(st_tensor) * (size_t)capacity);
        if (!grown) {
          snprintf(f->error, sizeof(f->error), "out of memory reading '%s'", path);
          return 0;
        }
        f->tensors = grown;
      }
      st_tensor *t = &f->tensors[f->count];
      memset(t, 0, sizeof(*t));
      snprintf(t->name, sizeof(t->name), "%s", name);
      if (!parse_tensor(&j, t)) {
        snprintf(f->error, sizeof(f->error), "'%s': malformed header entry for '%s'", path, name);
        return 0;
      }
      size_t element = t->dtype >= 0 ? tfx_dtype_size(t->dtype) : 0;
      uint64_t count = 1;
      for (int32_t d = 0; d < t->rank; ++d)
        count = t->shape[d] && count > UINT64_MAX / (uint64_t)t->shape[d]
                    ? UINT64_MAX
                    : count * (uint64_t)t->shape[d];
      if (t->end < t->begin || t->end > f->size - f->base ||
          (element && (count > UINT64_MAX / element || t->end - t->begin != count * element))) {
        snprintf(f->error, sizeof(f->error),
                 "'%s': tensor '%s' has data offsets [%llu, %llu] that do not fit its "
                 "shape or the file", path, name, (unsigned long long)t->begin,
                 (unsigned long long)t->end);
        return 0;
      }
      ++f->count;
    }
    skip_space(&j);
    if (j.at < j.end && *j.at == ',') {
      ++j.at;
      continue;
    }
    expect(&j, '}');
    break;
  }
  if (j.failed) {
    snprintf(f->error, sizeof(f->error), "'%s': malformed safetensors header", path);
    return 0;
  }
  return 1;
}

static const st_tensor *st_find(const st_file *f, const char *prefix, const char *name) {
  size_t p = strlen(prefix);
  for (int k = 0; k < f->count; ++k)
    if (strncmp(f->tensors[k].name, prefix, p) == 0 && strcmp(f->tensors[k].name + p, name) == 0)
      return &f->tensors[k];
  return NULL;
}

/*===------------------------------ values --------------------------------===*/

static double half_to_double(uint16_t h, int bf16) {
  if (bf16) {
    uint32_t bits = (uint32_t)h << 16;
    float v;
    memcpy(&v, &bits, 4);
    return v;
  }
  int exponent = (h >> 10) & 31, mantissa = h & 1023;
  double v = exponent == 0    ? ldexp(mantissa, -24)
             : exponent == 31 ? (mantissa ? NAN : INFINITY)
                              : ldexp(mantissa | 1024, exponent - 25);
  return (h & 0x8000) ? -v : v;
}

static double get(const void *data, int32_t dtype, uint64_t i) {
  switch (dtype) {
  case TFX_DTYPE_F32: { float v; memcpy(&v, (const char *)data + 4 * i, 4); return v; }
  case TFX_DTYPE_F16:
  case TFX_DTYPE_BF16: {
    uint16_t h;
    memcpy(&h, (const char *)data + 2 * i, 2);
    return half_to_double(h, dtype == TFX_DTYPE_BF16);
  }
  case TFX_DTYPE_I64: { int64_t v; memcpy(&v, (const char *)data + 8 * i, 8); return (double)v; }
  case TFX_DTYPE_I32: { int32_t v; memcpy(&v, (const char *)data + 4 * i, 4); return v; }
  case TFX_DTYPE_I8: return ((const int8_t *)data)[i];
  default: return ((const uint8_t *)data)[i];
  }
}

static void put(void *data, int32_t dtype, uint64_t i, double v) {
  switch (dtype) {
  case TFX_DTYPE_F32: { float f = (float)v; memcpy((char *)data + 4 * i, &f, 4); break; }
  case TFX_DTYPE_I64: { int64_t n = (int64_t)v; memcpy((char *)data + 8 * i, &n, 8); break; }
  case TFX_DTYPE_I32: { int32_t n = (int32_t)v; memcpy((char *)data + 4 * i, &n, 4); break; }
  case TFX_DTYPE_I8: ((int8_t *)data)[i] = (int8_t)v; break;
  case TFX_DTYPE_U8: ((uint8_t *)data)[i] = (uint8_t)v; break;
  case TFX_DTYPE_BOOL: ((uint8_t *)data)[i] = v != 0; break;
  default: break; /* f16/bf16 inputs: same dtype only (copied) */
  }
}

static uint64_t elements(int32_t rank, const int64_t *shape) {
  uint64_t n = 1;
  for (int32_t d = 0; d < rank; ++d)
    n *= (uint64_t)shape[d];
  return n;
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int fail_status(tfx_status *status) {
  fprintf(stderr, "tfxrt-run: %s: %s\n", tfx_status_code_name(tfx_status_get_code(status)),
          tfx_status_message(status));
  tfx_status_free(status);
  return 1;
}

static void usage(void) {
  fprintf(stderr, "usage: tfxrt-run MODEL.so --inputs IN.safetensors [--entry NAME] "
                  "[--threads N] [--check REF.safetensors [--rtol R] [--atol A] | "
                  "[--rel-l2 E]] [--bench N]\n");
}

int main(int argc, char **argv) {
  const char *model_path = NULL, *inputs_path = NULL, *check_path = NULL, *entry_name = NULL;
  double rtol = 1e-4, atol = 1e-5, max_rel_l2 = -1;
  long bench = 0, threads = 0;
  for (int i = 1; i < argc; ++i) {
    const char *arg = argv[i];
    const char *value = i + 1 < argc ? argv[i + 1] : NULL;
    char *end = NULL;
    if (arg[0] != '-') {
      if (model_path) {
        usage();
        return 2;
      }
      model_path = arg;
      continue;
    }
    if (!value) {
      fprintf(stderr, "tfxrt-run: %s needs a value\n", arg);
      return 2;
    }
    ++i;
    if (strcmp(arg, "--inputs") == 0) {
      inputs_path = value;
    } else if (strcmp(arg, "--check") == 0) {
      check_path = value;
    } else if (strcmp(arg, "--entry") == 0) {
      entry_name = value;
    } else if (strcmp(arg, "--rtol") == 0 || strcmp(arg, "--atol") == 0 ||
               strcmp(arg, "--rel-l2") == 0) {
      double v = strtod(value, &end);
      if (!*value || *end || !(v >= 0)) {
        fprintf(stderr, "tfxrt-run: %s needs a number >= 0, got '%s'\n", arg, value);
        return 2;
      }
      *(strcmp(arg, "--rel-l2") == 0 ? &max_rel_l2 : arg[2] == 'r' ? &rtol : &atol) = v;
    } else if (strcmp(arg, "--bench") == 0 || strcmp(arg, "--threads") == 0) {
      long v = strtol(value, &end, 10);
      if (!*value || *end || v < 0 || v > 1000000) {
        fprintf(stderr, "tfxrt-run: %s needs a count >= 0, got '%s'\n", arg, value);
        return 2;
      }
      *(arg[2] == 'b' ? &bench : &threads) = v;
    } else {
      fprintf(stderr, "tfxrt-run: unknown option '%s'\n", arg);
      usage();
      return 2;
    }
  }
  if (!model_path || !inputs_path) {
    usage();
    return 2;
  }

  int rc = 1;
  st_file in = {0}, ref = {0};
  tfx_model *model = NULL;
  tfx_context *context = NULL;
  tfx_tensor *inputs = NULL, *outputs = NULL;
  double *times = NULL;
  const tfx_artifact_entry *entry = NULL;
  int32_t index = -1;
  tfx_status *status = tfx_model_open(model_path, &model);
  if (status) {
    rc = fail_status(status);
    goto done;
  }
  if ((status = tfx_context_create((int32_t)threads, &context))) {
    rc = fail_status(status);
    goto done;
  }
  index = tfx_model_find_entry(model, entry_name ? entry_name : "main");
  if (index < 0 && !entry_name)
    index = 0;
  entry = tfx_model_entry(model, index);
  if (!entry) {
    fprintf(stderr, "tfxrt-run: '%s' has no entry '%s'\n", model_path, entry_name);
    goto done;
  }
  if (!st_open(inputs_path, &in)) {
    fprintf(stderr, "tfxrt-run: %s\n", in.error);
    goto done;
  }
  inputs = calloc((size_t)entry->num_inputs + 1, sizeof(tfx_tensor));
  outputs = calloc((size_t)entry->num_outputs + 1, sizeof(tfx_tensor));
  if (!inputs || !outputs)
    goto done;
  for (int32_t k = 0; k < entry->num_inputs; ++k) {
    const tfx_artifact_tensor *sig = &entry->inputs[k];
    const st_tensor *t = st_find(&in, "input.", sig->name);
    if (!t) {
      fprintf(stderr, "tfxrt-run: '%s' has no tensor 'input.%s' for entry '%s'\n",
              inputs_path, sig->name, entry->name);
      goto done;
    }
    uint64_t n = elements(t->rank, t->shape);
    int same = t->dtype == sig->dtype;
    if (t->dtype < 0 ||
        (!same && (sig->dtype == TFX_DTYPE_F16 || sig->dtype == TFX_DTYPE_BF16))) {
      fprintf(stderr, "tfxrt-run: 'input.%s' of '%s' cannot be converted to %s\n", sig->name,
              inputs_path, tfx_dtype_name(sig->dtype));
      goto done;
    }
    /* The runtime checks the shape; the conversion needs the count. */
    inputs[k].dtype = sig->dtype;
    inputs[k].rank = t->rank;
    memcpy(inputs[k].shape, t->shape, sizeof(int64_t) * (size_t)t->rank);
    inputs[k].data = malloc((size_t)(n * tfx_dtype_size(sig->dtype)) + 1);
    if (!inputs[k].data)
      goto done;
    const unsigned char *src = in.data + in.base + t->begin;
    if (same)
      memcpy(inputs[k].data, src, (size_t)(t->end - t->begin));
    else
      for (uint64_t e = 0; e < n; ++e)
        put(inputs[k].data, sig->dtype, e, get(src, t->dtype, e));
  }

  double first = now_ms();
  if ((status = tfx_model_run(model, context, index, inputs, entry->num_inputs, outputs,
                              entry->num_outputs))) {
    rc = fail_status(status);
    goto done;
  }
  printf("ran '%s' of %s in %.3f ms (first call)\n", entry->name, model_path,
         now_ms() - first);
  rc = 0;
  if (check_path) {
    if (!st_open(check_path, &ref)) {
      fprintf(stderr, "tfxrt-run: %s\n", ref.error);
      rc = 1;
      goto done;
    }
    for (int32_t k = 0; k < entry->num_outputs; ++k) {
      const tfx_artifact_tensor *sig = &entry->outputs[k];
      const st_tensor *t = st_find(&ref, "output.", sig->name);
      if (!t)
        continue;
      printf("output.%s: ", sig->name);
      if (t->dtype < 0 || t->rank != sig->rank ||
          memcmp(t->shape, sig->shape, sizeof(int64_t) * (size_t)t->rank) != 0) {
        printf("shape or dtype differs from the reference FAIL\n");
        rc = 1;
        continue;
      }
      const unsigned char *expected = ref.data + ref.base + t->begin;
      double max_abs = 0, max_ref = 0, diff_sq = 0, ref_sq = 0;
      int pass = 1;
      for (uint64_t e = 0, n = elements(t->rank, t->shape); e < n; ++e) {
        double a = get(outputs[k].data, sig->dtype, e), b = get(expected, t->dtype, e);
        double diff = fabs(a - b);
        if (isnan(diff))
          diff = INFINITY;
        if (!(diff <= atol + rtol * fabs(b)) && a != b)
          pass = 0;
        diff_sq += (a - b) * (a - b);
        ref_sq += b * b;
        if (diff > max_abs)
          max_abs = diff;
        if (fabs(b) > max_ref)
          max_ref = fabs(b);
      }
      double rel_l2 = ref_sq > 0 ? sqrt(diff_sq / ref_sq) : sqrt(diff_sq);
      if (max_rel_l2 >= 0) {
        pass = rel_l2 <= max_rel_l2; /* NaN fails */
        printf("max_abs_err=%.3e rel_l2_err=%.3e (rel-l2 %g) %s\n", max_abs, rel_l2,
               max_rel_l2, pass ? "OK" : "FAIL");
      } else {
        printf("max_abs_err=%.3e max_rel_err=%.3e rel_l2_err=%.3e (rtol=%g atol=%g) %s\n",
               max_abs, max_ref > 0 ? max_abs / max_ref : 0.0, rel_l2, rtol, atol,
               pass ? "OK" : "FAIL");
      }
      if (!pass)
        rc = 1;
    }
  }
  if (bench > 0) {
    times = malloc(sizeof(double) * (size_t)bench);
    if (!times) {
      rc = 1;
      goto done;
    }
    for (long r = 0; r < bench; ++r) {
      double start = now_ms();
      if ((status = tfx_model_run(model, context, index, inputs, entry->num_inputs, outputs,
                                  entry->num_outputs))) {
        rc = fail_status(status);
        goto done;
      }
      times[r] = now_ms() - start;
    }
    qsort(times, (size_t)bench, sizeof(double), compare_doubles);
    printf("median %.4f ms (%ld runs, min %.4f ms)\n", times[bench / 2], bench, times[0]);
    if (tfx_model_device_name(model)) {
      /* The GPU's own time: back-to-back calls without host copies. */
      double start = now_ms();
      if ((status = tfx_model_repeat_on_device(model, index, (int32_t)bench))) {
        rc = fail_status(status);
        goto done;
      }
      printf("device %.4f ms per call (%ld back-to-back calls on %s, no copies)\n",
             (now_ms() - start) / (double)bench, bench, tfx_model_device_name(model));
    }
  }

done:
  if (inputs)
    for (int32_t k = 0; entry && k < entry->num_inputs; ++k)
      free(inputs[k].data);
  if (outputs)
    for (int32_t k = 0; entry && k < entry->num_outputs; ++k)
      tfx_buffer_free(outputs[k].data);
  free(inputs);
  free(outputs);
  free(times);
  st_close(&in);
  st_close(&ref);
  tfx_model_close(model);
  tfx_context_destroy(context);
  return rc;
}
