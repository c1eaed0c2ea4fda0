//===- Tokenizer.h - Hugging Face tokenizer.json, BPE and WordPiece -*- C++ -*-===//
//
// Reads the `tokenizer.json` that Hugging Face's `tokenizers` library writes and
// encodes/decodes text for the two model kinds transformers use most:
//
//  - byte-level BPE (GPT-2, Llama 3, Qwen2): ByteLevel pre-tokenizer with the
//    GPT-2 split pattern, merges by rank, the ByteLevel decoder;
//  - WordPiece (BERT): BertNormalizer (clean text, lowercase, strip accents),
//    BertPreTokenizer (whitespace and punctuation), greedy longest-match with
//    the continuing-subword prefix, [UNK] for words it cannot cover.
//
// Added tokens (`<|endoftext|>`, `[CLS]`...) are matched in the text before
// pre-tokenization. Unicode categories (\p{L}, \p{N}, whitespace,
// punctuation) are exact for ASCII and Latin-1 and approximate beyond (other
// code points count as letters except the common punctuation, symbol and
// space blocks), which is what the split pattern needs for text in Latin
// scripts; lowercasing and accent stripping cover Latin-1.
//
//===----------------------------------------------------------------------===//
#ifndef TFX_SUPPORT_TOKENIZER_H
#define TFX_SUPPORT_TOKENIZER_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace mlir::tfx {

class Tokenizer {
public:
  enum class Kind { ByteLevelBPE, WordPiece };

  /// Reads `path` (a tokenizer.json). Errors name the file and the field.
  static llvm::Expected<Tokenizer> open(llvm::StringRef path);
  /// Parses tokenizer.json text; `origin` names it in errors.
  static llvm::Expected<Tokenizer> parse(llvm::StringRef json,
                                         llvm::StringRef origin);

  Kind kind() const { return modelKind; }
  size_t vocabSize() const { return idToToken.size(); }

  /// Token ids of `text` (no special tokens added around it).
  std::vector<int64_t> encode(llvm::StringRef text) const;
  /// Text of `ids`; ids outside the vocabulary are an error. Special added
  /// tokens are kept unless `skipSpecial`.
  llvm::Expected<std::string> decode(llvm::ArrayRef<int64_t> ids,
                                     bool skipSpecial = false) const;
  /// The id of a token string (vocabulary or added token), or -1.
  int64_t tokenId(llvm::StringRef token) const;

private:
  struct AddedToken {
    std::string content;
    int64_t id;
    bool special;
  };

  void encodeSegment(llvm::StringRef text, std::vector<int64_t> &out) const;
  void encodeBpeWord(llvm::StringRef word, std::vector<int64_t> &out) const;
  void encodeWordPiece(llvm::StringRef word, std::vector<int64_t> &out) const;

  Kind modelKind = Kind::ByteLevelBPE;
  llvm::StringMap<int64_t> vocab;
  std::vector<std::string> idToToken;
  std::vector<AddedToken> added;
  /// Rank of a merge, keyed by "left right" (the tokens' own spelling).
  llvm::StringMap<unsigned> mergeRank;
  // WordPiece settings.
  std::string continuingPrefix = "##";
  std::string unkToken = "[UNK]";
  size_t maxWordChars = 100;
  bool lowercase = true, stripAccents = true;
  // Byte-level: byte -> code point of its printable stand-in, and back.
  uint32_t byteToChar[256] = {};
  std::map<uint32_t, uint8_t> charToByte;
  bool addPrefixSpace = false;
};

} // namespace mlir::tfx

#endif // TFX_SUPPORT_TOKENIZER_H
