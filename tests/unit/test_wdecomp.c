/* Unit tests of lib/fl_wdecomp.c: the density-weighted (gauge)
 * decomposition v = grad phi + r, div(p r) = 0, on periodic grids (PCG,
 * against an analytic split, with the convergence order) and from samples
 * (least squares, reference V4). Every test checks that fl_mem_in_use() is
 * back to its starting value. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fl_core.h"
#include "fl_array.h"
#include "fl_field.h"
#include "fl_fft.h"
#include "fl_grid.h"
#include "fl_gmm.h"
#include "fl_rng.h"
#include "fl_wdecomp.h"
#include "fl_test.h"

/* ---- the analytic periodic case on [0, 2 pi)^2 ----
 * p = exp(K1 cos x + K2 cos y), phi* = sin x cos 2y + 0.3 cos(x + y),
 * r* = (1/p) perp grad(p psi) with psi = cos(x - 2y) + 0.5 sin y, so that
 * div(p r*) = 0 and r* is L^2(p)-orthogonal to every gradient. */
#define K1 0.7
#define K2 0.4
#ifndef NF
#define NF 100
#define SC 3.0
#define RG 1e-6
#endif

static double dens(const double *x) { return exp(K1 * cos(x[0]) + K2 * cos(x[1])); }
static double phistar(const double *x) { return sin(x[0]) * cos(2 * x[1]) + 0.3 * cos(x[0] + x[1]); }
static void gradstar(const double *x, double *g)
{
  g[0] = cos(x[0]) * cos(2 * x[1]) - 0.3 * sin(x[0] + x[1]);
  g[1] = -2 * sin(x[0]) * sin(2 * x[1]) - 0.3 * sin(x[0] + x[1]);
}
static void rstar(const double *x, double *r)
{
  double psi = cos(x[0] - 2 * x[1]) + 0.5 * sin(x[1]);
  double px = -sin(x[0] - 2 * x[1]), py = 2 * sin(x[0] - 2 * x[1]) + 0.5 * cos(x[1]);
  r[0] = -(py - K2 * sin(x[1]) * psi);
  r[1] = px - K1 * sin(x[0]) * psi;
}

static fl_grid_spec pspec(int d, size_t n)
{
  fl_grid_spec s;
  memset(&s, 0, sizeof s);
  s.dim = d;
  for (int k = 0; k < d; k++) {
    s.n[k] = n;
    s.lo[k] = 0;
    s.hi[k] = 2 * M_PI;
    s.periodic[k] = 1;
  }
  return s;
}

/* v = grad phi* + r* and p on an n x n grid; returns v, fills *p (malloc). */
static fl_field *analytic_case(size_t n, double **p)
{
  fl_grid_spec s = pspec(2, n);
  fl_field *v;
  assert_ok(fl_grid_new(&s, 2, FL_INTERP_LINEAR, NULL, &v));
  fl_array *pts;
  assert_ok(fl_grid_points(&s, &pts));
  double *V = fl_grid_of(v)->values->data;
  *p = malloc(n * n * sizeof(double));
  for (size_t i = 0; i < n * n; i++) {
    double g[2], r[2];
    gradstar(pts->data + 2 * i, g);
    rstar(pts->data + 2 * i, r);
    V[2 * i] = g[0] + r[0];
    V[2 * i + 1] = g[1] + r[1];
    (*p)[i] = dens(pts->data + 2 * i);
  }
  fl_array_release(pts);
  return v;
}

static double phi_error(fl_field *phi)
{
  fl_grid *g = fl_grid_of(phi);
  fl_array *pts;
  assert_ok(fl_grid_points(&g->s, &pts));
  double e = 0;
  for (size_t i = 0; i < g->npoints; i++) e = fmax(e, fabs(g->values->data[i] - phistar(pts->data + 2 * i)));
  fl_array_release(pts);
  return e;
}

/* FD: phi* recovered at order 2; residual below tol; the discrete weighted
 * divergence of r vanishes; the energy split holds. */
