/* Unit tests of lib/fl_field: finite-difference derivatives against exact
 * ones, exactness flags, and the derived fields (sum, gradient, compose,
 * project). The test fields are written here with their exact derivatives. */
#include "config.h"
#include <math.h>
#include <string.h>
#include "fl_field.h"
#include "fl_rng.h"
#include "fl_test.h"

/* Vector field on R^3: v = (sin(x) y, x z^2, exp(y) + x y z), time-scaled by (1 + t). */
static fl_status v_eval(fl_field *f, size_t n, const double *x, double t, double *o)
{
  (void)f;
  for (size_t i = 0; i < n; i++) {
    const double *p = x + 3 * i;
    double s = 1 + t;
    o[3 * i] = s * sin(p[0]) * p[1];
    o[3 * i + 1] = s * p[0] * p[2] * p[2];
    o[3 * i + 2] = s * (exp(p[1]) + p[0] * p[1] * p[2]);
  }
  return FL_OK;
}

static fl_status v_jac(fl_field *f, size_t n, const double *x, double t, double *J)
{
  (void)f;
  for (size_t i = 0; i < n; i++) {
    const double *p = x + 3 * i;
    double s = 1 + t, *j = J + 9 * i;
    j[0] = s * cos(p[0]) * p[1]; j[1] = s * sin(p[0]); j[2] = 0;
    j[3] = s * p[2] * p[2]; j[4] = 0; j[5] = s * 2 * p[0] * p[2];
    j[6] = s * p[1] * p[2]; j[7] = s * (exp(p[1]) + p[0] * p[2]); j[8] = s * p[0] * p[1];
  }
  return FL_OK;
}

static const fl_field_ops v_exact = {.kind = "test", .eval = v_eval, .jac = v_jac};
static const fl_field_ops v_plain = {.kind = "test", .eval = v_eval};

/* Scalar field on R^2: phi = exp(-x^2/2) cos(y) + x^3 y. */
static fl_status s_eval(fl_field *f, size_t n, const double *x, double t, double *o)
{
  (void)f; (void)t;
  for (size_t i = 0; i < n; i++) {
    double a = x[2 * i], b = x[2 * i + 1];
    o[i] = exp(-a * a / 2) * cos(b) + a * a * a * b;
  }
  return FL_OK;
}

static void s_exact_derivs(double a, double b, double g[2], double H[4])
{
  double e = exp(-a * a / 2);
  g[0] = -a * e * cos(b) + 3 * a * a * b;
  g[1] = -e * sin(b) + a * a * a;
  H[0] = (a * a - 1) * e * cos(b) + 6 * a * b;
  H[1] = H[2] = a * e * sin(b) + 3 * a * a;
  H[3] = -e * cos(b);
}

static fl_status s_jac(fl_field *f, size_t n, const double *x, double t, double *J)
{
  (void)f; (void)t;
  double H[4];
  for (size_t i = 0; i < n; i++) s_exact_derivs(x[2 * i], x[2 * i + 1], J + 2 * i, H);
  return FL_OK;
}

static fl_status s_hess(fl_field *f, size_t n, const double *x, double t, double *H)
{
  (void)f; (void)t;
  double g[2];
  for (size_t i = 0; i < n; i++) s_exact_derivs(x[2 * i], x[2 * i + 1], g, H + 4 * i);
  return FL_OK;
}

static const fl_field_ops s_plain = {.kind = "test", .eval = s_eval};
static const fl_field_ops s_full = {.kind = "test", .eval = s_eval, .jac = s_jac, .hess = s_hess};
static const fl_field_ops s_gradonly = {.kind = "test", .eval = s_eval, .jac = s_jac};

static fl_field *make(const fl_field_ops *ops, int d, int m)
{
  fl_field *f;
  assert_int_equal(fl_field_new(ops, d, m, 1, 1, NULL, &f), FL_OK);
  return f;
}

static void points(size_t n, int d, double *x, uint64_t seed)
{
  fl_rng_fill_normal(seed, 0, 0, n * (size_t)d, x);
}

static double relerr(double a, double b) { return fabs(a - b) / fmax(1.0, fabs(b)); }

