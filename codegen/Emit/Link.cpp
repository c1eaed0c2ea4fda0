//===- Link.cpp - shared objects and static libraries, in process ---------===//

#include "Link.h"

#include "lld/Common/Driver.h"
#include "llvm/Object/ArchiveWriter.h"
#include "llvm/Support/raw_ostream.h"

#include <mutex>

LLD_HAS_DRIVER(elf)

using namespace llvm;

Error mlir::tfx::linkSharedObject(StringRef objectPath, StringRef outputPath) {
  // lld keeps global state: one link at a time.
  static std::mutex lock;
  std::lock_guard<std::mutex> guard(lock);
  std::string object = objectPath.str(), output = outputPath.str();
  // -z now/relro: resolve at load; --hash-style=both for any loader;
  // -z noexecstack: the code never needs an executable stack.
  const char *args[] = {"ld.lld",        "-shared",      "--hash-style=both",
                        "-z",            "now",          "-z",
                        "relro",         "-z",           "noexecstack",
                        "--no-undefined-version", "-o", output.c_str(),
                        object.c_str()};
  std::string messages;
  raw_string_ostream out(messages), err(messages);
  lld::Result result =
      lld::lldMain(args, out, err, {{lld::Gnu, &lld::elf::link}});
  if (result.retCode != 0 || !result.canRunAgain)
    return createStringError(inconvertibleErrorCode(),
                             "linking %s failed: %s", output.c_str(),
                             messages.c_str());
  return Error::success();
}

Error mlir::tfx::writeStaticLibrary(StringRef objectPath, StringRef memberName,
                                    StringRef outputPath) {
  Expected<NewArchiveMember> member =
      NewArchiveMember::getFile(objectPath, /*Deterministic=*/true);
  if (!member)
    return member.takeError();
  member->MemberName = memberName;
  std::vector<NewArchiveMember> members;
  members.push_back(std::move(*member));
  return writeArchive(outputPath, members, SymtabWritingMode::NormalSymtab,
                      object::Archive::K_GNU, /*Deterministic=*/true,
                      /*Thin=*/false);
}
