/* Unit tests of lib/fl_grid.c: grid fields, interpolation (exactness and
 * convergence orders), sampling, finite-difference and spectral derivatives
 * against closed forms. Every test checks that fl_mem_in_use() is back to its
 * starting value. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fl_core.h"
#include "fl_array.h"
#include "fl_field.h"
#include "fl_fft.h"
#include "fl_grid.h"
#include "fl_test.h"

static fl_grid_spec spec(int d, size_t n0, size_t n1, size_t n2, double lo, double hi, int periodic)
{
  fl_grid_spec s;
  memset(&s, 0, sizeof s);
  s.dim = d;
  size_t n[3] = {n0, n1, n2};
  for (int k = 0; k < d && k < FL_GRID_MAXDIM; k++) { /* d = 4 makes a bad spec */
    s.n[k] = n[k];
    s.lo[k] = lo;
    s.hi[k] = hi;
    s.periodic[k] = periodic;
  }
  return s;
}

/* A grid field with m components from a function of the node coordinates. */
typedef void (*pfn)(const double *x, double *out);
static fl_field *make_grid(const fl_grid_spec *s, int m, fl_interp interp, pfn f)
{
  fl_field *g;
  assert_ok(fl_grid_new(s, m, interp, NULL, &g));
  fl_array *pts;
  assert_ok(fl_grid_points(s, &pts));
  double *v = fl_grid_of(g)->values->data;
  for (size_t i = 0; i < pts->shape[0]; i++) f(pts->data + i * (size_t)s->dim, v + i * (size_t)m);
  fl_array_release(pts);
  return g;
}

/* Max |grid value - f(node)| over components comp0.. (m of them) */
static double max_err_nodes(fl_field *g, pfn f, int m)
{
  fl_grid *gr = fl_grid_of(g);
  fl_array *pts;
  assert_ok(fl_grid_points(&gr->s, &pts));
  double e = 0, ref[8];
  for (size_t i = 0; i < pts->shape[0]; i++) {
    f(pts->data + i * (size_t)gr->s.dim, ref);
    for (int c = 0; c < m; c++) e = fmax(e, fabs(gr->values->data[i * (size_t)m + (size_t)c] - ref[c]));
  }
  fl_array_release(pts);
  return e;
}

/* Least-squares slope of log(err) against log(h). */
static double slope(const double *h, const double *err, int k)
{
  double mx = 0, my = 0, sxy = 0, sxx = 0;
  for (int i = 0; i < k; i++) {
    mx += log(h[i]) / k;
    my += log(err[i]) / k;
  }
  for (int i = 0; i < k; i++) {
    sxy += (log(h[i]) - mx) * (log(err[i]) - my);
    sxx += (log(h[i]) - mx) * (log(h[i]) - mx);
  }
  return sxy / sxx;
}

/* ------------------------------------------------------------ geometry and errors */

static void test_spec_errors(void **state)
{
  (void)state;
  fl_field *g = (fl_field *)&g;
  fl_grid_spec s = spec(2, 8, 1, 0, 0, 1, 0);
  assert_fails_with_null(fl_grid_new(&s, 2, FL_INTERP_LINEAR, NULL, &g), FL_EINVAL, g, "at least 2");
  s = spec(2, 8, 0, 0, 0, 1, 1);
  assert_fails_with_null(fl_grid_new(&s, 2, FL_INTERP_LINEAR, NULL, &g), FL_EINVAL, g, "axis 2 has 0 nodes");
  s = spec(2, 8, 8, 0, 1, 1, 0);
  assert_fails_with_null(fl_grid_new(&s, 2, FL_INTERP_LINEAR, NULL, &g), FL_EINVAL, g, "empty");
  s = spec(2, 8, 8, 0, 0, 1, 0);
  s.hi[1] = -1;
  assert_fails_with_null(fl_grid_new(&s, 2, FL_INTERP_LINEAR, NULL, &g), FL_EINVAL, g, "axis 2");
  s.hi[1] = INFINITY;
  assert_fails_with_null(fl_grid_new(&s, 2, FL_INTERP_LINEAR, NULL, &g), FL_EINVAL, g, "not finite");
  s = spec(2, 8, 8, 0, 0, 1, 0);
  s.dim = 4;
  assert_fails_with_null(fl_grid_new(&s, 2, FL_INTERP_LINEAR, NULL, &g), FL_EINVAL, g, "1 to 3 axes");
  s = spec(2, 8, 8, 0, 0, 1, 0);
  assert_fails_with_null(fl_grid_new(&s, 0, FL_INTERP_LINEAR, NULL, &g), FL_EINVAL, g, "component");
  assert_fails_with_null(fl_grid_new(&s, 2, (fl_interp)7, NULL, &g), FL_EINVAL, g, "interpolation");
  fl_grid_spec s2 = spec(1, 2, 0, 0, 0, 1, 0);
  assert_fails_with_null(fl_grid_new(&s2, 1, FL_INTERP_CUBIC, NULL, &g), FL_EINVAL, g, "cubic");
  /* values of the wrong shape */
  fl_array *a;
  size_t shape[3] = {8, 7, 2};
  assert_ok(fl_array_zeros(3, shape, &a));
  assert_fails_with_null(fl_grid_new(&s, 2, FL_INTERP_LINEAR, a, &g), FL_EDIM, g, "(8,7,2)");
  assert_fails_with_null(fl_grid_new(&s, 1, FL_INTERP_LINEAR, a, &g), FL_EDIM, g, "(8,8) or (8,8,1)");
  double lo[2] = {0, 0}, hi[2] = {1, 1};
  int per[2] = {0, 0};
  assert_fails_with_null(fl_grid_from_array(a, 1, lo, hi, per, FL_INTERP_LINEAR, &g), FL_EDIM, g, "1-D grid");
  fl_array_release(a);
  /* not a grid field */
  assert_null(fl_grid_of(NULL));
}

