//===- KernelsNN.cpp - embedding, linear, matmul, norms, attention, rope --===//
//
// Every reduction accumulates in double and rounds to f32 once, so that the
// interpreter is at least as accurate as the framework it is checked
// against. The one deliberate exception is rope, which reproduces the f32
// angle computation of Hugging Face (see rope below).
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"
#include "tfx/Support/RandomFeatures.h"

#include "llvm/ADT/Twine.h"
#include "llvm/Support/Parallel.h"

#include <algorithm>
#include <cmath>

using namespace mlir::tfx;
using namespace mlir::tfx::kernels;

static llvm::Error expectFloat(const Tensor &t, const llvm::Twine &what) {
  if (!t.isFloat())
    return kernelError(what + " must be a float tensor, got " +
                       dtypeName(t.dtype));
  return llvm::Error::success();
}

llvm::Expected<Tensor> kernels::dequantize(const Tensor &q, const Tensor &scales,
                                           int64_t groupSize) {
  if (q.isFloat())
    return kernelError("dequantize expects integer weights");
  if (auto err = expectFloat(scales, "dequantize scales"))
    return err;
  if (q.rank() != 2 || scales.rank() != 2 || groupSize <= 0 ||
      q.shape[1] % groupSize || scales.shape[0] != q.shape[0] ||
      scales.shape[1] != q.shape[1] / groupSize)
    return kernelError("dequantize shapes " + q.shapeString() + " and " +
                       scales.shapeString() + " do not match group size " +
                       llvm::Twine(groupSize));
  int64_t rows = q.shape[0], cols = q.shape[1], groups = scales.shape[1];
  Tensor out = Tensor::floats(q.shape, 0.0f, scales.dtype);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      out.f[r * cols + c] =
          (float)q.i[r * cols + c] * scales.f[r * groups + c / groupSize];
  return out;
}

llvm::Expected<Tensor> kernels::quantizeActivations(const Tensor &x, int64_t bits,
                                                    const ActivationQuant *fixed) {
  if (auto err = expectFloat(x, "quantize_activations input"))
    return err;
  if (x.rank() < 1 || bits < 2 || bits > 8)
    return kernelError("quantize_activations needs rank >= 1 and 2..8 bits");
  Tensor out = x;
  if (fixed) {
    for (float &v : out.f)
      v = fixed->roundTrip(v);
    return out;
  }
  int64_t cols = x.shape.back(), rows = cols ? x.numElements() / cols : 0;
  roundTripRows(out.f.data(), rows, cols, bits);
  return out;
}

llvm::Expected<Tensor> kernels::sparseCsr(const Tensor &values, const Tensor &columns,
                                          const Tensor &rowOffsets, int64_t out,
                                          int64_t in) {
  if (auto err = expectFloat(values, "sparse_csr values"))
    return err;
  if (columns.isFloat() || rowOffsets.isFloat() || values.rank() != 1 ||
      columns.shape != values.shape || rowOffsets.rank() != 1 ||
      rowOffsets.shape[0] != out + 1)
    return kernelError("sparse_csr storage " + values.shapeString() + ", " +
                       columns.shapeString() + ", " + rowOffsets.shapeString() +
                       " does not describe a " + llvm::Twine(out) + "x" +
                       llvm::Twine(in) + " weight");
  int64_t nonzeros = values.shape[0];
  if (rowOffsets.i[0] != 0 || rowOffsets.i[out] != nonzeros)
    return kernelError("sparse_csr row_offsets must run from 0 to " +
                       llvm::Twine(nonzeros));
  Tensor dense = Tensor::floats({out, in}, 0.0f, values.dtype);
  for (int64_t n = 0; n < out; ++n) {
    int64_t lo = rowOffsets.i[n], hi = rowOffsets.i[n + 1];
    if (lo > hi || hi > nonzeros)
      return kernelError("sparse_csr row_offsets decrease at row " + llvm::Twine(n));
    for (int64_t j = lo; j < hi; ++j) {
      int64_t c = columns.i[j];
      if (c < 0 || c >= in)
        return kernelError("sparse_csr column " + llvm::Twine(c) + " of row " +
                           llvm::Twine(n) + " is outside [0, " + llvm::Twine(in) + ")");
      dense.f[n * in + c] = values.f[j];
    }
  }
  return dense;
}

