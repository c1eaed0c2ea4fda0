//===- TfxShapes.cpp - result type inference of tfx ops -------------------===//
//
// Each op's shape rule lives here, once: the verifier, the frontends and the
// passes all reach it through the op's inferReturnTypes.
//
//===----------------------------------------------------------------------===//

#include "tfx/Dialect/Tfx.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::tfx;

namespace {
std::string shapeStr(ArrayRef<int64_t> shape) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "[";
  llvm::interleave(shape, os, [&](int64_t d) { os << d; }, ",");
  os << "]";
  return s;
}

RankedTensorType ranked(Value v) {
  return dyn_cast<RankedTensorType>(v.getType());
}
} // namespace

FailureOr<SmallVector<int64_t>> mlir::tfx::broadcastShapes(ArrayRef<int64_t> a,
                                                           ArrayRef<int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  SmallVector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      return failure();
    out[i] = da == 1 ? db : da;
  }
  return out;
}

#define TFX_INFER(OP)                                                          \
  LogicalResult OP::inferReturnTypes(                                          \
      MLIRContext *context, std::optional<Location> loc, OP::Adaptor adaptor,  \
      SmallVectorImpl<Type> &inferred)

#define TFX_FAIL(...) return emitOptionalError(loc, __VA_ARGS__)

static LogicalResult inferBinary(std::optional<Location> loc, StringRef name,
                                 Value lhs, Value rhs, bool comparison,
                                 SmallVectorImpl<Type> &inferred) {
  auto l = ranked(lhs), r = ranked(rhs);
  if (!l || !r)
    TFX_FAIL("'tfx.", name, "' expects ranked tensors");
  if (l.getElementType() != r.getElementType())
    TFX_FAIL("'tfx.", name, "' operands have different element types (",
             l.getElementType(), " vs ", r.getElementType(), ")");
  auto shape = broadcastShapes(l.getShape(), r.getShape());
  if (failed(shape))
    TFX_FAIL("'tfx.", name, "' operand shapes ", shapeStr(l.getShape()), " and ",
             shapeStr(r.getShape()), " do not broadcast");
  Type elt = comparison ? IntegerType::get(lhs.getContext(), 1)
                        : l.getElementType();
  inferred.push_back(RankedTensorType::get(*shape, elt));
  return success();
}

#define TFX_BINARY(OP, NAME, CMP)                                              \
  TFX_INFER(OP) {                                                              \
    return inferBinary(loc, NAME, adaptor.getLhs(), adaptor.getRhs(), CMP,     \
                       inferred);                                              \
  }
TFX_BINARY(AddOp, "add", false)
TFX_BINARY(SubOp, "sub", false)
TFX_BINARY(MulOp, "mul", false)
TFX_BINARY(DivOp, "div", false)
TFX_BINARY(PowOp, "pow", false)
TFX_BINARY(MaxOp, "max", false)
TFX_BINARY(MinOp, "min", false)
TFX_BINARY(AndOp, "and", false)
TFX_BINARY(OrOp, "or", false)
TFX_BINARY(EqualOp, "equal", true)
TFX_BINARY(LessOp, "less", true)
TFX_BINARY(LessEqualOp, "less_equal", true)
TFX_BINARY(GreaterOp, "greater", true)
TFX_BINARY(GreaterEqualOp, "greater_equal", true)
#undef TFX_BINARY

TFX_INFER(WhereOp) {
  auto c = ranked(adaptor.getCondition());
  auto t = ranked(adaptor.getOnTrue()), f = ranked(adaptor.getOnFalse());
  if (!c || !t || !f)
    TFX_FAIL("'tfx.where' expects ranked tensors");
  if (t.getElementType() != f.getElementType())
    TFX_FAIL("'tfx.where' branches have different element types");
  auto tf = broadcastShapes(t.getShape(), f.getShape());
  if (failed(tf))
    TFX_FAIL("'tfx.where' branch shapes ", shapeStr(t.getShape()), " and ",
             shapeStr(f.getShape()), " do not broadcast");
  auto all = broadcastShapes(c.getShape(), *tf);
  if (failed(all))
    TFX_FAIL("'tfx.where' condition shape ", shapeStr(c.getShape()),
             " does not broadcast with ", shapeStr(*tf));
  inferred.push_back(RankedTensorType::get(*all, t.getElementType()));
  return success();
}

