//===- Tokenizer.cpp - Hugging Face tokenizer.json, BPE and WordPiece -----===//

#include "tfx/Support/Tokenizer.h"
#include "tfx/Support/Json.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <algorithm>
#include <limits>

using namespace mlir::tfx;
using llvm::StringRef;

//===----------------------------------------------------------------------===//
// UTF-8 and character classes
//===----------------------------------------------------------------------===//

namespace {

/// Decodes the code point at `text[pos]` and advances `pos`. Invalid bytes
/// decode to themselves (as Latin-1) so that no input is lost.
uint32_t nextCodePoint(StringRef text, size_t &pos) {
  auto byte = [&](size_t i) { return (uint8_t)text[i]; };
  uint8_t lead = byte(pos);
  unsigned length = lead < 0x80           ? 1
                    : (lead >> 5) == 0x6  ? 2
                    : (lead >> 4) == 0xE  ? 3
                    : (lead >> 3) == 0x1E ? 4
                                          : 0;
  if (length <= 1 || pos + length > text.size()) {
    ++pos;
    return lead;
  }
  uint32_t cp = lead & (0x7F >> length);
  for (unsigned i = 1; i < length; ++i) {
    if ((byte(pos + i) & 0xC0) != 0x80) {
      ++pos;
      return lead;
    }
    cp = (cp << 6) | (byte(pos + i) & 0x3F);
  }
  pos += length;
  return cp;
}

void appendUtf8(std::string &out, uint32_t cp) {
  if (cp < 0x80) {
    out += (char)cp;
  } else if (cp < 0x800) {
    out += (char)(0xC0 | (cp >> 6));
    out += (char)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += (char)(0xE0 | (cp >> 12));
    out += (char)(0x80 | ((cp >> 6) & 0x3F));
    out += (char)(0x80 | (cp & 0x3F));
  } else {
    out += (char)(0xF0 | (cp >> 18));
    out += (char)(0x80 | ((cp >> 12) & 0x3F));
    out += (char)(0x80 | ((cp >> 6) & 0x3F));
    out += (char)(0x80 | (cp & 0x3F));
  }
}

bool isSpace(uint32_t c) {
  return c == ' ' || (c >= 0x09 && c <= 0x0D) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
         c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

bool isNumber(uint32_t c) {
  return (c >= '0' && c <= '9') || c == 0xB2 || c == 0xB3 || c == 0xB9 ||
         (c >= 0xBC && c <= 0xBE) || (c >= 0x660 && c <= 0x669) ||
         (c >= 0x966 && c <= 0x96F) || (c >= 0xFF10 && c <= 0xFF19) ||
         (c >= 0x2070 && c <= 0x2079) || (c >= 0x2080 && c <= 0x2089) ||
         (c >= 0x2150 && c <= 0x218B) || (c >= 0x2460 && c <= 0x249B);
}

/// Punctuation and symbols: ASCII and Latin-1 exactly, then the Unicode
/// blocks that hold nothing else (general punctuation, currency, arrows,
/// mathematical and technical symbols, box drawing, dingbats, CJK
/// punctuation, fullwidth ASCII punctuation, emoji).
bool isPunctOrSymbol(uint32_t c) {
  if (c < 0x80)
    return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) ||
           (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
  if (c < 0x100)
    return (c >= 0xA1 && c <= 0xBF && c != 0xAA && c != 0xB5 && c != 0xBA &&
            !isNumber(c)) ||
           c == 0xD7 || c == 0xF7;
  return (c >= 0x2010 && c <= 0x206F) || (c >= 0x20A0 && c <= 0x20CF) ||
         (c >= 0x2100 && c <= 0x214F) || (c >= 0x2190 && c <= 0x245F) ||
         (c >= 0x2500 && c <= 0x2BFF) || (c >= 0x3001 && c <= 0x303F) ||
         (c >= 0xFF01 && c <= 0xFF0F) || (c >= 0xFF1A && c <= 0xFF20) ||
         (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65) ||
         (c >= 0x1F000 && c <= 0x1FAFF);
}

bool isControl(uint32_t c) {
  return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') ||
         (c >= 0x7F && c <= 0x9F);
}

bool isLetter(uint32_t c) {
  if (c < 0x80)
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  return !isSpace(c) && !isNumber(c) && !isPunctOrSymbol(c) && !isControl(c);
}

bool isCjk(uint32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0xF900 && c <= 0xFAFF) ||
         (c >= 0x2F800 && c <= 0x2FA1F);
}

/// Lowercase and accent-free form of a Latin-1 letter (BertNormalizer).
uint32_t bertFold(uint32_t c, bool lowercase, bool stripAccents) {
  if (lowercase && ((c >= 'A' && c <= 'Z') ||
                    (c >= 0xC0 && c <= 0xDE && c != 0xD7)))
    c += 0x20;
  if (!stripAccents || c < 0xC0 || c > 0xFF)
    return c;
  static const char *base = "AAAAAAACEEEEIIII"
                            "DNOOOOO*OUUUUY?s"
                            "aaaaaaaceeeeiiii"
                            "dnooooo/ouuuuy?y";
  char folded = base[c - 0xC0];
  // Æ, Ð, Ø, Þ, ß and friends are letters of their own, not accented ones.
  if (c == 0xC6 || c == 0xE6 || c == 0xD0 || c == 0xF0 || c == 0xD8 ||
      c == 0xF8 || c == 0xDE || c == 0xFE || c == 0xDF || c == 0xD7 ||
      c == 0xF7)
    return c;
  return (uint32_t)(uint8_t)folded;
}

/// Splits text the way GPT-2's pattern does:
///   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
std::vector<StringRef> splitGpt2(StringRef text) {
  std::vector<uint32_t> cps;
  std::vector<size_t> offsets;
  for (size_t pos = 0; pos < text.size();) {
    offsets.push_back(pos);
    cps.push_back(nextCodePoint(text, pos));
  }
  offsets.push_back(text.size());
  size_t n = cps.size();
  auto isOther = [&](uint32_t c) {
    return !isSpace(c) && !isLetter(c) && !isNumber(c);
  };
  auto runOf = [&](size_t from, auto pred) {
    while (from < n && pred(cps[from]))
      ++from;
    return from;
  };
  std::vector<StringRef> pieces;
  for (size_t i = 0; i < n;) {
    size_t end = i;
    if (cps[i] == '\'') {
      for (StringRef suffix : {"s", "t", "re", "ve", "m", "ll", "d"}) {
        if (text.substr(offsets[i] + 1).starts_with(suffix)) {
          end = i + 1 + suffix.size();
          break;
        }
      }
    }
    if (end == i) {
      size_t start = cps[i] == ' ' && i + 1 < n ? i + 1 : i;
      uint32_t c = cps[start];
      if (isLetter(c))
        end = runOf(start, isLetter);
      else if (isNumber(c))
        end = runOf(start, isNumber);
      else if (isOther(c))
        end = runOf(start, isOther);
    }
    if (end == i) {
      // Whitespace: the run minus its last character when a non-space
      // follows it (that character then leads the next piece), else all.
      size_t runEnd = runOf(i, isSpace);
      end = runEnd < n && runEnd - i > 1 ? runEnd - 1 : runEnd;
    }
    pieces.push_back(text.slice(offsets[i], offsets[end]));
    i = end;
  }
  return pieces;
}

llvm::Error fieldError(StringRef origin, const llvm::Twine &message) {
  return llvm::createStringError("%s: %s", origin.str().c_str(),
                                 message.str().c_str());
}

} // namespace

