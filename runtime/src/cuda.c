/*===- cuda.c - running CUDA artifacts through the driver API -------------===*
 *
 * The CUDA driver (libcuda.so.1) is opened with dlopen when the first CUDA
 * artifact is opened, so a CPU-only install needs no CUDA and a CPU
 * artifact never touches it. Only the driver API is used: no CUDA runtime
 * library, no toolkit at run time.
 *
 * Per model: the primary context of the chosen GPU (TFX_CUDA_DEVICE, 0 by
 * default), the artifact's cubin loaded once with every kernel resolved,
 * the weights uploaded once, one stream, and one device arena holding the
 * largest entry's scratch, inputs and outputs. Calls of one model are
 * serialized on its stream (a mutex); inputs are copied in, the entry
 * launches its kernels through tfx_exec_env, outputs are copied back.
 *===----------------------------------------------------------------------===*/
#include "model_internal.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The few driver types and constants used here (cuda.h is not needed to
 * build the runtime). */
typedef int CUresult;
typedef int CUdevice;
typedef struct CUctx_st *CUcontext;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef struct CUstream_st *CUstream;
typedef unsigned long long CUdeviceptr;
typedef struct CUevent_st *CUevent;
typedef struct CUgraph_st *CUgraph;
typedef struct CUgraphExec_st *CUgraphExec;
enum {
  CUDA_SUCCESS = 0,
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
  CU_STREAM_NON_BLOCKING = 1,
  CU_STREAM_CAPTURE_MODE_THREAD_LOCAL = 1
};

/* Error flags one call can check (env->gpu_flag), 8 bytes each. */
#define TFX_CUDA_MAX_FLAGS 512

static struct {
  pthread_once_t once;
  int ok;
  char why[512];
  CUresult (*Init)(unsigned);
  CUresult (*DeviceGetCount)(int *);
  CUresult (*DeviceGet)(CUdevice *, int);
  CUresult (*DeviceGetName)(char *, int, CUdevice);
  CUresult (*DeviceGetAttribute)(int *, int, CUdevice);
  CUresult (*DevicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*DevicePrimaryCtxRelease)(CUdevice);
  CUresult (*CtxSetCurrent)(CUcontext);
  CUresult (*ModuleLoadData)(CUmodule *, const void *);
  CUresult (*ModuleUnload)(CUmodule);
  CUresult (*ModuleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*MemAlloc)(CUdeviceptr *, size_t);
  CUresult (*MemFree)(CUdeviceptr);
  CUresult (*MemcpyHtoD)(CUdeviceptr, const void *, size_t);
  CUresult (*MemcpyHtoDAsync)(CUdeviceptr, const void *, size_t, CUstream);
  CUresult (*MemcpyDtoHAsync)(void *, CUdeviceptr, size_t, CUstream);
  CUresult (*StreamCreate)(CUstream *, unsigned);
  CUresult (*StreamDestroy)(CUstream);
  CUresult (*StreamSynchronize)(CUstream);
  CUresult (*LaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned,
                           unsigned, unsigned, unsigned, CUstream, void **,
                           void **);
  CUresult (*GetErrorName)(CUresult, const char **);
  CUresult (*GetErrorString)(CUresult, const char **);
  CUresult (*EventCreate)(CUevent *, unsigned);
  CUresult (*EventRecord)(CUevent, CUstream);
  CUresult (*EventElapsedTime)(float *, CUevent, CUevent);
  CUresult (*EventDestroy)(CUevent);
  CUresult (*MemAllocHost)(void **, size_t);
  CUresult (*MemFreeHost)(void *);
  /* CUDA graphs (optional: without them every call launches its kernels). */
  CUresult (*StreamBeginCapture)(CUstream, int);
  CUresult (*StreamEndCapture)(CUstream, CUgraph *);
  CUresult (*GraphInstantiate)(CUgraphExec *, CUgraph, unsigned long long);
  CUresult (*GraphLaunch)(CUgraphExec, CUstream);
  CUresult (*GraphExecDestroy)(CUgraphExec);
  CUresult (*GraphDestroy)(CUgraph);
} drv = {PTHREAD_ONCE_INIT};

