/* Unit tests of lib/fl_data.c: the random-number layout (against fl_rng_*),
 * determinism (seed, stream, prefix, thread count), and each generator's
 * distribution against closed-form moments and exact geometric facts, at
 * 5 standard errors. Every test checks that fl_mem_in_use() is back to its
 * starting value. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "fl_array.h"
#include "fl_data.h"
#include "fl_rng.h"
#include "fl_test.h"

/* ------------------------------------------------------------ helpers */

/* Sample mean of g(x_i) over the rows of a (n x d) and its standard error. */
typedef double (*rowfn)(const double *x);

static void mean_se(const fl_array *a, rowfn g, double *mean, double *se)
{
  size_t n = a->shape[0], d = a->shape[1];
  double s = 0, s2 = 0;
  for (size_t i = 0; i < n; i++) {
    double v = g(a->data + i * d);
    s += v;
    s2 += v * v;
  }
  double m = s / (double)n;
  double var = s2 / (double)n - m * m;
  *mean = m;
  *se = sqrt(fmax(var, 0) / (double)n);
}

/* E g(x) equals `expect` within 5 standard errors (and the SE is small:
 * the check has teeth). */
#define assert_moment(a, g, expect)                                                                    \
  do {                                                                                                 \
    double m_, se_;                                                                                    \
    mean_se((a), (g), &m_, &se_);                                                                      \
    if (!(fabs(m_ - (expect)) <= 5 * se_))                                                             \
      fail_msg("E[%s] = %.6g +- %.2g, expected %.6g", #g, m_, se_, (double)(expect));                \
  } while (0)

static double fx(const double *x) { return x[0]; }
static double fy(const double *x) { return x[1]; }
static double fxx(const double *x) { return x[0] * x[0]; }
static double fyy(const double *x) { return x[1] * x[1]; }
static double fxy(const double *x) { return x[0] * x[1]; }
static double fr2(const double *x) { return x[0] * x[0] + x[1] * x[1]; }
static double fr4(const double *x) { double r2 = fr2(x); return r2 * r2; }

static fl_array *toy(const char *name, size_t n, uint64_t seed, uint64_t stream)
{
  fl_array *a = NULL;
  assert_ok(fl_data_toy(name, n, seed, stream, &a));
  assert_int_equal(a->ndim, 2);
  assert_int_equal(a->shape[0], n);
  assert_int_equal(a->shape[1], 2);
  return a;
}

#define NBIG 100000

/* ------------------------------------------------------------ layout, names, errors */

static void test_names(void **state)
{
  (void)state;
  const char *expect[] = {"8gaussians", "checkerboard", "2spirals", "moons",
                          "swissroll", "circles", "pinwheel", "rings"};
  assert_int_equal(fl_data_toy_count(), 8);
  for (int k = 0; k < 8; k++) {
    assert_string_equal(fl_data_toy_name(k), expect[k]);
    assert_int_equal(fl_data_toy_find(expect[k]), k);
  }
  assert_null(fl_data_toy_name(8));
  assert_null(fl_data_toy_name(-1));
  assert_int_equal(fl_data_toy_find("9gaussians"), -1);
  assert_int_equal(fl_data_toy_find(NULL), -1);
  char buf[256];
  assert_string_equal(fl_data_toy_list(buf, sizeof buf),
                      "8gaussians, checkerboard, 2spirals, moons, swissroll, circles, pinwheel, rings");
  assert_string_equal(fl_data_toy_list(buf, 12), "8gaussians"); /* truncates at a name */
  assert_int_equal(fl_data_manifold_dim("circle"), 1);
  assert_int_equal(fl_data_manifold_dim("sphere"), 2);
  assert_int_equal(fl_data_manifold_dim("swissroll"), 2);
  assert_int_equal(fl_data_manifold_dim("torus"), -1);
  assert_int_equal(fl_data_manifold_ambient("circle"), 2);
  assert_int_equal(fl_data_manifold_ambient("sphere"), 3);
  assert_int_equal(fl_data_manifold_ambient("swissroll"), 3);
  assert_string_equal(fl_data_manifold_list(buf, sizeof buf), "circle, sphere, swissroll");
  assert_int_equal(fl_data_manifold_slots(2), 4);
  assert_int_equal(fl_data_manifold_slots(3), 6);
  assert_int_equal(fl_data_manifold_slots(5), 8);
}

static void test_errors(void **state)
{
  (void)state;
  fl_array *a = (fl_array *)1;
  assert_int_equal(fl_data_toy("gaussians", 10, 0, 0, &a), FL_EINVAL);
  assert_null(a);
  assert_non_null(strstr(fl_last_detail(), "unknown toy data set 'gaussians'"));
  assert_non_null(strstr(fl_last_detail(), "valid: 8gaussians, checkerboard"));
  double buf[4];
  assert_int_equal(fl_data_toy_fill("nope", 0, 0, 0, 2, buf), FL_EINVAL);
  assert_int_equal(fl_data_toy_fill("moons", 0, 0, SIZE_MAX - 1, 2, buf), FL_ERANGE);

  assert_int_equal(fl_data_manifold("torus", 10, 3, 0, 1, 0, 0, &a), FL_EINVAL);
  assert_non_null(strstr(fl_last_detail(), "valid: circle, sphere, swissroll"));
  assert_int_equal(fl_data_manifold("sphere", 10, 2, 0, 1, 0, 0, &a), FL_EINVAL);
  assert_non_null(strstr(fl_last_detail(), "dim 2 is less than 3"));
  assert_int_equal(fl_data_manifold("circle", 10, 2, -0.1, 1, 0, 0, &a), FL_EINVAL);
  assert_non_null(strstr(fl_last_detail(), "noise"));
  assert_int_equal(fl_data_manifold("circle", 10, 2, NAN, 1, 0, 0, &a), FL_EINVAL);
  assert_int_equal(fl_data_manifold("circle", 10, 2, 0, 0, 0, 0, &a), FL_EINVAL);
  assert_non_null(strstr(fl_last_detail(), "radius"));
  assert_int_equal(fl_data_manifold("circle", 10, 2, 0, INFINITY, 0, 0, &a), FL_EINVAL);
  assert_null(a);

  /* n = 0: an empty 0 x 2 array */
  a = toy("rings", 0, 1, 2);
  assert_int_equal(a->size, 0);
  fl_array_release(a);
}

/* The documented layout: sample i of a toy set uses fl_rng_uniform at 6i..6i+3
 * and fl_rng_normal at 6i+4, 6i+5; reproduce 8gaussians, checkerboard and
 * 2spirals from those numbers exactly. */
static void test_layout(void **state)
{
  (void)state;
  const uint64_t seed = 12345, stream = 7;
  fl_array *g = toy("8gaussians", 50, seed, stream);
  fl_array *c = toy("checkerboard", 50, seed, stream);
  fl_array *s = toy("2spirals", 50, seed, stream);
  const double r = 1 / sqrt(2.0);
  const double cx[8] = {1, -1, 0, 0, r, r, -r, -r}, cy[8] = {0, 0, 1, -1, r, -r, r, -r};
  for (uint64_t i = 0; i < 50; i++) {
    double u[4], z[2];
    for (int j = 0; j < 4; j++) u[j] = fl_rng_uniform(seed, stream, 6 * i + (uint64_t)j);
    for (int j = 0; j < 2; j++) z[j] = fl_rng_normal(seed, stream, 6 * i + 4 + (uint64_t)j);
    int k = (int)floor(8 * u[0]);
    assert_near(g->data[2 * i], (4 * cx[k] + 0.5 * z[0]) / 1.414, 1e-14);
    assert_near(g->data[2 * i + 1], (4 * cy[k] + 0.5 * z[1]) / 1.414, 1e-14);
    double x1 = 4 * u[0] - 2, x2 = u[2] - 2 * (u[1] >= 0.5) + (((int)floor(x1) % 2 + 2) % 2);
    assert_true(c->data[2 * i] == 2 * x1);
    assert_true(c->data[2 * i + 1] == 2 * x2);
    double t = sqrt(u[0]) * 3 * M_PI, sg = u[3] < 0.5 ? 1 : -1;
    assert_near(s->data[2 * i], sg * (-cos(t) * t + 0.5 * u[1]) / 3 + 0.1 * z[0], 1e-14);
    assert_near(s->data[2 * i + 1], sg * (sin(t) * t + 0.5 * u[2]) / 3 + 0.1 * z[1], 1e-14);
  }
  fl_array_release(g);
  fl_array_release(c);
  fl_array_release(s);

  /* manifolds: K = 2 + dim rounded up to even; uniforms Ki, Ki+1; normals Ki+2.. */
  fl_array *m;
  assert_ok(fl_data_manifold("circle", 20, 5, 0.3, 2.0, seed, stream, &m));
  for (uint64_t i = 0; i < 20; i++) {
    uint64_t K = 8;
    double a = 2 * M_PI * fl_rng_uniform(seed, stream, K * i);
    for (int j = 0; j < 5; j++) {
      double base = j == 0 ? 2 * cos(a) : j == 1 ? 2 * sin(a) : 0;
      assert_near(m->data[5 * i + (uint64_t)j], base + 0.3 * fl_rng_normal(seed, stream, K * i + 2 + (uint64_t)j), 1e-14);
    }
  }
  fl_array_release(m);
}

/* Same seed: identical; other seed or stream: different; prefix property;
 * fill with an offset; the same bits with 1 and 2 threads. */
static void test_determinism(void **state)
{
  (void)state;
  const size_t n = 20000; /* above the parallel threshold */
  for (int k = 0; k < fl_data_toy_count(); k++) {
    const char *name = fl_data_toy_name(k);
#ifdef _OPENMP
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
#endif
    fl_array *a = toy(name, n, 3, 1);
#ifdef _OPENMP
    omp_set_num_threads(2);
#endif
    fl_array *b = toy(name, n, 3, 1);
#ifdef _OPENMP
    omp_set_num_threads(saved);
#endif
    assert_memory_equal(a->data, b->data, n * 2 * sizeof(double));
    fl_array *pre = toy(name, 1000, 3, 1);
    assert_memory_equal(a->data, pre->data, 1000 * 2 * sizeof(double));
    double part[2 * 300];
    assert_ok(fl_data_toy_fill(name, 3, 1, 5000, 300, part));
    assert_memory_equal(a->data + 2 * 5000, part, sizeof part);
    fl_array *c = toy(name, 1000, 4, 1), *d = toy(name, 1000, 3, 2);
    size_t same_c = 0, same_d = 0;
    for (size_t i = 0; i < 2000; i++) {
      same_c += c->data[i] == pre->data[i];
      same_d += d->data[i] == pre->data[i];
    }
    /* checkerboard coordinates are continuous too: no coincidences expected */
    if (same_c > 0 || same_d > 0) fail_msg("%s: %zu/%zu equal numbers for another seed/stream", name, same_c, same_d);
    fl_array_release(a);
    fl_array_release(b);
    fl_array_release(pre);
    fl_array_release(c);
    fl_array_release(d);
  }
  /* manifolds too */
  fl_array *a, *b, *p;
#ifdef _OPENMP
  int saved = omp_get_max_threads();
  omp_set_num_threads(1);
#endif
  assert_ok(fl_data_manifold("swissroll", n, 5, 0.1, 1, 9, 0, &a));
#ifdef _OPENMP
  omp_set_num_threads(2);
#endif
  assert_ok(fl_data_manifold("swissroll", n, 5, 0.1, 1, 9, 0, &b));
#ifdef _OPENMP
  omp_set_num_threads(saved);
#endif
  assert_ok(fl_data_manifold("swissroll", 10, 5, 0.1, 1, 9, 0, &p));
  assert_memory_equal(a->data, b->data, n * 5 * sizeof(double));
  assert_memory_equal(a->data, p->data, 10 * 5 * sizeof(double));
  fl_array_release(a);
  fl_array_release(b);
  fl_array_release(p);
}

/* ------------------------------------------------------------ distributions */

/* 8gaussians: mixture of N(4 c_k/1.414, (0.5/1.414)^2 I), weights 1/8. Mean 0;
 * E x^2 = E y^2 = (16 * 1/2 + 0.25)/1.414^2 (centre radius^2 / 2 + std^2); E xy = 0. */
static void test_8gaussians(void **state)
{
  (void)state;
  fl_array *a = toy("8gaussians", NBIG, 1, 0);
  double m2 = (16 * 0.5 + 0.25) / (1.414 * 1.414);
  assert_moment(a, fx, 0);
  assert_moment(a, fy, 0);
  assert_moment(a, fxx, m2);
  assert_moment(a, fyy, m2);
  assert_moment(a, fxy, 0);
  /* every point is closest to one centre; the component counts are ~ n/8 and
   * the distance to the nearest centre has E d^2 = 2 std^2 */
  const double r = 4 / 1.414, s = 1 / sqrt(2.0);
  const double cx[8] = {1, -1, 0, 0, s, s, -s, -s}, cy[8] = {0, 0, 1, -1, s, -s, s, -s};
  size_t count[8] = {0};
  double d2sum = 0;
  for (size_t i = 0; i < NBIG; i++) {
    double x = a->data[2 * i], y = a->data[2 * i + 1], best = INFINITY;
    int kb = 0;
    for (int k = 0; k < 8; k++) {
      double d2 = (x - r * cx[k]) * (x - r * cx[k]) + (y - r * cy[k]) * (y - r * cy[k]);
      if (d2 < best) { best = d2; kb = k; }
    }
    count[kb]++;
    d2sum += best;
  }
  double sd = 0.5 / 1.414;
  assert_near(d2sum / NBIG, 2 * sd * sd, 5 * 2 * sd * sd / sqrt(NBIG)); /* sd of d^2 = 2 sd^2 */
  for (int k = 0; k < 8; k++) assert_near((double)count[k], NBIG / 8.0, 5 * sqrt(NBIG / 8.0 * 7 / 8));
  fl_array_release(a);
}

/* checkerboard: every point in a black square of side 2 (floor(x/2) +
 * floor(y/2) even) inside [-4, 4)^2, the 8 black squares equally filled, and
 * uniform inside a square (quarter counts). */
static void test_checkerboard(void **state)
{
  (void)state;
  fl_array *a = toy("checkerboard", NBIG, 2, 0);
  size_t count[4][4] = {{0}}, quarter[2][2] = {{0}};
  for (size_t i = 0; i < NBIG; i++) {
    double x = a->data[2 * i], y = a->data[2 * i + 1];
    assert_true(x >= -4 && x < 4 && y >= -4 && y < 4);
    int ix = (int)floor(x / 2), iy = (int)floor(y / 2);
    if (((ix + iy) % 2 + 2) % 2 != 0) fail_msg("point (%g, %g) in a white square", x, y);
    count[ix + 2][iy + 2]++;
    quarter[(int)floor(x - 2 * ix)][(int)floor(y - 2 * iy)]++;
  }
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++)
      if ((i + j) % 2 == 0) assert_near((double)count[i][j], NBIG / 8.0, 5 * sqrt(NBIG / 8.0 * 7 / 8));
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 2; j++) assert_near((double)quarter[i][j], NBIG / 4.0, 5 * sqrt(NBIG / 4.0 * 3 / 4));
  fl_array_release(a);
}

