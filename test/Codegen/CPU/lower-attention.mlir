// tfx.attention (GQA, causal, padding mask) in linalg: scores as a
// contraction over head_dim with heads split [kv_heads, group], masking to
// -inf, max and exp-sum reductions over keys, then the weighted sum of V.
// RUN: tfx-opt --tfx-lower-to-linalg %s | FileCheck %s

// CHECK-LABEL: func.func @main(
// CHECK: %[[Q:.*]] = tensor.expand_shape %{{.*}} output_shape [2, 16, 2, 2, 16]
// CHECK: %[[K:.*]] = tensor.expand_shape %{{.*}} output_shape [2, 16, 2, 16]
// CHECK: %[[S:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[Q]], %[[K]] : tensor<2x16x2x2x16xf32>, tensor<2x16x2x16xf32>) outs(%{{.*}} : tensor<2x2x2x16x16xf32>)
// CHECK: %[[M:.*]] = linalg.generic {{.*}} ins(%[[S]], %{{.*}} : tensor<2x2x2x16x16xf32>, tensor<2x16xi64>)
// CHECK: linalg.index 3
// CHECK: linalg.index 4
// CHECK: arith.cmpi sle
// CHECK: arith.select %{{.*}}, %{{.*}}, %{{.*}} : f32
// CHECK: %[[MAX:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[M]] : tensor<2x2x2x16x16xf32>)
// CHECK: arith.maximumf
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} ins(%[[M]], %[[MAX]] :
// CHECK: math.exp
// CHECK: %[[P:.*]] = linalg.generic {{.*}} ins(%[[M]], %[[MAX]], %[[SUM]] :
// CHECK: arith.divf
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[P]], %{{.*}} : tensor<2x2x2x16x16xf32>, tensor<2x16x2x16xf32>) outs(%{{.*}} : tensor<2x16x2x2x16xf32>)

// With the kernels: one flash-style loop nest, no [seq, seq] tensor. Per
// block of 16 keys: scores by a loop over head_dim (4 steps unrolled, one
// FMA per query row), a NaN-free block max (masked scores are -inf, never
// NaN), exp, the sum, then the probabilities staged through an [8 rows x 16
// keys] buffer and a loop over the keys that broadcasts p[r][j] onto a row of V.
// RUN: tfx-opt --tfx-lower-to-linalg=kernels=true %s | FileCheck %s --check-prefix=KERNEL
// KERNEL-LABEL: func.func @main(
// KERNEL: linalg.transpose
// KERNEL: scf.forall (%{{.*}}) in (16)
// KERNEL: scf.for %[[KEY0:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(
// KERNEL: scf.for %[[D:.*]] = %{{.*}} to %{{.*}} step %c4{{(_[0-9]+)?}} iter_args(
// KERNEL-COUNT-8: vector.fma
// KERNEL: scf.yield
// KERNEL: vector.reduction <maxnumf>, %{{.*}} fastmath<nnan> : vector<16xf32> into f32
// KERNEL-NEXT: arith.maxnumf
// KERNEL: math.exp %{{.*}} : vector<16xf32>
// KERNEL: vector.reduction <add>, %{{.*}} fastmath<reassoc>
// KERNEL-COUNT-8: vector.transfer_write %{{.*}} : vector<16xf32>, tensor<8x16xf32>
// KERNEL: scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(
// KERNEL: %[[KEY:.*]] = arith.addi %[[KEY0]], %[[J]] : index
// KERNEL: %[[VROW:.*]] = vector.transfer_read %{{.*}}[%{{.*}}, %[[KEY]], %{{.*}}]
// KERNEL: %[[P:.*]] = tensor.extract %{{.*}}[%{{.*}}, %[[J]]] : tensor<8x16xf32>
// KERNEL: %[[PV:.*]] = vector.broadcast %[[P]] : f32 to vector<16xf32>
// KERNEL: vector.fma %[[PV]], %[[VROW]], %{{.*}} : vector<16xf32>
// KERNEL-NOT: 16x16xf32
// KERNEL: tensor.parallel_insert_slice

func.func @main(%q: tensor<2x16x64xf32> {tfx.name = "q"}, %k: tensor<2x16x32xf32> {tfx.name = "k"},
                %v: tensor<2x16x32xf32> {tfx.name = "v"}, %mask: tensor<2x16xi64> {tfx.name = "mask"})
    -> (tensor<2x16x64xf32> {tfx.name = "out"}) {
  %o = tfx.attention %q, %k, %v, %mask {num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 0.25 : f32, causal = true}
      : (tensor<2x16x64xf32>, tensor<2x16x32xf32>, tensor<2x16x32xf32>, tensor<2x16xi64>) -> tensor<2x16x64xf32>
  return %o : tensor<2x16x64xf32>
}
