/*===- context.c - the thread pool behind tfx_exec_env.parallel_for --------===*
 *
 * One job at a time: the dispatching thread publishes (body, count), wakes
 * the workers, and takes chunks of indices itself. A worker joins the job
 * only while it is open; once the dispatcher has seen every index taken it
 * closes the job and waits for the workers that joined. So a worker that
 * the OS has not scheduled yet (a busy machine) costs nothing: the
 * dispatcher does its share. Workers spin briefly before sleeping because
 * generated code issues many short parallel loops per call, and a
 * condition-variable wake-up costs tens of microseconds each time.
 *===----------------------------------------------------------------------===*/
#include "internal.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#define TFX_MAX_THREADS 1024
/* Spin iterations before a worker or the dispatcher sleeps (~50 us). */
#define TFX_SPIN_LIMIT 20000

struct tfx_context {
  int32_t num_threads;
  int32_t num_workers; /* threads started */
  pthread_t *workers;

  /* Held by the thread dispatching a job; a thread that cannot take it
   * (nested or concurrent use) runs its loop serially. */
  pthread_mutex_t dispatch;

  pthread_mutex_t mutex;
  pthread_cond_t wake; /* generation changed or shutdown */
  pthread_cond_t done; /* pending reached 0 */

  /* The job; written under `mutex` before `generation` moves. */
  void (*body)(void *closure, int64_t i);
  void *closure;
  int64_t count;
  int64_t chunk;

  /* Accessed with atomics; `open` and joining `active` under `mutex`. */
  int64_t next;       /* first index not yet taken */
  int32_t active;     /* workers that joined the current job, not done */
  int32_t open;       /* workers may still join the current job */
  uint64_t generation;
  int32_t shutdown;
};

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __asm__ __volatile__("pause");
#endif
}

/* Takes chunks of indices until none are left. */
static void run_chunks(tfx_context *ctx) {
  const int64_t count = ctx->count, chunk = ctx->chunk;
  for (;;) {
    int64_t begin = __atomic_fetch_add(&ctx->next, chunk, __ATOMIC_RELAXED);
    if (begin >= count)
      return;
    int64_t end = begin + chunk < count ? begin + chunk : count;
    for (int64_t i = begin; i < end; ++i)
      ctx->body(ctx->closure, i);
  }
}

static void *worker_main(void *arg) {
  tfx_context *ctx = arg;
  uint64_t seen = 0;
  for (;;) {
    int spins = 0;
    while (__atomic_load_n(&ctx->generation, __ATOMIC_ACQUIRE) == seen &&
           !__atomic_load_n(&ctx->shutdown, __ATOMIC_ACQUIRE) &&
           spins < TFX_SPIN_LIMIT) {
      cpu_relax();
      ++spins;
    }
    pthread_mutex_lock(&ctx->mutex);
    while (ctx->generation == seen && !ctx->shutdown)
      pthread_cond_wait(&ctx->wake, &ctx->mutex);
    if (ctx->shutdown) {
      pthread_mutex_unlock(&ctx->mutex);
      return NULL;
    }
    seen = ctx->generation;
    int join = ctx->open;
    if (join)
      __atomic_add_fetch(&ctx->active, 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&ctx->mutex);
    if (!join)
      continue; /* woke after the dispatcher finished the job alone */

    run_chunks(ctx);

    if (__atomic_sub_fetch(&ctx->active, 1, __ATOMIC_ACQ_REL) == 0) {
      pthread_mutex_lock(&ctx->mutex);
      pthread_cond_signal(&ctx->done);
      pthread_mutex_unlock(&ctx->mutex);
    }
  }
}

static int32_t available_cores(void) {
#ifdef CPU_COUNT
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
    return (int32_t)CPU_COUNT(&set);
#endif
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  return online > 0 ? (int32_t)online : 1;
}

