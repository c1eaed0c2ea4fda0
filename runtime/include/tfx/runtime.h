/*===- tfx/runtime.h - the tfx runtime C API -------------------------------===*
 *
 * libtfxrt loads models compiled by `tfx-compile --target cpu` (or
 * `--target cuda:CHIP`) and runs them. It is C99, depends only on libc,
 * pthreads and libdl, and never aborts on bad input: every fallible call
 * returns a status. CUDA artifacts run through the NVIDIA driver, which is
 * opened with dlopen when the first one is opened; their tensors stay host
 * memory in this API (the runtime copies them to and from the GPU).
 *
 * A typical program:
 *
 *   tfx_context *ctx; tfx_model *model;
 *   tfx_status *st = tfx_context_create(0, &ctx);          // all cores
 *   if (!st) st = tfx_model_open("bert.so", &model);       // or _embedded
 *   ...
 *   tfx_tensor in[2] = {...}, out[1] = {0};                // data NULL:
 *   if (!st) st = tfx_model_run(model, ctx, 0, in, 2, out, 1); // allocated
 *   if (st) { fprintf(stderr, "%s\n", tfx_status_message(st));
 *             tfx_status_free(st); }
 *   tfx_buffer_free(out[0].data);
 *   tfx_model_close(model); tfx_context_destroy(ctx);
 *
 * Thread safety: a model and a context may be shared by threads; concurrent
 * tfx_model_run calls on one context share its pool (a call that finds the
 * pool busy runs its parallel loops on its own thread).
 *
 * Stability: functions and types here only gain members at the end; the
 * artifact ABI is versioned separately (tfx/artifact.h).
 *===----------------------------------------------------------------------===*/
#ifndef TFX_RUNTIME_H
#define TFX_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "tfx/artifact.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define TFX_API __attribute__((visibility("default")))
#else
#define TFX_API
#endif

#define TFX_RUNTIME_VERSION_MAJOR 0
#define TFX_RUNTIME_VERSION_MINOR 1

/*===------------------------------ status -------------------------------===*/

typedef enum tfx_status_code {
  TFX_STATUS_OK = 0,
  /* A caller mistake: wrong input count, dtype, rank or shape, NULL. */
  TFX_STATUS_INVALID_ARGUMENT = 1,
  /* A file (artifact, weights) or a named entry does not exist. */
  TFX_STATUS_NOT_FOUND = 2,
  /* A file exists but cannot be read or mapped. */
  TFX_STATUS_IO_ERROR = 3,
  /* Not a tfx artifact, truncated, wrong magic/ABI, bad weight checksum. */
  TFX_STATUS_CORRUPT_ARTIFACT = 4,
  /* The artifact needs CPU features this machine (or its OS) lacks. */
  TFX_STATUS_UNSUPPORTED_CPU = 5,
  TFX_STATUS_OUT_OF_MEMORY = 6,
  /* A runtime bug or a system failure (thread creation). */
  TFX_STATUS_INTERNAL = 7,
  /* The artifact needs a device this machine lacks: no NVIDIA driver, no
   * GPU, or a GPU of another architecture than it was compiled for. */
  TFX_STATUS_UNAVAILABLE = 8,
  /* A GPU driver call failed; the message names the call (and kernel). */
  TFX_STATUS_DEVICE_ERROR = 9
} tfx_status_code;

/* A failed call's code and message. Functions return NULL on success, so
 * `if (st)` tests for failure; the caller frees a non-NULL status. */
typedef struct tfx_status tfx_status;

/* TFX_STATUS_OK for NULL. */
TFX_API tfx_status_code tfx_status_get_code(const tfx_status *status);
/* "OK" for NULL; valid until the status is freed. */
TFX_API const char *tfx_status_message(const tfx_status *status);
/* "OK", "INVALID_ARGUMENT", ... ; "UNKNOWN" for other values. */
TFX_API const char *tfx_status_code_name(tfx_status_code code);
/* Accepts NULL. */
TFX_API void tfx_status_free(tfx_status *status);

/*===----------------------------- context -------------------------------===*/

/* Owns the thread pool that runs generated code's parallel loops. */
typedef struct tfx_context tfx_context;

/* num_threads: total threads working on a call, the caller's included
 * (num_threads - 1 workers are started); 0 = the cores this process may run
 * on. At most 1024. */
TFX_API tfx_status *tfx_context_create(int32_t num_threads,
                                       tfx_context **out_context);
/* Joins the workers; no tfx_model_run may be in flight. Accepts NULL. */
TFX_API void tfx_context_destroy(tfx_context *context);
TFX_API int32_t tfx_context_num_threads(const tfx_context *context);
/* Runs body(closure, i) for i in [0, count) on the pool and returns when all
 * are done (the same service generated code gets through tfx_exec_env).
 * Called from inside a body, or while another thread uses the pool, it runs
 * the loop on the calling thread. context NULL: on the calling thread. */
