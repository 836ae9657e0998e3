/* Unit tests of lib/fl_decomp.c (Helmholtz-Hodge decompositions) and the
 * wisdom/rigor additions of lib/fl_fft.c: closed forms (V11 of the
 * reference), identities that hold to rounding for any data, convergence of
 * the bounded splits, the Green's function cell averages against
 * quadrature, and the errors. Every test checks that fl_mem_in_use() is back
 * to its starting value. */
#include "config.h"

#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl_core.h"
#include "fl_array.h"
#include "fl_field.h"
#include "fl_grid.h"
#include "fl_fft.h"
#include "fl_decomp.h"
#include "fl_test.h"

typedef void (*vfun)(const double *x, double *out);

/* A d-D grid field with m components sampled from fun at the nodes. */
static fl_field *make_grid(int d, const size_t *n, double lo, double hi, int periodic, int m, vfun fun)
{
  fl_grid_spec s;
  memset(&s, 0, sizeof s);
  s.dim = d;
  for (int k = 0; k < d; k++) {
    s.n[k] = n[k];
    s.lo[k] = lo;
    s.hi[k] = hi;
    s.periodic[k] = periodic;
  }
  fl_field *f;
  assert_ok(fl_grid_new(&s, m, FL_INTERP_LINEAR, NULL, &f));
  fl_grid *g = fl_grid_of(f);
  fl_array *pts;
  assert_ok(fl_grid_points(&s, &pts));
  for (size_t p = 0; p < g->npoints; p++) fun(pts->data + p * (size_t)d, g->values->data + p * (size_t)m);
  fl_array_release(pts);
  return f;
}

static double maxdiff_fun(fl_field *f, vfun fun)
{
  fl_grid *g = fl_grid_of(f);
  fl_array *pts;
  assert_ok(fl_grid_points(&g->s, &pts));
  double e = 0, want[3];
  for (size_t p = 0; p < g->npoints; p++) {
    fun(pts->data + p * (size_t)g->s.dim, want);
    for (int c = 0; c < g->m; c++) e = fmax(e, fabs(g->values->data[p * (size_t)g->m + (size_t)c] - want[c]));
  }
  fl_array_release(pts);
  return e;
}

static double maxabs(const fl_field *f)
{
  const fl_array *a = fl_grid_of(f)->values;
  double e = 0;
  for (size_t i = 0; i < a->size; i++) e = fmax(e, fabs(a->data[i]));
  return e;
}

/* ------------------------------------------------------------ V11, periodic */

static void v11(const double *x, double *o)
{
  o[0] = cos(x[0]) * cos(2 * x[1]) - cos(3 * x[0]) * cos(x[1]) + 0.5;
  o[1] = -2 * sin(x[0]) * sin(2 * x[1]) - 3 * sin(3 * x[0]) * sin(x[1]) - 0.25;
}
static void v11_grad(const double *x, double *o)
{
  o[0] = cos(x[0]) * cos(2 * x[1]);
  o[1] = -2 * sin(x[0]) * sin(2 * x[1]);
}
static void v11_sol(const double *x, double *o)
{
  o[0] = -cos(3 * x[0]) * cos(x[1]);
  o[1] = -3 * sin(3 * x[0]) * sin(x[1]);
}
static void v11_harm(const double *x, double *o)
{
  (void)x;
  o[0] = 0.5;
  o[1] = -0.25;
}
static void v11_phi(const double *x, double *o) { o[0] = sin(x[0]) * cos(2 * x[1]); }
static void v11_psi(const double *x, double *o) { o[0] = cos(3 * x[0]) * sin(x[1]); }