/* Per entry: its CUDA graph, captured at the first call. */
typedef struct {
  int state; /* 0: not tried, 1: captured, -1: not capturable (host reads) */
  CUgraphExec exec;
  uint32_t num_flags;
} entry_graph;

/* TFX_CUDA_PROFILE=1: every launch is timed with a pair of events; the
 * model's per-kernel totals are printed to stderr when it is closed. */
typedef struct {
  int32_t kernel;
  CUevent start, end;
} timed_launch;

struct tfx_cuda_model {
  CUdevice device;
  CUcontext context;
  CUmodule module;
  CUfunction *kernels;
  CUstream stream;
  CUdeviceptr weights;
  CUdeviceptr arena;
  uint64_t arena_bytes;
  pthread_mutex_t mutex;
  char name[128];
  int major, minor;
  /* Profiling (TFX_CUDA_PROFILE): events of the current call, reused. */
  int profile;
  timed_launch *launches;
  size_t num_launches, capacity;
  double *kernel_ms;
  int64_t *kernel_calls;
  double call_ms;
  int64_t calls;
  /* Error flags: pinned host slots the call's copies land in. */
  uint64_t *flags;
  /* CUDA graphs (TFX_CUDA_GRAPHS=0 turns them off; so does profiling). */
  int graphs;
  entry_graph *entry_graphs;
};

/* One call's state behind tfx_exec_env.gpu: the first failure wins. */
typedef struct {
  tfx_cuda_model *cuda;
  const tfx_artifact *artifact;
  CUresult error;
  const char *call;
  int32_t kernel;
  uint32_t num_flags;
  int capturing, capture_broken;
} cuda_call;

static void load_driver(void) {
  const char *path = getenv("TFX_CUDA_DRIVER");
  if (!path || !path[0])
    path = "libcuda.so.1";
  void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *why = dlerror();
    snprintf(drv.why, sizeof(drv.why),
             "the CUDA driver (%s) cannot be loaded: %s; this machine has no "
             "NVIDIA driver (compile with --target cpu to run here)",
             path, why ? why : "unknown loader error");
    return;
  }
  struct {
    const char *name;
    void **slot;
  } symbols[] = {
      {"cuInit", (void **)&drv.Init},
      {"cuDeviceGetCount", (void **)&drv.DeviceGetCount},
      {"cuDeviceGet", (void **)&drv.DeviceGet},
      {"cuDeviceGetName", (void **)&drv.DeviceGetName},
      {"cuDeviceGetAttribute", (void **)&drv.DeviceGetAttribute},
      {"cuDevicePrimaryCtxRetain", (void **)&drv.DevicePrimaryCtxRetain},
      {"cuDevicePrimaryCtxRelease_v2", (void **)&drv.DevicePrimaryCtxRelease},
      {"cuCtxSetCurrent", (void **)&drv.CtxSetCurrent},
      {"cuModuleLoadData", (void **)&drv.ModuleLoadData},
      {"cuModuleUnload", (void **)&drv.ModuleUnload},
      {"cuModuleGetFunction", (void **)&drv.ModuleGetFunction},
      {"cuMemAlloc_v2", (void **)&drv.MemAlloc},
      {"cuMemFree_v2", (void **)&drv.MemFree},
      {"cuMemcpyHtoD_v2", (void **)&drv.MemcpyHtoD},
      {"cuMemcpyHtoDAsync_v2", (void **)&drv.MemcpyHtoDAsync},
      {"cuMemcpyDtoHAsync_v2", (void **)&drv.MemcpyDtoHAsync},
      {"cuStreamCreate", (void **)&drv.StreamCreate},
      {"cuStreamDestroy_v2", (void **)&drv.StreamDestroy},
      {"cuStreamSynchronize", (void **)&drv.StreamSynchronize},
      {"cuLaunchKernel", (void **)&drv.LaunchKernel},
      {"cuGetErrorName", (void **)&drv.GetErrorName},
      {"cuGetErrorString", (void **)&drv.GetErrorString},
      {"cuEventCreate", (void **)&drv.EventCreate},
      {"cuEventRecord", (void **)&drv.EventRecord},
      {"cuEventElapsedTime", (void **)&drv.EventElapsedTime},
      {"cuEventDestroy_v2", (void **)&drv.EventDestroy},
      {"cuMemAllocHost_v2", (void **)&drv.MemAllocHost},
      {"cuMemFreeHost", (void **)&drv.MemFreeHost},
  };
  struct {
    const char *name;
    void **slot;
  } optional[] = {
      {"cuStreamBeginCapture_v2", (void **)&drv.StreamBeginCapture},
      {"cuStreamEndCapture", (void **)&drv.StreamEndCapture},
      {"cuGraphInstantiateWithFlags", (void **)&drv.GraphInstantiate},
      {"cuGraphLaunch", (void **)&drv.GraphLaunch},
      {"cuGraphExecDestroy", (void **)&drv.GraphExecDestroy},
      {"cuGraphDestroy", (void **)&drv.GraphDestroy},
  };
  for (size_t k = 0; k < sizeof(optional) / sizeof(optional[0]); ++k)
    *optional[k].slot = dlsym(handle, optional[k].name);
  for (size_t k = 0; k < sizeof(symbols) / sizeof(symbols[0]); ++k) {
    *symbols[k].slot = dlsym(handle, symbols[k].name);
    if (!*symbols[k].slot) {
      snprintf(drv.why, sizeof(drv.why),
               "the CUDA driver (%s) has no %s: it is too old or not a CUDA "
               "driver", path, symbols[k].name);
      dlclose(handle);
      return;
    }
  }
  CUresult r = drv.Init(0);
  if (r != CUDA_SUCCESS) {
    const char *name = "?";
    drv.GetErrorName(r, &name);
    snprintf(drv.why, sizeof(drv.why),
             "cuInit failed with %s (%d): no usable NVIDIA GPU", name, (int)r);
    return; /* the library stays loaded: its state may not be clean */
  }
  drv.ok = 1;
}

