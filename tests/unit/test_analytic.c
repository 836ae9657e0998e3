/* Unit tests of lib/fl_analytic: every exact derivative against central
 * differences of the field's own eval (own FD helper, independent of
 * fl_field.c's), closed forms (vorticity, circulation, Beltrami property,
 * Poisson densities, circular velocities, enclosed masses), the gauge
 * identity div(p r) = 0, limits at r = 0, and parameter validation. */
#include "config.h"
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl_analytic.h"
#include "fl_field.h"
#include "fl_test.h"

/* ------------------------------------------------------------ helpers */

/* Successive uniforms in [a, b) for random test points: fl_test_uniform at
 * indices 1, 2, 3, ... */
static uint64_t urand_next = 1;
static double urand(double a, double b) { return fl_test_uniform(urand_next++, a, b); }

#define NPTS 40

static double max_abs(const double *v, size_t n)
{
  double m = 0;
  for (size_t k = 0; k < n; k++)
    if (fabs(v[k]) > m) m = fabs(v[k]);
  return m;
}

/* |got - want| <= tol * max(scale, tiny) entry by entry, scale = max|want|. */
static void assert_close_vec(const double *got, const double *want, size_t n, double tol, const char *what)
{
  double scale = max_abs(want, n);
  if (scale < 1e-300) scale = 1;
  for (size_t k = 0; k < n; k++) {
    if (!(fabs(got[k] - want[k]) <= tol * scale)) {
      print_error("%s: entry %zu: got %.17g, expected %.17g (tol %g, scale %g)\n", what, k, got[k], want[k], tol,
                  scale);
      fail();
    }
  }
}

/* Difference steps scale with the point's norm (not each coordinate), so that
 * rounding, ~ eps |f| / h^k, stays below truncation far from the origin. */
static double step_of(const double *x, int d, double e)
{
  double s = 0;
  for (int k = 0; k < d; k++) s += x[k] * x[k];
  s = sqrt(s);
  return e * (s > 1 ? s : 1);
}

/* Central-difference Jacobian of f's eval at one point: J[m*d]. */
static void fd_jac(fl_field *f, const double *x, double t, double *J)
{
  int d = f->dim, m = f->codim;
  double xp[16], fp[16], fm[16];
  for (int b = 0; b < d; b++) {
    double h = step_of(x, d, 6e-6);
    memcpy(xp, x, sizeof(double) * (size_t)d);
    xp[b] = x[b] + h;
    assert_int_equal(fl_field_eval(f, 1, xp, t, fp), FL_OK);
    xp[b] = x[b] - h;
    assert_int_equal(fl_field_eval(f, 1, xp, t, fm), FL_OK);
    for (int a = 0; a < m; a++) J[a * d + b] = (fp[a] - fm[a]) / (2 * h);
  }
}

/* Central-difference Hessian of a scalar field from second differences of eval. */
static void fd_hess(fl_field *f, const double *x, double t, double *H)
{
  int d = f->dim;
  double xp[16], v[4], f0;
  assert_int_equal(fl_field_eval(f, 1, x, t, &f0), FL_OK);
  for (int a = 0; a < d; a++)
    for (int b = 0; b < d; b++) {
      double ha = step_of(x, d, 2e-4), hb = ha;
      if (a == b) {
        memcpy(xp, x, sizeof(double) * (size_t)d);
        xp[a] = x[a] + ha;
        assert_int_equal(fl_field_eval(f, 1, xp, t, &v[0]), FL_OK);
        xp[a] = x[a] - ha;
        assert_int_equal(fl_field_eval(f, 1, xp, t, &v[1]), FL_OK);
        H[a * d + a] = (v[0] - 2 * f0 + v[1]) / (ha * ha);
      } else {
        int s[4][2] = {{1, 1}, {1, -1}, {-1, 1}, {-1, -1}};
        for (int k = 0; k < 4; k++) {
          memcpy(xp, x, sizeof(double) * (size_t)d);
          xp[a] += s[k][0] * ha;
          xp[b] += s[k][1] * hb;
          assert_int_equal(fl_field_eval(f, 1, xp, t, &v[k]), FL_OK);
        }
        H[a * d + b] = (v[0] - v[1] - v[2] + v[3]) / (4 * ha * hb);
      }
    }
}

/* The field's own jac/div against central differences of its eval at random
 * points of the box [lo, hi]^d, relative tolerance tol of the Jacobian's
 * largest entry. */
static void check_jac_fd(fl_field *f, double lo, double hi, double t, double tol)
{
  int d = f->dim, m = f->codim;
  assert_non_null(f->ops->jac);
  for (int i = 0; i < NPTS; i++) {
    double x[16], J[256], Jfd[256];
    for (int k = 0; k < d; k++) x[k] = urand(lo, hi);
    assert_int_equal(f->ops->jac(f, 1, x, t, J), FL_OK);
    fd_jac(f, x, t, Jfd);
    assert_close_vec(J, Jfd, (size_t)(m * d), tol, f->ops->kind);
    if (m == d && f->ops->div) {
      double dv, tr = 0;
      assert_int_equal(f->ops->div(f, 1, x, t, &dv), FL_OK);
      for (int k = 0; k < d; k++) tr += Jfd[k * d + k];
      assert_rel(dv, tr, tol * (max_abs(Jfd, (size_t)(m * d)) + 1e-300));
    }
  }
}