static void test_periodic_v11(void **state)
{
  (void)state;
  size_t n[2] = {16, 10};
  fl_field *v = make_grid(2, n, 0, 2 * M_PI, 1, 2, v11);
  fl_hhd r;
  assert_ok(fl_hhd_compute(v, FL_HHD_PERIODIC, &r));
  assert_int_equal(r.dim, 2);
  assert_null(r.phi);
  assert_null(r.harmonic); /* periodic: coefficients, the grid on demand */
  assert_ok(fl_hhd_harmonic(r.gradient, (const double(*)[3])r.harmonic_coef, &r.harmonic));
  assert_near(maxdiff_fun(r.gradient, v11_grad), 0, 1e-13);
  assert_near(maxdiff_fun(r.solenoidal, v11_sol), 0, 1e-13);
  assert_near(maxdiff_fun(r.harmonic, v11_harm), 0, 1e-13);
  assert_rel(r.e_total, 16.25 * M_PI * M_PI, 1e-14);
  assert_rel(r.e_gradient, 5 * M_PI * M_PI, 1e-14);
  assert_rel(r.e_solenoidal, 10 * M_PI * M_PI, 1e-14);
  assert_rel(r.e_harmonic, 1.25 * M_PI * M_PI, 1e-14);
  fl_field *phi, *psi;
  assert_ok(fl_hhd_potential(r.gradient, 0, &phi));
  assert_ok(fl_hhd_potential(r.solenoidal, 1, &psi));
  assert_int_equal(phi->codim, 1);
  assert_near(maxdiff_fun(phi, v11_phi), 0, 1e-13);
  assert_near(maxdiff_fun(psi, v11_psi), 0, 1e-13);
  fl_field_release(phi);
  fl_field_release(psi);
  fl_hhd_clear(&r);
  fl_field_release(v);
}

/* ------------------------------------------------------------ periodic, any data */

static void test_periodic_random(void **state)
{
  (void)state;
  for (int d = 2; d <= 3; d++) {
    size_t n[3] = {12, 8, 10}; /* even: Nyquist modes present */
    fl_grid_spec s = {.dim = d, .n = {n[0], n[1], n[2]}, .lo = {0, 0, 0}, .hi = {1, 2, 3}, .periodic = {1, 1, 1}};
    fl_field *v;
    assert_ok(fl_grid_new(&s, d, FL_INTERP_LINEAR, NULL, &v));
    fl_array *a = fl_grid_of(v)->values;
    for (size_t i = 0; i < a->size; i++) a->data[i] = fl_test_uniform(i, -1, 1);
    fl_hhd r;
    assert_ok(fl_hhd_compute(v, FL_HHD_PERIODIC, &r));
    assert_null(r.harmonic);
    assert_ok(fl_hhd_harmonic(r.gradient, (const double(*)[3])r.harmonic_coef, &r.harmonic));
    const double *G = fl_grid_of(r.gradient)->values->data, *S = fl_grid_of(r.solenoidal)->values->data,
                 *H = fl_grid_of(r.harmonic)->values->data;
    double gs = 0, gh = 0, sh = 0, vv = 0;
    for (size_t i = 0; i < a->size; i++) {
      assert_near(G[i] + S[i] + H[i], a->data[i], 1e-14);
      gs += G[i] * S[i];
      gh += G[i] * H[i];
      sh += S[i] * H[i];
      vv += a->data[i] * a->data[i];
    }
    assert_near(gs / vv, 0, 1e-14);
    assert_near(gh / vv, 0, 1e-14);
    assert_near(sh / vv, 0, 1e-14);
    assert_near((r.e_gradient + r.e_solenoidal + r.e_harmonic) / r.e_total, 1, 1e-13);
    /* spectral div of the solenoidal part, curl of the gradient part */
    fl_field *dv, *cv;
    assert_ok(fl_grid_div(r.solenoidal, 2, FL_GRID_SPECTRAL, &dv));
    assert_ok(fl_grid_curl(r.gradient, 2, FL_GRID_SPECTRAL, &cv));
    assert_near(maxabs(dv), 0, 1e-12);
    assert_near(maxabs(cv), 0, 1e-12);
    fl_field_release(dv);
    fl_field_release(cv);
    /* the harmonic part is more than the mean here (Nyquist modes) and has
     * no spectral derivatives */
    assert_ok(fl_grid_div(r.harmonic, 2, FL_GRID_SPECTRAL, &dv));
    assert_near(maxabs(dv), 0, 1e-12);
    fl_field_release(dv);
    /* the potentials reproduce the parts */
    fl_field *phi, *gphi;
    assert_ok(fl_hhd_potential(r.gradient, 0, &phi));
    assert_ok(fl_grid_grad(phi, 2, FL_GRID_SPECTRAL, &gphi));
    const double *GP = fl_grid_of(gphi)->values->data;
    for (size_t i = 0; i < a->size; i++) assert_near(GP[i], G[i], 1e-12);
    fl_field_release(phi);
    fl_field_release(gphi);
    /* the bare transforms give N v */
    fl_array *rt;
    assert_ok(fl_hhd_fft_roundtrip(v, &rt));
    double N = (double)fl_grid_of(v)->npoints;
    for (size_t i = 0; i < a->size; i++) assert_near(rt->data[i] / N, a->data[i], 1e-14);
    fl_array_release(rt);
    fl_hhd_clear(&r);
    fl_field_release(v);
  }
}

