//===- SafeTensors.h - read and write .safetensors files --------*- C++ -*-===//
//
// Format: 8-byte little-endian header length N, N bytes of JSON
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}},
// then the data. The reader maps the file and validates every entry before
// touching data; the writer writes a temporary file and renames it, so a
// failed write leaves nothing behind.
//
//===----------------------------------------------------------------------===//
#ifndef TFX_SUPPORT_SAFETENSORS_H
#define TFX_SUPPORT_SAFETENSORS_H

#include "tfx/Support/Tensor.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <map>
#include <memory>
#include <string>

namespace mlir::tfx {

struct SafeTensorInfo {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0; ///< byte range within the data section
};

class SafeTensorsFile {
public:
  /// Maps and validates `path`. Errors name the file and the offending entry.
  static llvm::Expected<std::unique_ptr<SafeTensorsFile>> open(llvm::StringRef path);
  /// Validates an in-memory buffer (used by tests and fuzzers).
  static llvm::Expected<std::unique_ptr<SafeTensorsFile>>
  fromBuffer(std::unique_ptr<llvm::MemoryBuffer> buffer);

  const std::map<std::string, SafeTensorInfo> &tensors() const { return infos; }
  const SafeTensorInfo *find(llvm::StringRef name) const;
  /// Decodes a tensor (f16/bf16 widen to f32; integer types to int64).
  llvm::Expected<Tensor> read(llvm::StringRef name) const;
  /// Raw bytes of a tensor inside the mapping.
  llvm::StringRef rawData(const SafeTensorInfo &info) const;
  const std::map<std::string, std::string> &metadata() const { return meta; }
  llvm::StringRef path() const { return filePath; }

private:
  std::unique_ptr<llvm::MemoryBuffer> buffer;
  std::string filePath;
  uint64_t dataStart = 0;
  std::map<std::string, SafeTensorInfo> infos;
  std::map<std::string, std::string> meta;
};

/// Writes tensors (in their `dtype`: F32/F16/BF16/F64/I64/I32/I8/U8/Bool)
/// atomically to `path`.
llvm::Error writeSafeTensors(llvm::StringRef path,
                             const std::map<std::string, Tensor> &tensors,
                             const std::map<std::string, std::string> &metadata = {});

} // namespace mlir::tfx

#endif // TFX_SUPPORT_SAFETENSORS_H
