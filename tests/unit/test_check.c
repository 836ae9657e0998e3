/* Unit tests of lib/fl_check: Jacobian asymmetry (exact, sub-block,
 * probes), circulation (V5 closed form, small-loop limit, spectral decay on
 * a gradient field, its floor), path independence (half-disc area law),
 * Gauss-Legendre, statistics, NaN handling and bad input. */
#include "config.h"
#include "fl_check.h"
#include "fl_field.h"
#include "fl_analytic.h"
#include "fl_test.h"

/* v = A x (2-D or 3-D), exact Jacobian */
static fl_field *linear(int d, const double *A)
{
  fl_field *f;
  assert_ok(fl_analytic_linear(d, d, A, NULL, &f));
  return f;
}

/* the Plummer gradient in 3-D: an exact gradient field with exact (symmetric) Jacobian */
static fl_field *plummer_grad(int d)
{
  fl_field *phi, *g;
  assert_ok(fl_analytic_potential(FL_POT_PLUMMER, d, 1, 1, 1, &phi));
  assert_ok(fl_field_gradient(phi, &g));
  fl_field_release(phi);
  return g;
}

static void test_jacobian_linear(void **s)
{
  (void)s;
  /* A = S + K, S symmetric, K skew: |A - A^T|^2 = 4 |K|^2 */
  const double A[9] = {1, 2 + 0.3, 0 - 0.5, 2 - 0.3, -1, 4 + 0.7, 0 + 0.5, 4 - 0.7, 3};
  fl_field *f = linear(3, A);
  double x[6] = {0.1, 0.2, 0.3, -1, 2, 5}, asym[2], nasym[2], j2[2];
  int exact = 0;
  assert_ok(fl_check_jacobian(f, 2, x, 0, 0, NULL, asym, nasym, j2, &exact));
  assert_true(exact);
  double k2 = 2 * (0.3 * 0.3 + 0.5 * 0.5 + 0.7 * 0.7), a2 = 0;
  for (int i = 0; i < 9; i++) a2 += A[i] * A[i];
  for (int i = 0; i < 2; i++) {
    assert_near(asym[i], 0.5 * 4 * k2, 1e-14);
    assert_near(j2[i], a2, 1e-13);
    assert_near(nasym[i], 4 * k2 / (4 * a2), 1e-15);
  }
  /* sub-block on coordinates {3, 1} (0-based 2, 0): K entry 0.5 */
  int S[2] = {2, 0};
  assert_ok(fl_check_jacobian(f, 1, x, 0, 2, S, asym, nasym, j2, NULL));
  assert_near(asym[0], 0.5 * 2 * 1.0 * 1.0, 1e-14);
  assert_near(j2[0], 1 + 9 + 0.5 * 0.5 * 2, 1e-14);
  /* bad sub-blocks */
  int bad[2] = {0, 0}, out[1] = {3};
  assert_fails_with(fl_check_jacobian(f, 1, x, 0, 2, bad, asym, nasym, NULL, NULL), FL_EINVAL, "twice");
  assert_fails_with(fl_check_jacobian(f, 1, x, 0, 1, out, asym, nasym, NULL, NULL), FL_ERANGE, "out of range");
  fl_field_release(f);
}

static void test_jacobian_gradient_exact(void **s)
{
  (void)s;
  fl_field *g = plummer_grad(3);
  enum { N = 200 };
  double x[3 * N], asym[N], nasym[N];
  for (int i = 0; i < 3 * N; i++) x[i] = fl_test_uniform((uint64_t)i, -3, 3);
  int exact = 0;
  assert_ok(fl_check_jacobian(g, N, x, 0, 0, NULL, asym, nasym, NULL, &exact));
  assert_true(exact);
  for (int i = 0; i < N; i++) assert_true(nasym[i] <= 1e-12);
  fl_field_release(g);
}

/* The probe estimator is unbiased: on a linear field (differences exact to
 * rounding) its mean over many probes matches Asym within a few standard errors. */
static void test_jacobian_probes(void **s)
{
  (void)s;
  const double A[4] = {1, -2, 0.5, 3}; /* skew part 1.25 */
  fl_field *f = linear(2, A);
  double x[2] = {0.3, -0.4}, asym, nasym, se, ex, exn;
  assert_ok(fl_check_jacobian_probes(f, 1, x, 0, 20000, 7, 0, &asym, &nasym, &se));
  assert_ok(fl_check_jacobian(f, 1, x, 0, 0, NULL, &ex, &exn, NULL, NULL));
  assert_near(ex, 0.5 * 2 * 2.5 * 2.5, 1e-14);
  assert_true(se > 0 && se < 0.05 * ex);
  assert_true(fabs(asym - ex) < 4 * se);
  assert_true(fabs(nasym - exn) < 0.05 * exn);
  /* a symmetric field: every probe gives 0 up to difference rounding */
  const double Sy[4] = {2, 1, 1, -3};
  fl_field *g = linear(2, Sy);
  assert_ok(fl_check_jacobian_probes(g, 1, x, 0, 100, 7, 0, &asym, &nasym, NULL));
  assert_true(nasym < 1e-16);
  assert_fails(fl_check_jacobian_probes(g, 1, x, 0, 0, 7, 0, &asym, &nasym, NULL), FL_EINVAL);
  fl_field_release(f);
  fl_field_release(g);
}