/* "cuMemAlloc failed with CUDA_ERROR_OUT_OF_MEMORY (2): out of memory". */
static tfx_status *driver_error(const char *label, const char *call, CUresult r) {
  const char *name = "?", *text = "?";
  drv.GetErrorName(r, &name);
  drv.GetErrorString(r, &text);
  return tfx__status(r == 2 ? TFX_STATUS_OUT_OF_MEMORY : TFX_STATUS_DEVICE_ERROR,
                     "%s: %s failed with %s (%d): %s", label, call, name, (int)r,
                     text);
}

#define CU_CHECK(call, expr)                                                   \
  do {                                                                         \
    CUresult r_ = (expr);                                                      \
    if (r_ != CUDA_SUCCESS) {                                                  \
      status = driver_error(model->label, call, r_);                           \
      goto fail;                                                               \
    }                                                                          \
  } while (0)

static uint64_t round_up(uint64_t n) { return (n + 255) & ~(uint64_t)255; }

static uint64_t tensor_bytes(const tfx_artifact_tensor *t) {
  size_t size = tfx_dtype_size(t->dtype);
  int64_t count = tfx__num_elements(t->rank, t->shape, size);
  return count < 0 ? 0 : (uint64_t)count * size;
}

/* Bytes of the arena for one entry: scratch, then each input and output. */
static uint64_t entry_arena_bytes(const tfx_artifact_entry *e) {
  uint64_t bytes = round_up(e->scratch_bytes);
  for (int32_t k = 0; k < e->num_inputs; ++k)
    bytes += round_up(tensor_bytes(&e->inputs[k]));
  for (int32_t k = 0; k < e->num_outputs; ++k)
    bytes += round_up(tensor_bytes(&e->outputs[k]));
  return bytes;
}

static int parse_arch(const char *arch, int *major, int *minor) {
  int number = 0;
  if (strncmp(arch, "sm_", 3) != 0 || sscanf(arch + 3, "%d", &number) != 1 ||
      number < 10)
    return 0;
  *major = number / 10;
  *minor = number % 10;
  return 1;
}

