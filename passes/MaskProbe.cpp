//===- MaskProbe.cpp - what an attention mask subgraph means --------------===//

#include "MaskProbe.h"
#include "RaiseUtils.h"

#include "tfx/Interpreter/Interpreter.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SetVector.h"

#include <cmath>
#include <cstring>

using namespace mlir;
using namespace mlir::tfx;
using namespace mlir::tfx::raise;

namespace {

/// Masks are built from a handful of cheap ops; a bigger slice, or one that
/// reaches a matmul, depends on activations and is no mask.
constexpr size_t kMaxSliceOps = 512;

/// The backward slice of a mask value: ops in program order and the one
/// runtime leaf it may depend on.
struct MaskSlice {
  SmallVector<Operation *> ops;
  BlockArgument arg;
};

std::optional<MaskSlice> sliceOf(Value mask) {
  MaskSlice slice;
  llvm::SetVector<Operation *> seen;
  SmallVector<Value> work{mask};
  Block *block = nullptr;
  while (!work.empty()) {
    Value v = work.pop_back_val();
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      if (slice.arg && slice.arg != arg)
        return std::nullopt;
      slice.arg = arg;
      continue;
    }
    Operation *op = v.getDefiningOp();
    if (seen.contains(op) || isConstantLike(v))
      continue;
    if (op->getNumRegions() || op->getNumResults() != 1 ||
        !isa<TfxDialect>(op->getDialect()) ||
        isa<MatMulOp, LinearOp, AttentionOp, SoftmaxOp, EmbeddingOp>(op) ||
        seen.size() >= kMaxSliceOps || (block && op->getBlock() != block))
      return std::nullopt;
    block = op->getBlock();
    seen.insert(op);
    for (Value operand : op->getOperands())
      work.push_back(operand);
  }
  slice.ops.assign(seen.begin(), seen.end());
  llvm::sort(slice.ops, [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });
  return slice;
}

/// Appends the structure of `slice` computing `root` to `key` (see
/// MaskProbeCache): per op its name, properties, attributes, result type and
/// operand references; a reference is a slice op's index, the argument, or
/// a constant leaf's name, properties and type.
void appendKey(const MaskSlice &slice, Value root, std::vector<const void *> &key) {
  enum Tag : uintptr_t { OpRef = 1, ArgRef, ConstRef, End };
  auto tag = [](Tag t) { return (const void *)t; };
  llvm::DenseMap<Operation *, uintptr_t> index;
  auto ref = [&](Value v) {
    if (isa<BlockArgument>(v)) {
      key.push_back(tag(ArgRef));
      key.push_back(v.getAsOpaquePointer());
      return;
    }
    Operation *def = v.getDefiningOp();
    auto it = index.find(def);
    if (it != index.end()) {
      key.push_back(tag(OpRef));
      key.push_back((const void *)it->second);
      return;
    }
    key.push_back(tag(ConstRef));
    key.push_back(def->getName().getAsOpaquePointer());
    key.push_back(def->getPropertiesAsAttribute().getAsOpaquePointer());
    key.push_back(def->getAttrDictionary().getAsOpaquePointer());
    key.push_back(v.getType().getAsOpaquePointer());
  };
  for (Operation *op : slice.ops) {
    key.push_back(op->getName().getAsOpaquePointer());
    key.push_back(op->getPropertiesAsAttribute().getAsOpaquePointer());
    key.push_back(op->getAttrDictionary().getAsOpaquePointer());
    key.push_back(op->getResult(0).getType().getAsOpaquePointer());
    key.push_back((const void *)(uintptr_t)op->getNumOperands());
    for (Value operand : op->getOperands())
      ref(operand);
    index[op] = index.size();
  }
  ref(root);
  key.push_back(tag(End));
}

std::optional<Tensor> evaluateSlice(const MaskSlice &slice, Value mask,
                                    const Tensor *argValue) {
  llvm::DenseMap<Value, Tensor> values;
  auto lookup = [&](Value v) -> const Tensor * {
    auto it = values.find(v);
    if (it != values.end())
      return &it->second;
    if (slice.arg && v == slice.arg)
      return argValue;
    if (std::optional<Tensor> c = constantValue(v))
      return &(values[v] = std::move(*c));
    return nullptr;
  };
  for (Operation *op : slice.ops) {
    SmallVector<const Tensor *> operands;
    for (Value operand : op->getOperands()) {
      const Tensor *t = lookup(operand);
      if (!t)
        return std::nullopt;
      operands.push_back(t);
    }
    llvm::Expected<Tensor> r = evaluateOpOn(op, operands);
    if (!r) {
      llvm::consumeError(r.takeError());
      return std::nullopt;
    }
    values[op->getResult(0)] = std::move(*r);
  }
  const Tensor *result = lookup(mask);
  return result ? std::optional<Tensor>(*result) : std::nullopt;
}

