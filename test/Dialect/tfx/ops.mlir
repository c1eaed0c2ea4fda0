// RUN: tfx-opt %s | tfx-opt | FileCheck %s

// CHECK-LABEL: func.func @encoder_block
// CHECK: tfx.weight "emb" : tensor<1000x128xf32>
// CHECK: tfx.weight "q" transposed : tensor<128x128xf32>
// CHECK: tfx.linear
// CHECK: tfx.attention {{.*}} {causal = true, num_heads = 4 : i64, num_kv_heads = 2 : i64
// CHECK: tfx.gelu {{.*}} {approximate = #tfx<gelu_approx tanh>}
module attributes {tfx.weights = "model.safetensors"} {
func.func @encoder_block(%ids: tensor<2x16xi64> {tfx.name = "input_ids"}, %mask: tensor<2x16xi64>) -> tensor<2x16x128xf32> {
  %t = tfx.weight "emb" : tensor<1000x128xf32>
  %h = tfx.embedding %ids, %t : (tensor<2x16xi64>, tensor<1000x128xf32>) -> tensor<2x16x128xf32>
  %w = tfx.weight "q" transposed : tensor<128x128xf32>
  %wk = tfx.weight "k" : tensor<64x128xf32>
  %q = tfx.linear %h, %w : (tensor<2x16x128xf32>, tensor<128x128xf32>) -> tensor<2x16x128xf32>
  %k = tfx.linear %h, %wk : (tensor<2x16x128xf32>, tensor<64x128xf32>) -> tensor<2x16x64xf32>
  %qr = tfx.rope %q {num_heads = 4 : i64, rotary_dim = 32 : i64, theta = 10000.0 : f64} : (tensor<2x16x128xf32>) -> tensor<2x16x128xf32>
  %o = tfx.attention %qr, %k, %k, %mask {num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 0.17 : f32, causal = true} : (tensor<2x16x128xf32>, tensor<2x16x64xf32>, tensor<2x16x64xf32>, tensor<2x16xi64>) -> tensor<2x16x128xf32>
  %g = tfx.gelu %o {approximate = #tfx<gelu_approx tanh>} : tensor<2x16x128xf32>
  %r = tfx.reduce mean %g {axes = array<i64: 2>} : tensor<2x16x128xf32> -> tensor<2x16x1xf32>
  %s = tfx.sub %g, %r : (tensor<2x16x128xf32>, tensor<2x16x1xf32>) -> tensor<2x16x128xf32>
  return %s : tensor<2x16x128xf32>
}
}
