//===- TokenizerTest.cpp - tokenizer.json BPE and WordPiece ---------------===//

#include "tfx/Support/Tokenizer.h"
#include "tfx/Support/SafeTensors.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <cstdlib>
#include <gtest/gtest.h>

using namespace mlir::tfx;

namespace {

// A byte-level BPE over the letters of "lower", "low", "newest". "Ġ l"
// ranks below "l o" yet never applies to " low": "l o" (rank 0) is merged
// first, then "lo w", then "Ġ low".
const char *kBpeJson = R"({
  "version": "1.0",
  "added_tokens": [{"id": 20, "content": "<|endoftext|>", "special": true}],
  "normalizer": null,
  "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false,
                    "use_regex": true},
  "decoder": {"type": "ByteLevel"},
  "model": {"type": "BPE", "vocab": {
      "l": 0, "o": 1, "w": 2, "e": 3, "r": 4, "n": 5, "s": 6, "t": 7,
      "Ġ": 8, "lo": 9, "low": 10, "er": 11, "Ġl": 12, "Ġlow": 13,
      "Ġn": 14, "ne": 15, "st": 16, "est": 17, "!": 18, "Ċ": 19,
      "<|endoftext|>": 20, "'": 21, "'s": 22, "1": 23, "2": 24},
    "merges": [["l", "o"], ["lo", "w"], ["e", "r"], ["Ġ", "l"],
               ["Ġ", "low"], ["Ġ", "n"], ["s", "t"], ["e", "st"],
               "' s"]}
})";

const char *kWordPieceJson = R"({
  "added_tokens": [{"id": 0, "content": "[UNK]", "special": true},
                   {"id": 1, "content": "[CLS]", "special": true}],
  "normalizer": {"type": "BertNormalizer", "lowercase": true,
                 "strip_accents": null},
  "pre_tokenizer": {"type": "BertPreTokenizer"},
  "model": {"type": "WordPiece", "unk_token": "[UNK]",
            "continuing_subword_prefix": "##",
            "max_input_chars_per_word": 100,
            "vocab": {"[UNK]": 0, "[CLS]": 1, "un": 2, "##aff": 3,
                      "##able": 4, "cafe": 5, ",": 6, "it": 7, "'": 8,
                      "s": 9, ".": 10}}
})";

Tokenizer parseOrDie(const char *json) {
  llvm::Expected<Tokenizer> tok = Tokenizer::parse(json, "test.json");
  if (!tok) {
    ADD_FAILURE() << llvm::toString(tok.takeError());
    return *Tokenizer::parse(kBpeJson, "fallback");
  }
  return std::move(*tok);
}

TEST(Tokenizer, ByteLevelBpeMergesByRank) {
  Tokenizer tok = parseOrDie(kBpeJson);
  EXPECT_EQ(tok.kind(), Tokenizer::Kind::ByteLevelBPE);
  // "lower": l o w e r -> lo w e r -> low e r -> low er.
  EXPECT_EQ(tok.encode("lower"), (std::vector<int64_t>{10, 11}));
  // The space leads the next word's piece: "Ġlow", then "Ġn" "e" "w" "est".
  EXPECT_EQ(tok.encode("lower low newest"),
            (std::vector<int64_t>{10, 11, 13, 14, 3, 2, 17}));
  // Punctuation splits from letters; "\n" is byte 10 -> "Ċ".
  EXPECT_EQ(tok.encode("low!\n"), (std::vector<int64_t>{10, 18, 19}));
  // Contractions are their own piece; digits split from letters.
  EXPECT_EQ(tok.encode("low's12"), (std::vector<int64_t>{10, 22, 23, 24}));
  // Added tokens are found before pre-tokenization.
  EXPECT_EQ(tok.encode("low<|endoftext|>low"),
            (std::vector<int64_t>{10, 20, 10}));
}

TEST(Tokenizer, ByteLevelBpeDecodesBytes) {
  Tokenizer tok = parseOrDie(kBpeJson);
  for (const char *text : {"lower low newest", "low!\n", "low's12",
                           "newest<|endoftext|>lower"}) {
    llvm::Expected<std::string> back = tok.decode(tok.encode(text));
    ASSERT_TRUE((bool)back) << llvm::toString(back.takeError());
    EXPECT_EQ(*back, text);
  }
  llvm::Expected<std::string> skipped =
      tok.decode({10, 20, 10}, /*skipSpecial=*/true);
  ASSERT_TRUE((bool)skipped);
  EXPECT_EQ(*skipped, "lowlow");
  llvm::Expected<std::string> bad = tok.decode({10, 99});
  ASSERT_FALSE((bool)bad);
  EXPECT_EQ(llvm::toString(bad.takeError()),
            "token id 99 at position 1 is not in the vocabulary (size 25)");
}

