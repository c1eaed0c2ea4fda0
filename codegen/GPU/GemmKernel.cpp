//===- GemmKernel.cpp - f32 contractions as tiled GPU kernels -------------===//
//
// A linalg op on buffers that computes C[b, m, n] += A[b, m, k] * B[b, k, n]
// (linalg.matmul, batch_matmul, the linear layers' generic; any strided
// layouts, broadcast batch dimensions) becomes one launch of the classic
// shared-memory tiling instead of a thread per output element:
//
//   grid (ceil(N/T), ceil(M/T), batch) of 256 threads, T = 64 (or 32 when
//   64x64 tiles would leave multiprocessors idle);
//   per K step of 16, the block stages a Tx16 tile of A (k-major, so that
//   the compute loop reads rows of it) and a 16xT tile of B in shared
//   memory, neighbouring threads loading neighbouring elements of the
//   operands' contiguous dimension;
//   each thread keeps a (T/16)^2 tile of C in registers, rows ty + 16i and
//   columns tx + 16j, so that a warp reads 16 consecutive words of the B
//   tile (no bank conflicts) and broadcasts two of the A tile.
//
// Out-of-range rows, columns and k are guarded (zeros staged, no stores),
// so any M, N, K works. C's initial value (zeros, or the broadcast bias) is
// read once at the end and the sum stored over it. When even that leaves
// multiprocessors idle (a batch-1 FFN: M = 128), K is split into chunks of
// at least 256 until there are about two blocks per multiprocessor; the
// chunks' partial sums are added to C with atomics (so the order of those
// few additions varies run to run).
//
//===----------------------------------------------------------------------===//

#include "GpuLowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::tfx;

namespace {
/// 16x16 threads; each owns kThreadTile^2 outputs of a (16 kThreadTile)^2
/// block tile. A grid of 64x64 tiles that would not give every
/// multiprocessor a block uses 32x32 tiles (four times the blocks).
constexpr int64_t kTileK = 16, kThreads = 256, kSide = 16;
constexpr int64_t kMinBlocks = 132; // the multiprocessors of an H100/H200
constexpr int64_t kMinSplitK = 256; // the least K a split-K block sums

/// One operand as a flat buffer: element offset and a stride per loop dim.
struct Operand {
  Value flat;
  int64_t offset = 0;
  SmallVector<int64_t> strides; // per loop dimension (0: not indexed)
};

struct Contraction {
  Operand a, b, c;
  unsigned m, n, k;
  SmallVector<unsigned> batch;   // batch dims, outermost first
  SmallVector<int64_t> extents;  // per loop dimension
};
} // namespace

/// Is the body `yield out + in0 * in1` (either order) on f32?
static bool isMultiplyAdd(linalg::LinalgOp op) {
  Block *body = op.getBlock();
  auto yield = dyn_cast<linalg::YieldOp>(body->getTerminator());
  if (!yield || yield.getNumOperands() != 1 || body->getNumArguments() != 3)
    return false;
  for (BlockArgument arg : body->getArguments())
    if (!arg.getType().isF32())
      return false;
  auto add = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!add)
    return false;
  Value out = body->getArgument(2), product;
  if (add.getLhs() == out)
    product = add.getRhs();
  else if (add.getRhs() == out)
    product = add.getLhs();
  else
    return false;
  auto mul = product.getDefiningOp<arith::MulFOp>();
  if (!mul)
    return false;
  Value x = body->getArgument(0), y = body->getArgument(1);
  return (mul.getLhs() == x && mul.getRhs() == y) || (mul.getLhs() == y && mul.getRhs() == x);
}

/// The operand's element strides per loop dim and the elements its view
/// spans from its allocation's start; failure for dynamic layouts or maps
/// that are not projected permutations.
static FailureOr<Operand> analyze(Value memref, AffineMap map, unsigned loops,
                                  int64_t &span) {
  auto type = dyn_cast<MemRefType>(memref.getType());
  if (!type || !type.hasStaticShape() || !type.getElementType().isF32())
    return failure();
  auto [strides, offset] = type.getStridesAndOffset();
  if (ShapedType::isDynamic(offset) || llvm::any_of(strides, ShapedType::isDynamic))
    return failure();
  Operand result;
  result.flat = memref;
  result.offset = offset;
  result.strides.assign(loops, 0);
  span = offset + 1;
  for (auto [j, expr] : llvm::enumerate(map.getResults())) {
    auto dim = dyn_cast<AffineDimExpr>(expr);
    if (!dim)
      return failure();
    result.strides[dim.getPosition()] += strides[j];
    span += (type.getShape()[j] - 1) * strides[j];
  }
  return result;
}

