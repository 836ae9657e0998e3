/* Unit tests of lib/fl_rng: Philox known answers, ranges, moments, determinism. */
#include "config.h"
#include <math.h>
#include <stdlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "fl_core.h"
#include "fl_rng.h"
#include "fl_test.h"

/* Known-answer vectors of Philox4x32-10 from the Random123 distribution (kat_vectors). */
static void test_philox_kat(void **state)
{
  (void)state;
  static const struct { uint32_t ctr[4], key[2], out[4]; } kat[] = {
    {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
    {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff},
     {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
    {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0},
     {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (size_t i = 0; i < sizeof kat / sizeof kat[0]; i++) {
    uint32_t out[4];
    fl_rng_philox(kat[i].ctr, kat[i].key, out);
    for (int k = 0; k < 4; k++) assert_int_equal(out[k], kat[i].out[k]);
  }
}

static void test_uniform_range_and_moments(void **state)
{
  (void)state;
  const size_t n = 200000;
  double *u = malloc(n * sizeof *u);
  assert_non_null(u);
  fl_rng_fill_uniform(42, 3, 0, n, u);
  double s = 0, s2 = 0;
  for (size_t i = 0; i < n; i++) {
    assert_true(u[i] >= 0.0 && u[i] < 1.0);
    assert_true(u[i] == fl_rng_uniform(42, 3, i));
    s += u[i];
    s2 += u[i] * u[i];
  }
  double mean = s / n, var = s2 / n - mean * mean;
  /* mean 1/2 with standard error sqrt(1/12/n); variance 1/12 with SE ~ sqrt(1/180/n) */
  assert_true(fabs(mean - 0.5) < 5 * sqrt(1.0 / 12 / n));
  assert_true(fabs(var - 1.0 / 12) < 5 * sqrt(1.0 / 180 / n));
  free(u);
}

static void test_normal_moments(void **state)
{
  (void)state;
  const size_t n = 400000;
  double *z = malloc(n * sizeof *z);
  assert_non_null(z);
  fl_rng_fill_normal(7, 0, 0, n, z);
  double m1 = 0, m2 = 0, m4 = 0;
  size_t beyond2 = 0;
  for (size_t i = 0; i < n; i++) {
    m1 += z[i];
    m2 += z[i] * z[i];
    m4 += z[i] * z[i] * z[i] * z[i];
    if (fabs(z[i]) > 2) beyond2++;
  }
  m1 /= n; m2 /= n; m4 /= n;
  assert_true(fabs(m1) < 5 / sqrt((double)n));
  assert_true(fabs(m2 - 1) < 5 * sqrt(2.0 / n));
  assert_true(fabs(m4 - 3) < 5 * sqrt(96.0 / n));
  /* P(|Z| > 2) = 0.0455003 */
  double p = (double)beyond2 / n;
  assert_true(fabs(p - 0.04550026) < 5 * sqrt(0.0455 * 0.9545 / n));
  free(z);
}

static void test_streams_and_seeds_differ(void **state)
{
  (void)state;
  int same_stream = 0, same_seed = 0;
  for (uint64_t i = 0; i < 1000; i++) {
    same_stream += fl_rng_normal(1, 1, i) == fl_rng_normal(1, 2, i);
    same_seed += fl_rng_normal(1, 1, i) == fl_rng_normal(2, 1, i);
  }
  assert_int_equal(same_stream, 0);
  assert_int_equal(same_seed, 0);
  /* Lag-1 correlation of consecutive normals is ~0. */
  double c = 0;
  const int n = 100000;
  for (int i = 0; i < n; i++) c += fl_rng_normal(5, 0, (uint64_t)i) * fl_rng_normal(5, 0, (uint64_t)i + 1);
  assert_true(fabs(c / n) < 5 / sqrt((double)n));
}

/* The same numbers whatever the thread count and the starting offset. */
static void test_thread_independence(void **state)
{
  (void)state;
  const size_t n = 300001;
  double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *c = malloc(n * sizeof *c);
  assert_true(a && b && c);
#ifdef _OPENMP
  omp_set_num_threads(1);
#endif
  fl_rng_fill_normal(9, 4, 0, n, a);
#ifdef _OPENMP
  omp_set_num_threads(4);
#endif
  fl_rng_fill_normal(9, 4, 0, n, b);
  fl_rng_fill_normal(9, 4, 1001, n - 1001, c);
  for (size_t i = 0; i < n; i++) assert_true(a[i] == b[i]);
  for (size_t i = 1001; i < n; i++) assert_true(a[i] == c[i - 1001]);
  free(a); free(b); free(c);
}

/* fill_normal at every parity of start and length equals the one-number form */
static void test_fill_normal_edges(void **state)
{
  (void)state;
  double out[8];
  for (uint64_t start = 0; start < 4; start++)
    for (size_t n = 0; n <= 7; n++) {
      for (size_t k = 0; k < 8; k++) out[k] = -99;
      fl_rng_fill_normal(12, 5, start, n, out);
      for (size_t k = 0; k < n; k++) assert_true(out[k] == fl_rng_normal(12, 5, start + k));
      for (size_t k = n; k < 8; k++) assert_true(out[k] == -99); /* nothing written past n */
    }
}

/* Bootstrap indices: the words of the Philox blocks scaled by k, every value
   of [0, k) about equally often (chi-square), and a start inside the stream
   continues it. */
static void test_fill_index(void **state)
{
  (void)state;
  enum { K = 7, N = 70001 };
  uint32_t *idx = malloc(N * sizeof *idx), *tail = malloc(N * sizeof *tail);
  assert_true(idx && tail);
  fl_rng_fill_index(5, 3, 0, N, K, idx);
  uint32_t ctr[4] = {2, 0, 3, 0}, key[2] = {5, 0}, w[4];
  fl_rng_philox(ctr, key, w);
  for (int q = 0; q < 4; q++) assert_int_equal(idx[8 + q], (uint32_t)(((uint64_t)w[q] * K) >> 32));
  long count[K] = {0};
  for (size_t i = 0; i < N; i++) {
    assert_true(idx[i] < K);
    count[idx[i]]++;
  }
  double chi2 = 0, e = (double)N / K;
  for (int j = 0; j < K; j++) chi2 += (count[j] - e) * (count[j] - e) / e;
  assert_true(chi2 < 22.5); /* 6 degrees of freedom: P(chi2 > 22.5) = 0.001 */
  fl_rng_fill_index(5, 3, 1000, N - 1000, K, tail);
  for (size_t i = 1000; i < N; i++) assert_int_equal(tail[i - 1000], idx[i]);
  free(idx); free(tail);
}

/* The many-block paths (eight blocks at a time where the processor has
   AVX2) give the words of fl_rng_philox, also where the block counter
   carries into its high word (block 2^32), at odd and even starts. */
static void test_blocks_carry(void **state)
{
  (void)state;
  enum { N = 1000 };
  const uint64_t seed = UINT64_C(0x123456789abcdef), stream = UINT64_C(0xfedcba987654321);
  uint32_t idx[N];
  const uint64_t b0 = (UINT64_C(1) << 32) - 37;
  fl_rng_fill_index(seed, stream, 4 * b0, N, 0xFFFFFFFFu, idx);
  for (size_t j = 0; j < N; j += 4) {
    uint64_t b = b0 + j / 4;
    uint32_t ctr[4] = {(uint32_t)b, (uint32_t)(b >> 32), (uint32_t)stream, (uint32_t)(stream >> 32)};
    uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)}, w[4];
    fl_rng_philox(ctr, key, w);
    for (int q = 0; q < 4; q++) assert_int_equal(idx[j + q], (uint32_t)(((uint64_t)w[q] * 0xFFFFFFFFu) >> 32));
  }
  double u[N], z[N];
  for (uint64_t start = 2 * b0; start < 2 * b0 + 2; start++) {
    fl_rng_fill_uniform(seed, stream, start, N, u);
    fl_rng_fill_normal(seed, stream, start, N, z);
    for (size_t k = 0; k < N; k++) {
      assert_true(u[k] == fl_rng_uniform(seed, stream, start + k));
      assert_true(z[k] == fl_rng_normal(seed, stream, start + k));
    }
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    T(test_philox_kat),
    T(test_blocks_carry),
    T(test_uniform_range_and_moments),
    T(test_normal_moments),
    T(test_streams_and_seeds_differ),
    T(test_thread_independence),
    T(test_fill_index),
    T(test_fill_normal_edges),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
