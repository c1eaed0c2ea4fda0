//===- KernelsShape.cpp - reshape, transpose, slice, gather, reduce -------===//

#include "Kernels.h"

#include "llvm/ADT/Twine.h"

#include <cmath>
#include <limits>

using namespace mlir::tfx;
using namespace mlir::tfx::kernels;

static int64_t product(llvm::ArrayRef<int64_t> dims) {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= d;
  return n;
}

static std::string shapeStr(const Shape &s) {
  Tensor t;
  t.shape = s;
  return t.shapeString();
}

/// An uninitialised-value tensor of `x`'s element type and `shape`.
static Tensor emptyLike(const Tensor &x, Shape shape) {
  Tensor out;
  out.dtype = x.dtype;
  out.shape = std::move(shape);
  if (x.isFloat())
    out.f.resize(out.numElements());
  else
    out.i.resize(out.numElements());
  return out;
}

static void copyElement(Tensor &dst, int64_t to, const Tensor &src, int64_t from) {
  if (src.isFloat())
    dst.f[to] = src.f[from];
  else
    dst.i[to] = src.i[from];
}

/// out[m] = x[offset + sum_d m[d] * srcStrides[d]] for every multi-index m of
/// `shape`: transposes, strided slices and broadcasts are all this.
static Tensor stridedCopy(const Tensor &x, const Shape &shape,
                          const std::vector<int64_t> &srcStrides, int64_t offset) {
  Tensor out = emptyLike(x, shape);
  int64_t total = out.numElements(), src = offset;
  int64_t rank = (int64_t)shape.size();
  std::vector<int64_t> counter(rank, 0);
  for (int64_t o = 0; o < total; ++o) {
    copyElement(out, o, x, src);
    for (int64_t d = rank - 1; d >= 0; --d) {
      src += srcStrides[d];
      if (++counter[d] < shape[d])
        break;
      src -= srcStrides[d] * shape[d];
      counter[d] = 0;
    }
  }
  return out;
}

/// Maps an index in [-size, size) to [0, size); error otherwise.
static llvm::Expected<int64_t> normalizeIndex(int64_t index, int64_t size,
                                              const llvm::Twine &what) {
  if (index < -size || index >= size)
    return kernelError("index " + llvm::Twine(index) + " is out of range for " +
                       what + " of size " + llvm::Twine(size));
  return index < 0 ? index + size : index;
}

llvm::Expected<Tensor> kernels::reshape(const Tensor &x, const Shape &shape) {
  if (product(shape) != x.numElements())
    return kernelError("cannot reshape " + x.shapeString() + " to " +
                       shapeStr(shape));
  Tensor out = x;
  out.shape = shape;
  return out;
}

llvm::Expected<Tensor> kernels::expand(const Tensor &x, const Shape &shape) {
  auto b = broadcast(x.shape, shape);
  if (!b)
    return b.takeError();
  if (*b != shape)
    return kernelError("cannot broadcast " + x.shapeString() + " to " +
                       shapeStr(shape));
  Tensor out = emptyLike(x, shape);
  Shape in[1] = {x.shape};
  forEachBroadcast(shape, in, [&](int64_t o, const int64_t *idx) {
    copyElement(out, o, x, idx[0]);
  });
  return out;
}

llvm::Expected<Tensor> kernels::transpose(const Tensor &x,
                                          llvm::ArrayRef<int64_t> perm) {
  if ((int64_t)perm.size() != x.rank())
    return kernelError("permutation of size " + llvm::Twine(perm.size()) +
                       " for a tensor of rank " + llvm::Twine(x.rank()));
  Shape inStrides = stridesOf(x.shape), shape, strides;
  std::vector<bool> seen(perm.size(), false);
  for (int64_t p : perm) {
    if (p < 0 || p >= x.rank() || seen[p])
      return kernelError("invalid permutation for rank " + llvm::Twine(x.rank()));
    seen[p] = true;
    shape.push_back(x.shape[p]);
    strides.push_back(inStrides[p]);
  }
  return stridedCopy(x, shape, strides, 0);
}

llvm::Expected<Tensor> kernels::slice(const Tensor &x,
                                      llvm::ArrayRef<int64_t> offsets,
                                      llvm::ArrayRef<int64_t> sizes,
                                      llvm::ArrayRef<int64_t> strides) {
  int64_t rank = x.rank();
  if ((int64_t)offsets.size() != rank || (int64_t)sizes.size() != rank ||
      (int64_t)strides.size() != rank)
    return kernelError("slice needs one offset, size and stride per dimension");
  Shape inStrides = stridesOf(x.shape), srcStrides(rank);
  int64_t offset = 0;
  for (int64_t d = 0; d < rank; ++d) {
    if (strides[d] < 1 || offsets[d] < 0 || sizes[d] < 0 ||
        (sizes[d] > 0 && offsets[d] + (sizes[d] - 1) * strides[d] >= x.shape[d]))
      return kernelError("slice of dimension " + llvm::Twine(d) + " (offset " +
                         llvm::Twine(offsets[d]) + ", size " +
                         llvm::Twine(sizes[d]) + ", stride " +
                         llvm::Twine(strides[d]) + ") is out of bounds of " +
                         x.shapeString());
    offset += offsets[d] * inStrides[d];
    srcStrides[d] = strides[d] * inStrides[d];
  }
  return stridedCopy(x, Shape(sizes.begin(), sizes.end()), srcStrides, offset);
}