llvm::Expected<Tensor> kernels::sparse24(const Tensor &values, const Tensor &meta) {
  if (auto err = expectFloat(values, "sparse_2to4 values"))
    return err;
  if (meta.isFloat() || values.rank() != 2 || meta.rank() != 2 ||
      values.shape[1] % 4 || meta.shape[0] != values.shape[0] ||
      meta.shape[1] != values.shape[1] / 4)
    return kernelError("sparse_2to4 storage " + values.shapeString() + " and " +
                       meta.shapeString() + " do not match");
  int64_t out = values.shape[0], half = values.shape[1], in = 2 * half;
  Tensor dense = Tensor::floats({out, in}, 0.0f, values.dtype);
  for (int64_t n = 0; n < out; ++n)
    for (int64_t j = 0; j < half; ++j) {
      auto byte = (uint8_t)meta.i[n * (half / 4) + j / 4];
      int64_t group = j / 2, position = (byte >> (2 * (j % 4))) & 3;
      dense.f[n * in + 4 * group + position] += values.f[n * half + j];
    }
  return dense;
}

llvm::Expected<Tensor> kernels::embedding(const Tensor &ids, const Tensor &table) {
  if (ids.isFloat())
    return kernelError("embedding ids must be integers");
  if (auto err = expectFloat(table, "embedding table"))
    return err;
  if (table.rank() != 2)
    return kernelError("embedding table must be 2-D, got " + table.shapeString());
  int64_t rows = table.shape[0], dim = table.shape[1];
  Shape shape = ids.shape;
  shape.push_back(dim);
  Tensor out = Tensor::floats(shape, 0.0f, table.dtype);
  for (int64_t n = 0, count = ids.numElements(); n < count; ++n) {
    int64_t id = ids.i[n];
    if (id < 0 || id >= rows)
      return kernelError("embedding id " + llvm::Twine(id) + " (element " +
                         llvm::Twine(n) + " of ids " + ids.shapeString() +
                         ") is out of range [0, " + llvm::Twine(rows) + ")");
    std::copy_n(&table.f[id * dim], dim, &out.f[n * dim]);
  }
  return out;
}

llvm::Expected<Tensor> kernels::linear(const Tensor &x, const Tensor &weight,
                                       const Tensor *bias) {
  if (auto err = expectFloat(x, "linear input"))
    return err;
  if (auto err = expectFloat(weight, "linear weight"))
    return err;
  if (x.rank() < 1 || weight.rank() != 2 || weight.shape[1] != x.shape.back())
    return kernelError("linear weight " + weight.shapeString() +
                       " ([out, in]) does not fit input " + x.shapeString());
  int64_t in = weight.shape[1], outDim = weight.shape[0];
  if (bias && (bias->rank() != 1 || bias->shape[0] != outDim || !bias->isFloat()))
    return kernelError("linear bias must be a float [" + llvm::Twine(outDim) +
                       "], got " + bias->shapeString());
  Shape shape = x.shape;
  shape.back() = outDim;
  Tensor out = Tensor::floats(shape, 0.0f, x.dtype);
  int64_t rows = 1;
  for (size_t d = 0; d + 1 < x.shape.size(); ++d)
    rows *= x.shape[d];
  // Each output is one sum in input order, as written; eight outputs share
  // a pass over the row (independent sums, so the same bits as one at a
  // time), and rows run in parallel (nested calls run sequentially).
  auto computeRow = [&](size_t r) {
    const float *row = x.f.data() + r * in;
    float *dst = out.f.data() + r * outDim;
    int64_t o = 0;
    for (; o + 8 <= outDim; o += 8) {
      const float *w = weight.f.data() + o * in;
      double a[8];
      for (int j = 0; j < 8; ++j)
        a[j] = bias ? bias->f[o + j] : 0.0;
      for (int64_t k = 0; k < in; ++k) {
        double v = row[k];
        for (int j = 0; j < 8; ++j)
          a[j] += v * w[j * in + k];
      }
      for (int j = 0; j < 8; ++j)
        dst[o + j] = (float)a[j];
    }
    for (; o < outDim; ++o) {
      const float *w = weight.f.data() + o * in;
      double acc = bias ? bias->f[o] : 0.0;
      for (int64_t k = 0; k < in; ++k)
        acc += (double)row[k] * w[k];
      dst[o] = (float)acc;
    }
  };
  if (rows * outDim * in >= (1 << 16))
    llvm::parallelFor(0, rows, computeRow);
  else
    for (int64_t r = 0; r < rows; ++r)
      computeRow(r);
  return out;
}