TFX_INFER(EmbeddingOp) {
  auto ids = ranked(adaptor.getIds()), table = ranked(adaptor.getTable());
  if (!ids || !table)
    TFX_FAIL("'tfx.embedding' expects ranked tensors");
  if (table.getRank() != 2)
    TFX_FAIL("'tfx.embedding' table must be 2-D [rows, dim], got ",
             shapeStr(table.getShape()));
  SmallVector<int64_t> shape(ids.getShape());
  shape.push_back(table.getDimSize(1));
  inferred.push_back(RankedTensorType::get(shape, table.getElementType()));
  return success();
}

TFX_INFER(DequantizeOp) {
  auto q = ranked(adaptor.getQ()), s = ranked(adaptor.getScales());
  if (!q || !s)
    TFX_FAIL("'tfx.dequantize' expects ranked tensors");
  if (q.getRank() != 2 || s.getRank() != 2)
    TFX_FAIL("'tfx.dequantize' needs a 2-D weight [out, in] and 2-D scales "
             "[out, groups], got ",
             shapeStr(q.getShape()), " and ", shapeStr(s.getShape()));
  int64_t group = adaptor.getGroupSize();
  int64_t in = q.getDimSize(1);
  if (group <= 0 || ShapedType::isDynamic(in) || in % group != 0)
    TFX_FAIL("'tfx.dequantize' group_size ", group,
             " does not divide the input channels ", in);
  if (s.getDimSize(0) != q.getDimSize(0) || s.getDimSize(1) != in / group)
    TFX_FAIL("'tfx.dequantize' scales must be [", q.getDimSize(0), ", ",
             in / group, "] for weight ", shapeStr(q.getShape()),
             " and group_size ", group, ", got ", shapeStr(s.getShape()));
  inferred.push_back(RankedTensorType::get(q.getShape(), s.getElementType()));
  return success();
}

TFX_INFER(Sparse24Op) {
  auto values = ranked(adaptor.getValues()), meta = ranked(adaptor.getMeta());
  if (!values || !meta)
    TFX_FAIL("'tfx.sparse_2to4' expects ranked tensors");
  if (values.getRank() != 2 || meta.getRank() != 2 || !values.hasStaticShape())
    TFX_FAIL("'tfx.sparse_2to4' needs static 2-D values [out, in/2] and meta "
             "[out, in/8], got ",
             shapeStr(values.getShape()), " and ", shapeStr(meta.getShape()));
  int64_t out = values.getDimSize(0), half = values.getDimSize(1);
  if (half % 4 != 0 || meta.getDimSize(0) != out || meta.getDimSize(1) != half / 4)
    TFX_FAIL("'tfx.sparse_2to4' values ", shapeStr(values.getShape()),
             " need meta [", out, ",", half / 4, "] and in/2 a multiple of 4, got meta ",
             shapeStr(meta.getShape()));
  inferred.push_back(RankedTensorType::get({out, 2 * half}, values.getElementType()));
  return success();
}