static void test_coords_points(void **state)
{
  (void)state;
  fl_grid_spec s = spec(3, 3, 4, 5, 0, 1, 0);
  s.periodic[1] = 1;
  s.lo[2] = -2;
  s.hi[2] = 2;
  fl_array *c, *p;
  assert_ok(fl_grid_coords(&s, 1, &c));
  assert_int_equal(c->size, 4);
  for (int j = 0; j < 4; j++) assert_near(c->data[j], j * 0.25, 1e-15); /* periodic: [0, 1) */
  fl_array_release(c);
  assert_ok(fl_grid_coords(&s, 2, &c));
  assert_near(c->data[0], -2, 0);
  assert_near(c->data[4], 2, 0); /* non-periodic: both ends */
  assert_near(c->data[1], -1, 1e-15);
  fl_array_release(c);
  assert_ok(fl_grid_points(&s, &p));
  assert_int_equal(p->shape[0], 60);
  assert_int_equal(p->shape[1], 3);
  /* row-major node order: point (i, j, k) is row (i*4 + j)*5 + k */
  size_t r = (2 * 4 + 3) * 5 + 1;
  assert_near(p->data[r * 3 + 0], 1.0, 0);
  assert_near(p->data[r * 3 + 1], 0.75, 1e-15);
  assert_near(p->data[r * 3 + 2], -1, 1e-15);
  fl_array_release(p);
}

/* ------------------------------------------------------------ interpolation */

static void affine3(const double *x, double *o)
{
  o[0] = 1 + 2 * x[0] - 3 * x[1] + 0.5 * x[2];
  o[1] = -0.25 * x[0] + x[2];
}

static void affine2(const double *x, double *o)
{
  o[0] = 1 + 2 * x[0] - 3 * x[1];
  o[1] = 0.7 * x[0] + 0.2 * x[1] - 4;
}

/* Linear interpolation reproduces affine fields exactly, with the exact
 * Jacobian, anywhere in the box including its faces; so does cubic. */
static void test_affine_exact(void **state)
{
  (void)state;
  for (int interp = 0; interp < 2; interp++) {
    fl_grid_spec s3 = spec(3, 5, 6, 7, -1, 2, 0);
    fl_grid_spec s2 = spec(2, 9, 4, 0, -1, 2, 0);
    fl_field *g3 = make_grid(&s3, 2, (fl_interp)interp, affine3);
    fl_field *g2 = make_grid(&s2, 2, (fl_interp)interp, affine2);
    enum { N = 500 };
    double x[N * 3], out[N * 2], J[N * 6], ref[2];
    for (int i = 0; i < N * 3; i++) x[i] = -1 + 3 * fl_test_u01((unsigned)i);
    x[0] = -1; x[1] = 2; x[2] = 2; /* corners */
    assert_ok(fl_field_eval(g3, N, x, 0, out));
    assert_ok(fl_grid_interp_jac(fl_grid_of(g3), N, x, J));
    for (int i = 0; i < N; i++) {
      affine3(x + 3 * i, ref);
      assert_near(out[2 * i], ref[0], 1e-13);
      assert_near(out[2 * i + 1], ref[1], 1e-13);
      const double Jr[6] = {2, -3, 0.5, -0.25, 0, 1};
      for (int q = 0; q < 6; q++) assert_near(J[6 * i + q], Jr[q], 1e-12);
    }
    assert_ok(fl_field_eval(g2, N, x, 0, out)); /* the first 2N coordinates as 2-D points */
    for (int i = 0; i < N; i++) {
      affine2(x + 2 * i, ref);
      assert_near(out[2 * i], ref[0], 1e-13);
      assert_near(out[2 * i + 1], ref[1], 1e-13);
    }
    fl_field_release(g3);
    fl_field_release(g2);
  }
}

