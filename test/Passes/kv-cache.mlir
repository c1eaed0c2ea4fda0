// RUN: tfx-opt %s -split-input-file --tfx-kv-cache="block-size=4 blocks=6" | FileCheck %s
// RUN: tfx-opt %s -split-input-file --tfx-kv-cache="block-size=4 blocks=6 context=8" | FileCheck %s --check-prefix=CTX
// RUN: tfx-opt %S/Inputs/kv-cache-errors.mlir -split-input-file --tfx-kv-cache -verify-diagnostics

// A GPT-2 shaped step (learned positions as a [1,T] constant, a padding
// mask argument) at batch 2: the positions become cache_lengths + t per
// sequence, so the position embedding grows to the batch; the mask goes;
// the context defaults to the position table (12 rows -> 3 blocks of 4).
// CHECK-LABEL: func.func @gpt2_like
// CHECK-SAME: (%[[IDS:.*]]: tensor<2x3xi64> {tfx.name = "input_ids"}, %[[LEN:.*]]: tensor<2xi64> {tfx.name = "cache_lengths"}, %[[TABLE:.*]]: tensor<2x3xi32> {tfx.name = "block_table"}, %[[KC:.*]]: tensor<6x2x8x4xf32> {tfx.name = "k_cache"}, %[[VC:.*]]: tensor<6x2x4x8xf32> {tfx.name = "v_cache"})
// CHECK-SAME: -> (tensor<2x3x16xf32> {tfx.name = "logits"}, tensor<2x2x3x8xf32> {tfx.name = "new_k"}, tensor<2x2x3x8xf32> {tfx.name = "new_v"})
// CHECK: %[[COL:.*]] = tfx.reshape %[[LEN]] : tensor<2xi64> -> tensor<2x1xi64>
// CHECK: %[[RANGE:.*]] = arith.constant dense<{{\[\[}}0, 1, 2]]> : tensor<1x3xi64>
// CHECK: %[[POS:.*]] = tfx.add %[[COL]], %[[RANGE]] : (tensor<2x1xi64>, tensor<1x3xi64>) -> tensor<2x3xi64>
// CHECK: %[[PE:.*]] = tfx.embedding %[[POS]], %{{.*}} : (tensor<2x3xi64>, tensor<12x8xf32>) -> tensor<2x3x8xf32>
// CHECK: tfx.add %{{.*}}, %[[PE]] : (tensor<2x3x8xf32>, tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
// CHECK: %[[A0:.*]] = tfx.paged_attention %{{.*}}, %[[K0:.*]], %[[V0:.*]], %[[KC]], %[[VC]], %[[TABLE]], %[[LEN]] {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 2.500000e-01 : f32}
// CHECK: %[[NK0:.*]] = tfx.reshape %[[K0]] : tensor<2x3x8xf32> -> tensor<1x2x3x8xf32>
// CHECK: %[[NV0:.*]] = tfx.reshape %[[V0]] : tensor<2x3x8xf32> -> tensor<1x2x3x8xf32>
// CHECK: tfx.paged_attention {{.*}} {layer = 1 : i64,
// CHECK-NOT: tfx.attention
// CHECK: %[[NK:.*]] = tfx.concat %[[NK0]], %{{.*}} {axis = 0 : i64}
// CHECK: %[[NV:.*]] = tfx.concat %[[NV0]], %{{.*}} {axis = 0 : i64}
// CHECK: return %{{.*}}, %[[NK]], %[[NV]]
// CTX-LABEL: func.func @gpt2_like
// CTX-SAME: tensor<2x2xi32> {tfx.name = "block_table"}
module attributes {tfx.weights = "model.safetensors"} {
func.func @gpt2_like(%ids: tensor<2x3xi64> {tfx.name = "input_ids"}, %mask: tensor<2x3xi64> {tfx.name = "attention_mask"}) -> (tensor<2x3x16xf32> {tfx.name = "logits"}) {
  %pos = arith.constant dense<[[0, 1, 2]]> : tensor<1x3xi64>
  %wte = tfx.weight "wte" : tensor<16x8xf32>
  %wpe = tfx.weight "wpe" : tensor<12x8xf32>
  %tok = tfx.embedding %ids, %wte : (tensor<2x3xi64>, tensor<16x8xf32>) -> tensor<2x3x8xf32>
  %pe = tfx.embedding %pos, %wpe : (tensor<1x3xi64>, tensor<12x8xf32>) -> tensor<1x3x8xf32>
  %h = tfx.add %tok, %pe : (tensor<2x3x8xf32>, tensor<1x3x8xf32>) -> tensor<2x3x8xf32>
  %wq = tfx.weight "wq" : tensor<8x8xf32>
  %q = tfx.linear %h, %wq : (tensor<2x3x8xf32>, tensor<8x8xf32>) -> tensor<2x3x8xf32>
  %wk = tfx.weight "wk" : tensor<8x8xf32>
  %k = tfx.linear %h, %wk : (tensor<2x3x8xf32>, tensor<8x8xf32>) -> tensor<2x3x8xf32>
  %a = tfx.attention %q, %k, %h, %mask {num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 0.25 : f32, causal = true} : (tensor<2x3x8xf32>, tensor<2x3x8xf32>, tensor<2x3x8xf32>, tensor<2x3xi64>) -> tensor<2x3x8xf32>
  %b = tfx.attention %a, %a, %a, %mask {num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 0.25 : f32, causal = true} : (tensor<2x3x8xf32>, tensor<2x3x8xf32>, tensor<2x3x8xf32>, tensor<2x3xi64>) -> tensor<2x3x8xf32>
  %logits = tfx.linear %b, %wte : (tensor<2x3x8xf32>, tensor<16x8xf32>) -> tensor<2x3x16xf32>
  return %logits : tensor<2x3x16xf32>
}
}

