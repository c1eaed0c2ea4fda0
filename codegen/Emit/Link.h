//===- Link.h - shared objects and static libraries, in process -*- C++ -*-===//
#ifndef TFX_CODEGEN_EMIT_LINK_H
#define TFX_CODEGEN_EMIT_LINK_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

namespace mlir::tfx {

/// Links `objectPath` into the shared object `outputPath` with lld's ELF
/// driver (no system linker, no libraries: the artifact needs none), in a
/// forked child so that the caller's process state stays untouched.
llvm::Error linkSharedObject(llvm::StringRef objectPath, llvm::StringRef outputPath);

/// Writes a static library holding the one object file.
llvm::Error writeStaticLibrary(llvm::StringRef objectPath,
                               llvm::StringRef memberName,
                               llvm::StringRef outputPath);

} // namespace mlir::tfx

#endif // TFX_CODEGEN_EMIT_LINK_H