/* 2spirals: t = 3 pi sqrt(U) has density 2t/(9 pi^2) on [0, 3 pi]:
 * E[t cos t] = -4/(3 pi), E[t sin t] = 2 (9 pi^2 - 4)/(9 pi^2), E t^2 = 9 pi^2/2.
 * With d = (-t cos t + U/2, t sin t + U/2): E|d|^2 = E t^2 + 2 (1/4)(4/(3 pi))
 * + 2 (1/4) E[t sin t] + 2/12; E|x|^2 = E|d|^2/9 + 2 (0.1)^2; E x = 0 by the
 * sign symmetry; and |x - noise| <= (3 pi + 0.5 sqrt 2)/3. */
static void test_2spirals(void **state)
{
  (void)state;
  fl_array *a = toy("2spirals", NBIG, 3, 0);
  double ets = 2 * (9 * M_PI * M_PI - 4) / (9 * M_PI * M_PI);
  double ed2 = 9 * M_PI * M_PI / 2 + 0.5 * 4 / (3 * M_PI) + 0.5 * ets + 2.0 / 12;
  assert_moment(a, fx, 0);
  assert_moment(a, fy, 0);
  assert_moment(a, fr2, ed2 / 9 + 0.02);
  double rmax = 0;
  for (size_t i = 0; i < NBIG; i++) rmax = fmax(rmax, sqrt(fr2(a->data + 2 * i)));
  assert_true(rmax < (3 * M_PI + 0.5 * sqrt(2.0)) / 3 + 0.1 * 6 * sqrt(2.0));
  assert_true(rmax > 3 * M_PI / 3 - 0.2); /* the spiral reaches out to t = 3 pi */
  fl_array_release(a);
}