tfx_status *tfx__cuda_open(tfx_model *model) {
  pthread_once(&drv.once, load_driver);
  if (!drv.ok)
    return tfx__status(TFX_STATUS_UNAVAILABLE, "%s is a CUDA artifact, but %s",
                       model->label, drv.why);
  const tfx_artifact *a = model->artifact;
  tfx_status *status = NULL;
  tfx_cuda_model *cuda = calloc(1, sizeof(*cuda));
  if (!cuda)
    return tfx__status(TFX_STATUS_OUT_OF_MEMORY, "out of memory");
  pthread_mutex_init(&cuda->mutex, NULL);
  model->cuda = cuda;
  cuda->device = -1;

  int count = 0, ordinal = 0;
  const char *choice = getenv("TFX_CUDA_DEVICE");
  if (choice && choice[0])
    ordinal = atoi(choice);
  CU_CHECK("cuDeviceGetCount", drv.DeviceGetCount(&count));
  if (count == 0 || ordinal < 0 || ordinal >= count) {
    status = tfx__status(TFX_STATUS_UNAVAILABLE,
                         "%s: there is no CUDA device %d (this machine has %d)",
                         model->label, ordinal, count);
    goto fail;
  }
  CUdevice device;
  CU_CHECK("cuDeviceGet", drv.DeviceGet(&device, ordinal));
  CU_CHECK("cuDeviceGetName", drv.DeviceGetName(cuda->name, sizeof(cuda->name), device));
  CU_CHECK("cuDeviceGetAttribute",
           drv.DeviceGetAttribute(&cuda->major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device));
  CU_CHECK("cuDeviceGetAttribute",
           drv.DeviceGetAttribute(&cuda->minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device));
  int major = 0, minor = 0;
  /* A cubin runs on its own major version at the same or a later minor;
   * sm_90a code on 9.0 only. */
  if (!parse_arch(a->gpu_arch, &major, &minor) || major != cuda->major ||
      minor > cuda->minor ||
      (strchr(a->gpu_arch + 3, 'a') && minor != cuda->minor)) {
    status = tfx__status(TFX_STATUS_UNAVAILABLE,
                         "%s was compiled for %s, but CUDA device %d (%s) is "
                         "sm_%d%d; recompile it with --target cuda:sm_%d%d",
                         model->label, a->gpu_arch, ordinal, cuda->name,
                         cuda->major, cuda->minor, cuda->major, cuda->minor);
    goto fail;
  }
  CU_CHECK("cuDevicePrimaryCtxRetain", drv.DevicePrimaryCtxRetain(&cuda->context, device));
  cuda->device = device;
  CU_CHECK("cuCtxSetCurrent", drv.CtxSetCurrent(cuda->context));
  CU_CHECK("cuModuleLoadData", drv.ModuleLoadData(&cuda->module, a->gpu_image));
  cuda->kernels = calloc(a->num_gpu_kernels, sizeof(CUfunction));
  if (!cuda->kernels) {
    status = tfx__status(TFX_STATUS_OUT_OF_MEMORY, "out of memory");
    goto fail;
  }
  for (uint32_t k = 0; k < a->num_gpu_kernels; ++k) {
    CUresult r = drv.ModuleGetFunction(&cuda->kernels[k], cuda->module, a->gpu_kernels[k]);
    if (r != CUDA_SUCCESS) {
      status = tfx__status(TFX_STATUS_CORRUPT_ARTIFACT,
                           "%s: its kernel image has no kernel '%s' (%d)",
                           model->label, a->gpu_kernels[k], (int)r);
      goto fail;
    }
  }
  CU_CHECK("cuStreamCreate", drv.StreamCreate(&cuda->stream, CU_STREAM_NON_BLOCKING));
  if (a->weights_size) {
    CU_CHECK("cuMemAlloc (weights)", drv.MemAlloc(&cuda->weights, a->weights_size));
    CU_CHECK("cuMemcpyHtoD (weights)",
             drv.MemcpyHtoD(cuda->weights, model->weights, a->weights_size));
  }
  for (uint32_t k = 0; k < a->num_entries; ++k) {
    uint64_t bytes = entry_arena_bytes(&a->entries[k]);
    if (bytes > cuda->arena_bytes)
      cuda->arena_bytes = bytes;
  }
  if (cuda->arena_bytes)
    CU_CHECK("cuMemAlloc (buffers)", drv.MemAlloc(&cuda->arena, cuda->arena_bytes));
  CU_CHECK("cuMemAllocHost (error flags)",
           drv.MemAllocHost((void **)&cuda->flags, TFX_CUDA_MAX_FLAGS * sizeof(uint64_t)));
  const char *profile = getenv("TFX_CUDA_PROFILE");
  if (profile && profile[0] && strcmp(profile, "0") != 0) {
    cuda->kernel_ms = calloc(a->num_gpu_kernels, sizeof(double));
    cuda->kernel_calls = calloc(a->num_gpu_kernels, sizeof(int64_t));
    cuda->profile = cuda->kernel_ms && cuda->kernel_calls;
  }
  /* Each launch of a profiled call is timed, so it is not replayed. */
  const char *graphs = getenv("TFX_CUDA_GRAPHS");
  cuda->graphs = !cuda->profile && drv.StreamBeginCapture && drv.StreamEndCapture &&
                 drv.GraphInstantiate && drv.GraphLaunch && drv.GraphExecDestroy &&
                 drv.GraphDestroy && !(graphs && strcmp(graphs, "0") == 0);
  cuda->entry_graphs = calloc(a->num_entries, sizeof(entry_graph));
  if (!cuda->entry_graphs) {
    status = tfx__status(TFX_STATUS_OUT_OF_MEMORY, "out of memory");
    goto fail;
  }
  return NULL;

fail:
  return status;
}