/* At the nodes the interpolant returns the node values (to rounding of the
 * node coordinates), random data, linear and cubic, periodic and not. */
static void test_nodes_exact(void **state)
{
  (void)state;
  for (int interp = 0; interp < 2; interp++)
    for (int per = 0; per < 2; per++)
      for (int d = 1; d <= 3; d++) {
        fl_grid_spec s = spec(d, 7, 5, 4, -0.3, 1.1, per);
        fl_field *g;
        assert_ok(fl_grid_new(&s, 3, (fl_interp)interp, NULL, &g));
        fl_grid *gr = fl_grid_of(g);
        for (size_t i = 0; i < gr->values->size; i++) gr->values->data[i] = fl_test_u01(i + 31);
        fl_array *p;
        assert_ok(fl_grid_points(&s, &p));
        size_t n = p->shape[0];
        double *out = malloc(n * 3 * sizeof *out);
        assert_ok(fl_field_eval(g, n, p->data, 0, out));
        for (size_t i = 0; i < n * 3; i++) assert_near(out[i], gr->values->data[i], 2e-15);
        free(out);
        fl_array_release(p);
        fl_field_release(g);
      }
}

/* Periodic axes wrap; points outside a non-periodic box are an error naming
 * the point and the box. */
static void test_wrap_and_outside(void **state)
{
  (void)state;
  fl_grid_spec s = spec(2, 8, 6, 0, 0, 2, 1);
  s.periodic[1] = 0;
  fl_field *g;
  assert_ok(fl_grid_new(&s, 1, FL_INTERP_CUBIC, NULL, &g));
  fl_grid *gr = fl_grid_of(g);
  for (size_t i = 0; i < gr->values->size; i++) gr->values->data[i] = fl_test_u01(i);
  double x[8] = {0.3, 0.7, 0.3 + 2, 0.7, 0.3 - 6, 0.7, 1.999999, 2.0}, out[4];
  assert_ok(fl_field_eval(g, 4, x, 0, out));
  assert_near(out[1], out[0], 1e-14);
  assert_near(out[2], out[0], 1e-14);
  double bad[6] = {0.5, 0.5, 0.5, 2.0000001, 0.1, 0.1};
  fl_clear_detail();
  assert_int_equal(fl_field_eval(g, 3, bad, 0, out), FL_ERANGE);
  const char *det = fl_last_detail();
  if (!strstr(det, "point 2 of 3") || !strstr(det, "2.0000001") || !strstr(det, "[0, 2) x [0, 2]"))
    fail_msg("detail: %s", det);
  double nanp[2] = {NAN, 0.5};
  assert_int_equal(fl_field_eval(g, 1, nanp, 0, out), FL_ERANGE);
  if (!strstr(fl_last_detail(), "non-finite")) fail_msg("detail: %s", fl_last_detail());
  fl_field_release(g);
}

static double smooth1(double x, double y, double z) { return sin(2 * x + 0.3) * cos(1.5 * y) + exp(0.5 * z) * x; }
static void fsm2(const double *x, double *o) { o[0] = smooth1(x[0], x[1], 0); }
static void fsm3(const double *x, double *o) { o[0] = smooth1(x[0], x[1], x[2]); }
static void fsm1(const double *x, double *o) { o[0] = smooth1(x[0], 0.2, 0.1); }

/* Max interpolation error at fixed random points, 4 refinements: linear
 * converges at order 2, cubic (Catmull-Rom) at order 3, non-periodic walls
 * included. */
