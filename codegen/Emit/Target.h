//===- Target.h - the x86-64 target of an artifact --------------*- C++ -*-===//
#ifndef TFX_CODEGEN_EMIT_TARGET_H
#define TFX_CODEGEN_EMIT_TARGET_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Target/TargetMachine.h"

#include <memory>
#include <string>

namespace mlir::tfx {

struct CpuTarget {
  std::string cpu;      ///< LLVM CPU name (the host's for `native`)
  std::string features; ///< +/- feature list given to LLVM
  uint64_t featureBits = 0; ///< TFX_CPU_* bits of artifact.h
  int64_t vectorWidth = 4;  ///< f32 lanes of the widest vectors
  std::unique_ptr<llvm::TargetMachine> machine;
};

/// A TargetMachine for `cpu` (`native`, or an LLVM x86-64 CPU name) that
/// emits position-independent code, and what the artifact will require.
llvm::Expected<CpuTarget> createCpuTarget(llvm::StringRef cpu);

/// The CPU names that --cpu accepts besides `native` (for messages).
llvm::StringRef knownCpuNames();

} // namespace mlir::tfx

#endif // TFX_CODEGEN_EMIT_TARGET_H