/* moons (sklearn, noise 0.1, then *2 + (-1, -0.2)). Before the affine map:
 * E x = 1/2, E y = 1/4 (E sin a = 2/pi on [0, pi]), E x^2 = 1 + 0.01,
 * E y^2 = (1/2 + 3/4 - 2/pi)/2 + 0.01. */
static void test_moons(void **state)
{
  (void)state;
  fl_array *a = toy("moons", NBIG, 4, 0);
  double ex = 0.5, ey = 0.25, exx = 1.01, eyy = 0.5 * (0.5 + 0.75 - 2 / M_PI) + 0.01;
  assert_moment(a, fx, 2 * ex - 1);
  assert_moment(a, fy, 2 * ey - 0.2);
  assert_moment(a, fxx, 4 * exx - 4 * ex + 1);
  assert_moment(a, fyy, 4 * eyy - 0.8 * ey + 0.04);
  /* ranges: noiseless x in [-3, 3], y in [-1.2, 1.8]; noise std 0.2 */
  for (size_t i = 0; i < NBIG; i++) {
    assert_true(fabs(a->data[2 * i]) < 3 + 6 * 0.2);
    assert_true(a->data[2 * i + 1] > -1.2 - 6 * 0.2 && a->data[2 * i + 1] < 1.8 + 6 * 0.2);
  }
  fl_array_release(a);
}

