//===- RandomFeatures.h - the projection of random-feature attention -*- C++ -*-===//
//
// tfx.attention with kind linear_random names its random projection by a
// seed instead of carrying a features x head_dim weight, so that printed
// modules stay small. Every backend (interpreter, CPU codegen) draws the
// matrix from this one generator, which is fixed: changing it changes what
// existing IR means.
//
//===----------------------------------------------------------------------===//
#ifndef TFX_SUPPORT_RANDOMFEATURES_H
#define TFX_SUPPORT_RANDOMFEATURES_H

#include <cstdint>
#include <vector>

namespace mlir::tfx {

/// `features x headDim` standard normal values, row-major: splitmix64 from
/// `seed` feeding the Box-Muller transform, in double, rounded to f32.
std::vector<float> randomFeatureProjection(int64_t features, int64_t headDim,
                                           uint64_t seed);

} // namespace mlir::tfx

#endif // TFX_SUPPORT_RANDOMFEATURES_H
