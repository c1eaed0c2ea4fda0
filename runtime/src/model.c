/*===- model.c - open, describe and run models ----------------------------===*/
#include "model_internal.h"

#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TFX_DESCRIPTOR_SYMBOL "tfx_artifact_main"

static char *format_label(const char *fmt, const char *name) {
  size_t length = strlen(fmt) + strlen(name) + 1;
  char *label = malloc(length);
  if (label)
    snprintf(label, length, fmt, name);
  return label;
}

static tfx_model *new_model(const char *label_fmt, const char *name) {
  tfx_model *model = calloc(1, sizeof(*model));
  if (!model)
    return NULL;
  model->label = format_label(label_fmt, name);
  if (!model->label) {
    free(model);
    return NULL;
  }
  pthread_mutex_init(&model->scratch_mutex, NULL);
  return model;
}

void tfx_model_close(tfx_model *model) {
  if (!model)
    return;
  tfx__cuda_close(model);
  tfx__release_weights(model);
  for (tfx_scratch *s = model->free_scratch, *next; s; s = next) {
    next = s->next;
    free(s->data);
    free(s);
  }
  if (model->dl_handle)
    dlclose(model->dl_handle);
  pthread_mutex_destroy(&model->scratch_mutex);
  free(model->label);
  free(model);
}

/* Checks the descriptor and the weights of a model whose artifact is set. */
static tfx_status *finish_open(tfx_model *model, const char *weights_dir) {
  tfx_status *status = tfx__validate_artifact(model->artifact, model->label);
  if (!status)
    status = tfx__load_weights(model, weights_dir);
  if (!status && tfx__artifact_device(model->artifact) == TFX_DEVICE_CUDA)
    status = tfx__cuda_open(model);
  if (status)
    return status;
  const tfx_artifact *artifact = model->artifact;
  for (uint32_t k = 0; k < artifact->num_entries; ++k)
    if (artifact->entries[k].scratch_bytes > model->scratch_bytes)
      model->scratch_bytes = artifact->entries[k].scratch_bytes;
  return NULL;
}

tfx_status *tfx_model_open_embedded(const tfx_artifact *artifact,
                                    const char *weights_dir,
                                    tfx_model **out_model) {
  if (!out_model)
    return tfx__status(TFX_STATUS_INVALID_ARGUMENT,
                       "tfx_model_open_embedded: out_model is NULL");
  *out_model = NULL;
  if (!artifact)
    return tfx__status(TFX_STATUS_INVALID_ARGUMENT,
                       "tfx_model_open_embedded: artifact is NULL");
  /* The name is trusted only once the magic and version are checked. */
  int trusted = memcmp(artifact->magic, TFX_ARTIFACT_MAGIC, 8) == 0 &&
                (artifact->abi_version == 1 ||
                 artifact->abi_version == TFX_ARTIFACT_ABI_VERSION) &&
                artifact->model_name;
  tfx_model *model =
      trusted ? new_model("model '%s'", artifact->model_name)
              : new_model("%s", "embedded artifact");
  if (!model)
    return tfx__status(TFX_STATUS_OUT_OF_MEMORY, "out of memory");
  model->artifact = artifact;
  tfx_status *status = finish_open(model, weights_dir);
  if (status) {
    tfx_model_close(model);
    return status;
  }
  *out_model = model;
  return NULL;
}

/* The folder of `path` ("." when it has none), for the sidecar file. */
static char *folder_of(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash)
    return format_label("%s", ".");
  size_t length = slash == path ? 1 : (size_t)(slash - path);
  char *folder = malloc(length + 1);
  if (folder) {
    memcpy(folder, path, length);
    folder[length] = '\0';
  }
  return folder;
}

tfx_status *tfx_model_open(const char *path, tfx_model **out_model) {
  if (!out_model)
    return tfx__status(TFX_STATUS_INVALID_ARGUMENT,
                       "tfx_model_open: out_model is NULL");
  *out_model = NULL;
  if (!path || !path[0])
    return tfx__status(TFX_STATUS_INVALID_ARGUMENT,
                       "tfx_model_open: no path given");
  tfx_status *status = tfx__check_elf(path);
  if (status)
    return status;

  tfx_model *model = new_model("'%s'", path);
  if (!model)
    return tfx__status(TFX_STATUS_OUT_OF_MEMORY, "out of memory");
  /* A path without a slash would be looked up on the library search path. */
  char *load_path = strchr(path, '/') ? format_label("%s", path)
                                      : format_label("./%s", path);
  char *folder = folder_of(path);
  if (!load_path || !folder) {
    status = tfx__status(TFX_STATUS_OUT_OF_MEMORY, "out of memory");
    goto done;
  }
  /* RTLD_LOCAL: two models may export the same symbol names. */
  model->dl_handle = dlopen(load_path, RTLD_NOW | RTLD_LOCAL);
  if (!model->dl_handle) {
    const char *why = dlerror();
    status = tfx__status(TFX_STATUS_CORRUPT_ARTIFACT,
                         "%s cannot be loaded: %s", model->label,
                         why ? why : "unknown loader error");
    goto done;
  }
  dlerror();
  void *symbol = dlsym(model->dl_handle, TFX_DESCRIPTOR_SYMBOL);
  if (!symbol) {
    status = tfx__status(TFX_STATUS_CORRUPT_ARTIFACT,
                         "%s exports no '%s' descriptor: not a tfx artifact",
                         model->label, TFX_DESCRIPTOR_SYMBOL);
    goto done;
  }
  /* A symbol smaller than the descriptor would be read past its end. */
  Dl_info info;
  const ElfW(Sym) *entry = NULL;
  if (dladdr1(symbol, &info, (void **)&entry, RTLD_DL_SYMENT) && entry &&
      entry->st_size != 0 &&
      (entry->st_size < tfx__descriptor_size(1) ||
       entry->st_size < tfx__descriptor_size(((const tfx_artifact *)symbol)->abi_version))) {
    status = tfx__status(TFX_STATUS_CORRUPT_ARTIFACT,
                         "%s: '%s' is %llu bytes, smaller than a descriptor "
                         "(%llu bytes)",
                         model->label, TFX_DESCRIPTOR_SYMBOL,
                         (unsigned long long)entry->st_size,
                         (unsigned long long)tfx__descriptor_size(1));
    goto done;
  }
  model->artifact = symbol;
  status = finish_open(model, folder);

done:
  free(load_path);
  free(folder);
  if (status) {
    tfx_model_close(model);
    return status;
  }
  *out_model = model;
  return NULL;
}

const tfx_artifact *tfx_model_artifact(const tfx_model *model) {
  return model ? model->artifact : NULL;
}

int32_t tfx_model_num_entries(const tfx_model *model) {
  return model ? (int32_t)model->artifact->num_entries : 0;
}

const tfx_artifact_entry *tfx_model_entry(const tfx_model *model,
                                          int32_t index) {
  if (!model || index < 0 || (uint32_t)index >= model->artifact->num_entries)
    return NULL;
  return &model->artifact->entries[index];
}

int32_t tfx_model_find_entry(const tfx_model *model, const char *name) {
  if (!model || !name)
    return -1;
  for (uint32_t k = 0; k < model->artifact->num_entries; ++k)
    if (strcmp(model->artifact->entries[k].name, name) == 0)
      return (int32_t)k;
  return -1;
}