/* ------------------------------------------------------------ Green's function cell averages */

static void test_green_cell(void **state)
{
  (void)state;
  /* midpoint rule on a fine sub-grid of the cell (the singular point is not a node) */
  double h2[2] = {0.1, 0.17};
  size_t m = 800;
  double s = 0;
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < m; j++) {
      double x = h2[0] * ((double)i + 0.5) / (double)m - h2[0] / 2, y = h2[1] * ((double)j + 0.5) / (double)m - h2[1] / 2;
      s += log(sqrt(x * x + y * y)) / (2 * M_PI);
    }
  assert_rel(fl_hhd_green_cell(2, h2), s / (double)(m * m), 1e-6);
  /* square cell: ln(a) + ln(2)/2 - 3/2 + pi/4 with a = h/2 */
  double hs[2] = {0.2, 0.2};
  assert_rel(fl_hhd_green_cell(2, hs), (log(0.1) + log(2) / 2 - 1.5 + M_PI / 4) / (2 * M_PI), 1e-14);
  double h3[3] = {0.1, 0.13, 0.07};
  m = 160;
  s = 0;
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < m; j++)
      for (size_t k = 0; k < m; k++) {
        double x = h3[0] * (((double)i + 0.5) / (double)m - 0.5), y = h3[1] * (((double)j + 0.5) / (double)m - 0.5),
               z = h3[2] * (((double)k + 0.5) / (double)m - 0.5);
        s += -1 / (4 * M_PI * sqrt(x * x + y * y + z * z));
      }
  assert_rel(fl_hhd_green_cell(3, h3), s / (double)(m * m * m), 2e-3);
}

/* ------------------------------------------------------------ natural HHD */

/* grad phi* for lap phi* = 3 (1 - r^2/R^2)^3 around (0.4, 0.45), R = 0.25 */
static void nat_grad(const double *x, double *o)
{
  double dx = x[0] - 0.4, dy = x[1] - 0.45, r2 = dx * dx + dy * dy, R = 0.25, u = r2 / (R * R);
  double q = u < 1 ? 3.0 / 8 * (4 - 6 * u + 4 * u * u - u * u * u) : 3 * R * R / (8 * r2);
  o[0] = dx * q;
  o[1] = dy * q;
}
/* grad_perp psi* for lap psi* = -2 (1 - r^2/R^2)^3 around (0.6, 0.55) */
static void nat_sol(const double *x, double *o)
{
  double dx = x[0] - 0.6, dy = x[1] - 0.55, r2 = dx * dx + dy * dy, R = 0.25, u = r2 / (R * R);
  double q = u < 1 ? -2.0 / 8 * (4 - 6 * u + 4 * u * u - u * u * u) : -2 * R * R / (8 * r2);
  o[0] = -dy * q;
  o[1] = dx * q;
}
static void nat_v(const double *x, double *o)
{
  double a[2], b[2];
  nat_grad(x, a);
  nat_sol(x, b);
  o[0] = a[0] + b[0];
  o[1] = a[1] + b[1];
}

