//===- RuntimeTest.cpp - libtfxrt: status, checksum, CPU, thread pool -----===//
//
// The parts of the C runtime that do not need an artifact. Checksums are
// compared with values computed independently in Python.
//
//===----------------------------------------------------------------------===//

#include "tfx/runtime.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

TEST(RuntimeStatus, CodesAndMessages) {
  EXPECT_EQ(tfx_status_get_code(nullptr), TFX_STATUS_OK);
  EXPECT_STREQ(tfx_status_message(nullptr), "OK");
  tfx_status_free(nullptr);
  EXPECT_STREQ(tfx_status_code_name(TFX_STATUS_OK), "OK");
  EXPECT_STREQ(tfx_status_code_name(TFX_STATUS_INVALID_ARGUMENT),
               "INVALID_ARGUMENT");
  EXPECT_STREQ(tfx_status_code_name(TFX_STATUS_NOT_FOUND), "NOT_FOUND");
  EXPECT_STREQ(tfx_status_code_name(TFX_STATUS_IO_ERROR), "IO_ERROR");
  EXPECT_STREQ(tfx_status_code_name(TFX_STATUS_CORRUPT_ARTIFACT),
               "CORRUPT_ARTIFACT");
  EXPECT_STREQ(tfx_status_code_name(TFX_STATUS_UNSUPPORTED_CPU),
               "UNSUPPORTED_CPU");
  EXPECT_STREQ(tfx_status_code_name(TFX_STATUS_OUT_OF_MEMORY),
               "OUT_OF_MEMORY");
  EXPECT_STREQ(tfx_status_code_name(TFX_STATUS_INTERNAL), "INTERNAL");
  EXPECT_STREQ(tfx_status_code_name((tfx_status_code)42), "UNKNOWN");

  tfx_context *context = nullptr;
  tfx_status *status = tfx_context_create(-3, &context);
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(tfx_status_get_code(status), TFX_STATUS_INVALID_ARGUMENT);
  EXPECT_STREQ(tfx_status_message(status),
               "tfx_context_create: -3 threads requested; expected 0 (all "
               "cores) to 1024");
  EXPECT_EQ(context, nullptr);
  tfx_status_free(status);
}

TEST(RuntimeChecksum, MatchesIndependentValues) {
  // FNV-1a 64 over little-endian 8-byte words, last word zero-padded.
  EXPECT_EQ(tfx_weights_checksum(nullptr, 0), 0xcbf29ce484222325ull);
  EXPECT_EQ(tfx_weights_checksum("tfx", 3), 0xe785e94ce563c8a3ull);
  unsigned char bytes[13];
  for (int k = 0; k < 13; ++k)
    bytes[k] = (unsigned char)k;
  EXPECT_EQ(tfx_weights_checksum(bytes, 13), 0x157287c0a4c78455ull);
  // Unaligned input gives the same answer.
  std::vector<unsigned char> shifted(14);
  std::memcpy(shifted.data() + 1, bytes, 13);
  EXPECT_EQ(tfx_weights_checksum(shifted.data() + 1, 13),
            0x157287c0a4c78455ull);
  bytes[12] ^= 1;
  EXPECT_NE(tfx_weights_checksum(bytes, 13), 0x157287c0a4c78455ull);
}

TEST(RuntimeDType, SizesAndNames) {
  EXPECT_EQ(tfx_dtype_size(TFX_DTYPE_F32), 4u);
  EXPECT_EQ(tfx_dtype_size(TFX_DTYPE_BF16), 2u);
  EXPECT_EQ(tfx_dtype_size(TFX_DTYPE_I64), 8u);
  EXPECT_EQ(tfx_dtype_size(TFX_DTYPE_BOOL), 1u);
  EXPECT_EQ(tfx_dtype_size(8), 0u);
  EXPECT_EQ(tfx_dtype_size(-1), 0u);
  EXPECT_STREQ(tfx_dtype_name(TFX_DTYPE_I64), "i64");
  EXPECT_STREQ(tfx_dtype_name(TFX_DTYPE_F16), "f16");
  EXPECT_STREQ(tfx_dtype_name(99), "?");
}

TEST(RuntimeCpu, FeatureNames) {
  char buf[128];
  size_t length = tfx_cpu_feature_names(
      TFX_CPU_AVX2 | TFX_CPU_AMX_BF16 | (1ull << 40), buf, sizeof(buf));
  EXPECT_STREQ(buf, "AVX2, AMX-BF16, bit 40");
  EXPECT_EQ(length, std::strlen(buf));
  // Truncation still reports the full length.
  char small[6];
  EXPECT_EQ(tfx_cpu_feature_names(TFX_CPU_AVX512F | TFX_CPU_FMA, small,
                                  sizeof(small)),
            std::strlen("FMA, AVX512F"));
  EXPECT_STREQ(small, "FMA, ");
  EXPECT_EQ(tfx_cpu_feature_names(0, buf, sizeof(buf)), 0u);
  EXPECT_STREQ(buf, "");
}