// -----

// Llama shaped (GQA, RoPE without explicit positions, a window): rope reads
// the new positions; without a position table the context is 1024 tokens.
// CHECK-LABEL: func.func @llama_like
// CHECK-SAME: tensor<1x256xi32> {tfx.name = "block_table"}
// CHECK-SAME: tensor<6x1x4x4xf32> {tfx.name = "k_cache"}
// CHECK: %[[POS:.*]] = tfx.add
// CHECK: tfx.rope %{{.*}}, %[[POS]] {num_heads = 2 : i64
// CHECK: tfx.rope %{{.*}}, %[[POS]] {num_heads = 1 : i64
// CHECK: tfx.paged_attention {{.*}} {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, scale = 5.000000e-01 : f32, window = 3 : i64}
// CHECK: return %{{.*}} : tensor<1x1x8xf32>, tensor<1x1x1x4xf32>, tensor<1x1x1x4xf32>
// CTX-LABEL: func.func @llama_like
// CTX-SAME: tensor<1x2xi32> {tfx.name = "block_table"}
func.func @llama_like(%x: tensor<1x1x8xf32> {tfx.name = "hidden"}) -> tensor<1x1x8xf32> {
  %q = tfx.rope %x {num_heads = 2 : i64, rotary_dim = 4 : i64, theta = 10000.0 : f64} : (tensor<1x1x8xf32>) -> tensor<1x1x8xf32>
  %k0 = tfx.slice %x {offsets = array<i64: 0, 0, 0>, sizes = array<i64: 1, 1, 4>, strides = array<i64: 1, 1, 1>} : tensor<1x1x8xf32> -> tensor<1x1x4xf32>
  %k = tfx.rope %k0 {num_heads = 1 : i64, rotary_dim = 4 : i64, theta = 10000.0 : f64} : (tensor<1x1x4xf32>) -> tensor<1x1x4xf32>
  %a = tfx.attention %q, %k, %k0 {num_heads = 2 : i64, num_kv_heads = 1 : i64, scale = 0.5 : f32, causal = true, window = 3 : i64} : (tensor<1x1x8xf32>, tensor<1x1x4xf32>, tensor<1x1x4xf32>) -> tensor<1x1x8xf32>
  return %a : tensor<1x1x8xf32>
}
