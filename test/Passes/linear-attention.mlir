// RUN: tfx-opt %s --tfx-linear-attention 2>%t.log | FileCheck %s --check-prefix=ELU
// RUN: FileCheck %s --check-prefix=ELU-LOG < %t.log
// RUN: tfx-opt %s --tfx-linear-attention="feature-map=random random-features=32 seed=5" 2>/dev/null | FileCheck %s --check-prefix=RANDOM
// RUN: tfx-opt %s --tfx-linear-attention="feature-map=relu" 2>/dev/null | FileCheck %s --check-prefix=RELU
// RUN: not tfx-opt %s --tfx-linear-attention="feature-map=tanh" 2>&1 | FileCheck %s --check-prefix=BAD

// The kind says that the function changed; sparse attention stays softmax.
// ELU-LABEL: func.func @layers
// ELU: tfx.attention %{{.*}} {causal = true, kind = #tfx<attention_kind linear_elu>, num_heads = 2 : i64, num_kv_heads = 1 : i64, scale = 1.250000e-01 : f32}
// ELU: tfx.attention %{{.*}} {kind = #tfx<attention_kind linear_elu>, num_heads = 2 : i64, num_kv_heads = 2 : i64
// ELU: tfx.attention %{{.*}} {num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 1.250000e-01 : f32, window = 4 : i64}
// ELU-LOG: tfx-linear-attention: attention 0: softmax -> linear_elu, causal (running sums)
// ELU-LOG: tfx-linear-attention: attention 1: softmax -> linear_elu, global sums
// ELU-LOG: tfx-linear-attention: attention 2: left as it is (already sparse)
// ELU-LOG: tfx-linear-attention: 2 of 3 attentions now compute a different function (linear attention)
// RANDOM: tfx.attention %{{.*}} {causal = true, feature_seed = 5 : i64, features = 32 : i64, kind = #tfx<attention_kind linear_random>
// RELU: tfx.attention %{{.*}} {causal = true, kind = #tfx<attention_kind linear_relu>
// BAD: error: tfx-linear-attention: feature-map must be elu, relu or random, got 'tanh'
func.func @layers(%q: tensor<1x64x64xf32>, %kv: tensor<1x64x32xf32>) -> (tensor<1x64x64xf32>, tensor<1x64x64xf32>, tensor<1x64x64xf32>) {
  %a = tfx.attention %q, %kv, %kv {num_heads = 2 : i64, num_kv_heads = 1 : i64, scale = 0.125 : f32, causal = true} : (tensor<1x64x64xf32>, tensor<1x64x32xf32>, tensor<1x64x32xf32>) -> tensor<1x64x64xf32>
  %b = tfx.attention %q, %q, %q {num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 0.125 : f32} : (tensor<1x64x64xf32>, tensor<1x64x64xf32>, tensor<1x64x64xf32>) -> tensor<1x64x64xf32>
  %c = tfx.attention %q, %q, %q {num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 0.125 : f32, window = 4 : i64} : (tensor<1x64x64xf32>, tensor<1x64x64xf32>, tensor<1x64x64xf32>) -> tensor<1x64x64xf32>
  return %a, %b, %c : tensor<1x64x64xf32>, tensor<1x64x64xf32>, tensor<1x64x64xf32>
}