/* Gradient, Hessian and Laplacian of a scalar field against differences. */
static void check_scalar_fd(fl_field *f, double rlo, double rhi, double tol)
{
  int d = f->dim;
  assert_int_equal(f->codim, 1);
  assert_non_null(f->ops->jac);
  assert_non_null(f->ops->hess);
  assert_non_null(f->ops->lap);
  for (int i = 0; i < NPTS; i++) {
    double x[16], g[16], gfd[16], H[256], Hfd[256], Hfd2[256], lap, tr = 0;
    /* a random direction and a radius in [rlo, rhi] */
    double nrm = 0;
    for (int k = 0; k < d; k++) {
      x[k] = urand(-1, 1);
      nrm += x[k] * x[k];
    }
    double r = urand(rlo, rhi) / sqrt(nrm);
    for (int k = 0; k < d; k++) x[k] *= r;
    assert_int_equal(f->ops->jac(f, 1, x, 0, g), FL_OK);
    fd_jac(f, x, 0, gfd);
    assert_close_vec(g, gfd, (size_t)d, tol, "gradient vs FD");
    assert_int_equal(f->ops->hess(f, 1, x, 0, H), FL_OK);
    /* Hessian: FD of the exact gradient (tight) and second differences of eval */
    for (int b = 0; b < d; b++) {
      double xp[16], gp[16], gm[16], h = step_of(x, d, 6e-6);
      memcpy(xp, x, sizeof(double) * (size_t)d);
      xp[b] += h;
      f->ops->jac(f, 1, xp, 0, gp);
      xp[b] = x[b] - h;
      f->ops->jac(f, 1, xp, 0, gm);
      for (int a = 0; a < d; a++) Hfd[a * d + b] = (gp[a] - gm[a]) / (2 * h);
    }
    assert_close_vec(H, Hfd, (size_t)(d * d), tol, "Hessian vs FD of the gradient");
    fd_hess(f, x, 0, Hfd2);
    assert_close_vec(H, Hfd2, (size_t)(d * d), 20 * tol, "Hessian vs second differences");
    assert_int_equal(f->ops->lap(f, 1, x, 0, &lap), FL_OK);
    for (int k = 0; k < d; k++) tr += Hfd[k * d + k];
    assert_rel(lap, tr, tol * max_abs(Hfd, (size_t)(d * d)));
  }
}

/* A batch of n > 4096 points (parallel path) equals point-by-point evaluation. */
static void check_batch(fl_field *f)
{
  size_t n = 5000, d = (size_t)f->dim, m = (size_t)f->codim;
  double *x = malloc(sizeof(double) * n * d), *o = malloc(sizeof(double) * n * m);
  double *J = malloc(sizeof(double) * n * m * d);
  assert_non_null(x);
  assert_non_null(o);
  assert_non_null(J);
  for (size_t k = 0; k < n * d; k++) x[k] = urand(-3, 3);
  assert_int_equal(fl_field_eval(f, n, x, 0.3, o), FL_OK);
  if (f->ops->jac) assert_int_equal(f->ops->jac(f, n, x, 0.3, J), FL_OK);
  for (size_t i = 0; i < n; i += 97) {
    double o1[16], J1[256];
    assert_int_equal(fl_field_eval(f, 1, x + i * d, 0.3, o1), FL_OK);
    assert_close_vec(o + i * m, o1, m, 1e-14, "batch vs single point"); /* BLAS may sum in another order */
    if (f->ops->jac) {
      assert_int_equal(f->ops->jac(f, 1, x + i * d, 0.3, J1), FL_OK);
      assert_close_vec(J + i * m * d, J1, m * d, 1e-14, "batch Jacobian vs single point");
    }
  }
  free(x);
  free(o);
  free(J);
}

/* ------------------------------------------------------------ linear family */

static void test_linear(void **state)
{
  (void)state;
  const double A[6] = {1, 2, -1, 0.5, 3, 4}, b[2] = {0.25, -2};
  fl_field *f;
  assert_int_equal(fl_analytic_linear(2, 3, A, b, &f), FL_OK);
  assert_string_equal(f->ops->kind, "linear");
  assert_int_equal(f->dim, 3);
  assert_int_equal(f->codim, 2);
  assert_int_equal(f->thread_safe, 1);
  assert_int_equal(f->time_dependent, 0);
  double x[3] = {1, -2, 0.5}, y[2];
  assert_int_equal(fl_field_eval(f, 1, x, 0, y), FL_OK);
  assert_true(y[0] == 1 - 4 - 0.5 + 0.25);
  assert_true(y[1] == 0.5 - 6 + 2 - 2);
  double J[6];
  int exact = 0;
  assert_int_equal(fl_field_jacobian(f, 1, x, 0, J, &exact), FL_OK);
  assert_int_equal(exact, 1);
  assert_memory_equal(J, A, sizeof A);
  check_jac_fd(f, -3, 3, 0, 1e-8);
  check_batch(f);
  fl_field_release(f);

  /* square: div = trace; large matrices take the BLAS path: compare with sums */
  enum { D = 12 };
  double M[D * D], c[D];
  for (int k = 0; k < D * D; k++) M[k] = urand(-1, 1);
  for (int k = 0; k < D; k++) c[k] = urand(-1, 1);
  assert_int_equal(fl_analytic_linear(D, D, M, c, &f), FL_OK);
  double tr = 0;
  for (int k = 0; k < D; k++) tr += M[k * D + k];
  size_t n = 50;
  double X[50 * D], Y[50 * D], dv[50];
  for (size_t k = 0; k < n * D; k++) X[k] = urand(-2, 2);
  assert_int_equal(fl_field_eval(f, n, X, 0, Y), FL_OK);
  for (size_t i = 0; i < n; i++)
    for (int a = 0; a < D; a++) {
      double s = c[a];
      for (int k = 0; k < D; k++) s += M[a * D + k] * X[i * D + k];
      assert_rel(Y[i * D + a], s, 1e-14);
    }
  assert_int_equal(fl_field_div(f, n, X, 0, dv, &exact), FL_OK);
  for (size_t i = 0; i < n; i++) assert_true(dv[i] == tr);
  check_batch(f);
  fl_field_release(f);

  /* validation */
  double bad[2] = {1, NAN};
  assert_int_equal(fl_analytic_linear(1, 2, bad, NULL, &f), FL_EINVAL);
  assert_null(f);
  assert_non_null(strstr(fl_last_detail(), "A[1][2]"));
  assert_int_equal(fl_analytic_linear(0, 2, A, NULL, &f), FL_EDIM);
  assert_null(f);
  assert_int_equal(fl_analytic_linear(2, 3, A, bad, &f), FL_EINVAL);
}

