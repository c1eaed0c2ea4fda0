// tfx.linear with a weight: the entry takes the artifact ABI, the weight is
// a view of the blob packed in [N/16][K][16] panels, the bias initialises the
// output, and the contraction is a linalg.generic over (m, n/16, 16, k).
// RUN: tfx-opt --tfx-lower-to-linalg %s | FileCheck %s

// CHECK: module attributes {tfx.weight_blob = {size = 8320 : i64, slots = [
// CHECK-SAME: {bytes = 8192 : i64, layout = "panels_nk", offset = 0 : i64, panel = 16 : i64, source = "fc.weight", type = tensor<32x64xf32>}
// CHECK-SAME: {bytes = 128 : i64, layout = "plain", offset = 8192 : i64, source = "fc.bias", type = tensor<32xf32>}

// CHECK-LABEL: func.func @main(
// CHECK-SAME: %[[ENV:.*]]: !llvm.ptr, %[[W:.*]]: memref<?xi8>, %[[SCRATCH:.*]]: memref<?xi8>,
// CHECK-SAME: %[[X:.*]]: memref<2x8x64xf32> {tfx.name = "x"}, %[[Y:.*]]: memref<2x8x32xf32> {tfx.name = "y"}) -> i32
// CHECK-SAME: tfx.entry = {inputs = [{name = "x", type = tensor<2x8x64xf32>}], name = "main", outputs = [{name = "y", type = tensor<2x8x32xf32>}]}
// CHECK: %[[PANELS:.*]] = memref.view %[[W]][%{{.*}}][] : memref<?xi8> to memref<2x64x16xf32>
// CHECK: bufferization.to_tensor %[[PANELS]] restrict
// CHECK: bufferization.to_tensor %[[X]] restrict
// CHECK: %[[INIT:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<2x16xf32>) outs(%{{.*}} : tensor<16x2x16xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[A:.*]], #[[B:.*]], #[[C:.*]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%{{.*}}, %{{.*}} : tensor<16x64xf32>, tensor<2x64x16xf32>) outs(%[[INIT]] : tensor<16x2x16xf32>)
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: math.erf
// CHECK: bufferization.materialize_in_destination %{{.*}} in restrict writable %[[Y]]
// CHECK: return %{{.*}} : i32

module attributes {tfx.weights = "unused.safetensors"} {
func.func @main(%x: tensor<2x8x64xf32> {tfx.name = "x"}) -> (tensor<2x8x32xf32> {tfx.name = "y"}) {
  %w = tfx.weight "fc.weight" : tensor<32x64xf32>
  %b = tfx.weight "fc.bias" : tensor<32xf32>
  %y = tfx.linear %x, %w, %b : (tensor<2x8x64xf32>, tensor<32x64xf32>, tensor<32xf32>) -> tensor<2x8x32xf32>
  %g = tfx.gelu %y : tensor<2x8x32xf32>
  return %g : tensor<2x8x32xf32>
}
}