TFX_INFER(LinearOp) {
  auto x = ranked(adaptor.getInput()), w = ranked(adaptor.getWeight());
  if (!x || !w)
    TFX_FAIL("'tfx.linear' expects ranked tensors");
  if (x.getRank() < 1)
    TFX_FAIL("'tfx.linear' input must have rank >= 1");
  if (w.getRank() != 2)
    TFX_FAIL("'tfx.linear' weight must be 2-D [out, in], got ",
             shapeStr(w.getShape()));
  if (w.getDimSize(1) != x.getShape().back())
    TFX_FAIL("'tfx.linear' weight [out, in] = ", shapeStr(w.getShape()),
             " does not match input features ", x.getShape().back(),
             " (input shape ", shapeStr(x.getShape()), ")");
  if (Value bias = adaptor.getBias()) {
    auto b = ranked(bias);
    if (!b || b.getRank() != 1 || b.getDimSize(0) != w.getDimSize(0))
      TFX_FAIL("'tfx.linear' bias must be [", w.getDimSize(0), "], got ",
               b ? shapeStr(b.getShape()) : std::string("unranked"));
  }
  SmallVector<int64_t> shape(x.getShape());
  shape.back() = w.getDimSize(0);
  inferred.push_back(RankedTensorType::get(shape, x.getElementType()));
  return success();
}

TFX_INFER(MatMulOp) {
  auto a = ranked(adaptor.getLhs()), b = ranked(adaptor.getRhs());
  if (!a || !b)
    TFX_FAIL("'tfx.matmul' expects ranked tensors");
  if (a.getRank() < 1 || b.getRank() < 1)
    TFX_FAIL("'tfx.matmul' operands must have rank >= 1");
  SmallVector<int64_t> as(a.getShape()), bs(b.getShape());
  bool aVec = as.size() == 1, bVec = bs.size() == 1;
  if (aVec)
    as.insert(as.begin(), 1);
  if (bVec)
    bs.push_back(1);
  int64_t k = as.back(), kb = bs[bs.size() - 2];
  if (k != kb)
    TFX_FAIL("'tfx.matmul' contraction sizes differ: lhs ", shapeStr(a.getShape()),
             " rhs ", shapeStr(b.getShape()));
  auto batch = broadcastShapes(ArrayRef<int64_t>(as).drop_back(2),
                               ArrayRef<int64_t>(bs).drop_back(2));
  if (failed(batch))
    TFX_FAIL("'tfx.matmul' batch dimensions of ", shapeStr(a.getShape()), " and ",
             shapeStr(b.getShape()), " do not broadcast");
  SmallVector<int64_t> shape(*batch);
  if (!aVec)
    shape.push_back(as[as.size() - 2]);
  if (!bVec)
    shape.push_back(bs.back());
  inferred.push_back(RankedTensorType::get(shape, a.getElementType()));
  return success();
}