/// A 1-D view of the operand from its allocation's start (host metadata).
static void flatten(OpBuilder &b, Location loc, Operand &x, int64_t span) {
  auto type = cast<MemRefType>(x.flat.getType());
  auto flatType = MemRefType::get({span}, type.getElementType(),
                                  StridedLayoutAttr::get(b.getContext(), 0, {1}),
                                  type.getMemorySpace());
  x.flat = memref::ReinterpretCastOp::create(b, loc, flatType, x.flat, /*offset=*/0,
                                             ArrayRef<int64_t>{span}, ArrayRef<int64_t>{1});
}

static FailureOr<Contraction> matchContraction(linalg::LinalgOp op, int64_t spans[3]) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 || !op.hasPureBufferSemantics() ||
      !isMultiplyAdd(op))
    return failure();
  FailureOr<linalg::ContractionDimensions> dims = linalg::inferContractionDims(op);
  if (failed(dims) || dims->k.size() != 1)
    return failure();
  SmallVector<int64_t> extents = op.getStaticLoopRanges();
  if (llvm::any_of(extents, ShapedType::isDynamic))
    return failure();
  // Extra m or n dims of extent 1 (the packed linear's panel index) are
  // ignored; otherwise one m and one n dim.
  auto pick = [&](ArrayRef<unsigned> candidates) -> std::optional<unsigned> {
    std::optional<unsigned> chosen;
    for (unsigned d : candidates) {
      if (extents[d] == 1 && candidates.size() > 1)
        continue;
      if (chosen)
        return std::nullopt;
      chosen = d;
    }
    if (!chosen && !candidates.empty())
      chosen = candidates.back();
    return chosen;
  };
  std::optional<unsigned> m = pick(dims->m), n = pick(dims->n);
  if (!m || !n)
    return failure();
  unsigned loops = op.getNumLoops();
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  Contraction c;
  c.m = *m;
  c.n = *n;
  c.k = dims->k.front();
  c.batch.assign(dims->batch.begin(), dims->batch.end());
  c.extents = extents;
  FailureOr<Operand> a = analyze(op.getDpsInputs()[0], maps[0], loops, spans[0]);
  FailureOr<Operand> bb = analyze(op.getDpsInputs()[1], maps[1], loops, spans[1]);
  FailureOr<Operand> cc = analyze(op.getDpsInits()[0], maps[2], loops, spans[2]);
  if (failed(a) || failed(bb) || failed(cc))
    return failure();
  c.a = *a;
  c.b = *bb;
  c.c = *cc;
  return c;
}

/// The tensor-core variant (mmaType f16): 128 threads, four warps
/// in 2x2, each warp a 32x32 quarter of the 64x64 block tile as 2x4
/// mma.sync m16n8k16 tiles with f32 accumulators; K steps of 32 staged in
/// shared memory as mmaType (rounded from f32 on the way in), rows padded by
/// 8 elements so that the fragment reads of a warp hit 32 distinct banks.
namespace {
constexpr int64_t kMmaTile = 64, kMmaTileK = 32, kMmaThreads = 128, kMmaPad = 8;
} // namespace