static void test_rotation_shear(void **state)
{
  (void)state;
  fl_field *f;
  double x[3] = {0.3, -1.7, 2.2}, y[3], dv;
  assert_int_equal(fl_analytic_rotation(2, 1.5, NULL, &f), FL_OK);
  assert_string_equal(f->ops->kind, "rotation");
  fl_field_eval(f, 1, x, 0, y);
  assert_true(y[0] == 1.5 * 1.7 && y[1] == 1.5 * 0.3);
  int exact;
  assert_int_equal(fl_field_curl(f, 1, x, 0, &dv, &exact), FL_OK);
  assert_rel(dv, 3.0, 1e-15);
  fl_field_release(f);

  /* 3-D: omega (n x x) with the axis normalised */
  const double axis[3] = {1, 2, 2}; /* |axis| = 3 */
  assert_int_equal(fl_analytic_rotation(3, 2.0, axis, &f), FL_OK);
  fl_field_eval(f, 1, x, 0, y);
  double nx = 1 / 3.0, ny = 2 / 3.0, nz = 2 / 3.0;
  double want[3] = {2 * (ny * x[2] - nz * x[1]), 2 * (nz * x[0] - nx * x[2]), 2 * (nx * x[1] - ny * x[0])};
  assert_close_vec(y, want, 3, 1e-15, "3-D rotation");
  /* rigid rotation: u . x = 0, u . n = 0, curl u = 2 omega n */
  assert_rel(y[0] * x[0] + y[1] * x[1] + y[2] * x[2], 0, 1e-14);
  assert_rel(y[0] * nx + y[1] * ny + y[2] * nz, 0, 1e-14);
  double cu[3];
  assert_int_equal(fl_field_curl(f, 1, x, 0, cu, &exact), FL_OK);
  double w2n[3] = {4 * nx, 4 * ny, 4 * nz};
  assert_close_vec(cu, w2n, 3, 1e-15, "curl = 2 omega n");
  assert_int_equal(fl_field_div(f, 1, x, 0, &dv, &exact), FL_OK);
  assert_true(dv == 0);
  check_jac_fd(f, -3, 3, 0, 1e-8);
  fl_field_release(f);
  assert_int_equal(fl_analytic_rotation(3, 1, NULL, &f), FL_OK); /* default axis z */
  fl_field_eval(f, 1, x, 0, y);
  assert_true(y[0] == 1.7 && y[1] == 0.3 && y[2] == 0);
  fl_field_release(f);

  assert_int_equal(fl_analytic_shear(2, 0.7, &f), FL_OK);
  assert_string_equal(f->ops->kind, "shear");
  fl_field_eval(f, 1, x, 0, y);
  assert_true(y[0] == 0.7 * -1.7 && y[1] == 0);
  assert_int_equal(fl_field_curl(f, 1, x, 0, &dv, &exact), FL_OK);
  assert_rel(dv, -0.7, 1e-15);
  fl_field_release(f);
  assert_int_equal(fl_analytic_shear(3, 2, &f), FL_OK);
  fl_field_eval(f, 1, x, 0, y);
  assert_true(y[0] == -3.4 && y[1] == 0 && y[2] == 0);
  fl_field_release(f);

  const double zero[3] = {0, 0, 0};
  assert_int_equal(fl_analytic_rotation(3, 1, zero, &f), FL_EINVAL);
  assert_null(f);
  assert_int_equal(fl_analytic_rotation(4, 1, NULL, &f), FL_EINVAL);
  assert_int_equal(fl_analytic_rotation(2, 1, axis, &f), FL_EINVAL);
  assert_int_equal(fl_analytic_rotation(2, INFINITY, NULL, &f), FL_EINVAL);
  assert_int_equal(fl_analytic_shear(1, 1, &f), FL_EINVAL);
  assert_null(f);
}

/* ------------------------------------------------------------ vortices */

/* Circulation around the circle of radius rho about c, periodic trapezoid rule with N nodes. */
static double circulation(fl_field *f, const double *c, double rho, int N)
{
  double s = 0;
  for (int k = 0; k < N; k++) {
    double th = 2 * M_PI * k / N, x[2] = {c[0] + rho * cos(th), c[1] + rho * sin(th)}, u[2];
    assert_int_equal(fl_field_eval(f, 1, x, 0, u), FL_OK);
    s += u[0] * (-rho * sin(th)) + u[1] * (rho * cos(th));
  }
  return s * 2 * M_PI / N;
}

static void test_point_vortex(void **state)
{
  (void)state;
  const double c[2] = {0.5, -0.25}, gamma = 2.5;
  fl_field *f;
  assert_int_equal(fl_analytic_vortex(gamma, c, 0, &f), FL_OK);
  assert_string_equal(f->ops->kind, "vortex");
  /* value at a known point: r = 2 along x: u = gamma/(2 pi 4) (0, 2) */
  double x[2] = {2.5, -0.25}, u[2];
  fl_field_eval(f, 1, x, 0, u);
  assert_rel(u[0], 0, 1e-16);
  assert_rel(u[1], gamma / (4 * M_PI), 1e-15);
  check_jac_fd(f, 1, 3, 0, 1e-8); /* the box [1,3]^2 avoids the centre */
  for (int i = 0; i < NPTS; i++) {
    double p[2] = {urand(-3, 3), urand(-3, 3)}, J[4], w, dv;
    int exact;
    if (hypot(p[0] - c[0], p[1] - c[1]) < 0.1) continue;
    assert_int_equal(fl_field_jacobian(f, 1, p, 0, J, &exact), FL_OK);
    double scale = max_abs(J, 4);
    assert_true(fabs(J[0] + J[3]) <= 1e-15 * scale); /* div = 0 */
    assert_int_equal(fl_field_curl(f, 1, p, 0, &w, &exact), FL_OK);
    assert_true(fabs(w) <= 1e-15 * scale); /* irrotational off the centre */
    assert_int_equal(fl_field_div(f, 1, p, 0, &dv, &exact), FL_OK);
    assert_true(dv == 0);
  }
  /* circulation gamma around the centre for any radius; 0 around a loop not enclosing it */
  for (double rho = 0.1; rho < 5; rho *= 3) assert_rel(circulation(f, c, rho, 32), gamma, 1e-14);
  const double far[2] = {4, 4};
  assert_rel(circulation(f, far, 1, 64), 0, 1e-13);
  /* centre: zero velocity and Jacobian (self-induced), never NaN */
  double J[4];
  fl_field_eval(f, 1, c, 0, u);
  f->ops->jac(f, 1, c, 0, J);
  assert_true(u[0] == 0 && u[1] == 0 && J[0] == 0 && J[1] == 0 && J[2] == 0 && J[3] == 0);
  check_batch(f);
  fl_field_release(f);
}

