//===- RuntimeModelTest.cpp - libtfxrt: opening and running artifacts -----===//
//
// Uses the hand-written artifact of test/Runtime/Inputs/test_artifact.c,
// linked in (tiny_artifact, tiny_external_artifact) and built as shared
// objects with broken variants (TFX_RT_TEST_ARTIFACTS). Every refusal is
// checked by code and exact message.
//
//===----------------------------------------------------------------------===//

#include "tfx/runtime.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

extern "C" const tfx_artifact tiny_artifact;
extern "C" const tfx_artifact tiny_external_artifact;

namespace {

const std::string kArtifacts = TFX_RT_TEST_ARTIFACTS;
const float kWeights[18] = {1,  2,  3,  0.5f, -1, 2,  0,  1,  2,
                            10, 11, 12, 20,   21, 22, 30, 31, 32};

/// The status's code and message, freeing it; {OK, "OK"} for success.
struct Result {
  tfx_status_code code;
  std::string message;
};
Result take(tfx_status *status) {
  Result result{tfx_status_get_code(status), tfx_status_message(status)};
  tfx_status_free(status);
  return result;
}

Result openFile(const std::string &path) {
  tfx_model *model = nullptr;
  Result result = take(tfx_model_open(path.c_str(), &model));
  EXPECT_EQ(result.code == TFX_STATUS_OK, model != nullptr);
  tfx_model_close(model);
  return result;
}

Result openEmbedded(const tfx_artifact &artifact, const char *dir = nullptr) {
  tfx_model *model = nullptr;
  Result result = take(tfx_model_open_embedded(&artifact, dir, &model));
  EXPECT_EQ(result.code == TFX_STATUS_OK, model != nullptr);
  tfx_model_close(model);
  return result;
}

/// A scratch folder removed with its files at the end of a test.
struct TempDir {
  std::string path;
  TempDir() {
    char name[] = "/tmp/tfxrt-test-XXXXXX";
    path = mkdtemp(name);
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
  std::string write(const std::string &name, const void *data, size_t size) {
    std::string file = path + "/" + name;
    std::ofstream(file, std::ios::binary)
        .write(static_cast<const char *>(data), (std::streamsize)size);
    return file;
  }
};

std::vector<char> readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

tfx_tensor tensorOf(void *data, tfx_dtype dtype,
                    std::initializer_list<int64_t> shape) {
  tfx_tensor t{};
  t.data = data;
  t.dtype = dtype;
  t.rank = (int32_t)shape.size();
  int32_t d = 0;
  for (int64_t n : shape)
    t.shape[d++] = n;
  return t;
}

TEST(RuntimeOpen, SharedObjectAndDescription) {
  tfx_model *model = nullptr;
  std::string path = kArtifacts + "/ok.so";
  ASSERT_EQ(take(tfx_model_open(path.c_str(), &model)).message, "OK");
  EXPECT_STREQ(tfx_model_artifact(model)->model_name, "tiny");
  ASSERT_EQ(tfx_model_num_entries(model), 2);
  EXPECT_EQ(tfx_model_find_entry(model, "gather"), 1);
  EXPECT_EQ(tfx_model_find_entry(model, "nope"), -1);
  EXPECT_EQ(tfx_model_entry(model, 2), nullptr);
  EXPECT_EQ(tfx_model_entry(model, -1), nullptr);
  const tfx_artifact_entry *gather = tfx_model_entry(model, 1);
  EXPECT_STREQ(gather->inputs[0].name, "ids");
  EXPECT_EQ(gather->inputs[0].dtype, TFX_DTYPE_I64);
  EXPECT_EQ(gather->outputs[0].shape[1], 3);
  tfx_model_close(model);
}

TEST(RuntimeOpen, RefusesBrokenSharedObjects) {
  Result r = openFile(kArtifacts + "/bad_magic.so");
  EXPECT_EQ(r.code, TFX_STATUS_CORRUPT_ARTIFACT);
  EXPECT_EQ(r.message, "'" + kArtifacts +
                           "/bad_magic.so': bad magic \"TFXART\\x00\\x7f\" "
                           "(expected \"TFXART01\"): not a tfx artifact, or "
                           "a corrupt one");
  r = openFile(kArtifacts + "/bad_abi.so");
  EXPECT_EQ(r.code, TFX_STATUS_CORRUPT_ARTIFACT);
  EXPECT_EQ(r.message, "'" + kArtifacts +
                           "/bad_abi.so': artifact ABI version 7, but this "
                           "runtime reads versions 1 to 2; compile the model "
                           "with a tfx-compile that matches the runtime");
  r = openFile(kArtifacts + "/no_symbol.so");
  EXPECT_EQ(r.code, TFX_STATUS_CORRUPT_ARTIFACT);
  EXPECT_EQ(r.message, "'" + kArtifacts +
                           "/no_symbol.so' exports no 'tfx_artifact_main' "
                           "descriptor: not a tfx artifact");
  r = openFile(kArtifacts + "/small_symbol.so");
  EXPECT_EQ(r.code, TFX_STATUS_CORRUPT_ARTIFACT);
  EXPECT_EQ(r.message, "'" + kArtifacts +
                           "/small_symbol.so': 'tfx_artifact_main' is 4 "
                           "bytes, smaller than a descriptor (80 bytes)");
  r = openFile(kArtifacts + "/missing.so");
  EXPECT_EQ(r.code, TFX_STATUS_NOT_FOUND);
  EXPECT_EQ(r.message, "cannot open '" + kArtifacts +
                           "/missing.so': No such file or directory");
  r = openFile(kArtifacts);
  EXPECT_EQ(r.code, TFX_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(r.message, "'" + kArtifacts + "' is not a regular file");
}

TEST(RuntimeOpen, RefusesMissingCpuFeatures) {
  uint64_t have = tfx_cpu_features();
  if (have & TFX_CPU_AMX_TILE)
    GTEST_SKIP() << "this machine has AMX";
  Result r = openFile(kArtifacts + "/needs_amx.so");
  EXPECT_EQ(r.code, TFX_STATUS_UNSUPPORTED_CPU);
  EXPECT_EQ(r.message, "'" + kArtifacts +
                           "/needs_amx.so': needs CPU features this machine "
                           "lacks: AMX-TILE, AMX-BF16 (compiled for "
                           "'sapphirerapids'); recompile it for this CPU "
                           "(tfx-compile --cpu=native)");
  r = openFile(kArtifacts + "/unknown_feature.so");
  EXPECT_EQ(r.code, TFX_STATUS_UNSUPPORTED_CPU);
  EXPECT_EQ(r.message, "'" + kArtifacts +
                           "/unknown_feature.so': needs CPU features unknown "
                           "to this runtime (bit 40; compiled for 'future'); "
                           "use a newer runtime");
}

TEST(RuntimeOpen, MissingFeaturesOfEmbeddedDescriptor) {
  // Every known feature this machine lacks, whatever the machine.
  uint64_t known = (TFX_CPU_AMX_BF16 << 1) - 1;
  uint64_t missing = known & ~tfx_cpu_features();
  if (!missing)
    GTEST_SKIP() << "this machine has every feature the ABI names";
  tfx_artifact artifact = tiny_artifact;
  artifact.cpu_features = missing | (known & tfx_cpu_features());
  char names[256];
  tfx_cpu_feature_names(missing, names, sizeof(names));
  Result r = openEmbedded(artifact);
  EXPECT_EQ(r.code, TFX_STATUS_UNSUPPORTED_CPU);
  EXPECT_EQ(r.message, std::string("model 'tiny': needs CPU features this "
                                   "machine lacks: ") +
                           names +
                           " (compiled for 'x86-64'); recompile it for this "
                           "CPU (tfx-compile --cpu=native)");
  // What the machine has is accepted.
  artifact.cpu_features = known & tfx_cpu_features();
  EXPECT_EQ(openEmbedded(artifact).code, TFX_STATUS_OK);
}

TEST(RuntimeOpen, TruncatedSharedObjectsAreRefused) {
  std::vector<char> bytes = readFile(kArtifacts + "/ok.so");
  ASSERT_GT(bytes.size(), 4096u);
  TempDir dir;
  for (size_t cut : {(size_t)0, (size_t)4, (size_t)63, (size_t)64,
                     (size_t)200, (size_t)1000, bytes.size() / 2,
                     bytes.size() - 100, bytes.size() - 1}) {
    std::string path = dir.write("cut.so", bytes.data(), cut);
    Result r = openFile(path);
    EXPECT_EQ(r.code, TFX_STATUS_CORRUPT_ARTIFACT) << "cut at " << cut;
    EXPECT_NE(r.message.find("'" + path + "'"), std::string::npos)
        << r.message;
  }
  // Without a section table only the segments show the truncation.
  std::vector<char> stripped = bytes;
  std::memset(&stripped[0x28], 0, 8); // e_shoff
  std::memset(&stripped[0x3c], 0, 4); // e_shnum, e_shstrndx
  std::string path =
      dir.write("noshdr.so", stripped.data(), stripped.size() / 2);
  Result r = openFile(path);
  EXPECT_EQ(r.code, TFX_STATUS_CORRUPT_ARTIFACT);
  EXPECT_NE(r.message.find("is truncated: segment"), std::string::npos)
      << r.message;
}

TEST(RuntimeOpen, CorruptDescriptorInsideSharedObject) {
  std::vector<char> bytes = readFile(kArtifacts + "/ok.so");
  std::string magic = TFX_ARTIFACT_MAGIC;
  auto at = std::search(bytes.begin(), bytes.end(), magic.begin(), magic.end());
  ASSERT_NE(at, bytes.end());
  at[7] = '9';
  TempDir dir;
  std::string path = dir.write("flipped.so", bytes.data(), bytes.size());
  Result r = openFile(path);
  EXPECT_EQ(r.code, TFX_STATUS_CORRUPT_ARTIFACT);
  EXPECT_EQ(r.message, "'" + path +
                           "': bad magic \"TFXART09\" (expected "
                           "\"TFXART01\"): not a tfx artifact, or a corrupt "
                           "one");
  // Not x86-64.
  bytes = readFile(kArtifacts + "/ok.so");
  bytes[18] = 183; // EM_AARCH64
  path = dir.write("arm.so", bytes.data(), bytes.size());
  r = openFile(path);
  EXPECT_EQ(r.message, "'" + path + "' is built for ELF machine 183, not x86-64");
}

TEST(RuntimeOpen, SidecarWeights) {
  TempDir dir;
  Result r = openEmbedded(tiny_external_artifact, dir.path.c_str());
  EXPECT_EQ(r.code, TFX_STATUS_NOT_FOUND);
  EXPECT_EQ(r.message, "model 'tiny': cannot open weights file '" + dir.path +
                           "/test_external.weights': No such file or "
                           "directory");

  std::string file = dir.write("test_external.weights", kWeights, 71);
  r = openEmbedded(tiny_external_artifact, dir.path.c_str());
  EXPECT_EQ(r.code, TFX_STATUS_CORRUPT_ARTIFACT);
  EXPECT_EQ(r.message, "model 'tiny': weights file '" + file +
                           "' has 71 bytes, the artifact expects 72 "
                           "(truncated, or from another build)");

  float changed[18];
  std::memcpy(changed, kWeights, sizeof(changed));
  changed[17] = 33;
  dir.write("test_external.weights", changed, sizeof(changed));
  r = openEmbedded(tiny_external_artifact, dir.path.c_str());
  EXPECT_EQ(r.code, TFX_STATUS_CORRUPT_ARTIFACT);
  char expected[512];
  std::snprintf(expected, sizeof(expected),
                "model 'tiny': weights checksum mismatch in weights file "
                "'%s': computed 0x%016llx, descriptor says "
                "0x8a545854370829bf (corrupt, or from another build)",
                file.c_str(),
                (unsigned long long)tfx_weights_checksum(changed, 72));
  EXPECT_EQ(r.message, expected);

  dir.write("test_external.weights", kWeights, sizeof(kWeights));
  tfx_model *model = nullptr;
  ASSERT_EQ(take(tfx_model_open_embedded(&tiny_external_artifact,
                                         dir.path.c_str(), &model))
                .message,
            "OK");
  float x[12], y[12];
  for (int k = 0; k < 12; ++k)
    x[k] = (float)k;
  tfx_tensor in = tensorOf(x, TFX_DTYPE_F32, {4, 3});
  tfx_tensor out = tensorOf(y, TFX_DTYPE_F32, {4, 3});
  ASSERT_EQ(take(tfx_model_run(model, nullptr, 0, &in, 1, &out, 1)).message,
            "OK");
  EXPECT_EQ(y[4], 4 * 2.0f - 1); // x * scale + shift, from the mapped file
  tfx_model_close(model);

  // The shared-object variant looks next to itself.
  r = openFile(kArtifacts + "/external.so");
  EXPECT_EQ(r.code, TFX_STATUS_NOT_FOUND);
  EXPECT_EQ(r.message, "'" + kArtifacts +
                           "/external.so': cannot open weights file '" +
                           kArtifacts +
                           "/test_external.weights': No such file or "
                           "directory");
}

TEST(RuntimeOpen, EmbeddedDescriptorChecks) {
  EXPECT_EQ(openEmbedded(tiny_artifact).code, TFX_STATUS_OK);
  EXPECT_EQ(tfx_weights_checksum(tiny_artifact.weights, 72),
            0x8a545854370829bfull);

  tfx_artifact artifact = tiny_artifact;
  std::memcpy(artifact.magic, "ELF\x7f\0\0\0\0", 8);
  Result r = openEmbedded(artifact);
  EXPECT_EQ(r.code, TFX_STATUS_CORRUPT_ARTIFACT);
  EXPECT_EQ(r.message, "embedded artifact: bad magic "
                       "\"ELF\\x7f\\x00\\x00\\x00\\x00\" (expected "
                       "\"TFXART01\"): not a tfx artifact, or a corrupt one");

  artifact = tiny_artifact;
  artifact.abi_version = 3;
  EXPECT_EQ(openEmbedded(artifact).message,
            "embedded artifact: artifact ABI version 3, but this runtime "
            "reads versions 1 to 2; compile the model with a tfx-compile "
            "that matches the runtime");

  artifact = tiny_artifact;
  artifact.weights_checksum ^= 1;
  r = openEmbedded(artifact);
  EXPECT_EQ(r.code, TFX_STATUS_CORRUPT_ARTIFACT);
  EXPECT_EQ(r.message, "model 'tiny': weights checksum mismatch in the "
                       "embedded weights: computed 0x8a545854370829bf, "
                       "descriptor says 0x8a545854370829be (corrupt, or "
                       "from another build)");

  artifact = tiny_artifact;
  artifact.weights += 4;
  artifact.weights_size -= 4;
  EXPECT_EQ(openEmbedded(artifact).message,
            "model 'tiny': embedded weights are not 64-byte aligned");

  artifact = tiny_artifact;
  artifact.weights = nullptr;
  EXPECT_EQ(openEmbedded(artifact).message,
            "model 'tiny': descriptor has 72 bytes of weights but neither "
            "embeds them nor names a weights file");

  artifact = tiny_artifact;
  artifact.num_entries = 0;
  EXPECT_EQ(openEmbedded(artifact).message,
            "model 'tiny': descriptor lists 0 entry points");

  tfx_artifact_entry entries[2] = {tiny_artifact.entries[0],
                                   tiny_artifact.entries[1]};
  tfx_artifact_tensor tensor = entries[1].inputs[0];
  artifact = tiny_artifact;
  artifact.entries = entries;
  entries[1].inputs = &tensor;
  tensor.rank = 9;
  EXPECT_EQ(openEmbedded(artifact).message,
            "model 'tiny': entry 'gather': input 'ids' has rank 9 (0 to 8)");
  tensor.rank = 1;
  tensor.shape[0] = -2;
  EXPECT_EQ(openEmbedded(artifact).message,
            "model 'tiny': entry 'gather': input 'ids' has a negative or "
            "overflowing shape");
  tensor.shape[0] = 2;
  tensor.dtype = 17;
  EXPECT_EQ(openEmbedded(artifact).message,
            "model 'tiny': entry 'gather': input 'ids' has unknown dtype 17");
  tensor.dtype = TFX_DTYPE_I64;
  entries[0].fn = nullptr;
  EXPECT_EQ(openEmbedded(artifact).message,
            "model 'tiny': entry 0 has no function");

  tfx_model *model = nullptr;
  EXPECT_EQ(take(tfx_model_open_embedded(nullptr, nullptr, &model)).message,
            "tfx_model_open_embedded: artifact is NULL");
  EXPECT_EQ(take(tfx_model_open(nullptr, &model)).code,
            TFX_STATUS_INVALID_ARGUMENT);
}

class RuntimeRun : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_EQ(take(tfx_model_open_embedded(&tiny_artifact, nullptr, &model))
                  .message,
              "OK");
    ASSERT_EQ(take(tfx_context_create(2, &context)).message, "OK");
    for (int k = 0; k < 12; ++k)
      x[k] = (float)k;
  }
  void TearDown() override {
    tfx_model_close(model);
    tfx_context_destroy(context);
  }
  Result run(int32_t entry, const tfx_tensor *inputs, int32_t numInputs,
             tfx_tensor *outputs, int32_t numOutputs) {
    return take(tfx_model_run(model, context, entry, inputs, numInputs,
                              outputs, numOutputs));
  }
  tfx_model *model = nullptr;
  tfx_context *context = nullptr;
  float x[12];
};

TEST_F(RuntimeRun, CallerAndRuntimeOwnedOutputs) {
  float y[12] = {};
  tfx_tensor in = tensorOf(x, TFX_DTYPE_F32, {4, 3});
  tfx_tensor out = tensorOf(y, TFX_DTYPE_F32, {4, 3});
  ASSERT_EQ(run(0, &in, 1, &out, 1).message, "OK");
  for (int k = 0; k < 12; ++k)
    EXPECT_EQ(y[k], x[k] * kWeights[k % 3] + kWeights[3 + k % 3]) << k;

  tfx_tensor allocated{};
  ASSERT_EQ(run(0, &in, 1, &allocated, 1).message, "OK");
  ASSERT_NE(allocated.data, nullptr);
  EXPECT_EQ((uintptr_t)allocated.data % 64, 0u);
  EXPECT_EQ(allocated.dtype, TFX_DTYPE_F32);
  EXPECT_EQ(allocated.rank, 2);
  EXPECT_EQ(allocated.shape[0], 4);
  EXPECT_EQ(allocated.shape[1], 3);
  EXPECT_EQ(std::memcmp(allocated.data, y, sizeof(y)), 0);
  tfx_buffer_free(allocated.data);

  int64_t ids[2] = {3, 0};
  tfx_tensor idsIn = tensorOf(ids, TFX_DTYPE_I64, {2});
  tfx_tensor rows{};
  ASSERT_EQ(run(1, &idsIn, 1, &rows, 1).message, "OK");
  const float *r = static_cast<const float *>(rows.data);
  EXPECT_EQ(r[0], 30);
  EXPECT_EQ(r[5], 2);
  tfx_buffer_free(rows.data);
}

TEST_F(RuntimeRun, RejectsWrongInputs) {
  float y[12];
  tfx_tensor out = tensorOf(y, TFX_DTYPE_F32, {4, 3});
  tfx_tensor in = tensorOf(x, TFX_DTYPE_F32, {4, 2});
  Result r = run(0, &in, 1, &out, 1);
  EXPECT_EQ(r.code, TFX_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(r.message,
            "entry 'affine': input 'x' (#0): expected f32 [4,3], got f32 [4,2]");
  in = tensorOf(x, TFX_DTYPE_I32, {4, 3});
  EXPECT_EQ(run(0, &in, 1, &out, 1).message,
            "entry 'affine': input 'x' (#0): expected f32 [4,3], got i32 [4,3]");
  in = tensorOf(x, TFX_DTYPE_F32, {12});
  EXPECT_EQ(run(0, &in, 1, &out, 1).message,
            "entry 'affine': input 'x' (#0): expected f32 [4,3], got f32 [12]");
  in.rank = 12;
  EXPECT_EQ(run(0, &in, 1, &out, 1).message,
            "entry 'affine': input 'x' (#0): expected f32 [4,3], got f32 rank 12");
  in = tensorOf(nullptr, TFX_DTYPE_F32, {4, 3});
  EXPECT_EQ(run(0, &in, 1, &out, 1).message,
            "entry 'affine': input 'x' (#0) has no data");
  in = tensorOf(x, TFX_DTYPE_F32, {4, 3});
  tfx_tensor two[2] = {in, in};
  r = run(0, two, 2, &out, 1);
  EXPECT_EQ(r.code, TFX_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(r.message, "entry 'affine' takes 1 input ('x'), got 2");
  EXPECT_EQ(run(0, &in, 0, &out, 1).message,
            "entry 'affine' takes 1 input ('x'), got 0");
  EXPECT_EQ(run(0, nullptr, 1, &out, 1).message,
            "entry 'affine': the input array is NULL");
  EXPECT_EQ(run(0, &in, 1, &out, 0).message,
            "entry 'affine' takes 1 output ('y'), got 0");
  tfx_tensor badOut = tensorOf(y, TFX_DTYPE_F32, {3, 4});
  EXPECT_EQ(run(0, &in, 1, &badOut, 1).message,
            "entry 'affine': output 'y' (#0): expected f32 [4,3], got f32 [3,4]");
  tfx_tensor misaligned =
      tensorOf(reinterpret_cast<char *>(x) + 1, TFX_DTYPE_F32, {4, 3});
  EXPECT_EQ(run(0, &misaligned, 1, &out, 1).message,
            "entry 'affine': input 'x' (#0): data is not aligned to its "
            "4-byte elements");
  r = run(5, &in, 1, &out, 1);
  EXPECT_EQ(r.code, TFX_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(r.message, "model 'tiny' has 2 entry points; there is no entry 5");
  EXPECT_EQ(take(tfx_model_run(nullptr, context, 0, &in, 1, &out, 1)).message,
            "tfx_model_run: model is NULL");
}

TEST_F(RuntimeRun, GeneratedCodeErrorBecomesStatus) {
  int64_t ids[2] = {1, 4};
  tfx_tensor in = tensorOf(ids, TFX_DTYPE_I64, {2});
  tfx_tensor out{};
  Result r = run(1, &in, 1, &out, 1);
  EXPECT_EQ(r.code, TFX_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(r.message, "model 'tiny': entry 'gather' failed with error 1 (the "
                       "generated code rejected an input value, e.g. an "
                       "embedding id out of range)");
  // The output this call allocated is released and reset.
  EXPECT_EQ(out.data, nullptr);
}

TEST_F(RuntimeRun, ConcurrentCallsShareScratchSafely) {
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int round = 0; round < 500; ++round) {
        int64_t ids[2] = {(t + round) % 4, (t + 2 * round) % 4};
        float rows[6];
        tfx_tensor in = tensorOf(ids, TFX_DTYPE_I64, {2});
        tfx_tensor out = tensorOf(rows, TFX_DTYPE_F32, {2, 3});
        tfx_status *status =
            tfx_model_run(model, context, 1, &in, 1, &out, 1);
        bool ok = !status;
        tfx_status_free(status);
        for (int k = 0; ok && k < 6; ++k)
          ok = rows[k] == kWeights[6 + ids[k / 3] * 3 + k % 3];
        failures[t] += !ok;
      }
    });
  for (auto &thread : threads)
    thread.join();
  for (int t = 0; t < 4; ++t)
    EXPECT_EQ(failures[t], 0) << "thread " << t;
}

} // namespace