static void test_grid_fd_order(void **state)
{
  (void)state;
  double err[3];
  size_t ns[3] = {32, 64, 128};
  for (int k = 0; k < 3; k++) {
    double *p;
    fl_field *v = analytic_case(ns[k], &p);
    fl_wdecomp_grid_opts o = {1e-10, 1000, FL_WDECOMP_FD};
    fl_wdecomp_grid_result res;
    assert_ok(fl_wdecomp_grid(v, p, &o, &res));
    assert_true(res.residual <= 1e-10);
    assert_true(res.iterations > 2 && res.iterations < 100);
    err[k] = phi_error(res.phi);
    /* D(p r) = 0 to the CG tolerance relative to D(p v) */
    size_t N = ns[k] * ns[k];
    double *b = malloc(N * sizeof(double)), *br = malloc(N * sizeof(double));
    fl_grid_spec s = pspec(2, ns[k]);
    assert_ok(fl_wdecomp_grid_apply(&s, FL_WDECOMP_FD, p, NULL, fl_grid_of(v)->values->data, b));
    assert_ok(fl_wdecomp_grid_apply(&s, FL_WDECOMP_FD, p, NULL, fl_grid_of(res.gauge)->values->data, br));
    double nb = 0, nr = 0;
    for (size_t i = 0; i < N; i++) {
      nb += b[i] * b[i];
      nr += br[i] * br[i];
    }
    assert_true(sqrt(nr / nb) <= 1.01e-10);
    assert_near(sqrt(nr / nb), res.residual, 1e-12);
    /* gradient + gauge = v exactly, energies add up */
    const double *V = fl_grid_of(v)->values->data, *G = fl_grid_of(res.gradient)->values->data,
                 *R = fl_grid_of(res.gauge)->values->data;
    for (size_t i = 0; i < 2 * N; i++) assert_near(G[i] + R[i], V[i], 1e-14);
    assert_true(fabs(res.e.cross) <= 1e-9 * res.e.total);
    assert_near(res.e.gradient + res.e.gauge + 2 * res.e.cross, res.e.total, 1e-12 * res.e.total);
    free(b);
    free(br);
    free(p);
    fl_wdecomp_grid_result_free(&res);
    fl_field_release(v);
  }
  double o1 = log2(err[0] / err[1]), o2 = log2(err[1] / err[2]);
  if (getenv("WD_DEBUG")) print_message("FD errors %g %g %g orders %g %g\n", err[0], err[1], err[2], o1, o2);
  if (!(o1 > 1.8 && o1 < 2.3 && o2 > 1.9 && o2 < 2.2))
    fail_msg("FD order: errors %g %g %g, orders %g %g", err[0], err[1], err[2], o1, o2);
  assert_true(err[2] < 2e-3);
}

/* Spectral: phi* recovered to ~1e-10 on a 48^2 grid (spectral convergence);
 * the exact energies of the analytic split are reproduced. */
static void test_grid_spectral(void **state)
{
  (void)state;
  double *p;
  fl_field *v = analytic_case(48, &p);
  fl_wdecomp_grid_opts o = {1e-12, 1000, FL_WDECOMP_SPECTRAL};
  fl_wdecomp_grid_result res;
  assert_ok(fl_wdecomp_grid(v, p, &o, &res));
  assert_true(res.residual <= 1e-12);
  assert_true(phi_error(res.phi) < 1e-10);
  /* E_p|grad phi*|^2 and E_p|r*|^2 by node quadrature (spectrally accurate) */
  fl_grid_spec s = pspec(2, 48);
  fl_array *pts;
  assert_ok(fl_grid_points(&s, &pts));
  double ps = 0, eg = 0, er = 0;
  for (size_t i = 0; i < 48 * 48; i++) {
    double g[2], r[2];
    gradstar(pts->data + 2 * i, g);
    rstar(pts->data + 2 * i, r);
    ps += p[i];
    eg += p[i] * (g[0] * g[0] + g[1] * g[1]);
    er += p[i] * (r[0] * r[0] + r[1] * r[1]);
  }
  fl_array_release(pts);
  assert_near(res.e.gradient, eg / ps, 1e-9);
  assert_near(res.e.gauge, er / ps, 1e-9);
  assert_true(fabs(res.e.cross) < 1e-11);
  free(p);
  fl_wdecomp_grid_result_free(&res);
  fl_field_release(v);
}

