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

// CHECK-LABEL: func.func @decode_step
// CHECK: tfx.paged_attention %{{.*}} {layer = 1 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 1.250000e-01 : f32, window = 8 : i64}
func.func @decode_step(%q: tensor<2x1x128xf32>, %k: tensor<2x1x64xf32>, %v: tensor<2x1x64xf32>,
                       %kc: tensor<8x2x64x16xf32>, %vc: tensor<8x2x16x64xf32>,
                       %table: tensor<2x4xi32>, %lengths: tensor<2xi64>) -> tensor<2x1x128xf32> {
  %o = tfx.paged_attention %q, %k, %v, %kc, %vc, %table, %lengths {num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 0.125 : f32, layer = 1 : i64, window = 8 : i64} : (tensor<2x1x128xf32>, tensor<2x1x64xf32>, tensor<2x1x64xf32>, tensor<8x2x64x16xf32>, tensor<8x2x16x64xf32>, tensor<2x4xi32>, tensor<2xi64>) -> tensor<2x1x128xf32>
  return %o : tensor<2x1x128xf32>
}

// CHECK-LABEL: func.func @weight_only_int4
// CHECK: %[[W:.*]] = tfx.dequantize %{{.*}}, %{{.*}} {group_size = 32 : i64} : (tensor<64x128xi4>, tensor<64x4xf32>) -> tensor<64x128xf32>
// CHECK: tfx.linear %{{.*}}, %[[W]]
func.func @weight_only_int4(%x: tensor<2x128xf32>, %q: tensor<64x128xi4>, %s: tensor<64x4xf32>) -> tensor<2x64xf32> {
  %w = tfx.dequantize %q, %s {group_size = 32 : i64} : (tensor<64x128xi4>, tensor<64x4xf32>) -> tensor<64x128xf32>
  %y = tfx.linear %x, %w : (tensor<2x128xf32>, tensor<64x128xf32>) -> tensor<2x64xf32>
  return %y : tensor<2x64xf32>
}