llvm::Expected<Tensor> kernels::matmul(const Tensor &a, const Tensor &b) {
  if (auto err = expectFloat(a, "matmul lhs"))
    return err;
  if (auto err = expectFloat(b, "matmul rhs"))
    return err;
  if (a.rank() < 1 || b.rank() < 1)
    return kernelError("matmul operands must have rank >= 1");
  // numpy: a 1-D lhs is a row vector, a 1-D rhs a column vector; the unit
  // dimension is dropped from the result.
  Shape as = a.shape, bs = b.shape;
  bool aVec = as.size() == 1, bVec = bs.size() == 1;
  if (aVec)
    as.insert(as.begin(), 1);
  if (bVec)
    bs.push_back(1);
  int64_t m = as[as.size() - 2], k = as.back(), n = bs.back();
  if (bs[bs.size() - 2] != k)
    return kernelError("matmul contraction sizes differ: lhs " + a.shapeString() +
                       " rhs " + b.shapeString());
  Shape aBatch(as.begin(), as.end() - 2), bBatch(bs.begin(), bs.end() - 2);
  auto batch = broadcast(aBatch, bBatch);
  if (!batch)
    return batch.takeError();
  Shape shape = *batch;
  if (!aVec)
    shape.push_back(m);
  if (!bVec)
    shape.push_back(n);
  Tensor out = Tensor::floats(shape, 0.0f, a.dtype);
  std::vector<double> acc(n);
  Shape ins[2] = {aBatch, bBatch};
  forEachBroadcast(*batch, ins, [&](int64_t o, const int64_t *idx) {
    const float *lhs = a.f.data() + idx[0] * m * k;
    const float *rhs = b.f.data() + idx[1] * k * n;
    float *dst = out.f.data() + o * m * n;
    for (int64_t i = 0; i < m; ++i) {
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t p = 0; p < k; ++p) {
        double l = lhs[i * k + p];
        const float *r = rhs + p * n;
        for (int64_t j = 0; j < n; ++j)
          acc[j] += l * r[j];
      }
      for (int64_t j = 0; j < n; ++j)
        dst[i * n + j] = (float)acc[j];
    }
  });
  return out;
}

llvm::Expected<Tensor> kernels::softmax(const Tensor &x, int64_t axis) {
  if (auto err = expectFloat(x, "softmax input"))
    return err;
  int64_t rank = x.rank();
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis >= rank)
    return kernelError("softmax axis out of range for rank " + llvm::Twine(rank));
  int64_t size = x.shape[axis], inner = 1;
  for (int64_t d = axis + 1; d < rank; ++d)
    inner *= x.shape[d];
  int64_t outer = (size > 0 && inner > 0) ? x.numElements() / (size * inner) : 0;
  Tensor out = Tensor::floats(x.shape, 0.0f, x.dtype);
  std::vector<double> e(size);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      int64_t base = o * size * inner + in;
      double maxValue = -INFINITY, sum = 0.0;
      for (int64_t j = 0; j < size; ++j)
        maxValue = std::max(maxValue, (double)x.f[base + j * inner]);
      for (int64_t j = 0; j < size; ++j)
        sum += e[j] = std::exp((double)x.f[base + j * inner] - maxValue);
      for (int64_t j = 0; j < size; ++j)
        out.f[base + j * inner] = (float)(e[j] / sum);
    }
  return out;
}

