// RUN: tfx-opt %s -canonicalize -split-input-file | FileCheck %s

// A 2-D transpose of a weight becomes a transposed read of the weight.
// CHECK-LABEL: func.func @transpose_weight
// CHECK-NEXT: %[[W:.*]] = tfx.weight "w" transposed : tensor<3x2xf32>
// CHECK-NEXT: return %[[W]]
func.func @transpose_weight() -> tensor<3x2xf32> {
  %w = tfx.weight "w" : tensor<2x3xf32>
  %t = tfx.transpose %w, [1, 0] : tensor<2x3xf32> -> tensor<3x2xf32>
  return %t : tensor<3x2xf32>
}

// -----

// CHECK-LABEL: func.func @transpose_chain
// CHECK-NEXT: %[[T:.*]] = tfx.transpose %arg0, [2, 0, 1]
// CHECK-NEXT: return %[[T]]
func.func @transpose_chain(%a: tensor<2x3x4xf32>) -> tensor<4x2x3xf32> {
  %t0 = tfx.transpose %a, [0, 2, 1] : tensor<2x3x4xf32> -> tensor<2x4x3xf32>
  %t1 = tfx.transpose %t0, [1, 0, 2] : tensor<2x4x3xf32> -> tensor<4x2x3xf32>
  return %t1 : tensor<4x2x3xf32>
}

// -----

// CHECK-LABEL: func.func @identity_transpose
// CHECK-NEXT: return %arg0
func.func @identity_transpose(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %t = tfx.transpose %a, [0, 1] : tensor<2x3xf32> -> tensor<2x3xf32>
  return %t : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func.func @reshape_chain
// CHECK-NEXT: %[[R:.*]] = tfx.reshape %arg0 : tensor<2x3x4xf32> -> tensor<6x4xf32>
// CHECK-NEXT: return %[[R]]
func.func @reshape_chain(%a: tensor<2x3x4xf32>) -> tensor<6x4xf32> {
  %r0 = tfx.reshape %a : tensor<2x3x4xf32> -> tensor<24xf32>
  %r1 = tfx.reshape %r0 : tensor<24xf32> -> tensor<6x4xf32>
  return %r1 : tensor<6x4xf32>
}

// -----

// CHECK-LABEL: func.func @reshape_constant
// CHECK-NEXT: %[[C:.*]] = arith.constant dense<{{\[}}[1, 2], [3, 4]]> : tensor<2x2xi64>
// CHECK-NEXT: return %[[C]]
func.func @reshape_constant() -> tensor<2x2xi64> {
  %c = arith.constant dense<[1, 2, 3, 4]> : tensor<4xi64>
  %r = tfx.reshape %c : tensor<4xi64> -> tensor<2x2xi64>
  return %r : tensor<2x2xi64>
}

// -----

// CHECK-LABEL: func.func @expand_splat
// CHECK-NEXT: %[[C:.*]] = arith.constant dense<1.000000e+00> : tensor<4x3xf32>
// CHECK-NEXT: return %[[C]]
func.func @expand_splat() -> tensor<4x3xf32> {
  %c = arith.constant dense<1.0> : tensor<3xf32>
  %e = tfx.expand %c : tensor<3xf32> -> tensor<4x3xf32>
  return %e : tensor<4x3xf32>
}

// -----

// CHECK-LABEL: func.func @same_type_cast
// CHECK-NEXT: return %arg0
func.func @same_type_cast(%a: tensor<2xf32>) -> tensor<2xf32> {
  %c = tfx.cast %a : tensor<2xf32> -> tensor<2xf32>
  return %c : tensor<2xf32>
}