// Sparse layouts and linear kinds print back as written.
// CHECK-LABEL: func.func @attention_rewrites
// CHECK: tfx.attention %{{.*}} {causal = true, global_tokens = 2 : i64, num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 1.250000e-01 : f32, window = 8 : i64}
// CHECK: tfx.attention %{{.*}} {block_layout = array<i1: true, false, true, true>, block_size = 16 : i64, global_tokens = 1 : i64, num_heads = 2 : i64
// CHECK: tfx.attention %{{.*}} {causal = true, kind = #tfx<attention_kind linear_elu>, num_heads = 2 : i64
// CHECK: tfx.attention %{{.*}} {feature_seed = 7 : i64, features = 32 : i64, kind = #tfx<attention_kind linear_random>, num_heads = 2 : i64
func.func @attention_rewrites(%q: tensor<1x32x64xf32>) -> (tensor<1x32x64xf32>, tensor<1x32x64xf32>, tensor<1x32x64xf32>, tensor<1x32x64xf32>) {
  %w = tfx.attention %q, %q, %q {num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 0.125 : f32, causal = true, window = 8 : i64, global_tokens = 2 : i64} : (tensor<1x32x64xf32>, tensor<1x32x64xf32>, tensor<1x32x64xf32>) -> tensor<1x32x64xf32>
  %b = tfx.attention %q, %q, %q {num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 0.125 : f32, block_size = 16 : i64, block_layout = array<i1: true, false, true, true>, global_tokens = 1 : i64} : (tensor<1x32x64xf32>, tensor<1x32x64xf32>, tensor<1x32x64xf32>) -> tensor<1x32x64xf32>
  %e = tfx.attention %q, %q, %q {num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 0.125 : f32, causal = true, kind = #tfx<attention_kind linear_elu>} : (tensor<1x32x64xf32>, tensor<1x32x64xf32>, tensor<1x32x64xf32>) -> tensor<1x32x64xf32>
  %r = tfx.attention %q, %q, %q {num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 0.125 : f32, kind = #tfx<attention_kind linear_random>, features = 32 : i64, feature_seed = 7 : i64} : (tensor<1x32x64xf32>, tensor<1x32x64xf32>, tensor<1x32x64xf32>) -> tensor<1x32x64xf32>
  return %w, %b, %e, %r : tensor<1x32x64xf32>, tensor<1x32x64xf32>, tensor<1x32x64xf32>, tensor<1x32x64xf32>
}

// CHECK-LABEL: func.func @sparse_weights
// CHECK: %[[C:.*]] = tfx.sparse_csr %{{.*}}, %{{.*}}, %{{.*}} : (tensor<40xf32>, tensor<40xi16>, tensor<9xi32>) -> tensor<8x16xf32>
// CHECK: %[[S:.*]] = tfx.sparse_2to4 %{{.*}}, %{{.*}} : (tensor<8x8xf32>, tensor<8x2xi8>) -> tensor<8x16xf32>
// CHECK: tfx.linear %{{.*}}, %[[C]]
// CHECK: tfx.linear %{{.*}}, %[[S]]
func.func @sparse_weights(%x: tensor<2x16xf32>, %values: tensor<40xf32>, %columns: tensor<40xi16>,
                          %offsets: tensor<9xi32>, %half: tensor<8x8xf32>, %meta: tensor<8x2xi8>)
    -> (tensor<2x8xf32>, tensor<2x8xf32>) {
  %c = tfx.sparse_csr %values, %columns, %offsets : (tensor<40xf32>, tensor<40xi16>, tensor<9xi32>) -> tensor<8x16xf32>
  %s = tfx.sparse_2to4 %half, %meta : (tensor<8x8xf32>, tensor<8x2xi8>) -> tensor<8x16xf32>
  %y0 = tfx.linear %x, %c : (tensor<2x16xf32>, tensor<8x16xf32>) -> tensor<2x8xf32>
  %y1 = tfx.linear %x, %s : (tensor<2x16xf32>, tensor<8x16xf32>) -> tensor<2x8xf32>
  return %y0, %y1 : tensor<2x8xf32>, tensor<2x8xf32>
}

// CHECK-LABEL: func.func @w8a8
// CHECK: %[[XQ:.*]] = tfx.quantize_activations %{{.*}} : tensor<2x128xf32>
// CHECK: tfx.linear %[[XQ]], %{{.*}}
func.func @w8a8(%x: tensor<2x128xf32>, %q: tensor<64x128xi8>, %s: tensor<64x1xf32>) -> tensor<2x64xf32> {
  %xq = tfx.quantize_activations %x {bits = 8 : i64} : tensor<2x128xf32>
  %w = tfx.dequantize %q, %s {group_size = 128 : i64} : (tensor<64x128xi8>, tensor<64x1xf32>) -> tensor<64x128xf32>
  %y = tfx.linear %xq, %w : (tensor<2x128xf32>, tensor<64x128xf32>) -> tensor<2x64xf32>
  return %y : tensor<2x64xf32>
}

// Static activation quantization: symmetric int8 and asymmetric uint8.
// CHECK-LABEL: func.func @w8a8_static
// CHECK: tfx.quantize_activations %{{.*}} {quant_type = !quant.uniform<i8<-127:127>:f32, 2.500000e-02>} : tensor<2x128xf32>
// CHECK: tfx.quantize_activations %{{.*}} {quant_type = !quant.uniform<u8:f32, 1.250000e-02:113>} : tensor<2x128xf32>
func.func @w8a8_static(%x: tensor<2x128xf32>) -> (tensor<2x128xf32>, tensor<2x128xf32>) {
  %a = tfx.quantize_activations %x {quant_type = !quant.uniform<i8<-127:127>:f32, 0.025>} : tensor<2x128xf32>
  %b = tfx.quantize_activations %x {quant_type = !quant.uniform<u8:f32, 0.0125:113>} : tensor<2x128xf32>
  return %a, %b : tensor<2x128xf32>, tensor<2x128xf32>
}