static void interp_order(int d, fl_interp interp, double expect)
{
  enum { NP = 3000 };
  const int periodic = 0;
  double *x = malloc(NP * 3 * sizeof *x), out[NP], h[4], err[4];
  double L = 1.3;
  for (int i = 0; i < NP * 3; i++) x[i] = L * fl_test_u01((unsigned)i + 99);
  for (int r = 0; r < 4; r++) {
    size_t n = (size_t)(d == 3 ? 8 : 12) << r;
    fl_grid_spec s = spec(d, n, n, n, 0, L, periodic);
    pfn f = d == 1 ? fsm1 : d == 2 ? fsm2 : fsm3;
    fl_field *g = make_grid(&s, 1, interp, f);
    assert_ok(fl_field_eval(g, NP, x, 0, out));
    double e = 0, ref;
    for (int i = 0; i < NP; i++) {
      f(x + i * d, &ref);
      e = fmax(e, fabs(out[i] - ref));
    }
    h[r] = L / (double)n;
    err[r] = e;
    fl_field_release(g);
  }
  double p = slope(h, err, 4);
  if (!(fabs(p - expect) <= 0.2))
    fail_msg("d=%d interp=%d: order %.3f, expected %.1f (errors %.3g %.3g %.3g %.3g)", d, (int)interp,
             p, expect, err[0], err[1], err[2], err[3]);
  free(x);
}

static void fper2(const double *x, double *o) { o[0] = sin(x[0] + 0.3) * cos(2 * x[1]) + cos(x[0] - x[1]); }

static void test_interp_orders(void **state)
{
  (void)state;
  interp_order(1, FL_INTERP_LINEAR, 2);
  interp_order(2, FL_INTERP_LINEAR, 2);
  interp_order(3, FL_INTERP_LINEAR, 2);
  interp_order(1, FL_INTERP_CUBIC, 3);
  interp_order(2, FL_INTERP_CUBIC, 3);
  interp_order(3, FL_INTERP_CUBIC, 3);
  /* periodic 2-D: data that is periodic on [0, 2pi)^2 */
  enum { NP = 2000 };
  double x[NP * 2], out[NP], h[4], e2[4], e4[4];
  for (int i = 0; i < NP * 2; i++) x[i] = 2 * M_PI * (fl_test_u01((unsigned)i) * 3 - 1); /* wraps too */
  for (int r = 0; r < 4; r++) {
    size_t n = (size_t)12 << r;
    fl_grid_spec s = spec(2, n, n, 0, 0, 2 * M_PI, 1);
    for (int interp = 0; interp < 2; interp++) {
      fl_field *g = make_grid(&s, 1, (fl_interp)interp, fper2);
      assert_ok(fl_field_eval(g, NP, x, 0, out));
      double e = 0, ref;
      for (int i = 0; i < NP; i++) {
        fper2(x + 2 * i, &ref);
        e = fmax(e, fabs(out[i] - ref));
      }
      (interp ? e4 : e2)[r] = e;
      fl_field_release(g);
    }
    h[r] = 2 * M_PI / (double)n;
  }
  assert_near(slope(h, e2, 4), 2, 0.2);
  assert_near(slope(h, e4, 4), 3, 0.2);
}

/* The exact Jacobian of the cubic interpolant against central differences of
 * the interpolant itself, inside cells (it is a smooth polynomial there). */
static void test_cubic_jacobian(void **state)
{
  (void)state;
  fl_grid_spec s = spec(3, 6, 7, 8, 0, 1, 0);
  s.periodic[0] = 1;
  fl_field *g;
  assert_ok(fl_grid_new(&s, 2, FL_INTERP_CUBIC, NULL, &g));
  fl_grid *gr = fl_grid_of(g);
  for (size_t i = 0; i < gr->values->size; i++) gr->values->data[i] = fl_test_u01(i + 5);
  enum { N = 200 };
  double x[N * 3], J[N * 6];
  for (int i = 0; i < N * 3; i++) x[i] = 0.01 + 0.98 * fl_test_u01((unsigned)i + 1234);
  assert_ok(fl_grid_interp_jac(gr, N, x, J));
  const double eps = 1e-6;
  for (int i = 0; i < N; i++)
    for (int b = 0; b < 3; b++) {
      double xp[3], xm[3], fp[2], fm[2];
      memcpy(xp, x + 3 * i, sizeof xp);
      memcpy(xm, x + 3 * i, sizeof xm);
      /* stay inside the cell of x */
      double u = (x[3 * i + b] - s.lo[b]) * gr->inv_h[b], t = u - floor(u);
      if (t < 1e-3 || t > 1 - 1e-3) continue;
      xp[b] += eps;
      xm[b] -= eps;
      assert_ok(fl_field_eval(g, 1, xp, 0, fp));
      assert_ok(fl_field_eval(g, 1, xm, 0, fm));
      for (int c = 0; c < 2; c++) assert_near(J[6 * i + 3 * c + b], (fp[c] - fm[c]) / (2 * eps), 2e-6);
    }
  fl_field_release(g);
}

