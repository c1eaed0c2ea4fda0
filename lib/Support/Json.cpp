//===- Json.cpp - JSON from untrusted files -------------------------------===//

#include "tfx/Support/Json.h"

using namespace llvm;

Expected<json::Value> mlir::tfx::parseJson(StringRef text) {
  // Brackets inside strings do not nest; a backslash escapes the next byte.
  // Malformed text only needs to be measured safely: the parser rejects it.
  unsigned depth = 0;
  bool inString = false;
  for (size_t pos = 0; pos < text.size(); ++pos) {
    char c = text[pos];
    if (inString) {
      if (c == '\\')
        ++pos;
      else if (c == '"')
        inString = false;
      continue;
    }
    if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth)
        return createStringError(inconvertibleErrorCode(),
                                 "JSON nested deeper than %u levels at byte "
                                 "%zu",
                                 kMaxJsonDepth, pos);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return json::parse(text);
}