/* V5: r = a (y/c, -x/c): Gamma = -2 pi a rho^2 / c on any circle, to rounding. */
static void test_circulation_v5(void **s)
{
  (void)s;
  const double a = 0.7, c = 2.0;
  const double A[4] = {0, a / c, -a / c, 0};
  fl_field *f = linear(2, A);
  enum { L = 5 };
  double ctr[2 * L], rho[L], u[2 * L], w[2 * L];
  double gam[L], per[L], rel[L], vm[L], hv[L], fl[L], sl[L];
  for (int l = 0; l < L; l++) {
    ctr[2 * l] = fl_test_uniform(2 * (uint64_t)l, -2, 2);
    ctr[2 * l + 1] = fl_test_uniform(2 * (uint64_t)l + 1, -2, 2);
    rho[l] = 0.1 + 0.5 * l;
    u[2 * l] = 1, u[2 * l + 1] = 0, w[2 * l] = 0, w[2 * l + 1] = 1;
  }
  fl_check_circ_out out = {gam, per, rel, vm, hv, fl, sl};
  int exact = 0;
  assert_ok(fl_check_circulation(f, L, ctr, rho, u, w, 64, 0, &out, &exact));
  assert_true(exact);
  for (int l = 0; l < L; l++) {
    double G = -2 * M_PI * a * rho[l] * rho[l] / c;
    assert_true(fabs(gam[l] - G) <= 1e-10 * fabs(G));
    assert_near(per[l], -2 * a / c, 1e-12);
    assert_near(sl[l], -2 * a / c, 1e-15); /* w^T (J - J^T) u */
    assert_true(hv[l] < 1e-14);           /* the 32-node rule agrees */
    assert_true(fl[l] < 1e-14);           /* reference floor */
    assert_near(rel[l] * 2 * M_PI * rho[l] * vm[l], gam[l], 1e-14);
  }
  /* a reversed plane (u, w) -> (w, u) flips the sign */
  for (int l = 0; l < L; l++) u[2 * l] = 0, u[2 * l + 1] = 1, w[2 * l] = 1, w[2 * l + 1] = 0;
  assert_ok(fl_check_circulation(f, L, ctr, rho, u, w, 64, 0, &out, NULL));
  assert_near(per[0], 2 * a / c, 1e-12);
  fl_field_release(f);
}

/* On an exact gradient field the circulation decays spectrally with the
 * number of nodes down to rounding, and the floor is of the same size. */
static void test_circulation_gradient_spectral(void **s)
{
  (void)s;
  fl_field *g = plummer_grad(3);
  enum { L = 40 };
  double ctr[3 * L], rho[L], u[3 * L], w[3 * L], gam[L], rel[L], fl[L], hv[L];
  for (int i = 0; i < 3 * L; i++) ctr[i] = fl_test_uniform((uint64_t)i + 100, -1.5, 1.5);
  for (int l = 0; l < L; l++) rho[l] = 1.0;
  assert_ok(fl_check_random_planes(3, L, 3, 0, u, w));
  for (int l = 0; l < L; l++) { /* orthonormal */
    double uu = 0, ww = 0, uw = 0;
    for (int a = 0; a < 3; a++) uu += u[3 * l + a] * u[3 * l + a], ww += w[3 * l + a] * w[3 * l + a], uw += u[3 * l + a] * w[3 * l + a];
    assert_near(uu, 1, 1e-15);
    assert_near(ww, 1, 1e-15);
    assert_near(uw, 0, 1e-15);
  }
  fl_check_circ_out out = {gam, NULL, rel, NULL, hv, fl, NULL};
  double prev = INFINITY;
  const int Ms[5] = {4, 8, 16, 32, 64};
  double err[5];
  for (int j = 0; j < 5; j++) {
    assert_ok(fl_check_circulation(g, L, ctr, rho, u, w, Ms[j], 0, &out, NULL));
    double mx = 0;
    for (int l = 0; l < L; l++) mx = fmax(mx, fabs(rel[l]));
    err[j] = mx;
    if (j < 3) assert_true(mx < prev / 10 || mx < 1e-14); /* at least 10x per doubling */
    prev = mx;
  }
  assert_true(err[0] > 1e-4);  /* 4 nodes do not resolve the field: the test can fail */
  assert_true(err[4] < 1e-14); /* 64 nodes: rounding */
  for (int l = 0; l < L; l++) assert_true(fl[l] < 1e-14);
  fl_field_release(g);
}

