//===- RandomFeatures.cpp - the projection of random-feature attention ----===//

#include "tfx/Support/RandomFeatures.h"

#include <cmath>

using namespace mlir::tfx;

namespace {
/// splitmix64 (Steele, Lea, Flood 2014): a full-period 64-bit generator
/// with a one-word state, simple enough to restate exactly in a test.
struct SplitMix64 {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  /// Uniform in (0, 1]: the top 53 bits, shifted off zero for the log.
  double uniform() { return ((next() >> 11) + 1) * 0x1.0p-53; }
};
} // namespace

std::vector<float> mlir::tfx::randomFeatureProjection(int64_t features, int64_t headDim,
                                                      uint64_t seed) {
  SplitMix64 rng{seed};
  std::vector<float> w(features * headDim);
  for (size_t n = 0; n < w.size(); n += 2) {
    double radius = std::sqrt(-2.0 * std::log(rng.uniform()));
    double angle = 2.0 * M_PI * rng.uniform();
    w[n] = (float)(radius * std::cos(angle));
    if (n + 1 < w.size())
      w[n + 1] = (float)(radius * std::sin(angle));
  }
  return w;
}