static void test_lamb_oseen(void **state)
{
  (void)state;
  const double gamma = -1.3, a = 0.6;
  fl_field *f;
  assert_int_equal(fl_analytic_vortex(gamma, NULL, a, &f), FL_OK);
  /* includes r^2/a^2 on both sides of the series/closed-form switch at 0.5 */
  check_jac_fd(f, -1.5, 1.5, 0, 1e-8);
  for (int i = 0; i < NPTS; i++) {
    double p[2] = {urand(-2, 2), urand(-2, 2)}, w, J[4];
    int exact;
    double q = p[0] * p[0] + p[1] * p[1];
    /* value: gamma/(2 pi r^2)(1 - exp(-r^2/a^2))(-y, x) */
    double u[2], F = gamma / (2 * M_PI * q) * (1 - exp(-q / (a * a)));
    fl_field_eval(f, 1, p, 0, u);
    double want[2] = {-F * p[1], F * p[0]};
    assert_close_vec(u, want, 2, 1e-13, "Lamb-Oseen velocity");
    /* vorticity gamma/(pi a^2) exp(-r^2/a^2) */
    assert_int_equal(fl_field_curl(f, 1, p, 0, &w, &exact), FL_OK);
    assert_int_equal(exact, 1);
    assert_rel(w, gamma / (M_PI * a * a) * exp(-q / (a * a)), 1e-13);
    f->ops->jac(f, 1, p, 0, J);
    assert_true(fabs(J[0] + J[3]) <= 1e-15 * max_abs(J, 4));
  }
  /* circulation gamma (1 - exp(-rho^2/a^2)) */
  for (double rho = 0.05; rho < 4; rho *= 2.5)
    assert_rel(circulation(f, (double[]){0, 0}, rho, 32), gamma * -expm1(-rho * rho / (a * a)), 1e-14);
  /* finite at the centre: u = 0, J = gamma/(2 pi a^2) [[0,-1],[1,0]]; and
   * continuous across the series switch r^2 = a^2/2 */
  double z[2] = {0, 0}, u[2], J[4];
  fl_field_eval(f, 1, z, 0, u);
  f->ops->jac(f, 1, z, 0, J);
  double c = gamma / (2 * M_PI * a * a), Jw[4] = {0, -c, c, 0};
  assert_true(u[0] == 0 && u[1] == 0);
  assert_close_vec(J, Jw, 4, 1e-15, "Lamb-Oseen Jacobian at the centre");
  double r0 = a / sqrt(2.0), pl[2] = {r0 * (1 - 1e-13), 0}, pr[2] = {r0 * (1 + 1e-13), 0}, Jl[4], Jr[4];
  f->ops->jac(f, 1, pl, 0, Jl);
  f->ops->jac(f, 1, pr, 0, Jr);
  assert_close_vec(Jl, Jr, 4, 1e-12, "continuity across the series switch");
  check_batch(f);
  fl_field_release(f);

  assert_int_equal(fl_analytic_vortex(1, NULL, -1, &f), FL_EINVAL);
  assert_null(f);
  assert_int_equal(fl_analytic_vortex(NAN, NULL, 0, &f), FL_EINVAL);
  assert_int_equal(fl_analytic_vortex(1, (double[]){0, INFINITY}, 0, &f), FL_EINVAL);
}

/* ------------------------------------------------------------ periodic flows */

static void test_taylor_green(void **state)
{
  (void)state;
  const double u0 = 1.7, k = 2;
  fl_field *f;
  assert_int_equal(fl_analytic_taylor_green(2, u0, k, &f), FL_OK);
  assert_string_equal(f->ops->kind, "taylor_green");
  double x[2] = {M_PI / 8, M_PI / 3}, u[2];
  fl_field_eval(f, 1, x, 0, u);
  assert_rel(u[0], u0 * sin(M_PI / 4) * cos(2 * M_PI / 3), 1e-15);
  assert_rel(u[1], -u0 * cos(M_PI / 4) * sin(2 * M_PI / 3), 1e-15);
  check_jac_fd(f, -4, 4, 0, 1e-8);
  for (int i = 0; i < NPTS; i++) {
    double p[2] = {urand(-4, 4), urand(-4, 4)}, w, J[4];
    int exact;
    assert_int_equal(fl_field_curl(f, 1, p, 0, &w, &exact), FL_OK);
    assert_rel(w, 2 * k * u0 * sin(k * p[0]) * sin(k * p[1]), 1e-14);
    f->ops->jac(f, 1, p, 0, J);
    assert_true(fabs(J[0] + J[3]) <= 1e-15 * max_abs(J, 4));
  }
  check_batch(f);
  fl_field_release(f);

  assert_int_equal(fl_analytic_taylor_green(3, u0, 1, &f), FL_OK);
  check_jac_fd(f, -4, 4, 0, 1e-8);
  for (int i = 0; i < NPTS; i++) {
    double p[3] = {urand(-4, 4), urand(-4, 4), urand(-4, 4)}, J[9], w[3];
    int exact;
    f->ops->jac(f, 1, p, 0, J);
    assert_true(fabs(J[0] + J[4] + J[8]) <= 1e-15 * max_abs(J, 9));
    /* curl = u0 (-cos x sin y sin z, -sin x cos y sin z, 2 sin x sin y cos z) */
    assert_int_equal(fl_field_curl(f, 1, p, 0, w, &exact), FL_OK);
    double sx = sin(p[0]), cx = cos(p[0]), sy = sin(p[1]), cy = cos(p[1]), sz = sin(p[2]), cz = cos(p[2]);
    double want[3] = {-u0 * cx * sy * sz, -u0 * sx * cy * sz, 2 * u0 * sx * sy * cz};
    assert_close_vec(w, want, 3, 1e-14, "3-D Taylor-Green vorticity");
  }
  check_batch(f);
  fl_field_release(f);
  assert_int_equal(fl_analytic_taylor_green(4, 1, 1, &f), FL_EINVAL);
  assert_null(f);
  assert_int_equal(fl_analytic_taylor_green(2, 1, 0, &f), FL_EINVAL);
  assert_int_equal(fl_analytic_taylor_green(2, 1, -1, &f), FL_EINVAL);
}