llvm::Expected<Tensor> kernels::concat(llvm::ArrayRef<const Tensor *> inputs,
                                       int64_t axis, DType resultType) {
  if (inputs.empty())
    return kernelError("concat needs at least one input");
  const Tensor &first = *inputs.front();
  int64_t rank = first.rank();
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis >= rank)
    return kernelError("concat axis " + llvm::Twine(axis) +
                       " out of range for rank " + llvm::Twine(rank));
  Shape shape = first.shape;
  shape[axis] = 0;
  for (const Tensor *t : inputs) {
    if (t->rank() != rank || t->isFloat() != first.isFloat())
      return kernelError("concat inputs differ in rank or element type");
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis && t->shape[d] != first.shape[d])
        return kernelError("concat inputs " + first.shapeString() + " and " +
                           t->shapeString() + " differ outside the axis");
    shape[axis] += t->shape[axis];
  }
  Tensor out = emptyLike(first, shape);
  out.dtype = resultType;
  int64_t outer = product(llvm::ArrayRef<int64_t>(shape).take_front(axis));
  int64_t o = 0;
  for (int64_t b = 0; b < outer; ++b)
    for (const Tensor *t : inputs) {
      int64_t chunk = t->numElements() / std::max<int64_t>(outer, 1);
      for (int64_t k = 0; k < chunk; ++k)
        copyElement(out, o++, *t, b * chunk + k);
    }
  return out;
}

llvm::Expected<Tensor> kernels::gather(const Tensor &data, const Tensor &indices,
                                       int64_t axis) {
  if (indices.isFloat())
    return kernelError("gather indices must be integers");
  if (axis < 0)
    axis += data.rank();
  if (axis < 0 || axis >= data.rank())
    return kernelError("gather axis " + llvm::Twine(axis) +
                       " out of range for rank " + llvm::Twine(data.rank()));
  llvm::ArrayRef<int64_t> dims(data.shape);
  Shape shape(dims.take_front(axis).begin(), dims.take_front(axis).end());
  shape.insert(shape.end(), indices.shape.begin(), indices.shape.end());
  shape.insert(shape.end(), dims.drop_front(axis + 1).begin(), dims.end());
  int64_t outer = product(dims.take_front(axis));
  int64_t inner = product(dims.drop_front(axis + 1)), size = dims[axis];
  int64_t count = indices.numElements();
  Tensor out = emptyLike(data, shape);
  for (int64_t j = 0; j < count; ++j) {
    auto index = normalizeIndex(indices.i[j], size,
                                "gather axis " + llvm::Twine(axis));
    if (!index)
      return index.takeError();
    for (int64_t b = 0; b < outer; ++b)
      for (int64_t k = 0; k < inner; ++k)
        copyElement(out, (b * count + j) * inner + k, data,
                    (b * size + *index) * inner + k);
  }
  return out;
}

llvm::Expected<Tensor> kernels::gatherElements(const Tensor &data,
                                               const Tensor &indices,
                                               int64_t axis) {
  if (indices.isFloat())
    return kernelError("gather_elements indices must be integers");
  if (indices.rank() != data.rank())
    return kernelError("gather_elements data " + data.shapeString() +
                       " and indices " + indices.shapeString() +
                       " differ in rank");
  int64_t rank = data.rank();
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis >= rank)
    return kernelError("gather_elements axis out of range");
  for (int64_t d = 0; d < rank; ++d)
    if (d != axis && indices.shape[d] > data.shape[d])
      return kernelError("gather_elements indices " + indices.shapeString() +
                         " exceed data " + data.shapeString() + " in dimension " +
                         llvm::Twine(d));
  Shape dataStrides = stridesOf(data.shape);
  Tensor out = emptyLike(data, indices.shape);
  std::vector<int64_t> counter(rank, 0);
  for (int64_t o = 0, total = indices.numElements(); o < total; ++o) {
    auto index = normalizeIndex(indices.i[o], data.shape[axis],
                                "gather_elements axis " + llvm::Twine(axis));
    if (!index)
      return index.takeError();
    int64_t src = 0;
    for (int64_t d = 0; d < rank; ++d)
      src += (d == axis ? *index : counter[d]) * dataStrides[d];
    copyElement(out, o, data, src);
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++counter[d] < indices.shape[d])
        break;
      counter[d] = 0;
    }
  }
  return out;
}