/* swissroll (sklearn noise 1, coordinates (0, 2), / 5): t uniform on
 * [1.5 pi, 4.5 pi]: E[t cos t] = 2, E[t sin t] = 2/(3 pi), E t^2 = 9.75 pi^2. */
static void test_swissroll(void **state)
{
  (void)state;
  fl_array *a = toy("swissroll", NBIG, 5, 0);
  assert_moment(a, fx, 2.0 / 5);
  assert_moment(a, fy, 2 / (3 * M_PI) / 5);
  assert_moment(a, fr2, (9.75 * M_PI * M_PI + 2) / 25);
  fl_array_release(a);
}

/* circles: radius R in {3, 1.5} w.p. 1/2 plus N(0, 0.24^2 I):
 * E|x|^2 = mean(R^2) + 2 s^2, E|x|^4 = mean(R^4 + 8 R^2 s^2) + 8 s^4;
 * and the radial histogram peaks at 1.5 and 3 with a deep gap between. */
static void test_circles(void **state)
{
  (void)state;
  fl_array *a = toy("circles", NBIG, 6, 0);
  double s2 = 0.24 * 0.24, R1 = 3, R2 = 1.5;
  assert_moment(a, fx, 0);
  assert_moment(a, fy, 0);
  assert_moment(a, fr2, 0.5 * (R1 * R1 + R2 * R2) + 2 * s2);
  assert_moment(a, fr4, 0.5 * (pow(R1, 4) + pow(R2, 4)) + 4 * s2 * (R1 * R1 + R2 * R2) + 8 * s2 * s2);
  size_t h[40] = {0}; /* bins of 0.125 on [0, 5) */
  for (size_t i = 0; i < NBIG; i++) {
    int b = (int)(sqrt(fr2(a->data + 2 * i)) / 0.125);
    if (b < 40) h[b]++;
  }
  int p1 = 0, p2 = 20;
  for (int b = 0; b < 18; b++) if (h[b] > h[p1]) p1 = b;     /* [0, 2.25) */
  for (int b = 20; b < 40; b++) if (h[b] > h[p2]) p2 = b;    /* [2.5, 5) */
  assert_true(fabs((p1 + 0.5) * 0.125 - 1.5) <= 0.125);
  assert_true(fabs((p2 + 0.5) * 0.125 - 3.0) <= 0.125);
  assert_true(h[18] < h[p1] / 5 && h[18] < h[p2] / 5); /* r in [2.25, 2.375): the gap */
  fl_array_release(a);
}

