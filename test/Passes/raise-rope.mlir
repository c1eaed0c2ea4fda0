// RUN: tfx-opt %s -split-input-file --tfx-raise --canonicalize --cse | FileCheck %s

// Rotate-half RoPE on a [B, H, S, D] view, cos/sin tables folded to
// constants (made by PyTorch as Hugging Face Llama does: f32 inv_freq and
// angles). The tables are trusted only after every entry matches what
// tfx.rope computes for the fitted theta.

// theta 10000, positions 0..3: one tfx.rope on the [B, S, H*D] input;
// the split and merge around it cancel.
// CHECK-LABEL: func.func @rope_theta_1e4
// CHECK-NEXT: %[[R:.*]] = tfx.rope %arg0 {num_heads = 2 : i64, rotary_dim = 8 : i64, theta = 1.000000e+04 : f64} : (tensor<1x4x16xf32>) -> tensor<1x4x16xf32>
// CHECK-NEXT: return %[[R]]
func.func @rope_theta_1e4(%x: tensor<1x4x16xf32>) -> tensor<1x4x16xf32> {
  %cos = arith.constant dense<[[[[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [0.540302336, 0.995004177, 0.999949992, 0.999999523, 0.540302336, 0.995004177, 0.999949992, 0.999999523], [-0.416146845, 0.980066597, 0.999800026, 0.999998033, -0.416146845, 0.980066597, 0.999800026, 0.999998033], [-0.989992499, 0.955336511, 0.999550045, 0.99999553, -0.989992499, 0.955336511, 0.999550045, 0.99999553]]]]> : tensor<1x1x4x8xf32>
  %sin = arith.constant dense<[[[[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.841470957, 0.0998334214, 0.00999983307, 0.000999999931, 0.841470957, 0.0998334214, 0.00999983307, 0.000999999931], [0.909297407, 0.198669329, 0.0199986659, 0.0019999987, 0.909297407, 0.198669329, 0.0199986659, 0.0019999987], [0.141120002, 0.295520216, 0.0299954992, 0.0029999956, 0.141120002, 0.295520216, 0.0299954992, 0.0029999956]]]]> : tensor<1x1x4x8xf32>
  %0 = tfx.reshape %x : tensor<1x4x16xf32> -> tensor<1x4x2x8xf32>
  %1 = tfx.transpose %0, [0, 2, 1, 3] : tensor<1x4x2x8xf32> -> tensor<1x2x4x8xf32>
  %2 = tfx.mul %1, %cos : (tensor<1x2x4x8xf32>, tensor<1x1x4x8xf32>) -> tensor<1x2x4x8xf32>
  %3 = tfx.slice %1 {offsets = array<i64: 0, 0, 0, 0>, sizes = array<i64: 1, 2, 4, 4>, strides = array<i64: 1, 1, 1, 1>} : tensor<1x2x4x8xf32> -> tensor<1x2x4x4xf32>
  %4 = tfx.slice %1 {offsets = array<i64: 0, 0, 0, 4>, sizes = array<i64: 1, 2, 4, 4>, strides = array<i64: 1, 1, 1, 1>} : tensor<1x2x4x8xf32> -> tensor<1x2x4x4xf32>
  %5 = tfx.neg %4 : tensor<1x2x4x4xf32>
  %6 = tfx.concat %5, %3 {axis = 3 : i64} : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x8xf32>
  %7 = tfx.mul %sin, %6 : (tensor<1x1x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %8 = tfx.add %2, %7 : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %9 = tfx.transpose %8, [0, 2, 1, 3] : tensor<1x2x4x8xf32> -> tensor<1x4x2x8xf32>
  %10 = tfx.reshape %9 : tensor<1x4x2x8xf32> -> tensor<1x4x16xf32>
  return %10 : tensor<1x4x16xf32>
}

// -----

// theta 500000 (Llama 3), the sum in the other order.
// CHECK-LABEL: func.func @rope_theta_5e5
// CHECK-NEXT: %[[R:.*]] = tfx.rope %arg0 {num_heads = 2 : i64, rotary_dim = 8 : i64, theta = 5.000000e+05 : f64} : (tensor<1x4x16xf32>) -> tensor<1x4x16xf32>
// CHECK-NEXT: return %[[R]]
func.func @rope_theta_5e5(%x: tensor<1x4x16xf32>) -> tensor<1x4x16xf32> {
  %cos = arith.constant dense<[[[[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [0.540302336, 0.99929297, 0.999999046, 1.0, 0.540302336, 0.99929297, 0.999999046, 1.0], [-0.416146845, 0.997172892, 0.999996006, 1.0, -0.416146845, 0.997172892, 0.999996006, 1.0], [-0.989992499, 0.993642807, 0.999991, 1.0, -0.989992499, 0.993642807, 0.999991, 1.0]]]]> : tensor<1x1x4x8xf32>
  %sin = arith.constant dense<[[[[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.841470957, 0.0375971682, 0.00141421298, 5.31829573e-05, 0.841470957, 0.0375971682, 0.00141421298, 5.31829573e-05], [0.909297407, 0.0751411691, 0.00282842317, 0.000106365915, 0.909297407, 0.0751411691, 0.00282842317, 0.000106365915], [0.141120002, 0.112578921, 0.00424262788, 0.000159548872, 0.141120002, 0.112578921, 0.00424262788, 0.000159548872]]]]> : tensor<1x1x4x8xf32>
  %0 = tfx.reshape %x : tensor<1x4x16xf32> -> tensor<1x4x2x8xf32>
  %1 = tfx.transpose %0, [0, 2, 1, 3] : tensor<1x4x2x8xf32> -> tensor<1x2x4x8xf32>
  %2 = tfx.mul %1, %cos : (tensor<1x2x4x8xf32>, tensor<1x1x4x8xf32>) -> tensor<1x2x4x8xf32>
  %3 = tfx.slice %1 {offsets = array<i64: 0, 0, 0, 0>, sizes = array<i64: 1, 2, 4, 4>, strides = array<i64: 1, 1, 1, 1>} : tensor<1x2x4x8xf32> -> tensor<1x2x4x4xf32>
  %4 = tfx.slice %1 {offsets = array<i64: 0, 0, 0, 4>, sizes = array<i64: 1, 2, 4, 4>, strides = array<i64: 1, 1, 1, 1>} : tensor<1x2x4x8xf32> -> tensor<1x2x4x4xf32>
  %5 = tfx.neg %4 : tensor<1x2x4x4xf32>
  %6 = tfx.concat %5, %3 {axis = 3 : i64} : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x8xf32>
  %7 = tfx.mul %sin, %6 : (tensor<1x1x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %8 = tfx.add %7, %2 : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %9 = tfx.transpose %8, [0, 2, 1, 3] : tensor<1x2x4x8xf32> -> tensor<1x4x2x8xf32>
  %10 = tfx.reshape %9 : tensor<1x4x2x8xf32> -> tensor<1x4x16xf32>
  return %10 : tensor<1x4x16xf32>
}

// -----

// The exporter left the angle table as a constant under cos and sin.
// CHECK-LABEL: func.func @rope_cos_of_angles
// CHECK-NEXT: %[[R:.*]] = tfx.rope %arg0 {num_heads = 2 : i64, rotary_dim = 8 : i64, theta = 1.000000e+04 : f64} : (tensor<1x4x16xf32>) -> tensor<1x4x16xf32>
// CHECK-NEXT: return %[[R]]
func.func @rope_cos_of_angles(%x: tensor<1x4x16xf32>) -> tensor<1x4x16xf32> {
  %ang = arith.constant dense<[[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [1.0, 0.100000001, 0.00999999978, 0.00100000005, 1.0, 0.100000001, 0.00999999978, 0.00100000005], [2.0, 0.200000003, 0.0199999996, 0.00200000009, 2.0, 0.200000003, 0.0199999996, 0.00200000009], [3.0, 0.300000012, 0.0299999993, 0.00300000003, 3.0, 0.300000012, 0.0299999993, 0.00300000003]]> : tensor<4x8xf32>
  %cos = tfx.cos %ang : tensor<4x8xf32>
  %sin = tfx.sin %ang : tensor<4x8xf32>
  %0 = tfx.reshape %x : tensor<1x4x16xf32> -> tensor<1x4x2x8xf32>
  %1 = tfx.transpose %0, [0, 2, 1, 3] : tensor<1x4x2x8xf32> -> tensor<1x2x4x8xf32>
  %2 = tfx.mul %1, %cos : (tensor<1x2x4x8xf32>, tensor<4x8xf32>) -> tensor<1x2x4x8xf32>
  %3 = tfx.slice %1 {offsets = array<i64: 0, 0, 0, 0>, sizes = array<i64: 1, 2, 4, 4>, strides = array<i64: 1, 1, 1, 1>} : tensor<1x2x4x8xf32> -> tensor<1x2x4x4xf32>
  %4 = tfx.slice %1 {offsets = array<i64: 0, 0, 0, 4>, sizes = array<i64: 1, 2, 4, 4>, strides = array<i64: 1, 1, 1, 1>} : tensor<1x2x4x8xf32> -> tensor<1x2x4x4xf32>
  %5 = tfx.neg %4 : tensor<1x2x4x4xf32>
  %6 = tfx.concat %5, %3 {axis = 3 : i64} : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x8xf32>
  %7 = tfx.mul %sin, %6 : (tensor<4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %8 = tfx.add %2, %7 : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %9 = tfx.transpose %8, [0, 2, 1, 3] : tensor<1x2x4x8xf32> -> tensor<1x4x2x8xf32>
  %10 = tfx.reshape %9 : tensor<1x4x2x8xf32> -> tensor<1x4x16xf32>
  return %10 : tensor<1x4x16xf32>
}

// -----

// [S, D] tables broadcast against [B, H, S, D].
// CHECK-LABEL: func.func @rope_2d_tables
// CHECK-NEXT: %[[R:.*]] = tfx.rope %arg0 {num_heads = 2 : i64, rotary_dim = 8 : i64, theta = 1.000000e+04 : f64} : (tensor<1x4x16xf32>) -> tensor<1x4x16xf32>
// CHECK-NEXT: return %[[R]]
func.func @rope_2d_tables(%x: tensor<1x4x16xf32>) -> tensor<1x4x16xf32> {
  %cos = arith.constant dense<[[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [0.540302336, 0.995004177, 0.999949992, 0.999999523, 0.540302336, 0.995004177, 0.999949992, 0.999999523], [-0.416146845, 0.980066597, 0.999800026, 0.999998033, -0.416146845, 0.980066597, 0.999800026, 0.999998033], [-0.989992499, 0.955336511, 0.999550045, 0.99999553, -0.989992499, 0.955336511, 0.999550045, 0.99999553]]> : tensor<4x8xf32>
  %sin = arith.constant dense<[[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.841470957, 0.0998334214, 0.00999983307, 0.000999999931, 0.841470957, 0.0998334214, 0.00999983307, 0.000999999931], [0.909297407, 0.198669329, 0.0199986659, 0.0019999987, 0.909297407, 0.198669329, 0.0199986659, 0.0019999987], [0.141120002, 0.295520216, 0.0299954992, 0.0029999956, 0.141120002, 0.295520216, 0.0299954992, 0.0029999956]]> : tensor<4x8xf32>
  %0 = tfx.reshape %x : tensor<1x4x16xf32> -> tensor<1x4x2x8xf32>
  %1 = tfx.transpose %0, [0, 2, 1, 3] : tensor<1x4x2x8xf32> -> tensor<1x2x4x8xf32>
  %2 = tfx.mul %1, %cos : (tensor<1x2x4x8xf32>, tensor<4x8xf32>) -> tensor<1x2x4x8xf32>
  %3 = tfx.slice %1 {offsets = array<i64: 0, 0, 0, 0>, sizes = array<i64: 1, 2, 4, 4>, strides = array<i64: 1, 1, 1, 1>} : tensor<1x2x4x8xf32> -> tensor<1x2x4x4xf32>
  %4 = tfx.slice %1 {offsets = array<i64: 0, 0, 0, 4>, sizes = array<i64: 1, 2, 4, 4>, strides = array<i64: 1, 1, 1, 1>} : tensor<1x2x4x8xf32> -> tensor<1x2x4x4xf32>
  %5 = tfx.neg %4 : tensor<1x2x4x4xf32>
  %6 = tfx.concat %5, %3 {axis = 3 : i64} : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x8xf32>
  %7 = tfx.mul %sin, %6 : (tensor<4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %8 = tfx.add %2, %7 : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %9 = tfx.transpose %8, [0, 2, 1, 3] : tensor<1x2x4x8xf32> -> tensor<1x4x2x8xf32>
  %10 = tfx.reshape %9 : tensor<1x4x2x8xf32> -> tensor<1x4x16xf32>
  return %10 : tensor<1x4x16xf32>
}

// -----

// Positions 1..4 (e.g. after a cached prefix): tfx.rope would rotate by
// 0..3, so nothing is raised.
// CHECK-LABEL: func.func @rope_shifted_positions
// CHECK: tfx.concat
// CHECK-NOT: tfx.rope
// CHECK: return
func.func @rope_shifted_positions(%x: tensor<1x4x16xf32>) -> tensor<1x4x16xf32> {
  %cos = arith.constant dense<[[[[0.540302336, 0.995004177, 0.999949992, 0.999999523, 0.540302336, 0.995004177, 0.999949992, 0.999999523], [-0.416146845, 0.980066597, 0.999800026, 0.999998033, -0.416146845, 0.980066597, 0.999800026, 0.999998033], [-0.989992499, 0.955336511, 0.999550045, 0.99999553, -0.989992499, 0.955336511, 0.999550045, 0.99999553], [-0.653643608, 0.921060979, 0.999200106, 0.999992013, -0.653643608, 0.921060979, 0.999200106, 0.999992013]]]]> : tensor<1x1x4x8xf32>
  %sin = arith.constant dense<[[[[0.841470957, 0.0998334214, 0.00999983307, 0.000999999931, 0.841470957, 0.0998334214, 0.00999983307, 0.000999999931], [0.909297407, 0.198669329, 0.0199986659, 0.0019999987, 0.909297407, 0.198669329, 0.0199986659, 0.0019999987], [0.141120002, 0.295520216, 0.0299954992, 0.0029999956, 0.141120002, 0.295520216, 0.0299954992, 0.0029999956], [-0.756802499, 0.389418364, 0.0399893336, 0.00399998948, -0.756802499, 0.389418364, 0.0399893336, 0.00399998948]]]]> : tensor<1x1x4x8xf32>
  %0 = tfx.reshape %x : tensor<1x4x16xf32> -> tensor<1x4x2x8xf32>
  %1 = tfx.transpose %0, [0, 2, 1, 3] : tensor<1x4x2x8xf32> -> tensor<1x2x4x8xf32>
  %2 = tfx.mul %1, %cos : (tensor<1x2x4x8xf32>, tensor<1x1x4x8xf32>) -> tensor<1x2x4x8xf32>
  %3 = tfx.slice %1 {offsets = array<i64: 0, 0, 0, 0>, sizes = array<i64: 1, 2, 4, 4>, strides = array<i64: 1, 1, 1, 1>} : tensor<1x2x4x8xf32> -> tensor<1x2x4x4xf32>
  %4 = tfx.slice %1 {offsets = array<i64: 0, 0, 0, 4>, sizes = array<i64: 1, 2, 4, 4>, strides = array<i64: 1, 1, 1, 1>} : tensor<1x2x4x8xf32> -> tensor<1x2x4x4xf32>
  %5 = tfx.neg %4 : tensor<1x2x4x4xf32>
  %6 = tfx.concat %5, %3 {axis = 3 : i64} : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x8xf32>
  %7 = tfx.mul %sin, %6 : (tensor<1x1x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %8 = tfx.add %2, %7 : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %9 = tfx.transpose %8, [0, 2, 1, 3] : tensor<1x2x4x8xf32> -> tensor<1x4x2x8xf32>
  %10 = tfx.reshape %9 : tensor<1x4x2x8xf32> -> tensor<1x4x16xf32>
  return %10 : tensor<1x4x16xf32>
}

// -----

// One cos entry off by 1e-4: the table is not what tfx.rope computes.
// CHECK-LABEL: func.func @rope_table_off
// CHECK: tfx.concat
// CHECK-NOT: tfx.rope
// CHECK: return
func.func @rope_table_off(%x: tensor<1x4x16xf32>) -> tensor<1x4x16xf32> {
  %cos = arith.constant dense<[[[[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [0.540302336, 0.995004177, 0.999949992, 0.999999523, 0.540302336, 0.995004177, 0.999949992, 0.999999523], [-0.416146845, 0.980066597, 0.999800026, 1.00009799, -0.416146845, 0.980066597, 0.999800026, 0.999998033], [-0.989992499, 0.955336511, 0.999550045, 0.99999553, -0.989992499, 0.955336511, 0.999550045, 0.99999553]]]]> : tensor<1x1x4x8xf32>
  %sin = arith.constant dense<[[[[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.841470957, 0.0998334214, 0.00999983307, 0.000999999931, 0.841470957, 0.0998334214, 0.00999983307, 0.000999999931], [0.909297407, 0.198669329, 0.0199986659, 0.0019999987, 0.909297407, 0.198669329, 0.0199986659, 0.0019999987], [0.141120002, 0.295520216, 0.0299954992, 0.0029999956, 0.141120002, 0.295520216, 0.0299954992, 0.0029999956]]]]> : tensor<1x1x4x8xf32>
  %0 = tfx.reshape %x : tensor<1x4x16xf32> -> tensor<1x4x2x8xf32>
  %1 = tfx.transpose %0, [0, 2, 1, 3] : tensor<1x4x2x8xf32> -> tensor<1x2x4x8xf32>
  %2 = tfx.mul %1, %cos : (tensor<1x2x4x8xf32>, tensor<1x1x4x8xf32>) -> tensor<1x2x4x8xf32>
  %3 = tfx.slice %1 {offsets = array<i64: 0, 0, 0, 0>, sizes = array<i64: 1, 2, 4, 4>, strides = array<i64: 1, 1, 1, 1>} : tensor<1x2x4x8xf32> -> tensor<1x2x4x4xf32>
  %4 = tfx.slice %1 {offsets = array<i64: 0, 0, 0, 4>, sizes = array<i64: 1, 2, 4, 4>, strides = array<i64: 1, 1, 1, 1>} : tensor<1x2x4x8xf32> -> tensor<1x2x4x4xf32>
  %5 = tfx.neg %4 : tensor<1x2x4x4xf32>
  %6 = tfx.concat %5, %3 {axis = 3 : i64} : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x8xf32>
  %7 = tfx.mul %sin, %6 : (tensor<1x1x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %8 = tfx.add %2, %7 : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %9 = tfx.transpose %8, [0, 2, 1, 3] : tensor<1x2x4x8xf32> -> tensor<1x4x2x8xf32>
  %10 = tfx.reshape %9 : tensor<1x4x2x8xf32> -> tensor<1x4x16xf32>
  return %10 : tensor<1x4x16xf32>
}
