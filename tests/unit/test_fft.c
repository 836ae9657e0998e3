/* Unit tests of lib/fl_fft.c: the plan cache, r2c/c2r/r2r execution, spectral
 * derivatives against closed forms. Every test checks that fl_mem_in_use()
 * is back to its starting value. */
#include "config.h"

#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fl_core.h"
#include "fl_fft.h"
#include "fl_test.h"

static double *dalloc(size_t n) { return fl_alloc(n * sizeof(double)); }
static void dfree(double *p, size_t n) { fl_free(p, n * sizeof(double)); }

/* ------------------------------------------------------------ plans */

static void test_plan_cache(void **state)
{
  (void)state;
  const fl_fft_plan *p1, *p2, *p3, *p4;
  size_t n[2] = {12, 10}, n2[2] = {10, 12};
  assert_ok(fl_fft_plan_get(FL_FFT_R2C, 2, n, 2, &p1));
  size_t count = fl_fft_cache_size();
  assert_ok(fl_fft_plan_get(FL_FFT_R2C, 2, n, 2, &p2));
  assert_ptr_equal(p1, p2);
  assert_int_equal(fl_fft_cache_size(), count);
  assert_ok(fl_fft_plan_get(FL_FFT_R2C, 2, n2, 2, &p3)); /* another shape */
  assert_ptr_not_equal(p1, p3);
  assert_ok(fl_fft_plan_get(FL_FFT_C2R, 2, n, 2, &p4)); /* another kind */
  assert_ptr_not_equal(p1, p4);
  assert_int_equal(fl_fft_cache_size(), count + 2);
  assert_int_equal(fl_fft_plan_in_size(p1), 12 * 10 * 2);
  assert_int_equal(fl_fft_plan_out_size(p1), 12 * 6 * 2);
  assert_int_equal(fl_fft_plan_in_size(p4), 12 * 6 * 2);
}

static void test_plan_errors(void **state)
{
  (void)state;
  const fl_fft_plan *p = (const fl_fft_plan *)&p;
  size_t n[4] = {4, 4, 4, 4}, z[1] = {0}, one[1] = {1};
  assert_fails(fl_fft_plan_get(FL_FFT_R2C, 0, n, 1, &p), FL_EINVAL);
  assert_null(p);
  assert_fails(fl_fft_plan_get(FL_FFT_R2C, 4, n, 1, &p), FL_EINVAL);
  assert_fails(fl_fft_plan_get(FL_FFT_R2C, 1, z, 1, &p), FL_EINVAL);
  assert_fails(fl_fft_plan_get(FL_FFT_R2C, 1, n, 0, &p), FL_EINVAL);
  assert_fails(fl_fft_plan_get(FL_FFT_REDFT00, 1, one, 1, &p), FL_EINVAL);
  /* executing a plan of the wrong kind, or in place */
  double a[8], b[8];
  double complex c[8];
  assert_ok(fl_fft_plan_get(FL_FFT_R2C, 1, n, 1, &p));
  assert_fails(fl_fft_c2r(p, c, a), FL_EINVAL);
  assert_fails(fl_fft_r2r(p, a, b), FL_EINVAL);
  assert_fails(fl_fft_r2c(p, a, (double complex *)a), FL_EINVAL);
  /* spectral derivative arguments */
  double len[1] = {1};
  assert_fails(fl_fft_deriv(1, n, len, 1, 1, a, b), FL_EINVAL);
  double bad[1] = {0};
  assert_fails(fl_fft_deriv(1, n, bad, 1, 0, a, b), FL_EINVAL);
}

/* ------------------------------------------------------------ transforms */

static void round_trip(int rank, const size_t *n, size_t howmany)
{
  const fl_fft_plan *fwd, *bwd;
  assert_ok(fl_fft_plan_get(FL_FFT_R2C, rank, n, howmany, &fwd));
  assert_ok(fl_fft_plan_get(FL_FFT_C2R, rank, n, howmany, &bwd));
  size_t nr = fl_fft_plan_in_size(fwd), nc = fl_fft_plan_out_size(fwd), N = nr / howmany;
  double *x = dalloc(nr), *y = dalloc(nr);
  double complex *c = fl_alloc(nc * sizeof *c);
  for (size_t i = 0; i < nr; i++) x[i] = fl_test_uniform(i + 1000 * (size_t)rank, -1, 1);
  assert_ok(fl_fft_r2c(fwd, x, c));
  /* the zero mode of each component is its sum */
  for (size_t a = 0; a < howmany; a++) {
    double s = 0;
    for (size_t i = 0; i < N; i++) s += x[i * howmany + a];
    assert_near(creal(c[a]), s, 1e-12 * (double)N);
    assert_near(cimag(c[a]), 0, 1e-12 * (double)N);
  }
  assert_ok(fl_fft_c2r(bwd, c, y));
  for (size_t i = 0; i < nr; i++) assert_near(y[i] / (double)N, x[i], 1e-14);
  dfree(x, nr);
  dfree(y, nr);
  fl_free(c, nc * sizeof *c);
}

