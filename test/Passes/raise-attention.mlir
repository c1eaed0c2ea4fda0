// RUN: tfx-opt %s -split-input-file --tfx-raise --canonicalize --cse | FileCheck %s

// The attention core softmax(scale * Q K^T + mask) V on head-split views of
// [B, S, H*D] tensors becomes one tfx.attention. The mask's meaning is found
// by evaluating its subgraph for probe attention masks.

// BERT-style padding: (1 - mask) * -10000 added to the scores divided by
// sqrt(head_dim). The whole mask computation folds into the mask operand.
// CHECK-LABEL: func.func @padding_additive
// CHECK-NEXT: %[[A:.*]] = tfx.attention %arg0, %arg1, %arg2, %arg3 {num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 5.000000e-01 : f32} : (tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4xi64>) -> tensor<2x4x8xf32>
// CHECK-NEXT: return %[[A]]
func.func @padding_additive(%q: tensor<2x4x8xf32>, %k: tensor<2x4x8xf32>, %vin: tensor<2x4x8xf32>, %m: tensor<2x4xi64>) -> tensor<2x4x8xf32> {
  %one = arith.constant dense<1.0> : tensor<f32>
  %big = arith.constant dense<-10000.0> : tensor<f32>
  %two = arith.constant dense<2.0> : tensor<f32>
  %mf = tfx.cast %m : tensor<2x4xi64> -> tensor<2x4xf32>
  %inv = tfx.sub %one, %mf : (tensor<f32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %neg = tfx.mul %inv, %big : (tensor<2x4xf32>, tensor<f32>) -> tensor<2x4xf32>
  %m4 = tfx.reshape %neg : tensor<2x4xf32> -> tensor<2x1x1x4xf32>
  %qh_r = tfx.reshape %q : tensor<2x4x8xf32> -> tensor<2x4x2x4xf32>
  %qh = tfx.transpose %qh_r, [0, 2, 1, 3] : tensor<2x4x2x4xf32> -> tensor<2x2x4x4xf32>
  %kt_r = tfx.reshape %k : tensor<2x4x8xf32> -> tensor<2x4x2x4xf32>
  %kt = tfx.transpose %kt_r, [0, 2, 3, 1] : tensor<2x4x2x4xf32> -> tensor<2x2x4x4xf32>
  %v_r = tfx.reshape %vin : tensor<2x4x8xf32> -> tensor<2x4x2x4xf32>
  %v = tfx.transpose %v_r, [0, 2, 1, 3] : tensor<2x4x2x4xf32> -> tensor<2x2x4x4xf32>
  %s = tfx.matmul %qh, %kt : (tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
  %ss = tfx.div %s, %two : (tensor<2x2x4x4xf32>, tensor<f32>) -> tensor<2x2x4x4xf32>
  %sm = tfx.add %ss, %m4 : (tensor<2x2x4x4xf32>, tensor<2x1x1x4xf32>) -> tensor<2x2x4x4xf32>
  %p = tfx.softmax %sm {axis = 3 : i64} : tensor<2x2x4x4xf32>
  %o = tfx.matmul %p, %v : (tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
  %ot = tfx.transpose %o, [0, 2, 1, 3] : tensor<2x2x4x4xf32> -> tensor<2x4x2x4xf32>
  %out = tfx.reshape %ot : tensor<2x4x2x4xf32> -> tensor<2x4x8xf32>
  return %out : tensor<2x4x8xf32>
}

// -----

// A constant causal mask (0 / -inf) and the scale split as sqrt(scale) on
// Q and on K^T: causal, no mask operand.
// CHECK-LABEL: func.func @causal_constant_split_scale
// CHECK-NEXT: %[[A:.*]] = tfx.attention %arg0, %arg1, %arg2 {causal = true, num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 0.49999997 : f32}
// CHECK-NEXT: return %[[A]]
func.func @causal_constant_split_scale(%q: tensor<2x4x8xf32>, %k: tensor<2x4x8xf32>, %vin: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  %c = arith.constant dense<[[[[0.0, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0xFF800000], [0.0, 0.0, 0.0, 0.0]]]]> : tensor<1x1x4x4xf32>
  %r = arith.constant dense<0.707106769> : tensor<f32>
  %qh_r = tfx.reshape %q : tensor<2x4x8xf32> -> tensor<2x4x2x4xf32>
  %qh = tfx.transpose %qh_r, [0, 2, 1, 3] : tensor<2x4x2x4xf32> -> tensor<2x2x4x4xf32>
  %kt_r = tfx.reshape %k : tensor<2x4x8xf32> -> tensor<2x4x2x4xf32>
  %kt = tfx.transpose %kt_r, [0, 2, 3, 1] : tensor<2x4x2x4xf32> -> tensor<2x2x4x4xf32>
  %v_r = tfx.reshape %vin : tensor<2x4x8xf32> -> tensor<2x4x2x4xf32>
  %v = tfx.transpose %v_r, [0, 2, 1, 3] : tensor<2x4x2x4xf32> -> tensor<2x2x4x4xf32>
  %qs = tfx.mul %qh, %r : (tensor<2x2x4x4xf32>, tensor<f32>) -> tensor<2x2x4x4xf32>
  %ks = tfx.mul %r, %kt : (tensor<f32>, tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
  %s = tfx.matmul %qs, %ks : (tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
  %sm = tfx.add %c, %s : (tensor<1x1x4x4xf32>, tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
  %p = tfx.softmax %sm {axis = 3 : i64} : tensor<2x2x4x4xf32>
  %o = tfx.matmul %p, %v : (tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
  %ot = tfx.transpose %o, [0, 2, 1, 3] : tensor<2x2x4x4xf32> -> tensor<2x4x2x4xf32>
  %out = tfx.reshape %ot : tensor<2x4x2x4xf32> -> tensor<2x4x8xf32>
  return %out : tensor<2x4x8xf32>
}

// -----

// Grouped-query attention (one kv head repeated for two query heads),
// causal + padding as a boolean where(keep, scores, -inf), and the
// where(is_nan(p), 0, p) guard after the softmax.
// CHECK-LABEL: func.func @gqa_where_causal_padding
// CHECK-NEXT: %[[A:.*]] = tfx.attention %arg0, %arg1, %arg2, %arg3 {causal = true, num_heads = 2 : i64, num_kv_heads = 1 : i64, scale = 5.000000e-01 : f32} : (tensor<2x4x8xf32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>, tensor<2x4xi64>) -> tensor<2x4x8xf32>
// CHECK-NEXT: return %[[A]]
func.func @gqa_where_causal_padding(%q: tensor<2x4x8xf32>, %k: tensor<2x4x4xf32>, %vin: tensor<2x4x4xf32>, %m: tensor<2x4xi64>) -> tensor<2x4x8xf32> {
  %tril = arith.constant dense<[[[[true, false, false, false], [true, true, false, false], [true, true, true, false], [true, true, true, true]]]]> : tensor<1x1x4x4xi1>
  %fill = arith.constant dense<0xFF800000> : tensor<f32>
  %zero = arith.constant dense<0.0> : tensor<f32>
  %half = arith.constant dense<0.5> : tensor<f32>
  %mb = tfx.cast %m : tensor<2x4xi64> -> tensor<2x4xi1>
  %m4 = tfx.reshape %mb : tensor<2x4xi1> -> tensor<2x1x1x4xi1>
  %keep = tfx.and %m4, %tril : (tensor<2x1x1x4xi1>, tensor<1x1x4x4xi1>) -> tensor<2x1x4x4xi1>
  %qh_r = tfx.reshape %q : tensor<2x4x8xf32> -> tensor<2x4x2x4xf32>
  %qh = tfx.transpose %qh_r, [0, 2, 1, 3] : tensor<2x4x2x4xf32> -> tensor<2x2x4x4xf32>
  %k1_r = tfx.reshape %k : tensor<2x4x4xf32> -> tensor<2x4x1x4xf32>
  %k1 = tfx.transpose %k1_r, [0, 2, 1, 3] : tensor<2x4x1x4xf32> -> tensor<2x1x4x4xf32>
  %krep_a = tfx.reshape %k1 : tensor<2x1x4x4xf32> -> tensor<2x1x1x4x4xf32>
  %krep_b = tfx.expand %krep_a : tensor<2x1x1x4x4xf32> -> tensor<2x1x2x4x4xf32>
  %krep = tfx.reshape %krep_b : tensor<2x1x2x4x4xf32> -> tensor<2x2x4x4xf32>
  %kt = tfx.transpose %krep, [0, 1, 3, 2] : tensor<2x2x4x4xf32> -> tensor<2x2x4x4xf32>
  %v1_r = tfx.reshape %vin : tensor<2x4x4xf32> -> tensor<2x4x1x4xf32>
  %v1 = tfx.transpose %v1_r, [0, 2, 1, 3] : tensor<2x4x1x4xf32> -> tensor<2x1x4x4xf32>
  %v_a = tfx.reshape %v1 : tensor<2x1x4x4xf32> -> tensor<2x1x1x4x4xf32>
  %v_b = tfx.expand %v_a : tensor<2x1x1x4x4xf32> -> tensor<2x1x2x4x4xf32>
  %v = tfx.reshape %v_b : tensor<2x1x2x4x4xf32> -> tensor<2x2x4x4xf32>
  %s = tfx.matmul %qh, %kt : (tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
  %ss = tfx.mul %s, %half : (tensor<2x2x4x4xf32>, tensor<f32>) -> tensor<2x2x4x4xf32>
  %w = tfx.where %keep, %ss, %fill : (tensor<2x1x4x4xi1>, tensor<2x2x4x4xf32>, tensor<f32>) -> tensor<2x2x4x4xf32>
  %p = tfx.softmax %w {axis = -1 : i64} : tensor<2x2x4x4xf32>
  %nan = tfx.is_nan %p : tensor<2x2x4x4xf32> -> tensor<2x2x4x4xi1>
  %g = tfx.where %nan, %zero, %p : (tensor<2x2x4x4xi1>, tensor<f32>, tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
  %o = tfx.matmul %g, %v : (tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
  %ot = tfx.transpose %o, [0, 2, 1, 3] : tensor<2x2x4x4xf32> -> tensor<2x4x2x4xf32>
  %out = tfx.reshape %ot : tensor<2x4x2x4xf32> -> tensor<2x4x8xf32>
  return %out : tensor<2x4x8xf32>
}

// -----

// masked_fill(mask == 0, -1e9): where(cond, fill, scores) hides where the
// condition holds.
// CHECK-LABEL: func.func @masked_fill_padding
// CHECK-NEXT: %[[A:.*]] = tfx.attention %arg0, %arg1, %arg2, %arg3 {num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 1.000000e+00 : f32}
// CHECK-NEXT: return %[[A]]
func.func @masked_fill_padding(%q: tensor<2x4x8xf32>, %k: tensor<2x4x8xf32>, %vin: tensor<2x4x8xf32>, %m: tensor<2x4xi64>) -> tensor<2x4x8xf32> {
  %zi = arith.constant dense<0> : tensor<i64>
  %fill = arith.constant dense<-1.0e+09> : tensor<f32>
  %m4 = tfx.reshape %m : tensor<2x4xi64> -> tensor<2x1x1x4xi64>
  %pad = tfx.equal %m4, %zi : (tensor<2x1x1x4xi64>, tensor<i64>) -> tensor<2x1x1x4xi1>
  %qh_r = tfx.reshape %q : tensor<2x4x8xf32> -> tensor<2x4x2x4xf32>
  %qh = tfx.transpose %qh_r, [0, 2, 1, 3] : tensor<2x4x2x4xf32> -> tensor<2x2x4x4xf32>
  %kt_r = tfx.reshape %k : tensor<2x4x8xf32> -> tensor<2x4x2x4xf32>
  %kt = tfx.transpose %kt_r, [0, 2, 3, 1] : tensor<2x4x2x4xf32> -> tensor<2x2x4x4xf32>
  %v_r = tfx.reshape %vin : tensor<2x4x8xf32> -> tensor<2x4x2x4xf32>
  %v = tfx.transpose %v_r, [0, 2, 1, 3] : tensor<2x4x2x4xf32> -> tensor<2x2x4x4xf32>
  %s = tfx.matmul %qh, %kt : (tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
  %w = tfx.where %pad, %fill, %s : (tensor<2x1x1x4xi1>, tensor<f32>, tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
  %p = tfx.softmax %w {axis = 3 : i64} : tensor<2x2x4x4xf32>
  %o = tfx.matmul %p, %v : (tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
  %ot = tfx.transpose %o, [0, 2, 1, 3] : tensor<2x2x4x4xf32> -> tensor<2x4x2x4xf32>
  %out = tfx.reshape %ot : tensor<2x4x2x4xf32> -> tensor<2x4x8xf32>
  return %out : tensor<2x4x8xf32>
}

// -----

// No mask at all.
// CHECK-LABEL: func.func @no_mask
// CHECK-NEXT: %[[A:.*]] = tfx.attention %arg0, %arg1, %arg2 {num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 2.500000e-01 : f32}
// CHECK-NEXT: return %[[A]]
func.func @no_mask(%q: tensor<2x4x8xf32>, %k: tensor<2x4x8xf32>, %vin: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  %c = arith.constant dense<0.25> : tensor<f32>
  %qh_r = tfx.reshape %q : tensor<2x4x8xf32> -> tensor<2x4x2x4xf32>
  %qh = tfx.transpose %qh_r, [0, 2, 1, 3] : tensor<2x4x2x4xf32> -> tensor<2x2x4x4xf32>
  %kt_r = tfx.reshape %k : tensor<2x4x8xf32> -> tensor<2x4x2x4xf32>
  %kt = tfx.transpose %kt_r, [0, 2, 3, 1] : tensor<2x4x2x4xf32> -> tensor<2x2x4x4xf32>
  %v_r = tfx.reshape %vin : tensor<2x4x8xf32> -> tensor<2x4x2x4xf32>
  %v = tfx.transpose %v_r, [0, 2, 1, 3] : tensor<2x4x2x4xf32> -> tensor<2x2x4x4xf32>
  %s = tfx.matmul %qh, %kt : (tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
  %ss = tfx.mul %c, %s : (tensor<f32>, tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
  %p = tfx.softmax %ss {axis = 3 : i64} : tensor<2x2x4x4xf32>
  %o = tfx.matmul %p, %v : (tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
  %ot = tfx.transpose %o, [0, 2, 1, 3] : tensor<2x2x4x4xf32> -> tensor<2x4x2x4xf32>
  %out = tfx.reshape %ot : tensor<2x4x2x4xf32> -> tensor<2x4x8xf32>
  return %out : tensor<2x4x8xf32>
}

// -----

// A causal sliding-window band (each query sees itself and one key
// before): causal with window 2.
// CHECK-LABEL: func.func @causal_window
// CHECK-NEXT: %[[A:.*]] = tfx.attention %arg0, %arg1, %arg2 {causal = true, num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 1.000000e+00 : f32, window = 2 : i64}
// CHECK-NEXT: return %[[A]]
func.func @causal_window(%q: tensor<2x4x8xf32>, %k: tensor<2x4x8xf32>, %vin: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  %c = arith.constant dense<[[[[0.0, -1.0e+09, -1.0e+09, -1.0e+09], [0.0, 0.0, -1.0e+09, -1.0e+09], [-1.0e+09, 0.0, 0.0, -1.0e+09], [-1.0e+09, -1.0e+09, 0.0, 0.0]]]]> : tensor<1x1x4x4xf32>
  %qh_r = tfx.reshape %q : tensor<2x4x8xf32> -> tensor<2x4x2x4xf32>
  %qh = tfx.transpose %qh_r, [0, 2, 1, 3] : tensor<2x4x2x4xf32> -> tensor<2x2x4x4xf32>
  %kt_r = tfx.reshape %k : tensor<2x4x8xf32> -> tensor<2x4x2x4xf32>
  %kt = tfx.transpose %kt_r, [0, 2, 3, 1] : tensor<2x4x2x4xf32> -> tensor<2x2x4x4xf32>
  %v_r = tfx.reshape %vin : tensor<2x4x8xf32> -> tensor<2x4x2x4xf32>
  %v = tfx.transpose %v_r, [0, 2, 1, 3] : tensor<2x4x2x4xf32> -> tensor<2x2x4x4xf32>
  %s = tfx.matmul %qh, %kt : (tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
  %sm = tfx.add %s, %c : (tensor<2x2x4x4xf32>, tensor<1x1x4x4xf32>) -> tensor<2x2x4x4xf32>
  %p = tfx.softmax %sm {axis = 3 : i64} : tensor<2x2x4x4xf32>
  %o = tfx.matmul %p, %v : (tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
  %ot = tfx.transpose %o, [0, 2, 1, 3] : tensor<2x2x4x4xf32> -> tensor<2x4x2x4xf32>
  %out = tfx.reshape %ot : tensor<2x4x2x4xf32> -> tensor<2x4x8xf32>
  return %out : tensor<2x4x8xf32>
}

// -----

// An anti-causal mask (each query sees itself and later keys) is none of
// the meanings tfx.attention has: the softmax stays.
// CHECK-LABEL: func.func @not_anticausal
// CHECK: tfx.softmax
// CHECK-NOT: tfx.attention
func.func @not_anticausal(%q: tensor<2x4x8xf32>, %k: tensor<2x4x8xf32>, %vin: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  %c = arith.constant dense<[[[[0.0, 0.0, 0.0, 0.0], [-1.0e+09, 0.0, 0.0, 0.0], [-1.0e+09, -1.0e+09, 0.0, 0.0], [-1.0e+09, -1.0e+09, -1.0e+09, 0.0]]]]> : tensor<1x1x4x4xf32>
  %qh_r = tfx.reshape %q : tensor<2x4x8xf32> -> tensor<2x4x2x4xf32>
  %qh = tfx.transpose %qh_r, [0, 2, 1, 3] : tensor<2x4x2x4xf32> -> tensor<2x2x4x4xf32>
  %kt_r = tfx.reshape %k : tensor<2x4x8xf32> -> tensor<2x4x2x4xf32>
  %kt = tfx.transpose %kt_r, [0, 2, 3, 1] : tensor<2x4x2x4xf32> -> tensor<2x2x4x4xf32>
  %v_r = tfx.reshape %vin : tensor<2x4x8xf32> -> tensor<2x4x2x4xf32>
  %v = tfx.transpose %v_r, [0, 2, 1, 3] : tensor<2x4x2x4xf32> -> tensor<2x2x4x4xf32>
  %s = tfx.matmul %qh, %kt : (tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
  %sm = tfx.add %s, %c : (tensor<2x2x4x4xf32>, tensor<1x1x4x4xf32>) -> tensor<2x2x4x4xf32>
  %p = tfx.softmax %sm {axis = 3 : i64} : tensor<2x2x4x4xf32>
  %o = tfx.matmul %p, %v : (tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
  %ot = tfx.transpose %o, [0, 2, 1, 3] : tensor<2x2x4x4xf32> -> tensor<2x4x2x4xf32>
  %out = tfx.reshape %ot : tensor<2x4x2x4xf32> -> tensor<2x4x8xf32>
  return %out : tensor<2x4x8xf32>
}

// -----

// (1 - mask) * -1 is a soft bias, not a mask: it neither keeps (0) nor
// hides (<= -1e4) a padded key, so nothing is raised.
// CHECK-LABEL: func.func @not_soft_bias
// CHECK: tfx.softmax
// CHECK-NOT: tfx.attention
func.func @not_soft_bias(%q: tensor<2x4x8xf32>, %k: tensor<2x4x8xf32>, %vin: tensor<2x4x8xf32>, %m: tensor<2x4xi64>) -> tensor<2x4x8xf32> {
  %one = arith.constant dense<1.0> : tensor<f32>
  %big = arith.constant dense<-1.0> : tensor<f32>
  %two = arith.constant dense<2.0> : tensor<f32>
  %mf = tfx.cast %m : tensor<2x4xi64> -> tensor<2x4xf32>
  %inv = tfx.sub %one, %mf : (tensor<f32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %neg = tfx.mul %inv, %big : (tensor<2x4xf32>, tensor<f32>) -> tensor<2x4xf32>
  %m4 = tfx.reshape %neg : tensor<2x4xf32> -> tensor<2x1x1x4xf32>
  %qh_r = tfx.reshape %q : tensor<2x4x8xf32> -> tensor<2x4x2x4xf32>
  %qh = tfx.transpose %qh_r, [0, 2, 1, 3] : tensor<2x4x2x4xf32> -> tensor<2x2x4x4xf32>
  %kt_r = tfx.reshape %k : tensor<2x4x8xf32> -> tensor<2x4x2x4xf32>
  %kt = tfx.transpose %kt_r, [0, 2, 3, 1] : tensor<2x4x2x4xf32> -> tensor<2x2x4x4xf32>
  %v_r = tfx.reshape %vin : tensor<2x4x8xf32> -> tensor<2x4x2x4xf32>
  %v = tfx.transpose %v_r, [0, 2, 1, 3] : tensor<2x4x2x4xf32> -> tensor<2x2x4x4xf32>
  %s = tfx.matmul %qh, %kt : (tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
  %ss = tfx.div %s, %two : (tensor<2x2x4x4xf32>, tensor<f32>) -> tensor<2x2x4x4xf32>
  %sm = tfx.add %ss, %m4 : (tensor<2x2x4x4xf32>, tensor<2x1x1x4xf32>) -> tensor<2x2x4x4xf32>
  %p = tfx.softmax %sm {axis = 3 : i64} : tensor<2x2x4x4xf32>
  %o = tfx.matmul %p, %v : (tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
  %ot = tfx.transpose %o, [0, 2, 1, 3] : tensor<2x2x4x4xf32> -> tensor<2x4x2x4xf32>
  %out = tfx.reshape %ot : tensor<2x4x2x4xf32> -> tensor<2x4x8xf32>
  return %out : tensor<2x4x8xf32>
}
