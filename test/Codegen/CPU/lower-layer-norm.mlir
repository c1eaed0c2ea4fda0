// tfx.layer_norm: a row-sum reduction, a centred sum of squares, and the
// normalisation with gamma and beta broadcast over rows.
// RUN: tfx-opt --tfx-lower-to-linalg %s | FileCheck %s
// RUN: tfx-opt --tfx-lower-to-linalg=kernels=true %s | FileCheck %s --check-prefix=KERNEL

// CHECK-LABEL: func.func @main(
// CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[ALL:.*]], #[[ROW:.*]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X:.*]] : tensor<2x4x32xf32>) outs(%{{.*}} : tensor<2x4xf32>)
// CHECK: arith.addf
// CHECK: %[[SQ:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]], %[[SUM]] : tensor<2x4x32xf32>, tensor<2x4xf32>)
// CHECK: arith.subf
// CHECK: arith.mulf
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[X]], %[[SUM]], %[[SQ]], %{{.*}}, %{{.*}} : tensor<2x4x32xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<32xf32>, tensor<32xf32>)
// CHECK: math.sqrt
// CHECK: arith.divf

// KERNEL-LABEL: func.func @main(
// KERNEL: scf.forall
// KERNEL: vector.reduction <add>
// KERNEL: vector.fma
// KERNEL: math.sqrt
// KERNEL: vector.transfer_write

func.func @main(%x: tensor<2x4x32xf32> {tfx.name = "x"}) -> (tensor<2x4x32xf32> {tfx.name = "y"}) {
  %g = arith.constant dense<1.5> : tensor<32xf32>
  %b = arith.constant dense<0.25> : tensor<32xf32>
  %y = tfx.layer_norm %x, %g, %b {epsilon = 1.0e-05 : f32} : (tensor<2x4x32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<2x4x32xf32>
  return %y : tensor<2x4x32xf32>
}