//===----------------------------------------------------------------------===//
// Loading
//===----------------------------------------------------------------------===//

llvm::Expected<Tokenizer> Tokenizer::open(StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return fieldError(path, "cannot read: " + buffer.getError().message());
  return parse((*buffer)->getBuffer(), path);
}

llvm::Expected<Tokenizer> Tokenizer::parse(StringRef json, StringRef origin) {
  llvm::Expected<llvm::json::Value> root = parseJson(json);
  if (!root)
    return fieldError(origin, "not JSON: " + llvm::toString(root.takeError()));
  const llvm::json::Object *top = root->getAsObject();
  if (!top)
    return fieldError(origin, "the top level is not an object");
  const llvm::json::Object *model = top->getObject("model");
  if (!model)
    return fieldError(origin, "no 'model' object");
  std::optional<StringRef> type = model->getString("type");
  if (!type)
    return fieldError(origin, "model.type is missing");

  Tokenizer tok;
  if (*type == "BPE") {
    tok.modelKind = Kind::ByteLevelBPE;
  } else if (*type == "WordPiece") {
    tok.modelKind = Kind::WordPiece;
  } else {
    return fieldError(origin, "model.type '" + *type +
                                  "' is not supported (BPE, WordPiece)");
  }

  const llvm::json::Object *vocab = model->getObject("vocab");
  if (!vocab)
    return fieldError(origin, "model.vocab is missing or not an object");
  // Ids are dense: below the number of vocabulary entries and added tokens
  // (and 2^24). A larger one would size the id table from a single number
  // in the file (2^24 empty strings from a 30-byte file).
  const llvm::json::Array *addedTokens = top->getArray("added_tokens");
  int64_t idLimit = std::min<int64_t>(
      (int64_t)(vocab->size() + (addedTokens ? addedTokens->size() : 0)),
      int64_t(1) << 24);
  for (const auto &[token, idValue] : *vocab) {
    std::optional<int64_t> id = idValue.getAsInteger();
    if (!id || *id < 0 || *id >= idLimit)
      return fieldError(origin, "model.vocab['" + token.str() +
                                    "'] is not an id in [0, " +
                                    llvm::Twine(idLimit) + ")");
    tok.vocab[token.str()] = *id;
    if ((size_t)*id >= tok.idToToken.size())
      tok.idToToken.resize(*id + 1);
    tok.idToToken[*id] = token.str();
  }

  if (addedTokens) {
    for (const llvm::json::Value &entry : *addedTokens) {
      const llvm::json::Object *object = entry.getAsObject();
      std::optional<StringRef> content =
          object ? object->getString("content") : std::nullopt;
      std::optional<int64_t> id =
          object ? object->getInteger("id") : std::nullopt;
      if (!content || !id || content->empty())
        return fieldError(origin, "an added_tokens entry lacks content or id");
      if (*id < 0 || *id >= idLimit)
        return fieldError(origin, "added token '" + *content +
                                      "' has id " + llvm::Twine(*id) +
                                      ", not in [0, " + llvm::Twine(idLimit) +
                                      ")");
      tok.added.push_back({content->str(), *id,
                           object->getBoolean("special").value_or(false)});
      tok.vocab[*content] = *id;
      if ((size_t)*id >= tok.idToToken.size())
        tok.idToToken.resize(*id + 1);
      tok.idToToken[*id] = content->str();
    }
    // Longest first, so that a token that contains another wins.
    std::stable_sort(tok.added.begin(), tok.added.end(),
                     [](const AddedToken &a, const AddedToken &b) {
                       return a.content.size() > b.content.size();
                     });
  }

  if (tok.modelKind == Kind::ByteLevelBPE) {
    const llvm::json::Object *pre = top->getObject("pre_tokenizer");
    std::optional<StringRef> preType =
        pre ? pre->getString("type") : std::nullopt;
    if (!preType || *preType != "ByteLevel" ||
        !pre->getBoolean("use_regex").value_or(true))
      return fieldError(origin,
                        "BPE is supported with the ByteLevel pre-tokenizer and "
                        "GPT-2's split pattern; this file has '" +
                            preType.value_or("none") + "'");
    if (model->getBoolean("byte_fallback").value_or(false))
      return fieldError(origin, "BPE with byte_fallback is not supported");
    tok.addPrefixSpace = pre->getBoolean("add_prefix_space").value_or(false);
    // GPT-2's table: printable Latin-1 bytes stand for themselves, the
    // others for 256, 257, ... in byte order.
    uint32_t next = 256;
    for (unsigned b = 0; b < 256; ++b) {
      bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) ||
                       (b >= 0xAE && b <= 0xFF);
      tok.byteToChar[b] = printable ? b : next++;
      tok.charToByte[tok.byteToChar[b]] = (uint8_t)b;
    }
    const llvm::json::Array *merges = model->getArray("merges");
    if (!merges)
      return fieldError(origin, "model.merges is missing");
    unsigned rank = 0;
    for (const llvm::json::Value &merge : *merges) {
      std::string left, right;
      if (std::optional<StringRef> text = merge.getAsString()) {
        auto [l, r] = text->split(' ');
        left = l.str(), right = r.str();
      } else if (const llvm::json::Array *pair = merge.getAsArray();
                 pair && pair->size() == 2 && (*pair)[0].getAsString() &&
                 (*pair)[1].getAsString()) {
        left = (*pair)[0].getAsString()->str();
        right = (*pair)[1].getAsString()->str();
      }
      if (left.empty() || right.empty())
        return fieldError(origin, "model.merges[" + llvm::Twine(rank) +
                                      "] is not a pair of tokens");
      tok.mergeRank.try_emplace(left + '\0' + right, rank++);
    }
  } else {
    if (std::optional<StringRef> unk = model->getString("unk_token"))
      tok.unkToken = unk->str();
    if (std::optional<StringRef> prefix =
            model->getString("continuing_subword_prefix"))
      tok.continuingPrefix = prefix->str();
    if (std::optional<int64_t> maxChars =
            model->getInteger("max_input_chars_per_word"))
      tok.maxWordChars = (size_t)std::max<int64_t>(*maxChars, 1);
    if (tok.tokenId(tok.unkToken) < 0)
      return fieldError(origin, "the unknown token '" + tok.unkToken +
                                    "' is not in the vocabulary");
    if (const llvm::json::Object *norm = top->getObject("normalizer")) {
      tok.lowercase = norm->getBoolean("lowercase").value_or(true);
      // strip_accents null follows lowercase, as in BertNormalizer.
      tok.stripAccents =
          norm->getBoolean("strip_accents").value_or(tok.lowercase);
    } else {
      tok.lowercase = tok.stripAccents = false;
    }
  }
  return tok;
}

