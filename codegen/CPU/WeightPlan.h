//===- WeightPlan.h - the layout of a module's weight blob ------*- C++ -*-===//
//
// All weights of a compiled module live in one blob that the entry functions
// receive as `%weights`. The plan lists, per slot, where the data comes from
// (a tensor of the module's weight file, or a constant), the layout it is
// packed into, and its 64-byte aligned offset. Lowering fills the plan and
// stores it on the module as `tfx.weight_blob`; emission reads it back and
// writes the bytes.
//
//===----------------------------------------------------------------------===//
#ifndef TFX_CODEGEN_CPU_WEIGHTPLAN_H
#define TFX_CODEGEN_CPU_WEIGHTPLAN_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/StringMap.h"

namespace mlir::tfx {

inline constexpr llvm::StringLiteral kWeightBlobAttr = "tfx.weight_blob";
inline constexpr int64_t kWeightAlignment = 64;

enum class WeightLayout {
  /// Row-major as the IR sees it.
  Plain,
  /// A 2-D [N, K] weight (one output channel per row, nn.Linear) stored as
  /// [ceil(N/P)][K][P]: P consecutive output channels per k, the GEMM's B
  /// panels; the columns past N of the last panel are zeros.
  PanelsNK,
  /// A 2-D [K, N] matmul right-hand side stored as [ceil(N/P)][K][P].
  PanelsKN,
  /// A 2-D [N, K] weight of 4-bit integers in PanelsNK order, two to a
  /// byte: [ceil(N/P)][K][P/2] bytes whose byte j holds column j of the
  /// panel in its low nibble and column j + P/2 in its high nibble, so that
  /// one vector of bytes unpacks into the panel's two column vectors.
  PanelsNKNibbles,
  /// A 2-D [N, K] weight of 8-bit integers for the int8 dot-product
  /// instructions (VNNI vpdpbusd): [ceil(N/P)][K/4][P][4] bytes, so that the
  /// four consecutive input channels of each of P columns form one 32-bit
  /// lane. K is padded with zeros to a multiple of 4.
  PanelsNKQuads,
};

struct WeightSlot {
  /// StringAttr: a tensor of the weight file; ElementsAttr: a constant.
  Attribute source;
  bool transposed = false;
  WeightLayout layout = WeightLayout::Plain;
  int64_t panel = 0;
  /// The weight as the IR uses it (after `transposed`).
  RankedTensorType type;
  int64_t offset = 0, bytes = 0;

  /// Shape and element type of the packed data.
  SmallVector<int64_t> storedShape() const;
  Type storedElementType() const;
};

class WeightPlan {
public:
  /// Index of the slot holding `source` in `layout`, added when new.
  unsigned getOrAdd(Attribute source, bool transposed, RankedTensorType type,
                    WeightLayout layout, int64_t panel);

  llvm::ArrayRef<WeightSlot> slots() const { return slotList; }
  int64_t size() const { return totalBytes; }

  /// Writes the plan as the module attribute `tfx.weight_blob`.
  void save(ModuleOp module) const;
  /// Reads `tfx.weight_blob` (an empty plan when absent).
  static FailureOr<WeightPlan> load(ModuleOp module);

  /// Bytes of one element in the blob (i1 takes a byte).
  static int64_t elementBytes(Type elementType);

private:
  /// The first resource blob seen with the same type and bytes as
  /// `source`, or `source` itself: passes run once per entry (each step of
  /// a decoder) create equal blobs under different keys, stored once.
  Attribute canonicalSource(Attribute source);

  SmallVector<WeightSlot> slotList;
  llvm::DenseMap<llvm::hash_code, SmallVector<Attribute, 1>> blobsByHash;
  /// canonicalSource's answers, so that each blob is hashed once.
  llvm::DenseMap<Attribute, Attribute> canonical;
  llvm::DenseMap<std::pair<Attribute, unsigned>, unsigned> index;
  int64_t totalBytes = 0;
};

} // namespace mlir::tfx

#endif // TFX_CODEGEN_CPU_WEIGHTPLAN_H