static int by_time(const void *x, const void *y, void *ms) {
  double a = ((const double *)ms)[*(const int32_t *)x], b = ((const double *)ms)[*(const int32_t *)y];
  return (a < b) - (a > b);
}

/* The per-kernel table of TFX_CUDA_PROFILE, slowest first. */
static void print_profile(const tfx_model *model) {
  const tfx_cuda_model *cuda = model->cuda;
  uint32_t n = model->artifact->num_gpu_kernels;
  int32_t *order = malloc(sizeof(int32_t) * n);
  if (!order)
    return;
  double total = 0;
  for (uint32_t k = 0; k < n; ++k) {
    order[k] = (int32_t)k;
    total += cuda->kernel_ms[k];
  }
  /* n is small: insertion sort keeps this C99 (no qsort_r). */
  for (uint32_t i = 1; i < n; ++i)
    for (uint32_t j = i; j > 0 && by_time(&order[j - 1], &order[j], cuda->kernel_ms) > 0; --j) {
      int32_t t = order[j];
      order[j] = order[j - 1];
      order[j - 1] = t;
    }
  fprintf(stderr, "tfx cuda profile of %s on %s: %lld calls, %.3f ms per call in kernels, "
                  "%.3f ms per call in all\n", model->label, cuda->name, (long long)cuda->calls,
          cuda->calls ? total / (double)cuda->calls : 0.0,
          cuda->calls ? cuda->call_ms / (double)cuda->calls : 0.0);
  fprintf(stderr, "  %-28s %8s %12s %7s\n", "kernel", "launches", "ms per call", "share");
  for (uint32_t i = 0; i < n; ++i) {
    int32_t k = order[i];
    if (!cuda->kernel_calls[k])
      continue;
    fprintf(stderr, "  %-28s %8lld %12.4f %6.1f%%\n", model->artifact->gpu_kernels[k],
            (long long)cuda->kernel_calls[k],
            cuda->calls ? cuda->kernel_ms[k] / (double)cuda->calls : 0.0,
            total > 0 ? 100.0 * cuda->kernel_ms[k] / total : 0.0);
  }
  free(order);
}

void tfx__cuda_close(tfx_model *model) {
  tfx_cuda_model *cuda = model->cuda;
  if (!cuda)
    return;
  if (cuda->profile && cuda->calls)
    print_profile(model);
  for (size_t k = 0; k < cuda->capacity; ++k) {
    drv.EventDestroy(cuda->launches[k].start);
    drv.EventDestroy(cuda->launches[k].end);
  }
  free(cuda->launches);
  free(cuda->kernel_ms);
  free(cuda->kernel_calls);
  for (uint32_t k = 0; cuda->entry_graphs && k < model->artifact->num_entries; ++k)
    if (cuda->entry_graphs[k].exec)
      drv.GraphExecDestroy(cuda->entry_graphs[k].exec);
  free(cuda->entry_graphs);
  if (cuda->flags)
    drv.MemFreeHost(cuda->flags);
  if (cuda->context)
    drv.CtxSetCurrent(cuda->context);
  if (cuda->stream)
    drv.StreamSynchronize(cuda->stream);
  if (cuda->arena)
    drv.MemFree(cuda->arena);
  if (cuda->weights)
    drv.MemFree(cuda->weights);
  if (cuda->stream)
    drv.StreamDestroy(cuda->stream);
  if (cuda->module)
    drv.ModuleUnload(cuda->module);
  if (cuda->device >= 0)
    drv.DevicePrimaryCtxRelease(cuda->device);
  free(cuda->kernels);
  pthread_mutex_destroy(&cuda->mutex);
  free(cuda);
  model->cuda = NULL;
}

