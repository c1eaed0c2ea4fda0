/* The FMA peak of one core: 16 independent AVX-512 FMA chains in named
 * registers (more than latency x throughput on current x86 cores).
 * Build: cc -O2 -mavx512f -mfma peak_fma.c -o peak_fma */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

#define CHAINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) \
                  X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)

int main(void) {
#define DECLARE(i) __m512 acc##i = _mm512_set1_ps((float)i);
  CHAINS(DECLARE)
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  const long iterations = 100000000;
  struct timespec t0, t1;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
  for (long n = 0; n < iterations; ++n) {
#define STEP(i) acc##i = _mm512_fmadd_ps(acc##i, a, b);
    CHAINS(STEP)
  }
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
  double s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
  float sink = 0;
#define SUM(i) sink += _mm512_reduce_add_ps(acc##i);
  CHAINS(SUM)
  printf("peak %.1f GFLOP/s per core (checksum %g)\n",
         iterations * 16.0 * 32.0 / s / 1e9, sink);
  return 0;
}