static llvm::Error checkNormParam(const Tensor *p, const Tensor &x,
                                  const char *op, const char *what) {
  if (p && (!p->isFloat() || p->rank() != 1 || p->shape[0] != x.shape.back()))
    return kernelError(llvm::Twine(op) + " " + what + " must be a float [" +
                       llvm::Twine(x.shape.back()) + "], got " +
                       p->shapeString());
  return llvm::Error::success();
}

llvm::Expected<Tensor> kernels::layerNorm(const Tensor &x, const Tensor &gamma,
                                          const Tensor *beta, float epsilon) {
  if (auto err = expectFloat(x, "layer_norm input"))
    return err;
  if (x.rank() < 1)
    return kernelError("layer_norm input must have rank >= 1");
  if (auto err = checkNormParam(&gamma, x, "layer_norm", "gamma"))
    return err;
  if (auto err = checkNormParam(beta, x, "layer_norm", "beta"))
    return err;
  int64_t dim = x.shape.back(), rows = dim ? x.numElements() / dim : 0;
  Tensor out = Tensor::floats(x.shape, 0.0f, x.dtype);
  for (int64_t r = 0; r < rows; ++r) {
    const float *row = x.f.data() + r * dim;
    double mean = 0.0, var = 0.0;
    for (int64_t k = 0; k < dim; ++k)
      mean += row[k];
    mean /= (double)dim;
    for (int64_t k = 0; k < dim; ++k)
      var += (row[k] - mean) * (row[k] - mean);
    var /= (double)dim; // biased, as PyTorch and ONNX LayerNormalization
    double inv = 1.0 / std::sqrt(var + (double)epsilon);
    for (int64_t k = 0; k < dim; ++k)
      out.f[r * dim + k] =
          (float)((row[k] - mean) * inv * gamma.f[k] + (beta ? beta->f[k] : 0.0));
  }
  return out;
}

llvm::Expected<Tensor> kernels::rmsNorm(const Tensor &x, const Tensor &gamma,
                                        float epsilon) {
  if (auto err = expectFloat(x, "rms_norm input"))
    return err;
  if (x.rank() < 1)
    return kernelError("rms_norm input must have rank >= 1");
  if (auto err = checkNormParam(&gamma, x, "rms_norm", "gamma"))
    return err;
  int64_t dim = x.shape.back(), rows = dim ? x.numElements() / dim : 0;
  Tensor out = Tensor::floats(x.shape, 0.0f, x.dtype);
  for (int64_t r = 0; r < rows; ++r) {
    const float *row = x.f.data() + r * dim;
    double meanSquare = 0.0;
    for (int64_t k = 0; k < dim; ++k)
      meanSquare += (double)row[k] * row[k];
    meanSquare /= (double)dim;
    double inv = 1.0 / std::sqrt(meanSquare + (double)epsilon);
    for (int64_t k = 0; k < dim; ++k)
      out.f[r * dim + k] = (float)(row[k] * inv * gamma.f[k]);
  }
  return out;
}

/// Whether the query at `pos` sees key `j` by the causal, window, block
/// and global-token rules (the padding mask aside).
static bool keyVisible(const AttentionParams &p, int64_t pos, int64_t j, int64_t sk) {
  if (p.causal && j > pos)
    return false;
  bool local = true;
  if (p.window > 0)
    local = j > pos - p.window && j < pos + p.window;
  if (p.blockSize > 0) {
    int64_t blocks = (sk + p.blockSize - 1) / p.blockSize;
    local = p.blockLayout[(pos / p.blockSize) * blocks + j / p.blockSize];
  }
  return local || j < p.globalTokens || pos < p.globalTokens;
}

static llvm::Expected<Tensor> linearAttention(const Tensor &q, const Tensor &k,
                                              const Tensor &v, const Tensor *mask,
                                              const AttentionParams &params);