const char *tfx_model_device_name(const tfx_model *model) {
  return model && model->cuda ? model->cuda->name : NULL;
}

tfx_status *tfx_model_repeat_on_device(tfx_model *model, int32_t entry_index,
                                       int32_t count) {
  if (!model || !model->cuda)
    return tfx__status(TFX_STATUS_INVALID_ARGUMENT,
                       "tfx_model_repeat_on_device: %s", model ? "not a CUDA artifact" : "model is NULL");
  const tfx_artifact_entry *entry = tfx_model_entry(model, entry_index);
  if (!entry || count < 0)
    return tfx__status(TFX_STATUS_INVALID_ARGUMENT,
                       "tfx_model_repeat_on_device: no entry %d or a negative count",
                       (int)entry_index);
  int32_t code = 0;
  tfx_status *status = tfx__cuda_run(model, entry, NULL, NULL, count, &code);
  if (!status && code != 0)
    status = tfx__status(TFX_STATUS_INVALID_ARGUMENT, "%s: entry '%s' failed with error %d",
                         model->label, entry->name, (int)code);
  return status;
}

static void launch(void *gpu, int32_t kernel, int64_t gx, int64_t gy, int64_t gz,
                   int64_t bx, int64_t by, int64_t bz, int32_t shared,
                   void **params) {
  cuda_call *call = gpu;
  if (call->error != CUDA_SUCCESS)
    return;
  if (kernel < 0 || (uint32_t)kernel >= call->artifact->num_gpu_kernels) {
    call->error = 1; /* CUDA_ERROR_INVALID_VALUE */
    call->call = "a launch (kernel index out of range)";
    call->kernel = kernel;
    return;
  }
  tfx_cuda_model *cuda = call->cuda;
  timed_launch *timed = NULL;
  if (cuda->profile) {
    if (cuda->num_launches == cuda->capacity) {
      size_t grown = cuda->capacity ? 2 * cuda->capacity : 64;
      timed_launch *more = realloc(cuda->launches, grown * sizeof(timed_launch));
      if (more) {
        cuda->launches = more;
        for (size_t k = cuda->capacity; k < grown; ++k)
          if (drv.EventCreate(&more[k].start, 0) != CUDA_SUCCESS ||
              drv.EventCreate(&more[k].end, 0) != CUDA_SUCCESS) {
            grown = k;
            break;
          }
        cuda->capacity = grown;
      }
    }
    if (cuda->num_launches < cuda->capacity) {
      timed = &cuda->launches[cuda->num_launches++];
      timed->kernel = kernel;
      drv.EventRecord(timed->start, cuda->stream);
    }
  }
  CUresult r = drv.LaunchKernel(cuda->kernels[kernel], (unsigned)gx, (unsigned)gy,
                                (unsigned)gz, (unsigned)bx, (unsigned)by, (unsigned)bz,
                                (unsigned)shared, cuda->stream, params, NULL);
  if (timed)
    drv.EventRecord(timed->end, cuda->stream);
  if (r != CUDA_SUCCESS) {
    call->error = r;
    call->call = "cuLaunchKernel";
    call->kernel = kernel;
  }
}

