//===- WeightPlan.cpp - the layout of a module's weight blob --------------===//

#include "WeightPlan.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::tfx;

static StringRef layoutName(WeightLayout layout) {
  switch (layout) {
  case WeightLayout::Plain:
    return "plain";
  case WeightLayout::PanelsNK:
    return "panels_nk";
  case WeightLayout::PanelsKN:
    return "panels_kn";
  case WeightLayout::PanelsNKNibbles:
    return "panels_nk_nibbles";
  case WeightLayout::PanelsNKQuads:
    return "panels_nk_quads";
  }
  return "plain";
}

static std::optional<WeightLayout> parseLayout(StringRef name) {
  if (name == "plain")
    return WeightLayout::Plain;
  if (name == "panels_nk")
    return WeightLayout::PanelsNK;
  if (name == "panels_kn")
    return WeightLayout::PanelsKN;
  if (name == "panels_nk_nibbles")
    return WeightLayout::PanelsNKNibbles;
  if (name == "panels_nk_quads")
    return WeightLayout::PanelsNKQuads;
  return std::nullopt;
}

SmallVector<int64_t> WeightSlot::storedShape() const {
  ArrayRef<int64_t> shape = type.getShape();
  switch (layout) {
  case WeightLayout::Plain:
    return SmallVector<int64_t>(shape);
  // A last partial panel is padded with zero columns.
  case WeightLayout::PanelsNK:
    return {(int64_t)llvm::divideCeil(shape[0], panel), shape[1], panel};
  case WeightLayout::PanelsKN:
    return {(int64_t)llvm::divideCeil(shape[1], panel), shape[0], panel};
  case WeightLayout::PanelsNKNibbles:
    return {(int64_t)llvm::divideCeil(shape[0], panel), shape[1], panel / 2};
  case WeightLayout::PanelsNKQuads:
    return {(int64_t)llvm::divideCeil(shape[0], panel),
            (int64_t)llvm::divideCeil(shape[1], 4), panel * 4};
  }
  return SmallVector<int64_t>(shape);
}

Type WeightSlot::storedElementType() const {
  if (layout == WeightLayout::PanelsNKNibbles)
    return IntegerType::get(type.getContext(), 8);
  return type.getElementType();
}

int64_t WeightPlan::elementBytes(Type elementType) {
  if (elementType.isInteger(1))
    return 1;
  return llvm::divideCeil(elementType.getIntOrFloatBitWidth(), 8);
}

Attribute WeightPlan::canonicalSource(Attribute source) {
  auto resource = dyn_cast<DenseResourceElementsAttr>(source);
  AsmResourceBlob *blob = resource ? resource.getRawHandle().getBlob() : nullptr;
  if (!blob)
    return source;
  if (Attribute known = canonical.lookup(source))
    return known;
  ArrayRef<char> bytes = blob->getData();
  llvm::hash_code hash = llvm::hash_combine(
      resource.getType().getAsOpaquePointer(),
      llvm::hash_combine_range(bytes.begin(), bytes.end()));
  SmallVector<Attribute, 1> &seen = blobsByHash[hash];
  for (Attribute other : seen) {
    auto o = cast<DenseResourceElementsAttr>(other);
    if (o.getType() == resource.getType() &&
        o.getRawHandle().getBlob()->getData() == bytes)
      return canonical[source] = other;
  }
  seen.push_back(source);
  return canonical[source] = source;
}

unsigned WeightPlan::getOrAdd(Attribute source, bool transposed,
                              RankedTensorType type, WeightLayout layout,
                              int64_t panel) {
  source = canonicalSource(source);
  // Layout, panel and transposition together pick the packing of a source.
  unsigned variant = (unsigned)layout | ((unsigned)panel << 4) |
                     (transposed ? 1u << 31 : 0u);
  auto [it, inserted] = index.try_emplace({source, variant}, slotList.size());
  if (!inserted)
    return it->second;
  WeightSlot slot;
  slot.source = source;
  slot.transposed = transposed;
  slot.layout = layout;
  slot.panel = layout == WeightLayout::Plain ? 0 : panel;
  slot.type = type;
  slot.offset = llvm::alignTo(totalBytes, kWeightAlignment);
  int64_t stored = 1;
  for (int64_t d : slot.storedShape())
    stored *= d;
  slot.bytes = stored * elementBytes(slot.storedElementType());
  totalBytes = slot.offset + slot.bytes;
  slotList.push_back(slot);
  return it->second;
}

