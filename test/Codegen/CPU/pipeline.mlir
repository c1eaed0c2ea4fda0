// The whole CPU pipeline down to the LLVM dialect: the parallel loop is an
// outlined body called through env->parallel_for (field 0 of the
// tfx_exec_env, the pool in field 1) with a stack closure and a trampoline;
// buffers live in env->scratch (field 2); the C-ABI wrapper builds the
// memref descriptors from the pointer arrays; and nothing calls malloc or
// libm.
// RUN: tfx-opt --tfx-cpu-codegen %s | FileCheck %s

// CHECK-NOT: llvm.func @malloc
// CHECK-LABEL: llvm.func internal @main(
// CHECK: %[[TRAMP:.*]] = llvm.mlir.addressof @main_par0_trampoline : !llvm.ptr
// CHECK: %[[CLOSURE:.*]] = llvm.alloca %{{.*}} x !llvm.struct<
// CHECK: llvm.store %{{.*}}, %{{.*}} : i64, !llvm.ptr
// CHECK: %[[FNSLOT:.*]] = llvm.getelementptr %arg0[0, 0] : (!llvm.ptr) -> !llvm.ptr, !llvm.struct<(ptr, ptr, ptr, ptr, ptr, ptr, ptr)>
// CHECK: %[[FN:.*]] = llvm.load %[[FNSLOT]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[POOLSLOT:.*]] = llvm.getelementptr %arg0[0, 1] : (!llvm.ptr) -> !llvm.ptr, !llvm.struct<(ptr, ptr, ptr, ptr, ptr, ptr, ptr)>
// CHECK: %[[POOL:.*]] = llvm.load %[[POOLSLOT]] : !llvm.ptr -> !llvm.ptr
// CHECK: llvm.call %[[FN]](%[[POOL]], %{{.*}}, %[[TRAMP]], %[[CLOSURE]]) : !llvm.ptr, (!llvm.ptr, i64, !llvm.ptr, !llvm.ptr) -> ()
// CHECK: llvm.func internal @main_par0(%{{.*}}: i64,
// CHECK: llvm.intr.fmuladd
// CHECK: llvm.func internal @main_par0_trampoline(%{{.*}}: !llvm.ptr, %{{.*}}: i64)
// CHECK: llvm.call @main_par0(
// CHECK: llvm.func @tfx_entry_main(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr) -> i32
// CHECK-SAME: tfx.scratch_bytes = {{[0-9]+}} : i64
// CHECK: llvm.getelementptr %arg0[0, 2] : (!llvm.ptr) -> !llvm.ptr, !llvm.struct<(ptr, ptr, ptr, ptr, ptr, ptr, ptr)>
// CHECK: llvm.call @main(
// CHECK-NOT: llvm.func @{{(expf|erff|tanhf|malloc|free)}}

func.func @main(%q: tensor<2x16x64xf32> {tfx.name = "q"}, %k: tensor<2x16x32xf32> {tfx.name = "k"},
                %v: tensor<2x16x32xf32> {tfx.name = "v"})
    -> (tensor<2x16x64xf32> {tfx.name = "out"}) {
  %o = tfx.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 0.25 : f32, causal = true}
      : (tensor<2x16x64xf32>, tensor<2x16x32xf32>, tensor<2x16x32xf32>) -> tensor<2x16x64xf32>
  %e = tfx.exp %o : tensor<2x16x64xf32>
  return %e : tensor<2x16x64xf32>
}