/* 1-D and 3-D: v = G phi0 for a node field phi0 (discrete gradient) is
 * recovered exactly: phi = phi0 - mean, gauge = 0; and for a v that is
 * p-weighted divergence free, phi = 0. */
static void test_grid_exact_discrete(void **state)
{
  (void)state;
  for (int d = 1; d <= 3; d += 2) {
    size_t n = d == 1 ? 40 : 12;
    fl_grid_spec s = pspec(d, n);
    s.hi[0] = 3; /* an anisotropic box */
    size_t N = fl_grid_spec_npoints(&s);
    double *phi0 = malloc(N * sizeof(double)), *p = malloc(N * sizeof(double));
    fl_array *pts;
    assert_ok(fl_grid_points(&s, &pts));
    double mean = 0;
    for (size_t i = 0; i < N; i++) {
      const double *x = pts->data + i * (size_t)d;
      phi0[i] = fl_test_uniform(i, -1, 1);
      mean += phi0[i];
      double a = 0;
      for (int k = 0; k < d; k++) a += 0.5 * cos(x[k] * (k == 0 ? 2 * M_PI / 3 : 1.0) + k);
      p[i] = exp(a);
    }
    mean /= (double)N;
    fl_array_release(pts);
    for (int m = 0; m < 2; m++) {
      fl_wdecomp_method meth = m ? FL_WDECOMP_SPECTRAL : FL_WDECOMP_FD;
      fl_field *v;
      assert_ok(fl_grid_new(&s, d, FL_INTERP_LINEAR, NULL, &v));
      /* v = G phi0 with fl_grid_grad: the same central / spectral derivative */
      fl_field *ph;
      fl_array *vals;
      size_t shp[3] = {s.n[0], s.n[1], s.n[2]};
      assert_ok(fl_array_from_data(1, &N, phi0, &vals));
      fl_array *vr;
      assert_ok(fl_array_reshape(vals, d, shp, &vr));
      assert_ok(fl_grid_new(&s, 1, FL_INTERP_LINEAR, vr, &ph));
      fl_field *gr;
      assert_ok(fl_grid_grad(ph, 2, m ? FL_GRID_SPECTRAL : FL_GRID_FD, &gr));
      memcpy(fl_grid_of(v)->values->data, fl_grid_of(gr)->values->data, N * (size_t)d * sizeof(double));
      fl_field_release(gr);
      fl_field_release(ph);
      fl_array_release(vr);
      fl_array_release(vals);
      fl_wdecomp_grid_opts o = {1e-12, 2000, meth};
      fl_wdecomp_grid_result res;
      assert_ok(fl_wdecomp_grid(v, p, &o, &res));
      /* phi0's component in the null space of G (the Nyquist checkerboard
       * for FD/spectral) is invisible: compare gradients, and phi up to it */
      const double *G = fl_grid_of(res.gradient)->values->data, *V = fl_grid_of(v)->values->data;
      double eg = 0;
      for (size_t i = 0; i < N * (size_t)d; i++) eg = fmax(eg, fabs(G[i] - V[i]));
      if (!(eg < 1e-9)) fail_msg("d = %d method %d: gradient error %g", d, m, eg);
      assert_true(res.e.gauge < 1e-18 * res.e.total + 1e-20);
      fl_wdecomp_grid_result_free(&res);
      fl_field_release(v);
    }
    free(phi0);
    free(p);
  }
}

/* A density given as a grid, as a scalar field and as a GMM gives the same nodes. */
static fl_status dens_eval(fl_field *f, size_t n, const double *x, double t, double *out)
{
  (void)f;
  (void)t;
  for (size_t i = 0; i < n; i++) out[i] = dens(x + 2 * i);
  return FL_OK;
}
static const fl_field_ops dens_ops = {"test_density", dens_eval, NULL, NULL, NULL, NULL, NULL};

