//===- SparseLinear.cpp - linear layers with pruned weights ---------------===//
//
// Y[M, N] = X[M, K] W^T + bias where W [N, K] is stored sparse
// (tfx.sparse_csr or tfx.sparse_2to4): the kernel does one multiply-add per
// stored nonzero and never reads the zeros. Each nonzero W[n, k] scales a
// whole row of X^T, so the activations are transposed first (X^T [K, Mp],
// Mp = M rounded up to a vector) and the kernel works on Y^T:
//
//   forall block of CB output channels (the runtime's thread pool):
//     for tile of T vectors of rows m (T = 8 where M allows):
//       for chunk of input channels k0 .. k0 + KC:
//         for channel n of the block:
//           acc[T] = chunk 0 ? bias[n] : Y^T[n, m0..]
//           for each nonzero (k, w) of row n in the chunk:
//             acc[t] += w * X^T[k, m0 + t vw]   (CSR: columns[j], values[j];
//           Y^T[n, m0..] = acc                    2:4: 4 g + 2-bit position)
//   Y = transpose(Y^T)
//
// Each nonzero costs T vector loads of X^T for T multiply-adds, so the
// chunk's rows of X^T (KC x T vectors, 32 KiB) are sized to stay in L1
// while all channels of the block use them; where each CSR row's nonzeros
// of each chunk start is computed at compile time from the constant
// columns. Eight accumulators cover the FMA latency. bench/prune measures
// where the kernel overtakes the dense GEMM.
//
//===----------------------------------------------------------------------===//

#include "Elementwise.h"
#include "KernelBuilders.h"
#include "LinalgBuilders.h"
#include "Lowering.h"

#include "tfx/Support/ResourceWeights.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::tfx;

static ArrayRef<int64_t> shapeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}

static bool isF32Tensor(Value v) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  return type && type.hasStaticShape() && type.getElementType().isF32();
}

/// [R, C] -> [C, R] as a linalg.generic (the pipeline tiles and vectorizes
/// generics).
static Value transposed(OpBuilder &b, Location loc, Value input) {
  MLIRContext *ctx = b.getContext();
  ArrayRef<int64_t> shape = shapeOf(input);
  Type element = cast<RankedTensorType>(input.getType()).getElementType();
  AffineExpr d0, d1;
  bindDims(ctx, d0, d1);
  SmallVector<AffineMap> maps = {AffineMap::get(2, 0, {d1, d0}, ctx),
                                 AffineMap::get(2, 0, {d0, d1}, ctx)};
  Value init = emptyTensor(b, loc, {shape[1], shape[0]}, element);
  return linalg::GenericOp::create(
             b, loc, TypeRange{init.getType()}, ValueRange{input}, ValueRange{init},
             maps, parallelIterators(2),
             [](OpBuilder &nb, Location nloc, ValueRange args) {
               linalg::YieldOp::create(nb, nloc, args[0]);
             })
      .getResult(0);
}

/// Checks at compile time that constant CSR storage describes an [out, in]
/// weight, so that the kernel's unchecked reads stay in bounds.
struct CsrData {
  Tensor columns, offsets;
};
/// With `report`, a failure carries a diagnostic; the kernel checks quietly
/// and leaves the error to the fallback lowering, so that it shows once.
static FailureOr<CsrData> checkCsr(SparseCsrOp op, bool report) {
  auto fail = [&](const llvm::Twine &message) -> FailureOr<CsrData> {
    if (report)
      op.emitError(message);
    return failure();
  };
  auto read = [](Value v) -> FailureOr<Tensor> {
    auto constant = v.getDefiningOp<arith::ConstantOp>();
    auto elements = constant ? dyn_cast<ElementsAttr>(constant.getValue()) : nullptr;
    if (!elements)
      return failure();
    auto t = tensorFromElements(elements);
    if (!t) {
      llvm::consumeError(t.takeError());
      return failure();
    }
    return std::move(*t);
  };
  FailureOr<Tensor> columns = read(op.getColumns()), offsets = read(op.getRowOffsets());
  if (failed(columns) || failed(offsets))
    return fail("the CPU lowering needs constant columns and row_offsets");
  ArrayRef<int64_t> shape = shapeOf(op.getResult());
  int64_t nonzeros = (int64_t)columns->i.size();
  if (offsets->i.front() != 0 || offsets->i.back() != nonzeros)
    return fail("row_offsets must run from 0 to " + llvm::Twine(nonzeros));
  for (int64_t n = 0; n < shape[0]; ++n)
    if (offsets->i[n] > offsets->i[n + 1])
      return fail("row_offsets decrease at row " + llvm::Twine(n));
  for (int64_t c : columns->i)
    if (c < 0 || c >= shape[1])
      return fail("column " + llvm::Twine(c) + " is outside [0, " + llvm::Twine(shape[1]) +
                  ")");
  return CsrData{std::move(*columns), std::move(*offsets)};
}