int64_t Tokenizer::tokenId(StringRef token) const {
  auto it = vocab.find(token);
  return it == vocab.end() ? -1 : it->second;
}

//===----------------------------------------------------------------------===//
// Encoding
//===----------------------------------------------------------------------===//

std::vector<int64_t> Tokenizer::encode(StringRef text) const {
  std::vector<int64_t> ids;
  // Added tokens split the text first; what lies between them is encoded
  // by the model.
  size_t start = 0;
  for (size_t pos = 0; pos < text.size();) {
    const AddedToken *match = nullptr;
    for (const AddedToken &token : added)
      if (text.substr(pos).starts_with(token.content)) {
        match = &token;
        break;
      }
    if (!match) {
      ++pos;
      continue;
    }
    encodeSegment(text.slice(start, pos), ids);
    ids.push_back(match->id);
    pos += match->content.size();
    start = pos;
  }
  encodeSegment(text.substr(start), ids);
  return ids;
}

void Tokenizer::encodeSegment(StringRef text, std::vector<int64_t> &out) const {
  if (text.empty())
    return;
  if (modelKind == Kind::ByteLevelBPE) {
    std::string prefixed;
    if (addPrefixSpace && !text.starts_with(" ")) {
      prefixed = " " + text.str();
      text = prefixed;
    }
    for (StringRef piece : splitGpt2(text)) {
      std::string mapped;
      for (char c : piece)
        appendUtf8(mapped, byteToChar[(uint8_t)c]);
      encodeBpeWord(mapped, out);
    }
    return;
  }

  // WordPiece: BertNormalizer, then BertPreTokenizer.
  std::vector<std::string> words(1);
  auto endWord = [&] {
    if (!words.back().empty())
      words.emplace_back();
  };
  for (size_t pos = 0; pos < text.size();) {
    uint32_t c = nextCodePoint(text, pos);
    if (c == 0 || c == 0xFFFD || isControl(c))
      continue;
    if (isSpace(c)) {
      endWord();
      continue;
    }
    c = bertFold(c, lowercase, stripAccents);
    if (isPunctOrSymbol(c) || isCjk(c)) {
      endWord();
      appendUtf8(words.back(), c);
      endWord();
      continue;
    }
    appendUtf8(words.back(), c);
  }
  for (const std::string &word : words)
    if (!word.empty())
      encodeWordPiece(word, out);
}