static void test_abc(void **state)
{
  (void)state;
  const double A = 1.2, B = 0.7, C = -0.4;
  fl_field *f;
  assert_int_equal(fl_analytic_abc(A, B, C, &f), FL_OK);
  assert_string_equal(f->ops->kind, "abc");
  double z[3] = {0, 0, 0}, u[3];
  fl_field_eval(f, 1, z, 0, u);
  assert_true(u[0] == C && u[1] == A && u[2] == B);
  check_jac_fd(f, -4, 4, 0, 1e-8);
  for (int i = 0; i < NPTS; i++) {
    double p[3] = {urand(-4, 4), urand(-4, 4), urand(-4, 4)}, J[9], w[3], wfd[3], Jfd[9];
    int exact;
    f->ops->jac(f, 1, p, 0, J);
    assert_true(fabs(J[0] + J[4] + J[8]) == 0);
    fl_field_eval(f, 1, p, 0, u);
    /* Beltrami: curl u = u, from the exact Jacobian and from differences */
    assert_int_equal(fl_field_curl(f, 1, p, 0, w, &exact), FL_OK);
    assert_close_vec(w, u, 3, 1e-15, "curl u = u (exact)");
    fd_jac(f, p, 0, Jfd);
    wfd[0] = Jfd[7] - Jfd[5];
    wfd[1] = Jfd[2] - Jfd[6];
    wfd[2] = Jfd[3] - Jfd[1];
    assert_close_vec(wfd, u, 3, 1e-8, "curl u = u (differences)");
  }
  check_batch(f);
  fl_field_release(f);
  assert_int_equal(fl_analytic_abc(1, NAN, 1, &f), FL_EINVAL);
  assert_null(f);
}

/* ------------------------------------------------------------ gauge */

/* A non-Gaussian score s = grad log p, p ∝ exp(-(x^4 + y^4)/4 - x y/2),
 * s = -(x^3 + y/2, y^3 + x/2), with or without an exact Jacobian; and a
 * time-dependent one s = -x/(1 + t). Written here, independent of the lib. */
static fl_status quartic_eval(fl_field *f, size_t n, const double *x, double t, double *out)
{
  (void)f;
  (void)t;
  for (size_t i = 0; i < n; i++) {
    double X = x[2 * i], Y = x[2 * i + 1];
    out[2 * i] = -(X * X * X + 0.5 * Y);
    out[2 * i + 1] = -(Y * Y * Y + 0.5 * X);
  }
  return FL_OK;
}
static fl_status quartic_jac(fl_field *f, size_t n, const double *x, double t, double *J)
{
  (void)f;
  (void)t;
  for (size_t i = 0; i < n; i++) {
    double X = x[2 * i], Y = x[2 * i + 1];
    J[4 * i] = -3 * X * X;
    J[4 * i + 1] = -0.5;
    J[4 * i + 2] = -0.5;
    J[4 * i + 3] = -3 * Y * Y;
  }
  return FL_OK;
}
static const fl_field_ops quartic_ops = {"test", quartic_eval, quartic_jac, NULL, NULL, NULL, NULL};
static const fl_field_ops quartic_ops_nojac = {"test", quartic_eval, NULL, NULL, NULL, NULL, NULL};

static fl_status tdep_eval(fl_field *f, size_t n, const double *x, double t, double *out)
{
  for (size_t k = 0; k < n * (size_t)f->dim; k++) out[k] = -x[k] / (1 + t);
  return FL_OK;
}
static const fl_field_ops tdep_ops = {"test", tdep_eval, NULL, NULL, NULL, NULL, NULL};

static fl_status failing_eval(fl_field *f, size_t n, const double *x, double t, double *out)
{
  (void)f, (void)n, (void)x, (void)t, (void)out;
  return fl_fail(FL_ECALLBACK, "the callback failed");
}
static const fl_field_ops failing_ops = {"test", failing_eval, NULL, NULL, NULL, NULL, NULL};

static void test_gauge_gaussian(void **state)
{
  (void)state;
  /* s = -x/c: the score of N(0, c I), as a linear field */
  const double c = 0.8, a = 1.3;
  const double S[4] = {-1 / c, 0, 0, -1 / c}, A[4] = {0, -a, a, 0};
  fl_field *s, *r;
  assert_int_equal(fl_analytic_linear(2, 2, S, NULL, &s), FL_OK);
  assert_int_equal(fl_analytic_gauge(2, A, s, &r), FL_OK);
  fl_field_release(s); /* r holds its own reference */
  assert_string_equal(r->ops->kind, "gauge");
  assert_int_equal(r->time_dependent, 0);
  assert_int_equal(r->thread_safe, 1);
  for (int i = 0; i < NPTS; i++) {
    double x[2] = {urand(-3, 3), urand(-3, 3)}, u[2], dv, w;
    int exact = 0;
    fl_field_eval(r, 1, x, 0, u);
    double want[2] = {a * x[1] / c, -a * x[0] / c}; /* a (y/c, -x/c), reference V5 */
    assert_close_vec(u, want, 2, 1e-15, "r = A s");
    assert_int_equal(fl_field_div(r, 1, x, 0, &dv, &exact), FL_OK);
    assert_int_equal(exact, 1);
    double rs = u[0] * (-x[0] / c) + u[1] * (-x[1] / c);
    assert_rel(dv + rs, 0, 1e-14);
    assert_int_equal(fl_field_curl(r, 1, x, 0, &w, &exact), FL_OK);
    assert_rel(w, -2 * a / c, 1e-14);
  }
  /* circulation around a circle of radius rho: -2 pi a rho^2 / c (V5) */
  double rho = 1.7;
  assert_rel(circulation(r, (double[]){0, 0}, rho, 16), -2 * M_PI * a * rho * rho / c, 1e-13);
  check_jac_fd(r, -3, 3, 0, 1e-8);
  check_batch(r);
  fl_field_release(r);

  /* 3-D, a random skew A: div r + r.s = 0 (s symmetric Jacobian) */
  double A3[9] = {0, 0.3, -1.1, -0.3, 0, 0.7, 1.1, -0.7, 0}, S3[9] = {-2, 0, 0, 0, -0.5, 0, 0, 0, -1};
  assert_int_equal(fl_analytic_linear(3, 3, S3, NULL, &s), FL_OK);
  assert_int_equal(fl_analytic_gauge(3, A3, s, &r), FL_OK);
  for (int i = 0; i < NPTS; i++) {
    double x[3] = {urand(-2, 2), urand(-2, 2), urand(-2, 2)}, u[3], sv[3], dv;
    int exact;
    fl_field_eval(r, 1, x, 0, u);
    fl_field_eval(s, 1, x, 0, sv);
    fl_field_div(r, 1, x, 0, &dv, &exact);
    assert_rel(dv + u[0] * sv[0] + u[1] * sv[1] + u[2] * sv[2], 0, 1e-14);
  }
  fl_field_release(r);
  fl_field_release(s);
}