static void test_round_trip(void **state)
{
  (void)state;
  size_t n1[1] = {17}, n2[2] = {8, 6}, n3[3] = {6, 5, 8};
  round_trip(1, n1, 1);
  round_trip(1, n1, 3);
  round_trip(2, n2, 2);
  round_trip(3, n3, 1);
  round_trip(3, n3, 3);
}

/* A 1-D r2c against the DFT sum, and the unaligned path (a view starting one
 * double into a buffer) against the aligned one. */
static void test_r2c_dft_and_unaligned(void **state)
{
  (void)state;
  size_t n[1] = {9};
  const fl_fft_plan *p;
  assert_ok(fl_fft_plan_get(FL_FFT_R2C, 1, n, 1, &p));
  double *buf = dalloc(10);
  double complex *c = fl_alloc(6 * sizeof *c), *c2 = fl_alloc(7 * sizeof *c2);
  for (int j = 0; j < 9; j++) buf[j + 1] = fl_test_uniform((unsigned)j + 77, -1, 1);
  assert_ok(fl_fft_r2c(p, buf + 1, c2 + 1)); /* both unaligned */
  memmove(buf, buf + 1, 9 * sizeof *buf);
  assert_ok(fl_fft_r2c(p, buf, c));
  for (int k = 0; k < 5; k++) {
    double complex s = 0;
    for (int j = 0; j < 9; j++) s += buf[j] * cexp(-2 * M_PI * I * j * k / 9.0);
    assert_near(creal(c[k]), creal(s), 1e-13);
    assert_near(cimag(c[k]), cimag(s), 1e-13);
    assert_near(creal(c2[k + 1]), creal(c[k]), 0);
    assert_near(cimag(c2[k + 1]), cimag(c[k]), 0);
  }
  dfree(buf, 10);
  fl_free(c, 6 * sizeof *c);
  fl_free(c2, 7 * sizeof *c2);
}

/* DCT-II (REDFT10) against its defining sum; DCT-III undoes it up to 2n. */
static void test_r2r_dct(void **state)
{
  (void)state;
  size_t n[1] = {11};
  const fl_fft_plan *p, *q;
  assert_ok(fl_fft_plan_get(FL_FFT_REDFT10, 1, n, 1, &p));
  assert_ok(fl_fft_plan_get(FL_FFT_REDFT01, 1, n, 1, &q));
  double x[11], y[11], z[11];
  for (int j = 0; j < 11; j++) x[j] = fl_test_uniform((unsigned)j + 5, -1, 1);
  assert_ok(fl_fft_r2r(p, x, y));
  for (int k = 0; k < 11; k++) {
    double s = 0;
    for (int j = 0; j < 11; j++) s += 2 * x[j] * cos(M_PI * (j + 0.5) * k / 11);
    assert_near(y[k], s, 1e-13);
  }
  assert_ok(fl_fft_r2r(q, y, z));
  for (int j = 0; j < 11; j++) assert_near(z[j] / 22, x[j], 1e-14);
}

/* ------------------------------------------------------------ spectral derivatives */

static void test_deriv_sin(void **state)
{
  (void)state;
  /* d/dx sin(k x) on [0, L): exact, for 2pi and another period, n even and odd */
  const size_t ns[3] = {32, 31, 16};
  const double Ls[3] = {2 * M_PI, 3.0, 2 * M_PI};
  for (int c = 0; c < 3; c++) {
    size_t n = ns[c];
    double L = Ls[c], w = 2 * M_PI * 3 / L;
    double *f = dalloc(n), *df = dalloc(n), *d2 = dalloc(n);
    for (size_t j = 0; j < n; j++) f[j] = sin(w * L * (double)j / (double)n) + 0.5;
    assert_ok(fl_fft_deriv(1, &n, &L, 1, 0, f, df));
    assert_ok(fl_fft_laplacian(1, &n, &L, 1, f, d2));
    for (size_t j = 0; j < n; j++) {
      double x = L * (double)j / (double)n;
      assert_near(df[j], w * cos(w * x), 1e-12 * w);
      assert_near(d2[j], -w * w * sin(w * x), 1e-12 * w * w);
    }
    dfree(f, n);
    dfree(df, n);
    dfree(d2, n);
  }
}

/* The Nyquist mode of an even n: its first derivative is dropped (the
 * derivative of cos(pi x/h) is not representable), its second kept. */