TEST(Tokenizer, WordPieceLongestMatch) {
  Tokenizer tok = parseOrDie(kWordPieceJson);
  EXPECT_EQ(tok.kind(), Tokenizer::Kind::WordPiece);
  // Lowercased, accents stripped (é -> e), punctuation split off, a word
  // the vocabulary cannot cover becomes [UNK].
  EXPECT_EQ(tok.encode("Unaffable CAFÉ, it's zzz."),
            (std::vector<int64_t>{2, 3, 4, 5, 6, 7, 8, 9, 0, 10}));
  EXPECT_EQ(tok.encode("[CLS] unable"), (std::vector<int64_t>{1, 2, 4}));
  llvm::Expected<std::string> text = tok.decode({2, 3, 4, 5, 6, 7, 8, 9, 10});
  ASSERT_TRUE((bool)text);
  EXPECT_EQ(*text, "unaffable cafe, it's.");
}

TEST(Tokenizer, Rejections) {
  auto error = [](const char *json) {
    llvm::Expected<Tokenizer> tok = Tokenizer::parse(json, "t.json");
    return tok ? std::string("accepted") : llvm::toString(tok.takeError());
  };
  EXPECT_EQ(error("{"), "t.json: not JSON: [1:1, byte=1]: Expected object key");
  EXPECT_EQ(error("[]"), "t.json: the top level is not an object");
  EXPECT_EQ(error("{}"), "t.json: no 'model' object");
  EXPECT_EQ(error(R"({"model": {"type": "Unigram", "vocab": {}}})"),
            "t.json: model.type 'Unigram' is not supported (BPE, WordPiece)");
  EXPECT_EQ(error(R"({"model": {"type": "BPE", "vocab": {"a": -1}}})"),
            "t.json: model.vocab['a'] is not an id in [0, 1)");
  // Ids are dense: one large id does not size the id table.
  EXPECT_EQ(error(R"({"model": {"type": "BPE", "vocab": {"a": 16777215}}})"),
            "t.json: model.vocab['a'] is not an id in [0, 1)");
  EXPECT_EQ(error(R"({"model": {"type": "BPE", "vocab": {"a": 0}},
                      "added_tokens": [{"id": 9, "content": "<s>"}]})"),
            "t.json: added token '<s>' has id 9, not in [0, 2)");
  EXPECT_EQ(error(R"({"pre_tokenizer": {"type": "Metaspace"},
                      "model": {"type": "BPE", "vocab": {}, "merges": []}})"),
            "t.json: BPE is supported with the ByteLevel pre-tokenizer and "
            "GPT-2's split pattern; this file has 'Metaspace'");
  EXPECT_EQ(error(R"({"pre_tokenizer": {"type": "ByteLevel"},
                      "model": {"type": "BPE", "vocab": {}, "merges": [3]}})"),
            "t.json: model.merges[0] is not a pair of tokens");
  EXPECT_EQ(error(R"({"model": {"type": "WordPiece", "vocab": {"a": 0}}})"),
            "t.json: the unknown token '[UNK]' is not in the vocabulary");
}

// The trained shared GPT-2's byte-level BPE: decoding held-out token rows
// and encoding the text again gives the same ids. Rows are 256-token windows
// cut from documents, so the first and last pre-token of a row may have
// been split differently; only the interior is compared.
TEST(Tokenizer, SharedPydocRoundTrip) {
  const char *dir = std::getenv("TFX_SHARED_MODELS");
  llvm::SmallString<256> model(dir ? dir : "");
  llvm::sys::path::append(model, "gpt2-pydoc");
  llvm::SmallString<256> json(model), heldout(model);
  llvm::sys::path::append(json, "tokenizer.json");
  llvm::sys::path::append(heldout, "heldout-eval.safetensors");
  if (!dir || !llvm::sys::fs::exists(json))
    GTEST_SKIP() << "shared models not present";
  llvm::Expected<Tokenizer> tok = Tokenizer::open(json);
  ASSERT_TRUE((bool)tok) << llvm::toString(tok.takeError());
  EXPECT_EQ(tok->vocabSize(), 4096u);
  auto file = SafeTensorsFile::open(heldout);
  ASSERT_TRUE((bool)file) << llvm::toString(file.takeError());
  auto ids = (*file)->read("input_ids");
  ASSERT_TRUE((bool)ids) << llvm::toString(ids.takeError());
  int64_t rows = ids->shape[0], cols = ids->shape[1];
  int exactRows = 0;
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<int64_t> row(ids->i.begin() + r * cols,
                             ids->i.begin() + (r + 1) * cols);
    llvm::Expected<std::string> text = tok->decode(row);
    ASSERT_TRUE((bool)text) << llvm::toString(text.takeError());
    std::vector<int64_t> again = tok->encode(*text);
    if (again == row) {
      ++exactRows;
      continue;
    }
    // Compare the middle: drop a few tokens at each end, then find the
    // interior of `row` inside `again`.
    std::vector<int64_t> middle(row.begin() + 8, row.end() - 8);
    auto found = std::search(again.begin(), again.end(), middle.begin(),
                             middle.end());
    EXPECT_NE(found, again.end()) << "held-out row " << r;
  }
  std::printf("gpt2-pydoc: %d of %lld held-out rows re-encode to identical "
              "ids\n",
              exactRows, (long long)rows);
  EXPECT_GE(exactRows, rows / 2);
}

} // namespace
