//===- GpuLowering.h - shared pieces of the CUDA code generator -*- C++ -*-===//
#ifndef TFX_CODEGEN_GPU_GPULOWERING_H
#define TFX_CODEGEN_GPU_GPULOWERING_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Support/LogicalResult.h"

namespace mlir::tfx {

/// The one gpu.module every kernel of an artifact is outlined into.
inline constexpr llvm::StringLiteral kGpuKernelModule = "tfx_kernels";
/// `i64 @tfx_gpu_read(ptr env, index device_address, i64 bytes)`: a host
/// read of up to 8 bytes of device memory (tfx-gpu-lower-launch lowers it).
inline constexpr llvm::StringLiteral kGpuReadFunction = "tfx_gpu_read";
/// `@tfx_gpu_flag(ptr env, index device_address, i64 bytes)`: an error flag
/// the runtime checks when the call's work is done (nonzero: the entry
/// fails as if it had returned nonzero).
inline constexpr llvm::StringLiteral kGpuFlagFunction = "tfx_gpu_flag";
/// Module attributes tfx-gpu-lower-launch leaves for the descriptor: the
/// kernel names in launch-index order, the image global and the chip.
inline constexpr llvm::StringLiteral kGpuKernelsAttr = "tfx.gpu_kernels";
inline constexpr llvm::StringLiteral kGpuImageAttr = "tfx.gpu_image";
inline constexpr llvm::StringLiteral kGpuArchAttr = "tfx.gpu_arch";
/// Set on a launch by the kernel that made it ("gemm", "reduce"); the
/// kernel is then named <entry>_<kind><n> (plain loops: <entry>_loop<n>).
inline constexpr llvm::StringLiteral kGpuKernelKindAttr = "tfx.kernel_kind";
/// Threads per block of the element-wise mapping.
inline constexpr int64_t kGpuBlockThreads = 256;

/// Replaces an f32 contraction C[b,m,n] += A[b,m,k] * B[b,k,n] (on
/// buffers, static strided layouts) by a launch of the tiled shared-memory
/// GEMM kernel; failure (nothing changed) for any other op.
/// With `mmaType` (f16) the operands are rounded to it in shared
/// memory and multiplied on the tensor cores (mma.sync) with f32 sums.
LogicalResult emitGpuContraction(linalg::LinalgOp op, Type mmaType = {});

/// Replaces a linalg op with one reduction dimension folded by one
/// associative, commutative operation (add, mul, max, min, or, and) by a
/// launch of one block per output element with a shared-memory tree;
/// failure (nothing changed) otherwise or for rows shorter than 32.
LogicalResult emitGpuRowReduction(linalg::LinalgOp op);

/// Lowers the linalg ops of one entry function (on buffers) to loops and
/// puts every top-level loop nest in a gpu.launch.
LogicalResult mapEntryToGpu(func::FuncOp f, Type mmaType = {});

} // namespace mlir::tfx

#endif // TFX_CODEGEN_GPU_GPULOWERING_H