/* ------------------------------------------------------------ sampling */

typedef struct { double a; } lin_data;
static fl_status lin_eval(fl_field *f, size_t n, const double *x, double t, double *out)
{
  double a = ((lin_data *)f->data)->a;
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = a * x[2 * i] + t;
    out[2 * i + 1] = x[2 * i] * x[2 * i + 1];
  }
  return FL_OK;
}
static void lin_destroy(void *p) { free(p); }
static const fl_field_ops lin_ops = {.kind = "test", .eval = lin_eval, .destroy = lin_destroy};

static void test_sample(void **state)
{
  (void)state;
  lin_data *ld = malloc(sizeof *ld);
  ld->a = 3;
  fl_field *f, *g, *g2;
  assert_ok(fl_field_new(&lin_ops, 2, 2, 1, 1, ld, &f));
  fl_grid_spec s = spec(2, 5, 4, 0, -1, 1, 0);
  assert_ok(fl_grid_sample(f, &s, FL_INTERP_LINEAR, 0.5, &g));
  fl_grid *gr = fl_grid_of(g);
  assert_non_null(gr);
  assert_int_equal(g->codim, 2);
  assert_int_equal(gr->values->ndim, 3);
  /* node (i, j) = (-1 + i/2, -1 + 2j/3) */
  for (int i = 0; i < 5; i++)
    for (int j = 0; j < 4; j++) {
      double x = -1 + i * 0.5, y = -1 + j * 2.0 / 3;
      assert_near(gr->values->data[(i * 4 + j) * 2], 3 * x + 0.5, 1e-14);
      assert_near(gr->values->data[(i * 4 + j) * 2 + 1], x * y, 1e-14);
    }
  /* a grid sampled from a grid on a coarser grid */
  fl_grid_spec s2 = spec(2, 3, 3, 0, -1, 1, 0);
  assert_ok(fl_grid_sample(g, &s2, FL_INTERP_CUBIC, 0, &g2));
  assert_near(fl_grid_of(g2)->values->data[2 * 4], 3 * 0 + 0.5, 1e-14); /* node (1, 1) = (0, 0) */
  fl_field_release(g2);
  /* dimension mismatch */
  fl_grid_spec s3 = spec(3, 3, 3, 3, -1, 1, 0);
  g2 = (fl_field *)&g2;
  assert_fails_with_null(fl_grid_sample(f, &s3, FL_INTERP_LINEAR, 0, &g2), FL_EDIM, g2, "dimension 2, the grid 3");
  /* derivatives of a non-grid field */
  assert_fails_with_null(fl_grid_div(f, 2, FL_GRID_FD, &g2), FL_EINVAL, g2, "not a grid field");
  assert_null(fl_grid_of(f));
  fl_field_release(g);
  fl_field_release(f);
}

/* grid_from_array shares the array: writes go through both ways. */
static void test_from_array(void **state)
{
  (void)state;
  size_t shape[2] = {4, 6};
  fl_array *a;
  assert_ok(fl_array_zeros(2, shape, &a));
  double lo[2] = {0, 0}, hi[2] = {1, 1};
  int per[2] = {1, 0};
  fl_field *g, *g1;
  assert_ok(fl_grid_from_array(a, 2, lo, hi, per, FL_INTERP_LINEAR, &g));
  assert_int_equal(g->codim, 1);
  assert_ptr_equal(fl_grid_of(g)->values, a);
  assert_ok(fl_grid_from_array(a, 1, lo, hi, per, FL_INTERP_LINEAR, &g1)); /* 1-D, 6 components */
  assert_int_equal(g1->codim, 6);
  a->data[1 * 6 + 2] = 5; /* node (1, 2) = (0.25, 0.4) */
  double x[2] = {0.25, 0.4}, out[6];
  assert_ok(fl_field_eval(g, 1, x, 0, out));
  assert_near(out[0], 5, 1e-14);
  assert_ok(fl_field_eval(g1, 1, x, 0, out));
  assert_near(out[2], 5, 1e-14);
  fl_array_release(a); /* the grids keep it alive */
  assert_ok(fl_field_eval(g, 1, x, 0, out));
  assert_near(out[0], 5, 1e-14);
  fl_field_release(g);
  fl_field_release(g1);
}