static void test_fd_jacobian_matches_exact(void **state)
{
  (void)state;
  enum { N = 200 };
  double x[N * 3], J1[N * 9], J2[N * 9];
  points(N, 3, x, 1);
  fl_field *fe = make(&v_exact, 3, 3), *fp = make(&v_plain, 3, 3);
  int ex1, ex2;
  assert_int_equal(fl_field_jacobian(fe, N, x, 0.5, J1, &ex1), FL_OK);
  assert_int_equal(fl_field_jacobian(fp, N, x, 0.5, J2, &ex2), FL_OK);
  assert_true(ex1);
  assert_false(ex2);
  double worst = 0;
  for (int i = 0; i < N * 9; i++) worst = fmax(worst, relerr(J2[i], J1[i]));
  assert_true(worst < 1e-8);  /* the step rule's promise: ~1e-10 for unit-scale fields */
  assert_true(worst > 0);     /* and it really is a difference quotient */
  /* divergence and curl from either Jacobian */
  double d1[N], d2[N], c1[N * 3], c2[N * 3];
  assert_int_equal(fl_field_div(fe, N, x, 0.5, d1, &ex1), FL_OK);
  assert_int_equal(fl_field_div(fp, N, x, 0.5, d2, &ex2), FL_OK);
  assert_true(ex1 && !ex2);
  assert_int_equal(fl_field_curl(fe, N, x, 0.5, c1, &ex1), FL_OK);
  assert_int_equal(fl_field_curl(fp, N, x, 0.5, c2, &ex2), FL_OK);
  for (int i = 0; i < N; i++) {
    const double *p = x + 3 * i;
    double s = 1.5;
    double div = s * (cos(p[0]) * p[1] + 0 + p[0] * p[1]);
    assert_true(relerr(d1[i], div) < 1e-14);
    assert_true(relerr(d2[i], div) < 1e-8);
    double curl[3] = {s * (exp(p[1]) + p[0] * p[2] - 2 * p[0] * p[2]), s * (0 - p[1] * p[2]),
                      s * (p[2] * p[2] - sin(p[0]))};
    for (int k = 0; k < 3; k++) {
      assert_true(relerr(c1[3 * i + k], curl[k]) < 1e-14);
      assert_true(relerr(c2[3 * i + k], curl[k]) < 1e-8);
    }
  }
  fl_field_release(fe);
  fl_field_release(fp);
}

/* The step rule: h ~ eps^(1/3) scale, and x + h is exact. */
static void test_step_rule(void **state)
{
  (void)state;
  double xs[] = {0, 1e-8, 0.3, -2, 1e6, -3e12};
  for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
    double h1 = fl_field_fd_step(xs[i], 1), h2 = fl_field_fd_step(xs[i], 2);
    double scale = fmax(1, fabs(xs[i]));
    assert_true(fabs(h1 / scale - cbrt(2.220446049250313e-16)) < 1e-7);
    assert_true(fabs(h2 / scale - pow(2.220446049250313e-16, 0.25)) < 1e-5);
    assert_true((xs[i] + h1) - xs[i] == h1);
  }
  /* Far from the origin the step grows with |x|: d(x z^2)/dx and d(x z^2)/dz
   * at x = 1e6 stay accurate (a field varying on the scale |x|). */
  fl_field *f = make(&v_plain, 3, 3);
  double x[3] = {1e6, 1.0, 2.0}, J[9];
  assert_int_equal(fl_field_jacobian(f, 1, x, 0, J, NULL), FL_OK);
  assert_true(relerr(J[3], 4.0) < 1e-9);
  assert_true(relerr(J[5], 4e6) < 1e-9);
  fl_field_release(f);
}

static void test_hessian_and_laplacian(void **state)
{
  (void)state;
  enum { N = 100 };
  double x[N * 2], H[N * 4], L[N], g[2], He[4];
  points(N, 2, x, 2);
  const fl_field_ops *opsv[] = {&s_plain, &s_gradonly, &s_full};
  const double tol[] = {1e-6, 1e-8, 1e-14};
  for (int v = 0; v < 3; v++) {
    fl_field *f = make(opsv[v], 2, 1);
    int ex;
    assert_int_equal(fl_field_hessian(f, N, x, 0, H, &ex), FL_OK);
    assert_int_equal(ex, v == 2);
    assert_int_equal(fl_field_laplacian(f, N, x, 0, L, &ex), FL_OK);
    assert_int_equal(ex, v == 2);
    for (int i = 0; i < N; i++) {
      s_exact_derivs(x[2 * i], x[2 * i + 1], g, He);
      for (int k = 0; k < 4; k++) assert_true(relerr(H[4 * i + k], He[k]) < tol[v]);
      assert_true(relerr(L[i], He[0] + He[3]) < 2 * tol[v]);
    }
    fl_field_release(f);
  }
}

