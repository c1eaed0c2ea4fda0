//===- FuzzTarget.h - one harness, two drivers -------------------*- C++ -*-===//
//
// Each fuzz target is a function from bytes to nothing that must neither
// crash nor trip a sanitizer on any input. In the fuzz build
// (TFX_ENABLE_FUZZERS) each harness file becomes its own libFuzzer binary;
// in every other build the harnesses are linked together into
// `tfx-fuzz-replay`, which runs the kept corpora and the regression inputs
// through the same code (test/fuzz/replay.test).
//
//===----------------------------------------------------------------------===//
#ifndef TFX_TEST_FUZZ_FUZZTARGET_H
#define TFX_TEST_FUZZ_FUZZTARGET_H

#include "llvm/ADT/StringRef.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace tfx_fuzz {

using FuzzFn = void (*)(const uint8_t *data, size_t size);

/// Registers a target for the replay driver.
struct Registration {
  Registration(const char *name, FuzzFn fn);
};

/// Stops with a report: the harness found an input the code under test
/// handled wrongly without crashing (an invariant of its result broke).
[[noreturn]] inline void finding(const char *what) {
  std::fprintf(stderr, "tfx-fuzz: finding: %s\n", what);
  std::abort();
}

/// TFX_FUZZ_VERBOSE=1 prints what the code under test reports (to see why
/// seeds are refused); fuzzing keeps quiet.
inline bool verbose() {
  static const bool on = std::getenv("TFX_FUZZ_VERBOSE") != nullptr;
  return on;
}

/// Splits a fuzz input at its first NUL byte: two documents (JSON has no
/// raw NUL, so the first never contains one).
inline std::pair<llvm::StringRef, llvm::StringRef> splitAtNul(const uint8_t *data,
                                                             size_t size) {
  llvm::StringRef all(reinterpret_cast<const char *>(data), size);
  size_t nul = all.find('\0');
  if (nul == llvm::StringRef::npos)
    return {all, llvm::StringRef()};
  return {all.take_front(nul), all.drop_front(nul + 1)};
}

} // namespace tfx_fuzz

#ifdef TFX_FUZZ_LIBFUZZER
#define TFX_FUZZ_TARGET(name, fn)                                              \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {    \
    fn(data, size);                                                            \
    return 0;                                                                  \
  }
#else
#define TFX_FUZZ_TARGET(name, fn)                                              \
  static tfx_fuzz::Registration registration_##name(#name, fn);
#endif

#endif // TFX_TEST_FUZZ_FUZZTARGET_H
