#include "config.h"
#include "fl_rng.h"
#include "fl_core.h"

#include <math.h>

#define PHILOX_M0 UINT32_C(0xD2511F53)
#define PHILOX_M1 UINT32_C(0xCD9E8D57)
#define PHILOX_W0 UINT32_C(0x9E3779B9)
#define PHILOX_W1 UINT32_C(0xBB67AE85)

static inline void mulhilo(uint32_t a, uint32_t b, uint32_t *hi, uint32_t *lo)
{
  uint64_t p = (uint64_t)a * b;
  *hi = (uint32_t)(p >> 32);
  *lo = (uint32_t)p;
}

void fl_rng_philox(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
  uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
  uint32_t k0 = key[0], k1 = key[1];
  for (int r = 0; r < 10; r++) {
    uint32_t hi0, lo0, hi1, lo1;
    mulhilo(PHILOX_M0, c0, &hi0, &lo0);
    mulhilo(PHILOX_M1, c2, &hi1, &lo1);
    uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
    c0 = n0; c1 = n1; c2 = n2; c3 = n3;
    k0 += PHILOX_W0;
    k1 += PHILOX_W1;
  }
  out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

/* Block b of (seed, stream): counter (b, stream), key seed. */
static inline void block(uint64_t seed, uint64_t stream, uint64_t b, uint32_t out[4])
{
  uint32_t ctr[4] = {(uint32_t)b, (uint32_t)(b >> 32), (uint32_t)stream, (uint32_t)(stream >> 32)};
  uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
  fl_rng_philox(ctr, key, out);
}

/* 53 bits from two words -> [0, 1). */
static inline double u53(uint32_t a, uint32_t b)
{
  uint64_t x = ((uint64_t)(a >> 5) << 26) | (b >> 6);
  return (double)x * 0x1.0p-53;
}

void fl_rng_fill_index(uint64_t seed, uint64_t stream, uint64_t start, size_t n, uint32_t k, uint32_t *out)
{
  uint64_t b = start >> 2;
  for (size_t j = 0; j < n; j += 4, b++) {
    uint32_t w[4];
    block(seed, stream, b, w);
    for (size_t q = 0; q < 4 && j + q < n; q++) out[j + q] = (uint32_t)(((uint64_t)w[q] * k) >> 32);
  }
}

double fl_rng_uniform(uint64_t seed, uint64_t stream, uint64_t index)
{
  uint32_t w[4];
  block(seed, stream, index >> 1, w);
  return (index & 1) ? u53(w[2], w[3]) : u53(w[0], w[1]);
}

/* Box-Muller on block index/2: the even index takes the cosine, the odd the sine. */
static inline void normal_pair(uint64_t seed, uint64_t stream, uint64_t b, double *z0, double *z1)
{
  uint32_t w[4];
  block(seed, stream, b, w);
  double u1 = 1.0 - u53(w[0], w[1]); /* (0, 1]: log is finite */
  double u2 = u53(w[2], w[3]);
  double r = sqrt(-2.0 * log(u1));
  double th = 6.283185307179586476925286766559 * u2;
  *z0 = r * cos(th);
  *z1 = r * sin(th);
}

double fl_rng_normal(uint64_t seed, uint64_t stream, uint64_t index)
{
  double z0, z1;
  normal_pair(seed, stream, index >> 1, &z0, &z1);
  return (index & 1) ? z1 : z0;
}

void fl_rng_fill_uniform(uint64_t seed, uint64_t stream, uint64_t start, size_t n, double *out)
{
  long long nn = (long long)n;
  FL_PFOR_IF(n > 65536, for (long long k = 0; k < nn; k++) out[k] = fl_rng_uniform(seed, stream, start + (uint64_t)k););
}

void fl_rng_fill_normal(uint64_t seed, uint64_t stream, uint64_t start, size_t n, double *out)
{
  if (n == 0) return;
  /* one Box-Muller pair per block index b: both its numbers are kept
     (indices 2b and 2b + 1), the ends of the range may use one */
  const uint64_t b0 = start >> 1, b1 = (start + n - 1) >> 1;
  const long long nb = (long long)(b1 - b0 + 1);
  FL_PFOR_IF(n > 65536,
  for (long long q = 0; q < nb; q++) {
    uint64_t b = b0 + (uint64_t)q, i0 = 2 * b;
    double z0, z1;
    normal_pair(seed, stream, b, &z0, &z1);
    if (i0 >= start) out[i0 - start] = z0;
    if (i0 + 1 < start + n) out[i0 + 1 - start] = z1;
  });
}
