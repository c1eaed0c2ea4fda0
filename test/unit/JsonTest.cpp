#include "tfx/Support/Json.h"
#include "tfx/Support/SafeTensors.h"
#include "tfx/Support/Tokenizer.h"

#include "llvm/Support/MemoryBuffer.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace mlir::tfx;

namespace {

std::string nested(const char *open, const char *close, unsigned depth) {
  std::string text;
  for (unsigned k = 0; k < depth; ++k)
    text += open;
  for (unsigned k = 0; k < depth; ++k)
    text += close;
  return text;
}

TEST(Json, NestingIsBoundedBeforeParsing) {
  // At the limit: parsed.
  llvm::Expected<llvm::json::Value> ok = parseJson(nested("[", "]", kMaxJsonDepth));
  ASSERT_TRUE((bool)ok) << llvm::toString(ok.takeError());
  // One deeper: refused with the place.
  llvm::Expected<llvm::json::Value> deep =
      parseJson(nested("{\"a\":", "}", kMaxJsonDepth + 1));
  ASSERT_FALSE((bool)deep);
  EXPECT_EQ(llvm::toString(deep.takeError()),
            "JSON nested deeper than 128 levels at byte 640");
  // Brackets inside strings (and escaped quotes) do not count.
  std::string inString = "[\"" + nested("[", "", 1000) + "\\\"[[\"]";
  llvm::Expected<llvm::json::Value> string = parseJson(inString);
  EXPECT_TRUE((bool)string) << llvm::toString(string.takeError());
}

TEST(Json, DeepDocumentsAreErrorsNotCrashes) {
  // A million levels overflowed the stack of llvm::json's recursive parser
  // and destructor (a 2 MB tfx-run --inputs file crashed tfx-run).
  std::string deep = nested("[", "", 1000000);
  std::string file(8, '\0');
  uint64_t length = deep.size();
  std::memcpy(file.data(), &length, 8);
  file += deep;
  auto st = SafeTensorsFile::fromBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(file, "deep.safetensors"));
  ASSERT_FALSE((bool)st);
  EXPECT_EQ(llvm::toString(st.takeError()),
            "deep.safetensors: invalid safetensors file: header is not valid "
            "JSON: JSON nested deeper than 128 levels at byte 128");
  llvm::Expected<Tokenizer> tok = Tokenizer::parse(deep, "tokenizer.json");
  ASSERT_FALSE((bool)tok);
  EXPECT_EQ(llvm::toString(tok.takeError()),
            "tokenizer.json: not JSON: JSON nested deeper than 128 levels at "
            "byte 128");
}

} // namespace
