//===- FuzzArtifact.cpp - the runtime's artifact checks on any bytes ------===//
//
// An artifact is a shared object (or an object linked into the program)
// whose `tfx_artifact` descriptor the runtime checks before it trusts it,
// plus, optionally, a sidecar weight file. dlopen itself runs the
// artifact's code, so what a hostile or broken file can reach is: the ELF
// pre-check, the descriptor's field values, the sidecar file, and the
// argument checks of tfx_model_run. The first input byte picks one:
//
//  - even: the rest is a file for the ELF pre-check (tfx__check_elf);
//  - odd: the rest decodes into a descriptor whose every field value (magic,
//    ABI, counts, dtypes, ranks, dims, scratch size, CPU features, weights
//    embedded or in a sidecar, size, checksum) comes from the input, with
//    memory laid out as a real artifact's would be. When the runtime accepts
//    it, each entry runs on tensors that match the signature or differ in
//    one way (dtype, rank, a dim, no data, count). The entry function reads
//    every input byte and writes every output and scratch byte the
//    signature promises and reads every weight byte, so a mismatch the
//    runtime let through is an out-of-bounds access for the sanitizer.
//
//===----------------------------------------------------------------------===//

#include "FuzzTarget.h"

#include "tfx/runtime.h"

extern "C" {
#include "../../runtime/src/model_internal.h"
}

#include <cstring>
#include <fcntl.h>
#include <memory>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