/* ------------------------------------------------------------ derivatives */

/* FD derivatives converge at their order: periodic (central everywhere) and
 * non-periodic (one-sided walls), first derivatives and the Laplacian; the
 * error is the max over all nodes. */
static double ftrig(double x, double y) { return sin(x + 0.3) * cos(2 * y) + 0.5 * cos(x - y); }
static void fd_f(const double *x, double *o) { o[0] = ftrig(x[0], x[1]); }
static void fd_dy(const double *x, double *o) { o[0] = -2 * sin(x[0] + 0.3) * sin(2 * x[1]) + 0.5 * sin(x[0] - x[1]); }
static void fd_dx(const double *x, double *o) { o[0] = cos(x[0] + 0.3) * cos(2 * x[1]) - 0.5 * sin(x[0] - x[1]); }
static void fd_lap(const double *x, double *o) { o[0] = -5 * sin(x[0] + 0.3) * cos(2 * x[1]) - cos(x[0] - x[1]); }
static void fd_grad(const double *x, double *o) { fd_dx(x, o); fd_dy(x, o + 1); }

static void fd_order(int periodic, int order)
{
  double h[4], e_dx[4], e_dy[4], e_lap[4], e_grad[4];
  for (int r = 0; r < 4; r++) {
    size_t n = (size_t)16 << r;
    double L = periodic ? 2 * M_PI : 1.7;
    fl_grid_spec s = spec(2, n, n + n / 2, 0, -0.4, -0.4 + L, periodic);
    fl_field *g = make_grid(&s, 1, FL_INTERP_LINEAR, fd_f), *d;
    assert_ok(fl_grid_partial(g, 0, order, FL_GRID_FD, &d));
    e_dx[r] = max_err_nodes(d, fd_dx, 1);
    fl_field_release(d);
    assert_ok(fl_grid_partial(g, 1, order, FL_GRID_FD, &d));
    e_dy[r] = max_err_nodes(d, fd_dy, 1);
    fl_field_release(d);
    assert_ok(fl_grid_laplacian(g, order, FL_GRID_FD, &d));
    e_lap[r] = max_err_nodes(d, fd_lap, 1);
    fl_field_release(d);
    assert_ok(fl_grid_grad(g, order, FL_GRID_FD, &d));
    assert_int_equal(d->codim, 2);
    e_grad[r] = max_err_nodes(d, fd_grad, 2);
    fl_field_release(d);
    fl_field_release(g);
    h[r] = L / (double)n;
  }
  double p[4] = {slope(h, e_dx, 4), slope(h, e_dy, 4), slope(h, e_lap, 4), slope(h, e_grad, 4)};
  for (int q = 0; q < 4; q++)
    if (!(fabs(p[q] - order) <= 0.2))
      fail_msg("periodic=%d order %d: measured orders dx %.3f dy %.3f lap %.3f grad %.3f", periodic, order, p[0], p[1],
               p[2], p[3]);
}

static void test_fd_orders(void **state)
{
  (void)state;
  fd_order(1, 2);
  fd_order(1, 4);
  fd_order(0, 2);
  fd_order(0, 4);
}

/* Spectral derivatives of a trigonometric field on a periodic 64^2 grid are
 * exact to 1e-12 (partial, grad, Laplacian). */
