//===- Header.h - the C header of an artifact -------------------*- C++ -*-===//
#ifndef TFX_CODEGEN_EMIT_HEADER_H
#define TFX_CODEGEN_EMIT_HEADER_H

#include "Descriptor.h"

#include "llvm/Support/raw_ostream.h"

namespace mlir::tfx {

/// Writes NAME.h: `extern const tfx_artifact <prefix>_artifact;` and a typed
/// inline function per entry that calls it.
void writeHeader(llvm::raw_ostream &os, const DescriptorInfo &info);

/// `text` as a C identifier: [A-Za-z0-9_], not starting with a digit.
std::string cIdentifier(llvm::StringRef text);

} // namespace mlir::tfx

#endif // TFX_CODEGEN_EMIT_HEADER_H