void WeightPlan::save(ModuleOp module) const {
  Builder b(module.getContext());
  SmallVector<Attribute> entries;
  for (const WeightSlot &slot : slotList) {
    SmallVector<NamedAttribute> fields = {
        b.getNamedAttr("source", slot.source),
        b.getNamedAttr("type", TypeAttr::get(slot.type)),
        b.getNamedAttr("layout", b.getStringAttr(layoutName(slot.layout))),
        b.getNamedAttr("offset", b.getI64IntegerAttr(slot.offset)),
        b.getNamedAttr("bytes", b.getI64IntegerAttr(slot.bytes))};
    if (slot.panel)
      fields.push_back(b.getNamedAttr("panel", b.getI64IntegerAttr(slot.panel)));
    if (slot.transposed)
      fields.push_back(b.getNamedAttr("transposed", b.getUnitAttr()));
    entries.push_back(b.getDictionaryAttr(fields));
  }
  module->setAttr(kWeightBlobAttr,
                  b.getDictionaryAttr(
                      {b.getNamedAttr("size", b.getI64IntegerAttr(totalBytes)),
                       b.getNamedAttr("slots", b.getArrayAttr(entries))}));
}

FailureOr<WeightPlan> WeightPlan::load(ModuleOp module) {
  WeightPlan plan;
  Attribute attr = module->getAttr(kWeightBlobAttr);
  if (!attr)
    return plan;
  auto fail = [&](const Twine &what) {
    return emitError(module.getLoc())
           << "malformed '" << kWeightBlobAttr << "' attribute: " << what;
  };
  auto dict = dyn_cast<DictionaryAttr>(attr);
  auto slots = dict ? dict.getAs<ArrayAttr>("slots") : nullptr;
  auto size = dict ? dict.getAs<IntegerAttr>("size") : nullptr;
  if (!slots || !size) {
    (void)fail("expected {size, slots}");
    return failure();
  }
  for (Attribute entry : slots) {
    auto fields = dyn_cast<DictionaryAttr>(entry);
    auto type = fields ? fields.getAs<TypeAttr>("type") : nullptr;
    auto layout = fields ? fields.getAs<StringAttr>("layout") : nullptr;
    auto offset = fields ? fields.getAs<IntegerAttr>("offset") : nullptr;
    auto bytes = fields ? fields.getAs<IntegerAttr>("bytes") : nullptr;
    auto tensorType = type ? dyn_cast<RankedTensorType>(type.getValue()) : nullptr;
    std::optional<WeightLayout> kind =
        layout ? parseLayout(layout.getValue()) : std::nullopt;
    if (!fields || !fields.get("source") || !tensorType || !kind || !offset ||
        !bytes) {
      (void)fail("a slot lacks source, type, layout, offset or bytes");
      return failure();
    }
    WeightSlot slot;
    slot.source = fields.get("source");
    slot.type = tensorType;
    slot.layout = *kind;
    slot.transposed = (bool)fields.get("transposed");
    if (auto panel = fields.getAs<IntegerAttr>("panel"))
      slot.panel = panel.getInt();
    slot.offset = offset.getInt();
    slot.bytes = bytes.getInt();
    if (slot.layout != WeightLayout::Plain &&
        (slot.panel <= 0 || tensorType.getRank() != 2 ||
         (slot.layout == WeightLayout::PanelsNKNibbles &&
          (slot.panel % 2 || !tensorType.getElementType().isInteger(4))))) {
      (void)fail("a panel slot needs a 2-D type and a panel width");
      return failure();
    }
    if (slot.offset < 0 || slot.offset % kWeightAlignment ||
        slot.offset + slot.bytes > size.getInt()) {
      (void)fail("a slot lies outside the blob or is misaligned");
      return failure();
    }
    plan.slotList.push_back(slot);
  }
  plan.totalBytes = size.getInt();
  return plan;
}
