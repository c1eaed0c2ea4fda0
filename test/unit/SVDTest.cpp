//===- SVDTest.cpp - symmetric eigensolver and truncated SVD --------------===//
//
// Matrices with known spectra (built as Q diag(s) P^T from random
// orthogonal Q, P), reconstruction and optimality of truncations, and edge
// cases: repeated and zero singular values, wide and tall shapes, 1x1.
//
//===----------------------------------------------------------------------===//

#include "tfx/Support/SVD.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace mlir::tfx;

namespace {

/// A random n x n orthogonal matrix (Gram-Schmidt of a Gaussian one).
std::vector<double> randomOrthogonal(int64_t n, std::mt19937 &rng) {
  std::normal_distribution<double> normal;
  std::vector<double> q(n * n);
  for (double &v : q)
    v = normal(rng);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < i; ++j) {
      double dot = 0;
      for (int64_t k = 0; k < n; ++k)
        dot += q[i * n + k] * q[j * n + k];
      for (int64_t k = 0; k < n; ++k)
        q[i * n + k] -= dot * q[j * n + k];
    }
    double norm = 0;
    for (int64_t k = 0; k < n; ++k)
      norm += q[i * n + k] * q[i * n + k];
    for (int64_t k = 0; k < n; ++k)
      q[i * n + k] /= std::sqrt(norm);
  }
  return q;
}

/// rows x cols matrix with singular values `s` (descending).
Tensor withSpectrum(int64_t rows, int64_t cols, const std::vector<double> &s,
                    std::mt19937 &rng) {
  std::vector<double> u = randomOrthogonal(rows, rng), v = randomOrthogonal(cols, rng);
  Tensor t = Tensor::floats({rows, cols});
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      double acc = 0;
      for (size_t k = 0; k < s.size(); ++k)
        acc += u[k * rows + r] * s[k] * v[k * cols + c];
      t.f[r * cols + c] = (float)acc;
    }
  return t;
}

double frobeniusError(const Tensor &w, const std::pair<Tensor, Tensor> &f) {
  const Tensor &first = f.first, &second = f.second;
  int64_t rows = w.shape[0], cols = w.shape[1], rank = first.shape[0];
  double err = 0;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      double acc = 0;
      for (int64_t k = 0; k < rank; ++k)
        acc += (double)second.f[r * rank + k] * first.f[k * cols + c];
      double d = acc - w.f[r * cols + c];
      err += d * d;
    }
  return std::sqrt(err);
}

TEST(SVDTest, SymmetricEigenOfAKnownMatrix) {
  // [[2, 1], [1, 2]]: eigenvalues 3 and 1, vectors (1, 1)/sqrt2, (1, -1)/sqrt2.
  SymmetricEigen e = symmetricEigen({2, 1, 1, 2}, 2);
  EXPECT_NEAR(e.values[0], 3, 1e-12);
  EXPECT_NEAR(e.values[1], 1, 1e-12);
  EXPECT_NEAR(std::fabs(e.vectors[0]), std::sqrt(0.5), 1e-12);
  EXPECT_NEAR(e.vectors[0] * e.vectors[1], 0.5, 1e-12);
  EXPECT_NEAR(e.vectors[2] * e.vectors[3], -0.5, 1e-12);
}

TEST(SVDTest, EigenvectorsOfARandomSymmetricMatrix) {
  std::mt19937 rng(3);
  std::normal_distribution<double> normal;
  int64_t n = 40;
  std::vector<double> a(n * n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j <= i; ++j)
      a[i * n + j] = a[j * n + i] = normal(rng);
  SymmetricEigen e = symmetricEigen(a, n);
  for (int64_t k = 0; k < n; ++k) {
    if (k) {
      EXPECT_GE(e.values[k - 1], e.values[k]);
    }
    // || A v - lambda v || small, and v unit length.
    double residual = 0, norm = 0;
    for (int64_t i = 0; i < n; ++i) {
      double av = 0;
      for (int64_t j = 0; j < n; ++j)
        av += a[i * n + j] * e.vectors[k * n + j];
      residual += std::pow(av - e.values[k] * e.vectors[k * n + i], 2);
      norm += e.vectors[k * n + i] * e.vectors[k * n + i];
    }
    EXPECT_LT(std::sqrt(residual), 1e-10);
    EXPECT_NEAR(norm, 1, 1e-12);
  }
}

