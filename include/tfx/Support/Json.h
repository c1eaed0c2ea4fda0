//===- Json.h - JSON from untrusted files ------------------------*- C++ -*-===//
//
// llvm::json parses and destroys values recursively, so a document nested a
// few hundred thousand levels deep (`[[[[...`) overflows the stack. Every
// JSON tfx reads from a file (safetensors headers, config.json, sharded
// indexes, tokenizer.json) goes through parseJson, which refuses nesting
// deeper than any of those formats uses before parsing.
//
//===----------------------------------------------------------------------===//
#ifndef TFX_SUPPORT_JSON_H
#define TFX_SUPPORT_JSON_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

namespace mlir::tfx {

/// Deepest nesting of arrays and objects parseJson accepts.
inline constexpr unsigned kMaxJsonDepth = 128;

/// llvm::json::parse, after checking that `text` nests at most kMaxJsonDepth
/// levels deep.
llvm::Expected<llvm::json::Value> parseJson(llvm::StringRef text);

} // namespace mlir::tfx

#endif // TFX_SUPPORT_JSON_H
