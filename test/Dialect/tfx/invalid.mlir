// RUN: tfx-opt %s -split-input-file -verify-diagnostics

func.func @linear_in_features(%x: tensor<2x16x128xf32>, %w: tensor<64x96xf32>) -> tensor<2x16x64xf32> {
  // expected-error @+2 {{'tfx.linear' weight [out, in] = [64,96] does not match input features 128 (input shape [2,16,128])}}
  // expected-error @+1 {{failed to infer returned types}}
  %y = tfx.linear %x, %w : (tensor<2x16x128xf32>, tensor<64x96xf32>) -> tensor<2x16x64xf32>
  return %y : tensor<2x16x64xf32>
}

// -----

func.func @linear_bias(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>, %b: tensor<8xf32>) -> tensor<4x16xf32> {
  // expected-error @+2 {{'tfx.linear' bias must be [16], got [8]}}
  // expected-error @+1 {{failed to infer returned types}}
  %y = tfx.linear %x, %w, %b : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<8xf32>) -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

func.func @linear_wrong_result(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+2 {{'tfx.linear' op inferred type(s) 'tensor<4x16xf32>' are incompatible with return type(s) of operation 'tensor<4x8xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %y = tfx.linear %x, %w : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

func.func @attention_gqa_ratio(%q: tensor<1x4x96xf32>, %k: tensor<1x4x64xf32>) -> tensor<1x4x96xf32> {
  // expected-error @+2 {{'tfx.attention' num_heads (3) must be a multiple of num_kv_heads (2)}}
  // expected-error @+1 {{failed to infer returned types}}
  %o = tfx.attention %q, %k, %k {num_heads = 3 : i64, num_kv_heads = 2 : i64, scale = 1.0 : f32} : (tensor<1x4x96xf32>, tensor<1x4x64xf32>, tensor<1x4x64xf32>) -> tensor<1x4x96xf32>
  return %o : tensor<1x4x96xf32>
}

// -----

func.func @attention_kv_width(%q: tensor<1x4x128xf32>, %k: tensor<1x4x48xf32>) -> tensor<1x4x128xf32> {
  // expected-error @+2 {{'tfx.attention' k and v width must be num_kv_heads * head_dim = 64, got k [1,4,48] v [1,4,48]}}
  // expected-error @+1 {{failed to infer returned types}}
  %o = tfx.attention %q, %k, %k {num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 1.0 : f32} : (tensor<1x4x128xf32>, tensor<1x4x48xf32>, tensor<1x4x48xf32>) -> tensor<1x4x128xf32>
  return %o : tensor<1x4x128xf32>
}

// -----

func.func @attention_mask_shape(%q: tensor<2x4x64xf32>, %m: tensor<2x5xi64>) -> tensor<2x4x64xf32> {
  // expected-error @+2 {{'tfx.attention' mask must be [batch, kv_len] = [2,4]}}
  // expected-error @+1 {{failed to infer returned types}}
  %o = tfx.attention %q, %q, %q, %m {num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 1.0 : f32} : (tensor<2x4x64xf32>, tensor<2x4x64xf32>, tensor<2x4x64xf32>, tensor<2x5xi64>) -> tensor<2x4x64xf32>
  return %o : tensor<2x4x64xf32>
}

// -----

func.func @attention_heads_positive(%q: tensor<2x4x64xf32>) -> tensor<2x4x64xf32> {
  // expected-error @+1 {{attribute 'num_heads' failed to satisfy constraint}}
  %o = tfx.attention %q, %q, %q {num_heads = 0 : i64, num_kv_heads = 2 : i64, scale = 1.0 : f32} : (tensor<2x4x64xf32>, tensor<2x4x64xf32>, tensor<2x4x64xf32>) -> tensor<2x4x64xf32>
  return %o : tensor<2x4x64xf32>
}

// -----

func.func @layer_norm_gamma(%x: tensor<2x8xf32>, %g: tensor<4xf32>) -> tensor<2x8xf32> {
  // expected-error @+2 {{'tfx.layer_norm' gamma must be [8]}}
  // expected-error @+1 {{failed to infer returned types}}
  %y = tfx.layer_norm %x, %g {epsilon = 1.0e-5 : f32} : (tensor<2x8xf32>, tensor<4xf32>) -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

func.func @rope_rotary_dim(%x: tensor<1x4x64xf32>) -> tensor<1x4x64xf32> {
  // expected-error @+2 {{'tfx.rope' rotary_dim 48 must be even and <= head_dim 32}}
  // expected-error @+1 {{failed to infer returned types}}
  %y = tfx.rope %x {num_heads = 2 : i64, rotary_dim = 48 : i64, theta = 10000.0 : f64} : (tensor<1x4x64xf32>) -> tensor<1x4x64xf32>
  return %y : tensor<1x4x64xf32>
}

// -----

func.func @add_broadcast(%a: tensor<2x3xf32>, %b: tensor<4xf32>) -> tensor<2x3xf32> {
  // expected-error @+2 {{'tfx.add' operand shapes [2,3] and [4] do not broadcast}}
  // expected-error @+1 {{failed to infer returned types}}
  %y = tfx.add %a, %b : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

func.func @add_element_types(%a: tensor<2xf32>, %b: tensor<2xi64>) -> tensor<2xf32> {
  // expected-error @+2 {{'tfx.add' operands have different element types ('f32' vs 'i64')}}
  // expected-error @+1 {{failed to infer returned types}}
  %y = tfx.add %a, %b : (tensor<2xf32>, tensor<2xi64>) -> tensor<2xf32>
  return %y : tensor<2xf32>
}

// -----

func.func @matmul_contraction(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) -> tensor<2x5xf32> {
  // expected-error @+2 {{'tfx.matmul' contraction sizes differ: lhs [2,3] rhs [4,5]}}
  // expected-error @+1 {{failed to infer returned types}}
  %y = tfx.matmul %a, %b : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
  return %y : tensor<2x5xf32>
}

// -----

func.func @reshape_count(%a: tensor<2x3xf32>) -> tensor<7xf32> {
  // expected-error @+1 {{element count changes from 6 to 7}}
  %y = tfx.reshape %a : tensor<2x3xf32> -> tensor<7xf32>
  return %y : tensor<7xf32>
}

// -----

func.func @transpose_perm(%a: tensor<2x3xf32>) -> tensor<3x2xf32> {
  // expected-error @+2 {{'tfx.transpose' perm is not a permutation of 0..1}}
  // expected-error @+1 {{failed to infer returned types}}
  %y = tfx.transpose %a, [1, 1] : tensor<2x3xf32> -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

func.func @slice_bounds(%a: tensor<4x8xf32>) -> tensor<2x4xf32> {
  // expected-error @+2 {{'tfx.slice' dimension 1: offset 6 size 4 stride 1 is out of bounds of 8}}
  // expected-error @+1 {{failed to infer returned types}}
  %y = tfx.slice %a {offsets = array<i64: 0, 6>, sizes = array<i64: 2, 4>, strides = array<i64: 1, 1>} : tensor<4x8xf32> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

func.func @concat_dims(%a: tensor<2x3xf32>, %b: tensor<3x3xf32>) -> tensor<5x3xf32> {
  // expected-error @+2 {{'tfx.concat' inputs differ in dimension 0: [2,3] vs [3,3]}}
  // expected-error @+1 {{failed to infer returned types}}
  %y = tfx.concat %a, %b {axis = 1 : i64} : (tensor<2x3xf32>, tensor<3x3xf32>) -> tensor<5x3xf32>
  return %y : tensor<5x3xf32>
}

// -----

func.func @embedding_table(%ids: tensor<2x4xi64>, %t: tensor<10xf32>) -> tensor<2x4x10xf32> {
  // expected-error @+2 {{'tfx.embedding' table must be 2-D [rows, dim], got [10]}}
  // expected-error @+1 {{failed to infer returned types}}
  %y = tfx.embedding %ids, %t : (tensor<2x4xi64>, tensor<10xf32>) -> tensor<2x4x10xf32>
  return %y : tensor<2x4x10xf32>
}

// -----

func.func @weight_transposed_rank() -> tensor<2x3x4xf32> {
  // expected-error @+1 {{'transposed' applies to 2-D weights only, got rank 3}}
  %w = tfx.weight "w" transposed : tensor<2x3x4xf32>
  return %w : tensor<2x3x4xf32>
}

// -----

func.func @softmax_axis(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{axis 2 out of range for rank 2}}
  %y = tfx.softmax %a {axis = 2 : i64} : tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

func.func @expand_shape(%a: tensor<3x2xf32>) -> tensor<4x3xf32> {
  // expected-error @+1 {{cannot broadcast}}
  %y = tfx.expand %a : tensor<3x2xf32> -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

func.func @paged_attention_layer(%q: tensor<1x1x64xf32>, %k: tensor<1x1x64xf32>, %kc: tensor<4x2x64x16xf32>, %vc: tensor<4x2x16x64xf32>, %t: tensor<1x2xi32>, %l: tensor<1xi64>) -> tensor<1x1x64xf32> {
  // expected-error @+2 {{'tfx.paged_attention' layer 2 is outside the cache's 2 layers}}
  // expected-error @+1 {{failed to infer returned types}}
  %o = tfx.paged_attention %q, %k, %k, %kc, %vc, %t, %l {num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 1.0 : f32, layer = 2 : i64} : (tensor<1x1x64xf32>, tensor<1x1x64xf32>, tensor<1x1x64xf32>, tensor<4x2x64x16xf32>, tensor<4x2x16x64xf32>, tensor<1x2xi32>, tensor<1xi64>) -> tensor<1x1x64xf32>
  return %o : tensor<1x1x64xf32>
}

// -----

func.func @paged_attention_v_cache(%q: tensor<1x1x64xf32>, %k: tensor<1x1x64xf32>, %kc: tensor<4x2x64x16xf32>, %vc: tensor<4x2x64x16xf32>, %t: tensor<1x2xi32>, %l: tensor<1xi64>) -> tensor<1x1x64xf32> {
  // expected-error @+2 {{'tfx.paged_attention' v_cache must be [4,2,16,64] to match k_cache, got [4,2,64,16]}}
  // expected-error @+1 {{failed to infer returned types}}
  %o = tfx.paged_attention %q, %k, %k, %kc, %vc, %t, %l {num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 1.0 : f32, layer = 0 : i64} : (tensor<1x1x64xf32>, tensor<1x1x64xf32>, tensor<1x1x64xf32>, tensor<4x2x64x16xf32>, tensor<4x2x64x16xf32>, tensor<1x2xi32>, tensor<1xi64>) -> tensor<1x1x64xf32>
  return %o : tensor<1x1x64xf32>
}

// -----

func.func @paged_attention_table(%q: tensor<2x1x64xf32>, %k: tensor<2x1x64xf32>, %kc: tensor<4x2x64x16xf32>, %vc: tensor<4x2x16x64xf32>, %t: tensor<1x2xi32>, %l: tensor<2xi64>) -> tensor<2x1x64xf32> {
  // expected-error @+2 {{'tfx.paged_attention' block_table must be [2, max_blocks], got [1,2]}}
  // expected-error @+1 {{failed to infer returned types}}
  %o = tfx.paged_attention %q, %k, %k, %kc, %vc, %t, %l {num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 1.0 : f32, layer = 0 : i64} : (tensor<2x1x64xf32>, tensor<2x1x64xf32>, tensor<2x1x64xf32>, tensor<4x2x64x16xf32>, tensor<4x2x16x64xf32>, tensor<1x2xi32>, tensor<2xi64>) -> tensor<2x1x64xf32>
  return %o : tensor<2x1x64xf32>
}

// -----

func.func @dequantize_groups(%q: tensor<64x128xi4>, %s: tensor<64x2xf32>) -> tensor<64x128xf32> {
  // expected-error @+2 {{'tfx.dequantize' scales must be [64, 4] for weight [64,128] and group_size 32, got [64,2]}}
  // expected-error @+1 {{failed to infer returned types}}
  %w = tfx.dequantize %q, %s {group_size = 32 : i64} : (tensor<64x128xi4>, tensor<64x2xf32>) -> tensor<64x128xf32>
  return %w : tensor<64x128xf32>
}

// -----

func.func @dequantize_group_divides(%q: tensor<64x100xi8>, %s: tensor<64x3xf32>) -> tensor<64x100xf32> {
  // expected-error @+2 {{'tfx.dequantize' group_size 32 does not divide the input channels 100}}
  // expected-error @+1 {{failed to infer returned types}}
  %w = tfx.dequantize %q, %s {group_size = 32 : i64} : (tensor<64x100xi8>, tensor<64x3xf32>) -> tensor<64x100xf32>
  return %w : tensor<64x100xf32>
}

// -----

func.func @dequantize_storage(%q: tensor<64x128xi16>, %s: tensor<64x1xf32>) -> tensor<64x128xf32> {
  // expected-error @+1 {{operand #0 must be ranked tensor of 8-bit signless integer or 4-bit signless integer values}}
  %w = tfx.dequantize %q, %s {group_size = 128 : i64} : (tensor<64x128xi16>, tensor<64x1xf32>) -> tensor<64x128xf32>
  return %w : tensor<64x128xf32>
}

// -----

func.func @attention_layout_size(%q: tensor<1x32x64xf32>) -> tensor<1x32x64xf32> {
  // expected-error @+2 {{'tfx.attention' block_layout must hold 2x2 = 4 entries (kv_len 32, block_size 16), got 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %o = tfx.attention %q, %q, %q {num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 1.0 : f32, block_size = 16 : i64, block_layout = array<i1: true, true>} : (tensor<1x32x64xf32>, tensor<1x32x64xf32>, tensor<1x32x64xf32>) -> tensor<1x32x64xf32>
  return %o : tensor<1x32x64xf32>
}

// -----

func.func @attention_layout_alone(%q: tensor<1x32x64xf32>) -> tensor<1x32x64xf32> {
  // expected-error @+2 {{'tfx.attention' block_size and block_layout go together}}
  // expected-error @+1 {{failed to infer returned types}}
  %o = tfx.attention %q, %q, %q {num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 1.0 : f32, block_layout = array<i1: true>} : (tensor<1x32x64xf32>, tensor<1x32x64xf32>, tensor<1x32x64xf32>) -> tensor<1x32x64xf32>
  return %o : tensor<1x32x64xf32>
}

// -----

func.func @attention_window_and_blocks(%q: tensor<1x32x64xf32>) -> tensor<1x32x64xf32> {
  // expected-error @+2 {{'tfx.attention' window and block_size are exclusive}}
  // expected-error @+1 {{failed to infer returned types}}
  %o = tfx.attention %q, %q, %q {num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 1.0 : f32, window = 4 : i64, block_size = 32 : i64, block_layout = array<i1: true>} : (tensor<1x32x64xf32>, tensor<1x32x64xf32>, tensor<1x32x64xf32>) -> tensor<1x32x64xf32>
  return %o : tensor<1x32x64xf32>
}

// -----

func.func @attention_global_alone(%q: tensor<1x32x64xf32>) -> tensor<1x32x64xf32> {
  // expected-error @+2 {{'tfx.attention' global_tokens needs a window or a block layout}}
  // expected-error @+1 {{failed to infer returned types}}
  %o = tfx.attention %q, %q, %q {num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 1.0 : f32, global_tokens = 2 : i64} : (tensor<1x32x64xf32>, tensor<1x32x64xf32>, tensor<1x32x64xf32>) -> tensor<1x32x64xf32>
  return %o : tensor<1x32x64xf32>
}

// -----

func.func @attention_linear_window(%q: tensor<1x32x64xf32>) -> tensor<1x32x64xf32> {
  // expected-error @+2 {{'tfx.attention' linear attention takes no window, global_tokens or block layout}}
  // expected-error @+1 {{failed to infer returned types}}
  %o = tfx.attention %q, %q, %q {num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 1.0 : f32, window = 4 : i64, kind = #tfx<attention_kind linear_relu>} : (tensor<1x32x64xf32>, tensor<1x32x64xf32>, tensor<1x32x64xf32>) -> tensor<1x32x64xf32>
  return %o : tensor<1x32x64xf32>
}

// -----

func.func @attention_random_features(%q: tensor<1x32x64xf32>) -> tensor<1x32x64xf32> {
  // expected-error @+2 {{'tfx.attention' features (> 0) goes with kind linear_random, and only with it}}
  // expected-error @+1 {{failed to infer returned types}}
  %o = tfx.attention %q, %q, %q {num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 1.0 : f32, kind = #tfx<attention_kind linear_random>} : (tensor<1x32x64xf32>, tensor<1x32x64xf32>, tensor<1x32x64xf32>) -> tensor<1x32x64xf32>
  return %o : tensor<1x32x64xf32>
}

// -----

func.func @attention_negative_global(%q: tensor<1x32x64xf32>) -> tensor<1x32x64xf32> {
  // expected-error @+2 {{'tfx.attention' global_tokens, block_size and features must be >= 0}}
  // expected-error @+1 {{failed to infer returned types}}
  %o = tfx.attention %q, %q, %q {num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 1.0 : f32, window = 4 : i64, global_tokens = -1 : i64} : (tensor<1x32x64xf32>, tensor<1x32x64xf32>, tensor<1x32x64xf32>) -> tensor<1x32x64xf32>
  return %o : tensor<1x32x64xf32>
}

// -----

func.func @attention_layout_long_queries(%q: tensor<1x48x64xf32>, %k: tensor<1x32x64xf32>) -> tensor<1x48x64xf32> {
  // expected-error @+2 {{'tfx.attention' a block layout needs q_len <= kv_len}}
  // expected-error @+1 {{failed to infer returned types}}
  %o = tfx.attention %q, %k, %k {num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 1.0 : f32, block_size = 32 : i64, block_layout = array<i1: true>} : (tensor<1x48x64xf32>, tensor<1x32x64xf32>, tensor<1x32x64xf32>) -> tensor<1x48x64xf32>
  return %o : tensor<1x48x64xf32>
}

// -----

func.func @csr_offsets(%v: tensor<40xf32>, %c: tensor<40xi16>, %o: tensor<8xi32>) -> tensor<8x16xf32> {
  // expected-error @+1 {{row_offsets must have out + 1 = 9 elements, got 8}}
  %w = tfx.sparse_csr %v, %c, %o : (tensor<40xf32>, tensor<40xi16>, tensor<8xi32>) -> tensor<8x16xf32>
  return %w : tensor<8x16xf32>
}

// -----

func.func @csr_lengths(%v: tensor<40xf32>, %c: tensor<39xi32>, %o: tensor<9xi32>) -> tensor<8x16xf32> {
  // expected-error @+1 {{values and columns differ in length (40 vs 39)}}
  %w = tfx.sparse_csr %v, %c, %o : (tensor<40xf32>, tensor<39xi32>, tensor<9xi32>) -> tensor<8x16xf32>
  return %w : tensor<8x16xf32>
}

// -----

func.func @csr_narrow_columns(%v: tensor<40xf32>, %c: tensor<40xi16>, %o: tensor<9xi32>) -> tensor<8x40000xf32> {
  // expected-error @+1 {{i16 columns address at most 32768 input channels, got 40000}}
  %w = tfx.sparse_csr %v, %c, %o : (tensor<40xf32>, tensor<40xi16>, tensor<9xi32>) -> tensor<8x40000xf32>
  return %w : tensor<8x40000xf32>
}

// -----

func.func @sparse24_meta(%v: tensor<8x8xf32>, %m: tensor<8x4xi8>) -> tensor<8x16xf32> {
  // expected-error @+2 {{'tfx.sparse_2to4' values [8,8] need meta [8,2] and in/2 a multiple of 4, got meta [8,4]}}
  // expected-error @+1 {{failed to infer returned types}}
  %w = tfx.sparse_2to4 %v, %m : (tensor<8x8xf32>, tensor<8x4xi8>) -> tensor<8x16xf32>
  return %w : tensor<8x16xf32>
}

// -----

func.func @quantize_activations_bits(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{attribute 'bits' failed to satisfy constraint}}
  %y = tfx.quantize_activations %x {bits = 16 : i64} : tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

func.func @quantize_activations_not_quant(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{quant_type must be a !quant.uniform per-tensor type, got 'f32'}}
  %y = tfx.quantize_activations %x {quant_type = f32} : tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

func.func @quantize_activations_per_axis(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{quant_type must be a !quant.uniform per-tensor type}}
  %y = tfx.quantize_activations %x {quant_type = !quant.uniform<i8:f32:1, {0.1, 0.2}>} : tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

func.func @quantize_activations_expressed(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{quant_type must express f32, got 'f16'}}
  %y = tfx.quantize_activations %x {quant_type = !quant.uniform<i8:f16, 0.1>} : tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

func.func @quantize_activations_width(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{quant_type stores 4-bit integers but bits is 8}}
  %y = tfx.quantize_activations %x {quant_type = !quant.uniform<i4:f32, 0.1>} : tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}
