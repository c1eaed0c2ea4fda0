//===- KernelsPaged.cpp - attention over a paged key/value cache ----------===//
//
// tfx.paged_attention, exactly and in double like kernels::attention: the
// keys a new token sees are gathered position by position, from the cache
// blocks through the block table for positions before cache_lengths[b] and
// from the step's own k/v after it.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include "llvm/ADT/Twine.h"

#include <cmath>

using namespace mlir::tfx;
using namespace mlir::tfx::kernels;

llvm::Expected<Tensor> kernels::pagedAttention(
    const Tensor &q, const Tensor &k, const Tensor &v, const Tensor &kCache,
    const Tensor &vCache, const Tensor &blockTable, const Tensor &cacheLengths,
    const PagedAttentionParams &params) {
  for (const Tensor *t : {&q, &k, &v, &kCache, &vCache})
    if (!t->isFloat())
      return kernelError("paged_attention q, k, v and caches must be float");
  if (blockTable.isFloat() || cacheLengths.isFloat())
    return kernelError("paged_attention block_table and cache_lengths must be "
                       "integers");
  if (q.rank() != 3 || k.rank() != 3 || v.rank() != 3 || kCache.rank() != 4 ||
      vCache.rank() != 4 || blockTable.rank() != 2 || cacheLengths.rank() != 1)
    return kernelError("paged_attention operands have the wrong ranks");
  int64_t batch = q.shape[0], tokens = q.shape[1];
  int64_t heads = params.numHeads, kvHeads = params.numKvHeads;
  if (heads < 1 || kvHeads < 1 || heads % kvHeads || q.shape[2] % heads)
    return kernelError("paged_attention heads do not fit q " + q.shapeString());
  int64_t headDim = q.shape[2] / heads, group = heads / kvHeads;
  int64_t kvWidth = kvHeads * headDim;
  int64_t blocks = kCache.shape[0], layers = kCache.shape[1];
  int64_t blockSize = kCache.shape[3], maxBlocks = blockTable.shape[1];
  Shape kvShape = {batch, tokens, kvWidth};
  if (k.shape != kvShape || v.shape != kvShape ||
      kCache.shape != Shape{blocks, layers, kvWidth, blockSize} ||
      vCache.shape != Shape{blocks, layers, blockSize, kvWidth} ||
      blockTable.shape[0] != batch || cacheLengths.shape[0] != batch ||
      params.layer < 0 || params.layer >= layers)
    return kernelError("paged_attention operand shapes do not fit: k " +
                       k.shapeString() + ", k_cache " + kCache.shapeString() +
                       ", v_cache " + vCache.shapeString() + ", block_table " +
                       blockTable.shapeString());
  for (int64_t b = 0; b < batch; ++b) {
    int64_t length = cacheLengths.i[b];
    if (length < 0 || length > maxBlocks * blockSize)
      return kernelError("paged_attention cache_lengths[" + llvm::Twine(b) +
                         "] = " + llvm::Twine(length) + " is outside [0, " +
                         llvm::Twine(maxBlocks * blockSize) + "]");
    for (int64_t m = 0; m * blockSize < length; ++m) {
      int64_t id = blockTable.i[b * maxBlocks + m];
      if (id < 0 || id >= blocks)
        return kernelError("paged_attention block_table[" + llvm::Twine(b) +
                           ", " + llvm::Twine(m) + "] = " + llvm::Twine(id) +
                           " is outside [0, " + llvm::Twine(blocks) + ")");
    }
  }

  // The key and value rows of sequence b at position j, kv head g.
  auto keyAt = [&](int64_t b, int64_t length, int64_t j, int64_t g, int64_t d) {
    if (j >= length)
      return (double)k.f[(b * tokens + (j - length)) * kvWidth + g * headDim + d];
    int64_t block = blockTable.i[b * maxBlocks + j / blockSize];
    int64_t row = g * headDim + d;
    return (double)kCache.f[((block * layers + params.layer) * kvWidth + row) *
                                blockSize +
                            j % blockSize];
  };
  auto valueAt = [&](int64_t b, int64_t length, int64_t j, int64_t g, int64_t d) {
    if (j >= length)
      return (double)v.f[(b * tokens + (j - length)) * kvWidth + g * headDim + d];
    int64_t block = blockTable.i[b * maxBlocks + j / blockSize];
    return (double)vCache.f[((block * layers + params.layer) * blockSize +
                             j % blockSize) *
                                kvWidth +
                            g * headDim + d];
  };

  Tensor out = Tensor::floats(q.shape, 0.0f, q.dtype);
  std::vector<double> scores, acc(headDim);
  for (int64_t b = 0; b < batch; ++b) {
    int64_t length = cacheLengths.i[b];
    for (int64_t h = 0; h < heads; ++h) {
      int64_t g = h / group;
      for (int64_t i = 0; i < tokens; ++i) {
        int64_t pos = length + i;
        int64_t first = params.window > 0
                            ? std::max<int64_t>(0, pos - params.window + 1)
                            : 0;
        const float *qRow = q.f.data() + (b * tokens + i) * q.shape[2] + h * headDim;
        scores.assign(pos + 1 - first, 0.0);
        double maxScore = -INFINITY;
        for (int64_t j = first; j <= pos; ++j) {
          double dot = 0.0;
          for (int64_t d = 0; d < headDim; ++d)
            dot += (double)qRow[d] * keyAt(b, length, j, g, d);
          scores[j - first] = params.scale * dot;
          maxScore = std::max(maxScore, scores[j - first]);
        }
        double sum = 0.0;
        for (double &s : scores)
          sum += s = std::exp(s - maxScore);
        std::fill(acc.begin(), acc.end(), 0.0);
        for (int64_t j = first; j <= pos; ++j) {
          double p = scores[j - first] / sum;
          for (int64_t d = 0; d < headDim; ++d)
            acc[d] += p * valueAt(b, length, j, g, d);
        }
        float *dst = out.f.data() + (b * tokens + i) * q.shape[2] + h * headDim;
        for (int64_t d = 0; d < headDim; ++d)
          dst[d] = (float)acc[d];
      }
    }
  }
  return out;
}