static void test_nyquist(void **state)
{
  (void)state;
  size_t n = 8;
  double L = 2 * M_PI, f[8], df[8], d2[8];
  for (int j = 0; j < 8; j++) f[j] = cos(4 * (L * j / 8)) + sin(2 * L * j / 8); /* (-1)^j + sin 2x */
  assert_ok(fl_fft_deriv(1, &n, &L, 1, 0, f, df));
  assert_ok(fl_fft_laplacian(1, &n, &L, 1, f, d2));
  for (int j = 0; j < 8; j++) {
    double x = L * j / 8;
    assert_near(df[j], 2 * cos(2 * x), 1e-13);
    assert_near(d2[j], -16 * cos(4 * x) - 4 * sin(2 * x), 1e-12);
  }
  /* 2-D, Nyquist along the first (full complex) axis, where keeping it
   * would break the Hermitian symmetry: f = (-1)^i cos y + sin x */
  size_t n2[2] = {8, 6};
  double L2[2] = {2 * M_PI, 2 * M_PI}, g[48], dgx[48], dgy[48];
  for (int i = 0; i < 48; i++) {
    int a = i / 6, b = i % 6;
    g[i] = ((a % 2) ? -1.0 : 1.0) * cos(2 * M_PI * b / 6) + sin(2 * M_PI * a / 8);
  }
  assert_ok(fl_fft_deriv(2, n2, L2, 1, 0, g, dgx));
  assert_ok(fl_fft_deriv(2, n2, L2, 1, 1, g, dgy));
  for (int i = 0; i < 48; i++) {
    int a = i / 6, b = i % 6;
    assert_near(dgx[i], cos(2 * M_PI * a / 8), 1e-13);
    assert_near(dgy[i], -((a % 2) ? -1.0 : 1.0) * sin(2 * M_PI * b / 6), 1e-13);
  }
}

/* f = sin(x) sin(2y) sin(3z) on a 3-D periodic box with different n and periods. */
static void test_deriv_3d(void **state)
{
  (void)state;
  size_t n[3] = {16, 12, 10};
  double L[3] = {2 * M_PI, 4 * M_PI, 2 * M_PI};
  double kx = 1, ky = 2 * (2 * M_PI / L[1]), kz = 3;
  size_t N = 16 * 12 * 10;
  double *f = dalloc(N), *df = dalloc(N), *lap = dalloc(N);
  for (size_t i = 0; i < N; i++) {
    size_t a = i / 120, b = (i / 10) % 12, c = i % 10;
    double x = L[0] * a / 16, y = L[1] * b / 12, z = L[2] * c / 10;
    f[i] = sin(kx * x) * sin(ky * y) * sin(kz * z);
  }
  for (int axis = 0; axis < 3; axis++) {
    assert_ok(fl_fft_deriv(3, n, L, 1, axis, f, df));
    for (size_t i = 0; i < N; i++) {
      size_t a = i / 120, b = (i / 10) % 12, c = i % 10;
      double x = L[0] * a / 16, y = L[1] * b / 12, z = L[2] * c / 10;
      double sx = sin(kx * x), sy = sin(ky * y), sz = sin(kz * z);
      double ref = axis == 0 ? kx * cos(kx * x) * sy * sz
                 : axis == 1 ? sx * ky * cos(ky * y) * sz : sx * sy * kz * cos(kz * z);
      assert_near(df[i], ref, 1e-12);
    }
  }
  assert_ok(fl_fft_laplacian(3, n, L, 1, f, lap));
  for (size_t i = 0; i < N; i++) assert_near(lap[i], -(kx * kx + ky * ky + kz * kz) * f[i], 1e-12);
  dfree(f, N);
  dfree(df, N);
  dfree(lap, N);
}

/* diffop: divergence and curl of an interleaved 2-D vector field
 * v = grad(sin x cos 2y) + perp-grad(cos 3x sin y). */
static void test_diffop_div_curl(void **state)
{
  (void)state;
  size_t n[2] = {24, 20}, N = 480;
  double L[2] = {2 * M_PI, 2 * M_PI};
  double *v = dalloc(2 * N), *dv = dalloc(N), *cv = dalloc(N);
  for (size_t i = 0; i < N; i++) {
    double x = L[0] * (double)(i / 20) / 24, y = L[1] * (double)(i % 20) / 20;
    /* phi = sin x cos 2y; psi = cos 3x sin y; perp-grad psi = (-psi_y, psi_x) */
    v[2 * i] = cos(x) * cos(2 * y) - cos(3 * x) * cos(y);
    v[2 * i + 1] = -2 * sin(x) * sin(2 * y) - 3 * sin(3 * x) * sin(y);
  }
  double cdiv[2 * 1 * 2] = {1, 0, 0, 1};   /* d v1/dx + d v2/dy */
  double ccurl[2 * 1 * 2] = {0, -1, 1, 0}; /* d v2/dx - d v1/dy */
  assert_ok(fl_fft_diffop(2, n, L, 2, v, 1, cdiv, dv));
  assert_ok(fl_fft_diffop(2, n, L, 2, v, 1, ccurl, cv));
  for (size_t i = 0; i < N; i++) {
    double x = L[0] * (double)(i / 20) / 24, y = L[1] * (double)(i % 20) / 20;
    assert_near(dv[i], -5 * sin(x) * cos(2 * y), 1e-12);       /* lap phi */
    assert_near(cv[i], -10 * cos(3 * x) * sin(y), 1e-12);      /* lap psi */
  }
  dfree(v, 2 * N);
  dfree(dv, N);
  dfree(cv, N);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    T(test_plan_cache),
    T(test_plan_errors),
    T(test_round_trip),
    T(test_r2c_dft_and_unaligned),
    T(test_r2r_dct),
    T(test_deriv_sin),
    T(test_nyquist),
    T(test_deriv_3d),
    T(test_diffop_div_curl),
  };
  int r = cmocka_run_group_tests(tests, NULL, NULL);
  fl_fft_cache_clear();
  return r;
}