static void test_natural_2d(void **state)
{
  (void)state;
  double err[2][3];
  size_t ns[2] = {33, 65};
  for (int i = 0; i < 2; i++) {
    size_t n[2] = {ns[i], ns[i]};
    fl_field *v = make_grid(2, n, 0, 1, 0, 2, nat_v);
    fl_hhd r;
    assert_ok(fl_hhd_compute(v, FL_HHD_NATURAL, &r));
    assert_non_null(r.phi);
    assert_non_null(r.psi);
    double vn = maxabs(v);
    err[i][0] = maxdiff_fun(r.gradient, nat_grad) / vn;
    err[i][1] = maxdiff_fun(r.solenoidal, nat_sol) / vn;
    err[i][2] = maxabs(r.harmonic) / vn;
    fl_hhd_clear(&r);
    fl_field_release(v);
  }
  for (int k = 0; k < 3; k++) {
    double order = log2(err[0][k] / err[1][k]);
    assert_true(err[1][k] < 2e-3);
    assert_true(order > 1.8 && order < 2.6); /* observed 2.2 */
  }
}

/* ------------------------------------------------------------ normal-flux HHD */

/* v = grad phi* + grad_perp psi*, psi* = sin(pi x) sin(pi y)/2 (zero on the walls) */
static void nor_grad(const double *x, double *o)
{
  o[0] = 0.5 * exp(0.5 * x[0]) * cos(1.3 * x[1]) + x[1] * x[1];
  o[1] = -1.3 * exp(0.5 * x[0]) * sin(1.3 * x[1]) + 2 * x[0] * x[1];
}
static void nor_sol(const double *x, double *o)
{
  o[0] = -0.5 * M_PI * sin(M_PI * x[0]) * cos(M_PI * x[1]);
  o[1] = 0.5 * M_PI * cos(M_PI * x[0]) * sin(M_PI * x[1]);
}
static void nor_v(const double *x, double *o)
{
  double a[2], b[2];
  nor_grad(x, a);
  nor_sol(x, b);
  o[0] = a[0] + b[0];
  o[1] = a[1] + b[1];
}

static void test_normal_2d(void **state)
{
  (void)state;
  double err[2][2];
  size_t ns[2] = {21, 41};
  for (int i = 0; i < 2; i++) {
    size_t n[2] = {ns[i], ns[i]};
    fl_field *v = make_grid(2, n, 0, 1, 0, 2, nor_v);
    fl_hhd r;
    assert_ok(fl_hhd_compute(v, FL_HHD_NORMAL, &r));
    double vn = maxabs(v);
    err[i][0] = maxdiff_fun(r.gradient, nor_grad) / vn;
    err[i][1] = maxdiff_fun(r.solenoidal, nor_sol) / vn;
    assert_near(maxabs(r.harmonic), 0, 0);
    /* zero normal component of the solenoidal part on the walls */
    const double *S = fl_grid_of(r.solenoidal)->values->data;
    size_t m = ns[i];
    for (size_t j = 0; j < m; j++) {
      assert_near(S[(0 * m + j) * 2 + 0], 0, 1e-14);
      assert_near(S[((m - 1) * m + j) * 2 + 0], 0, 1e-14);
      assert_near(S[(j * m + 0) * 2 + 1], 0, 1e-14);
      assert_near(S[(j * m + m - 1) * 2 + 1], 0, 1e-14);
    }
    /* phi has zero trapezoid mean */
    const double *P = fl_grid_of(r.phi)->values->data;
    double mean = 0;
    for (size_t p = 0; p < m * m; p++) {
      size_t a = p / m, b = p % m;
      mean += P[p] * (a == 0 || a == m - 1 ? 0.5 : 1) * (b == 0 || b == m - 1 ? 0.5 : 1);
    }
    assert_near(mean, 0, 1e-12);
    fl_hhd_clear(&r);
    fl_field_release(v);
  }
  for (int k = 0; k < 2; k++) assert_true(log2(err[0][k] / err[1][k]) > 1.8);
}

/* ------------------------------------------------------------ errors */