static void test_density_nodes(void **state)
{
  (void)state;
  fl_grid_spec s = pspec(2, 16);
  double *p0;
  fl_field *v = analytic_case(16, &p0);
  fl_field *pf;
  assert_ok(fl_field_new(&dens_ops, 2, 1, 0, 1, NULL, &pf));
  double p1[256], p2[256];
  assert_ok(fl_wdecomp_density_nodes(&s, pf, NULL, 0, p1));
  for (int i = 0; i < 256; i++) assert_near(p1[i], p0[i], 1e-15);
  fl_field *pg;
  assert_ok(fl_grid_sample(pf, &s, FL_INTERP_LINEAR, 0, &pg));
  assert_ok(fl_wdecomp_density_nodes(&s, pg, NULL, 0, p2));
  for (int i = 0; i < 256; i++) assert_near(p2[i], p0[i], 1e-15);
  /* mismatched grid */
  fl_grid_spec s2 = pspec(2, 17);
  assert_fails_with(fl_wdecomp_density_nodes(&s2, pg, NULL, 0, p2), FL_EDIM, "mismatched grids");
  /* GMM: N((1,2), 4 I) */
  double m[2] = {1, 2}, c = 4;
  fl_gmm *g;
  assert_ok(fl_gmm_new(2, 1, NULL, m, &c, FL_GMM_COV_ISO, &g));
  assert_ok(fl_wdecomp_density_nodes(&s, NULL, g, 0, p2));
  double h = 2 * M_PI / 16;
  double x0 = 3 * h, y0 = 5 * h;
  assert_near(p2[3 * 16 + 5], exp(-((x0 - 1) * (x0 - 1) + (y0 - 2) * (y0 - 2)) / 8) / (8 * M_PI), 1e-15);
  fl_gmm_release(g);
  /* a non-positive density */
  fl_grid_of(pg)->values->data[17] = 0;
  assert_fails_with(fl_wdecomp_density_nodes(&s, pg, NULL, 0, p2), FL_EINVAL, "p = 0 at node (2, 2)");
  fl_field_release(pg);
  fl_field_release(pf);
  fl_field_release(v);
  free(p0);
}

static void test_grid_errors(void **state)
{
  (void)state;
  double *p;
  fl_field *v = analytic_case(16, &p);
  fl_wdecomp_grid_opts o = {1e-10, 2, FL_WDECOMP_FD};
  fl_wdecomp_grid_result res;
  assert_fails_with(fl_wdecomp_grid(v, p, &o, &res), FL_ENOTCONV, "relative residual");
  assert_null(res.phi);
  o.maxiter = 1000;
  p[5] = -1;
  assert_fails_with(fl_wdecomp_grid(v, p, &o, &res), FL_EINVAL, "p = -1 at node (1, 6)");
  p[5] = 1;
  fl_grid_spec s = pspec(2, 16);
  s.periodic[1] = 0;
  fl_field *w;
  assert_ok(fl_grid_new(&s, 2, FL_INTERP_LINEAR, NULL, &w));
  assert_fails_with(fl_wdecomp_grid(w, p, &o, &res), FL_EINVAL, "periodic");
  fl_field_release(w);
  s = pspec(2, 16);
  assert_ok(fl_grid_new(&s, 1, FL_INTERP_LINEAR, NULL, &w));
  assert_fails_with(fl_wdecomp_grid(w, p, &o, &res), FL_EDIM, "vector grid");
  fl_field_release(w);
  o.tol = 0;
  assert_fails_with(fl_wdecomp_grid(v, p, &o, &res), FL_EINVAL, "tol");
  /* v = 0: phi = 0 with no iteration */
  o.tol = 1e-10;
  memset(fl_grid_of(v)->values->data, 0, 2 * 256 * sizeof(double));
  assert_ok(fl_wdecomp_grid(v, p, &o, &res));
  assert_int_equal(res.iterations, 0);
  assert_near(res.residual, 0, 0);
  fl_wdecomp_grid_result_free(&res);
  fl_field_release(v);
  free(p);
}

/* ---- samples ---- */