/// Which scores [B, Sq, Sk] one evaluated term keeps, or nullopt when the
/// tensor is no mask: not broadcastable to [B, heads, Sq, Sk], different per
/// head, or an additive value that neither keeps (0) nor hides (<= -1e4).
std::optional<std::vector<char>> keptBy(const Tensor &m, const MaskTerm &term,
                                        int64_t B, int64_t Sq, int64_t Sk) {
  if (m.rank() > 4 || m.rank() < 1)
    return std::nullopt;
  std::vector<int64_t> shape(4 - m.rank(), 1);
  shape.insert(shape.end(), m.shape.begin(), m.shape.end());
  if ((shape[0] != 1 && shape[0] != B) || (shape[2] != 1 && shape[2] != Sq) ||
      (shape[3] != 1 && shape[3] != Sk))
    return std::nullopt;
  bool additive = term.kind == MaskTerm::Additive;
  if (additive != m.isFloat())
    return std::nullopt;
  std::vector<char> kept(B * Sq * Sk);
  for (int64_t h = 0; h < shape[1]; ++h)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t i = 0; i < Sq; ++i)
        for (int64_t j = 0; j < Sk; ++j) {
          int64_t k = (((shape[0] == 1 ? 0 : b) * shape[1] + h) * shape[2] +
                       (shape[2] == 1 ? 0 : i)) * shape[3] + (shape[3] == 1 ? 0 : j);
          bool keep;
          if (additive) {
            double v = m.f[k] * term.factor;
            if (std::fabs(v) < 1e-6)
              keep = true;
            else if (v <= -1e4)
              keep = false;
            else
              return std::nullopt;
          } else {
            keep = (m.i[k] != 0) == (term.kind == MaskTerm::KeepWhereTrue);
          }
          char &slot = kept[(b * Sq + i) * Sk + j];
          if (h > 0 && slot != (char)keep)
            return std::nullopt;
          slot = keep;
        }
  return kept;
}

/// Attention masks to probe with, [B, Sk] of `type`'s element type: all
/// ones, right padding, left padding, scattered zeros and pseudo-random
/// rows; every row keeps at least one key.
std::vector<Tensor> makeProbes(RankedTensorType type, int64_t B, int64_t Sk) {
  std::vector<Tensor> probes;
  bool isFloat = isa<FloatType>(type.getElementType());
  DType dtype = dtypeOf(type.getElementType());
  uint64_t state = 0x9E3779B97F4A7C15ull;
  for (int kind = 0; kind < 5; ++kind) {
    Tensor p = isFloat ? Tensor::floats({B, Sk}, 1.0f, dtype)
                       : Tensor::ints({B, Sk}, 1, dtype);
    for (int64_t b = 0; b < B; ++b) {
      int64_t zeros = std::min<int64_t>(Sk - 1, 1 + b % 3);
      bool any = false;
      for (int64_t j = 0; j < Sk; ++j) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        bool zero = (kind == 1 && j >= Sk - zeros) || (kind == 2 && j < zeros) ||
                    (kind == 3 && j > 0 && (j * 7 + b * 3) % 5 == 0) ||
                    (kind == 4 && (state >> 33) % 3 == 0);
        if (zero) {
          if (isFloat)
            p.f[b * Sk + j] = 0.0f;
          else
            p.i[b * Sk + j] = 0;
        }
        any |= !zero;
      }
      if (!any) {
        if (isFloat)
          p.f[b * Sk] = 1.0f;
        else
          p.i[b * Sk] = 1;
      }
    }
    probes.push_back(std::move(p));
  }
  return probes;
}

/// The scores every term keeps, with the runtime argument set to `probe`.
std::optional<std::vector<char>> keptByAll(ArrayRef<MaskTerm> terms,
                                           ArrayRef<MaskSlice> slices,
                                           const Tensor *probe, int64_t B,
                                           int64_t Sq, int64_t Sk) {
  std::vector<char> kept(B * Sq * Sk, 1);
  for (auto [term, slice] : llvm::zip(terms, slices)) {
    std::optional<Tensor> m = evaluateSlice(slice, term.value, probe);
    if (!m)
      return std::nullopt;
    std::optional<std::vector<char>> k = keptBy(*m, term, B, Sq, Sk);
    if (!k)
      return std::nullopt;
    for (size_t e = 0; e < kept.size(); ++e)
      kept[e] &= (*k)[e];
  }
  return kept;
}

/// A candidate meaning, as tfx.attention's masks combine (see the op).
struct Candidate {
  bool padding = false, causal = false;
  int64_t window = 0;
};