static void test_gauge_general(void **state)
{
  (void)state;
  const double a = 0.9, A[4] = {0, -a, a, 0};
  fl_field *s, *r;
  assert_int_equal(fl_field_new(&quartic_ops, 2, 2, 0, 1, NULL, &s), FL_OK);
  assert_int_equal(fl_analytic_gauge(2, A, s, &r), FL_OK);
  check_jac_fd(r, -2, 2, 0, 1e-8);
  for (int i = 0; i < NPTS; i++) {
    double x[2] = {urand(-2, 2), urand(-2, 2)}, u[2], sv[2], dv, w;
    int exact;
    fl_field_eval(r, 1, x, 0, u);
    fl_field_eval(s, 1, x, 0, sv);
    assert_int_equal(fl_field_div(r, 1, x, 0, &dv, &exact), FL_OK);
    assert_int_equal(exact, 1);
    /* div r = a (d_y s_x - d_x s_y) = 0 here (s is a gradient), and r.s = 0 */
    assert_rel(dv + u[0] * sv[0] + u[1] * sv[1], 0, 1e-13);
    /* curl r = a Lap log p = a (-3x^2 - 3y^2) */
    assert_int_equal(fl_field_curl(r, 1, x, 0, &w, &exact), FL_OK);
    assert_rel(w, -3 * a * (x[0] * x[0] + x[1] * x[1]), 1e-13);
  }
  fl_field_release(r);
  fl_field_release(s);

  /* without an exact score Jacobian the gauge field offers none: differenced, said so */
  assert_int_equal(fl_field_new(&quartic_ops_nojac, 2, 2, 0, 1, NULL, &s), FL_OK);
  assert_int_equal(fl_analytic_gauge(2, A, s, &r), FL_OK);
  assert_null(r->ops->jac);
  double x[2] = {0.4, -1.2}, J[4], Jfd[4];
  int exact = 1;
  assert_int_equal(fl_field_jacobian(r, 1, x, 0, J, &exact), FL_OK);
  assert_int_equal(exact, 0);
  fd_jac(r, x, 0, Jfd);
  assert_close_vec(J, Jfd, 4, 1e-7, "differenced gauge Jacobian");
  fl_field_release(r);
  fl_field_release(s);

  /* time dependence and thread safety follow the score field */
  assert_int_equal(fl_field_new(&tdep_ops, 2, 2, 1, 0, NULL, &s), FL_OK);
  assert_int_equal(fl_analytic_gauge(2, A, s, &r), FL_OK);
  assert_int_equal(r->time_dependent, 1);
  assert_int_equal(r->thread_safe, 0);
  double u[2];
  fl_field_eval(r, 1, x, 1.5, u);
  assert_rel(u[0], a * x[1] / 2.5, 1e-15);
  assert_rel(u[1], -a * x[0] / 2.5, 1e-15);
  fl_field_release(r);
  fl_field_release(s);

  /* a failing score propagates its status and message */
  assert_int_equal(fl_field_new(&failing_ops, 2, 2, 0, 1, NULL, &s), FL_OK);
  assert_int_equal(fl_analytic_gauge(2, A, s, &r), FL_OK);
  assert_int_equal(fl_field_eval(r, 1, x, 0, u), FL_ECALLBACK);
  assert_string_equal(fl_last_detail(), "the callback failed");
  fl_field_release(r);

  /* validation: skewness, shapes; near-skew within 1e-12 is accepted */
  const double notskew[4] = {0, 1, 1, 0}, diag[4] = {1e-9, -1, 1, 0}, almost[4] = {0, -1, 1 + 1e-14, 0};
  assert_int_equal(fl_analytic_gauge(2, notskew, s, &r), FL_EINVAL);
  assert_null(r);
  assert_non_null(strstr(fl_last_detail(), "skew"));
  assert_int_equal(fl_analytic_gauge(2, diag, s, &r), FL_EINVAL);
  assert_int_equal(fl_analytic_gauge(2, almost, s, &r), FL_OK);
  fl_field_release(r);
  assert_int_equal(fl_analytic_gauge(3, (double[9]){0}, s, &r), FL_EDIM);
  assert_null(r);
  fl_field_release(s);
  const double M[6] = {1, 0, 0, 0, 1, 0};
  assert_int_equal(fl_analytic_linear(2, 3, M, NULL, &s), FL_OK);
  assert_int_equal(fl_analytic_gauge(3, (double[9]){0}, s, &r), FL_EDIM);
  fl_field_release(s);
}

/* ------------------------------------------------------------ potentials */

/* Value, gradient, Hessian and Laplacian of the scalar field f at the one
 * point z, straight from its ops (no finite-difference fallback). */