/* pinwheel: 5 arms: the angle histogram has exactly 5 peaks 72 degrees apart;
 * |x|^2 = 4 (f0^2 + f1^2) has mean 4 (1 + 0.09 + 0.01); mean 0 by symmetry. */
static void test_pinwheel(void **state)
{
  (void)state;
  fl_array *a = toy("pinwheel", NBIG, 7, 0);
  assert_moment(a, fx, 0);
  assert_moment(a, fy, 0);
  assert_moment(a, fr2, 4 * 1.1);
  enum { NB = 60 };
  double h[NB] = {0}, sm[NB];
  for (size_t i = 0; i < NBIG; i++) {
    double th = atan2(a->data[2 * i + 1], a->data[2 * i]) + M_PI;
    int b = (int)(th / (2 * M_PI) * NB);
    h[b < NB ? b : NB - 1]++;
  }
  for (int b = 0; b < NB; b++) sm[b] = (h[(b + NB - 1) % NB] + h[b] + h[(b + 1) % NB]) / 3;
  double mean = NBIG / (double)NB;
  int peaks[NB], np = 0;
  for (int b = 0; b < NB; b++)
    if (sm[b] > sm[(b + NB - 1) % NB] && sm[b] >= sm[(b + 1) % NB] && sm[b] > 1.5 * mean) peaks[np++] = b;
  if (np != 5) fail_msg("pinwheel angle histogram has %d peaks, expected 5", np);
  for (int k = 0; k < 5; k++) {
    int gap = (peaks[(k + 1) % 5] - peaks[k] + NB) % NB;
    assert_true(abs(gap - NB / 5) <= 1);
  }
  /* and deep valleys between the arms */
  double lo = INFINITY;
  for (int b = 0; b < NB; b++) lo = fmin(lo, sm[b]);
  assert_true(lo < 0.35 * mean); /* about 0.22: arms 6x denser than the gaps */
  fl_array_release(a);
}

