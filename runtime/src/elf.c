/*===- elf.c - reject incomplete shared objects before dlopen -------------===*
 *
 * glibc's loader maps segments straight from the file: a segment that ends
 * past the end of a truncated file maps without error and then faults
 * (SIGBUS) on first touch. Checking the header, the program headers and
 * the section table against the file size first turns that into a status.
 *===----------------------------------------------------------------------===*/
#include "model_internal.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int read_at(int fd, void *buf, size_t size, uint64_t offset) {
  size_t done = 0;
  while (done < size) {
    ssize_t got = pread(fd, (char *)buf + done, size - done,
                        (off_t)(offset + done));
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      return 0;
    done += (size_t)got;
  }
  return 1;
}

/* Whether [offset, offset + size) lies inside a file of file_size bytes. */
static int within(uint64_t offset, uint64_t size, uint64_t file_size) {
  return offset <= file_size && size <= file_size - offset;
}

static tfx_status *check_headers(int fd, const char *path,
                                 uint64_t file_size) {
  Elf64_Ehdr header;
  if (file_size < sizeof(header) || !read_at(fd, &header, sizeof(header), 0))
    return tfx__status(TFX_STATUS_CORRUPT_ARTIFACT,
                       "'%s' is not a shared object: %llu bytes is too short "
                       "for an ELF header",
                       path, (unsigned long long)file_size);
  if (memcmp(header.e_ident, ELFMAG, SELFMAG) != 0)
    return tfx__status(TFX_STATUS_CORRUPT_ARTIFACT,
                       "'%s' is not a shared object (no ELF magic)", path);
  if (header.e_ident[EI_CLASS] != ELFCLASS64 ||
      header.e_ident[EI_DATA] != ELFDATA2LSB)
    return tfx__status(TFX_STATUS_CORRUPT_ARTIFACT,
                       "'%s' is not a 64-bit little-endian ELF file", path);
#if defined(__x86_64__)
  if (header.e_machine != EM_X86_64)
    return tfx__status(TFX_STATUS_CORRUPT_ARTIFACT,
                       "'%s' is built for ELF machine %u, not x86-64", path,
                       (unsigned)header.e_machine);
#endif
  if (header.e_type != ET_DYN)
    return tfx__status(TFX_STATUS_CORRUPT_ARTIFACT,
                       "'%s' is an ELF file but not a shared object (type "
                       "%u); link the object with -shared or use "
                       "tfx-compile --emit=so",
                       path, (unsigned)header.e_type);
  if (header.e_phentsize != sizeof(Elf64_Phdr) || header.e_phnum == 0 ||
      !within(header.e_phoff, (uint64_t)header.e_phnum * sizeof(Elf64_Phdr),
              file_size))
    return tfx__status(TFX_STATUS_CORRUPT_ARTIFACT,
                       "'%s' is truncated or corrupt: its program headers "
                       "lie outside the file's %llu bytes",
                       path, (unsigned long long)file_size);
  if (header.e_shnum != 0 &&
      (header.e_shentsize != sizeof(Elf64_Shdr) ||
       !within(header.e_shoff, (uint64_t)header.e_shnum * sizeof(Elf64_Shdr),
               file_size)))
    return tfx__status(TFX_STATUS_CORRUPT_ARTIFACT,
                       "'%s' is truncated: its section table ends past the "
                       "file's %llu bytes",
                       path, (unsigned long long)file_size);

  size_t table_size = (size_t)header.e_phnum * sizeof(Elf64_Phdr);
  Elf64_Phdr *segments = malloc(table_size);
  if (!segments)
    return tfx__status(TFX_STATUS_OUT_OF_MEMORY, "out of memory reading '%s'",
                       path);
  tfx_status *status = NULL;
  if (!read_at(fd, segments, table_size, header.e_phoff)) {
    status = tfx__status(TFX_STATUS_IO_ERROR,
                         "cannot read the program headers of '%s'", path);
  } else {
    for (unsigned k = 0; k < header.e_phnum && !status; ++k) {
      const Elf64_Phdr *segment = &segments[k];
      if (segment->p_type == PT_NULL)
        continue;
      if (!within(segment->p_offset, segment->p_filesz, file_size))
        status = tfx__status(
            TFX_STATUS_CORRUPT_ARTIFACT,
            "'%s' is truncated: segment %u ends at byte %llu but the file "
            "has %llu bytes",
            path, k,
            (unsigned long long)(segment->p_offset + segment->p_filesz),
            (unsigned long long)file_size);
    }
  }
  free(segments);
  return status;
}

tfx_status *tfx__check_elf(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    return tfx__status(err == ENOENT ? TFX_STATUS_NOT_FOUND
                                     : TFX_STATUS_IO_ERROR,
                       "cannot open '%s': %s", path, strerror(err));
  }
  struct stat info;
  tfx_status *status = NULL;
  if (fstat(fd, &info) != 0)
    status = tfx__status(TFX_STATUS_IO_ERROR, "cannot stat '%s': %s", path,
                         strerror(errno));
  else if (!S_ISREG(info.st_mode))
    status = tfx__status(TFX_STATUS_INVALID_ARGUMENT,
                         "'%s' is not a regular file", path);
  else
    status = check_headers(fd, path, (uint64_t)info.st_size);
  close(fd);
  return status;
}
