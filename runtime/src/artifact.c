/*===- artifact.c - descriptor checks and weight loading ------------------===*
 *
 * A descriptor comes from a file the runtime did not write, so every field
 * is checked before use: magic and ABI version first (the rest of the
 * layout depends on them), then structure, CPU features and weights.
 *===----------------------------------------------------------------------===*/
#include "model_internal.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bounds that no real model reaches, so that a garbage descriptor cannot
 * make the checks loop for long. */
#define TFX_MAX_ENTRIES 4096
#define TFX_MAX_GPU_KERNELS 65536
#define TFX_MAX_NAME 1024
#define TFX_MAX_TENSORS 65536

static uint64_t known_features(void) {
  uint64_t known = 0;
  char probe[16];
  for (int bit = 0; bit < 64; ++bit) {
    /* A known bit has a name that is not "bit N". */
    tfx_cpu_feature_names((uint64_t)1 << bit, probe, sizeof(probe));
    if (strncmp(probe, "bit ", 4) != 0)
      known |= (uint64_t)1 << bit;
  }
  return known;
}

static tfx_status *check_tensor(const tfx_artifact_tensor *tensor,
                                const char *label, const char *entry,
                                const char *kind, int32_t index) {
  if (!tensor->name)
    return tfx__status(TFX_STATUS_CORRUPT_ARTIFACT,
                       "%s: entry '%s': %s %d has no name", label, entry,
                       kind, (int)index);
  if (tfx_dtype_size(tensor->dtype) == 0)
    return tfx__status(TFX_STATUS_CORRUPT_ARTIFACT,
                       "%s: entry '%s': %s '%s' has unknown dtype %d", label,
                       entry, kind, tensor->name, (int)tensor->dtype);
  if (tensor->rank < 0 || tensor->rank > TFX_ARTIFACT_MAX_RANK)
    return tfx__status(TFX_STATUS_CORRUPT_ARTIFACT,
                       "%s: entry '%s': %s '%s' has rank %d (0 to %d)", label,
                       entry, kind, tensor->name, (int)tensor->rank,
                       TFX_ARTIFACT_MAX_RANK);
  if (tfx__num_elements(tensor->rank, tensor->shape,
                        tfx_dtype_size(tensor->dtype)) < 0)
    return tfx__status(TFX_STATUS_CORRUPT_ARTIFACT,
                       "%s: entry '%s': %s '%s' has a negative or "
                       "overflowing shape",
                       label, entry, kind, tensor->name);
  return NULL;
}

static tfx_status *check_entry(const tfx_artifact_entry *entry,
                               const char *label, uint32_t index) {
  if (!entry->name || !entry->fn)
    return tfx__status(TFX_STATUS_CORRUPT_ARTIFACT,
                       "%s: entry %u has no %s", label, (unsigned)index,
                       entry->name ? "function" : "name");
  if (entry->num_inputs < 0 || entry->num_inputs > TFX_MAX_TENSORS ||
      entry->num_outputs < 0 || entry->num_outputs > TFX_MAX_TENSORS ||
      (entry->num_inputs && !entry->inputs) ||
      (entry->num_outputs && !entry->outputs))
    return tfx__status(TFX_STATUS_CORRUPT_ARTIFACT,
                       "%s: entry '%s' has a bad signature (%d inputs, %d "
                       "outputs)",
                       label, entry->name, (int)entry->num_inputs,
                       (int)entry->num_outputs);
  for (int32_t k = 0; k < entry->num_inputs; ++k) {
    tfx_status *status =
        check_tensor(&entry->inputs[k], label, entry->name, "input", k);
    if (status)
      return status;
  }
  for (int32_t k = 0; k < entry->num_outputs; ++k) {
    tfx_status *status =
        check_tensor(&entry->outputs[k], label, entry->name, "output", k);
    if (status)
      return status;
  }
  return NULL;
}

static void quote_magic(const char magic[8], char out[40]) {
  size_t used = 0;
  for (int k = 0; k < 8; ++k) {
    unsigned char c = (unsigned char)magic[k];
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
      out[used++] = (char)c;
    else
      used += (size_t)snprintf(out + used, 5, "\\x%02x", c);
  }
  out[used] = '\0';
}

uint32_t tfx__artifact_device(const tfx_artifact *artifact) {
  return artifact->abi_version >= 2 ? artifact->device : TFX_DEVICE_CPU;
}

