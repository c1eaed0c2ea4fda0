// tfx-gpu-map-loops: each linalg op of an entry becomes one gpu.launch in
// the module @tfx_kernels, one thread per parallel iteration (blocks of at
// most 256 threads, the linear id split innermost-fastest, a guard for the
// last block); a reduction of 32 or more elements gets a block per output
// element, a shorter one stays a loop inside the thread; an op with no
// parallel dimension gets one thread; the scalar the host reads
// back becomes a call of @tfx_gpu_flag when it is an error flag OR-ed into
// the returned status (the runtime checks it after the call's work) and of
// @tfx_gpu_read otherwise; constant globals are cloned into the launch.
// RUN: tfx-opt --tfx-gpu-map-loops %s | FileCheck %s
// RUN: tfx-opt --tfx-gpu-map-loops --split-input-file --verify-diagnostics %S/Inputs/map-loops-errors.mlir

// CHECK: module attributes {gpu.container_module}
// CHECK-DAG: func.func private @tfx_gpu_read(!llvm.ptr, index, i64) -> i64
// CHECK-DAG: func.func private @tfx_gpu_flag(!llvm.ptr, index, i64)
// CHECK-LABEL: func.func @main(
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// A 4x300 elementwise op: 1200 iterations, 5 blocks of 256.
// CHECK: gpu.launch blocks(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %c5{{(_[0-9]+)?}}, %{{.*}} = %c1{{(_[0-9]+)?}}, %{{.*}} = %c1{{(_[0-9]+)?}}) threads(%[[TX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c256{{(_[0-9]+)?}}, %{{.*}} = %c1{{(_[0-9]+)?}}, %{{.*}} = %c1{{(_[0-9]+)?}}) module(@tfx_kernels)
// CHECK: %[[ID:.*]] = arith.addi %{{.*}}, %[[TX]] : index
// CHECK: %[[IN:.*]] = arith.cmpi ult, %[[ID]], %{{.*}} : index
// CHECK: scf.if %[[IN]] {
// CHECK: %[[J:.*]] = arith.remui %[[ID]], %{{.*}} : index
// CHECK: %[[I:.*]] = arith.divui %[[ID]], %{{.*}} : index
// CHECK: %[[II:.*]] = affine.apply #{{.*}}(%[[I]])
// CHECK: %[[JJ:.*]] = affine.apply #{{.*}}(%[[J]])
// CHECK: memref.load %{{.*}}[%[[II]], %[[JJ]]] : memref<4x300xf32>
// CHECK: math.exp
// CHECK: memref.store %{{.*}}, %{{.*}}[%{{.*}}, %{{.*}}] : memref<4x300xf32>
// CHECK: gpu.terminator
// The row sum: one block of 256 threads per row, each thread folding the
// columns tid, tid + 256, ... from 0 (the identity of the add), then a tree
// of halvings in workgroup memory and thread 0 adding the total to the
// output's initial value.
// CHECK: gpu.launch blocks(%[[ROW:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c4{{(_[0-9]+)?}}, {{.*}} threads(%[[T:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c256{{(_[0-9]+)?}}, {{.*}} workgroup(%[[SH:.*]] : memref<256xf32, #gpu.address_space<workgroup>>)
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[PART:.*]] = scf.for %[[R:.*]] = %[[T]] to %c300{{(_[0-9]+)?}} step %c256{{(_[0-9]+)?}} iter_args(%[[ACC:.*]] = %[[ZERO]]) -> (f32)
// CHECK: memref.load %{{.*}}[%[[ROW]], %[[R]]] : memref<4x300xf32>
// CHECK: memref.store %[[PART]], %[[SH]][%[[T]]]
// CHECK: gpu.barrier
// CHECK-COUNT-8: gpu.barrier
// CHECK: arith.cmpi eq, %[[T]], %c0
// CHECK: memref.load %[[SH]][%c0
// CHECK: memref.store %{{.*}}, %{{.*}}[%[[ROW]]] : memref<4xf32>
// The error flag: a full reduction, one thread, then read back on the host.
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c1{{(_[0-9]+)?}}, {{.*}} threads({{.*}}) in (%{{.*}} = %c1{{(_[0-9]+)?}}, %{{.*}} = %c1{{(_[0-9]+)?}}, %{{.*}} = %c1{{(_[0-9]+)?}}) module(@tfx_kernels)
// CHECK: scf.for
// CHECK: arith.cmpi sge
// CHECK: %[[BASE:.*]] = memref.extract_aligned_pointer_as_index %{{.*}} : memref<i1> -> index
// CHECK: call @tfx_gpu_flag(%arg0, %{{.*}}, %{{.*}}) : (!llvm.ptr, index, i64) -> ()
// CHECK: %[[FALSE:.*]] = arith.constant false
// CHECK: arith.extui %[[FALSE]] : i1 to i32
// A value the host uses otherwise is read back at once.
// CHECK: %[[WORD:.*]] = call @tfx_gpu_read(%arg0, %{{.*}}, %{{.*}}) : (!llvm.ptr, index, i64) -> i64
// CHECK: %[[COUNT:.*]] = arith.trunci %[[WORD]] : i64 to i32
// CHECK: arith.ori %{{.*}}, %[[COUNT]] : i32
// The constant table read inside the kernel.
// CHECK: gpu.launch
// CHECK: memref.get_global @table : memref<4xf32>
// CHECK: return

#id = affine_map<(i, j) -> (i, j)>
#row = affine_map<(i, j) -> (i)>
#all = affine_map<(i) -> (i)>
#none = affine_map<(i) -> ()>
module {
  memref.global "private" constant @table : memref<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]>
  func.func @main(%env: !llvm.ptr, %weights: memref<?xi8>, %scratch: memref<?xi8>,
                  %x: memref<4x300xf32>, %ids: memref<4xi64>, %y: memref<4x300xf32>,
                  %s: memref<4xf32>, %t: memref<4xf32>) -> i32
      attributes {tfx.entry = {name = "main", inputs = [], outputs = []}} {
    %c0 = arith.constant 0 : index
    %flag = memref.view %scratch[%c0][] : memref<?xi8> to memref<i1>
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%x : memref<4x300xf32>) outs(%y : memref<4x300xf32>) {
    ^bb0(%a: f32, %b: f32):
      %e = math.exp %a : f32
      linalg.yield %e : f32
    }
    linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
        ins(%x : memref<4x300xf32>) outs(%s : memref<4xf32>) {
    ^bb0(%a: f32, %b: f32):
      %sum = arith.addf %a, %b : f32
      linalg.yield %sum : f32
    }
    linalg.generic {indexing_maps = [#all, #none], iterator_types = ["reduction"]}
        ins(%ids : memref<4xi64>) outs(%flag : memref<i1>) {
    ^bb0(%a: i64, %b: i1):
      %limit = arith.constant 100 : i64
      %bad = arith.cmpi sge, %a, %limit : i64
      %any = arith.ori %b, %bad : i1
      linalg.yield %any : i1
    }
    %v = memref.load %flag[] : memref<i1>
    %code0 = arith.extui %v : i1 to i32
    %c64 = arith.constant 64 : index
    %counts = memref.view %scratch[%c64][] : memref<?xi8> to memref<i32>
    %w = memref.load %counts[] : memref<i32>
    %code = arith.ori %code0, %w : i32
    %table = memref.get_global @table : memref<4xf32>
    linalg.copy ins(%table : memref<4xf32>) outs(%t : memref<4xf32>)
    return %code : i32
  }
}