namespace {

/// Reads little pieces of the input; zeros once it runs out.
class Reader {
public:
  Reader(const uint8_t *data, size_t size) : data(data), size(size) {}
  uint8_t u8() { return pos < size ? data[pos++] : 0; }
  uint64_t u64() {
    uint64_t v = 0;
    for (int k = 0; k < 8; ++k)
      v |= (uint64_t)u8() << (8 * k);
    return v;
  }
  uint16_t u16() { return (uint16_t)(u8() | u8() << 8); }
  bool flag() { return u8() & 1; }
  /// Bytes for a buffer of `length` (the input's remainder, repeated).
  std::vector<uint8_t> bytes(size_t length) {
    std::vector<uint8_t> out(length);
    for (size_t k = 0; k < length; ++k)
      out[k] = size ? data[(pos + k) % size] : 0;
    return out;
  }

private:
  const uint8_t *data;
  size_t size;
  size_t pos = 0;
};

constexpr int64_t kDims[] = {0,  1,  2,  3,        4,          5,
                             7,  8,  16, 33,       -1,         INT64_MAX,
                             1ll << 31, 1ll << 32, 1ll << 62, INT64_MIN};
/// Inputs and outputs larger than this are described but not run.
constexpr int64_t kMaxRunBytes = 1 << 20;

/// The descriptor under test and everything it points to.
struct Artifact {
  tfx_artifact descriptor;
  std::vector<tfx_artifact_entry> entries;
  std::vector<std::vector<tfx_artifact_tensor>> tensors; // 2 per entry
  std::vector<std::string> names;                        // stable storage
  void *weightsBlock = nullptr;
  ~Artifact() { std::free(weightsBlock); }
};

const Artifact *currentArtifact = nullptr;
const tfx_artifact_entry *currentEntry = nullptr;
int32_t currentReturn = 0;

int64_t byteSize(const tfx_artifact_tensor &t) {
  size_t element = tfx_dtype_size(t.dtype);
  int64_t count = tfx__num_elements(t.rank, t.shape, element);
  return count < 0 ? -1 : count * (int64_t)element;
}

/// The generated code's side: trusts the signature, as real code does.
int32_t entryFunction(const tfx_exec_env *env, const void *weights,
                      void *const *inputs, void *const *outputs) {
  const tfx_artifact *a = &currentArtifact->descriptor;
  const tfx_artifact_entry *entry = currentEntry;
  volatile uint8_t sink = 0;
  const uint8_t *w = static_cast<const uint8_t *>(weights);
  for (uint64_t k = 0; k < a->weights_size; ++k)
    sink = sink + w[k];
  for (int32_t k = 0; k < entry->num_inputs; ++k) {
    const uint8_t *in = static_cast<const uint8_t *>(inputs[k]);
    for (int64_t b = 0, n = byteSize(entry->inputs[k]); b < n; ++b)
      sink = sink + in[b];
  }
  for (int32_t k = 0; k < entry->num_outputs; ++k) {
    uint8_t *out = static_cast<uint8_t *>(outputs[k]);
    for (int64_t b = 0, n = byteSize(entry->outputs[k]); b < n; ++b)
      out[b] = 0x5a;
  }
  if (entry->scratch_bytes)
    std::memset(env->scratch, 0xa5, (size_t)entry->scratch_bytes);
  return currentReturn;
}

void makeTensor(Reader &in, Artifact &art, tfx_artifact_tensor &t) {
  uint8_t naming = in.u8();
  if (naming % 8 == 0) {
    t.name = nullptr;
  } else {
    art.names.push_back("t" + std::to_string(naming));
    t.name = art.names.back().c_str();
  }
  t.dtype = (int8_t)in.u8() % 10; // -9..9: some unknown
  t.rank = (int8_t)in.u8() % 11;  // -10..10: some out of range
  for (int64_t &d : t.shape)
    d = kDims[in.u8() % (sizeof(kDims) / sizeof(kDims[0]))];
}

/// Builds a descriptor from the input; a sidecar file is written to `dir`.
std::unique_ptr<Artifact> makeArtifact(Reader &in, const std::string &dir) {
  auto art = std::make_unique<Artifact>();
  // Names are pointed to: reserve so that push_back never moves them.
  art->names.reserve(4096);
  tfx_artifact &d = art->descriptor;
  std::memset(&d, 0, sizeof(d));
  uint8_t flags = in.u8();
  if (flags & 1) {
    std::memcpy(d.magic, TFX_ARTIFACT_MAGIC, 8);
  } else {
    uint64_t magic = in.u64();
    std::memcpy(d.magic, &magic, 8);
  }
  d.abi_version = (flags & 2) ? TFX_ARTIFACT_ABI_VERSION : (uint32_t)in.u64();
  uint8_t count = in.u8();
  size_t entries = count == 255 ? 4097 : count % 4;
  d.num_entries = (uint32_t)entries;
  art->entries.resize(entries);
  art->tensors.resize(entries * 2);
  for (size_t e = 0; e < entries; ++e) {
    tfx_artifact_entry &entry = art->entries[e];
    if (e > 0 && count == 255) { // many copies of the first
      entry = art->entries[0];
      continue;
    }
    uint8_t shape = in.u8();
    art->names.push_back("entry" + std::to_string(e));
    entry.name = (shape & 0x80) ? nullptr : art->names.back().c_str();
    entry.fn = (shape & 0x40) ? nullptr : entryFunction;
    entry.num_inputs = (shape & 0x20) ? -1 : shape % 4;
    entry.num_outputs = (shape & 0x10) ? 70000 : (shape >> 2) % 3;
    entry.scratch_bytes = in.flag() ? in.u16() : 0;
    for (int side = 0; side < 2; ++side) {
      int32_t n = side == 0 ? entry.num_inputs : entry.num_outputs;
      std::vector<tfx_artifact_tensor> &list = art->tensors[2 * e + side];
      list.resize(n > 0 && n < 8 ? n : 1);
      // Counts the array cannot back (-1, 70000) are ones the runtime must
      // refuse before it reads the array.
      for (tfx_artifact_tensor &t : list)
        makeTensor(in, *art, t);
      (side == 0 ? entry.inputs : entry.outputs) = list.data();
    }
  }
  d.entries = entries && !(flags & 4) ? art->entries.data() : nullptr;

  uint8_t cpu = in.u8() % 4;
  d.cpu_features = cpu == 0   ? 0
                   : cpu == 1 ? tfx_cpu_features()
                   : cpu == 2 ? in.u64()
                              : (tfx_cpu_features() | (1ull << (in.u8() % 64)));
  art->names.push_back("fuzz-cpu");
  d.target_cpu = in.flag() ? art->names.back().c_str() : nullptr;
  art->names.push_back("fuzz-model");
  d.model_name = in.flag() ? art->names.back().c_str() : nullptr;

  size_t weightBytes = in.u16() % 4096;
  std::vector<uint8_t> weights = in.bytes(weightBytes);
  uint8_t placement = in.u8();
  d.weights_size = weightBytes;
  if (placement & 1) { // a size that does not match what is there
    d.weights_size = in.u64();
    if (d.weights_size > weightBytes && (placement & 6) == 2)
      d.weights_size = weightBytes; // embedded: the pointer must back it
  }
  d.weights_checksum = (placement & 8) ? in.u64()
                                       : tfx_weights_checksum(weights.data(),
                                                              weightBytes);
  switch ((placement >> 1) & 3) {
  case 0: // no weights at all
    break;
  case 1: { // embedded, 64-byte aligned or not
    size_t offset = (placement & 16) ? 8 : 0;
    art->weightsBlock = std::aligned_alloc(64, (weightBytes + offset + 63) / 64 * 64 + 64);
    if (weightBytes)
      std::memcpy((uint8_t *)art->weightsBlock + offset, weights.data(),
                  weightBytes);
    d.weights = (const uint8_t *)art->weightsBlock + offset;
    break;
  }
  default: { // a sidecar file, maybe missing or elsewhere
    std::string path = dir + "/w.bin";
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
      if (weightBytes)
        (void)!::write(fd, weights.data(), weightBytes);
      ::close(fd);
    }
    art->names.push_back((placement & 16) ? "missing.bin" : "w.bin");
    d.weights_file = art->names.back().c_str();
    break;
  }
  }
  return art;
}