static void test_gauss_legendre(void **s)
{
  (void)s;
  double x[256], w[256];
  const int ns[5] = {1, 2, 7, 32, 256};
  for (int j = 0; j < 5; j++) {
    int n = ns[j];
    assert_ok(fl_check_gauss_legendre(n, x, w));
    for (int p = 0; p <= 2 * n - 1 && p <= 40; p++) {
      double sum = 0;
      for (int i = 0; i < n; i++) sum += w[i] * pow(x[i], p);
      assert_near(sum, p % 2 ? 0.0 : 2.0 / (p + 1), 2e-14);
    }
  }
  assert_ok(fl_check_gauss_legendre(2, x, w));
  assert_near(x[1], 1 / sqrt(3.0), 2.3e-16);
  assert_fails(fl_check_gauss_legendre(0, x, w), FL_EINVAL);
  assert_fails(fl_check_gauss_legendre(257, x, w), FL_EINVAL);
}

/* Segment minus arc around the half disc on [a, b]: omega pi R^2 for the
 * rotation omega (-y, x) (vorticity 2 omega), and 0 for a gradient field. */
static void test_paths(void **s)
{
  (void)s;
  const double om = 1.3, A[4] = {0, -om, om, 0};
  fl_field *f = linear(2, A);
  double a[4] = {-1, 0, 0.5, 0.5}, b[4] = {1, 0, 0.5, 2.5}, w[4] = {0, 1, -1, 0};
  double i1[2], i2[2], diff[2], rel[2], vm[2], fl[2];
  fl_check_path seg = {FL_PATH_SEGMENT, 0, NULL}, arc = {FL_PATH_ARC, 0, NULL};
  double hv[2];
  fl_check_path_out out = {i1, i2, diff, rel, vm, fl, hv};
  assert_ok(fl_check_paths(f, 2, a, b, w, &seg, &arc, 16, 0, &out));
  assert_near(diff[0], om * M_PI * 1.0, 1e-13);
  assert_near(diff[1], om * M_PI * 1.0, 1e-13);
  assert_true(fl[0] < 1e-14 && fl[1] < 1e-14);
  assert_true(hv[0] < 1e-14 && hv[1] < 1e-14); /* 8 points integrate the quadratic integrand exactly too */
  /* a polyline: the triangle a -> (0, 1) -> b encloses area 1 */
  double vert[4] = {0, 1, 0, 0};
  fl_check_path poly = {FL_PATH_POLYLINE, 1, vert};
  assert_ok(fl_check_paths(f, 1, a, b, w, &seg, &poly, 4, 0, &out));
  assert_near(diff[0], 2 * om * 1.0, 1e-13);
  /* a gradient field: path independent to rounding with 32 nodes */
  fl_field *g = plummer_grad(2);
  assert_ok(fl_check_paths(g, 2, a, b, w, &seg, &arc, 32, 0, &out));
  assert_true(fabs(rel[0]) < 1e-14 && fabs(rel[1]) < 1e-14);
  /* phi(b) - phi(a) = 1/sqrt(1 + 0.5^2 + 0.5^2) - 1/sqrt(1 + 0.5^2 + 2.5^2) */
  assert_near(i1[1], 1 / sqrt(1.5) - 1 / sqrt(7.5), 1e-14);
  assert_near(i2[1], 1 / sqrt(1.5) - 1 / sqrt(7.5), 1e-14);
  /* 4 points do not resolve the arc integral, and the halving estimate says so */
  assert_ok(fl_check_paths(g, 2, a, b, w, &seg, &arc, 4, 0, &out));
  assert_true(fabs(rel[1]) > 1e-6 && hv[1] > 0.1 * fabs(rel[1]));
  /* bad input */
  double same[2] = {-1, 0};
  assert_fails_with(fl_check_paths(f, 1, a, same, w, &seg, &arc, 16, 0, &out), FL_EINVAL, "equal");
  fl_check_path nopoly = {FL_PATH_POLYLINE, 0, NULL};
  assert_fails(fl_check_paths(f, 1, a, b, w, &seg, &nopoly, 16, 0, &out), FL_EINVAL);
  fl_field_release(f);
  fl_field_release(g);
}

/* A field whose values are NaN where x1 > 1. */
static fl_status nan_eval(fl_field *f, size_t n, const double *x, double t, double *out)
{
  (void)f, (void)t;
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = x[2 * i] > 1 ? NAN : x[2 * i];
    out[2 * i + 1] = x[2 * i + 1];
  }
  return FL_OK;
}
static const fl_field_ops nan_ops = {"nan_test", nan_eval, NULL, NULL, NULL, NULL, NULL};

