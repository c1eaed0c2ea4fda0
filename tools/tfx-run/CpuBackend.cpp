//===- CpuBackend.cpp - tfx-run --backend cpu ------------------------------===//
//
// Converts the driver's tensors to the runtime's dense buffers and back,
// checks names against the artifact's signature (the runtime checks dtype
// and shape), and times repeated runs for --bench.
//
//===----------------------------------------------------------------------===//

#include "CpuBackend.h"

#include "tfx/runtime.h"

#ifdef TFX_HAVE_CODEGEN
#include "tfx/Codegen/Codegen.h"
#include "tfx/Codegen/Passes.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/SourceMgr.h"
#endif

#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MemAlloc.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <vector>

using namespace llvm;

namespace mlir::tfx {

cl::OptionCategory &cpuBackendOptions() {
  static cl::OptionCategory category("tfx-run --backend cpu options");
  return category;
}

// `--threads` is taken out of the command line by tfx-run's main: libLLVM
// already registers a hidden option of that name.
static int numThreads = 0;
void setCpuThreads(int threads) { numThreads = threads; }
/// --backend cuda: compile for (and run on) the GPU.
static bool useCuda = false;

static cl::opt<int> benchRuns(
    "bench", cl::desc("Time N runs after a warm-up; print 'median <x> ms'"),
    cl::value_desc("N"), cl::init(0), cl::cat(cpuBackendOptions()));

namespace {

/// Frees a runtime status, model or context when it goes out of scope.
struct StatusDeleter {
  void operator()(tfx_status *s) const { tfx_status_free(s); }
};
struct ModelDeleter {
  void operator()(tfx_model *m) const { tfx_model_close(m); }
};
struct ContextDeleter {
  void operator()(tfx_context *c) const { tfx_context_destroy(c); }
};
using ModelPtr = std::unique_ptr<tfx_model, ModelDeleter>;
using ContextPtr = std::unique_ptr<tfx_context, ContextDeleter>;

/// A 64-byte aligned buffer, the alignment the runtime's own outputs have.
struct AlignedBuffer {
  void *data = nullptr;
  size_t size = 0;
  explicit AlignedBuffer(size_t bytes) : size(std::max<size_t>(bytes, 1)) {
    data = allocate_buffer(size, 64);
    std::memset(data, 0, size);
  }
  AlignedBuffer(AlignedBuffer &&other) : data(other.data), size(other.size) {
    other.data = nullptr;
  }
  AlignedBuffer(const AlignedBuffer &) = delete;
  ~AlignedBuffer() {
    if (data)
      deallocate_buffer(data, size, 64);
  }
};

} // namespace

/// The runtime's status as an llvm::Error (success for null), freeing it.
static Error toError(tfx_status *status) {
  std::unique_ptr<tfx_status, StatusDeleter> owner(status);
  if (!status)
    return Error::success();
  return createStringError(inconvertibleErrorCode(), "%s",
                           tfx_status_message(status));
}

static std::optional<tfx_dtype> toArtifactDType(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return TFX_DTYPE_F32;
  case DType::F16:
    return TFX_DTYPE_F16;
  case DType::BF16:
    return TFX_DTYPE_BF16;
  case DType::I64:
    return TFX_DTYPE_I64;
  case DType::I32:
    return TFX_DTYPE_I32;
  case DType::I8:
    return TFX_DTYPE_I8;
  case DType::U8:
    return TFX_DTYPE_U8;
  case DType::Bool:
    return TFX_DTYPE_BOOL;
  case DType::F64:
    return std::nullopt;
  }
  return std::nullopt;
}

static DType fromArtifactDType(int32_t dtype) {
  switch (dtype) {
  case TFX_DTYPE_F16:
    return DType::F16;
  case TFX_DTYPE_BF16:
    return DType::BF16;
  case TFX_DTYPE_I64:
    return DType::I64;
  case TFX_DTYPE_I32:
    return DType::I32;
  case TFX_DTYPE_I8:
    return DType::I8;
  case TFX_DTYPE_U8:
    return DType::U8;
  case TFX_DTYPE_BOOL:
    return DType::Bool;
  default:
    return DType::F32;
  }
}