LogicalResult mlir::tfx::emitGpuContraction(linalg::LinalgOp op, Type mmaType) {
  int64_t spans[3];
  FailureOr<Contraction> found = matchContraction(op, spans);
  if (failed(found))
    return failure();
  OpBuilder b(op);
  Location loc = op.getLoc();
  Contraction &c = *found;
  flatten(b, loc, c.a, spans[0]);
  flatten(b, loc, c.b, spans[1]);
  flatten(b, loc, c.c, spans[2]);
  MLIRContext *ctx = b.getContext();
  int64_t mSize = c.extents[c.m], nSize = c.extents[c.n], kSize = c.extents[c.k];
  int64_t batch = 1;
  for (unsigned d : c.batch)
    batch *= c.extents[d];
  auto cst = [&](OpBuilder &ob, int64_t v) -> Value {
    return arith::ConstantIndexOp::create(ob, loc, v);
  };
  auto f32 = b.getF32Type();
  auto workgroup = gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  bool mma = (bool)mmaType;
  int64_t kThreadTile = 4;
  if (!mma && llvm::divideCeil(nSize, 64) * llvm::divideCeil(mSize, 64) * batch < kMinBlocks)
    kThreadTile = 2;
  const int64_t kTileM = mma ? kMmaTile : kSide * kThreadTile, kTileN = kTileM;
  const int64_t tileK = mma ? kMmaTileK : kTileK, threads = mma ? kMmaThreads : kThreads;
  // Split K when even 32-wide tiles leave multiprocessors idle: each of
  // `splits` blocks of a tile sums a chunk of K and adds it to C atomically.
  int64_t tiles = llvm::divideCeil(nSize, kTileN) * llvm::divideCeil(mSize, kTileM) * batch;
  int64_t splits = 1;
  if (tiles < kMinBlocks)
    splits = std::max<int64_t>(
        1, std::min<int64_t>(llvm::divideCeil(2 * kMinBlocks, tiles), kSize / kMinSplitK));
  int64_t kChunk = llvm::alignTo(llvm::divideCeil(kSize, splits), tileK);
  splits = llvm::divideCeil(kSize, kChunk);
  // SIMT: A k-major [16][T] and B [16][T] in f32. MMA: A [64][32 + pad]
  // (rows of k) and B [32][64 + pad] in mmaType.
  auto aTileType = mma ? MemRefType::get({kMmaTile, kMmaTileK + kMmaPad}, mmaType,
                                         MemRefLayoutAttrInterface(), workgroup)
                       : MemRefType::get({kTileK, kTileM}, f32, MemRefLayoutAttrInterface(), workgroup);
  auto bTileType = mma ? MemRefType::get({kMmaTileK, kMmaTile + kMmaPad}, mmaType,
                                         MemRefLayoutAttrInterface(), workgroup)
                       : aTileType;
  Value one = cst(b, 1);
  auto launch = gpu::LaunchOp::create(
      b, loc, cst(b, llvm::divideCeil(nSize, kTileN)), cst(b, llvm::divideCeil(mSize, kTileM)),
      cst(b, batch * splits), cst(b, threads), one, one, nullptr, nullptr, {},
      TypeRange{aTileType, bTileType}, {}, nullptr, nullptr, nullptr,
      FlatSymbolRefAttr::get(ctx, kGpuKernelModule), nullptr);
  launch->setAttr(kGpuKernelKindAttr, b.getStringAttr(mma ? "mma" : "gemm"));
  Value as = launch.getWorkgroupAttributions()[0], bs = launch.getWorkgroupAttributions()[1];
  OpBuilder kb = OpBuilder::atBlockBegin(&launch.getBody().front());
  Value tid = launch.getThreadIds().x;
  Value tx = arith::RemUIOp::create(kb, loc, tid, cst(kb, kTileN / kThreadTile));
  Value ty = arith::DivUIOp::create(kb, loc, tid, cst(kb, kTileN / kThreadTile));
  Value rowBase = arith::MulIOp::create(kb, loc, launch.getBlockIds().y, cst(kb, kTileM));
  Value colBase = arith::MulIOp::create(kb, loc, launch.getBlockIds().x, cst(kb, kTileN));

  // Element offset of an operand at (batch index, m, n, k) = its offset +
  // the batch part + the strides of the three dims.
  Value rest = launch.getBlockIds().z;
  Value kBegin = cst(kb, 0), kEnd = cst(kb, kSize);
  if (splits > 1) {
    Value split = arith::RemUIOp::create(kb, loc, rest, cst(kb, splits));
    rest = arith::DivUIOp::create(kb, loc, rest, cst(kb, splits));
    kBegin = arith::MulIOp::create(kb, loc, split, cst(kb, kChunk));
    kEnd = arith::MinUIOp::create(kb, loc, arith::AddIOp::create(kb, loc, kBegin, cst(kb, kChunk)),
                                  kEnd);
  }
  SmallVector<Value> batchIndex(c.batch.size());
  for (int64_t d = (int64_t)c.batch.size() - 1; d >= 0; --d) {
    int64_t extent = c.extents[c.batch[d]];
    batchIndex[d] = arith::RemUIOp::create(kb, loc, rest, cst(kb, extent));
    rest = arith::DivUIOp::create(kb, loc, rest, cst(kb, extent));
  }
  auto baseOf = [&](const Operand &x) -> Value {
    Value base = cst(kb, x.offset);
    for (auto [d, index] : llvm::zip(c.batch, batchIndex))
      if (x.strides[d])
        base = arith::AddIOp::create(
            kb, loc, base, arith::MulIOp::create(kb, loc, index, cst(kb, x.strides[d])));
    return base;
  };
  Value aBase = baseOf(c.a), bBase = baseOf(c.b), cBase = baseOf(c.c);
  auto at = [&](OpBuilder &ob, Value base, const Operand &x, Value i, unsigned di, Value j,
                unsigned dj) -> Value {
    Value sum = base;
    if (x.strides[di])
      sum = arith::AddIOp::create(ob, loc, sum,
                                  arith::MulIOp::create(ob, loc, i, cst(ob, x.strides[di])));
    if (x.strides[dj])
      sum = arith::AddIOp::create(ob, loc, sum,
                                  arith::MulIOp::create(ob, loc, j, cst(ob, x.strides[dj])));
    return sum;
  };
  auto lessThan = [&](OpBuilder &ob, Value v, int64_t bound) -> Value {
    return arith::CmpIOp::create(ob, loc, arith::CmpIPredicate::ult, v, cst(ob, bound));
  };
  Value zero = arith::ConstantFloatOp::create(kb, loc, f32, APFloat(0.0f));
  // A guarded load: the element, or 0 out of range.
  auto guardedLoad = [&](OpBuilder &ob, Value inRange, Value flat, Value index) -> Value {
    auto ifOp = scf::IfOp::create(
        ob, loc, inRange,
        [&](OpBuilder &tb, Location l) {
          scf::YieldOp::create(tb, l, ValueRange{memref::LoadOp::create(tb, l, flat, index)});
        },
        [&](OpBuilder &eb, Location l) { scf::YieldOp::create(eb, l, ValueRange{zero}); });
    return ifOp.getResult(0);
  };

  // Warps and lanes of the MMA variant: warp (wm, wn) of 2x2, lane
  // (group g = lane / 4, thread t = lane % 4) as mma.sync's fragments use.
  Value wm, wn, g, t;
  if (mma) {
    Value warp = arith::DivUIOp::create(kb, loc, tid, cst(kb, 32));
    Value lane = arith::RemUIOp::create(kb, loc, tid, cst(kb, 32));
    wm = arith::MulIOp::create(kb, loc, arith::DivUIOp::create(kb, loc, warp, cst(kb, 2)),
                               cst(kb, 32));
    wn = arith::MulIOp::create(kb, loc, arith::RemUIOp::create(kb, loc, warp, cst(kb, 2)),
                               cst(kb, 32));
    g = arith::DivUIOp::create(kb, loc, lane, cst(kb, 4));
    t = arith::MulIOp::create(kb, loc, arith::RemUIOp::create(kb, loc, lane, cst(kb, 4)),
                              cst(kb, 2));
  }
  auto accType = VectorType::get({2, 2}, f32);
  Value zeroAcc;
  if (mma)
    zeroAcc = arith::ConstantOp::create(kb, loc, accType, DenseElementsAttr::get(accType, 0.0f));
  SmallVector<Value> init = mma ? SmallVector<Value>(8, zeroAcc)
                                : SmallVector<Value>(kThreadTile * kThreadTile, zero);
  auto kLoop = scf::ForOp::create(
      kb, loc, kBegin, kEnd, cst(kb, tileK), init,
      [&](OpBuilder &lb, Location, Value k0, ValueRange acc) {
        // Stage the tiles, neighbouring threads loading neighbouring
        // elements of the contiguous dimension.
        for (int64_t r = 0; r < kTileM * tileK / threads; ++r) {
          Value e = arith::AddIOp::create(lb, loc, tid, cst(lb, r * threads));
          // A: T rows x tileK k, k fastest.
          Value row = arith::DivUIOp::create(lb, loc, e, cst(lb, tileK));
          Value kk = arith::RemUIOp::create(lb, loc, e, cst(lb, tileK));
          Value gm = arith::AddIOp::create(lb, loc, rowBase, row);
          Value gk = arith::AddIOp::create(lb, loc, k0, kk);
          Value ok = arith::AndIOp::create(lb, loc, lessThan(lb, gm, mSize),
                                           lessThan(lb, gk, kSize));
          Value va = guardedLoad(lb, ok, c.a.flat, at(lb, aBase, c.a, gm, c.m, gk, c.k));
          if (mma)
            memref::StoreOp::create(lb, loc, arith::TruncFOp::create(lb, loc, mmaType, va), as,
                                    ValueRange{row, kk});
          else
            memref::StoreOp::create(lb, loc, va, as, ValueRange{kk, row});
          // B: tileK k x T columns, columns fastest.
          Value bk = arith::DivUIOp::create(lb, loc, e, cst(lb, kTileN));
          Value col = arith::RemUIOp::create(lb, loc, e, cst(lb, kTileN));
          Value gn = arith::AddIOp::create(lb, loc, colBase, col);
          Value gbk = arith::AddIOp::create(lb, loc, k0, bk);
          Value okb = arith::AndIOp::create(lb, loc, lessThan(lb, gn, nSize),
                                            lessThan(lb, gbk, kSize));
          Value vb = guardedLoad(lb, okb, c.b.flat, at(lb, bBase, c.b, gbk, c.k, gn, c.n));
          if (mma)
            vb = arith::TruncFOp::create(lb, loc, mmaType, vb);
          memref::StoreOp::create(lb, loc, vb, bs, ValueRange{bk, col});
        }
        gpu::BarrierOp::create(lb, loc);
        if (mma) {
          SmallVector<Value> sums(acc.begin(), acc.end());
          auto add = [&](Value x, int64_t v) -> Value {
            return arith::AddIOp::create(lb, loc, x, cst(lb, v));
          };
          for (int64_t kk = 0; kk < kMmaTileK; kk += 16) {
            Value k0v = add(t, kk), k1v = add(t, kk + 8);
            Value k0n = add(t, kk + 1), k1n = add(t, kk + 9);
            SmallVector<Value> aFrag, bFrag;
            for (int64_t i = 0; i < 2; ++i) {
              Value r0 = add(arith::AddIOp::create(lb, loc, wm, g), i * 16);
              Value r1 = add(r0, 8);
              SmallVector<Value> e;
              for (auto [r, k, k2] : {std::tuple{r0, k0v, k0n}, std::tuple{r1, k0v, k0n},
                                      std::tuple{r0, k1v, k1n}, std::tuple{r1, k1v, k1n}}) {
                e.push_back(memref::LoadOp::create(lb, loc, as, ValueRange{r, k}));
                e.push_back(memref::LoadOp::create(lb, loc, as, ValueRange{r, k2}));
              }
              aFrag.push_back(vector::FromElementsOp::create(
                  lb, loc, VectorType::get({4, 2}, mmaType), e));
            }
            for (int64_t j = 0; j < 4; ++j) {
              Value n = add(arith::AddIOp::create(lb, loc, wn, g), j * 8);
              SmallVector<Value> e;
              for (Value k : {k0v, k0n, k1v, k1n})
                e.push_back(memref::LoadOp::create(lb, loc, bs, ValueRange{k, n}));
              bFrag.push_back(vector::FromElementsOp::create(
                  lb, loc, VectorType::get({2, 2}, mmaType), e));
            }
            for (int64_t i = 0; i < 2; ++i)
              for (int64_t j = 0; j < 4; ++j)
                sums[i * 4 + j] = nvgpu::MmaSyncOp::create(lb, loc, aFrag[i], bFrag[j],
                                                           sums[i * 4 + j],
                                                           ArrayRef<int64_t>{16, 8, 16});
          }
          gpu::BarrierOp::create(lb, loc);
          scf::YieldOp::create(lb, loc, sums);
          return;
        }
        auto inner = scf::ForOp::create(
            lb, loc, cst(lb, 0), cst(lb, kTileK), cst(lb, 1), acc,
            [&](OpBuilder &ib, Location, Value kk, ValueRange sums) {
              SmallVector<Value> av, bv;
              for (int64_t i = 0; i < kThreadTile; ++i) {
                Value r = arith::AddIOp::create(ib, loc, ty, cst(ib, i * (kTileM / kThreadTile)));
                av.push_back(memref::LoadOp::create(ib, loc, as, ValueRange{kk, r}));
                Value col = arith::AddIOp::create(ib, loc, tx, cst(ib, i * (kTileN / kThreadTile)));
                bv.push_back(memref::LoadOp::create(ib, loc, bs, ValueRange{kk, col}));
              }
              SmallVector<Value> next;
              for (int64_t i = 0; i < kThreadTile; ++i)
                for (int64_t j = 0; j < kThreadTile; ++j)
                  next.push_back(
                      math::FmaOp::create(ib, loc, av[i], bv[j], sums[i * kThreadTile + j]));
              scf::YieldOp::create(ib, loc, next);
            });
        gpu::BarrierOp::create(lb, loc);
        scf::YieldOp::create(lb, loc, inner.getResults());
      });

  auto storeOne = [&](Value gm, Value gn, Value sum) {
    Value ok = arith::AndIOp::create(kb, loc, lessThan(kb, gm, mSize), lessThan(kb, gn, nSize));
    scf::IfOp::create(kb, loc, ok, [&](OpBuilder &tb, Location l) {
      Value index = at(tb, cBase, c.c, gm, c.m, gn, c.n);
      if (splits > 1) {
        memref::AtomicRMWOp::create(tb, l, arith::AtomicRMWKind::addf, sum, c.c.flat,
                                    ValueRange{index});
      } else {
        Value old = memref::LoadOp::create(tb, l, c.c.flat, index);
        memref::StoreOp::create(tb, l, arith::AddFOp::create(tb, l, old, sum), c.c.flat, index);
      }
      scf::YieldOp::create(tb, l);
    });
  };
  if (mma) {
    // Accumulator (i, j): rows g and g + 8 of the 16x8 tile, columns t, t + 1.
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t j = 0; j < 4; ++j)
        for (int64_t half = 0; half < 2; ++half)
          for (int64_t col = 0; col < 2; ++col) {
            Value gm = arith::AddIOp::create(
                kb, loc, arith::AddIOp::create(kb, loc, rowBase, arith::AddIOp::create(kb, loc, wm, g)),
                cst(kb, i * 16 + half * 8));
            Value gn = arith::AddIOp::create(
                kb, loc, arith::AddIOp::create(kb, loc, colBase, arith::AddIOp::create(kb, loc, wn, t)),
                cst(kb, j * 8 + col));
            Value sum = vector::ExtractOp::create(kb, loc, kLoop.getResult(i * 4 + j),
                                                  ArrayRef<int64_t>{half, col});
            storeOne(gm, gn, sum);
          }
    gpu::TerminatorOp::create(kb, loc);
    op->erase();
    return success();
  }
  // C += the register tile, where in range.
  for (int64_t i = 0; i < kThreadTile; ++i)
    for (int64_t j = 0; j < kThreadTile; ++j) {
      Value gm = arith::AddIOp::create(
          kb, loc, rowBase,
          arith::AddIOp::create(kb, loc, ty, cst(kb, i * (kTileM / kThreadTile))));
      Value gn = arith::AddIOp::create(
          kb, loc, colBase,
          arith::AddIOp::create(kb, loc, tx, cst(kb, j * (kTileN / kThreadTile))));
      storeOne(gm, gn, kLoop.getResult(i * kThreadTile + j));
    }
  gpu::TerminatorOp::create(kb, loc);
  op->erase();
  return success();
}
