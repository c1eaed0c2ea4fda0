//===- SVD.h - symmetric eigensolver and truncated SVD ----------*- C++ -*-===//
//
// The linear algebra of low-rank factorization and head alignment, in
// double precision, without a LAPACK dependency: a symmetric eigensolver
// (Householder tridiagonalization, then implicit QL with Wilkinson shifts)
// and, on top of it, the SVD of a matrix through the eigendecomposition of
// its smaller Gram matrix. Squaring the matrix loses the accuracy of
// singular values below sqrt(machine epsilon) times the largest, which
// truncation drops anyway.
//
//===----------------------------------------------------------------------===//
#ifndef TFX_SUPPORT_SVD_H
#define TFX_SUPPORT_SVD_H

#include "tfx/Support/Tensor.h"

#include <cstdint>
#include <utility>
#include <vector>

namespace mlir::tfx {

/// Eigenvalues (descending) and eigenvectors (row i belongs to value i) of
/// the symmetric n x n row-major matrix `a`.
struct SymmetricEigen {
  int64_t n = 0;
  std::vector<double> values;
  std::vector<double> vectors;
};
SymmetricEigen symmetricEigen(std::vector<double> a, int64_t n);

/// The SVD of a rows x cols matrix, kept in the form truncation needs.
class TruncatedSVD {
public:
  /// Decomposes the 2-D float tensor `w`.
  explicit TruncatedSVD(const Tensor &w);

  /// Singular values, descending (min(rows, cols) of them).
  const std::vector<double> &singularValues() const { return sigma; }
  /// The smallest rank whose singular values hold `energy` (0..1] of the
  /// squared Frobenius norm.
  int64_t rankForEnergy(double energy) const;
  /// Factors of the best rank-`rank` approximation W ~ second x first:
  /// first is [rank, cols], second is [rows, rank].
  std::pair<Tensor, Tensor> factors(int64_t rank) const;

private:
  int64_t rows, cols;
  /// True: `basis` holds right singular vectors (cols <= rows).
  bool right;
  std::vector<double> w, sigma, basis;
};

/// The orthogonal matrix R (n x n) closest to `m` (the polar factor,
/// U V^T of m = U S V^T), which maximizes trace(R^T m).
std::vector<double> nearestOrthogonal(const std::vector<double> &m, int64_t n);

} // namespace mlir::tfx

#endif // TFX_SUPPORT_SVD_H