TEST(RuntimeCpu, DetectsThisMachine) {
  uint64_t features = tfx_cpu_features();
#if defined(__x86_64__)
  // Every x86-64 machine this builds on has SSE4.2; the compiler's own view
  // of the host must agree with the runtime's.
  EXPECT_TRUE(features & TFX_CPU_SSE42);
  __builtin_cpu_init();
  EXPECT_EQ(!!(features & TFX_CPU_AVX2), !!__builtin_cpu_supports("avx2"));
  EXPECT_EQ(!!(features & TFX_CPU_FMA), !!__builtin_cpu_supports("fma"));
  EXPECT_EQ(!!(features & TFX_CPU_AVX512F),
            !!__builtin_cpu_supports("avx512f"));
  EXPECT_EQ(!!(features & TFX_CPU_AVX512BW),
            !!__builtin_cpu_supports("avx512bw"));
  EXPECT_EQ(!!(features & TFX_CPU_AVX512VNNI),
            !!__builtin_cpu_supports("avx512vnni"));
#endif
  // A feature implies the ones it builds on.
  if (features & TFX_CPU_AVX512F) {
    EXPECT_TRUE(features & TFX_CPU_AVX2);
  }
  if (features & TFX_CPU_AVX2) {
    EXPECT_TRUE(features & TFX_CPU_AVX);
  }
}

struct Counts {
  std::vector<std::atomic<int>> hits;
  explicit Counts(int64_t n) : hits(n) {}
};

static void countIndex(void *closure, int64_t i) {
  static_cast<Counts *>(closure)->hits[i].fetch_add(1);
}

TEST(RuntimeContext, ParallelForVisitsEachIndexOnce) {
  for (int32_t threads : {1, 2, 4, 7}) {
    tfx_context *context = nullptr;
    ASSERT_EQ(tfx_context_create(threads, &context), nullptr);
    EXPECT_EQ(tfx_context_num_threads(context), threads);
    for (int64_t count : {0, 1, 2, 7, 64, 1000, 100003}) {
      Counts counts(count);
      tfx_context_parallel_for(context, count, countIndex, &counts);
      for (int64_t i = 0; i < count; ++i)
        ASSERT_EQ(counts.hits[i].load(), 1)
            << "index " << i << " of " << count << ", " << threads
            << " threads";
    }
    tfx_context_destroy(context);
  }
  // No context: the calling thread does the work.
  Counts counts(10);
  tfx_context_parallel_for(nullptr, 10, countIndex, &counts);
  for (auto &hit : counts.hits)
    EXPECT_EQ(hit.load(), 1);
}

TEST(RuntimeContext, ZeroMeansAvailableCores) {
  tfx_context *context = nullptr;
  ASSERT_EQ(tfx_context_create(0, &context), nullptr);
  EXPECT_GE(tfx_context_num_threads(context), 1);
  EXPECT_LE((unsigned)tfx_context_num_threads(context),
            std::max(1u, std::thread::hardware_concurrency()));
  tfx_context_destroy(context);
}

struct Nested {
  tfx_context *context;
  Counts inner{8 * 50};
};

static void nestedBody(void *closure, int64_t outer) {
  auto *nested = static_cast<Nested *>(closure);
  struct Slice {
    Nested *nested;
    int64_t outer;
  } slice{nested, outer};
  tfx_context_parallel_for(
      nested->context, 50,
      [](void *c, int64_t i) {
        auto *s = static_cast<Slice *>(c);
        s->nested->inner.hits[s->outer * 50 + i].fetch_add(1);
      },
      &slice);
}

TEST(RuntimeContext, NestedAndConcurrentLoopsComplete) {
  tfx_context *context = nullptr;
  ASSERT_EQ(tfx_context_create(3, &context), nullptr);
  // A loop inside a loop runs on the thread that reached it.
  Nested nested{context};
  tfx_context_parallel_for(context, 8, nestedBody, &nested);
  for (auto &hit : nested.inner.hits)
    EXPECT_EQ(hit.load(), 1);

  // Several application threads share one pool.
  std::vector<std::thread> callers;
  std::vector<std::unique_ptr<Counts>> results;
  for (int t = 0; t < 4; ++t)
    results.push_back(std::make_unique<Counts>(5000));
  for (int t = 0; t < 4; ++t)
    callers.emplace_back([&, t] {
      for (int round = 0; round < 20; ++round)
        tfx_context_parallel_for(context, 5000, countIndex, results[t].get());
    });
  for (auto &caller : callers)
    caller.join();
  for (auto &result : results)
    for (auto &hit : result->hits)
      ASSERT_EQ(hit.load(), 20);
  tfx_context_destroy(context);
}

} // namespace