static uint16_t toHalfBits(float value, const fltSemantics &semantics) {
  APFloat f(value);
  bool lost;
  f.convert(semantics, APFloat::rmNearestTiesToEven, &lost);
  return (uint16_t)f.bitcastToAPInt().getZExtValue();
}

static float fromHalfBits(uint16_t bits, const fltSemantics &semantics) {
  APFloat f(semantics, APInt(16, bits));
  bool lost;
  f.convert(APFloat::IEEEsingle(), APFloat::rmNearestTiesToEven, &lost);
  return f.convertToFloat();
}

/// Writes `tensor` into a dense buffer of its own logical dtype.
static void encode(const Tensor &tensor, tfx_dtype dtype, void *out) {
  int64_t count = tensor.numElements();
  for (int64_t n = 0; n < count; ++n) {
    switch (dtype) {
    case TFX_DTYPE_F32:
      static_cast<float *>(out)[n] = tensor.f[n];
      break;
    case TFX_DTYPE_F16:
      static_cast<uint16_t *>(out)[n] =
          toHalfBits(tensor.f[n], APFloat::IEEEhalf());
      break;
    case TFX_DTYPE_BF16:
      static_cast<uint16_t *>(out)[n] =
          toHalfBits(tensor.f[n], APFloat::BFloat());
      break;
    case TFX_DTYPE_I64:
      static_cast<int64_t *>(out)[n] = tensor.i[n];
      break;
    case TFX_DTYPE_I32:
      static_cast<int32_t *>(out)[n] = (int32_t)tensor.i[n];
      break;
    case TFX_DTYPE_I8:
      static_cast<int8_t *>(out)[n] = (int8_t)tensor.i[n];
      break;
    case TFX_DTYPE_U8:
    case TFX_DTYPE_BOOL:
      static_cast<uint8_t *>(out)[n] = (uint8_t)tensor.i[n];
      break;
    }
  }
}

static Tensor decode(const tfx_tensor &buffer) {
  std::vector<int64_t> shape(buffer.shape, buffer.shape + buffer.rank);
  DType dtype = fromArtifactDType(buffer.dtype);
  Tensor tensor = isFloatDType(dtype) ? Tensor::floats(shape, 0.0f, dtype)
                                      : Tensor::ints(shape, 0, dtype);
  int64_t count = tensor.numElements();
  const void *in = buffer.data;
  for (int64_t n = 0; n < count; ++n) {
    switch (buffer.dtype) {
    case TFX_DTYPE_F32:
      tensor.f[n] = static_cast<const float *>(in)[n];
      break;
    case TFX_DTYPE_F16:
      tensor.f[n] = fromHalfBits(static_cast<const uint16_t *>(in)[n],
                                 APFloat::IEEEhalf());
      break;
    case TFX_DTYPE_BF16:
      tensor.f[n] = fromHalfBits(static_cast<const uint16_t *>(in)[n],
                                 APFloat::BFloat());
      break;
    case TFX_DTYPE_I64:
      tensor.i[n] = static_cast<const int64_t *>(in)[n];
      break;
    case TFX_DTYPE_I32:
      tensor.i[n] = static_cast<const int32_t *>(in)[n];
      break;
    case TFX_DTYPE_I8:
      tensor.i[n] = static_cast<const int8_t *>(in)[n];
      break;
    case TFX_DTYPE_U8:
    case TFX_DTYPE_BOOL:
      tensor.i[n] = static_cast<const uint8_t *>(in)[n];
      break;
    }
  }
  return tensor;
}

static std::string describe(const tfx_artifact_tensor &t) {
  std::string text = std::string(tfx_dtype_name(t.dtype)) + " [";
  for (int32_t d = 0; d < t.rank; ++d)
    text += (d ? "," : "") + std::to_string(t.shape[d]);
  return text + "]";
}

int cpuThreads() { return numThreads; }