tfx_status *tfx_context_create(int32_t num_threads,
                               tfx_context **out_context) {
  if (!out_context)
    return tfx__status(TFX_STATUS_INVALID_ARGUMENT,
                       "tfx_context_create: out_context is NULL");
  *out_context = NULL;
  if (num_threads < 0 || num_threads > TFX_MAX_THREADS)
    return tfx__status(TFX_STATUS_INVALID_ARGUMENT,
                       "tfx_context_create: %d threads requested; expected "
                       "0 (all cores) to %d",
                       (int)num_threads, TFX_MAX_THREADS);
  if (num_threads == 0)
    num_threads = available_cores();

  tfx_context *ctx = calloc(1, sizeof(*ctx));
  if (!ctx)
    return tfx__status(TFX_STATUS_OUT_OF_MEMORY,
                       "out of memory creating a context");
  ctx->num_threads = num_threads;
  pthread_mutex_init(&ctx->dispatch, NULL);
  pthread_mutex_init(&ctx->mutex, NULL);
  pthread_cond_init(&ctx->wake, NULL);
  pthread_cond_init(&ctx->done, NULL);
  if (num_threads > 1) {
    ctx->workers = calloc((size_t)num_threads - 1, sizeof(pthread_t));
    if (!ctx->workers) {
      tfx_context_destroy(ctx);
      return tfx__status(TFX_STATUS_OUT_OF_MEMORY,
                         "out of memory creating a context");
    }
  }
  for (int32_t t = 0; t + 1 < num_threads; ++t) {
    int err = pthread_create(&ctx->workers[t], NULL, worker_main, ctx);
    if (err != 0) {
      tfx_context_destroy(ctx);
      return tfx__status(TFX_STATUS_INTERNAL,
                         "could not start worker thread %d of %d (error %d)",
                         (int)t + 1, (int)num_threads - 1, err);
    }
    ctx->num_workers = t + 1;
  }
  *out_context = ctx;
  return NULL;
}

void tfx_context_destroy(tfx_context *ctx) {
  if (!ctx)
    return;
  pthread_mutex_lock(&ctx->mutex);
  __atomic_store_n(&ctx->shutdown, 1, __ATOMIC_RELEASE);
  pthread_cond_broadcast(&ctx->wake);
  pthread_mutex_unlock(&ctx->mutex);
  for (int32_t t = 0; t < ctx->num_workers; ++t)
    pthread_join(ctx->workers[t], NULL);
  free(ctx->workers);
  pthread_cond_destroy(&ctx->done);
  pthread_cond_destroy(&ctx->wake);
  pthread_mutex_destroy(&ctx->mutex);
  pthread_mutex_destroy(&ctx->dispatch);
  free(ctx);
}

int32_t tfx_context_num_threads(const tfx_context *ctx) {
  return ctx ? ctx->num_threads : 1;
}

static void serial_for(int64_t count, void (*body)(void *, int64_t),
                       void *closure) {
  for (int64_t i = 0; i < count; ++i)
    body(closure, i);
}

void tfx_context_parallel_for(tfx_context *ctx, int64_t count,
                              void (*body)(void *closure, int64_t i),
                              void *closure) {
  if (count <= 0 || !body)
    return;
  if (!ctx || ctx->num_workers == 0 || count == 1 ||
      pthread_mutex_trylock(&ctx->dispatch) != 0) {
    serial_for(count, body, closure);
    return;
  }
  /* Several chunks per thread balance uneven iterations; one index per
   * chunk when the loop is short. */
  int64_t chunk = count / ((int64_t)ctx->num_threads * 4);
  if (chunk < 1)
    chunk = 1;

  pthread_mutex_lock(&ctx->mutex);
  ctx->body = body;
  ctx->closure = closure;
  ctx->count = count;
  ctx->chunk = chunk;
  ctx->open = 1;
  __atomic_store_n(&ctx->next, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&ctx->active, 0, __ATOMIC_RELAXED);
  __atomic_add_fetch(&ctx->generation, 1, __ATOMIC_RELEASE);
  pthread_cond_broadcast(&ctx->wake);
  pthread_mutex_unlock(&ctx->mutex);

  run_chunks(ctx);

  /* Every index is taken: no one else may join; wait for those who did. */
  pthread_mutex_lock(&ctx->mutex);
  ctx->open = 0;
  pthread_mutex_unlock(&ctx->mutex);
  int spins = 0;
  while (__atomic_load_n(&ctx->active, __ATOMIC_ACQUIRE) != 0 &&
         spins < TFX_SPIN_LIMIT) {
    cpu_relax();
    ++spins;
  }
  pthread_mutex_lock(&ctx->mutex);
  while (__atomic_load_n(&ctx->active, __ATOMIC_ACQUIRE) != 0)
    pthread_cond_wait(&ctx->done, &ctx->mutex);
  pthread_mutex_unlock(&ctx->mutex);
  pthread_mutex_unlock(&ctx->dispatch);
}

void tfx__exec_parallel_for(void *pool, int64_t count,
                            void (*body)(void *closure, int64_t i),
                            void *closure) {
  tfx_context_parallel_for(pool, count, body, closure);
}

void *tfx__context_pool(tfx_context *ctx) { return ctx; }
