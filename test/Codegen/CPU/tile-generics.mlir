// tfx-cpu-tile-generics cuts the outer parallel loop of a large linalg op
// into an scf.forall of about 64 chunks and leaves small ops alone.
// RUN: tfx-opt --tfx-lower-to-linalg --tfx-cpu-tile-generics %s | FileCheck %s

// CHECK-LABEL: func.func @main(
// CHECK: scf.forall (%[[I:.*]]) = (0) to (256) step (4)
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<4x512xf32>) outs(%{{.*}} : tensor<4x512xf32>)
// CHECK: math.tanh
// CHECK: tensor.parallel_insert_slice
// CHECK-NOT: scf.forall
// CHECK: math.exp
func.func @main(%x: tensor<256x512xf32> {tfx.name = "x"}, %s: tensor<4x8xf32> {tfx.name = "s"})
    -> (tensor<256x512xf32> {tfx.name = "y"}, tensor<4x8xf32> {tfx.name = "z"}) {
  %y = tfx.tanh %x : tensor<256x512xf32>
  %z = tfx.exp %s : tensor<4x8xf32>
  return %y, %z : tensor<256x512xf32>, tensor<4x8xf32>
}