/// Compiles a model into a shared object in `dir` through the CPU code
/// generator (for this machine, weights embedded); returns its path.
static Expected<std::string>
compileToSharedObject(StringRef modelPath, const ImportOptions &importOptions,
                      const DecoderStepOptions *steps, StringRef dir) {
#ifdef TFX_HAVE_CODEGEN
  MLIRContext ctx;
  DialectRegistry registry;
  registerTfxDialects(registry);
  registerCodegenDialects(registry);
  ctx.appendDialectRegistry(registry);
  ctx.loadAllAvailableDialects();
  // Import and compile errors name their op or tensor on stderr, as the
  // interpreter's do.
  SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagHandler(sourceMgr, &ctx);
  OwningOpRef<ModuleOp> module =
      steps ? importDecoderSteps(modelPath, ctx, importOptions, *steps)
            : importModel(modelPath, ctx, importOptions);
  if (!module || failed(verify(*module)))
    return createStringError(inconvertibleErrorCode(),
                             "could not import '%s'", modelPath.str().c_str());
  CompileOptions options;
  options.cuda = useCuda;
  options.kind = ArtifactKind::SharedObject;
  options.weights = WeightsMode::Embed;
  SmallString<128> base(dir);
  sys::path::append(base, "model");
  auto files = compileToArtifact(*module, base, options);
  if (!files)
    return files.takeError();
  return files->artifact;
#else
  (void)importOptions;
  (void)steps;
  (void)dir;
  return createStringError(inconvertibleErrorCode(),
                           "cannot compile '%s' for the CPU: this build has "
                           "no CPU code generator; pass a .so artifact",
                           modelPath.str().c_str());
#endif
}

void setCudaBackend(bool cuda) { useCuda = cuda; }

Expected<std::string> artifactFor(StringRef modelPath,
                                  const ImportOptions &importOptions,
                                  const DecoderStepOptions *steps,
                                  SmallString<128> &tempDir) {
  if (modelPath.ends_with(".so"))
    return modelPath.str();
  if (std::error_code ec = sys::fs::createUniqueDirectory("tfx-run-cpu", tempDir))
    return createStringError(ec, "cannot create a temporary folder: %s",
                             ec.message().c_str());
  return compileToSharedObject(modelPath, importOptions, steps, tempDir);
}