TFX_INFER(AttentionOp) {
  auto q = ranked(adaptor.getQ()), k = ranked(adaptor.getK()),
       v = ranked(adaptor.getV());
  if (!q || !k || !v)
    TFX_FAIL("'tfx.attention' expects ranked tensors");
  if (q.getRank() != 3 || k.getRank() != 3 || v.getRank() != 3)
    TFX_FAIL("'tfx.attention' q, k, v must be 3-D [batch, seq, heads*head_dim]");
  int64_t heads = adaptor.getNumHeads(), kvHeads = adaptor.getNumKvHeads();
  if (heads % kvHeads != 0)
    TFX_FAIL("'tfx.attention' num_heads (", heads,
             ") must be a multiple of num_kv_heads (", kvHeads, ")");
  if (q.getDimSize(2) % heads != 0)
    TFX_FAIL("'tfx.attention' q width ", q.getDimSize(2),
             " is not divisible by num_heads ", heads);
  int64_t headDim = q.getDimSize(2) / heads;
  if (k.getDimSize(2) != kvHeads * headDim || v.getDimSize(2) != kvHeads * headDim)
    TFX_FAIL("'tfx.attention' k and v width must be num_kv_heads * head_dim = ",
             kvHeads * headDim, ", got k ", shapeStr(k.getShape()), " v ",
             shapeStr(v.getShape()));
  if (k.getDimSize(0) != q.getDimSize(0) || v.getDimSize(0) != q.getDimSize(0))
    TFX_FAIL("'tfx.attention' batch sizes of q, k, v differ");
  if (k.getDimSize(1) != v.getDimSize(1))
    TFX_FAIL("'tfx.attention' k and v sequence lengths differ");
  if (Value maskValue = adaptor.getMask()) {
    auto m = ranked(maskValue);
    if (!m || m.getRank() != 2 || m.getDimSize(0) != q.getDimSize(0) ||
        m.getDimSize(1) != k.getDimSize(1))
      TFX_FAIL("'tfx.attention' mask must be [batch, kv_len] = [",
               q.getDimSize(0), ",", k.getDimSize(1), "]");
    if (!m.getElementType().isSignlessInteger())
      TFX_FAIL("'tfx.attention' mask must have an integer or i1 element type");
  }
  auto window = static_cast<int64_t>(adaptor.getWindow());
  auto globalTokens = static_cast<int64_t>(adaptor.getGlobalTokens());
  auto blockSize = static_cast<int64_t>(adaptor.getBlockSize());
  auto features = static_cast<int64_t>(adaptor.getFeatures());
  if (window < 0)
    TFX_FAIL("'tfx.attention' window must be >= 0");
  if (globalTokens < 0 || blockSize < 0 || features < 0)
    TFX_FAIL("'tfx.attention' global_tokens, block_size and features must be >= 0");
  ArrayRef<bool> layout = adaptor.getBlockLayout();
  if ((blockSize > 0) != !layout.empty())
    TFX_FAIL("'tfx.attention' block_size and block_layout go together");
  if (blockSize > 0) {
    if (window > 0)
      TFX_FAIL("'tfx.attention' window and block_size are exclusive");
    if (q.getDimSize(1) > k.getDimSize(1))
      TFX_FAIL("'tfx.attention' a block layout needs q_len <= kv_len");
    int64_t blocks = (k.getDimSize(1) + blockSize - 1) / blockSize;
    if (static_cast<int64_t>(layout.size()) != blocks * blocks)
      TFX_FAIL("'tfx.attention' block_layout must hold ", blocks, "x", blocks,
               " = ", blocks * blocks, " entries (kv_len ", k.getDimSize(1),
               ", block_size ", blockSize, "), got ", layout.size());
  }
  if (globalTokens > 0 && window == 0 && blockSize == 0)
    TFX_FAIL("'tfx.attention' global_tokens needs a window or a block layout");
  AttentionKind kind = adaptor.getKind();
  if (kind != AttentionKind::softmax &&
      (window > 0 || globalTokens > 0 || blockSize > 0))
    TFX_FAIL("'tfx.attention' linear attention takes no window, global_tokens or "
             "block layout");
  if ((kind == AttentionKind::linear_random) != (features > 0))
    TFX_FAIL("'tfx.attention' features (> 0) goes with kind linear_random, and only "
             "with it");
  inferred.push_back(q);
  return success();
}