llvm::Expected<Tensor> kernels::gatherNd(const Tensor &data, const Tensor &indices,
                                         int64_t batchDims) {
  if (indices.isFloat() || indices.rank() < 1)
    return kernelError("gather_nd indices must be integers of rank >= 1");
  int64_t depth = indices.shape.back(), b = batchDims;
  if (b < 0 || b >= indices.rank() || b + depth > data.rank())
    return kernelError("gather_nd batch_dims " + llvm::Twine(b) +
                       " and index depth " + llvm::Twine(depth) +
                       " do not fit data " + data.shapeString());
  for (int64_t d = 0; d < b; ++d)
    if (data.shape[d] != indices.shape[d])
      return kernelError("gather_nd batch dimension " + llvm::Twine(d) +
                         " differs between data " + data.shapeString() +
                         " and indices " + indices.shapeString());
  llvm::ArrayRef<int64_t> dims(data.shape), idxDims(indices.shape);
  Shape shape(idxDims.drop_back().begin(), idxDims.drop_back().end());
  shape.insert(shape.end(), dims.drop_front(b + depth).begin(), dims.end());
  Shape dataStrides = stridesOf(data.shape);
  int64_t batches = product(dims.take_front(b));
  int64_t tuples = product(idxDims.drop_front(b).drop_back());
  int64_t sliceSize = product(dims.drop_front(b + depth));
  int64_t batchStride = product(dims.drop_front(b));
  Tensor out = emptyLike(data, shape);
  for (int64_t bi = 0; bi < batches; ++bi)
    for (int64_t t = 0; t < tuples; ++t) {
      const int64_t *tuple = &indices.i[(bi * tuples + t) * depth];
      int64_t src = bi * batchStride;
      for (int64_t j = 0; j < depth; ++j) {
        auto index = normalizeIndex(tuple[j], dims[b + j],
                                    "gather_nd dimension " + llvm::Twine(b + j));
        if (!index)
          return index.takeError();
        src += *index * dataStrides[b + j];
      }
      int64_t dst = (bi * tuples + t) * sliceSize;
      for (int64_t k = 0; k < sliceSize; ++k)
        copyElement(out, dst + k, data, src + k);
    }
  return out;
}

llvm::Expected<Tensor> kernels::reduce(const Tensor &x, ReduceKind kind,
                                       llvm::ArrayRef<int64_t> axes,
                                       bool keepDims) {
  int64_t rank = x.rank();
  std::vector<bool> reduced(rank, false);
  for (int64_t a : axes) {
    int64_t axis = a < 0 ? a + rank : a;
    if (axis < 0 || axis >= rank || reduced[axis])
      return kernelError("reduce axis " + llvm::Twine(a) +
                         " is out of range or repeated for rank " +
                         llvm::Twine(rank));
    reduced[axis] = true;
  }
  // `kept` is the output shape with reduced dims kept as 1: each input
  // element then maps to its output element by broadcasting.
  Shape kept, shape;
  int64_t count = 1;
  for (int64_t d = 0; d < rank; ++d) {
    kept.push_back(reduced[d] ? 1 : x.shape[d]);
    if (reduced[d])
      count *= x.shape[d];
    if (!reduced[d] || keepDims)
      shape.push_back(kept.back());
  }
  int64_t outCount = product(kept);
  if (count == 0 && (kind == ReduceKind::Max || kind == ReduceKind::Min) &&
      outCount > 0)
    return kernelError("max/min reduction over an empty dimension");
  Shape ins[1] = {kept};
  if (x.isFloat()) {
    double init = kind == ReduceKind::Max   ? -INFINITY
                  : kind == ReduceKind::Min ? INFINITY
                                            : 0.0;
    std::vector<double> acc(outCount, init);
    forEachBroadcast(x.shape, ins, [&](int64_t o, const int64_t *idx) {
      double v = x.f[o], &a = acc[idx[0]];
      if (kind == ReduceKind::Max)
        a = std::isnan(v) || v > a ? v : a;
      else if (kind == ReduceKind::Min)
        a = std::isnan(v) || v < a ? v : a;
      else
        a += v;
    });
    Tensor out = Tensor::floats(shape, 0.0f, x.dtype);
    for (int64_t k = 0; k < outCount; ++k)
      out.f[k] = (float)(kind == ReduceKind::Mean ? acc[k] / (double)count : acc[k]);
    return out;
  }
  int64_t init = kind == ReduceKind::Max   ? std::numeric_limits<int64_t>::min()
                 : kind == ReduceKind::Min ? std::numeric_limits<int64_t>::max()
                                           : 0;
  Tensor out = Tensor::ints(shape, init, x.dtype);
  forEachBroadcast(x.shape, ins, [&](int64_t o, const int64_t *idx) {
    int64_t v = x.i[o], &a = out.i[idx[0]];
    if (kind == ReduceKind::Max)
      a = std::max(a, v);
    else if (kind == ReduceKind::Min)
      a = std::min(a, v);
    else
      a = (int64_t)((uint64_t)a + (uint64_t)v);
  });
  if (kind == ReduceKind::Mean && count > 0)
    for (int64_t &v : out.i)
      v /= count;
  return out;
}