// Attention, exactly: for batch b, query head h (kv head g = h / (H / KvH))
// and query i, with pos = i + (Sk - Sq) the query's position among the keys,
// key j is visible unless
//   causal and j > pos, or
//   window > 0 and |j - pos| >= window (with causal: the last `window` keys),
//   or a block layout hides block (pos / B, j / B),
//   (the window and block rules yielding to j < G or pos < G with G global
//   tokens), or mask is given and mask[b, j] == 0.
// scores_j = scale * sum_d q[b,i,h*D+d] * k[b,j,g*D+d] over visible j, then a
// softmax over the visible keys and out[b,i,h*D+d] = sum_j p_j v[b,j,g*D+d],
// all in double. A query with no visible key outputs zeros (not NaN).
llvm::Expected<Tensor> kernels::attention(const Tensor &q, const Tensor &k,
                                          const Tensor &v, const Tensor *mask,
                                          const AttentionParams &params) {
  for (auto [t, name] : {std::pair<const Tensor *, const char *>{&q, "q"},
                         {&k, "k"}, {&v, "v"}}) {
    if (auto err = expectFloat(*t, llvm::Twine("attention ") + name))
      return err;
    if (t->rank() != 3)
      return kernelError(llvm::Twine("attention ") + name +
                         " must be 3-D [batch, seq, heads*head_dim], got " +
                         t->shapeString());
  }
  int64_t heads = params.numHeads, kvHeads = params.numKvHeads;
  if (heads < 1 || kvHeads < 1 || heads % kvHeads || q.shape[2] % heads)
    return kernelError("attention num_heads " + llvm::Twine(heads) +
                       " and num_kv_heads " + llvm::Twine(kvHeads) +
                       " do not fit q " + q.shapeString());
  int64_t batch = q.shape[0], sq = q.shape[1], sk = k.shape[1];
  int64_t headDim = q.shape[2] / heads, group = heads / kvHeads;
  int64_t kvWidth = kvHeads * headDim;
  if (k.shape[0] != batch || v.shape[0] != batch || v.shape[1] != sk ||
      k.shape[2] != kvWidth || v.shape[2] != kvWidth)
    return kernelError("attention k " + k.shapeString() + " and v " +
                       v.shapeString() + " do not fit q " + q.shapeString() +
                       " with " + llvm::Twine(kvHeads) + " kv heads");
  if (mask && (mask->rank() != 2 || mask->shape[0] != batch || mask->shape[1] != sk))
    return kernelError("attention mask must be [batch, kv_len] = [" +
                       llvm::Twine(batch) + "," + llvm::Twine(sk) + "], got " +
                       mask->shapeString());
  if (params.blockSize > 0 &&
      (int64_t)params.blockLayout.size() !=
          ((sk + params.blockSize - 1) / params.blockSize) *
              ((sk + params.blockSize - 1) / params.blockSize))
    return kernelError("attention block layout does not fit kv_len " + llvm::Twine(sk));
  if (params.blockSize > 0 && sq > sk)
    return kernelError("attention with a block layout needs q_len <= kv_len");
  if (params.formula != AttentionFormula::Softmax)
    return linearAttention(q, k, v, mask, params);
  Tensor out = Tensor::floats(q.shape, 0.0f, q.dtype);
  std::vector<double> scores(sk), acc(headDim);
  std::vector<char> visible(sk);
  double scale = params.scale;
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < heads; ++h) {
      int64_t g = h / group;
      for (int64_t i = 0; i < sq; ++i) {
        int64_t pos = i + (sk - sq);
        const float *qRow = q.f.data() + (b * sq + i) * q.shape[2] + h * headDim;
        double maxScore = -INFINITY;
        bool any = false;
        for (int64_t j = 0; j < sk; ++j) {
          bool keep = keyVisible(params, pos, j, sk) &&
                      !(mask && mask->at(b * sk + j) == 0.0);
          visible[j] = keep;
          if (!keep)
            continue;
          const float *kRow = k.f.data() + (b * sk + j) * kvWidth + g * headDim;
          double dot = 0.0;
          for (int64_t d = 0; d < headDim; ++d)
            dot += (double)qRow[d] * kRow[d];
          scores[j] = scale * dot;
          maxScore = std::max(maxScore, scores[j]);
          any = true;
        }
        if (!any)
          continue; // out is already zero
        double sum = 0.0;
        for (int64_t j = 0; j < sk; ++j)
          if (visible[j])
            sum += scores[j] = std::exp(scores[j] - maxScore);
        std::fill(acc.begin(), acc.end(), 0.0);
        for (int64_t j = 0; j < sk; ++j) {
          if (!visible[j])
            continue;
          double p = scores[j] / sum;
          const float *vRow = v.f.data() + (b * sk + j) * kvWidth + g * headDim;
          for (int64_t d = 0; d < headDim; ++d)
            acc[d] += p * vRow[d];
        }
        float *dst = out.f.data() + (b * sq + i) * q.shape[2] + h * headDim;
        for (int64_t d = 0; d < headDim; ++d)
          dst[d] = (float)acc[d];
      }
    }
  return out;
}

