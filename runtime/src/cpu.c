/*===- cpu.c - which TFX_CPU_* features this machine runs ------------------===*
 *
 * CPUID says what the core implements; XGETBV says which register state the
 * OS saves on a context switch. A feature counts only with both: AVX needs
 * the YMM state, AVX-512 the opmask and ZMM states, AMX the tile states plus
 * Linux's per-process permission.
 *===----------------------------------------------------------------------===*/
#include "internal.h"

#include <stdio.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

static const struct {
  uint64_t bit;
  const char *name;
} feature_names[] = {
    {TFX_CPU_SSE42, "SSE4.2"},         {TFX_CPU_AVX, "AVX"},
    {TFX_CPU_AVX2, "AVX2"},            {TFX_CPU_FMA, "FMA"},
    {TFX_CPU_F16C, "F16C"},            {TFX_CPU_AVX512F, "AVX512F"},
    {TFX_CPU_AVX512BW, "AVX512BW"},    {TFX_CPU_AVX512DQ, "AVX512DQ"},
    {TFX_CPU_AVX512VL, "AVX512VL"},    {TFX_CPU_AVX512VNNI, "AVX512VNNI"},
    {TFX_CPU_AVX512BF16, "AVX512BF16"}, {TFX_CPU_AVX512FP16, "AVX512FP16"},
    {TFX_CPU_AMX_TILE, "AMX-TILE"},    {TFX_CPU_AMX_INT8, "AMX-INT8"},
    {TFX_CPU_AMX_BF16, "AMX-BF16"},
};

size_t tfx_cpu_feature_names(uint64_t features, char *buf, size_t size) {
  size_t length = 0;
  for (int bit = 0; bit < 64; ++bit) {
    uint64_t mask = (uint64_t)1 << bit;
    if (!(features & mask))
      continue;
    const char *name = NULL;
    for (size_t k = 0; k < sizeof(feature_names) / sizeof(feature_names[0]);
         ++k)
      if (feature_names[k].bit == mask)
        name = feature_names[k].name;
    char unknown[16];
    if (!name) {
      snprintf(unknown, sizeof(unknown), "bit %d", bit);
      name = unknown;
    }
    const char *sep = length ? ", " : "";
    size_t piece = strlen(sep) + strlen(name);
    if (buf && length < size)
      snprintf(buf + length, size - length, "%s%s", sep, name);
    length += piece;
  }
  if (buf && size && length == 0)
    buf[0] = '\0';
  return length;
}

#if defined(__x86_64__)
static uint64_t read_xcr0(void) {
  uint32_t lo, hi;
  __asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return ((uint64_t)hi << 32) | lo;
}

/* Linux keeps AMX tile state off until a process asks (5.16+). */
static int request_amx_permission(void) {
#if defined(__linux__) && defined(SYS_arch_prctl)
  const long ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18;
  return syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) ==
         0;
#else
  return 0;
#endif
}
#endif

uint64_t tfx_cpu_features(void) {
  uint64_t features = 0;
#if defined(__x86_64__)
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx))
    return 0;
  if (ecx & (1u << 20))
    features |= TFX_CPU_SSE42;
  int osxsave = (ecx & (1u << 27)) != 0;
  uint64_t xcr0 = osxsave ? read_xcr0() : 0;
  int ymm_state = (xcr0 & 0x6) == 0x6;      /* SSE + AVX */
  int zmm_state = (xcr0 & 0xe6) == 0xe6;    /* + opmask, ZMM0-15, ZMM16-31 */
  int tile_state = (xcr0 & 0x60000) == 0x60000; /* XTILECFG + XTILEDATA */
  if (ymm_state) {
    if (ecx & (1u << 28))
      features |= TFX_CPU_AVX;
    if (ecx & (1u << 12))
      features |= TFX_CPU_FMA;
    if (ecx & (1u << 29))
      features |= TFX_CPU_F16C;
  }
  unsigned max_leaf = __get_cpuid_max(0, NULL);
  if (max_leaf < 7)
    return features;
  __cpuid_count(7, 0, eax, ebx, ecx, edx);
  unsigned leaf7_max_subleaf = eax;
  if (ymm_state && (ebx & (1u << 5)))
    features |= TFX_CPU_AVX2;
  if (zmm_state) {
    if (ebx & (1u << 16))
      features |= TFX_CPU_AVX512F;
    if (ebx & (1u << 17))
      features |= TFX_CPU_AVX512DQ;
    if (ebx & (1u << 30))
      features |= TFX_CPU_AVX512BW;
    if (ebx & (1u << 31))
      features |= TFX_CPU_AVX512VL;
    if (ecx & (1u << 11))
      features |= TFX_CPU_AVX512VNNI;
    if (edx & (1u << 23))
      features |= TFX_CPU_AVX512FP16;
    if (leaf7_max_subleaf >= 1) {
      unsigned a1, b1, c1, d1;
      __cpuid_count(7, 1, a1, b1, c1, d1);
      (void)b1, (void)c1, (void)d1;
      if (a1 & (1u << 5))
        features |= TFX_CPU_AVX512BF16;
    }
  }
  if (tile_state && (edx & (1u << 24)) && request_amx_permission()) {
    features |= TFX_CPU_AMX_TILE;
    if (edx & (1u << 25))
      features |= TFX_CPU_AMX_INT8;
    if (edx & (1u << 22))
      features |= TFX_CPU_AMX_BF16;
  }
#endif
  return features;
}
