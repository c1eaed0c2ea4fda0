//===- ShareKvHeads.cpp - multi-head to grouped-query attention -----------===//
//
// Per attention block, the key and value projection rows of each group of
// consecutive kv-heads are pooled into one head (ChannelPruning.cpp's
// replaceOutputSegments rewrites fused QKV weights and their slices), and
// the attention and key RoPE take the new kv-head count. Query head h then
// reads pooled group h / (heads / kv-heads), the attention op's own rule.
//
// Alignment: scores q.k and outputs Wo v are unchanged when a head's q and
// k (or its v and Wo's columns) are rotated by the same orthogonal R, so
// each kv-head is rotated to agree with its group's mean on calibration
// data before pooling (generalized Procrustes from the token cross
// covariances C_ab = sum k_a k_b^T of the group's heads).
//
//===----------------------------------------------------------------------===//

#include "ChannelPruning.h"
#include "CompressionReport.h"
#include "Structure.h"
#include "Weights.h"
#include "tfx/Passes/Passes.h"
#include "tfx/Support/SVD.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/Format.h"

#include <cmath>

namespace mlir::tfx {
#define GEN_PASS_DEF_TFXSHAREKVHEADS
#include "passes/Passes.h.inc"
} // namespace mlir::tfx

using namespace mlir;
using namespace mlir::tfx;

namespace {

using Matrix = std::vector<double>; // d x d, row-major

/// Token cross covariances of the heads of each group: cov[g][a][b] =
/// sum over tokens of x_a x_b^T (x_a: head a's key or value vector).
struct GroupCovariance {
  int64_t groups = 0, group = 0, d = 0;
  std::vector<Matrix> cov; // [groups * group * group], each d x d