/* V4: v = (x, 1) + (x y, 1 - x^2) */
static fl_status v4_eval(fl_field *f, size_t n, const double *x, double t, double *out)
{
  (void)f;
  (void)t;
  for (size_t i = 0; i < n; i++) {
    double a = x[2 * i], b = x[2 * i + 1];
    out[2 * i] = a + a * b;
    out[2 * i + 1] = 1 + 1 - a * a;
  }
  return FL_OK;
}
static const fl_field_ops v4_ops = {"v4", v4_eval, NULL, NULL, NULL, NULL, NULL};

/* the gradient of phi(x, y, z) = x^3 - 2 x y z + 0.5 z^2 + y */
static fl_status cubic_eval(fl_field *f, size_t n, const double *x, double t, double *out)
{
  (void)f;
  (void)t;
  for (size_t i = 0; i < n; i++) {
    double a = x[3 * i], b = x[3 * i + 1], c = x[3 * i + 2];
    out[3 * i] = 3 * a * a - 2 * b * c;
    out[3 * i + 1] = -2 * a * c + 1;
    out[3 * i + 2] = -2 * a * b + c;
  }
  return FL_OK;
}
static const fl_field_ops cubic_ops = {"cubic", cubic_eval, NULL, NULL, NULL, NULL, NULL};

static void test_poly_size(void **state)
{
  (void)state;
  assert_int_equal(fl_wdecomp_poly_size(2, 3), 9);
  assert_int_equal(fl_wdecomp_poly_size(3, 2), 9);
  assert_int_equal(fl_wdecomp_poly_size(1, 5), 5);
  assert_int_equal(fl_wdecomp_poly_size(2, 0), 0);
}

/* An exact gradient field in 3-D: coefficients to rounding, gauge 0, the
 * potential's exact Hessian matches. */
static void test_samples_exact(void **state)
{
  (void)state;
  fl_field *v;
  assert_ok(fl_field_new(&cubic_ops, 3, 3, 0, 1, NULL, &v));
  size_t n = 200;
  double *x = malloc(n * 3 * sizeof(double));
  fl_rng_fill_normal(7, 0, 0, n * 3, x);
  fl_wdecomp_sample_opts o = {.basis = FL_WBASIS_POLY, .degree = 3};
  fl_wdecomp_sample_result res;
  assert_ok(fl_wdecomp_samples(v, n, x, &o, &res));
  assert_int_equal(res.coef->size, 19);
  assert_int_equal(res.rank, 19);
  /* graded order: x y z | x2 xy xz y2 yz z2 | x3 x2y x2z xy2 xyz xz2 y3 y2z yz2 z3 */
  double want[19] = {0, 1, 0, 0, 0, 0, 0, 0, 0.5, 1, 0, 0, 0, -2, 0, 0, 0, 0, 0};
  for (int j = 0; j < 19; j++) assert_near(res.coef->data[j], want[j], 1e-10);
  assert_near(res.basis->data[13 * 3 + 0], 1, 0);
  assert_near(res.basis->data[13 * 3 + 1], 1, 0);
  assert_near(res.basis->data[13 * 3 + 2], 1, 0);
  assert_true(res.e.gauge < 1e-20);
  assert_true(res.fit_residual < 1e-10);
  /* phi value (up to the constant, which the basis lacks) and Hessian */
  double pt[3] = {0.3, -0.7, 1.1}, val, H[9], L;
  assert_ok(fl_field_eval(res.phi, 1, pt, 0, &val));
  assert_near(val, 0.027 - 2 * 0.3 * -0.7 * 1.1 + 0.5 * 1.21 - 0.7, 1e-10);
  int exact = 0;
  assert_ok(fl_field_hessian(res.phi, 1, pt, 0, H, &exact));
  assert_true(exact);
  double Hw[9] = {6 * 0.3, -2 * 1.1, -2 * -0.7, -2 * 1.1, 0, -2 * 0.3, -2 * -0.7, -2 * 0.3, 1};
  for (int k = 0; k < 9; k++) assert_near(H[k], Hw[k], 1e-10);
  assert_ok(fl_field_laplacian(res.phi, 1, pt, 0, &L, &exact));
  assert_near(L, 1.8 + 1, 1e-10);
  double g[3], r[3];
  assert_ok(fl_field_eval(res.gradient, 1, pt, 0, g));
  assert_near(g[0], 3 * 0.09 - 2 * -0.7 * 1.1, 1e-10);
  assert_ok(fl_field_eval(res.gauge, 1, pt, 0, r));
  for (int k = 0; k < 3; k++) assert_near(r[k], 0, 1e-10);
  fl_wdecomp_sample_result_free(&res);
  fl_field_release(v);
  free(x);
}