/// A storage tensor as the kernels read it: a view of the weight blob, or
/// the value itself (a small constant stays in the code).
static Value storage(FuncLowering &fl, Location loc, Value v) {
  if (std::optional<WeightRef> ref = fl.weightSource(v))
    return fl.weightTensor(loc, *ref, WeightLayout::Plain);
  return v;
}

FailureOr<Value> mlir::tfx::lowerSparseWeight(FuncLowering &fl, OpBuilder &b,
                                              Operation *op) {
  Location loc = op->getLoc();
  auto type = cast<RankedTensorType>(op->getResult(0).getType());
  int64_t n = type.getDimSize(0), k = type.getDimSize(1);
  Value dense = filledTensor(b, loc, {n, k}, type.getElementType(), 0.0);
  auto rows = [&](llvm::function_ref<Value(OpBuilder &, Location, Value, Value)> row) {
    return scf::ForOp::create(b, loc, indexConstant(b, loc, 0), indexConstant(b, loc, n),
                              indexConstant(b, loc, 1), ValueRange{dense},
                              [&](OpBuilder &b, Location loc, Value r, ValueRange iter) {
                                scf::YieldOp::create(b, loc, row(b, loc, r, iter[0]));
                              })
        .getResult(0);
  };
  if (auto csr = dyn_cast<SparseCsrOp>(op)) {
    if (failed(checkCsr(csr, /*report=*/true)))
      return failure();
    Value values = storage(fl, loc, csr.getValues());
    Value columns = storage(fl, loc, csr.getColumns());
    Value offsets = storage(fl, loc, csr.getRowOffsets());
    return rows([&](OpBuilder &b, Location loc, Value r, Value d) {
      auto offsetAt = [&](Value i) {
        return arith::IndexCastOp::create(b, loc, b.getIndexType(),
                                          tensor::ExtractOp::create(b, loc, offsets, i))
            .getResult();
      };
      Value lo = offsetAt(r);
      Value hi = offsetAt(arith::AddIOp::create(b, loc, r, indexConstant(b, loc, 1)));
      return scf::ForOp::create(
                 b, loc, lo, hi, indexConstant(b, loc, 1), ValueRange{d},
                 [&](OpBuilder &b, Location loc, Value j, ValueRange iter) {
                   Value column = arith::IndexCastOp::create(
                       b, loc, b.getIndexType(), tensor::ExtractOp::create(b, loc, columns, j));
                   Value v = tensor::ExtractOp::create(b, loc, values, j);
                   scf::YieldOp::create(
                       b, loc, tensor::InsertOp::create(b, loc, v, iter[0], ValueRange{r, column})
                                   .getResult());
                 })
          .getResult(0);
    });
  }
  auto semi = cast<Sparse24Op>(op);
  Value values = storage(fl, loc, semi.getValues());
  Value meta = storage(fl, loc, semi.getMeta());
  Type i32 = b.getI32Type();
  return rows([&](OpBuilder &b, Location loc, Value r, Value d) {
    return scf::ForOp::create(
               b, loc, indexConstant(b, loc, 0), indexConstant(b, loc, k / 8),
               indexConstant(b, loc, 1), ValueRange{d},
               [&](OpBuilder &b, Location loc, Value byteIndex, ValueRange iter) {
                 Value byte = arith::ExtUIOp::create(
                     b, loc, i32, tensor::ExtractOp::create(b, loc, meta, ValueRange{r, byteIndex}));
                 Value t = iter[0];
                 for (int64_t i = 0; i < 4; ++i) {
                   Value position = arith::AndIOp::create(
                       b, loc,
                       arith::ShRUIOp::create(b, loc, byte,
                                              arith::ConstantIntOp::create(b, loc, i32, 2 * i)),
                       arith::ConstantIntOp::create(b, loc, i32, 3));
                   Value column = arith::AddIOp::create(
                       b, loc,
                       arith::AddIOp::create(
                           b, loc, arith::MulIOp::create(b, loc, byteIndex, indexConstant(b, loc, 8)),
                           indexConstant(b, loc, 4 * (i / 2))),
                       arith::IndexCastUIOp::create(b, loc, b.getIndexType(), position));
                   Value j = arith::AddIOp::create(
                       b, loc, arith::MulIOp::create(b, loc, byteIndex, indexConstant(b, loc, 4)),
                       indexConstant(b, loc, i));
                   Value v = tensor::ExtractOp::create(b, loc, values, ValueRange{r, j});
                   t = tensor::InsertOp::create(b, loc, v, t, ValueRange{r, column});
                 }
                 scf::YieldOp::create(b, loc, t);
               })
        .getResult(0);
  });
}