static void test_nan_and_bad_input(void **s)
{
  (void)s;
  fl_field *f;
  assert_ok(fl_field_new(&nan_ops, 2, 2, 0, 1, NULL, &f));
  double ctr[4] = {0, 0, 5, 0}, rho[2] = {0.5, 0.5}, u[4] = {1, 0, 1, 0}, w[4] = {0, 1, 0, 1}, gam[2], rel[2];
  fl_check_circ_out out = {gam, NULL, rel, NULL, NULL, NULL, NULL};
  assert_ok(fl_check_circulation(f, 2, ctr, rho, u, w, 16, 0, &out, NULL));
  assert_near(gam[0], 0, 1e-15);
  assert_true(isnan(gam[1]) && isnan(rel[1]));
  double asym[2], nasym[2];
  int exact = 1;
  assert_ok(fl_check_jacobian(f, 2, ctr, 0, 0, NULL, asym, nasym, NULL, &exact));
  assert_false(exact);
  assert_near(nasym[0], 0, 1e-20);
  assert_true(isnan(nasym[1]));
  /* zero radius, degenerate planes, too few nodes, not a vector field */
  double zr[2] = {0.5, 0};
  assert_fails_with(fl_check_circulation(f, 2, ctr, zr, u, w, 16, 0, &out, NULL), FL_EINVAL, "loop 2 has radius 0");
  assert_fails(fl_check_circulation(f, 2, ctr, rho, u, w, 1, 0, &out, NULL), FL_EINVAL);
  double pu[2] = {1, 1}, pw[2] = {2, 2};
  assert_fails_with(fl_check_orthonormalise(2, 1, pu, pw), FL_EINVAL, "degenerate");
  fl_field *phi;
  assert_ok(fl_analytic_potential(FL_POT_PLUMMER, 2, 1, 1, 1, &phi));
  assert_fails_with(fl_check_circulation(phi, 1, ctr, rho, u, w, 16, 0, &out, NULL), FL_EDIM, "vector field");
  assert_fails(fl_check_jacobian(phi, 1, ctr, 0, 0, NULL, asym, nasym, NULL, NULL), FL_EDIM);
  fl_field_release(phi);
  fl_field_release(f);
}

static void test_stats(void **s)
{
  (void)s;
  double v[6] = {3, 1, NAN, 4, INFINITY, 2}, q[2] = {0.25, 1}, qo[2];
  fl_check_summary r;
  assert_ok(fl_check_stats(6, v, 2, q, qo, 200, 0.95, 1, 0, &r));
  assert_int_equal(r.n, 4);
  assert_int_equal(r.nnan, 2);
  assert_near(r.mean, 2.5, 1e-15);
  assert_near(r.sd, sqrt(5.0 / 3), 1e-15);
  assert_near(r.se, sqrt(5.0 / 3) / 2, 1e-15);
  assert_near(r.median, 2.5, 0);
  assert_near(qo[0], 1.75, 1e-15);
  assert_near(qo[1], 4, 0);
  assert_near(r.min, 1, 0);
  assert_near(r.max, 4, 0);
  assert_true(r.ci_lo >= 1 && r.ci_lo < 2.5 && r.ci_hi > 2.5 && r.ci_hi <= 4);
  /* bootstrap interval of a large normal sample ~ mean +- 1.96 se */
  enum { N = 4000 };
  static double z[N];
  for (int i = 0; i < N; i++) z[i] = 5 + sqrt(-2 * log(1 - fl_test_u01(2 * (uint64_t)i))) * cos(2 * M_PI * fl_test_u01(2 * (uint64_t)i + 1));
  assert_ok(fl_check_stats(N, z, 0, NULL, NULL, 2000, 0.95, 3, 0, &r));
  double half = (r.ci_hi - r.ci_lo) / 2;
  assert_true(fabs(half / (1.96 * r.se) - 1) < 0.1);
  assert_true(fabs(r.mean - 5) < 4 * r.se);
  assert_true(fabs(0.5 * (r.ci_hi + r.ci_lo) - r.mean) < 0.2 * r.se);
  /* nothing finite */
  double nn[2] = {NAN, NAN};
  assert_ok(fl_check_stats(2, nn, 1, q, qo, 10, 0.95, 1, 0, &r));
  assert_int_equal(r.n, 0);
  assert_int_equal(r.nnan, 2);
  assert_true(isnan(r.mean) && isnan(qo[0]));
  double bq = 1.5;
  assert_fails(fl_check_stats(2, v, 1, &bq, qo, 0, 0.95, 1, 0, &r), FL_ERANGE);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    T(test_jacobian_linear),     T(test_jacobian_gradient_exact), T(test_jacobian_probes),
    T(test_circulation_v5),      T(test_circulation_gradient_spectral), T(test_gauss_legendre),
    T(test_paths),               T(test_nan_and_bad_input),       T(test_stats),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