TFX_API void tfx_context_parallel_for(tfx_context *context, int64_t count,
                                      void (*body)(void *closure, int64_t i),
                                      void *closure);

/*===--------------------------- CPU features ----------------------------===*/

/* TFX_CPU_* bits this machine supports, with OS support (XSAVE state
 * enabled) taken into account. */
TFX_API uint64_t tfx_cpu_features(void);
/* Writes the names of the bits in `features` ("AVX2, FMA"; unknown bits as
 * "bit N") to buf, truncating to size; returns the full length. */
TFX_API size_t tfx_cpu_feature_names(uint64_t features, char *buf,
                                     size_t size);

/*===------------------------------ tensors ------------------------------===*/

/* A dense row-major tensor given to or returned by tfx_model_run. */
typedef struct tfx_tensor {
  void *data;
  int32_t dtype; /* tfx_dtype */
  int32_t rank;
  int64_t shape[TFX_ARTIFACT_MAX_RANK];
} tfx_tensor;

/* Bytes per element; 0 for an unknown dtype. */
TFX_API size_t tfx_dtype_size(int32_t dtype);
/* "f32", "i64", ... ; "?" for an unknown dtype. */
TFX_API const char *tfx_dtype_name(int32_t dtype);
/* Frees a buffer that tfx_model_run allocated. Accepts NULL. */
TFX_API void tfx_buffer_free(void *data);

/*===------------------------------- models ------------------------------===*/

typedef struct tfx_model tfx_model;

/* Opens a shared-object artifact (`tfx-compile --emit=so`): validates the
 * ELF file, loads it, then checks its `tfx_artifact_main` descriptor (magic,
 * ABI version, structure), this CPU's features and the weights (a sidecar
 * file is looked up next to the .so). */
TFX_API tfx_status *tfx_model_open(const char *path, tfx_model **out_model);
/* Adopts a descriptor linked into the program (`NAME_artifact` of an object
 * or static library) with the same checks. A sidecar weights file is looked
 * up in weights_dir, or the current directory when NULL. The descriptor
 * must outlive the model. */
TFX_API tfx_status *tfx_model_open_embedded(const tfx_artifact *artifact,
                                            const char *weights_dir,
                                            tfx_model **out_model);
/* Accepts NULL; no run may be in flight. */
TFX_API void tfx_model_close(tfx_model *model);

TFX_API const tfx_artifact *tfx_model_artifact(const tfx_model *model);
TFX_API int32_t tfx_model_num_entries(const tfx_model *model);
/* The entry's name and tensor signature; NULL when index is out of range. */
TFX_API const tfx_artifact_entry *tfx_model_entry(const tfx_model *model,
                                                  int32_t index);
/* Index of the entry called `name`, or -1. */
TFX_API int32_t tfx_model_find_entry(const tfx_model *model,
                                     const char *name);

/* Runs entry `entry` on inputs[0..num_inputs), in the order of the entry's
 * signature, each checked against it (dtype, rank, shape, non-NULL data).
 * An output with data != NULL is caller-owned and checked the same way; one
 * with data == NULL is allocated (64-byte aligned; free it with
 * tfx_buffer_free) and its dtype, rank and shape are filled in. On failure
 * outputs allocated by this call are freed and reset to NULL. context NULL
 * runs on the calling thread. */
TFX_API tfx_status *tfx_model_run(tfx_model *model, tfx_context *context,
                                  int32_t entry, const tfx_tensor *inputs,
                                  int32_t num_inputs, tfx_tensor *outputs,
                                  int32_t num_outputs);

/* CUDA artifacts: the name of the GPU the model runs on; NULL otherwise. */
TFX_API const char *tfx_model_device_name(const tfx_model *model);
/* CUDA artifacts: runs entry `entry` `count` more times on the inputs its
 * last tfx_model_run copied to the device, without copying anything in or
 * out, and returns when the GPU has finished: the device time of a call,
 * for benchmarks (tensors stay in the runtime's device buffers). */
TFX_API tfx_status *tfx_model_repeat_on_device(tfx_model *model, int32_t entry,
                                               int32_t count);

/* FNV-1a 64 of the artifact ABI over `size` bytes (tools and tests use it
 * to write sidecar files and descriptors). */
TFX_API uint64_t tfx_weights_checksum(const void *data, uint64_t size);

/*===----------------------------- generation ----------------------------===*/

/* A decoder compiled with `tfx-compile --decoder` has step entries
 * (`prefill`, `decode`, `decode_bN`, `verify`) of one signature:
 *
 *   inputs   input_ids [B,T] i64, cache_lengths [B] i64,
 *            block_table [B,M] i32, k_cache [N,L,W,S] f32,
 *            v_cache [N,L,S,W] f32
 *   outputs  logits [B,T,V] f32, new_k [L,B,T,W] f32, new_v [L,B,T,W] f32
 *
 * Each runs T new tokens of B sequences; sequence b has cache_lengths[b]
 * tokens in the key/value cache, a pool of N blocks of S tokens that all
 * sequences share, its blocks listed in its row of block_table. The entry
 * only reads the cache and returns the new tokens' keys and values; the
 * runtime owns the pool and stores the rows it keeps. The functions below
 * do all of that; tfx_model_run can also call the entries directly. */