TFX_INFER(PagedAttentionOp) {
  auto q = ranked(adaptor.getQ()), k = ranked(adaptor.getK()),
       v = ranked(adaptor.getV()), kc = ranked(adaptor.getKCache()),
       vc = ranked(adaptor.getVCache()), table = ranked(adaptor.getBlockTable()),
       lengths = ranked(adaptor.getCacheLengths());
  if (!q || !k || !v || !kc || !vc || !table || !lengths)
    TFX_FAIL("'tfx.paged_attention' expects ranked tensors");
  if (q.getRank() != 3 || k.getRank() != 3 || v.getRank() != 3)
    TFX_FAIL("'tfx.paged_attention' q, k, v must be 3-D [batch, tokens, width]");
  int64_t batch = q.getDimSize(0), tokens = q.getDimSize(1);
  int64_t heads = adaptor.getNumHeads(), kvHeads = adaptor.getNumKvHeads();
  if (heads % kvHeads != 0 || q.getDimSize(2) % heads != 0)
    TFX_FAIL("'tfx.paged_attention' num_heads ", heads, " and num_kv_heads ",
             kvHeads, " do not fit q ", shapeStr(q.getShape()));
  int64_t kvWidth = kvHeads * (q.getDimSize(2) / heads);
  for (RankedTensorType t : {k, v})
    if (t.getShape() != ArrayRef<int64_t>{batch, tokens, kvWidth})
      TFX_FAIL("'tfx.paged_attention' k and v must be [", batch, ",", tokens,
               ",", kvWidth, "], got ", shapeStr(t.getShape()));
  for (RankedTensorType t : {k, v, kc, vc})
    if (t.getElementType() != q.getElementType())
      TFX_FAIL("'tfx.paged_attention' operands must share q's element type ",
               q.getElementType());
  if (kc.getRank() != 4 || vc.getRank() != 4)
    TFX_FAIL("'tfx.paged_attention' caches must be 4-D");
  int64_t blocks = kc.getDimSize(0), layers = kc.getDimSize(1),
          blockSize = kc.getDimSize(3);
  if (kc.getDimSize(2) != kvWidth)
    TFX_FAIL("'tfx.paged_attention' k_cache must be [blocks, layers, ", kvWidth,
             ", block_size], got ", shapeStr(kc.getShape()));
  if (vc.getShape() != ArrayRef<int64_t>{blocks, layers, blockSize, kvWidth})
    TFX_FAIL("'tfx.paged_attention' v_cache must be [", blocks, ",", layers, ",",
             blockSize, ",", kvWidth, "] to match k_cache, got ",
             shapeStr(vc.getShape()));
  if (static_cast<int64_t>(adaptor.getLayer()) >= layers)
    TFX_FAIL("'tfx.paged_attention' layer ", adaptor.getLayer(),
             " is outside the cache's ", layers, " layers");
  if (table.getRank() != 2 || table.getDimSize(0) != batch)
    TFX_FAIL("'tfx.paged_attention' block_table must be [", batch,
             ", max_blocks], got ", shapeStr(table.getShape()));
  if (lengths.getRank() != 1 || lengths.getDimSize(0) != batch)
    TFX_FAIL("'tfx.paged_attention' cache_lengths must be [", batch, "], got ",
             shapeStr(lengths.getShape()));
  if (static_cast<int64_t>(adaptor.getWindow()) < 0)
    TFX_FAIL("'tfx.paged_attention' window must be >= 0");
  inferred.push_back(q);
  return success();
}

static LogicalResult checkNormParam(std::optional<Location> loc, StringRef op,
                                    StringRef what, RankedTensorType x,
                                    Value param) {
  auto p = ranked(param);
  if (!p || p.getRank() != 1 || p.getDimSize(0) != x.getShape().back())
    return emitOptionalError(loc, "'tfx.", op, "' ", what, " must be [",
                             x.getShape().back(), "]");
  return success();
}

TFX_INFER(LayerNormOp) {
  auto x = ranked(adaptor.getInput());
  if (!x || x.getRank() < 1)
    TFX_FAIL("'tfx.layer_norm' expects a ranked input of rank >= 1");
  if (failed(checkNormParam(loc, "layer_norm", "gamma", x, adaptor.getGamma())))
    return failure();
  if (adaptor.getBeta() &&
      failed(checkNormParam(loc, "layer_norm", "beta", x, adaptor.getBeta())))
    return failure();
  inferred.push_back(x);
  return success();
}

TFX_INFER(RmsNormOp) {
  auto x = ranked(adaptor.getInput());
  if (!x || x.getRank() < 1)
    TFX_FAIL("'tfx.rms_norm' expects a ranked input of rank >= 1");
  if (failed(checkNormParam(loc, "rms_norm", "gamma", x, adaptor.getGamma())))
    return failure();
  inferred.push_back(x);
  return success();
}