TEST(SVDTest, SingularValuesAndOptimalTruncation) {
  std::mt19937 rng(7);
  std::vector<double> s = {10, 5, 5, 2, 1, 0.5, 0.1, 0};
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{12, 8}, {8, 12}, {8, 8}}) {
    Tensor w = withSpectrum(rows, cols, s, rng);
    TruncatedSVD svd(w);
    ASSERT_EQ(svd.singularValues().size(), 8u);
    for (size_t k = 0; k < s.size(); ++k)
      EXPECT_NEAR(svd.singularValues()[k], s[k], 1e-4) << rows << "x" << cols;
    // Eckart-Young: the rank-r error is the norm of the dropped values.
    for (int64_t r : {1, 3, 5, 8}) {
      double expected = 0;
      for (size_t k = r; k < s.size(); ++k)
        expected += s[k] * s[k];
      auto f = svd.factors(r);
      EXPECT_EQ(f.first.shape, (std::vector<int64_t>{r, cols}));
      EXPECT_EQ(f.second.shape, (std::vector<int64_t>{rows, r}));
      EXPECT_NEAR(frobeniusError(w, f), std::sqrt(expected), 1e-4)
          << rows << "x" << cols << " rank " << r;
    }
  }
}

TEST(SVDTest, RankForEnergy) {
  std::mt19937 rng(11);
  Tensor w = withSpectrum(6, 6, {3, 2, 1, 0, 0, 0}, rng); // energy 9, 4, 1 of 14
  TruncatedSVD svd(w);
  EXPECT_EQ(svd.rankForEnergy(0.5), 1);
  EXPECT_EQ(svd.rankForEnergy(9.0 / 14), 1);
  EXPECT_EQ(svd.rankForEnergy(0.9), 2);
  EXPECT_EQ(svd.rankForEnergy(1.0), 3);
}

TEST(SVDTest, OneByOneAndZeroMatrix) {
  Tensor one = Tensor::floats({1, 1}, -4.0f);
  TruncatedSVD svd(one);
  EXPECT_NEAR(svd.singularValues()[0], 4, 1e-12);
  auto f = svd.factors(1);
  EXPECT_NEAR(f.second.f[0] * f.first.f[0], -4, 1e-6);
  TruncatedSVD zero(Tensor::floats({3, 2}, 0.0f));
  EXPECT_EQ(zero.singularValues(), (std::vector<double>{0, 0}));
}

TEST(SVDTest, NearestOrthogonal) {
  std::mt19937 rng(5);
  int64_t n = 6;
  // m = Q diag(s) P^T -> R = Q P^T.
  std::vector<double> q = randomOrthogonal(n, rng), p = randomOrthogonal(n, rng);
  std::vector<double> s = {4, 3, 2, 1, 0.5, 0}; // one singular value is 0
  std::vector<double> m(n * n, 0.0), expected(n * n, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      for (int64_t k = 0; k < n; ++k) {
        m[i * n + j] += q[k * n + i] * s[k] * p[k * n + j];
        expected[i * n + j] += q[k * n + i] * p[k * n + j];
      }
  std::vector<double> r = nearestOrthogonal(m, n);
  // Orthogonal, and equal to Q P^T on the directions m does not annihilate.
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double dot = 0;
      for (int64_t k = 0; k < n; ++k)
        dot += r[i * n + k] * r[j * n + k];
      EXPECT_NEAR(dot, i == j ? 1.0 : 0.0, 1e-9);
    }
  for (int64_t k = 0; k + 1 < n; ++k)
    for (int64_t i = 0; i < n; ++i) {
      double rp = 0;
      for (int64_t j = 0; j < n; ++j)
        rp += r[i * n + j] * p[k * n + j];
      EXPECT_NEAR(rp, q[k * n + i], 1e-9);
    }
}

} // namespace
