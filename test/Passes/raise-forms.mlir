// RUN: tfx-opt %s -split-input-file --tfx-import-cleanup | FileCheck %s

// The other spellings exporters use for the same math, and near misses
// that must stay as they are.

// GELU with erf(x * (1/sqrt 2)), 1 + erf written the other way round and
// the 0.5 applied to x first.
// CHECK-LABEL: func.func @gelu_erf_mul_form
// CHECK-NEXT: %[[G:.*]] = tfx.gelu %arg0 : tensor<2x8xf32>
// CHECK-NEXT: return %[[G]]
func.func @gelu_erf_mul_form(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %r = arith.constant dense<0.707106769> : tensor<f32>
  %one = arith.constant dense<1.0> : tensor<1xf32>
  %half = arith.constant dense<0.5> : tensor<f32>
  %0 = tfx.mul %r, %x : (tensor<f32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %1 = tfx.erf %0 : tensor<2x8xf32>
  %2 = tfx.add %one, %1 : (tensor<1xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %3 = tfx.mul %half, %x : (tensor<f32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %4 = tfx.mul %2, %3 : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  return %4 : tensor<2x8xf32>
}

// -----

// x * (1 + erf(x / sqrt 2)) / 2.
// CHECK-LABEL: func.func @gelu_erf_div2
// CHECK-NEXT: %[[G:.*]] = tfx.gelu %arg0 : tensor<2x8xf32>
// CHECK-NEXT: return %[[G]]
func.func @gelu_erf_div2(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %sqrt2 = arith.constant dense<1.41421354> : tensor<f32>
  %one = arith.constant dense<1.0> : tensor<f32>
  %two = arith.constant dense<2.0> : tensor<f32>
  %0 = tfx.div %x, %sqrt2 : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %1 = tfx.erf %0 : tensor<2x8xf32>
  %2 = tfx.add %1, %one : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %3 = tfx.mul %x, %2 : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %4 = tfx.div %3, %two : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  return %4 : tensor<2x8xf32>
}

// -----

// The erf half of GELU times another tensor is no GELU.
// CHECK-LABEL: func.func @not_gelu_other_input
// CHECK: tfx.erf
// CHECK-NOT: tfx.gelu
func.func @not_gelu_other_input(%x: tensor<2x8xf32>, %y: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %sqrt2 = arith.constant dense<1.41421354> : tensor<f32>
  %one = arith.constant dense<1.0> : tensor<f32>
  %half = arith.constant dense<0.5> : tensor<f32>
  %0 = tfx.div %x, %sqrt2 : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %1 = tfx.erf %0 : tensor<2x8xf32>
  %2 = tfx.add %1, %one : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %3 = tfx.mul %y, %2 : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %4 = tfx.mul %3, %half : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  return %4 : tensor<2x8xf32>
}

// -----

// Tanh GELU with the cube as x * x * x.
// CHECK-LABEL: func.func @gelu_tanh_cube_as_products
// CHECK-NEXT: %[[G:.*]] = tfx.gelu %arg0 {approximate = #tfx<gelu_approx tanh>} : tensor<4xf32>
// CHECK-NEXT: return %[[G]]
func.func @gelu_tanh_cube_as_products(%x: tensor<4xf32>) -> tensor<4xf32> {
  %c = arith.constant dense<0.044715> : tensor<f32>
  %s = arith.constant dense<0.797884583> : tensor<f32>
  %one = arith.constant dense<1.0> : tensor<f32>
  %half = arith.constant dense<0.5> : tensor<f32>
  %sq = tfx.mul %x, %x : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %0 = tfx.mul %sq, %x : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %1 = tfx.mul %c, %0 : (tensor<f32>, tensor<4xf32>) -> tensor<4xf32>
  %2 = tfx.add %1, %x : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %3 = tfx.mul %s, %2 : (tensor<f32>, tensor<4xf32>) -> tensor<4xf32>
  %4 = tfx.tanh %3 : tensor<4xf32>
  %5 = tfx.add %4, %one : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %6 = tfx.mul %5, %x : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %7 = tfx.mul %6, %half : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  return %7 : tensor<4xf32>
}

// -----

// 0.05 instead of 0.044715 is another function.
// CHECK-LABEL: func.func @not_gelu_tanh
// CHECK: tfx.tanh
// CHECK-NOT: tfx.gelu
func.func @not_gelu_tanh(%x: tensor<4xf32>) -> tensor<4xf32> {
  %three = arith.constant dense<3.0> : tensor<f32>
  %c = arith.constant dense<0.05> : tensor<f32>
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

// sigmoid(x) * x is SiLU; x * sigmoid(y) is not.
// CHECK-LABEL: func.func @silu_forms
// CHECK-NEXT: %[[S:.*]] = tfx.silu %arg0 : tensor<4xf32>
// CHECK-NEXT: %[[G:.*]] = tfx.sigmoid %arg1 : tensor<4xf32>
// CHECK-NEXT: %[[M:.*]] = tfx.mul %arg0, %[[G]]
// CHECK-NEXT: return %[[S]], %[[M]]
func.func @silu_forms(%x: tensor<4xf32>, %y: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %0 = tfx.sigmoid %x : tensor<4xf32>
  %1 = tfx.mul %0, %x : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %2 = tfx.sigmoid %y : tensor<4xf32>
  %3 = tfx.mul %x, %2 : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %1, %3 : tensor<4xf32>, tensor<4xf32>
}

// -----

// RMS norm as the Llama legacy export writes it: Div(1, Sqrt) then Mul.
// CHECK-LABEL: func.func @rms_norm_one_over_root
// CHECK: %[[N:.*]] = tfx.rms_norm %arg0, %{{.*}} {epsilon = 9.99999997E-7 : f32}
// CHECK-NEXT: return %[[N]]
func.func @rms_norm_one_over_root(%x: tensor<2x3x8xf32>) -> tensor<2x3x8xf32> {
  %g = tfx.weight "gamma" : tensor<8xf32>
  %two = arith.constant dense<2.0> : tensor<f32>
  %eps = arith.constant dense<1.0e-6> : tensor<f32>
  %one = arith.constant dense<1.0> : tensor<f32>
  %0 = tfx.pow %x, %two : (tensor<2x3x8xf32>, tensor<f32>) -> tensor<2x3x8xf32>
  %1 = tfx.reduce mean %0 {axes = array<i64: 2>} : tensor<2x3x8xf32> -> tensor<2x3x1xf32>
  %2 = tfx.add %1, %eps : (tensor<2x3x1xf32>, tensor<f32>) -> tensor<2x3x1xf32>
  %3 = tfx.sqrt %2 : tensor<2x3x1xf32>
  %4 = tfx.div %one, %3 : (tensor<f32>, tensor<2x3x1xf32>) -> tensor<2x3x1xf32>
  %5 = tfx.mul %x, %4 : (tensor<2x3x8xf32>, tensor<2x3x1xf32>) -> tensor<2x3x8xf32>
  %6 = tfx.mul %g, %5 : (tensor<8xf32>, tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  return %6 : tensor<2x3x8xf32>
}

// -----

// RMS norm with rsqrt(mean(x*x) + eps), and with x / sqrt(...).
// CHECK-LABEL: func.func @rms_norm_rsqrt_and_div
// CHECK-DAG: %[[A:.*]] = tfx.rms_norm %arg0, %{{.*}} {epsilon = 9.99999974E-6 : f32}
// CHECK-DAG: %[[B:.*]] = tfx.rms_norm %arg1, %{{.*}} {epsilon = 9.99999974E-6 : f32}
// CHECK: return %[[A]], %[[B]]
func.func @rms_norm_rsqrt_and_div(%x: tensor<2x8xf32>, %y: tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>) {
  %g = tfx.weight "gamma" : tensor<8xf32>
  %eps = arith.constant dense<1.0e-5> : tensor<f32>
  %0 = tfx.mul %x, %x : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %1 = tfx.reduce mean %0 {axes = array<i64: 1>} : tensor<2x8xf32> -> tensor<2x1xf32>
  %2 = tfx.add %eps, %1 : (tensor<f32>, tensor<2x1xf32>) -> tensor<2x1xf32>
  %3 = tfx.rsqrt %2 : tensor<2x1xf32>
  %4 = tfx.mul %3, %x : (tensor<2x1xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %5 = tfx.mul %4, %g : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  %6 = tfx.mul %y, %y : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %7 = tfx.reduce mean %6 {axes = array<i64: 1>} : tensor<2x8xf32> -> tensor<2x1xf32>
  %8 = tfx.add %7, %eps : (tensor<2x1xf32>, tensor<f32>) -> tensor<2x1xf32>
  %9 = tfx.sqrt %8 : tensor<2x1xf32>
  %10 = tfx.div %y, %9 : (tensor<2x8xf32>, tensor<2x1xf32>) -> tensor<2x8xf32>
  %11 = tfx.mul %10, %g : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return %5, %11 : tensor<2x8xf32>, tensor<2x8xf32>
}

// -----

// Statistics over the batch axis are no RMS norm.
// CHECK-LABEL: func.func @not_rms_norm_axis0
// CHECK: tfx.reduce mean
// CHECK-NOT: tfx.rms_norm
func.func @not_rms_norm_axis0(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %g = tfx.weight "gamma" : tensor<8xf32>
  %two = arith.constant dense<2.0> : tensor<f32>
  %eps = arith.constant dense<1.0e-6> : tensor<f32>
  %0 = tfx.pow %x, %two : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %1 = tfx.reduce mean %0 {axes = array<i64: 0>} : tensor<2x8xf32> -> tensor<1x8xf32>
  %2 = tfx.add %1, %eps : (tensor<1x8xf32>, tensor<f32>) -> tensor<1x8xf32>
  %3 = tfx.sqrt %2 : tensor<1x8xf32>
  %4 = tfx.reciprocal %3 : tensor<1x8xf32>
  %5 = tfx.mul %x, %4 : (tensor<2x8xf32>, tensor<1x8xf32>) -> tensor<2x8xf32>
  %6 = tfx.mul %g, %5 : (tensor<8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  return %6 : tensor<2x8xf32>
}

// -----

// Layer norm through reciprocal(sqrt), without a shift.
// CHECK-LABEL: func.func @layer_norm_reciprocal_no_beta
// CHECK: %[[N:.*]] = tfx.layer_norm %arg0, %{{.*}} {epsilon = 9.99999996E-13 : f32} : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
// CHECK-NEXT: return %[[N]]
func.func @layer_norm_reciprocal_no_beta(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %g = tfx.weight "gamma" : tensor<8xf32>
  %eps = arith.constant dense<1.0e-12> : tensor<f32>
  %m = tfx.reduce mean %x {axes = array<i64: 1>} : tensor<2x8xf32> -> tensor<2x1xf32>
  %d = tfx.sub %x, %m : (tensor<2x8xf32>, tensor<2x1xf32>) -> tensor<2x8xf32>
  %0 = tfx.mul %d, %d : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %1 = tfx.reduce mean %0 {axes = array<i64: 1>} : tensor<2x8xf32> -> tensor<2x1xf32>
  %2 = tfx.add %1, %eps : (tensor<2x1xf32>, tensor<f32>) -> tensor<2x1xf32>
  %3 = tfx.sqrt %2 : tensor<2x1xf32>
  %4 = tfx.reciprocal %3 : tensor<2x1xf32>
  %5 = tfx.mul %d, %4 : (tensor<2x8xf32>, tensor<2x1xf32>) -> tensor<2x8xf32>
  %6 = tfx.mul %g, %5 : (tensor<8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  return %6 : tensor<2x8xf32>
}

// -----

// A literal [in, out] constant weight becomes a transposed [out, in]
// constant; a transposed [out, in] weight is used as it is.
// CHECK-LABEL: func.func @linear_weight_forms
// CHECK-DAG: %[[C:.*]] = arith.constant dense<{{\[}}[1.000000e+00, 3.000000e+00], [2.000000e+00, 4.000000e+00]]> : tensor<2x2xf32>
// CHECK-DAG: %[[W:.*]] = tfx.weight "w" : tensor<16x8xf32>
// CHECK-DAG: %[[A:.*]] = tfx.linear %arg0, %[[C]] : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32>
// CHECK-DAG: %[[B:.*]] = tfx.linear %arg1, %[[W]] : (tensor<2x4x8xf32>, tensor<16x8xf32>) -> tensor<2x4x16xf32>
// CHECK: return %[[A]], %[[B]]
func.func @linear_weight_forms(%x: tensor<3x2xf32>, %y: tensor<2x4x8xf32>) -> (tensor<3x2xf32>, tensor<2x4x16xf32>) {
  %c = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %w = tfx.weight "w" : tensor<16x8xf32>
  %0 = tfx.matmul %x, %c : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32>
  %wt = tfx.transpose %w, [1, 0] : tensor<16x8xf32> -> tensor<8x16xf32>
  %1 = tfx.matmul %y, %wt : (tensor<2x4x8xf32>, tensor<8x16xf32>) -> tensor<2x4x16xf32>
  return %0, %1 : tensor<3x2xf32>, tensor<2x4x16xf32>
}

// -----

// A Gemm between flattening reshapes (the frontend's tfx.linear on
// [B*S, in]) becomes one linear on [B, S, in].
// CHECK-LABEL: func.func @linear_through_reshapes
// CHECK-NEXT: %[[W:.*]] = tfx.weight "w" : tensor<16x8xf32>
// CHECK-NEXT: %[[L:.*]] = tfx.linear %arg0, %[[W]] : (tensor<2x4x8xf32>, tensor<16x8xf32>) -> tensor<2x4x16xf32>
// CHECK-NEXT: return %[[L]]
func.func @linear_through_reshapes(%x: tensor<2x4x8xf32>) -> tensor<2x4x16xf32> {
  %w = tfx.weight "w" : tensor<16x8xf32>
  %0 = tfx.reshape %x : tensor<2x4x8xf32> -> tensor<8x8xf32>
  %1 = tfx.linear %0, %w : (tensor<8x8xf32>, tensor<16x8xf32>) -> tensor<8x16xf32>
  %2 = tfx.reshape %1 : tensor<8x16xf32> -> tensor<2x4x16xf32>
  return %2 : tensor<2x4x16xf32>
}

// -----

// A product of two activations is no linear layer.
// CHECK-LABEL: func.func @not_linear
// CHECK: tfx.matmul
// CHECK-NOT: tfx.linear
func.func @not_linear(%x: tensor<3x2xf32>, %y: tensor<2x5xf32>) -> tensor<3x5xf32> {
  %0 = tfx.matmul %x, %y : (tensor<3x2xf32>, tensor<2x5xf32>) -> tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}