static void read_back(void *gpu, void *host, const void *device, int64_t bytes) {
  cuda_call *call = gpu;
  if (call->capturing) {
    /* A value the host needs now cannot be in a graph: this entry runs
     * without one. */
    call->capture_broken = 1;
    memset(host, 0, (size_t)bytes);
    return;
  }
  if (call->error != CUDA_SUCCESS)
    return;
  CUresult r = drv.MemcpyDtoHAsync(host, (CUdeviceptr)(uintptr_t)device, (size_t)bytes,
                                   call->cuda->stream);
  if (r == CUDA_SUCCESS)
    r = drv.StreamSynchronize(call->cuda->stream);
  if (r != CUDA_SUCCESS) {
    call->error = r;
    call->call = "cuMemcpyDtoH (a value the host reads)";
    call->kernel = -1;
  }
}

static void check_flag(void *gpu, const void *device, int64_t bytes) {
  cuda_call *call = gpu;
  if (call->error != CUDA_SUCCESS)
    return;
  if (call->num_flags == TFX_CUDA_MAX_FLAGS || bytes < 1 || bytes > 8) {
    call->error = 1; /* CUDA_ERROR_INVALID_VALUE */
    call->call = "an error-flag copy (more than 512 flags in one call)";
    call->kernel = -1;
    return;
  }
  CUresult r = drv.MemcpyDtoHAsync(&call->cuda->flags[call->num_flags++],
                                   (CUdeviceptr)(uintptr_t)device, (size_t)bytes,
                                   call->cuda->stream);
  if (r != CUDA_SUCCESS) {
    call->error = r;
    call->call = "cuMemcpyDtoHAsync (an error flag)";
    call->kernel = -1;
  }
}

/* Captures the entry's launches into a CUDA graph (nothing runs); the
 * entry then replays it. One whose host code reads device memory
 * (env->gpu_read) is marked not capturable. */
static void capture(tfx_model *model, int32_t index, const tfx_artifact_entry *entry,
                    tfx_exec_env *env, cuda_call *call, void **pointers) {
  tfx_cuda_model *cuda = model->cuda;
  entry_graph *graph = &cuda->entry_graphs[index];
  graph->state = -1;
  if (drv.StreamBeginCapture(cuda->stream, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL) != CUDA_SUCCESS)
    return;
  call->capturing = 1;
  int32_t code = entry->fn(env, (const void *)(uintptr_t)cuda->weights, pointers,
                           pointers + entry->num_inputs);
  call->capturing = 0;
  CUgraph g = NULL;
  CUresult r = drv.StreamEndCapture(cuda->stream, &g);
  int ok = r == CUDA_SUCCESS && g && code == 0 && !call->capture_broken &&
           call->error == CUDA_SUCCESS;
  if (ok && drv.GraphInstantiate(&graph->exec, g, 0) == CUDA_SUCCESS) {
    graph->state = 1;
    graph->num_flags = call->num_flags;
  }
  if (g)
    drv.GraphDestroy(g);
  /* Whatever the capture recorded is not this call's result. */
  call->error = CUDA_SUCCESS;
  call->call = NULL;
  call->kernel = -1;
  call->num_flags = 0;
  call->capture_broken = 0;
}