/* rings: radius 3 r_k, r_k in {1, .75, .5, .25}, plus N(0, 0.08^2 I). */
static void test_rings(void **state)
{
  (void)state;
  fl_array *a = toy("rings", NBIG, 8, 0);
  const double R[4] = {3, 2.25, 1.5, 0.75};
  double s2 = 0.08 * 0.08, m2 = 0, m4 = 0;
  for (int k = 0; k < 4; k++) {
    m2 += R[k] * R[k] / 4;
    m4 += (pow(R[k], 4) + 8 * R[k] * R[k] * s2) / 4;
  }
  assert_moment(a, fx, 0);
  assert_moment(a, fr2, m2 + 2 * s2);
  assert_moment(a, fr4, m4 + 8 * s2 * s2);
  /* each point lies near one ring; the ring counts are ~ n/4 */
  size_t count[4] = {0};
  for (size_t i = 0; i < NBIG; i++) {
    double r = sqrt(fr2(a->data + 2 * i));
    int k = (int)floor((3.375 - r) / 0.75);
    if (k < 0 || k > 3 || fabs(r - R[k]) > 6 * 0.08) fail_msg("point at radius %g is on no ring", r);
    count[k]++;
  }
  for (int k = 0; k < 4; k++) assert_near((double)count[k], NBIG / 4.0, 5 * sqrt(NBIG / 4.0 * 3 / 4));
  fl_array_release(a);
}

/* ------------------------------------------------------------ manifolds */

