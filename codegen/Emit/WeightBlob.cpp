//===- WeightBlob.cpp - the bytes of a module's weight blob ---------------===//

#include "WeightBlob.h"

#include "tfx/Dialect/Tfx.h"
#include "tfx/Support/ResourceWeights.h"
#include "tfx/Support/WeightStore.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/MathExtras.h"

#include <cstring>

using namespace mlir;
using namespace mlir::tfx;

uint64_t mlir::tfx::weightsChecksum(llvm::ArrayRef<uint8_t> bytes) {
  uint64_t hash = 14695981039346656037ull;
  size_t whole = bytes.size() / 8;
  for (size_t w = 0; w < whole; ++w) {
    hash ^= llvm::support::endian::read64le(bytes.data() + w * 8);
    hash *= 1099511628211ull;
  }
  if (size_t rest = bytes.size() % 8) {
    uint8_t last[8] = {0};
    std::memcpy(last, bytes.data() + whole * 8, rest);
    hash ^= llvm::support::endian::read64le(last);
    hash *= 1099511628211ull;
  }
  return hash;
}

/// Stores element `k` of `t` in `element`'s encoding at `out`.
static void storeElement(const Tensor &t, int64_t k, Type element, uint8_t *out) {
  if (element.isF32()) {
    float v = t.isFloat() ? t.f[k] : (float)t.i[k];
    std::memcpy(out, &v, 4);
  } else if (element.isF16() || element.isBF16()) {
    APFloat v(t.isFloat() ? t.f[k] : (float)t.i[k]);
    bool lost;
    v.convert(element.isF16() ? APFloat::IEEEhalf() : APFloat::BFloat(),
              APFloat::rmNearestTiesToEven, &lost);
    uint16_t bits = (uint16_t)v.bitcastToAPInt().getZExtValue();
    std::memcpy(out, &bits, 2);
  } else {
    int64_t v = t.isFloat() ? (int64_t)t.f[k] : t.i[k];
    unsigned bytes = WeightPlan::elementBytes(element);
    if (element.isInteger(1))
      v = v != 0;
    std::memcpy(out, &v, bytes); // little-endian: the low bytes
  }
}

llvm::Expected<std::vector<uint8_t>> mlir::tfx::packWeights(ModuleOp module,
                                                            const WeightPlan &plan) {
  std::vector<uint8_t> blob(plan.size(), 0);
  auto weightsFile = module->getAttrOfType<StringAttr>(kWeightsAttr);
  for (const WeightSlot &slot : plan.slots()) {
    llvm::Expected<Tensor> data = llvm::createStringError(
        llvm::inconvertibleErrorCode(), "unknown weight source");
    std::string what;
    if (auto name = dyn_cast<StringAttr>(slot.source)) {
      what = "weight '" + name.str() + "'";
      if (!weightsFile)
        return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                       "%s: the module has no '%s' attribute",
                                       what.c_str(), kWeightsAttr.data());
      data = loadWeight(weightsFile.getValue(), name.getValue(), slot.transposed);
    } else if (auto elements = dyn_cast<ElementsAttr>(slot.source)) {
      what = "a constant";
      data = tensorFromElements(elements);
    }
    if (!data)
      return llvm::createStringError(llvm::inconvertibleErrorCode(), "%s: %s",
                                     what.c_str(),
                                     llvm::toString(data.takeError()).c_str());
    ArrayRef<int64_t> shape = slot.type.getShape();
    if (data->shape != std::vector<int64_t>(shape.begin(), shape.end()))
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(), "%s has shape %s, the IR expects %s",
          what.c_str(), data->shapeString().c_str(),
          Tensor{DType::F32, std::vector<int64_t>(shape.begin(), shape.end()), {}, {}}
              .shapeString()
              .c_str());
    Type element = slot.type.getElementType();
    int64_t size = WeightPlan::elementBytes(element);
    uint8_t *base = blob.data() + slot.offset;
    switch (slot.layout) {
    case WeightLayout::Plain:
      for (int64_t k = 0, n = data->numElements(); k < n; ++k)
        storeElement(*data, k, element, base + k * size);
      break;
    case WeightLayout::PanelsNK:
    case WeightLayout::PanelsKN: {
      // packed[nb][k][p] = W[nb*P + p][k] (NK) or W[k][nb*P + p] (KN).
      bool nk = slot.layout == WeightLayout::PanelsNK;
      int64_t n = nk ? shape[0] : shape[1], kDim = nk ? shape[1] : shape[0];
      int64_t p = slot.panel, out = 0;
      for (int64_t nb = 0, panels = (int64_t)llvm::divideCeil(n, p); nb < panels; ++nb)
        for (int64_t k = 0; k < kDim; ++k)
          for (int64_t j = 0; j < p; ++j, ++out) {
            int64_t col = nb * p + j;
            if (col >= n)
              continue; // the padding of the last panel stays zero
            int64_t source = nk ? col * kDim + k : k * n + col;
            storeElement(*data, source, element, base + out * size);
          }
      break;
    }
    case WeightLayout::PanelsNKNibbles: {
      // byte[nb][k][j] = W[nb*P + j][k] & 15 | W[nb*P + j + P/2][k] << 4.
      int64_t n = shape[0], kDim = shape[1], p = slot.panel, half = p / 2, out = 0;
      auto nibble = [&](int64_t col, int64_t k) -> uint8_t {
        if (col >= n)
          return 0;
        int64_t v = data->at(col * kDim + k);
        return (uint8_t)(v & 15);
      };
      for (int64_t nb = 0, panels = (int64_t)llvm::divideCeil(n, p); nb < panels; ++nb)
        for (int64_t k = 0; k < kDim; ++k)
          for (int64_t j = 0; j < half; ++j, ++out)
            base[out] = nibble(nb * p + j, k) | (uint8_t)(nibble(nb * p + j + half, k) << 4);
      break;
    }
    case WeightLayout::PanelsNKQuads: {
      // byte[nb][kq][j][i] = W[nb*P + j][4 kq + i], zeros past N and K.
      int64_t n = shape[0], kDim = shape[1], p = slot.panel, out = 0;
      for (int64_t nb = 0, panels = (int64_t)llvm::divideCeil(n, p); nb < panels; ++nb)
        for (int64_t kq = 0, quads = (int64_t)llvm::divideCeil(kDim, 4); kq < quads; ++kq)
          for (int64_t j = 0; j < p; ++j)
            for (int64_t i = 0; i < 4; ++i, ++out) {
              int64_t col = nb * p + j, k = 4 * kq + i;
              if (col < n && k < kDim)
                base[out] = (uint8_t)(int8_t)data->at(col * kDim + k);
            }
      break;
    }
    }
  }
  return blob;
}