/* V4: the coefficients of x^2 and y tend to 1/2 and 1 at the Monte-Carlo
 * rate; every other coefficient to 0; in-sample cross term 0 (normal
 * equations); held-out cross term within 4 standard errors of 0. */
static void test_samples_v4(void **state)
{
  (void)state;
  fl_field *v;
  assert_ok(fl_field_new(&v4_ops, 2, 2, 0, 1, NULL, &v));
  size_t ns[2] = {2000, 200000};
  double errs[2];
  for (int k = 0; k < 2; k++) {
    size_t n = ns[k];
    double *x = malloc(n * 2 * sizeof(double));
    fl_rng_fill_normal(11, (uint64_t)k, 0, n * 2, x);
    fl_wdecomp_sample_opts o = {.basis = FL_WBASIS_POLY, .degree = 3};
    fl_wdecomp_sample_result res;
    assert_ok(fl_wdecomp_samples(v, n, x, &o, &res));
    /* x y x2 xy y2 x3 x2y xy2 y3 */
    double want[9] = {0, 1, 0.5, 0, 0, 0, 0, 0, 0};
    double e = 0;
    for (int j = 0; j < 9; j++) e = fmax(e, fabs(res.coef->data[j] - want[j]));
    errs[k] = e;
    assert_true(fabs(res.e.cross) < 1e-10 * res.e.total);
    assert_near(res.e.gradient + res.e.gauge, res.e.total, 1e-10 * res.e.total);
    fl_wdecomp_sample_result_free(&res);
    o.holdout = 0.5;
    assert_ok(fl_wdecomp_samples(v, n, x, &o, &res));
    assert_int_equal(res.nfit, n / 2);
    assert_int_equal(res.e.n, n - n / 2);
    if (!(fabs(res.e.cross) < 4 * res.e.cross_se))
      fail_msg("n = %zu: held-out cross %g, se %g", n, res.e.cross, res.e.cross_se);
    /* E_p|grad phi*|^2 = E[x^2 + 1] = 2, E_p|r*|^2 = E[x^2 y^2 + (1 - x^2)^2] = 1 + 2 = 3 */
    assert_true(fabs(res.e.gradient - 2) < 5 * res.e.gradient_se + 0.05);
    assert_true(fabs(res.e.gauge - 3) < 5 * res.e.gauge_se + 0.05);
    fl_wdecomp_sample_result_free(&res);
    free(x);
  }
  /* 100 times the samples: the error shrinks about 10 times (MC rate) */
  if (getenv("WD_DEBUG")) print_message("V4 errs %g %g\n", errs[0], errs[1]);
  if (!(errs[1] < errs[0] / 3 && errs[1] < 0.02)) fail_msg("V4 errors %g (n = 2000), %g (n = 200000)", errs[0], errs[1]);
  fl_field_release(v);
}

/* Fourier features: phi is the exact fit of a gradient that lies in the span
 * (a field made of the same features), and Hessians match differences. */