void Tokenizer::encodeBpeWord(StringRef word, std::vector<int64_t> &out) const {
  // One symbol per character, then the lowest-ranked adjacent pair is merged
  // (leftmost first) until no pair has a rank.
  std::vector<std::string> symbols;
  for (size_t pos = 0; pos < word.size();) {
    size_t begin = pos;
    nextCodePoint(word, pos);
    symbols.push_back(word.slice(begin, pos).str());
  }
  std::string key;
  while (symbols.size() > 1) {
    unsigned bestRank = std::numeric_limits<unsigned>::max();
    size_t best = 0;
    for (size_t i = 0; i + 1 < symbols.size(); ++i) {
      key = symbols[i] + '\0' + symbols[i + 1];
      auto it = mergeRank.find(key);
      if (it != mergeRank.end() && it->second < bestRank)
        bestRank = it->second, best = i;
    }
    if (bestRank == std::numeric_limits<unsigned>::max())
      break;
    symbols[best] += symbols[best + 1];
    symbols.erase(symbols.begin() + best + 1);
  }
  for (const std::string &symbol : symbols) {
    int64_t id = tokenId(symbol);
    if (id >= 0) {
      out.push_back(id);
      continue;
    }
    // A symbol without an id (a vocabulary missing a byte): its characters.
    for (size_t pos = 0; pos < symbol.size();) {
      size_t begin = pos;
      nextCodePoint(symbol, pos);
      int64_t charId = tokenId(StringRef(symbol).slice(begin, pos));
      if (charId >= 0)
        out.push_back(charId);
    }
  }
}