bool means(const std::vector<char> &kept, int64_t B, int64_t Sq, int64_t Sk,
           const Candidate &c, const Tensor *pad) {
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < Sq; ++i)
      for (int64_t j = 0; j < Sk; ++j) {
        int64_t pos = i + (Sk - Sq);
        bool expected = !(c.padding && pad->at(b * Sk + j) == 0.0) &&
                        !(c.causal && j > pos) &&
                        !(c.window > 0 && j <= pos - c.window);
        if ((bool)kept[(b * Sq + i) * Sk + j] != expected)
          return false;
      }
  return true;
}

/// The sliding window a causal mask seems to have: the keys the last query
/// of the first batch row keeps when nothing is padded (0: none).
int64_t guessWindow(const std::vector<char> &kept, int64_t Sq, int64_t Sk) {
  int64_t n = 0;
  for (int64_t j = 0; j < Sk; ++j)
    n += kept[(Sq - 1) * Sk + j];
  return n > 0 && n < Sk ? n : 0;
}

} // namespace

static std::optional<MaskMeaning> classifyUncached(ArrayRef<MaskTerm> terms,
                                                   ArrayRef<MaskSlice> slices,
                                                   BlockArgument arg, int64_t B,
                                                   int64_t Sq, int64_t Sk);

std::optional<MaskMeaning> raise::classifyMask(ArrayRef<MaskTerm> terms, int64_t B,
                                               int64_t Sq, int64_t Sk,
                                               MaskProbeCache *cache) {
  if (B <= 0 || Sq <= 0 || Sk <= 0)
    return std::nullopt;
  SmallVector<MaskSlice> slices;
  BlockArgument arg;
  for (const MaskTerm &term : terms) {
    std::optional<MaskSlice> slice = sliceOf(term.value);
    if (!slice || (arg && slice->arg && slice->arg != arg))
      return std::nullopt;
    if (slice->arg)
      arg = slice->arg;
    slices.push_back(std::move(*slice));
  }
  if (!cache)
    return classifyUncached(terms, slices, arg, B, Sq, Sk);
  std::vector<const void *> key{(const void *)(uintptr_t)B, (const void *)(uintptr_t)Sq,
                                (const void *)(uintptr_t)Sk};
  for (auto [term, slice] : llvm::zip(terms, slices)) {
    key.push_back((const void *)(uintptr_t)term.kind);
    uint64_t factorBits;
    static_assert(sizeof(factorBits) == sizeof(term.factor));
    std::memcpy(&factorBits, &term.factor, sizeof(factorBits));
    key.push_back((const void *)(uintptr_t)factorBits);
    appendKey(slice, term.value, key);
  }
  auto [it, inserted] = cache->entries.try_emplace(std::move(key));
  if (inserted)
    it->second = classifyUncached(terms, slices, arg, B, Sq, Sk);
  return it->second;
}

static std::optional<MaskMeaning> classifyUncached(ArrayRef<MaskTerm> terms,
                                                   ArrayRef<MaskSlice> slices,
                                                   BlockArgument arg, int64_t B,
                                                   int64_t Sq, int64_t Sk) {
  std::vector<Tensor> probes;
  if (arg) {
    auto argType = dyn_cast<RankedTensorType>(arg.getType());
    if (!argType || argType.getShape() != ArrayRef<int64_t>{B, Sk} ||
        !(argType.getElementType().isSignlessInteger() ||
          isa<FloatType>(argType.getElementType())))
      return std::nullopt;
    probes = makeProbes(argType, B, Sk);
  }
  std::vector<std::vector<char>> kept;
  for (size_t p = 0; p < std::max<size_t>(probes.size(), 1); ++p) {
    std::optional<std::vector<char>> k =
        keptByAll(terms, slices, probes.empty() ? nullptr : &probes[p], B, Sq, Sk);
    if (!k)
      return std::nullopt;
    kept.push_back(std::move(*k));
  }
  // In order of preference: a mask that ignores its argument is no padding
  // mask. The first probe pads nothing, so it shows a sliding window.
  int64_t window = guessWindow(kept.front(), Sq, Sk);
  SmallVector<Candidate> candidates;
  for (bool padding : {false, true}) {
    if (padding && !arg)
      break;
    candidates.push_back({padding, false, 0});
    candidates.push_back({padding, true, 0});
    if (window)
      candidates.push_back({padding, true, window});
  }
  for (const Candidate &c : candidates) {
    bool all = true;
    for (size_t p = 0; p < kept.size() && all; ++p)
      all = means(kept[p], B, Sq, Sk, c, probes.empty() ? nullptr : &probes[p]);
    if (all)
      return MaskMeaning{c.causal, c.window, c.padding ? Value(arg) : Value()};
  }
  return std::nullopt;
}
