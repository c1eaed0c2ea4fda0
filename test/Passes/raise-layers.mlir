// RUN: tfx-opt %s -split-input-file --tfx-import-cleanup | FileCheck %s

// CHECK-LABEL: func.func @gelu_erf
// CHECK-NEXT: %[[G:.*]] = tfx.gelu %arg0 : tensor<2x8xf32>
// CHECK-NEXT: return %[[G]]
func.func @gelu_erf(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %sqrt2 = arith.constant dense<1.41421354> : tensor<f32>
  %one = arith.constant dense<1.0> : tensor<f32>
  %half = arith.constant dense<0.5> : tensor<f32>
  %0 = tfx.div %x, %sqrt2 : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %1 = tfx.erf %0 : tensor<2x8xf32>
  %2 = tfx.add %1, %one : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %3 = tfx.mul %x, %2 : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %4 = tfx.mul %3, %half : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  return %4 : tensor<2x8xf32>
}

// -----

// A wrong constant (sqrt 3 instead of sqrt 2) is not GELU: nothing is raised.
// CHECK-LABEL: func.func @not_gelu
// CHECK: tfx.erf
// CHECK-NOT: tfx.gelu
func.func @not_gelu(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %sqrt3 = arith.constant dense<1.7320508> : tensor<f32>
  %one = arith.constant dense<1.0> : tensor<f32>
  %half = arith.constant dense<0.5> : tensor<f32>
  %0 = tfx.div %x, %sqrt3 : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %1 = tfx.erf %0 : tensor<2x8xf32>
  %2 = tfx.add %1, %one : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %3 = tfx.mul %x, %2 : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %4 = tfx.mul %3, %half : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  return %4 : tensor<2x8xf32>
}

// -----

// CHECK-LABEL: func.func @gelu_tanh
// CHECK-NEXT: %[[G:.*]] = tfx.gelu %arg0 {approximate = #tfx<gelu_approx tanh>} : tensor<4xf32>
// CHECK-NEXT: return %[[G]]
func.func @gelu_tanh(%x: tensor<4xf32>) -> tensor<4xf32> {
  %three = arith.constant dense<3.0> : tensor<f32>
  %c = arith.constant dense<0.044715> : tensor<f32>
  %s = arith.constant dense<0.797884583> : tensor<f32>
  %one = arith.constant dense<1.0> : tensor<f32>
  %half = arith.constant dense<0.5> : tensor<f32>
  %0 = tfx.pow %x, %three : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %1 = tfx.mul %0, %c : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %2 = tfx.add %x, %1 : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %3 = tfx.mul %2, %s : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %4 = tfx.tanh %3 : tensor<4xf32>
  %5 = tfx.add %4, %one : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %6 = tfx.mul %x, %half : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %7 = tfx.mul %6, %5 : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %7 : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @silu
// CHECK-NEXT: %[[S:.*]] = tfx.silu %arg0 : tensor<4xf32>
// CHECK-NEXT: return %[[S]]
func.func @silu(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = tfx.sigmoid %x : tensor<4xf32>
  %1 = tfx.mul %x, %0 : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %1 : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @rms_norm
// CHECK-NEXT: %[[G:.*]] = tfx.weight "gamma" : tensor<8xf32>
// CHECK-NEXT: %[[N:.*]] = tfx.rms_norm %arg0, %[[G]] {epsilon = 9.99999997E-7 : f32}
// CHECK-NEXT: return %[[N]]
func.func @rms_norm(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %g = tfx.weight "gamma" : tensor<8xf32>
  %two = arith.constant dense<2.0> : tensor<f32>
  %eps = arith.constant dense<1.0e-6> : tensor<f32>
  %0 = tfx.pow %x, %two : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %1 = tfx.reduce mean %0 {axes = array<i64: 1>} : tensor<2x8xf32> -> tensor<2x1xf32>
  %2 = tfx.add %1, %eps : (tensor<2x1xf32>, tensor<f32>) -> tensor<2x1xf32>
  %3 = tfx.sqrt %2 : tensor<2x1xf32>
  %4 = tfx.reciprocal %3 : tensor<2x1xf32>
  %5 = tfx.mul %x, %4 : (tensor<2x8xf32>, tensor<2x1xf32>) -> tensor<2x8xf32>
  %6 = tfx.mul %g, %5 : (tensor<8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  return %6 : tensor<2x8xf32>
}

// -----

// CHECK-LABEL: func.func @layer_norm
// CHECK: %[[N:.*]] = tfx.layer_norm %arg0, %{{.*}}, %{{.*}} {epsilon = 9.99999974E-6 : f32}
// CHECK-NEXT: return %[[N]]
func.func @layer_norm(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %g = tfx.weight "gamma" : tensor<8xf32>
  %b = tfx.weight "beta" : tensor<8xf32>
  %two = arith.constant dense<2.0> : tensor<f32>
  %eps = arith.constant dense<1.0e-5> : tensor<f32>
  %m = tfx.reduce mean %x {axes = array<i64: 1>} : tensor<2x8xf32> -> tensor<2x1xf32>
  %d = tfx.sub %x, %m : (tensor<2x8xf32>, tensor<2x1xf32>) -> tensor<2x8xf32>
  %0 = tfx.pow %d, %two : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %1 = tfx.reduce mean %0 {axes = array<i64: 1>} : tensor<2x8xf32> -> tensor<2x1xf32>
  %2 = tfx.add %1, %eps : (tensor<2x1xf32>, tensor<f32>) -> tensor<2x1xf32>
  %3 = tfx.sqrt %2 : tensor<2x1xf32>
  %4 = tfx.div %d, %3 : (tensor<2x8xf32>, tensor<2x1xf32>) -> tensor<2x8xf32>
  %5 = tfx.mul %4, %g : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  %6 = tfx.add %5, %b : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return %6 : tensor<2x8xf32>
}

// -----

// MatMul with a weight [in, out] plus a bias becomes one linear over the
// weight read transposed.
// CHECK-LABEL: func.func @linear
// CHECK-DAG: %[[W:.*]] = tfx.weight "w" transposed : tensor<16x8xf32>
// CHECK-DAG: %[[B:.*]] = tfx.weight "b" : tensor<16xf32>
// CHECK: %[[L:.*]] = tfx.linear %arg0, %[[W]], %[[B]] : (tensor<2x4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<2x4x16xf32>
// CHECK-NEXT: return %[[L]]
func.func @linear(%x: tensor<2x4x8xf32>) -> tensor<2x4x16xf32> {
  %w = tfx.weight "w" : tensor<8x16xf32>
  %b = tfx.weight "b" : tensor<16xf32>
  %0 = tfx.matmul %x, %w : (tensor<2x4x8xf32>, tensor<8x16xf32>) -> tensor<2x4x16xf32>
  %1 = tfx.add %b, %0 : (tensor<16xf32>, tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  return %1 : tensor<2x4x16xf32>
}

// -----

// CHECK-LABEL: func.func @embedding
// CHECK: tfx.embedding %arg0, %{{.*}} : (tensor<2x3xi64>, tensor<10x4xf32>) -> tensor<2x3x4xf32>
func.func @embedding(%ids: tensor<2x3xi64>) -> tensor<2x3x4xf32> {
  %t = tfx.weight "table" : tensor<10x4xf32>
  %0 = tfx.gather %t, %ids {axis = 0 : i64} : (tensor<10x4xf32>, tensor<2x3xi64>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}