size_t tfx__descriptor_size(uint32_t abi_version) {
  return abi_version == 1 ? offsetof(tfx_artifact, device) : sizeof(tfx_artifact);
}

/* The ABI 2 device fields. */
static tfx_status *check_device(const tfx_artifact *a, const char *label) {
  uint32_t device = tfx__artifact_device(a);
  if (device == TFX_DEVICE_CPU)
    return NULL;
  if (device != TFX_DEVICE_CUDA)
    return tfx__status(TFX_STATUS_CORRUPT_ARTIFACT,
                       "%s: unknown device %u in the descriptor", label,
                       (unsigned)device);
  if (!a->gpu_arch || strnlen(a->gpu_arch, 16) >= 16 || !a->gpu_image ||
      a->gpu_image_size < 64 || !a->gpu_kernels || a->num_gpu_kernels == 0 ||
      a->num_gpu_kernels > TFX_MAX_GPU_KERNELS)
    return tfx__status(TFX_STATUS_CORRUPT_ARTIFACT,
                       "%s: malformed CUDA fields (%u kernels, %llu-byte image)",
                       label, (unsigned)a->num_gpu_kernels,
                       (unsigned long long)a->gpu_image_size);
  for (uint32_t k = 0; k < a->num_gpu_kernels; ++k)
    if (!a->gpu_kernels[k] || strnlen(a->gpu_kernels[k], TFX_MAX_NAME) >= TFX_MAX_NAME)
      return tfx__status(TFX_STATUS_CORRUPT_ARTIFACT,
                         "%s: CUDA kernel #%u has no valid name", label, (unsigned)k);
  /* A cubin is an ELF file. */
  if (memcmp(a->gpu_image, "\177ELF", 4) != 0)
    return tfx__status(TFX_STATUS_CORRUPT_ARTIFACT,
                       "%s: the CUDA kernel image is not a cubin", label);
  return NULL;
}

tfx_status *tfx__validate_artifact(const tfx_artifact *artifact,
                                   const char *label) {
  if (memcmp(artifact->magic, TFX_ARTIFACT_MAGIC, 8) != 0) {
    char quoted[40];
    quote_magic(artifact->magic, quoted);
    return tfx__status(TFX_STATUS_CORRUPT_ARTIFACT,
                       "%s: bad magic \"%s\" (expected \"%s\"): not a tfx "
                       "artifact, or a corrupt one",
                       label, quoted, TFX_ARTIFACT_MAGIC);
  }
  if (artifact->abi_version != 1 &&
      artifact->abi_version != TFX_ARTIFACT_ABI_VERSION)
    return tfx__status(TFX_STATUS_CORRUPT_ARTIFACT,
                       "%s: artifact ABI version %u, but this runtime reads "
                       "versions 1 to %u; compile the model with a tfx-compile "
                       "that matches the runtime",
                       label, (unsigned)artifact->abi_version,
                       (unsigned)TFX_ARTIFACT_ABI_VERSION);
  tfx_status *device = check_device(artifact, label);
  if (device)
    return device;
  if (artifact->num_entries == 0 || !artifact->entries ||
      artifact->num_entries > TFX_MAX_ENTRIES)
    return tfx__status(TFX_STATUS_CORRUPT_ARTIFACT,
                       "%s: descriptor lists %u entry points", label,
                       (unsigned)artifact->num_entries);
  for (uint32_t k = 0; k < artifact->num_entries; ++k) {
    tfx_status *status = check_entry(&artifact->entries[k], label, k);
    if (status)
      return status;
  }

  const char *target = artifact->target_cpu ? artifact->target_cpu : "?";
  uint64_t unknown = artifact->cpu_features & ~known_features();
  if (unknown) {
    char names[256];
    tfx_cpu_feature_names(unknown, names, sizeof(names));
    return tfx__status(TFX_STATUS_UNSUPPORTED_CPU,
                       "%s: needs CPU features unknown to this runtime (%s; "
                       "compiled for '%s'); use a newer runtime",
                       label, names, target);
  }
  uint64_t missing = artifact->cpu_features & ~tfx_cpu_features();
  if (missing) {
    char names[256];
    tfx_cpu_feature_names(missing, names, sizeof(names));
    return tfx__status(TFX_STATUS_UNSUPPORTED_CPU,
                       "%s: needs CPU features this machine lacks: %s "
                       "(compiled for '%s'); recompile it for this CPU "
                       "(tfx-compile --cpu=native)",
                       label, names, target);
  }

  if (artifact->weights &&
      ((uintptr_t)artifact->weights % TFX_ALIGNMENT) != 0)
    return tfx__status(TFX_STATUS_CORRUPT_ARTIFACT,
                       "%s: embedded weights are not %d-byte aligned", label,
                       TFX_ALIGNMENT);
  if (!artifact->weights && artifact->weights_size && !artifact->weights_file)
    return tfx__status(TFX_STATUS_CORRUPT_ARTIFACT,
                       "%s: descriptor has %llu bytes of weights but neither "
                       "embeds them nor names a weights file",
                       label, (unsigned long long)artifact->weights_size);
  return NULL;
}

