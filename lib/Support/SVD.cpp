//===- SVD.cpp - symmetric eigensolver and truncated SVD ------------------===//

#include "tfx/Support/SVD.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

using namespace mlir::tfx;

/// Householder reduction of the symmetric `a` to tridiagonal form
/// T = Q^T a Q. Returns Q^T (row-major, rows are Q's columns) in `qt`,
/// the diagonal in `d` and the subdiagonal (e[i] between i and i+1) in `e`.
static void tridiagonalize(std::vector<double> &a, int64_t n, std::vector<double> &qt,
                           std::vector<double> &d, std::vector<double> &e) {
  qt.assign(n * n, 0.0);
  for (int64_t i = 0; i < n; ++i)
    qt[i * n + i] = 1.0;
  std::vector<double> v(n), p(n), w(n);
  for (int64_t k = 0; k + 2 < n; ++k) {
    int64_t m = n - k - 1; // the trailing block starts at k + 1
    double alpha = 0;
    for (int64_t i = k + 1; i < n; ++i)
      alpha += a[i * n + k] * a[i * n + k];
    alpha = std::sqrt(alpha);
    if (alpha == 0)
      continue;
    double x0 = a[(k + 1) * n + k];
    if (x0 > 0)
      alpha = -alpha;
    // v = x - alpha e1, P = I - beta v v^T maps x to alpha e1.
    for (int64_t i = 0; i < m; ++i)
      v[i] = a[(k + 1 + i) * n + k];
    v[0] -= alpha;
    double vtv = 0;
    for (int64_t i = 0; i < m; ++i)
      vtv += v[i] * v[i];
    if (vtv == 0)
      continue;
    double beta = 2.0 / vtv;
    // A' = P A P on the trailing block: p = beta A v, w = p - (beta/2)(p.v) v,
    // A' = A - v w^T - w v^T.
    for (int64_t i = 0; i < m; ++i) {
      const double *row = &a[(k + 1 + i) * n + k + 1];
      double s = 0;
      for (int64_t j = 0; j < m; ++j)
        s += row[j] * v[j];
      p[i] = beta * s;
    }
    double pv = 0;
    for (int64_t i = 0; i < m; ++i)
      pv += p[i] * v[i];
    for (int64_t i = 0; i < m; ++i)
      w[i] = p[i] - 0.5 * beta * pv * v[i];
    for (int64_t i = 0; i < m; ++i) {
      double *row = &a[(k + 1 + i) * n + k + 1];
      for (int64_t j = 0; j < m; ++j)
        row[j] -= v[i] * w[j] + w[i] * v[j];
    }
    a[(k + 1) * n + k] = a[k * n + k + 1] = alpha;
    for (int64_t i = 1; i < m; ++i)
      a[(k + 1 + i) * n + k] = a[k * n + k + 1 + i] = 0.0;
    // Q = Q P, i.e. rows of Q^T: Qt[k+1+i, :] -= beta v_i (v^T Qt[k+1:, :]).
    std::vector<double> u(n, 0.0);
    for (int64_t i = 0; i < m; ++i) {
      const double *row = &qt[(k + 1 + i) * n];
      for (int64_t c = 0; c < n; ++c)
        u[c] += v[i] * row[c];
    }
    for (int64_t i = 0; i < m; ++i) {
      double *row = &qt[(k + 1 + i) * n];
      double f = beta * v[i];
      for (int64_t c = 0; c < n; ++c)
        row[c] -= f * u[c];
    }
  }
  d.resize(n);
  e.assign(n, 0.0);
  for (int64_t i = 0; i < n; ++i)
    d[i] = a[i * n + i];
  for (int64_t i = 0; i + 1 < n; ++i)
    e[i] = a[(i + 1) * n + i];
}

/// Implicit QL with Wilkinson shifts on the tridiagonal (d, e); rotations
/// are applied to the rows of `zt` (eigenvectors as rows).
static void tridiagonalQL(std::vector<double> &d, std::vector<double> &e,
                          std::vector<double> &zt, int64_t n) {
  const double eps = std::numeric_limits<double>::epsilon();
  for (int64_t l = 0; l < n; ++l) {
    for (int iteration = 0; iteration < 60; ++iteration) {
      int64_t m = l;
      for (; m + 1 < n; ++m) {
        double dd = std::fabs(d[m]) + std::fabs(d[m + 1]);
        if (std::fabs(e[m]) <= eps * dd)
          break;
      }
      if (m == l)
        break;
      double g = (d[l + 1] - d[l]) / (2.0 * e[l]);
      double r = std::hypot(g, 1.0);
      g = d[m] - d[l] + e[l] / (g + (g >= 0 ? r : -r));
      double s = 1, c = 1, p = 0;
      int64_t i = m - 1;
      bool underflow = false;
      for (; i >= l; --i) {
        double f = s * e[i], b = c * e[i];
        r = std::hypot(f, g);
        e[i + 1] = r;
        if (r == 0) {
          d[i + 1] -= p;
          e[m] = 0;
          underflow = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1] - p;
        r = (d[i] - g) * s + 2.0 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
        double *zi = &zt[i * n], *zi1 = &zt[(i + 1) * n];
        for (int64_t k = 0; k < n; ++k) {
          double t = zi1[k];
          zi1[k] = s * zi[k] + c * t;
          zi[k] = c * zi[k] - s * t;
        }
      }
      if (underflow)
        continue;
      d[l] -= p;
      e[l] = g;
      e[m] = 0;
    }
  }
}

