//===- FuzzTokenizer.cpp - tokenizer.json and text on any bytes -----------===//
//
// Input: tokenizer.json text, a NUL byte, then text. A tokenizer that loads
// must encode any bytes (valid UTF-8 or not) to ids of its vocabulary that
// decode again; ids read from the text's bytes must decode or be refused.
//
//===----------------------------------------------------------------------===//

#include "FuzzTarget.h"

#include "tfx/Support/Tokenizer.h"

using namespace mlir::tfx;

static void fuzzTokenizer(const uint8_t *data, size_t size) {
  auto [json, text] = tfx_fuzz::splitAtNul(data, size);
  llvm::Expected<Tokenizer> tokenizer = Tokenizer::parse(json, "fuzz.json");
  if (!tokenizer) {
    std::string message = llvm::toString(tokenizer.takeError());
    if (tfx_fuzz::verbose())
      std::fprintf(stderr, "%s\n", message.c_str());
    return;
  }
  std::vector<int64_t> ids = tokenizer->encode(text);
  for (int64_t id : ids)
    if (id < 0 || (size_t)id >= tokenizer->vocabSize())
      tfx_fuzz::finding("encode produced an id outside the vocabulary");
  for (bool skipSpecial : {false, true}) {
    llvm::Expected<std::string> decoded = tokenizer->decode(ids, skipSpecial);
    if (!decoded)
      tfx_fuzz::finding("the ids encode produced do not decode");
  }
  // Arbitrary ids: decoded or refused.
  std::vector<int64_t> raw;
  for (size_t k = 0; k + 2 <= text.size() && raw.size() < 64; k += 2)
    raw.push_back((int64_t)(int16_t)((uint8_t)text[k] | (uint8_t)text[k + 1] << 8));
  llvm::Expected<std::string> decoded = tokenizer->decode(raw);
  if (!decoded)
    llvm::consumeError(decoded.takeError());
  (void)tokenizer->tokenId(text);
}

TFX_FUZZ_TARGET(tokenizer, fuzzTokenizer)