static void ops_at(fl_field *f, const double *z, double *phi, double *g, double *H, double *lap)
{
  f->ops->eval(f, 1, z, 0, phi);
  f->ops->jac(f, 1, z, 0, g);
  f->ops->hess(f, 1, z, 0, H);
  f->ops->lap(f, 1, z, 0, lap);
}

static fl_field *pot(fl_potential_kind k, int dim, double G, double M, double s)
{
  fl_field *f;
  assert_int_equal(fl_analytic_potential(k, dim, G, M, s, &f), FL_OK);
  return f;
}

/* r dPhi/dr at radius r along a random direction, from the exact gradient. */
static double r_dphi(fl_field *f, double r)
{
  double x[16] = {0}, g[16], nrm = 0, s = 0;
  int d = f->dim;
  for (int k = 0; k < d; k++) {
    x[k] = urand(-1, 1);
    nrm += x[k] * x[k];
  }
  for (int k = 0; k < d; k++) x[k] *= r / sqrt(nrm);
  assert_int_equal(f->ops->jac(f, 1, x, 0, g), FL_OK);
  for (int k = 0; k < d; k++) s += g[k] * x[k];
  return s;
}

static double lap_at(fl_field *f, double r)
{
  double x[3] = {0, 0, 0}, l;
  double c = urand(-1, 1), ph = urand(0, 2 * M_PI), s = sqrt(1 - c * c);
  x[0] = r * s * cos(ph);
  x[1] = r * s * sin(ph);
  x[2] = r * c;
  assert_int_equal(f->ops->lap(f, 1, x, 0, &l), FL_OK);
  return l;
}

static void test_potential_derivatives(void **state)
{
  (void)state;
  const fl_potential_kind kinds[4] = {FL_POT_PLUMMER, FL_POT_HERNQUIST, FL_POT_ISOCHRONE, FL_POT_NFW};
  const char *names[4] = {"plummer", "hernquist", "isochrone", "nfw"};
  for (int k = 0; k < 4; k++) {
    fl_field *f = pot(kinds[k], 3, 1.3, 2.1, 0.7);
    assert_string_equal(f->ops->kind, names[k]);
    assert_int_equal(f->codim, 1);
    /* radii on both sides of the NFW series switch u = 0.5, and far out */
    check_scalar_fd(f, 0.05, 3, 1e-6);
    check_scalar_fd(f, 0.3, 0.4, 1e-6);
    check_scalar_fd(f, 5, 50, 1e-6);
    check_batch(f);
    fl_field_release(f);
    /* any dimension: the radial formulas with (d - 1) Phi'/r + Phi'' */
    for (int d = 1; d <= 5; d += 2) {
      f = pot(kinds[k], d, 1, 1, 1.3);
      check_scalar_fd(f, 0.1, 4, 1e-6);
      fl_field_release(f);
    }
  }
}

static void test_potential_physics(void **state)
{
  (void)state;
  const double G = 1.3, M = 2.1;
  /* Poisson: Lap Phi = 4 pi G rho */
  const double b = 0.7;
  fl_field *f = pot(FL_POT_PLUMMER, 3, G, M, b);
  for (int i = 0; i < NPTS; i++) {
    double r = urand(0, 5);
    double rho = 3 * M / (4 * M_PI * b * b * b) * pow(1 + r * r / (b * b), -2.5);
    assert_rel(lap_at(f, r), 4 * M_PI * G * rho, 1e-13);
    /* v_c^2 = r dPhi/dr = G M r^2 / (r^2 + b^2)^(3/2) */
    assert_rel(r_dphi(f, r), G * M * r * r / pow(r * r + b * b, 1.5), 1e-14);
  }
  fl_field_release(f);

  const double a = 0.9;
  f = pot(FL_POT_HERNQUIST, 3, G, M, a);
  for (int i = 0; i < NPTS; i++) {
    double r = urand(1e-3, 5);
    double rho = M * a / (2 * M_PI * r * pow(r + a, 3));
    assert_rel(lap_at(f, r), 4 * M_PI * G * rho, 1e-12);
    assert_rel(r_dphi(f, r), G * M * r / ((r + a) * (r + a)), 1e-14);
  }
  fl_field_release(f);

  f = pot(FL_POT_ISOCHRONE, 3, G, M, b);
  for (int i = 0; i < NPTS; i++) {
    double r = urand(0, 5), s = sqrt(r * r + b * b);
    assert_rel(r_dphi(f, r), G * M * r * r / ((b + s) * (b + s) * s), 1e-14);
    /* isochrone density (Binney & Tremaine 2.49) */
    double rho = M * (3 * (b + s) * s * s - r * r * (b + 3 * s)) / (4 * M_PI * pow(b + s, 3) * pow(s, 3));
    assert_rel(lap_at(f, r), 4 * M_PI * G * rho, 1e-13);
  }
  fl_field_release(f);

  /* NFW: r^2 dPhi/dr / G = M(r) = M (ln(1 + r/rs) - r/(r + rs)); rho = rho0/((r/rs)(1+r/rs)^2) */
  const double rs = 1.6, rho0 = M / (4 * M_PI * rs * rs * rs);
  f = pot(FL_POT_NFW, 3, G, M, rs);
  for (int i = 0; i < NPTS; i++) {
    double r = i < NPTS / 2 ? urand(1e-4, 1) : urand(1, 100), u = r / rs;
    assert_rel(r_dphi(f, r) * r / G, M * (log1p(u) - u / (1 + u)), 1e-13);
    assert_rel(lap_at(f, r), 4 * M_PI * G * rho0 / (u * (1 + u) * (1 + u)), 1e-12);
  }
  fl_field_release(f);

  /* far field: grad Phi -> G M x / r^3 for the finite-mass models */
  const fl_potential_kind fin[3] = {FL_POT_PLUMMER, FL_POT_HERNQUIST, FL_POT_ISOCHRONE};
  for (int k = 0; k < 3; k++) {
    f = pot(fin[k], 3, G, M, 0.5);
    double x[3] = {3e7, -4e7, 1.2e8}, g[3], r = 1.3e8;
    f->ops->jac(f, 1, x, 0, g);
    double want[3] = {G * M * x[0] / (r * r * r), G * M * x[1] / (r * r * r), G * M * x[2] / (r * r * r)};
    assert_close_vec(g, want, 3, 2e-8, "far-field gradient"); /* relative corrections O(a/r) = 4e-9 */
    fl_field_release(f);
  }
}