/// One call of `entry` with tensors that match its signature or not.
void runEntry(Reader &in, tfx_model *model, int32_t index) {
  const tfx_artifact_entry *entry = tfx_model_entry(model, index);
  if (!entry)
    return;
  for (int32_t k = 0; k < entry->num_inputs; ++k)
    if (byteSize(entry->inputs[k]) > kMaxRunBytes)
      return;
  for (int32_t k = 0; k < entry->num_outputs; ++k)
    if (byteSize(entry->outputs[k]) > kMaxRunBytes)
      return;
  uint8_t counts = in.u8();
  int32_t numInputs = entry->num_inputs + ((counts & 3) == 3 ? 1 : 0);
  int32_t numOutputs = entry->num_outputs + ((counts & 12) == 12 ? 1 : 0);
  std::vector<tfx_tensor> inputs(numInputs + 1), outputs(numOutputs + 1);
  std::vector<std::vector<uint8_t>> storage;
  storage.reserve(numInputs + numOutputs);
  auto fill = [&](tfx_tensor &t, const tfx_artifact_tensor *sig, bool output) {
    std::memset(&t, 0, sizeof(t));
    if (!sig) { // beyond the signature
      t.dtype = TFX_DTYPE_F32;
      t.rank = 0;
    } else {
      t.dtype = sig->dtype;
      t.rank = sig->rank;
      std::memcpy(t.shape, sig->shape, sizeof(t.shape));
    }
    uint8_t how = in.u8() % 12;
    if (how == 8)
      t.dtype = (t.dtype + 1) % 8;
    else if (how == 9)
      t.rank = t.rank == TFX_ARTIFACT_MAX_RANK ? t.rank - 1 : t.rank + 1;
    else if (how == 10 && t.rank > 0) {
      int64_t &dim = t.shape[in.u8() % t.rank];
      dim = dim < INT64_MAX ? dim + 1 : 0;
    }
    if (output && how < 6)
      return; // the runtime allocates it
    if (how == 11)
      return; // no data
    tfx_artifact_tensor claimed{nullptr, t.dtype, t.rank, {}};
    std::memcpy(claimed.shape, t.shape, sizeof(t.shape));
    if (t.rank < 0 || t.rank > TFX_ARTIFACT_MAX_RANK)
      claimed.rank = 0;
    int64_t bytes = byteSize(claimed);
    if (bytes < 0 || bytes > kMaxRunBytes)
      bytes = 0;
    // Exactly what the caller claims to pass, so that a larger read faults.
    storage.emplace_back(in.bytes((size_t)bytes));
    static uint64_t empty; // an empty tensor still needs an address
    t.data = storage.back().empty() ? (void *)&empty : storage.back().data();
  };
  for (int32_t k = 0; k < numInputs; ++k)
    fill(inputs[k], k < entry->num_inputs ? &entry->inputs[k] : nullptr, false);
  for (int32_t k = 0; k < numOutputs; ++k)
    fill(outputs[k], k < entry->num_outputs ? &entry->outputs[k] : nullptr,
         true);
  currentEntry = entry;
  currentReturn = in.u8() % 5 == 0 ? 1 : 0;
  std::vector<tfx_tensor> given(outputs);
  tfx_status *status = tfx_model_run(model, nullptr, index, inputs.data(),
                                     numInputs, outputs.data(), numOutputs);
  if (tfx_fuzz::verbose())
    std::fprintf(stderr, "run '%s': %s\n", entry->name,
                 tfx_status_message(status));
  for (int32_t k = 0; k < numOutputs; ++k)
    if (!given[k].data && outputs[k].data) {
      if (status)
        tfx_fuzz::finding("a failed run left an allocated output behind");
      tfx_buffer_free(outputs[k].data);
    }
  tfx_status_free(status);
}