static void test_spectral_exact(void **state)
{
  (void)state;
  fl_grid_spec s = spec(2, 64, 64, 0, -0.4, -0.4 + 2 * M_PI, 1);
  fl_field *g = make_grid(&s, 1, FL_INTERP_LINEAR, fd_f), *d;
  assert_ok(fl_grid_partial(g, 0, 2, FL_GRID_SPECTRAL, &d));
  assert_true(max_err_nodes(d, fd_dx, 1) < 1e-12);
  fl_field_release(d);
  assert_ok(fl_grid_partial(g, 1, 2, FL_GRID_SPECTRAL, &d));
  assert_true(max_err_nodes(d, fd_dy, 1) < 1e-12);
  fl_field_release(d);
  assert_ok(fl_grid_grad(g, 2, FL_GRID_SPECTRAL, &d));
  assert_true(max_err_nodes(d, fd_grad, 2) < 1e-12);
  fl_field_release(d);
  assert_ok(fl_grid_laplacian(g, 2, FL_GRID_SPECTRAL, &d));
  assert_true(max_err_nodes(d, fd_lap, 1) < 1e-12);
  fl_field_release(d);
  fl_field_release(g);
  /* spectral on a grid that is not periodic everywhere */
  s.periodic[1] = 0;
  g = make_grid(&s, 1, FL_INTERP_LINEAR, fd_f);
  d = (fl_field *)&d;
  assert_fails_with_null(fl_grid_partial(g, 0, 2, FL_GRID_SPECTRAL, &d), FL_EINVAL, d, "axis 2 is not");
  assert_fails_with_null(fl_grid_partial(g, 0, 3, FL_GRID_FD, &d), FL_EINVAL, d, "order 3");
  assert_fails_with_null(fl_grid_partial(g, 2, 2, FL_GRID_FD, &d), FL_EINVAL, d, "axis 3 out of range");
  assert_fails_with_null(fl_grid_div(g, 2, FL_GRID_FD, &d), FL_EDIM, d, "divergence");
  assert_fails_with_null(fl_grid_curl(g, 2, FL_GRID_FD, &d), FL_EDIM, d, "curl");
  fl_field_release(g);
  /* too few nodes for 4th order at walls */
  fl_grid_spec s4 = spec(1, 4, 0, 0, 0, 1, 0);
  g = make_grid(&s4, 1, FL_INTERP_LINEAR, fsm1);
  assert_fails_with_null(fl_grid_partial(g, 0, 4, FL_GRID_FD, &d), FL_EINVAL, d, "at least 5 nodes");
  assert_fails_with_null(fl_grid_laplacian(g, 4, FL_GRID_FD, &d), FL_EINVAL, d, "at least 6 nodes");
  assert_ok(fl_grid_partial(g, 0, 2, FL_GRID_FD, &d));
  fl_field_release(d);
  fl_field_release(g);
}

/* Taylor-Green: u = (sin x cos y, -cos x sin y) is solenoidal. Its spectral
 * divergence vanishes to rounding; FD divergence on a non-periodic box with
 * unequal spacings is O(h^order). */
static void taylor_green(const double *x, double *o)
{
  o[0] = sin(x[0]) * cos(x[1]);
  o[1] = -cos(x[0]) * sin(x[1]);
}
static void zero1(const double *x, double *o) { (void)x; o[0] = 0; }
static void tg_vort(const double *x, double *o) { o[0] = 2 * sin(x[0]) * sin(x[1]); }

static void test_div_taylor_green(void **state)
{
  (void)state;
  fl_grid_spec s = spec(2, 64, 48, 0, 0, 2 * M_PI, 1);
  fl_field *g = make_grid(&s, 2, FL_INTERP_CUBIC, taylor_green), *d;
  assert_ok(fl_grid_div(g, 2, FL_GRID_SPECTRAL, &d));
  assert_int_equal(d->codim, 1);
  assert_true(max_err_nodes(d, zero1, 1) < 1e-12);
  fl_field_release(d);
  assert_ok(fl_grid_curl(g, 2, FL_GRID_SPECTRAL, &d));
  assert_true(max_err_nodes(d, tg_vort, 1) < 1e-12);
  assert_int_equal(fl_grid_of(d)->interp, FL_INTERP_CUBIC);
  fl_field_release(d);
  fl_field_release(g);
  for (int order = 2; order <= 4; order += 2) {
    double h[4], e[4], ec[4];
    for (int r = 0; r < 4; r++) {
      size_t n = (size_t)16 << r;
      fl_grid_spec sn = spec(2, n, 2 * n, 0, 0, 1, 0);
      sn.lo[0] = 0.1; sn.hi[0] = 2.0; sn.lo[1] = -0.5; sn.hi[1] = 1.3;
      g = make_grid(&sn, 2, FL_INTERP_LINEAR, taylor_green);
      assert_ok(fl_grid_div(g, order, FL_GRID_FD, &d));
      e[r] = max_err_nodes(d, zero1, 1);
      fl_field_release(d);
      assert_ok(fl_grid_curl(g, order, FL_GRID_FD, &d));
      ec[r] = max_err_nodes(d, tg_vort, 1);
      fl_field_release(d);
      fl_field_release(g);
      h[r] = 1.9 / (double)(n - 1);
    }
    assert_true(e[3] > 0); /* not identically zero: the test measures something */
    assert_near(slope(h, e, 4), order, 0.2);
    assert_near(slope(h, ec, 4), order, 0.2);
  }
}

/* The curl of a rotation is twice its angular velocity, exactly (the FD
 * stencils are exact on linear data, walls included). */