static void test_potential_origin(void **state)
{
  (void)state;
  const double G = 1.1, M = 3, s = 0.8, GM = G * M;
  const double z[3] = {0, 0, 0};
  double phi, g[3], H[9], lap;
  /* smooth cores: Phi(0), zero gradient, isotropic Hessian g I */
  struct { fl_potential_kind k; double phi0, h0; } smooth[2] = {
      {FL_POT_PLUMMER, -GM / s, GM / (s * s * s)},
      {FL_POT_ISOCHRONE, -GM / (2 * s), GM / (4 * s * s * s)},
  };
  for (int i = 0; i < 2; i++) {
    fl_field *f = pot(smooth[i].k, 3, G, M, s);
    ops_at(f, z, &phi, g, H, &lap);
    assert_rel(phi, smooth[i].phi0, 1e-15);
    assert_true(g[0] == 0 && g[1] == 0 && g[2] == 0);
    double Hw[9] = {smooth[i].h0, 0, 0, 0, smooth[i].h0, 0, 0, 0, smooth[i].h0};
    assert_close_vec(H, Hw, 9, 1e-15, "Hessian at 0");
    assert_rel(lap, 3 * smooth[i].h0, 1e-15);
    fl_field_release(f);
  }
  /* cusps: finite Phi(0), gradient 0 at 0 and of magnitude Phi'(0+) just off it,
   * infinite Laplacian (rho ~ 1/r), no NaN anywhere */
  struct { fl_potential_kind k; double phi0, dphi0; } cusp[2] = {
      {FL_POT_HERNQUIST, -GM / s, GM / (s * s)},
      {FL_POT_NFW, -GM / s, GM / (2 * s * s)},
  };
  for (int i = 0; i < 2; i++) {
    fl_field *f = pot(cusp[i].k, 3, G, M, s);
    ops_at(f, z, &phi, g, H, &lap);
    assert_rel(phi, cusp[i].phi0, 1e-15);
    assert_true(g[0] == 0 && g[1] == 0 && g[2] == 0);
    for (int k = 0; k < 9; k++) assert_false(isnan(H[k]));
    assert_true(isinf(H[0]) && H[0] > 0 && H[1] == 0);
    assert_true(isinf(lap) && lap > 0);
    double x[3] = {1e-12, 0, 0};
    f->ops->jac(f, 1, x, 0, g);
    assert_rel(g[0], cusp[i].dphi0, 1e-10);
    f->ops->eval(f, 1, x, 0, &phi);
    assert_rel(phi, cusp[i].phi0, 1e-11);
    f->ops->hess(f, 1, x, 0, H);
    f->ops->lap(f, 1, x, 0, &lap);
    for (int k = 0; k < 9; k++) assert_true(isfinite(H[k]));
    assert_true(isfinite(lap) && lap > 0);
    fl_field_release(f);
  }
  /* 1-D cusp: Laplacian +inf, not NaN */
  fl_field *f = pot(FL_POT_NFW, 1, 1, 1, 1);
  f->ops->lap(f, 1, z, 0, &lap);
  assert_true(isinf(lap) && lap > 0);
  fl_field_release(f);
}

static void test_harmonic(void **state)
{
  (void)state;
  const double w[3] = {1, 2, 0.5};
  fl_field *f;
  assert_int_equal(fl_analytic_harmonic(3, w, &f), FL_OK);
  assert_string_equal(f->ops->kind, "harmonic");
  double x[3] = {1, -1, 2}, phi, lap;
  f->ops->eval(f, 1, x, 0, &phi);
  assert_true(phi == 0.5 * (1 + 4 + 0.25 * 4));
  f->ops->lap(f, 1, x, 0, &lap);
  assert_true(lap == 1 + 4 + 0.25);
  check_scalar_fd(f, 0, 5, 1e-6);
  check_batch(f);
  fl_field_release(f);
  const double bad[2] = {1, 0};
  assert_int_equal(fl_analytic_harmonic(2, bad, &f), FL_EINVAL);
  assert_null(f);
  assert_int_equal(fl_analytic_harmonic(0, w, &f), FL_EINVAL);
}

static void test_potential_validation(void **state)
{
  (void)state;
  fl_field *f;
  assert_int_equal(fl_analytic_potential(FL_POT_PLUMMER, 3, 1, 0, 1, &f), FL_EINVAL);
  assert_null(f);
  assert_non_null(strstr(fl_last_detail(), "mass"));
  assert_int_equal(fl_analytic_potential(FL_POT_HERNQUIST, 3, 1, 1, -1, &f), FL_EINVAL);
  assert_non_null(strstr(fl_last_detail(), "scale radius a"));
  assert_int_equal(fl_analytic_potential(FL_POT_NFW, 3, 1, 1, 1, &f), FL_OK);
  fl_field_release(f);
  assert_int_equal(fl_analytic_potential(FL_POT_NFW, 3, 0, 1, 1, &f), FL_EINVAL);
  assert_int_equal(fl_analytic_potential(FL_POT_NFW, 3, 1, INFINITY, 1, &f), FL_EINVAL);
  assert_int_equal(fl_analytic_potential(FL_POT_ISOCHRONE, 0, 1, 1, 1, &f), FL_EINVAL);
  assert_int_equal(fl_analytic_potential((fl_potential_kind)99, 3, 1, 1, 1, &f), FL_EINVAL);
  assert_null(f);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      T(test_linear),
      T(test_rotation_shear),
      T(test_point_vortex),
      T(test_lamb_oseen),
      T(test_taylor_green),
      T(test_abc),
      T(test_gauge_gaussian),
      T(test_gauge_general),
      T(test_potential_derivatives),
      T(test_potential_physics),
      T(test_potential_origin),
      T(test_harmonic),
      T(test_potential_validation),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