Expected<std::map<std::string, Tensor>>
runOnCpu(StringRef modelPath, const ImportOptions &importOptions,
         std::map<std::string, Tensor> inputs, raw_ostream &os,
         raw_ostream &diag) {
  if (numThreads < 0)
    return createStringError(inconvertibleErrorCode(),
                             "--threads must be 0 (all cores) or more");
  if (benchRuns < 0)
    return createStringError(inconvertibleErrorCode(),
                             "--bench must be 0 or more runs");

  // A model that is not yet an artifact goes through a temporary folder,
  // removed once the shared object is loaded (the mapping stays valid).
  SmallString<128> tempDir;
  scope_exit removeTemp([&] {
    if (!tempDir.empty())
      sys::fs::remove_directories(tempDir);
  });
  auto artifact = artifactFor(modelPath, importOptions, nullptr, tempDir);
  if (!artifact)
    return artifact.takeError();
  std::string soPath = *artifact;

  tfx_model *rawModel = nullptr;
  if (Error err = toError(tfx_model_open(soPath.c_str(), &rawModel)))
    return err;
  ModelPtr model(rawModel);
  bool isCuda = tfx_model_artifact(model.get())->abi_version >= 2 &&
                tfx_model_artifact(model.get())->device == TFX_DEVICE_CUDA;
  if (isCuda != useCuda)
    return createStringError(inconvertibleErrorCode(),
                             "'%s' is a %s artifact: run it with --backend %s",
                             soPath.c_str(), isCuda ? "CUDA" : "CPU",
                             isCuda ? "cuda" : "cpu");
  tfx_context *rawContext = nullptr;
  if (Error err = toError(tfx_context_create(numThreads, &rawContext)))
    return err;
  ContextPtr context(rawContext);

  int32_t entryIndex = tfx_model_find_entry(model.get(), "main");
  if (entryIndex < 0)
    entryIndex = 0;
  const tfx_artifact_entry *entry = tfx_model_entry(model.get(), entryIndex);

  // Inputs in signature order, each in its own dtype; the runtime checks
  // them against the signature and names any mismatch.
  std::vector<AlignedBuffer> inputStorage;
  std::vector<tfx_tensor> inputTensors;
  for (int32_t k = 0; k < entry->num_inputs; ++k) {
    const tfx_artifact_tensor &sig = entry->inputs[k];
    auto it = inputs.find(sig.name);
    if (it == inputs.end())
      return createStringError(inconvertibleErrorCode(),
                               "missing input '%s' (expected %s)", sig.name,
                               describe(sig).c_str());
    const Tensor &tensor = it->second;
    std::optional<tfx_dtype> dtype = toArtifactDType(tensor.dtype);
    if (!dtype || tensor.rank() > TFX_ARTIFACT_MAX_RANK)
      return createStringError(inconvertibleErrorCode(),
                               "input '%s': %s %s cannot be passed to "
                               "compiled code (expected %s)",
                               sig.name, dtypeName(tensor.dtype),
                               tensor.shapeString().c_str(),
                               describe(sig).c_str());
    inputStorage.emplace_back((size_t)tensor.numElements() *
                              tfx_dtype_size(*dtype));
    encode(tensor, *dtype, inputStorage.back().data);
    tfx_tensor buffer{};
    buffer.data = inputStorage.back().data;
    buffer.dtype = *dtype;
    buffer.rank = (int32_t)tensor.rank();
    std::copy(tensor.shape.begin(), tensor.shape.end(), buffer.shape);
    inputTensors.push_back(buffer);
  }
  for (const auto &[name, tensor] : inputs) {
    bool taken = false;
    for (int32_t k = 0; k < entry->num_inputs; ++k)
      taken |= name == entry->inputs[k].name;
    if (!taken)
      diag << "tfx-run: note: the model takes no input '" << name
           << "'; ignoring it\n";
  }

  // The first run lets the runtime allocate the outputs; timed runs reuse
  // them as caller-owned buffers.
  std::vector<tfx_tensor> outputTensors(entry->num_outputs);
  scope_exit freeOutputs([&] {
    for (tfx_tensor &t : outputTensors)
      tfx_buffer_free(t.data);
  });
  auto runOnce = [&]() -> Error {
    return toError(tfx_model_run(model.get(), context.get(), entryIndex,
                                 inputTensors.data(),
                                 (int32_t)inputTensors.size(),
                                 outputTensors.data(),
                                 (int32_t)outputTensors.size()));
  };
  if (Error err = runOnce())
    return err;

  if (benchRuns > 0) {
    // Two more untimed runs settle caches, page faults and thread wake-up.
    for (int warm = 0; warm < 2; ++warm)
      if (Error err = runOnce())
        return err;
    std::vector<double> times;
    for (int run = 0; run < benchRuns; ++run) {
      auto start = std::chrono::steady_clock::now();
      if (Error err = runOnce())
        return err;
      times.push_back(std::chrono::duration<double, std::milli>(
                          std::chrono::steady_clock::now() - start)
                          .count());
    }
    std::sort(times.begin(), times.end());
    double median = times.size() % 2
                        ? times[times.size() / 2]
                        : (times[times.size() / 2 - 1] +
                           times[times.size() / 2]) / 2;
    os << "median " << format("%.4f", median) << " ms (" << benchRuns
       << " runs, min " << format("%.4f", times.front()) << " ms, "
       << tfx_context_num_threads(context.get()) << " threads)\n";
  }

  std::map<std::string, Tensor> outputs;
  for (int32_t k = 0; k < entry->num_outputs; ++k)
    outputs[entry->outputs[k].name] = decode(outputTensors[k]);
  return outputs;
}

} // namespace mlir::tfx