static void test_samples_fourier(void **state)
{
  (void)state;
  fl_field *v;
  assert_ok(fl_field_new(&v4_ops, 2, 2, 0, 1, NULL, &v));
  size_t n = 4000;
  double *x = malloc(n * 2 * sizeof(double));
  fl_rng_fill_normal(3, 1, 0, n * 2, x);
  fl_wdecomp_sample_opts o = {.basis = FL_WBASIS_FOURIER, .features = NF, .scale = SC, .seed = 5, .stream = 1,
                              .ridge = RG};
  fl_wdecomp_sample_result res;
  assert_ok(fl_wdecomp_samples(v, n, x, &o, &res));
  assert_int_equal(res.coef->size, NF);
  assert_non_null(res.phases);
  /* second fit without ridge: v2 = res.gradient lies in the span: recovered exactly */
  fl_wdecomp_sample_result r2;
  o.ridge = 0;
  assert_ok(fl_wdecomp_samples(res.gradient, n, x, &o, &r2));
  if (getenv("WD_DEBUG")) print_message("exact span: gauge %g total %g\n", r2.e.gauge, r2.e.total);
  assert_true(r2.e.gauge < 1e-16 * r2.e.total);
  /* the Hessian against central differences of the gradient */
  double pt[2] = {0.4, -0.3}, H[4], gp[2], gm[2];
  int exact;
  assert_ok(fl_field_hessian(res.phi, 1, pt, 0, H, &exact));
  assert_true(exact);
  for (int b = 0; b < 2; b++) {
    double xp[2] = {pt[0], pt[1]}, xm[2] = {pt[0], pt[1]};
    xp[b] += 1e-4;
    xm[b] -= 1e-4;
    assert_ok(fl_field_eval(res.gradient, 1, xp, 0, gp));
    assert_ok(fl_field_eval(res.gradient, 1, xm, 0, gm));
    for (int a = 0; a < 2; a++) assert_near(H[a * 2 + b], (gp[a] - gm[a]) / 2e-4, 1e-6 * fmax(1, fabs(H[a * 2 + b])));
  }
  /* the fit is good on the bulk of N(0, I): |grad phi - (x, 1)| small in L2(p) */
  double e = 0;
  for (size_t i = 0; i < n; i++) {
    double gx = res.values_gradient->data[2 * i] - x[2 * i], gy = res.values_gradient->data[2 * i + 1] - 1;
    e += gx * gx + gy * gy;
  }
  e = sqrt(e / (double)n);
  if (getenv("WD_DEBUG")) print_message("fourier err %g rank %d maxcoef %g\n", e, res.rank, fabs(res.coef->data[0]));
  if (!(e < 0.15)) fail_msg("Fourier fit error %g", e);
  fl_wdecomp_sample_result_free(&r2);
  fl_wdecomp_sample_result_free(&res);
  fl_field_release(v);
  free(x);
}

static void test_samples_errors(void **state)
{
  (void)state;
  fl_field *v, *s;
  assert_ok(fl_field_new(&v4_ops, 2, 2, 0, 1, NULL, &v));
  assert_ok(fl_field_new(&dens_ops, 2, 1, 0, 1, NULL, &s));
  double x[20];
  fl_rng_fill_normal(1, 0, 0, 20, x);
  fl_wdecomp_sample_opts o = {.basis = FL_WBASIS_POLY, .degree = 0, .scale = 1};
  fl_wdecomp_sample_result res;
  assert_fails_with(fl_wdecomp_samples(v, 10, x, &o, &res), FL_EINVAL, "degree must be at least 1");
  o.degree = 2;
  assert_fails_with(fl_wdecomp_samples(s, 10, x, &o, &res), FL_EDIM, "vector field");
  o.holdout = 1;
  assert_fails_with(fl_wdecomp_samples(v, 10, x, &o, &res), FL_EINVAL, "holdout");
  o.holdout = 0;
  o.basis = FL_WBASIS_FOURIER;
  o.features = 10;
  o.scale = -1;
  assert_fails_with(fl_wdecomp_samples(v, 10, x, &o, &res), FL_EINVAL, "length scale");
  o.scale = 1;
  x[7] = NAN;
  assert_fails_with(fl_wdecomp_samples(v, 10, x, &o, &res), FL_ENAN, "sample 4");
  assert_null(res.phi);
  fl_field_release(v);
  fl_field_release(s);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    T(test_grid_fd_order),
    T(test_grid_spectral),
    T(test_grid_exact_discrete),
    T(test_density_nodes),
    T(test_grid_errors),
    T(test_poly_size),
    T(test_samples_exact),
    T(test_samples_v4),
    T(test_samples_fourier),
    T(test_samples_errors),
  };
  int r = cmocka_run_group_tests(tests, NULL, NULL);
  fl_fft_cache_clear();
  return r;
}