tfx_status *tfx__cuda_run(tfx_model *model, const tfx_artifact_entry *entry,
                          void *const *inputs, void *const *outputs,
                          int32_t repeat, int32_t *code) {
  tfx_cuda_model *cuda = model->cuda;
  tfx_status *status = NULL;
  CUevent call_start = NULL, call_end = NULL;
  *code = 0;
  void **pointers = calloc((size_t)entry->num_inputs + (size_t)entry->num_outputs + 1,
                           sizeof(void *));
  if (!pointers)
    return tfx__status(TFX_STATUS_OUT_OF_MEMORY, "out of memory");
  pthread_mutex_lock(&cuda->mutex);
  CU_CHECK("cuCtxSetCurrent", drv.CtxSetCurrent(cuda->context));
  CUdeviceptr at = cuda->arena + round_up(entry->scratch_bytes);
  for (int32_t k = 0; k < entry->num_inputs; ++k) {
    uint64_t bytes = tensor_bytes(&entry->inputs[k]);
    pointers[k] = (void *)(uintptr_t)at;
    if (inputs)
      CU_CHECK("cuMemcpyHtoDAsync (an input)",
               drv.MemcpyHtoDAsync(at, inputs[k], bytes, cuda->stream));
    at += round_up(bytes);
  }
  for (int32_t k = 0; k < entry->num_outputs; ++k) {
    pointers[entry->num_inputs + k] = (void *)(uintptr_t)at;
    at += round_up(tensor_bytes(&entry->outputs[k]));
  }

  cuda_call call = {cuda, model->artifact, CUDA_SUCCESS, NULL, -1, 0, 0, 0};
  int32_t index = (int32_t)(entry - model->artifact->entries);
  memset(cuda->flags, 0, TFX_CUDA_MAX_FLAGS * sizeof(uint64_t));
  cuda->num_launches = 0;
  if (cuda->profile && drv.EventCreate(&call_start, 0) == CUDA_SUCCESS &&
      drv.EventCreate(&call_end, 0) == CUDA_SUCCESS)
    drv.EventRecord(call_start, cuda->stream);
  tfx_exec_env env;
  memset(&env, 0, sizeof(env));
  env.scratch = (void *)(uintptr_t)cuda->arena;
  env.gpu_launch = launch;
  env.gpu_read = read_back;
  env.gpu_flag = check_flag;
  env.gpu = &call;
  entry_graph *graph = &cuda->entry_graphs[index];
  if (cuda->graphs && graph->state == 0)
    capture(model, index, entry, &env, &call, pointers);
  for (int32_t r = 0; r < repeat && *code == 0 && call.error == CUDA_SUCCESS; ++r) {
    if (graph->state == 1) {
      CUresult g = drv.GraphLaunch(graph->exec, cuda->stream);
      call.num_flags = graph->num_flags;
      if (g != CUDA_SUCCESS) {
        call.error = g;
        call.call = "cuGraphLaunch (the entry's kernels)";
      }
      continue;
    }
    call.num_flags = 0;
    *code = entry->fn(&env, (const void *)(uintptr_t)cuda->weights, pointers,
                      pointers + entry->num_inputs);
  }
  if (call.error != CUDA_SUCCESS) {
    const char *name = "?", *text = "?";
    drv.GetErrorName(call.error, &name);
    drv.GetErrorString(call.error, &text);
    status = tfx__status(TFX_STATUS_DEVICE_ERROR,
                         "%s: entry '%s': %s%s%s%s failed with %s (%d): %s",
                         model->label, entry->name, call.call,
                         call.kernel >= 0 ? " of kernel '" : "",
                         call.kernel >= 0 && (uint32_t)call.kernel < model->artifact->num_gpu_kernels
                             ? model->artifact->gpu_kernels[call.kernel]
                             : "",
                         call.kernel >= 0 ? "'" : "", name, (int)call.error, text);
    drv.StreamSynchronize(cuda->stream);
    goto fail;
  }
  for (int32_t k = 0; outputs && k < entry->num_outputs; ++k)
    CU_CHECK("cuMemcpyDtoHAsync (an output)",
             drv.MemcpyDtoHAsync(outputs[k], (CUdeviceptr)(uintptr_t)pointers[entry->num_inputs + k],
                                 tensor_bytes(&entry->outputs[k]), cuda->stream));
  if (call_end)
    drv.EventRecord(call_end, cuda->stream);
  /* Kernel faults surface here, at the first synchronization. */
  CU_CHECK("the entry's kernels (cuStreamSynchronize)", drv.StreamSynchronize(cuda->stream));
  for (uint32_t k = 0; k < call.num_flags && *code == 0; ++k)
    if (cuda->flags[k])
      *code = 1; /* an input value the generated code rejected */
  if (cuda->profile) {
    for (size_t k = 0; k < cuda->num_launches; ++k) {
      float ms = 0;
      if (drv.EventElapsedTime(&ms, cuda->launches[k].start, cuda->launches[k].end) == CUDA_SUCCESS) {
        cuda->kernel_ms[cuda->launches[k].kernel] += ms;
        cuda->kernel_calls[cuda->launches[k].kernel] += 1;
      }
    }
    float ms = 0;
    if (call_end && drv.EventElapsedTime(&ms, call_start, call_end) == CUDA_SUCCESS)
      cuda->call_ms += ms;
    cuda->calls += repeat;
  }

fail:
  if (call_start)
    drv.EventDestroy(call_start);
  if (call_end)
    drv.EventDestroy(call_end);
  pthread_mutex_unlock(&cuda->mutex);
  free(pointers);
  return status;
}
