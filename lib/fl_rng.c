#include "config.h"
#include "fl_rng.h"
#include "fl_core.h"

#include <math.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define FL_RNG_X86 1
#include <immintrin.h>
#endif

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

/* ------------------------------------------------------------ many blocks
 * The 4 nb words of blocks b, b + 1, ..., b + nb - 1 of (seed, stream), block
 * by block (out[4 j + w] = word w of block b + j). Eight blocks at a time in
 * AVX2 lanes where the processor has AVX2: integer arithmetic, so the words
 * are the same as fl_rng_philox's. */

#ifdef FL_RNG_X86
#define FL_RNG_AVX2 __attribute__((target("avx2")))

/* hi and lo 32 bits of the eight products a * m */
static inline FL_RNG_AVX2 void mulhilo8(__m256i a, __m256i m, __m256i *hi, __m256i *lo)
{
  __m256i pe = _mm256_mul_epu32(a, m), po = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);
  *lo = _mm256_blend_epi32(pe, _mm256_slli_epi64(po, 32), 0xAA);
  *hi = _mm256_blend_epi32(_mm256_srli_epi64(pe, 32), po, 0xAA);
}

static FL_RNG_AVX2 void blocks8(uint64_t seed, uint64_t stream, uint64_t b, uint32_t *out)
{
  uint32_t lo[8], hi[8];
  for (int j = 0; j < 8; j++) {
    lo[j] = (uint32_t)(b + (uint64_t)j);
    hi[j] = (uint32_t)((b + (uint64_t)j) >> 32);
  }
  __m256i c0 = _mm256_loadu_si256((const __m256i *)lo), c1 = _mm256_loadu_si256((const __m256i *)hi);
  __m256i c2 = _mm256_set1_epi32((int)(uint32_t)stream), c3 = _mm256_set1_epi32((int)(uint32_t)(stream >> 32));
  const __m256i m0 = _mm256_set1_epi32((int)PHILOX_M0), m1 = _mm256_set1_epi32((int)PHILOX_M1);
  uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
  for (int r = 0; r < 10; r++) {
    __m256i hi0, lo0, hi1, lo1;
    mulhilo8(c0, m0, &hi0, &lo0);
    mulhilo8(c2, m1, &hi1, &lo1);
    c0 = _mm256_xor_si256(_mm256_xor_si256(hi1, c1), _mm256_set1_epi32((int)k0));
    c1 = lo1;
    c2 = _mm256_xor_si256(_mm256_xor_si256(hi0, c3), _mm256_set1_epi32((int)k1));
    c3 = lo0;
    k0 += PHILOX_W0;
    k1 += PHILOX_W1;
  }
  /* lanes (blocks) to block-by-block order */
  __m256i t0 = _mm256_unpacklo_epi32(c0, c1), t1 = _mm256_unpackhi_epi32(c0, c1);
  __m256i t2 = _mm256_unpacklo_epi32(c2, c3), t3 = _mm256_unpackhi_epi32(c2, c3);
  __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
  __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
  _mm256_storeu_si256((__m256i *)out, _mm256_permute2x128_si256(u0, u1, 0x20));
  _mm256_storeu_si256((__m256i *)(out + 8), _mm256_permute2x128_si256(u2, u3, 0x20));
  _mm256_storeu_si256((__m256i *)(out + 16), _mm256_permute2x128_si256(u0, u1, 0x31));
  _mm256_storeu_si256((__m256i *)(out + 24), _mm256_permute2x128_si256(u2, u3, 0x31));
}

/* out[q] = (w[q] k) >> 32 for the first multiple of 8 of q < m; returns it */
static FL_RNG_AVX2 size_t scale8(const uint32_t *w, size_t m, uint32_t k, uint32_t *out)
{
  const __m256i kv = _mm256_set1_epi32((int)k);
  size_t q = 0;
  for (; q + 8 <= m; q += 8) {
    __m256i hi, lo;
    mulhilo8(_mm256_loadu_si256((const __m256i *)(w + q)), kv, &hi, &lo);
    _mm256_storeu_si256((__m256i *)(out + q), hi);
  }
  return q;
}

static int have_avx2(void)
{
  static int known = -1; /* benign race: every thread computes the same value */
  if (known < 0) known = __builtin_cpu_supports("avx2") ? 1 : 0;
  return known;
}
#endif

static void blocks(uint64_t seed, uint64_t stream, uint64_t b, size_t nb, uint32_t *out)
{
  size_t j = 0;
#ifdef FL_RNG_X86
  if (have_avx2())
    for (; j + 8 <= nb; j += 8) blocks8(seed, stream, b + j, out + 4 * j);
#endif
  for (; j < nb; j++) block(seed, stream, b + j, out + 4 * j);
}

