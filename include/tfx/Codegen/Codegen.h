//===- Codegen.h - compile a tfx module to a CPU artifact -------*- C++ -*-===//
//
// The in-process compiler behind `tfx-compile --target cpu` and
// `tfx-run --backend cpu`: tfx -> linalg -> vector/scf -> LLVM -> native
// object code, plus the artifact descriptor (runtime/include/tfx/artifact.h),
// a C header and the packed weights.
//
//===----------------------------------------------------------------------===//
#ifndef TFX_CODEGEN_CODEGEN_H
#define TFX_CODEGEN_CODEGEN_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>

namespace mlir::tfx {

enum class ArtifactKind { Object, SharedObject, StaticLibrary };
enum class WeightsMode { Embed, External };

struct CompileOptions {
  /// `native` (this host, its features from the OS) or an LLVM CPU name
  /// such as `cascadelake`, `skylake-avx512`, `x86-64-v3`, `x86-64-v2`.
  std::string cpu = "native";
  ArtifactKind kind = ArtifactKind::Object;
  WeightsMode weights = WeightsMode::Embed;
  /// Use the tiled/vectorized kernels; off gives the plain linalg lowering.
  bool kernels = true;
  /// Linalg ops outside the kernels with fewer loop iterations than this
  /// run sequentially rather than on the thread pool.
  int64_t parallelMinWork = 32768;
  /// Compile for an NVIDIA GPU (`--target cuda:CHIP`): kernels in a cubin
  /// for `gpuChip`, assembled by the ptxas of `cudaToolkit` ("" looks in
  /// $CUDA_PATH, /usr/local/cuda and PATH); the host code is plain x86-64.
  bool cuda = false;
  std::string gpuChip = "sm_90";
  std::string cudaToolkit;
  /// Inputs of the GPU's f32 contractions: "f32", or "f16" (tensor cores,
  /// f32 sums).
  std::string gpuMatmulPrecision = "f32";
  /// C identifier used for `<name>_artifact` and the entry wrappers;
  /// defaults to the output file's stem.
  std::string modelName;
};

/// The files one compilation wrote.
struct ArtifactFiles {
  std::string artifact; ///< NAME.o, NAME.so or NAME.a
  std::string header;   ///< NAME.h
  std::string weights;  ///< NAME.weights with WeightsMode::External, else ""
};

/// Compiles `module` (tfx dialect, static shapes; it is rewritten in place)
/// into artifacts named `outputBase` + extension. Every file is written to
/// a temporary and renamed only when all succeeded, so an error leaves no
/// partial artifact behind. Diagnostics also go to the context's handler.
llvm::Expected<ArtifactFiles> compileToArtifact(ModuleOp module,
                                                llvm::StringRef outputBase,
                                                const CompileOptions &options);

/// The `tfx_artifact` C name prefix for a path: its stem with every
/// character that is not [A-Za-z0-9_] replaced by '_'.
std::string artifactSymbolPrefix(llvm::StringRef path);

} // namespace mlir::tfx

#endif // TFX_CODEGEN_CODEGEN_H
