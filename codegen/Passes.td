//===- Passes.td - code generation passes ------------------*- tablegen -*-===//
#ifndef TFX_CODEGEN_PASSES_TD
#define TFX_CODEGEN_PASSES_TD

include "mlir/Pass/PassBase.td"

def TfxLowerToLinalg : Pass<"tfx-lower-to-linalg", "mlir::ModuleOp"> {
  let summary = "Lower tfx ops to linalg/tensor and entry functions to the artifact ABI";
  let description = [{
    Rewrites every public function into the artifact calling convention
    (`%env: !llvm.ptr, %weights: memref<?xi8>, %scratch: memref<?xi8>`, one
    memref per input, one per output, returning an i32 status) and every tfx
    op into linalg (named ops where they exist, `linalg.generic` otherwise)
    and tensor ops. Weights (`tfx.weight`, large constants) are laid out in
    one blob at 64-byte aligned offsets, linear-layer weights in column
    panels of `panel` channels (`[N/panel][K][panel]`); the layout is recorded
    in the module attribute `tfx.weight_blob` and each weight becomes a view of
    `%weights`. With `kernels`, linear layers (with their epilogues),
    attention and norms become tiled, vectorized loop nests instead.
  }];
  let options = [
    Option<"kernels", "kernels", "bool", "false",
           "Use the tiled and vectorized CPU kernels for GEMMs, attention and norms">,
    Option<"panel", "panel", "int64_t", "16",
           "Output channels per packed weight panel (a multiple of 16)">,
    Option<"vectorWidth", "vector-width", "int64_t", "16",
           "f32 lanes of the target's vectors (16 for AVX-512, 8 for AVX2)">,
    Option<"vnni", "vnni", "bool", "false",
           "The target has AVX-512 VNNI: W8A8 linears run as int8 GEMMs (vpdpbusd)">,
    Option<"gpu", "gpu", "bool", "false",
           "Lay linear weights out for the GPU's GEMM kernel: [K][N], one panel of all N">,
  ];
  let dependentDialects = [
    "mlir::linalg::LinalgDialect", "mlir::tensor::TensorDialect",
    "mlir::arith::ArithDialect", "mlir::math::MathDialect",
    "mlir::memref::MemRefDialect", "mlir::bufferization::BufferizationDialect",
    "mlir::scf::SCFDialect", "mlir::vector::VectorDialect",
    "mlir::func::FuncDialect", "mlir::LLVM::LLVMDialect"
  ];
}

def TfxCpuTileGenerics : Pass<"tfx-cpu-tile-generics", "mlir::ModuleOp"> {
  let summary = "Distribute the outer parallel loop of linalg ops over scf.forall";
  let description = [{
    Tiles the outermost parallel dimension of each remaining linalg op of an
    entry function into an `scf.forall`, so that it runs on the runtime's
    thread pool, and leaves the rest for LLVM's loop vectorizer.
  }];
  let options = [
    Option<"minWork", "min-work", "int64_t", "32768",
           "Iterations below which an op stays sequential">,
  ];
  let dependentDialects = ["mlir::scf::SCFDialect", "mlir::linalg::LinalgDialect",
                           "mlir::tensor::TensorDialect", "mlir::affine::AffineDialect"];
}

def TfxCpuExpandMath : Pass<"tfx-cpu-expand-math", "mlir::ModuleOp"> {
  let summary = "Replace transcendental math ops by polynomial approximations";
  let description = [{
    exp, log, tanh, erf, sin, cos, pow... become arithmetic (vectorizable,
    and no calls into libm, which an artifact must not need).
  }];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::math::MathDialect",
                           "mlir::vector::VectorDialect", "mlir::LLVM::LLVMDialect"];
}