TFX_INFER(RopeOp) {
  auto x = ranked(adaptor.getInput());
  if (!x || x.getRank() != 3)
    TFX_FAIL("'tfx.rope' input must be 3-D [batch, seq, heads*head_dim]");
  int64_t heads = adaptor.getNumHeads();
  if (x.getDimSize(2) % heads != 0)
    TFX_FAIL("'tfx.rope' width ", x.getDimSize(2),
             " is not divisible by num_heads ", heads);
  int64_t headDim = x.getDimSize(2) / heads, rot = adaptor.getRotaryDim();
  if (rot > headDim || rot % 2 != 0)
    TFX_FAIL("'tfx.rope' rotary_dim ", rot, " must be even and <= head_dim ",
             headDim);
  if (Value p = adaptor.getPositions()) {
    auto pt = ranked(p);
    if (!pt || pt.getRank() != 2 || pt.getDimSize(0) != x.getDimSize(0) ||
        pt.getDimSize(1) != x.getDimSize(1))
      TFX_FAIL("'tfx.rope' positions must be [batch, seq] = [", x.getDimSize(0),
               ",", x.getDimSize(1), "]");
  }
  inferred.push_back(x);
  return success();
}

TFX_INFER(TransposeOp) {
  auto x = ranked(adaptor.getInput());
  ArrayRef<int64_t> perm = adaptor.getPerm();
  if (!x)
    TFX_FAIL("'tfx.transpose' expects a ranked tensor");
  if ((int64_t)perm.size() != x.getRank())
    TFX_FAIL("'tfx.transpose' perm has ", perm.size(),
             " entries for an input of rank ", x.getRank());
  SmallVector<bool> seen(perm.size(), false);
  SmallVector<int64_t> shape;
  for (int64_t p : perm) {
    if (p < 0 || p >= x.getRank() || seen[p])
      TFX_FAIL("'tfx.transpose' perm is not a permutation of 0..", x.getRank() - 1);
    seen[p] = true;
    shape.push_back(x.getDimSize(p));
  }
  inferred.push_back(RankedTensorType::get(shape, x.getElementType()));
  return success();
}

TFX_INFER(SliceOp) {
  auto x = ranked(adaptor.getInput());
  if (!x)
    TFX_FAIL("'tfx.slice' expects a ranked tensor");
  ArrayRef<int64_t> offsets = adaptor.getOffsets(), sizes = adaptor.getSizes(),
                    strides = adaptor.getStrides();
  int64_t rank = x.getRank();
  if ((int64_t)offsets.size() != rank || (int64_t)sizes.size() != rank ||
      (int64_t)strides.size() != rank)
    TFX_FAIL("'tfx.slice' needs one offset, size and stride per dimension (rank ",
             rank, ")");
  for (int64_t i = 0; i < rank; ++i) {
    if (strides[i] < 1 || offsets[i] < 0 || sizes[i] < 0 ||
        (sizes[i] > 0 &&
         offsets[i] + (sizes[i] - 1) * strides[i] >= x.getDimSize(i)))
      TFX_FAIL("'tfx.slice' dimension ", i, ": offset ", offsets[i], " size ",
               sizes[i], " stride ", strides[i], " is out of bounds of ",
               x.getDimSize(i));
  }
  inferred.push_back(RankedTensorType::get(sizes, x.getElementType()));
  return success();
}

TFX_INFER(ConcatOp) {
  auto inputs = adaptor.getInputs();
  if (inputs.empty())
    TFX_FAIL("'tfx.concat' needs at least one input");
  auto first = ranked(inputs.front());
  if (!first)
    TFX_FAIL("'tfx.concat' expects ranked tensors");
  int64_t rank = first.getRank(), axis = adaptor.getAxis();
  if (axis < 0 || axis >= rank)
    TFX_FAIL("'tfx.concat' axis ", axis, " out of range for rank ", rank);
  SmallVector<int64_t> shape(first.getShape());
  shape[axis] = 0;
  for (Value v : inputs) {
    auto t = ranked(v);
    if (!t || t.getRank() != rank || t.getElementType() != first.getElementType())
      TFX_FAIL("'tfx.concat' inputs must share rank and element type");
    for (int64_t i = 0; i < rank; ++i)
      if (i != axis && t.getDimSize(i) != first.getDimSize(i))
        TFX_FAIL("'tfx.concat' inputs differ in dimension ", i, ": ",
                 shapeStr(first.getShape()), " vs ", shapeStr(t.getShape()));
    shape[axis] += t.getDimSize(axis);
  }
  inferred.push_back(RankedTensorType::get(shape, first.getElementType()));
  return success();
}