/* Called with each new token as it is chosen; return nonzero to stop. */
typedef int32_t (*tfx_token_callback)(void *user_data, int64_t token);

typedef struct tfx_generate_options {
  int32_t max_new_tokens;   /* default 64 */
  float temperature;        /* 0 (default): greedy */
  int32_t top_k;            /* 0 (default): off */
  float top_p;              /* 1 (default): off */
  float repetition_penalty; /* 1 (default): off */
  uint64_t seed;            /* of the sampling generator (default 0) */
  /* Generation stops after any of these tokens (it is returned). */
  const int64_t *stop_tokens;
  int32_t num_stop_tokens;
  tfx_token_callback on_token; /* may be NULL */
  void *user_data;
  /* Speculative decoding: a draft decoder with the same vocabulary (e.g.
   * the model with fewer layers: tfx-compile --decoder --keep-layers N)
   * proposes draft_tokens tokens, which the model checks in one call of a
   * step entry with at least draft_tokens + 1 tokens (`verify`, else
   * `prefill`). Tokens are accepted so that the output follows the model's
   * own distribution; greedy output is identical to plain decoding's. */
  tfx_model *draft;
  int32_t draft_tokens; /* default 4 */
} tfx_generate_options;

/* Fills in the defaults. */
TFX_API void tfx_generate_options_init(tfx_generate_options *options);

typedef enum tfx_finish_reason {
  TFX_FINISH_LENGTH = 0,   /* max_new_tokens reached */
  TFX_FINISH_STOP = 1,     /* a stop token */
  TFX_FINISH_CALLBACK = 2, /* on_token returned nonzero */
  TFX_FINISH_CONTEXT = 3   /* the sequence filled the model's context */
} tfx_finish_reason;

typedef struct tfx_generate_stats {
  int32_t prompt_tokens;
  int32_t new_tokens;
  int32_t finish_reason;  /* tfx_finish_reason */
  int32_t model_calls;    /* step-entry calls of the model (prefill included) */
  int32_t draft_calls;
  int32_t draft_proposed; /* speculative decoding: tokens proposed, */
  int32_t draft_accepted; /* and accepted by the model */
  double prefill_seconds; /* until the first new token */
  double total_seconds;
} tfx_generate_stats;

/* Generates up to options->max_new_tokens tokens after `prompt` and writes
 * them to tokens[0 .. *num_tokens) (capacity >= max_new_tokens). options
 * NULL: the defaults; stats may be NULL. A cache for the call is allocated
 * and freed here. */
TFX_API tfx_status *tfx_generate(tfx_model *model, tfx_context *context,
                                 const int64_t *prompt, int32_t prompt_length,
                                 const tfx_generate_options *options,
                                 int64_t *tokens, int32_t capacity,
                                 int32_t *num_tokens,
                                 tfx_generate_stats *stats);

/* Continuous batching: requests join a running batch as others finish.
 * Each iteration admits queued requests while the batch has room and the
 * cache pool has blocks for their prompt and max_new_tokens (their prompts
 * are prefilled then), then runs one decode step for the whole batch. Not
 * thread-safe: one thread drives a scheduler. Speculative options are not
 * used here. */
typedef struct tfx_scheduler tfx_scheduler;

/* max_batch 0: the largest batch of the model's decode entries. */
TFX_API tfx_status *tfx_scheduler_create(tfx_model *model,
                                         tfx_context *context,
                                         int32_t max_batch,
                                         tfx_scheduler **out_scheduler);
TFX_API void tfx_scheduler_destroy(tfx_scheduler *scheduler);
/* Queues a request (prompt and options are copied); its id is returned. */
TFX_API tfx_status *tfx_scheduler_submit(tfx_scheduler *scheduler,
                                         const int64_t *prompt,
                                         int32_t prompt_length,
                                         const tfx_generate_options *options,
                                         int64_t *out_id);
/* One iteration; *num_pending: requests not finished yet. */
TFX_API tfx_status *tfx_scheduler_step(tfx_scheduler *scheduler,
                                       int32_t *num_pending);
/* Iterates until every request has finished. */
TFX_API tfx_status *tfx_scheduler_run(tfx_scheduler *scheduler);
/* A request's tokens so far (valid until the scheduler is destroyed or the
 * next step) and its statistics; finished is set once it is complete.
 * Latency is measured from submission. */
TFX_API tfx_status *tfx_scheduler_result(tfx_scheduler *scheduler, int64_t id,
                                         const int64_t **tokens,
                                         int32_t *num_tokens,
                                         int32_t *finished,
                                         tfx_generate_stats *stats);

#ifdef __cplusplus
}
#endif

#endif /* TFX_RUNTIME_H */