static void test_manifold_exact(void **state)
{
  (void)state;
  fl_array *a;
  /* circle of radius 2.5 in R^6 without noise: |x| = R, zero padding */
  assert_ok(fl_data_manifold("circle", 10000, 6, 0, 2.5, 1, 0, &a));
  assert_int_equal(a->shape[1], 6);
  double sx = 0, sxx = 0;
  for (size_t i = 0; i < 10000; i++) {
    const double *p = a->data + 6 * i;
    assert_near(hypot(p[0], p[1]), 2.5, 1e-12);
    for (int j = 2; j < 6; j++) assert_true(p[j] == 0.0);
    sx += p[0];
    sxx += p[0] * p[0];
  }
  /* uniform angle: E x = 0, E x^2 = R^2/2 (sd of x^2 = R^2/(2 sqrt 2)) */
  assert_near(sx / 10000, 0, 5 * 2.5 / sqrt(2.0) / 100);
  assert_near(sxx / 10000, 2.5 * 2.5 / 2, 5 * 2.5 * 2.5 / (2 * sqrt(2.0)) / 100);
  fl_array_release(a);

  /* sphere: on the sphere; uniform: E x_j^2 = R^2/3, E x_j = 0, E |x_3| = R/2 */
  assert_ok(fl_data_manifold("sphere", NBIG, 3, 0, 1.0, 2, 0, &a));
  double m[3] = {0}, m2[3] = {0}, az = 0;
  for (size_t i = 0; i < NBIG; i++) {
    const double *p = a->data + 3 * i;
    assert_near(sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]), 1.0, 1e-12);
    for (int j = 0; j < 3; j++) { m[j] += p[j]; m2[j] += p[j] * p[j]; }
    az += fabs(p[2]);
  }
  for (int j = 0; j < 3; j++) {
    assert_near(m[j] / NBIG, 0, 5 / sqrt(3.0 * NBIG));
    /* Var x^2 = E x^4 - 1/9 = 1/5 - 1/9 */
    assert_near(m2[j] / NBIG, 1.0 / 3, 5 * sqrt((0.2 - 1.0 / 9) / NBIG));
  }
  assert_near(az / NBIG, 0.5, 5 * sqrt(1.0 / 12 / NBIG));
  fl_array_release(a);

  /* swissroll: (t cos t, 21 u, t sin t) scaled: radius t in [1.5 pi, 4.5 pi], height in [0, 21] */
  assert_ok(fl_data_manifold("swissroll", 5000, 4, 0, 0.5, 3, 0, &a));
  for (size_t i = 0; i < 5000; i++) {
    const double *p = a->data + 4 * i;
    double t = hypot(p[0], p[2]) / 0.5;
    assert_true(t >= 1.5 * M_PI - 1e-12 && t <= 4.5 * M_PI + 1e-12);
    /* the angle of the point is t itself (mod 2 pi) */
    double c = cos(t) * t * 0.5, s = sin(t) * t * 0.5;
    assert_near(p[0], c, 1e-9);
    assert_near(p[2], s, 1e-9);
    assert_true(p[1] >= 0 && p[1] < 21 * 0.5);
    assert_true(p[3] == 0.0);
  }
  fl_array_release(a);
}

/* With noise s in R^D: the off-manifold coordinates have variance s^2 (and
 * mean 0); for the circle E|x|^2 = R^2 + D s^2. */
static void test_manifold_noise(void **state)
{
  (void)state;
  fl_array *a;
  const double s = 0.05, R = 1.0;
  const int D = 5;
  assert_ok(fl_data_manifold("circle", NBIG, D, s, R, 4, 0, &a));
  for (int j = 2; j < D; j++) {
    double m = 0, v = 0;
    for (size_t i = 0; i < NBIG; i++) {
      double x = a->data[(size_t)D * i + (size_t)j];
      m += x;
      v += x * x;
    }
    assert_near(m / NBIG, 0, 5 * s / sqrt(NBIG));
    assert_near(v / NBIG, s * s, 5 * s * s * sqrt(2.0 / NBIG));
  }
  double r2 = 0, r4 = 0;
  for (size_t i = 0; i < NBIG; i++) {
    double q = 0;
    for (int j = 0; j < D; j++) q += a->data[(size_t)D * i + (size_t)j] * a->data[(size_t)D * i + (size_t)j];
    r2 += q;
    r4 += q * q;
  }
  double se = sqrt((r4 / NBIG - (r2 / NBIG) * (r2 / NBIG)) / NBIG);
  assert_near(r2 / NBIG, R * R + D * s * s, 5 * se);
  fl_array_release(a);

  /* sphere in R^5 with noise: off-manifold coordinates 4, 5 */
  assert_ok(fl_data_manifold("sphere", NBIG, D, 0.1, 2.0, 5, 0, &a));
  for (int j = 3; j < D; j++) {
    double v = 0;
    for (size_t i = 0; i < NBIG; i++) v += a->data[(size_t)D * i + (size_t)j] * a->data[(size_t)D * i + (size_t)j];
    assert_near(v / NBIG, 0.01, 5 * 0.01 * sqrt(2.0 / NBIG));
  }
  /* E x_j^2 on the sphere's own coordinates: R^2/3 + s^2 */
  double v0 = 0;
  for (size_t i = 0; i < NBIG; i++) v0 += a->data[(size_t)D * i] * a->data[(size_t)D * i];
  assert_near(v0 / NBIG, 4.0 / 3 + 0.01, 5 * sqrt(16 * (0.2 - 1.0 / 9) / NBIG) + 1e-3);
  fl_array_release(a);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    T(test_names),         T(test_errors),      T(test_layout),     T(test_determinism),
    T(test_8gaussians),    T(test_checkerboard), T(test_2spirals),  T(test_moons),
    T(test_swissroll),     T(test_circles),     T(test_pinwheel),   T(test_rings),
    T(test_manifold_exact), T(test_manifold_noise),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