TFX_INFER(GatherOp) {
  auto data = ranked(adaptor.getData()), idx = ranked(adaptor.getIndices());
  if (!data || !idx)
    TFX_FAIL("'tfx.gather' expects ranked tensors");
  int64_t axis = adaptor.getAxis();
  if (axis < 0 || axis >= data.getRank())
    TFX_FAIL("'tfx.gather' axis ", axis, " out of range for rank ", data.getRank());
  SmallVector<int64_t> shape(data.getShape().take_front(axis));
  llvm::append_range(shape, idx.getShape());
  llvm::append_range(shape, data.getShape().drop_front(axis + 1));
  inferred.push_back(RankedTensorType::get(shape, data.getElementType()));
  return success();
}

TFX_INFER(GatherElementsOp) {
  auto data = ranked(adaptor.getData()), idx = ranked(adaptor.getIndices());
  if (!data || !idx)
    TFX_FAIL("'tfx.gather_elements' expects ranked tensors");
  int64_t axis = adaptor.getAxis();
  if (data.getRank() != idx.getRank())
    TFX_FAIL("'tfx.gather_elements' data and indices must have the same rank");
  if (axis < 0 || axis >= data.getRank())
    TFX_FAIL("'tfx.gather_elements' axis ", axis, " out of range");
  inferred.push_back(RankedTensorType::get(idx.getShape(), data.getElementType()));
  return success();
}

TFX_INFER(GatherNdOp) {
  auto data = ranked(adaptor.getData()), idx = ranked(adaptor.getIndices());
  if (!data || !idx || idx.getRank() < 1)
    TFX_FAIL("'tfx.gather_nd' expects ranked tensors, indices of rank >= 1");
  int64_t b = adaptor.getBatchDims(), q = idx.getShape().back();
  if (b < 0 || b + q > data.getRank() || b >= idx.getRank())
    TFX_FAIL("'tfx.gather_nd' batch_dims ", b, " and index depth ", q,
             " do not fit data of rank ", data.getRank());
  for (int64_t i = 0; i < b; ++i)
    if (data.getDimSize(i) != idx.getDimSize(i))
      TFX_FAIL("'tfx.gather_nd' batch dimension ", i, " differs between data and indices");
  SmallVector<int64_t> shape(idx.getShape().drop_back());
  llvm::append_range(shape, data.getShape().drop_front(b + q));
  inferred.push_back(RankedTensorType::get(shape, data.getElementType()));
  return success();
}

TFX_INFER(ReduceOp) {
  auto x = ranked(adaptor.getInput());
  if (!x)
    TFX_FAIL("'tfx.reduce' expects a ranked tensor");
  SmallVector<bool> reduced(x.getRank(), false);
  for (int64_t a : adaptor.getAxes()) {
    if (a < 0 || a >= x.getRank() || reduced[a])
      TFX_FAIL("'tfx.reduce' axis ", a, " is out of range or repeated");
    reduced[a] = true;
  }
  SmallVector<int64_t> shape;
  for (int64_t i = 0; i < x.getRank(); ++i) {
    if (!reduced[i])
      shape.push_back(x.getDimSize(i));
    else if (adaptor.getKeepdims())
      shape.push_back(1);
  }
  inferred.push_back(RankedTensorType::get(shape, x.getElementType()));
  return success();
}
