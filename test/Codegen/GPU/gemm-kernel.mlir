// An f32 contraction on buffers becomes one launch of the tiled GEMM: a
// grid of (N/T, M/T, batch) blocks of 256 threads, two 16xT tiles in
// workgroup memory, a K loop that stages them between barriers, a 16-step
// inner loop of FMAs on a register tile, and stores over C's initial value.
// T is 64, or 32 when 64x64 tiles would give fewer blocks than an H100 has
// multiprocessors. A contraction of another element type keeps the
// thread-per-element mapping.
// RUN: tfx-opt --tfx-gpu-map-loops %s | FileCheck %s

// CHECK-LABEL: func.func @main(
// The 2048x1024x512 matmul: 16x32 tiles of 64.
// CHECK: memref.reinterpret_cast %{{.*}} to offset: [0], sizes: [1048576], strides: [1]
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c16{{(_[0-9]+)?}}, %{{.*}} = %c32{{(_[0-9]+)?}}, %{{.*}} = %c1{{(_[0-9]+)?}}) threads({{.*}}) in (%{{.*}} = %c256{{(_[0-9]+)?}}, {{.*}}) module(@tfx_kernels) function(@main_gemm0) workgroup(%[[AS:.*]] : memref<16x64xf32, #gpu.address_space<workgroup>>, %[[BS:.*]] : memref<16x64xf32, #gpu.address_space<workgroup>>)
// CHECK: scf.for %{{.*}} = %{{.*}} to %c512{{(_[0-9]+)?}} step %c16{{(_[0-9]+)?}} iter_args(
// CHECK: memref.store %{{.*}}, %[[AS]][%{{.*}}, %{{.*}}] : memref<16x64xf32, #gpu.address_space<workgroup>>
// CHECK: memref.store %{{.*}}, %[[BS]][%{{.*}}, %{{.*}}] : memref<16x64xf32, #gpu.address_space<workgroup>>
// CHECK: gpu.barrier
// CHECK: scf.for
// CHECK-COUNT-16: math.fma
// CHECK: gpu.barrier
// CHECK-COUNT-16: memref.store
// The batched 12 x (128x64 @ 64x128): 32-wide tiles, the batch on grid z.
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c4{{(_[0-9]+)?}}, %{{.*}} = %c4{{(_[0-9]+)?}}, %{{.*}} = %c12{{(_[0-9]+)?}}) {{.*}} workgroup({{.*}} : memref<16x32xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<16x32xf32, #gpu.address_space<workgroup>>)
// CHECK-COUNT-4: math.fma
// A batch-1 FFN projection, 128x3072 @ 3072x768: 32-wide tiles (96 of
// them), K split in three chunks of 1024 whose sums are added atomically.
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c24{{(_[0-9]+)?}}, %{{.*}} = %c4{{(_[0-9]+)?}}, %{{.*}} = %c3{{(_[0-9]+)?}}) {{.*}} function(@main_gemm2)
// CHECK: %[[SPLIT:.*]] = arith.remui %{{.*}}, %c3
// CHECK: %[[BEGIN:.*]] = arith.muli %[[SPLIT]], %c1024
// CHECK: %[[END:.*]] = arith.minui %{{.*}}, %c3072
// CHECK: scf.for %{{.*}} = %[[BEGIN]] to %[[END]] step %c16
// CHECK-COUNT-4: memref.atomic_rmw addf
// The i32 matmul: one thread per output element.
// CHECK: gpu.launch
// CHECK-NOT: workgroup(
// CHECK: arith.muli
// CHECK: return

module {
  func.func @main(%env: !llvm.ptr, %weights: memref<?xi8>, %scratch: memref<?xi8>,
                  %a: memref<2048x512xf32>, %b: memref<512x1024xf32>, %c: memref<2048x1024xf32>,
                  %q: memref<12x128x64xf32>, %k: memref<12x64x128xf32>, %s: memref<12x128x128xf32>,
                  %ia: memref<4x8xi32>, %ib: memref<8x4xi32>, %ic: memref<4x4xi32>,
                  %h: memref<128x3072xf32>, %w2: memref<3072x768xf32>, %o: memref<128x768xf32>) -> i32
      attributes {tfx.entry = {name = "main", inputs = [], outputs = []}} {
    linalg.matmul ins(%a, %b : memref<2048x512xf32>, memref<512x1024xf32>) outs(%c : memref<2048x1024xf32>)
    linalg.batch_matmul ins(%q, %k : memref<12x128x64xf32>, memref<12x64x128xf32>) outs(%s : memref<12x128x128xf32>)
    linalg.matmul ins(%h, %w2 : memref<128x3072xf32>, memref<3072x768xf32>) outs(%o : memref<128x768xf32>)
    linalg.matmul ins(%ia, %ib : memref<4x8xi32>, memref<8x4xi32>) outs(%ic : memref<4x4xi32>)
    %z = arith.constant 0 : i32
    return %z : i32
  }
}