/* Words are made in chunks of CHUNK blocks, on the stack. */
#define CHUNK 64

void fl_rng_fill_index(uint64_t seed, uint64_t stream, uint64_t start, size_t n, uint32_t k, uint32_t *out)
{
  uint32_t w[4 * CHUNK];
  uint64_t b = start >> 2;
  for (size_t j = 0; j < n; j += 4 * CHUNK, b += CHUNK) {
    size_t m = n - j < 4 * CHUNK ? n - j : 4 * CHUNK;
    blocks(seed, stream, b, (m + 3) / 4, w);
    size_t q = 0;
#ifdef FL_RNG_X86
    if (have_avx2()) q = scale8(w, m, k, out + j);
#endif
    for (; q < m; q++) out[j + q] = (uint32_t)(((uint64_t)w[q] * k) >> 32);
  }
}

double fl_rng_uniform(uint64_t seed, uint64_t stream, uint64_t index)
{
  uint32_t w[4];
  block(seed, stream, index >> 1, w);
  return (index & 1) ? u53(w[2], w[3]) : u53(w[0], w[1]);
}

/* Box-Muller on the four words of a block: the cosine and the sine. */
static inline void box_muller(const uint32_t w[4], double *z0, double *z1)
{
  double u1 = 1.0 - u53(w[0], w[1]); /* (0, 1]: log is finite */
  double u2 = u53(w[2], w[3]);
  double r = sqrt(-2.0 * log(u1));
  double th = 6.283185307179586476925286766559 * u2;
  *z0 = r * cos(th);
  *z1 = r * sin(th);
}

/* Box-Muller on block index/2: the even index takes the cosine, the odd the sine. */
static inline void normal_pair(uint64_t seed, uint64_t stream, uint64_t b, double *z0, double *z1)
{
  uint32_t w[4];
  block(seed, stream, b, w);
  box_muller(w, z0, z1);
}

double fl_rng_normal(uint64_t seed, uint64_t stream, uint64_t index)
{
  double z0, z1;
  normal_pair(seed, stream, index >> 1, &z0, &z1);
  return (index & 1) ? z1 : z0;
}

/* Numbers 2 b and 2 b + 1 come from block b (uniform: words 0-1 and 2-3;
 * normal: the Box-Muller pair). A chunk function (seed, stream, first, n,
 * out) writes numbers first, ..., first + n - 1: first even, n <= 2 CHUNK. */
static void uniform_chunk(uint64_t seed, uint64_t stream, uint64_t first, size_t n, double *out)
{
  uint32_t w[4 * CHUNK];
  blocks(seed, stream, first >> 1, (n + 1) / 2, w);
  for (size_t i = 0; i < n; i++) out[i] = u53(w[2 * i], w[2 * i + 1]);
}

static void normal_chunk(uint64_t seed, uint64_t stream, uint64_t first, size_t n, double *out)
{
  uint32_t w[4 * CHUNK];
  blocks(seed, stream, first >> 1, (n + 1) / 2, w);
  for (size_t i = 0; i < n; i += 2) {
    double z1;
    box_muller(w + 2 * i, out + i, &z1);
    if (i + 1 < n) out[i + 1] = z1;
  }
}

/* out[k] = number start + k of a stream made by chunk: an odd start takes the
 * second number of its block alone, the rest goes chunk by chunk in
 * parallel. */
static void fill(void (*chunk)(uint64_t, uint64_t, uint64_t, size_t, double *), uint64_t seed, uint64_t stream,
                 uint64_t start, size_t n, double *out)
{
  if (n == 0) return;
  if (start & 1) {
    double two[2];
    chunk(seed, stream, start - 1, 2, two);
    out[0] = two[1];
    start++;
    out++;
    n--;
  }
  const long long nc = (long long)((n + 2 * CHUNK - 1) / (2 * CHUNK));
  FL_PFOR_IF(n > 65536, for (long long c = 0; c < nc; c++) {
    size_t off = (size_t)c * 2 * CHUNK, m = n - off < 2 * CHUNK ? n - off : 2 * CHUNK;
    chunk(seed, stream, start + off, m, out + off);
  });
}

void fl_rng_fill_uniform(uint64_t seed, uint64_t stream, uint64_t start, size_t n, double *out)
{
  fill(uniform_chunk, seed, stream, start, n, out);
}

void fl_rng_fill_normal(uint64_t seed, uint64_t stream, uint64_t start, size_t n, double *out)
{
  fill(normal_chunk, seed, stream, start, n, out);
}
