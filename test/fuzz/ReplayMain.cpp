//===- ReplayMain.cpp - run fuzz inputs without libFuzzer -----------------===//
//
// tfx-fuzz-replay TARGET PATH...: every file of every PATH (a file or a
// folder, not recursive) through TARGET's harness, one after the other. A
// crash or a sanitizer report stops it; otherwise it prints how many inputs
// ran. `tfx-fuzz-replay --list` names the targets.
//
//===----------------------------------------------------------------------===//

#include "FuzzTarget.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <string>
#include <vector>

using namespace llvm;

static StringMap<tfx_fuzz::FuzzFn> &targets() {
  static StringMap<tfx_fuzz::FuzzFn> registry;
  return registry;
}

tfx_fuzz::Registration::Registration(const char *name, FuzzFn fn) {
  targets()[name] = fn;
}

static bool collect(StringRef path, std::vector<std::string> &files) {
  if (!sys::fs::is_directory(path)) {
    if (!sys::fs::exists(path)) {
      errs() << "tfx-fuzz-replay: no such file or folder: " << path << "\n";
      return false;
    }
    files.push_back(path.str());
    return true;
  }
  std::error_code ec;
  std::vector<std::string> found;
  // Hidden files (.keep) hold a folder in git; they are not inputs.
  for (sys::fs::directory_iterator it(path, ec), end; it != end && !ec;
       it.increment(ec))
    if (!sys::fs::is_directory(it->path()) &&
        !sys::path::filename(it->path()).starts_with("."))
      found.push_back(it->path());
  if (ec) {
    errs() << "tfx-fuzz-replay: cannot list " << path << ": " << ec.message()
           << "\n";
    return false;
  }
  std::sort(found.begin(), found.end());
  files.insert(files.end(), found.begin(), found.end());
  return true;
}

int main(int argc, char **argv) {
  if (argc == 2 && StringRef(argv[1]) == "--list") {
    std::vector<std::string> names;
    for (const auto &entry : targets())
      names.push_back(entry.getKey().str());
    std::sort(names.begin(), names.end());
    for (const std::string &name : names)
      outs() << name << "\n";
    return 0;
  }
  if (argc < 3) {
    errs() << "usage: tfx-fuzz-replay TARGET FILE-OR-FOLDER...\n"
              "       tfx-fuzz-replay --list\n";
    return 2;
  }
  auto target = targets().find(argv[1]);
  if (target == targets().end()) {
    errs() << "tfx-fuzz-replay: unknown target '" << argv[1]
           << "' (--list names them)\n";
    return 2;
  }
  std::vector<std::string> files;
  for (int k = 2; k < argc; ++k)
    if (!collect(argv[k], files))
      return 1;
  for (const std::string &file : files) {
    auto buffer = MemoryBuffer::getFile(file, /*IsText=*/false,
                                        /*RequiresNullTerminator=*/false);
    if (!buffer) {
      errs() << "tfx-fuzz-replay: cannot read " << file << "\n";
      return 1;
    }
    // A heap copy of exactly the input's size, as libFuzzer passes it, so
    // that a read past the end is caught by the sanitizer build.
    std::vector<uint8_t> bytes((*buffer)->getBufferStart(),
                               (*buffer)->getBufferEnd());
    target->second(bytes.data(), bytes.size());
  }
  outs() << "tfx-fuzz-replay: " << argv[1] << ": " << files.size()
         << " inputs, no findings\n";
  return 0;
}