static void zero2(const double *x, double *o)
{
  (void)x;
  o[0] = o[1] = 0;
}
static void zero1(const double *x, double *o)
{
  (void)x;
  o[0] = 0;
}

static void test_errors(void **state)
{
  (void)state;
  fl_hhd r;
  size_t n[2] = {8, 8};
  fl_field *per = make_grid(2, n, 0, 1, 1, 2, zero2), *box = make_grid(2, n, 0, 1, 0, 2, zero2),
           *scal = make_grid(2, n, 0, 1, 1, 1, zero1), *one = make_grid(1, n, 0, 1, 1, 1, zero1);
  assert_fails_with(fl_hhd_compute(box, FL_HHD_PERIODIC, &r), FL_EINVAL, "periodic on every axis");
  assert_null(r.gradient);
  assert_fails_with(fl_hhd_compute(per, FL_HHD_NATURAL, &r), FL_EINVAL, "non-periodic on every axis");
  assert_fails_with(fl_hhd_compute(per, FL_HHD_NORMAL, &r), FL_EINVAL, "non-periodic on every axis");
  assert_fails_with(fl_hhd_compute(scal, FL_HHD_PERIODIC, &r), FL_EDIM, "(a scalar grid)");
  assert_fails_with(fl_hhd_compute(one, FL_HHD_PERIODIC, &r), FL_EDIM, "1-D grid");
  assert_fails_with(fl_hhd_compute(per, (fl_hhd_boundary)7, &r), FL_EINVAL, "unknown boundary");
  fl_field *out;
  assert_fails_with(fl_hhd_potential(box, 0, &out), FL_EINVAL, "periodic on every axis");
  assert_fails_with(fl_hhd_potential(per, 2, &out), FL_EINVAL, "unknown potential");
  fl_field_release(per);
  fl_field_release(box);
  fl_field_release(scal);
  fl_field_release(one);
}

/* ------------------------------------------------------------ fl_fft: rigor and wisdom */

static void test_fft_wisdom(void **state)
{
  (void)state;
  assert_int_equal(fl_fft_get_rigor(), FL_FFT_ESTIMATE);
  size_t n[2] = {6, 10};
  const fl_fft_plan *pe, *pm, *pe2;
  assert_ok(fl_fft_plan_get(FL_FFT_R2C, 2, n, 2, &pe));
  assert_ok(fl_fft_set_rigor(FL_FFT_MEASURE));
  assert_ok(fl_fft_plan_get(FL_FFT_R2C, 2, n, 2, &pm));
  assert_ptr_not_equal(pe, pm); /* a measured plan */
  assert_ok(fl_fft_set_rigor(FL_FFT_ESTIMATE));
  assert_ok(fl_fft_plan_get(FL_FFT_R2C, 2, n, 2, &pe2));
  assert_ptr_equal(pe2, pm); /* the better plan serves */
  assert_fails(fl_fft_set_rigor((fl_fft_rigor)9), FL_EINVAL);
  char path[] = "/tmp/fl_wisdomXXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_ok(fl_fft_wisdom_export(path));
  FILE *f = fopen(path, "r");
  char buf[64] = {0};
  assert_true(fread(buf, 1, sizeof buf - 1, f) > 0);
  fclose(f);
  assert_non_null(strstr(buf, "fftw"));
  assert_ok(fl_fft_wisdom_import(path));
  f = fopen(path, "w");
  fputs("nothing\n", f);
  fclose(f);
  assert_fails_with(fl_fft_wisdom_import(path), FL_EIO, "is not FFTW wisdom");
  remove(path);
  assert_fails_with(fl_fft_wisdom_import(path), FL_EIO, "cannot open");
  assert_fails_with(fl_fft_wisdom_export("/nonexistent-dir/w"), FL_EIO, "cannot write");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    T(test_periodic_v11),
    T(test_periodic_random),
    T(test_green_cell),
    T(test_natural_2d),
    T(test_normal_2d),
    T(test_errors),
    T(test_fft_wisdom),
  };
  int r = cmocka_run_group_tests(tests, NULL, NULL);
  fl_fft_cache_clear();
  return r;
}