void Tokenizer::encodeWordPiece(StringRef word,
                                std::vector<int64_t> &out) const {
  size_t chars = 0;
  for (size_t pos = 0; pos < word.size(); ++chars)
    nextCodePoint(word, pos);
  int64_t unk = tokenId(unkToken);
  if (chars > maxWordChars) {
    out.push_back(unk);
    return;
  }
  std::vector<int64_t> pieces;
  for (size_t start = 0; start < word.size();) {
    // Longest vocabulary entry starting at `start`, on character boundaries.
    std::vector<size_t> ends;
    for (size_t pos = start; pos < word.size();) {
      nextCodePoint(word, pos);
      ends.push_back(pos);
    }
    int64_t found = -1;
    size_t foundEnd = start;
    for (auto it = ends.rbegin(); it != ends.rend() && found < 0; ++it) {
      std::string candidate = (start > 0 ? continuingPrefix : std::string()) +
                              word.slice(start, *it).str();
      found = tokenId(candidate);
      foundEnd = *it;
    }
    if (found < 0) {
      out.push_back(unk);
      return;
    }
    pieces.push_back(found);
    start = foundEnd;
  }
  out.insert(out.end(), pieces.begin(), pieces.end());
}

//===----------------------------------------------------------------------===//
// Decoding
//===----------------------------------------------------------------------===//

llvm::Expected<std::string> Tokenizer::decode(llvm::ArrayRef<int64_t> ids,
                                              bool skipSpecial) const {
  auto addedFor = [&](int64_t id) -> const AddedToken * {
    for (const AddedToken &token : added)
      if (token.id == id)
        return &token;
    return nullptr;
  };
  std::string text;
  std::string bytes; // byte-level symbols waiting to be mapped back
  auto flushBytes = [&] {
    for (size_t pos = 0; pos < bytes.size();) {
      uint32_t c = nextCodePoint(bytes, pos);
      auto it = charToByte.find(c);
      if (it != charToByte.end())
        text += (char)it->second;
      else
        appendUtf8(text, c);
    }
    bytes.clear();
  };
  for (size_t i = 0; i < ids.size(); ++i) {
    int64_t id = ids[i];
    if (id < 0 || (size_t)id >= idToToken.size() || idToToken[id].empty())
      return llvm::createStringError("token id %lld at position %zu is not in "
                                     "the vocabulary (size %zu)",
                                     (long long)id, i, idToToken.size());
    const std::string &token = idToToken[id];
    const AddedToken *special = addedFor(id);
    if (special && special->special && skipSpecial)
      continue;
    if (modelKind == Kind::ByteLevelBPE) {
      if (special) {
        flushBytes();
        text += token;
      } else {
        bytes += token;
      }
      continue;
    }
    StringRef piece = token;
    if (!special && piece.starts_with(continuingPrefix)) {
      text += piece.drop_front(continuingPrefix.size()).str();
      continue;
    }
    if (!text.empty())
      text += ' ';
    text += token;
  }
  flushBytes();
  if (modelKind == Kind::WordPiece) {
    // The WordPiece decoder's cleanup of spaces before punctuation and
    // English contractions.
    static const std::pair<StringRef, StringRef> cleanups[] = {
        {" .", "."},     {" ?", "?"},     {" !", "!"},     {" ,", ","},
        {" ' ", "'"},    {" n't", "n't"}, {" 'm", "'m"},   {" 's", "'s"},
        {" 've", "'ve"}, {" 're", "'re"}};
    for (auto [from, to] : cleanups) {
      for (size_t at = text.find(from.str()); at != std::string::npos;
           at = text.find(from.str(), at + to.size()))
        text.replace(at, from.size(), to.str());
    }
  }
  return text;
}