static void test_gradient_field(void **state)
{
  (void)state;
  enum { N = 50 };
  double x[N * 2], G[N * 2], J[N * 4], D[N], g[2], He[4];
  points(N, 2, x, 3);
  for (int v = 0; v < 2; v++) {
    fl_field *s = make(v ? &s_full : &s_plain, 2, 1), *gf;
    assert_int_equal(fl_field_gradient(s, &gf), FL_OK);
    assert_int_equal(gf->dim, 2);
    assert_int_equal(gf->codim, 2);
    int ex;
    assert_int_equal(fl_field_eval(gf, N, x, 0, G), FL_OK);
    assert_int_equal(fl_field_jacobian(gf, N, x, 0, J, &ex), FL_OK);
    assert_int_equal(ex, v);
    assert_int_equal(fl_field_div(gf, N, x, 0, D, &ex), FL_OK);
    assert_int_equal(ex, v);
    for (int i = 0; i < N; i++) {
      s_exact_derivs(x[2 * i], x[2 * i + 1], g, He);
      for (int k = 0; k < 2; k++) assert_true(relerr(G[2 * i + k], g[k]) < (v ? 1e-15 : 1e-8));
      for (int k = 0; k < 4; k++) assert_true(relerr(J[4 * i + k], He[k]) < (v ? 1e-15 : 1e-6));
      assert_true(relerr(D[i], He[0] + He[3]) < (v ? 1e-15 : 1e-6));
    }
    fl_field_release(gf); /* releases s's last reference after the next line */
    fl_field_release(s);
  }
  fl_field *vf = make(&v_exact, 3, 3), *bad;
  assert_int_equal(fl_field_gradient(vf, &bad), FL_EDIM);
  assert_null(bad);
  fl_field_release(vf);
}

static void test_lincomb_compose_project(void **state)
{
  (void)state;
  enum { N = 40 };
  double x[N * 3], a[N * 3], b[N * 3], J[N * 9], Je[N * 9];
  points(N, 3, x, 4);
  fl_field *fe = make(&v_exact, 3, 3), *fp = make(&v_plain, 3, 3), *sum, *mixed;
  assert_int_equal(fl_field_lincomb(2.0, fe, -0.5, fe, &sum), FL_OK);
  int ex;
  assert_int_equal(fl_field_eval(sum, N, x, 0.2, a), FL_OK);
  assert_int_equal(fl_field_eval(fe, N, x, 0.2, b), FL_OK);
  for (int i = 0; i < N * 3; i++) assert_true(relerr(a[i], 1.5 * b[i]) < 1e-15);
  assert_int_equal(fl_field_jacobian(sum, N, x, 0.2, J, &ex), FL_OK);
  assert_true(ex);
  assert_int_equal(fl_field_jacobian(fe, N, x, 0.2, Je, NULL), FL_OK);
  for (int i = 0; i < N * 9; i++) assert_true(relerr(J[i], 1.5 * Je[i]) < 1e-15);
  /* one part without an exact Jacobian: the sum has none either */
  assert_int_equal(fl_field_lincomb(1.0, fe, 1.0, fp, &mixed), FL_OK);
  assert_int_equal(fl_field_jacobian(mixed, N, x, 0.2, J, &ex), FL_OK);
  assert_false(ex);
  for (int i = 0; i < N * 9; i++) assert_true(relerr(J[i], 2 * Je[i]) < 1e-8);
  /* compose: v(v(x)), chain rule exact */
  fl_field *vv;
  assert_int_equal(fl_field_compose(fe, fe, &vv), FL_OK);
  assert_int_equal(fl_field_jacobian(vv, N, x, 0.0, J, &ex), FL_OK);
  assert_true(ex);
  fl_field *vvp;
  assert_int_equal(fl_field_compose(fp, fp, &vvp), FL_OK);
  assert_int_equal(fl_field_jacobian(vvp, N, x, 0.0, Je, &ex), FL_OK);
  assert_false(ex);
  for (int i = 0; i < N * 9; i++) assert_true(relerr(Je[i], J[i]) < 1e-7);
  /* project onto components 3, 1 */
  int comp[2] = {2, 0};
  fl_field *pr;
  assert_int_equal(fl_field_project(fe, 2, comp, &pr), FL_OK);
  assert_int_equal(fl_field_eval(pr, N, x, 0.0, a), FL_OK);
  assert_int_equal(fl_field_eval(fe, N, x, 0.0, b), FL_OK);
  for (int i = 0; i < N; i++) {
    assert_true(a[2 * i] == b[3 * i + 2]);
    assert_true(a[2 * i + 1] == b[3 * i]);
  }
  assert_int_equal(fl_field_jacobian(pr, N, x, 0.0, J, &ex), FL_OK);
  assert_true(ex);
  /* errors */
  fl_field *s2 = make(&s_plain, 2, 1), *bad;
  assert_int_equal(fl_field_lincomb(1, fe, 1, s2, &bad), FL_EDIM);
  assert_int_equal(fl_field_compose(fe, s2, &bad), FL_EDIM);
  int badc = 3;
  assert_int_equal(fl_field_project(fe, 1, &badc, &bad), FL_ERANGE);
  double c2[N];
  assert_int_equal(fl_field_curl(s2, N, x, 0, c2, NULL), FL_EDIM);
  fl_field_release(s2);
  fl_field_release(pr);
  fl_field_release(vv);
  fl_field_release(vvp);
  fl_field_release(mixed);
  fl_field_release(sum);
  fl_field_release(fp);
  fl_field_release(fe);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    T(test_fd_jacobian_matches_exact),
    T(test_step_rule),
    T(test_hessian_and_laplacian),
    T(test_gradient_field),
    T(test_lincomb_compose_project),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