std::string scratchDir() {
  static std::string dir = [] {
    char path[] = "/tmp/tfx-fuzz-artifact-XXXXXX";
    const char *made = mkdtemp(path);
    return std::string(made ? made : "/tmp");
  }();
  return dir;
}

void fuzzElf(const uint8_t *data, size_t size) {
  int fd = memfd_create("tfx-fuzz-elf", MFD_CLOEXEC);
  if (fd < 0)
    return;
  size_t done = 0;
  while (done < size) {
    ssize_t wrote = ::write(fd, data + done, size - done);
    if (wrote <= 0)
      break;
    done += (size_t)wrote;
  }
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  tfx_status_free(tfx__check_elf(path.c_str()));
  ::close(fd);
}

void fuzzArtifact(const uint8_t *data, size_t size) {
  if (size == 0)
    return;
  if ((data[0] & 1) == 0) {
    fuzzElf(data + 1, size - 1);
    return;
  }
  Reader in(data + 1, size - 1);
  std::string dir = scratchDir();
  std::unique_ptr<Artifact> art = makeArtifact(in, dir);
  currentArtifact = art.get();
  tfx_model *model = nullptr;
  tfx_status *status = tfx_model_open_embedded(&art->descriptor, dir.c_str(), &model);
  if (status) {
    if (model)
      tfx_fuzz::finding("a failed open returned a model");
    if (tfx_fuzz::verbose())
      std::fprintf(stderr, "%s\n", tfx_status_message(status));
    tfx_status_free(status);
    return;
  }
  for (int32_t e = 0; e < tfx_model_num_entries(model) && e < 4; ++e)
    runEntry(in, model, e);
  // A bad index is an error, not a read past the entries.
  tfx_status *bad = tfx_model_run(model, nullptr, tfx_model_num_entries(model),
                                  nullptr, 0, nullptr, 0);
  if (!bad)
    tfx_fuzz::finding("a run of a missing entry succeeded");
  tfx_status_free(bad);
  tfx_model_close(model);
}

} // namespace

TFX_FUZZ_TARGET(artifact, fuzzArtifact)