static tfx_status *check_checksum(const tfx_model *model, const void *data,
                                  const char *where) {
  const tfx_artifact *artifact = model->artifact;
  uint64_t actual = tfx_weights_checksum(data, artifact->weights_size);
  if (actual == artifact->weights_checksum)
    return NULL;
  return tfx__status(TFX_STATUS_CORRUPT_ARTIFACT,
                     "%s: weights checksum mismatch in %s: computed "
                     "0x%016llx, descriptor says 0x%016llx (corrupt, or "
                     "from another build)",
                     model->label, where, (unsigned long long)actual,
                     (unsigned long long)artifact->weights_checksum);
}

static tfx_status *map_sidecar(tfx_model *model, const char *path) {
  const tfx_artifact *artifact = model->artifact;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    return tfx__status(err == ENOENT ? TFX_STATUS_NOT_FOUND
                                     : TFX_STATUS_IO_ERROR,
                       "%s: cannot open weights file '%s': %s", model->label,
                       path, strerror(err));
  }
  struct stat info;
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    close(fd);
    return tfx__status(TFX_STATUS_IO_ERROR,
                       "%s: weights file '%s' is not a readable regular file",
                       model->label, path);
  }
  if ((uint64_t)info.st_size != artifact->weights_size) {
    close(fd);
    return tfx__status(TFX_STATUS_CORRUPT_ARTIFACT,
                       "%s: weights file '%s' has %llu bytes, the artifact "
                       "expects %llu (truncated, or from another build)",
                       model->label, path, (unsigned long long)info.st_size,
                       (unsigned long long)artifact->weights_size);
  }
  if (artifact->weights_size == 0) {
    close(fd);
    return NULL;
  }
  void *mapping = mmap(NULL, (size_t)artifact->weights_size, PROT_READ,
                       MAP_PRIVATE, fd, 0);
  int err = errno;
  close(fd);
  if (mapping == MAP_FAILED)
    return tfx__status(err == ENOMEM ? TFX_STATUS_OUT_OF_MEMORY
                                     : TFX_STATUS_IO_ERROR,
                       "%s: cannot map weights file '%s': %s", model->label,
                       path, strerror(err));
  model->weights_mapping = mapping;
  model->weights_mapping_size = (size_t)artifact->weights_size;
  model->weights = mapping;
  if (((uintptr_t)mapping % TFX_ALIGNMENT) != 0)
    return tfx__status(TFX_STATUS_INTERNAL,
                       "%s: mapping of '%s' is not %d-byte aligned",
                       model->label, path, TFX_ALIGNMENT);
  char where[64 + 4096];
  snprintf(where, sizeof(where), "weights file '%s'", path);
  return check_checksum(model, mapping, where);
}

tfx_status *tfx__load_weights(tfx_model *model, const char *weights_dir) {
  const tfx_artifact *artifact = model->artifact;
  if (artifact->weights) {
    model->weights = artifact->weights;
    return check_checksum(model, artifact->weights, "the embedded weights");
  }
  if (!artifact->weights_file)
    return NULL; /* a model without weights */
  const char *file = artifact->weights_file;
  size_t length = strlen(file) + (weights_dir ? strlen(weights_dir) : 0) + 2;
  char *path = malloc(length);
  if (!path)
    return tfx__status(TFX_STATUS_OUT_OF_MEMORY, "out of memory");
  if (file[0] == '/' || !weights_dir || !weights_dir[0])
    snprintf(path, length, "%s", file);
  else
    snprintf(path, length, "%s/%s", weights_dir, file);
  tfx_status *status = map_sidecar(model, path);
  free(path);
  return status;
}

void tfx__release_weights(tfx_model *model) {
  if (model->weights_mapping)
    munmap(model->weights_mapping, model->weights_mapping_size);
  model->weights_mapping = NULL;
  model->weights = NULL;
}