static void rot2(const double *x, double *o) { o[0] = -1.7 * x[1]; o[1] = 1.7 * x[0]; }
static void rot3(const double *x, double *o)
{
  const double w[3] = {0.3, -1.2, 2.0}; /* w x r */
  o[0] = w[1] * x[2] - w[2] * x[1];
  o[1] = w[2] * x[0] - w[0] * x[2];
  o[2] = w[0] * x[1] - w[1] * x[0];
}
static void two_w2(const double *x, double *o) { (void)x; o[0] = 3.4; }
static void two_w3(const double *x, double *o) { (void)x; o[0] = 0.6; o[1] = -2.4; o[2] = 4.0; }

static void test_curl_rotation(void **state)
{
  (void)state;
  for (int order = 2; order <= 4; order += 2) {
    fl_grid_spec s2 = spec(2, 9, 7, 0, -1, 2, 0);
    fl_field *g = make_grid(&s2, 2, FL_INTERP_LINEAR, rot2), *c;
    assert_ok(fl_grid_curl(g, order, FL_GRID_FD, &c));
    assert_int_equal(c->codim, 1);
    assert_true(max_err_nodes(c, two_w2, 1) < 1e-12);
    fl_field_release(c);
    fl_field_release(g);
    fl_grid_spec s3 = spec(3, 6, 7, 8, -1, 2, 0);
    g = make_grid(&s3, 3, FL_INTERP_LINEAR, rot3);
    assert_ok(fl_grid_curl(g, order, FL_GRID_FD, &c));
    assert_int_equal(c->codim, 3);
    assert_true(max_err_nodes(c, two_w3, 3) < 1e-12);
    fl_field_release(c);
    assert_ok(fl_grid_div(g, order, FL_GRID_FD, &c));
    assert_true(max_err_nodes(c, zero1, 1) < 1e-12);
    fl_field_release(c);
    fl_field_release(g);
  }
}

/* 3-D spectral: curl of a periodic vector potential is divergence free to
 * rounding, and its curl matches the closed form. */
static void pot3(const double *x, double *o)
{
  o[0] = sin(x[1]) * cos(2 * x[2]);
  o[1] = cos(x[0] + x[2]);
  o[2] = sin(2 * x[0]) * sin(x[1]);
}
static void curl_pot3(const double *x, double *o)
{
  /* (dAz/dy - dAy/dz, dAx/dz - dAz/dx, dAy/dx - dAx/dy) */
  o[0] = sin(2 * x[0]) * cos(x[1]) + sin(x[0] + x[2]);
  o[1] = -2 * sin(x[1]) * sin(2 * x[2]) - 2 * cos(2 * x[0]) * sin(x[1]);
  o[2] = -sin(x[0] + x[2]) - cos(x[1]) * cos(2 * x[2]);
}

static void test_spectral_3d(void **state)
{
  (void)state;
  fl_grid_spec s = spec(3, 16, 12, 10, 0, 2 * M_PI, 1);
  fl_field *g = make_grid(&s, 3, FL_INTERP_LINEAR, pot3), *c, *dc;
  assert_ok(fl_grid_curl(g, 2, FL_GRID_SPECTRAL, &c));
  assert_true(max_err_nodes(c, curl_pot3, 3) < 1e-12);
  assert_ok(fl_grid_div(c, 2, FL_GRID_SPECTRAL, &dc));
  assert_true(max_err_nodes(dc, zero1, 1) < 1e-12);
  fl_field_release(dc);
  /* periodic central differences: discrete div of the discrete curl is 0 too */
  fl_field_release(c);
  assert_ok(fl_grid_curl(g, 4, FL_GRID_FD, &c));
  assert_ok(fl_grid_div(c, 4, FL_GRID_FD, &dc));
  assert_true(max_err_nodes(dc, zero1, 1) < 1e-12);
  fl_field_release(dc);
  fl_field_release(c);
  fl_field_release(g);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    T(test_spec_errors),
    T(test_coords_points),
    T(test_affine_exact),
    T(test_nodes_exact),
    T(test_wrap_and_outside),
    T(test_interp_orders),
    T(test_cubic_jacobian),
    T(test_sample),
    T(test_from_array),
    T(test_fd_orders),
    T(test_spectral_exact),
    T(test_div_taylor_green),
    T(test_curl_rotation),
    T(test_spectral_3d),
  };
  int r = cmocka_run_group_tests(tests, NULL, NULL);
  fl_fft_cache_clear();
  return r;
}
