// RUN: tfx-opt %s --tfx-sparse-attention="window=8 global=2" 2>%t.log | FileCheck %s --check-prefix=WINDOW
// RUN: FileCheck %s --check-prefix=WINDOW-LOG < %t.log
// RUN: tfx-opt %s --tfx-sparse-attention="block=16 local=1 stride=2" 2>&1 >/dev/null | FileCheck %s --check-prefix=BLOCK-LOG
// RUN: tfx-opt %s --tfx-sparse-attention="block=16 local=1 stride=2" 2>/dev/null | FileCheck %s --check-prefix=BLOCK
// RUN: tfx-opt %s --tfx-sparse-attention="block=16 pattern=1000/1100/0110/0011" 2>/dev/null | FileCheck %s --check-prefix=GIVEN
// RUN: not tfx-opt %s --tfx-sparse-attention="block=16 pattern=10/01" 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not tfx-opt %s --tfx-sparse-attention="window=8 block=16" 2>&1 | FileCheck %s --check-prefix=BOTH

// Softmax attention gets the window (or keeps a tighter one) and the global
// tokens; linear attention is left alone.
// WINDOW-LABEL: func.func @layers
// WINDOW: tfx.attention %{{.*}} {causal = true, global_tokens = 2 : i64, num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 1.250000e-01 : f32, window = 8 : i64}
// WINDOW: tfx.attention %{{.*}} {global_tokens = 2 : i64, num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 1.250000e-01 : f32, window = 4 : i64}
// WINDOW: tfx.attention %{{.*}} {kind = #tfx<attention_kind linear_elu>, num_heads = 2 : i64
// WINDOW-NOT: global_tokens
// WINDOW-LOG: tfx-sparse-attention: attention 0: window 8, 2 global tokens: visible pairs 50.8% -> 14.5%
// WINDOW-LOG: tfx-sparse-attention: attention 1: window 4, 2 global tokens: visible pairs 10.6% -> 16.5%
// WINDOW-LOG: tfx-sparse-attention: attention 2: left as it is (already linear)
// WINDOW-LOG: tfx-sparse-attention: weights 0.00 MB -> 0.00 MB (1.000x), params 0 -> 0, GFLOP 0.0017 -> 0.0008 (0.504x)
// WINDOW-LOG: tfx-sparse-attention: fidelity not measured (no calibration data)

// local=1 stride=2 on 4 blocks: the diagonal and the odd key blocks.
// BLOCK-LABEL: func.func @layers
// BLOCK: tfx.attention %{{.*}} {block_layout = array<i1: true, true, false, true, false, true, false, true, false, true, true, true, false, true, false, true>, block_size = 16 : i64, causal = true
// BLOCK-LOG: attention 0: blocks of 16, local-strided layout 10/16 blocks: visible pairs 50.8% -> 25.8%
// BLOCK-LOG: attention 1: left as it is (already sparse)
// GIVEN: tfx.attention %{{.*}} {block_layout = array<i1: true, false, false, false, true, true, false, false, false, true, true, false, false, false, true, true>, block_size = 16 : i64, causal = true
// BAD: error: tfx-sparse-attention: pattern '10/01' is not 4 rows of 4 0/1 separated by '/' (kv_len 64, block 16)
// BOTH: error: tfx-sparse-attention: give one of window=W or block=B
func.func @layers(%q: tensor<1x64x64xf32>) -> (tensor<1x64x64xf32>, tensor<1x64x64xf32>, tensor<1x64x64xf32>) {
  %a = tfx.attention %q, %q, %q {num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 0.125 : f32, causal = true} : (tensor<1x64x64xf32>, tensor<1x64x64xf32>, tensor<1x64x64xf32>) -> tensor<1x64x64xf32>
  %b = tfx.attention %q, %q, %q {num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 0.125 : f32, window = 4 : i64} : (tensor<1x64x64xf32>, tensor<1x64x64xf32>, tensor<1x64x64xf32>) -> tensor<1x64x64xf32>
  %c = tfx.attention %q, %q, %q {num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 0.125 : f32, kind = #tfx<attention_kind linear_elu>} : (tensor<1x64x64xf32>, tensor<1x64x64xf32>, tensor<1x64x64xf32>) -> tensor<1x64x64xf32>
  return %a, %b, %c : tensor<1x64x64xf32>, tensor<1x64x64xf32>, tensor<1x64x64xf32>
}
