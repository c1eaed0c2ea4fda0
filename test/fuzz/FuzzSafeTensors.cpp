//===- FuzzSafeTensors.cpp - the .safetensors reader on any bytes ---------===//
//
// Bytes -> SafeTensorsFile::fromBuffer, then every tensor it accepted is
// decoded. Header length, JSON, dtypes, shapes and data offsets must be
// refused with an error, never read out of bounds; an accepted tensor must
// decode to exactly its shape's element count.
//
//===----------------------------------------------------------------------===//

#include "FuzzTarget.h"

#include "tfx/Support/SafeTensors.h"

using namespace mlir::tfx;

static void fuzzSafeTensors(const uint8_t *data, size_t size) {
  llvm::StringRef bytes(reinterpret_cast<const char *>(data), size);
  auto file = SafeTensorsFile::fromBuffer(llvm::MemoryBuffer::getMemBuffer(
      bytes, "fuzz.safetensors", /*RequiresNullTerminator=*/false));
  if (!file) {
    std::string message = llvm::toString(file.takeError());
    if (tfx_fuzz::verbose())
      std::fprintf(stderr, "%s\n", message.c_str());
    return;
  }
  for (const auto &[name, info] : (*file)->tensors()) {
    llvm::StringRef raw = (*file)->rawData(info);
    if (raw.begin() < bytes.begin() || raw.end() > bytes.end())
      tfx_fuzz::finding("a tensor's data lies outside the file");
    llvm::Expected<Tensor> tensor = (*file)->read(name);
    if (!tensor)
      tfx_fuzz::finding("a tensor the reader accepted does not decode");
    size_t stored = tensor->isFloat() ? tensor->f.size() : tensor->i.size();
    if ((int64_t)stored != tensor->numElements())
      tfx_fuzz::finding("a decoded tensor's size differs from its shape");
  }
}

TFX_FUZZ_TARGET(safetensors, fuzzSafeTensors)