// Linear attention, in double: per (batch, head) the keys a query sees are
// summed as S = sum_j phi(k_j)^T v_j [F, D] and z = sum_j phi(k_j) [F] in
// key order, so that a causal query reuses its predecessor's sums (pos only
// grows with i); out_i = phi(q_i) S / (phi(q_i) . z), zeros where that
// denominator is not positive. Padding keys are left out of the sums.
static llvm::Expected<Tensor> linearAttention(const Tensor &q, const Tensor &k,
                                              const Tensor &v, const Tensor *mask,
                                              const AttentionParams &params) {
  int64_t heads = params.numHeads, kvHeads = params.numKvHeads;
  int64_t batch = q.shape[0], sq = q.shape[1], sk = k.shape[1];
  int64_t headDim = q.shape[2] / heads, group = heads / kvHeads;
  int64_t kvWidth = kvHeads * headDim;
  bool random = params.formula == AttentionFormula::LinearRandom;
  int64_t features = random ? params.features : headDim;
  if (random && features <= 0)
    return kernelError("attention linear_random needs features > 0");
  std::vector<float> projection;
  if (random)
    projection = randomFeatureProjection(features, headDim, params.featureSeed);
  double rootScale = std::sqrt((double)params.scale);
  auto featureMap = [&](const float *x, std::vector<double> &phi) {
    if (!random) {
      for (int64_t d = 0; d < headDim; ++d)
        phi[d] = params.formula == AttentionFormula::LinearElu
                     ? (x[d] > 0 ? x[d] + 1.0 : std::exp((double)x[d]))
                     : std::max(0.0, (double)x[d]);
      return;
    }
    double norm2 = 0.0;
    for (int64_t d = 0; d < headDim; ++d)
      norm2 += rootScale * x[d] * rootScale * x[d];
    for (int64_t f = 0; f < features; ++f) {
      double dot = 0.0;
      for (int64_t d = 0; d < headDim; ++d)
        dot += (double)projection[f * headDim + d] * rootScale * x[d];
      phi[f] = std::exp(dot - norm2 / 2) / std::sqrt((double)features);
    }
  };
  Tensor out = Tensor::floats(q.shape, 0.0f, q.dtype);
  std::vector<double> sums(features * headDim), norms(features), phi(features);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < heads; ++h) {
      int64_t g = h / group;
      std::fill(sums.begin(), sums.end(), 0.0);
      std::fill(norms.begin(), norms.end(), 0.0);
      int64_t added = 0;
      for (int64_t i = 0; i < sq; ++i) {
        int64_t pos = i + (sk - sq);
        int64_t seen = params.causal ? std::clamp<int64_t>(pos + 1, 0, sk) : sk;
        for (; added < seen; ++added) {
          if (mask && mask->at(b * sk + added) == 0.0)
            continue;
          featureMap(k.f.data() + (b * sk + added) * kvWidth + g * headDim, phi);
          const float *vRow = v.f.data() + (b * sk + added) * kvWidth + g * headDim;
          for (int64_t f = 0; f < features; ++f) {
            norms[f] += phi[f];
            for (int64_t d = 0; d < headDim; ++d)
              sums[f * headDim + d] += phi[f] * vRow[d];
          }
        }
        featureMap(q.f.data() + (b * sq + i) * q.shape[2] + h * headDim, phi);
        double den = 0.0;
        for (int64_t f = 0; f < features; ++f)
          den += phi[f] * norms[f];
        if (!(den > 0.0))
          continue; // out is already zero
        float *dst = out.f.data() + (b * sq + i) * q.shape[2] + h * headDim;
        for (int64_t d = 0; d < headDim; ++d) {
          double num = 0.0;
          for (int64_t f = 0; f < features; ++f)
            num += phi[f] * sums[f * headDim + d];
          dst[d] = (float)(num / den);
        }
      }
    }
  return out;
}