FailureOr<Value> mlir::tfx::lowerSparseLinearKernel(FuncLowering &fl, OpBuilder &b,
                                                    LinearOp op) {
  Value x = op.getInput(), w = op.getWeight(), bias = op.getBias();
  auto csr = w.getDefiningOp<SparseCsrOp>();
  auto semi = w.getDefiningOp<Sparse24Op>();
  if ((!csr && !semi) || !isF32Tensor(x) || !isF32Tensor(w) || !isF32Tensor(op) ||
      (bias && !isF32Tensor(bias)))
    return failure();
  Location loc = op.getLoc();
  int64_t vw = fl.options.vectorWidth;
  ArrayRef<int64_t> xShape = shapeOf(x);
  int64_t k = xShape.back(), n = shapeOf(w)[0], m = 1;
  for (int64_t d : xShape.drop_back())
    m *= d;
  // Channels per task.
  int64_t block = n % 16 == 0 ? 16 : n % 8 == 0 ? 8 : n % 4 == 0 ? 4 : 1;
  if (m == 0 || k == 0)
    return failure();
  FailureOr<CsrData> csrData =
      csr ? checkCsr(csr, /*report=*/false) : FailureOr<CsrData>(CsrData());
  if (failed(csrData))
    return failure();

  Type f32 = b.getF32Type();
  // 2:4 values quantized to int8 (tfx.dequantize): the integers and their
  // scales are read, and each nonzero is converted as it is used.
  auto dequantize = semi ? semi.getValues().getDefiningOp<DequantizeOp>() : DequantizeOp();
  Value qValues, scales;
  int64_t groupSize = 0;
  if (dequantize && dequantize.getBits() == 8 && isF32Tensor(dequantize.getScales())) {
    qValues = storage(fl, loc, dequantize.getQ());
    scales = storage(fl, loc, dequantize.getScales());
    groupSize = (int64_t)dequantize.getGroupSize();
  }
  Value values = qValues ? Value()
                         : storage(fl, loc, csr ? csr.getValues() : semi.getValues());
  Value indices = storage(fl, loc, csr ? csr.getColumns() : semi.getMeta());
  if (bias)
    bias = reshapeTo(b, loc, bias, {n});

  int64_t paddedM = llvm::alignTo(m, vw), rowVectors = paddedM / vw;
  // Eight accumulators cover the FMA latency (4 cycles, 2 per cycle) and
  // take eight multiply-adds per nonzero read.
  int64_t tileVectors = 1;
  for (int64_t t : {8, 4, 2})
    if (rowVectors % t == 0) {
      tileVectors = t;
      break;
    }
  int64_t tileRows = tileVectors * vw;
  // Input channels per chunk: the chunk's rows of X^T (chunk x tileRows
  // floats) stay in a 32 KiB share of L1 while the block's channels use
  // them; 8 divides it (a 2:4 meta byte covers 8 channels).
  int64_t chunk = std::max<int64_t>(8, 32768 / (4 * tileRows) / 8 * 8);
  chunk = std::min<int64_t>(chunk, llvm::alignTo(k, 8));
  int64_t chunks = llvm::divideCeil(k, chunk);
  // CSR: where each row's nonzeros of each chunk start, [n, chunks + 1],
  // from the (constant) columns, packed at compile time.
  Value chunkStarts;
  if (csr) {
    Tensor starts = Tensor::ints({n, chunks + 1}, 0, DType::I32);
    const Tensor &columns = csrData->columns, &rows = csrData->offsets;
    for (int64_t r = 0; r < n; ++r) {
      int64_t j = rows.i[r];
      for (int64_t c = 0; c <= chunks; ++c) {
        while (j < rows.i[r + 1] && columns.i[j] < c * chunk)
          ++j;
        starts.i[r * (chunks + 1) + c] = c == chunks ? rows.i[r + 1] : j;
      }
    }
    auto type = RankedTensorType::get({n, chunks + 1}, b.getI32Type());
    auto attr = createResourceWeight(type, starts, "sparse_chunk_starts");
    if (!attr) {
      llvm::consumeError(attr.takeError());
      return failure();
    }
    chunkStarts = storage(fl, loc, arith::ConstantOp::create(b, loc, type, *attr));
  }
  Value xt = transposed(b, loc, reshapeTo(b, loc, x, {m, k}));
  if (paddedM != m)
    xt = tensor::InsertSliceOp::create(
        b, loc, xt, filledTensor(b, loc, {k, paddedM}, f32, 0.0),
        ArrayRef<OpFoldResult>{b.getIndexAttr(0), b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(k), b.getIndexAttr(m)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});

  auto vecType = VectorType::get({vw}, f32);
  // acc[t] += w * X^T[row, m0 + t vw]
  auto multiplyAdd = [&](OpBuilder &b, Location loc, Value weight, Value row,
                         Value m0, SmallVector<Value> &acc) {
    Value ws = splat(b, loc, weight, vw);
    for (int64_t t = 0; t < tileVectors; ++t) {
      Value col = arith::AddIOp::create(b, loc, m0, indexConstant(b, loc, t * vw));
      Value xv = readVector(b, loc, xt, {row, col}, vw);
      acc[t] = vector::FMAOp::create(b, loc, ws, xv, acc[t]);
    }
  };
  // The accumulators of channel `ch` over rows m0 .. m0 + tileRows.
  auto channel = [&](OpBuilder &b, Location loc, Value ch, Value m0, Value c,
                     ValueRange init) {
    scf::ForOp loop;
    if (csr) {
      auto startAt = [&](Value i) {
        Value v = tensor::ExtractOp::create(b, loc, chunkStarts, ValueRange{ch, i});
        return arith::IndexCastOp::create(b, loc, b.getIndexType(), v).getResult();
      };
      Value lo = startAt(c);
      Value hi = startAt(arith::AddIOp::create(b, loc, c, indexConstant(b, loc, 1)));
      loop = scf::ForOp::create(
          b, loc, lo, hi, indexConstant(b, loc, 1), init,
          [&](OpBuilder &b, Location loc, Value j, ValueRange accs) {
            SmallVector<Value> acc(accs);
            Value column = arith::IndexCastOp::create(
                b, loc, b.getIndexType(), tensor::ExtractOp::create(b, loc, indices, j));
            Value weight = tensor::ExtractOp::create(b, loc, values, j);
            multiplyAdd(b, loc, weight, column, m0, acc);
            scf::YieldOp::create(b, loc, acc);
          });
    } else {
      // One meta byte: four nonzeros, two groups of four input channels.
      Type i32 = b.getI32Type();
      Value lo = arith::MulIOp::create(b, loc, c, indexConstant(b, loc, chunk / 8));
      Value hi = arith::MinUIOp::create(
          b, loc, arith::AddIOp::create(b, loc, lo, indexConstant(b, loc, chunk / 8)),
          indexConstant(b, loc, k / 8));
      loop = scf::ForOp::create(
          b, loc, lo, hi, indexConstant(b, loc, 1), init,
          [&](OpBuilder &b, Location loc, Value byteIndex, ValueRange accs) {
            SmallVector<Value> acc(accs);
            Value byte = arith::ExtUIOp::create(
                b, loc, i32, tensor::ExtractOp::create(b, loc, indices, ValueRange{ch, byteIndex}));
            Value base = arith::MulIOp::create(b, loc, byteIndex, indexConstant(b, loc, 8));
            Value first = arith::MulIOp::create(b, loc, byteIndex, indexConstant(b, loc, 4));
            for (int64_t i = 0; i < 4; ++i) {
              Value shifted = arith::ShRUIOp::create(
                  b, loc, byte, arith::ConstantIntOp::create(b, loc, i32, 2 * i));
              Value position = arith::AndIOp::create(
                  b, loc, shifted, arith::ConstantIntOp::create(b, loc, i32, 3));
              Value row = arith::AddIOp::create(
                  b, loc, arith::AddIOp::create(b, loc, base, indexConstant(b, loc, 4 * (i / 2))),
                  arith::IndexCastUIOp::create(b, loc, b.getIndexType(), position));
              Value j = arith::AddIOp::create(b, loc, first, indexConstant(b, loc, i));
              Value weight;
              if (qValues) {
                Value q = tensor::ExtractOp::create(b, loc, qValues, ValueRange{ch, j});
                Value group = arith::DivUIOp::create(b, loc, j,
                                                     indexConstant(b, loc, groupSize));
                weight = arith::MulFOp::create(
                    b, loc, arith::SIToFPOp::create(b, loc, f32, q),
                    tensor::ExtractOp::create(b, loc, scales, ValueRange{ch, group}));
              } else {
                weight = tensor::ExtractOp::create(b, loc, values, ValueRange{ch, j});
              }
              multiplyAdd(b, loc, weight, row, m0, acc);
            }
            scf::YieldOp::create(b, loc, acc);
          });
    }
    return SmallVector<Value>(loop.getResults());
  };

  Value out = emptyTensor(b, loc, {n, paddedM}, f32);
  Value yt = buildParallel(
      b, loc, n / block, out,
      [&](OpBuilder &b, Location loc, Value task, Value shared) -> ParallelTile {
        Value n0 = arith::MulIOp::create(b, loc, task, indexConstant(b, loc, block));
        SmallVector<OpFoldResult> offsetsOf = {n0, b.getIndexAttr(0)};
        SmallVector<OpFoldResult> sizes = {b.getIndexAttr(block), b.getIndexAttr(paddedM)};
        SmallVector<OpFoldResult> strides = {b.getIndexAttr(1), b.getIndexAttr(1)};
        Value tile = tensor::ExtractSliceOp::create(b, loc, shared, offsetsOf, sizes, strides);
        auto rowLoop = scf::ForOp::create(
            b, loc, indexConstant(b, loc, 0), indexConstant(b, loc, paddedM),
            indexConstant(b, loc, tileRows), ValueRange{tile},
            [&](OpBuilder &b, Location loc, Value m0, ValueRange rowIter) {
              // Chunk 0 starts from the bias, the others from the tile.
              auto chunkStep = [&](OpBuilder &b, Location loc, Value c, Value tile,
                                   bool first) {
                return scf::ForOp::create(
                           b, loc, indexConstant(b, loc, 0), indexConstant(b, loc, block),
                           indexConstant(b, loc, 1), ValueRange{tile},
                           [&](OpBuilder &b, Location loc, Value local, ValueRange iter) {
                             Value ch = arith::AddIOp::create(b, loc, n0, local);
                             Value t = iter[0];
                             SmallVector<Value> init;
                             for (int64_t v = 0; v < tileVectors; ++v) {
                               Value col = arith::AddIOp::create(
                                   b, loc, m0, indexConstant(b, loc, v * vw));
                               if (!first)
                                 init.push_back(readVector(b, loc, t, {local, col}, vw));
                               else if (bias)
                                 init.push_back(splat(
                                     b, loc, tensor::ExtractOp::create(b, loc, bias, ch), vw));
                               else
                                 init.push_back(constantOf(b, loc, vecType, 0.0));
                             }
                             SmallVector<Value> acc = channel(b, loc, ch, m0, c, init);
                             for (int64_t v = 0; v < tileVectors; ++v) {
                               Value col = arith::AddIOp::create(
                                   b, loc, m0, indexConstant(b, loc, v * vw));
                               t = writeVector(b, loc, acc[v], t, {local, col});
                             }
                             scf::YieldOp::create(b, loc, t);
                           })
                    .getResult(0);
              };
              Value t = chunkStep(b, loc, indexConstant(b, loc, 0), rowIter[0], true);
              if (chunks > 1)
                t = scf::ForOp::create(
                        b, loc, indexConstant(b, loc, 1), indexConstant(b, loc, chunks),
                        indexConstant(b, loc, 1), ValueRange{t},
                        [&](OpBuilder &b, Location loc, Value c, ValueRange iter) {
                          scf::YieldOp::create(b, loc,
                                               chunkStep(b, loc, c, iter[0], false));
                        })
                        .getResult(0);
              scf::YieldOp::create(b, loc, t);
            });
        return ParallelTile{rowLoop.getResult(0), offsetsOf, sizes};
      });
  if (paddedM != m)
    yt = tensor::ExtractSliceOp::create(
        b, loc, RankedTensorType::get({n, m}, f32), yt,
        ArrayRef<OpFoldResult>{b.getIndexAttr(0), b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(n), b.getIndexAttr(m)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
  return reshapeTo(b, loc, transposed(b, loc, yt),
                   cast<RankedTensorType>(op.getType()).getShape());
}