def TfxCpuAssignScratch : Pass<"tfx-cpu-assign-scratch", "mlir::ModuleOp"> {
  let summary = "Place the buffers of entry functions in the runtime's scratch memory";
  let description = [{
    Replaces each `memref.alloc` of an entry function by a view of the
    `%scratch` argument at an offset chosen so that buffers whose lifetimes
    overlap do not overlap in memory, and records the total as the
    `tfx.scratch_bytes` attribute of the function. Allocations inside
    parallel loop bodies become stack allocations at the top of the body.
  }];
  let dependentDialects = ["mlir::memref::MemRefDialect", "mlir::arith::ArithDialect"];
}

def TfxCpuOutlineParallel : Pass<"tfx-cpu-outline-parallel", "mlir::ModuleOp"> {
  let summary = "Outline scf.forall bodies into functions dispatched by the runtime";
  let description = [{
    Moves the body of every outermost `scf.forall` of an entry function into
    a private function `@<entry>_par<N>(%i: index, captures...)` and replaces
    the loop by a call of the declaration `@<entry>_par<N>_dispatch(%env,
    %count, captures...)`, which `tfx-cpu-lower-dispatch` turns into a call
    of `env->parallel_for` after the conversion to LLVM. Nested foralls run
    sequentially.
  }];
  let dependentDialects = ["mlir::func::FuncDialect", "mlir::scf::SCFDialect",
                           "mlir::arith::ArithDialect", "mlir::affine::AffineDialect"];
}

def TfxCpuLowerDispatch : Pass<"tfx-cpu-lower-dispatch", "mlir::ModuleOp"> {
  let summary = "Lower dispatch calls to env->parallel_for and add C-ABI entry points";
  let description = [{
    On the LLVM dialect: each call of a `_dispatch` declaration becomes a
    closure on the stack and a call of `env->parallel_for` with a trampoline
    that unpacks it; each entry function gets a wrapper
    `i32 @tfx_entry_<name>(ptr env, ptr weights, ptr inputs, ptr outputs)`
    with the `tfx_entry_fn` signature of artifact.h.
  }];
  let dependentDialects = ["mlir::LLVM::LLVMDialect"];
}

def TfxGpuMapLoops : Pass<"tfx-gpu-map-loops", "mlir::ModuleOp"> {
  let summary = "Put the loop nests of entry functions (on buffers) in gpu.launch ops";
  let description = [{
    Lowers every linalg op of an entry function to loops and each top-level
    loop nest to a `gpu.launch` of one thread per parallel iteration (blocks
    of up to 256 threads, the linear id split innermost-fastest so that
    neighbouring threads access neighbouring elements); an op without
    parallel dimensions gets one thread. All launches name the kernel module
    `@tfx_kernels`. A scalar load left on the host becomes a call of
    `@tfx_gpu_read`; any other host access to a buffer is an error.
  }];
  let options = [
    Option<"matmulPrecision", "matmul-precision", "std::string", "\"f32\"",
           "Inputs of f32 contractions: f32 (SIMT FMAs) or f16 (rounded, then "
           "multiplied on the tensor cores with f32 sums)">,
  ];
  let dependentDialects = ["mlir::gpu::GPUDialect", "mlir::scf::SCFDialect",
                           "mlir::nvgpu::NVGPUDialect", "mlir::vector::VectorDialect",
                           "mlir::arith::ArithDialect", "mlir::memref::MemRefDialect",
                           "mlir::func::FuncDialect", "mlir::LLVM::LLVMDialect"];
}

def TfxGpuLowerLaunch : Pass<"tfx-gpu-lower-launch", "mlir::ModuleOp"> {
  let summary = "Lower gpu.launch_func and the kernel binary to env->gpu_launch calls";
  let description = [{
    On the LLVM dialect after `gpu-module-to-binary`: the cubin of
    `gpu.binary @tfx_kernels` becomes the constant global `tfx_gpu_image`,
    each `gpu.launch_func` a call of `env->gpu_launch(env->gpu, index, grid,
    block, shared_bytes, params)` with the kernel's index in the module
    attribute `tfx.gpu_kernels`, and each `@tfx_gpu_read` call a call of
    `env->gpu_read`.
  }];
  let dependentDialects = ["mlir::LLVM::LLVMDialect"];
}

#endif // TFX_CODEGEN_PASSES_TD
