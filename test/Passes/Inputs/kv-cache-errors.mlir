// Refusals of tfx-kv-cache (run by ../kv-cache.mlir).

func.func @encoder(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  // expected-error @+1 {{tfx-kv-cache needs causal softmax attention (a decoder); this one is not}}
  %a = tfx.attention %x, %x, %x {num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 0.5 : f32} : (tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  return %a : tensor<1x4x8xf32>
}

// -----

// expected-error @+1 {{tfx-kv-cache: found no position ids in 'no_positions'}}
func.func @no_positions(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %a = tfx.attention %x, %x, %x {num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 0.5 : f32, causal = true} : (tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  return %a : tensor<1x4x8xf32>
}

// -----

func.func @mask_elsewhere(%x: tensor<1x4x8xf32>, %mask: tensor<1x4xi64>) -> (tensor<1x4x8xf32>, tensor<1x4xi64>) {
  %r = tfx.rope %x {num_heads = 2 : i64, rotary_dim = 4 : i64, theta = 10000.0 : f64} : (tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  %a = tfx.attention %r, %r, %r, %mask {num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 0.5 : f32, causal = true} : (tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4xi64>) -> tensor<1x4x8xf32>
  // expected-error @+1 {{tfx-kv-cache: the attention mask (argument #1) is also used here; a cached step has no padding mask}}
  %m = tfx.add %mask, %mask : (tensor<1x4xi64>, tensor<1x4xi64>) -> tensor<1x4xi64>
  return %a, %m : tensor<1x4x8xf32>, tensor<1x4xi64>
}

// -----

// A learned table of 8 positions holds less than one block of 16.
module attributes {tfx.weights = "model.safetensors"} {
// expected-error @+1 {{tfx-kv-cache: context 8 is less than one block of 16}}
func.func @table_below_block(%ids: tensor<1x2xi64>) -> tensor<1x2x8xf32> {
  %pos = arith.constant dense<[[0, 1]]> : tensor<1x2xi64>
  %wpe = tfx.weight "wpe" : tensor<8x8xf32>
  %h = tfx.embedding %pos, %wpe : (tensor<1x2xi64>, tensor<8x8xf32>) -> tensor<1x2x8xf32>
  %a = tfx.attention %h, %h, %h {num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 0.5 : f32, causal = true} : (tensor<1x2x8xf32>, tensor<1x2x8xf32>, tensor<1x2x8xf32>) -> tensor<1x2x8xf32>
  return %a : tensor<1x2x8xf32>
}
}