SymmetricEigen mlir::tfx::symmetricEigen(std::vector<double> a, int64_t n) {
  std::vector<double> qt, d, e;
  tridiagonalize(a, n, qt, d, e);
  tridiagonalQL(d, e, qt, n);
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t x, int64_t y) { return d[x] > d[y]; });
  SymmetricEigen result;
  result.n = n;
  result.values.resize(n);
  result.vectors.resize(n * n);
  for (int64_t i = 0; i < n; ++i) {
    result.values[i] = d[order[i]];
    std::copy_n(&qt[order[i] * n], n, &result.vectors[i * n]);
  }
  return result;
}

TruncatedSVD::TruncatedSVD(const Tensor &t)
    : rows(t.shape[0]), cols(t.shape[1]), right(t.shape[1] <= t.shape[0]),
      w(t.f.begin(), t.f.end()) {
  // The Gram matrix of the smaller side: W^T W (cols x cols) or W W^T.
  int64_t n = right ? cols : rows;
  std::vector<double> gram(n * n, 0.0);
  if (right) {
    for (int64_t r = 0; r < rows; ++r) {
      const double *x = &w[r * cols];
      for (int64_t i = 0; i < cols; ++i) {
        double xi = x[i];
        if (xi == 0)
          continue;
        double *g = &gram[i * cols];
        for (int64_t j = i; j < cols; ++j)
          g[j] += xi * x[j];
      }
    }
  } else {
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = i; j < rows; ++j) {
        double s = 0;
        for (int64_t c = 0; c < cols; ++c)
          s += w[i * cols + c] * w[j * cols + c];
        gram[i * rows + j] = s;
      }
  }
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < i; ++j)
      gram[i * n + j] = gram[j * n + i];
  SymmetricEigen eig = symmetricEigen(std::move(gram), n);
  sigma.resize(n);
  for (int64_t i = 0; i < n; ++i)
    sigma[i] = std::sqrt(std::max(eig.values[i], 0.0));
  basis = std::move(eig.vectors);
}

int64_t TruncatedSVD::rankForEnergy(double energy) const {
  double total = 0;
  for (double s : sigma)
    total += s * s;
  double kept = 0;
  for (size_t r = 0; r < sigma.size(); ++r) {
    kept += sigma[r] * sigma[r];
    if (kept >= energy * total * (1 - 1e-12))
      return (int64_t)r + 1;
  }
  return (int64_t)sigma.size();
}

std::pair<Tensor, Tensor> TruncatedSVD::factors(int64_t rank) const {
  rank = std::clamp<int64_t>(rank, 1, (int64_t)sigma.size());
  Tensor first = Tensor::floats({rank, cols}), second = Tensor::floats({rows, rank});
  if (right) {
    // W ~ (W V_r) V_r^T: first = V_r^T, second = W V_r.
    int64_t n = cols;
    for (int64_t k = 0; k < rank; ++k)
      for (int64_t c = 0; c < cols; ++c)
        first.f[k * cols + c] = (float)basis[k * n + c];
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t k = 0; k < rank; ++k) {
        double s = 0;
        for (int64_t c = 0; c < cols; ++c)
          s += w[r * cols + c] * basis[k * n + c];
        second.f[r * rank + k] = (float)s;
      }
  } else {
    // W ~ U_r (U_r^T W): first = U_r^T W, second = U_r.
    int64_t n = rows;
    for (int64_t k = 0; k < rank; ++k)
      for (int64_t c = 0; c < cols; ++c) {
        double s = 0;
        for (int64_t r = 0; r < rows; ++r)
          s += basis[k * n + r] * w[r * cols + c];
        first.f[k * cols + c] = (float)s;
      }
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t k = 0; k < rank; ++k)
        second.f[r * rank + k] = (float)basis[k * n + r];
  }
  return {std::move(first), std::move(second)};
}

std::vector<double> mlir::tfx::nearestOrthogonal(const std::vector<double> &m,
                                                 int64_t n) {
  // m = U S V^T; R = U V^T = m V S^-1 V^T (m^T m = V S^2 V^T). Directions
  // with a vanishing singular value are completed from U's others by
  // Gram-Schmidt so that R stays orthogonal.
  std::vector<double> gram(n * n, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t k = 0; k < n; ++k)
        s += m[k * n + i] * m[k * n + j];
      gram[i * n + j] = s;
    }
  SymmetricEigen eig = symmetricEigen(std::move(gram), n);
  double top = std::sqrt(std::max(eig.values[0], 0.0));
  // u_k = m v_k / s_k, as columns stored in rows of `u`.
  std::vector<double> u(n * n, 0.0);
  for (int64_t k = 0; k < n; ++k) {
    double s = std::sqrt(std::max(eig.values[k], 0.0));
    double *uk = &u[k * n];
    if (s > 1e-12 * top && s > 0) {
      for (int64_t r = 0; r < n; ++r) {
        double acc = 0;
        for (int64_t c = 0; c < n; ++c)
          acc += m[r * n + c] * eig.vectors[k * n + c];
        uk[r] = acc / s;
      }
      continue;
    }
    // Any unit vector orthogonal to the u found so far.
    for (int64_t start = 0; start < n; ++start) {
      std::fill(uk, uk + n, 0.0);
      uk[start] = 1;
      for (int64_t j = 0; j < k; ++j) {
        double dot = 0;
        for (int64_t r = 0; r < n; ++r)
          dot += uk[r] * u[j * n + r];
        for (int64_t r = 0; r < n; ++r)
          uk[r] -= dot * u[j * n + r];
      }
      double norm = 0;
      for (int64_t r = 0; r < n; ++r)
        norm += uk[r] * uk[r];
      if (norm > 1e-6) {
        for (int64_t r = 0; r < n; ++r)
          uk[r] /= std::sqrt(norm);
        break;
      }
    }
  }
  std::vector<double> r(n * n, 0.0);
  for (int64_t k = 0; k < n; ++k)
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j)
        r[i * n + j] += u[k * n + i] * eig.vectors[k * n + j];
  return r;
}