  void init(int64_t g, int64_t size, int64_t dim) {
    groups = g;
    group = size;
    d = dim;
    cov.assign(g * size * size, Matrix(dim * dim, 0.0));
  }
  Matrix &at(int64_t g, int64_t a, int64_t b) {
    return cov[(g * group + a) * group + b];
  }
  void add(const Tensor &t) {
    int64_t cols = groups * group * d, rows = t.numElements() / cols;
    for (int64_t r = 0; r < rows; ++r) {
      const float *x = t.f.data() + r * cols;
      for (int64_t g = 0; g < groups; ++g)
        for (int64_t a = 0; a < group; ++a)
          for (int64_t b = 0; b < group; ++b) {
            const float *xa = x + (g * group + a) * d, *xb = x + (g * group + b) * d;
            Matrix &m = at(g, a, b);
            for (int64_t i = 0; i < d; ++i)
              for (int64_t j = 0; j < d; ++j)
                m[i * d + j] += (double)xa[i] * xb[j];
          }
    }
  }
};

/// tr(R_a C_ab R_b^T) = sum over tokens of (R_a x_a) . (R_b x_b).
double rotatedDot(const Matrix &c, const Matrix &ra, const Matrix &rb, int64_t d) {
  // tr(Ra C Rb^T) = sum_ij (Ra C)_ij Rb_ij.
  double total = 0;
  for (int64_t i = 0; i < d; ++i)
    for (int64_t j = 0; j < d; ++j) {
      double s = 0;
      for (int64_t k = 0; k < d; ++k)
        s += ra[i * d + k] * c[k * d + j];
      total += s * rb[i * d + j];
    }
  return total;
}

Matrix identity(int64_t d) {
  Matrix m(d * d, 0.0);
  for (int64_t i = 0; i < d; ++i)
    m[i * d + i] = 1;
  return m;
}

/// Rotations R_a of the heads of group `g` (generalized Procrustes: each
/// head in turn rotated onto the mean of the others' rotated vectors).
std::vector<Matrix> alignGroup(GroupCovariance &cov, int64_t g) {
  int64_t n = cov.group, d = cov.d;
  std::vector<Matrix> rot(n, identity(d));
  for (int round = 0; round < 4; ++round)
    for (int64_t a = 0; a < n; ++a) {
      // Maximize tr(R_a A), A = sum_b C_ab R_b^T over the other heads b.
      Matrix m(d * d, 0.0);
      for (int64_t b = 0; b < n; ++b) {
        if (b == a)
          continue;
        const Matrix &c = cov.at(g, a, b), &rb = rot[b];
        for (int64_t i = 0; i < d; ++i)
          for (int64_t j = 0; j < d; ++j) {
            double s = 0;
            for (int64_t k = 0; k < d; ++k)
              s += c[i * d + k] * rb[j * d + k];
            m[i * d + j] += s;
          }
      }
      // tr(R A) is largest for R = (U V^T)^T where A = U S V^T.
      Matrix polar = nearestOrthogonal(m, d);
      for (int64_t i = 0; i < d; ++i)
        for (int64_t j = 0; j < d; ++j)
          rot[a][i * d + j] = polar[j * d + i];
    }
  return rot;
}

struct ShareKvHeadsPass
    : mlir::tfx::impl::TfxShareKvHeadsBase<ShareKvHeadsPass> {
  using TfxShareKvHeadsBase::TfxShareKvHeadsBase;

  void runOnOperation() override {
    if (failed(run()))
      signalPassFailure();
  }

  LogicalResult run() {
    ModuleOp module = getOperation();
    if (kvHeads < 1)
      return module.emitError("tfx-share-kv-heads: kv-heads must be positive");
    if (pooling != "mean" && pooling != "weighted")
      return module.emitError("tfx-share-kv-heads: unknown pooling '")
             << pooling << "' (mean or weighted)";
    auto func = findEntryFunction(module);
    if (!func)
      return module.emitError("tfx-share-kv-heads: ")
             << llvm::toString(func.takeError());
    std::vector<AttentionBlock> blocks;
    func->walk([&](AttentionOp op) {
      if (auto block = matchAttentionBlock(op))
        if (block->kvHeads > kvHeads)
          blocks.push_back(*block);
    });
    for (AttentionBlock &b : blocks)
      if (b.kvHeads % kvHeads)
        return b.attention.emitError("tfx-share-kv-heads: kv-heads=")
               << (int64_t)kvHeads << " does not divide this attention's "
               << b.kvHeads << " kv-heads";

    bool needStats = pooling == "weighted" || align;
    llvm::DenseMap<Operation *, unsigned> blockOf;
    std::vector<GroupCovariance> keys(blocks.size()), values(blocks.size());
    for (auto [n, b] : llvm::enumerate(blocks)) {
      blockOf[b.attention] = n;
      if (needStats) {
        keys[n].init(kvHeads, b.kvHeads / kvHeads, b.headDim);
        values[n].init(kvHeads, b.kvHeads / kvHeads, b.headDim);
      }
    }
    OpObserver observer;
    if (needStats)
      observer = [&](Operation *op, ArrayRef<const Tensor *> operands, Tensor &) {
        auto it = blockOf.find(op);
        if (it == blockOf.end())
          return;
        keys[it->second].add(*operands[1]);
        values[it->second].add(*operands[2]);
      };
    auto run = CompressionRun::begin(module, getArgument(), calibration,
                                     calibrationBatches, needStats, observer);
    if (failed(run))
      return failure();
    if (blocks.empty()) {
      run->log() << "no attention block has more than " << (int64_t)kvHeads
                 << " kv-heads; nothing to share\n";
      return success();
    }
    for (auto [n, block] : llvm::enumerate(blocks))
      if (failed(share(*run, n, block, keys[n], values[n])))
        return failure();
    eraseDeadOps(*func);
    return success(succeeded(run->finish(module)));
  }

  /// Rotations (identity unless aligned) and pooling weights of every
  /// kv-head, for keys or values.
  void plan(GroupCovariance &cov, int64_t kvCount, int64_t d, bool rotate,
            std::vector<Matrix> &rot, std::vector<double> &weights) {
    int64_t group = kvCount / kvHeads;
    rot.assign(kvCount, identity(d));
    weights.assign(kvCount, 1.0 / group);
    if (cov.cov.empty() || group == 1)
      return;
    for (int64_t g = 0; g < kvHeads; ++g) {
      if (rotate) {
        std::vector<Matrix> r = alignGroup(cov, g);
        for (int64_t a = 0; a < group; ++a)
          rot[g * group + a] = std::move(r[a]);
      }
      if (pooling != "weighted")
        continue;
      // Weight 1 + mean cosine with the group's other (rotated) heads.
      double total = 0;
      for (int64_t a = 0; a < group; ++a) {
        const Matrix &ra = rot[g * group + a];
        double na = rotatedDot(cov.at(g, a, a), ra, ra, d), s = 0;
        for (int64_t b = 0; b < group; ++b) {
          if (a == b)
            continue;
          const Matrix &rb = rot[g * group + b];
          double nb = rotatedDot(cov.at(g, b, b), rb, rb, d);
          double dot = rotatedDot(cov.at(g, a, b), ra, rb, d);
          s += na > 0 && nb > 0 ? dot / std::sqrt(na * nb) : 0.0;
        }
        weights[g * group + a] = 1.0 + s / (group - 1);
        total += weights[g * group + a];
      }
      for (int64_t a = 0; a < group; ++a)
        weights[g * group + a] /= total;
    }
  }

  LogicalResult read(Value v, Operation *op, Tensor &out) {
    auto data = readWeight(v);
    if (!data)
      return op->emitError("tfx-share-kv-heads: ") << llvm::toString(data.takeError());
    out = std::move(*data);
    return success();
  }

  /// `rows` rows of head `head` of `proj`, each head rotated by rot[head]
  /// and weighted by weights[head], summed into head `to` of `seg`.
  static void addHead(const Tensor &w, const Tensor *bias, int64_t from, int64_t to,
                      int64_t d, const Matrix &rot, double weight, OutputSegment &seg) {
    int64_t cols = w.shape[1];
    for (int64_t i = 0; i < d; ++i)
      for (int64_t j = 0; j < d; ++j) {
        double r = weight * rot[i * d + j];
        if (r == 0)
          continue;
        const float *src = &w.f[(from + j) * cols];
        float *dst = &seg.weight.f[(to + i) * cols];
        for (int64_t c = 0; c < cols; ++c)
          dst[c] += r * src[c];
        if (bias)
          seg.bias.f[to + i] += r * bias->f[from + j];
      }
  }

  LogicalResult share(CompressionRun &run, int64_t n, AttentionBlock block,
                      GroupCovariance &keyCov, GroupCovariance &valueCov) {
    int64_t d = block.headDim, kvCount = block.kvHeads;
    int64_t group = kvCount / kvHeads, perKv = block.heads / kvCount;
    bool rotateKeys = align && !block.k.rope && !block.q.rope;
    std::vector<Matrix> keyRot, valueRot;
    std::vector<double> keyWeights, valueWeights;
    plan(keyCov, kvCount, d, rotateKeys, keyRot, keyWeights);
    plan(valueCov, kvCount, d, align, valueRot, valueWeights);

    std::string kw;
    llvm::raw_string_ostream os(kw);
    for (auto [h, w] : llvm::enumerate(keyWeights))
      os << (h ? " " : "") << llvm::format("%.2f", w);
    run.log() << "layer " << n << ": kv-heads " << kvCount << " -> " << (int64_t)kvHeads
              << " (groups of " << group << ", " << pooling << " pooling"
              << (align ? rotateKeys ? ", keys and values aligned" : ", values aligned"
                        : "")
              << (pooling == "weighted" ? ", key weights " + kw : "") << ")\n";

    // New rows of the k and v (and, with rotated keys, q) segments.
    llvm::DenseMap<Operation *, SmallVector<OutputSegment>> segments;
    SmallVector<LinearOp> order;
    auto addSegment = [&](LinearOp linear, OutputSegment seg) {
      if (!segments.count(linear))
        order.push_back(linear);
      segments[linear].push_back(std::move(seg));
    };
    for (auto [proj, rot, weights] :
         {std::make_tuple(&block.k, &keyRot, &keyWeights),
          std::make_tuple(&block.v, &valueRot, &valueWeights)}) {
      Tensor w, bias;
      if (failed(read(proj->linear.getWeight(), proj->linear, w)) ||
          (proj->linear.getBias() && failed(read(proj->linear.getBias(), proj->linear, bias))))
        return failure();
      OutputSegment seg{proj->offset, proj->width,
                        Tensor::floats({kvHeads * d, w.shape[1]}),
                        Tensor::floats({kvHeads * d})};
      for (int64_t a = 0; a < kvCount; ++a)
        addHead(w, proj->linear.getBias() ? &bias : nullptr, proj->offset + a * d,
                (a / group) * d, d, (*rot)[a], (*weights)[a], seg);
      addSegment(proj->linear, std::move(seg));
    }
    if (rotateKeys) {
      Tensor w, bias;
      LinearOp q = block.q.linear;
      if (failed(read(q.getWeight(), q, w)) ||
          (q.getBias() && failed(read(q.getBias(), q, bias))))
        return failure();
      OutputSegment seg{block.q.offset, block.q.width,
                        Tensor::floats({block.heads * d, w.shape[1]}),
                        Tensor::floats({block.heads * d})};
      for (int64_t h = 0; h < block.heads; ++h)
        addHead(w, q.getBias() ? &bias : nullptr, block.q.offset + h * d, h * d, d,
                keyRot[h / perKv], 1.0, seg);
      addSegment(q, std::move(seg));
    }
    for (LinearOp linear : order)
      if (failed(replaceOutputSegments(linear, segments[linear], ".shared_kv")))
        return failure();
    if (align) {
      // Wo[:, head h] R^T for the value rotation of h's kv-head.
      Tensor wo;
      if (failed(read(block.out.getWeight(), block.out, wo)))
        return failure();
      Tensor rotated = wo;
      int64_t rows = wo.shape[0], cols = wo.shape[1];
      for (int64_t h = 0; h < block.heads; ++h) {
        const Matrix &r = valueRot[h / perKv];
        for (int64_t m = 0; m < rows; ++m)
          for (int64_t i = 0; i < d; ++i) {
            double s = 0;
            for (int64_t j = 0; j < d; ++j)
              s += (double)wo.f[m * cols + h * d + j] * r[i * d + j];
            rotated.f[m * cols + h * d + i] = (float)s;
          }
      }
      if (failed(setLinearWeight(block.out, rotated, ".shared_kv")))
        return failure();
    }
    if (RopeOp rope = block.k.rope) {
      rope.setNumHeads(kvHeads);
      if (failed(refreshResultType(rope)))
        return failure();
    }
    block.attention.setNumKvHeads(kvHeads);
    return refreshResultType(block.attention);
  }
};

} // namespace
