//===- Link.cpp - shared objects and static libraries, in process ---------===//

#include "Link.h"

#include "lld/Common/Driver.h"
#include "llvm/Object/ArchiveWriter.h"
#include "llvm/Support/raw_ostream.h"

#include <cerrno>
#include <mutex>
#include <sys/wait.h>
#include <unistd.h>

LLD_HAS_DRIVER(elf)

using namespace llvm;

/// Runs lld in a forked child: lld resets every cl::opt of its process and
/// keeps global state, neither of which a library may impose on its caller
/// (forking is not shelling out: the child runs the linker linked in here).
Error mlir::tfx::linkSharedObject(StringRef objectPath, StringRef outputPath) {
  static std::mutex lock;
  std::lock_guard<std::mutex> guard(lock);
  std::string object = objectPath.str(), output = outputPath.str();
  // -z now/relro: resolve at load; --hash-style=both for any loader;
  // -z noexecstack: the code never needs an executable stack.
  const char *args[] = {"ld.lld", "-shared", "--hash-style=both", "--threads=1",
                        "-z", "now", "-z", "relro", "-z", "noexecstack",
                        "-o", output.c_str(), object.c_str()};
  int pipeFds[2];
  if (pipe(pipeFds) != 0)
    return createStringError(inconvertibleErrorCode(),
                             "linking %s: cannot create a pipe", output.c_str());
  pid_t child = fork();
  if (child < 0) {
    close(pipeFds[0]);
    close(pipeFds[1]);
    return createStringError(inconvertibleErrorCode(),
                             "linking %s: cannot fork", output.c_str());
  }
  if (child == 0) {
    close(pipeFds[0]);
    std::string messages;
    raw_string_ostream out(messages), err(messages);
    lld::Result result = lld::lldMain(args, out, err, {{lld::Gnu, &lld::elf::link}});
    out.flush();
    (void)!write(pipeFds[1], messages.data(), messages.size());
    _exit(result.retCode == 0 ? 0 : 1);
  }
  close(pipeFds[1]);
  std::string messages;
  char buffer[4096];
  for (ssize_t got; (got = read(pipeFds[0], buffer, sizeof(buffer))) != 0;) {
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0)
      break;
    messages.append(buffer, (size_t)got);
  }
  close(pipeFds[0]);
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return createStringError(inconvertibleErrorCode(), "linking %s failed: %s",
                             output.c_str(),
                             messages.empty() ? "the linker crashed" : messages.c_str());
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