// Rope, exactly: for pair i in [0, rotary_dim/2), inv_freq_i =
// 1 / theta^(2i / rotary_dim) and angle = pos * inv_freq_i, both computed in
// f32 as Hugging Face does (so Llama references match to ~1e-6; a double
// angle differs by up to pos * 1e-7 rad), then c = cos(angle), s =
// sin(angle) of that f32 angle. `half` rotates (x_i, x_{i+r/2}) into
// (x_i c - x_{i+r/2} s, x_{i+r/2} c + x_i s) (rotate_half); `interleaved`
// rotates (x_{2i}, x_{2i+1}) the same way. Features past rotary_dim pass.
llvm::Expected<Tensor> kernels::rope(const Tensor &x, const Tensor *positions,
                                     const RopeParams &params) {
  if (auto err = expectFloat(x, "rope input"))
    return err;
  if (x.rank() != 3 || params.numHeads < 1 || x.shape[2] % params.numHeads)
    return kernelError("rope input " + x.shapeString() +
                       " must be [batch, seq, heads*head_dim] with " +
                       llvm::Twine(params.numHeads) + " heads");
  int64_t batch = x.shape[0], seq = x.shape[1], width = x.shape[2];
  int64_t headDim = width / params.numHeads, rot = params.rotaryDim;
  if (rot < 0 || rot % 2 || rot > headDim)
    return kernelError("rope rotary_dim " + llvm::Twine(rot) +
                       " must be even and <= head_dim " + llvm::Twine(headDim));
  if (positions && (positions->isFloat() || positions->rank() != 2 ||
                    positions->shape[0] != batch || positions->shape[1] != seq))
    return kernelError("rope positions must be integers [batch, seq] = [" +
                       llvm::Twine(batch) + "," + llvm::Twine(seq) + "], got " +
                       positions->shapeString());
  int64_t half = rot / 2;
  std::vector<float> invFreq(half);
  for (int64_t i = 0; i < half; ++i)
    invFreq[i] = 1.0f / std::pow((float)params.theta, (float)(2 * i) / (float)rot);
  Tensor out = x;
  std::vector<float> c(half), s(half);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t < seq; ++t) {
      float pos = (float)(positions ? positions->i[b * seq + t] : t);
      for (int64_t i = 0; i < half; ++i) {
        float angle = pos * invFreq[i];
        c[i] = std::cos(angle);
        s[i] = std::sin(angle);
      }
      for (int64_t h = 0; h < params.numHeads; ++h) {
        int64_t base = (b * seq + t) * width + h * headDim;
        const float *src = x.f.data() + base;
        float *dst = out.f.data() + base;
        for (int64_t i = 0; i < half; ++i) {
          int64_t first = params.interleaved ? 2 * i : i;
          int64_t second = params.interleaved ? 2 * i + 1 : i + half;
          float x1 = src[first], x2 = src[second];
          dst[first] = x1 * c[i] - x2 * s[i];
          dst[second] = x2 * c[i] + x1 * s[i];
        }
      }
    }
  return out;
}
