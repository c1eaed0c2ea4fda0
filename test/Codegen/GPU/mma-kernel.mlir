// matmul-precision=f16: f32 contractions run on the tensor cores. 128
// threads (four warps in 2x2) per 64x64 tile; K steps of 32 staged in
// workgroup memory as f16 (rows padded by 8), A [64][40] and B [32][72];
// per step each warp does 2 x 4 mma.sync m16n8k16 twice, on fragments it
// reads from the tiles; the f32 sums are added to C. Other element types
// keep their mapping, and an unknown precision is an error.
// RUN: tfx-opt --tfx-gpu-map-loops=matmul-precision=f16 %s | FileCheck %s
// RUN: not tfx-opt --tfx-gpu-map-loops=matmul-precision=f8 %s 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: error: unknown matmul-precision 'f8' (f32, f16)

// CHECK-LABEL: func.func @main(
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c16{{(_[0-9]+)?}}, %{{.*}} = %c32{{(_[0-9]+)?}}, %{{.*}} = %c1{{(_[0-9]+)?}}) threads({{.*}}) in (%{{.*}} = %c128{{(_[0-9]+)?}}, {{.*}} function(@main_mma0) workgroup(%[[AS:.*]] : memref<64x40xf16, #gpu.address_space<workgroup>>, %[[BS:.*]] : memref<32x72xf16, #gpu.address_space<workgroup>>)
// CHECK: %[[ZERO:.*]] = arith.constant dense<0.000000e+00> : vector<2x2xf32>
// CHECK: scf.for %{{.*}} = %{{.*}} to %c512{{(_[0-9]+)?}} step %c32{{(_[0-9]+)?}} iter_args({{.*}}) -> (vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>)
// CHECK: arith.truncf %{{.*}} : f32 to f16
// CHECK: memref.store %{{.*}}, %[[AS]][%{{.*}}, %{{.*}}] : memref<64x40xf16, #gpu.address_space<workgroup>>
// CHECK: gpu.barrier
// CHECK: vector.from_elements {{.*}} : vector<4x2xf16>
// CHECK: vector.from_elements {{.*}} : vector<2x2xf16>
// CHECK-COUNT-16: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xf16>, vector<2x2xf16>, vector<2x2xf32>) -> vector<2x2xf32>
// CHECK: gpu.barrier
// CHECK: vector.extract %{{.*}}[0, 0] : f32 from vector<2x2xf32>
// CHECK: arith.addf
// The i32 matmul keeps a thread per element.
// CHECK: gpu.launch
// CHECK-NOT: nvgpu.mma.sync
// CHECK: return

module {
  func.func @main(%env: !llvm.ptr, %weights: memref<?xi8>, %scratch: memref<?xi8>,
                  %a: memref<2048x512xf32>, %b: memref<512x1024xf32>, %c: memref<2048x1024xf32>,
                  %ia: memref<4x8xi32>, %ib: memref<8x4xi32>, %ic: memref<4x4xi32>) -> i32
      attributes {tfx.entry = {name = "main", inputs = [], outputs = []}} {
    linalg.matmul ins(%a, %b : memref<2048x512xf32>, memref<512x1024xf32>) outs(%c : memref<2048x1024xf32>)
    linalg.matmul ins(%ia, %ib : memref<4x8xi32>, memref<8x4xi32>) outs(%ic : memref<4x4xi32>)
    %z = arith.constant 0 : i32
    return %z : i32
  }
}
