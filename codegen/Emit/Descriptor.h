//===- Descriptor.h - the tfx_artifact descriptor as LLVM globals -*- C++ -*-===//
#ifndef TFX_CODEGEN_EMIT_DESCRIPTOR_H
#define TFX_CODEGEN_EMIT_DESCRIPTOR_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace mlir::tfx {

struct EntryTensor {
  std::string name;
  int32_t dtype = 0; ///< tfx_dtype
  std::vector<int64_t> shape;
  /// C element type for the header ("float", "int64_t", ...).
  std::string cType;
};

struct EntryInfo {
  std::string name;    ///< the source function's name
  std::string wrapper; ///< symbol of its tfx_entry_fn
  std::vector<EntryTensor> inputs, outputs;
  uint64_t scratchBytes = 0;
};

/// The entries of a module lowered to the LLVM dialect (their wrappers carry
/// `tfx.entry` and `tfx.scratch_bytes`).
llvm::Expected<std::vector<EntryInfo>> collectEntries(ModuleOp module);

struct DescriptorInfo {
  std::string symbolPrefix; ///< `<prefix>_artifact`
  std::string modelName, targetCpu;
  uint64_t cpuFeatures = 0;
  uint64_t weightsSize = 0, weightsChecksum = 0;
  /// Embedded weights, or empty with `weightsFile` naming the sidecar.
  llvm::ArrayRef<uint8_t> embeddedWeights;
  std::string weightsFile;
  /// Also export the descriptor as `tfx_artifact_main` (shared objects).
  bool exportMain = false;
  std::vector<EntryInfo> entries;
  /// tfx_device; for TFX_DEVICE_CUDA the kernel image (a global of the
  /// module), its chip and the kernel names in launch-index order.
  uint32_t device = 0;
  std::string gpuArch, gpuImageGlobal;
  std::vector<std::string> gpuKernels;
};

/// Adds the descriptor (and embedded weights) to `module`, whose entry
/// wrappers it references; every other function becomes internal.
llvm::Error addDescriptor(llvm::Module &module, const DescriptorInfo &info);

} // namespace mlir::tfx

#endif // TFX_CODEGEN_EMIT_DESCRIPTOR_H
