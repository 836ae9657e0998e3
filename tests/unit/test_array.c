/* Unit tests of lib/fl_array.c and lib/fl_array_linalg.c (not the I/O part).
 * Every numeric result is checked against a closed form or an independent
 * computation (plain loops), and every test checks that fl_mem_in_use() is back
 * to its starting value (no leaked array data). */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fl_array.h"
#include "fl_rng.h"
#include "fl_test.h"

/* ------------------------------------------------------------ helpers */

static void assert_shape(const fl_array *a, int nd, size_t s0, size_t s1, size_t s2)
{
  size_t s[3] = {s0, s1, s2};
  assert_int_equal(a->ndim, nd);
  size_t n = 1;
  for (int k = 0; k < nd; k++) {
    assert_int_equal(a->shape[k], s[k]);
    n *= s[k];
  }
  assert_int_equal(a->size, n);
}

static fl_array *arr1(size_t n, const double *d)
{
  fl_array *a;
  assert_ok(fl_array_from_data(1, &n, d, &a));
  return a;
}

static fl_array *arr2(size_t r, size_t c, const double *d)
{
  size_t s[2] = {r, c};
  fl_array *a;
  assert_ok(fl_array_from_data(2, s, d, &a));
  return a;
}

static fl_array *randn2(size_t r, size_t c, uint64_t seed)
{
  size_t s[2] = {r, c};
  fl_array *a;
  assert_ok(fl_array_randn(2, s, seed, 0, &a));
  return a;
}

/* C = A B by a naive triple loop; A r x k, B k x c. */
static void naive_mm(const double *A, const double *B, double *C, size_t r, size_t k, size_t c)
{
  for (size_t i = 0; i < r; i++)
    for (size_t j = 0; j < c; j++) {
      long double s = 0;
      for (size_t l = 0; l < k; l++) s += (long double)A[i * k + l] * B[l * c + j];
      C[i * c + j] = (double)s;
    }
}

static double max_abs_diff(const double *x, const double *y, size_t n)
{
  double m = 0;
  for (size_t i = 0; i < n; i++) m = fmax(m, fabs(x[i] - y[i]));
  return m;
}

/* ------------------------------------------------------------ constructors */

static void test_linspace(void **state)
{
  (void)state;
  fl_array *a = NULL;
  assert_ok(fl_array_linspace(-1.0, 2.0, 7, &a));
  assert_shape(a, 1, 7, 0, 0);
  for (size_t i = 0; i < 7; i++) assert_near(a->data[i], -1.0 + 0.5 * (double)i, 1e-15);
  assert_true(a->data[0] == -1.0 && a->data[6] == 2.0);
  fl_array_release(a);
  assert_ok(fl_array_linspace(0.1, 0.7, 3, &a)); /* the end point is exact */
  assert_true(a->data[2] == 0.7);
  assert_near(a->data[1], 0.4, 1e-16);
  fl_array_release(a);
  assert_ok(fl_array_linspace(3.5, 9.0, 1, &a));
  assert_shape(a, 1, 1, 0, 0);
  assert_true(a->data[0] == 3.5);
  fl_array_release(a);
  a = NULL;
  assert_fails_null(fl_array_linspace(0, 1, 0, &a), FL_EINVAL, a);
  assert_fails_null(fl_array_linspace(0, NAN, 3, &a), FL_ENAN, a);
}

static void test_arange(void **state)
{
  (void)state;
  fl_array *a = NULL;
  assert_ok(fl_array_arange(0, 1, 0.25, &a));
  assert_shape(a, 1, 4, 0, 0);
  for (size_t i = 0; i < 4; i++) assert_true(a->data[i] == 0.25 * (double)i);
  fl_array_release(a);
  assert_ok(fl_array_arange(5, 0, -2, &a)); /* 5 3 1 */
  assert_shape(a, 1, 3, 0, 0);
  assert_true(a->data[0] == 5 && a->data[1] == 3 && a->data[2] == 1);
  fl_array_release(a);
  assert_ok(fl_array_arange(1, 4.5, 1, &a)); /* ceil(3.5) = 4: 1 2 3 4 */
  assert_shape(a, 1, 4, 0, 0);
  assert_true(a->data[3] == 4);
  fl_array_release(a);
  assert_ok(fl_array_arange(2, 2, 1, &a)); /* empty */
  assert_shape(a, 1, 0, 0, 0);
  fl_array_release(a);
  assert_ok(fl_array_arange(3, 0, 1, &a)); /* wrong direction: empty */
  assert_shape(a, 1, 0, 0, 0);
  fl_array_release(a);
  a = NULL;
  assert_fails_null(fl_array_arange(0, 1, 0, &a), FL_EINVAL, a);
  assert_fails_null(fl_array_arange(0, 1e10, 1, &a), FL_ERANGE, a);
  assert_fails_null(fl_array_arange(0, INFINITY, 1, &a), FL_ENAN, a);
}

static void test_eye(void **state)
{
  (void)state;
  fl_array *a;
  assert_ok(fl_array_eye(3, 4, &a));
  assert_shape(a, 2, 3, 4, 0);
  for (size_t i = 0; i < 3; i++)
    for (size_t j = 0; j < 4; j++) assert_true(a->data[i * 4 + j] == (i == j ? 1.0 : 0.0));
  fl_array_release(a);
  assert_ok(fl_array_eye(4, 2, &a));
  assert_true(a->data[0] == 1 && a->data[3] == 1 && a->data[1] == 0 && a->data[4] == 0 && a->data[6] == 0);
  fl_array_release(a);
}

static void test_meshgrid(void **state)
{
  (void)state;
  double x[2] = {1, 2}, y[3] = {10, 20, 30}, z[4] = {-1, -2, -3, -4};
  fl_array *in[3] = {arr1(2, x), arr1(3, y), arr1(4, z)};
  fl_array *out[3];
  assert_ok(fl_array_meshgrid(2, (const fl_array *const *)in, out));
  assert_shape(out[0], 2, 2, 3, 0);
  assert_shape(out[1], 2, 2, 3, 0);
  for (size_t i = 0; i < 2; i++)
    for (size_t j = 0; j < 3; j++) {
      assert_true(out[0]->data[i * 3 + j] == x[i]);
      assert_true(out[1]->data[i * 3 + j] == y[j]);
    }
  fl_array_release(out[0]);
  fl_array_release(out[1]);
  assert_ok(fl_array_meshgrid(3, (const fl_array *const *)in, out));
  for (int k = 0; k < 3; k++) assert_shape(out[k], 3, 2, 3, 4);
  for (size_t i = 0; i < 2; i++)
    for (size_t j = 0; j < 3; j++)
      for (size_t l = 0; l < 4; l++) {
        size_t f = (i * 3 + j) * 4 + l;
        assert_true(out[0]->data[f] == x[i] && out[1]->data[f] == y[j] && out[2]->data[f] == z[l]);
      }
  for (int k = 0; k < 3; k++) fl_array_release(out[k]);
  /* a 2-D input is an error, and nothing is returned */
  fl_array *m = arr2(1, 2, x);
  const fl_array *bad[2] = {in[0], m};
  out[0] = out[1] = (fl_array *)1;
  fl_clear_detail();
  assert_int_equal(fl_array_meshgrid(2, bad, out), FL_EDIM);
  assert_null(out[0]);
  assert_null(out[1]);
  assert_non_null(strstr(fl_last_detail(), "(1,2)"));
  fl_array_release(m);
  for (int k = 0; k < 3; k++) fl_array_release(in[k]);
}

static void test_random(void **state)
{
  (void)state;
  size_t n = 100000, s2[2] = {300, 7};
  fl_array *a, *b, *c, *u;
  assert_ok(fl_array_randn(1, &n, 42, 3, &a));
  assert_ok(fl_array_randn(1, &n, 42, 3, &b));
  assert_ok(fl_array_randn(1, &n, 42, 4, &c));
  assert_memory_equal(a->data, b->data, n * sizeof(double));
  size_t same = 0;
  for (size_t i = 0; i < n; i++) same += a->data[i] == c->data[i];
  assert_true(same < 10);
  for (size_t k = 0; k < 1000; k += 97) assert_true(a->data[k] == fl_rng_normal(42, 3, k));
  /* moments: mean within 5 SE of 0, variance within 5 SE (sqrt(2/n)) of 1 */
  double mean, sd;
  assert_ok(fl_array_reduce_all(FL_MEAN, a, &mean));
  assert_ok(fl_array_reduce_all(FL_STD, a, &sd));
  assert_true(fabs(mean) < 5 / sqrt((double)n));
  assert_true(fabs(sd * sd - 1) < 5 * sqrt(2.0 / (double)n));
  fl_array_release(a);
  fl_array_release(b);
  fl_array_release(c);

  assert_ok(fl_array_rand(1, &n, 7, 0, &u));
  double mn, mx;
  assert_ok(fl_array_reduce_all(FL_MEAN, u, &mean));
  assert_ok(fl_array_reduce_all(FL_STD, u, &sd));
  assert_ok(fl_array_reduce_all(FL_MIN, u, &mn));
  assert_ok(fl_array_reduce_all(FL_MAX, u, &mx));
  assert_true(mn >= 0 && mx < 1);
  assert_true(fabs(mean - 0.5) < 5 * sqrt(1.0 / 12 / (double)n));
  /* Var(U^2 - ...) : variance 1/12, SE of the sample variance sqrt((1/80 - 1/144)/n) */
  assert_true(fabs(sd * sd - 1.0 / 12) < 5 * sqrt((1.0 / 80 - 1.0 / 144) / (double)n));
  assert_true(u->data[12345] == fl_rng_uniform(7, 0, 12345));
  fl_array_release(u);

  assert_ok(fl_array_randn(2, s2, 1, 2, &a)); /* element k is row-major k */
  assert_true(a->data[5 * 7 + 3] == fl_rng_normal(1, 2, 5 * 7 + 3));
  fl_array_release(a);
}

/* ------------------------------------------------------------ views and copies */

static void test_col_row_reshape(void **state)
{
  (void)state;
  double d[6] = {1, 2, 3, 4, 5, 6};
  fl_array *a = arr2(2, 3, d), *c = NULL, *r, *v;
  assert_ok(fl_array_col(a, 2, &c));
  assert_shape(c, 1, 2, 0, 0);
  assert_true(c->data[0] == 3 && c->data[1] == 6);
  fl_array_release(c);
  c = NULL;
  assert_fails_null(fl_array_col(a, 3, &c), FL_ERANGE, c);
  fl_array *one = arr1(6, d);
  assert_fails_null(fl_array_col(one, 0, &c), FL_EDIM, c);
  assert_ok(fl_array_row(a, 1, &r));
  assert_true(r->data[0] == 4 && r->base == a);
  size_t s3[3] = {3, 1, 2};
  assert_ok(fl_array_reshape(a, 3, s3, &v));
  assert_true(v->data[5] == 6);
  fl_array_release(a); /* the views keep the data alive */
  assert_true(r->data[2] == 6);
  fl_array_release(r);
  fl_array_release(v);
  fl_array_release(one);
}

static void test_slice(void **state)
{
  (void)state;
  size_t s[2] = {4, 5};
  fl_array *a, *b = NULL;
  assert_ok(fl_array_new(2, s, &a));
  for (size_t i = 0; i < 20; i++) a->data[i] = (double)i; /* a[i][j] = 5i + j */
  fl_range r[2] = {{3, 0, -1}, {0, 5, 2}};                 /* rows 3,2,1; cols 0,2,4 */
  assert_ok(fl_array_slice(a, 2, r, &b));
  assert_shape(b, 2, 3, 3, 0);
  for (size_t i = 0; i < 3; i++)
    for (size_t j = 0; j < 3; j++) assert_true(b->data[i * 3 + j] == 5.0 * (3 - i) + 2.0 * j);
  fl_array_release(b);
  fl_range rev[2] = {{0, 4, 1}, {4, -1, -1}}; /* full reverse of the columns */
  assert_ok(fl_array_slice(a, 2, rev, &b));
  assert_shape(b, 2, 4, 5, 0);
  for (size_t i = 0; i < 4; i++)
    for (size_t j = 0; j < 5; j++) assert_true(b->data[i * 5 + j] == 5.0 * i + (4 - j));
  fl_array_release(b);
  fl_range r1[1] = {{1, 4, 2}}; /* axis 1 taken whole: rows 1, 3 */
  assert_ok(fl_array_slice(a, 1, r1, &b));
  assert_shape(b, 2, 2, 5, 0);
  assert_true(b->data[0] == 5 && b->data[5] == 15 && b->data[9] == 19);
  fl_array_release(b);
  fl_range r2[2] = {{0, 4, 1}, {4, 3, -3}}; /* col 4 only */
  assert_ok(fl_array_slice(a, 2, r2, &b));
  assert_shape(b, 2, 4, 1, 0);
  assert_true(b->data[3] == 19);
  fl_array_release(b);
  fl_range e[2] = {{2, 2, 1}, {0, 5, 1}}; /* empty */
  assert_ok(fl_array_slice(a, 2, e, &b));
  assert_shape(b, 2, 0, 5, 0);
  fl_array_release(b);
  b = NULL;
  fl_range z[1] = {{0, 4, 0}}, oob[1] = {{4, 6, 1}}, oob2[1] = {{0, 6, 1}}, neg[1] = {{-1, 2, 1}};
  assert_fails_null(fl_array_slice(a, 1, z, &b), FL_EINVAL, b);
  assert_fails_null(fl_array_slice(a, 1, oob, &b), FL_ERANGE, b);
  assert_fails_null(fl_array_slice(a, 1, oob2, &b), FL_ERANGE, b);
  assert_fails_null(fl_array_slice(a, 1, neg, &b), FL_ERANGE, b);
  fl_range huge[2] = {{1, 2, 1}, {0, 5, 1000000000000000000LL}}; /* one index each: a huge step is fine */
  assert_ok(fl_array_slice(a, 2, huge, &b));
  assert_shape(b, 2, 1, 1, 0);
  assert_true(b->data[0] == 5);
  fl_array_release(b);
  b = NULL;
  fl_range three[3] = {{0, 1, 1}, {0, 1, 1}, {0, 1, 1}};
  assert_fails_null(fl_array_slice(a, 3, three, &b), FL_ERANGE, b);
  fl_array_release(a);
}

static void test_transpose(void **state)
{
  (void)state;
  size_t s3[3] = {2, 3, 4};
  fl_array *a, *t;
  assert_ok(fl_array_new(3, s3, &a));
  for (size_t i = 0; i < a->size; i++) a->data[i] = (double)i;
  assert_ok(fl_array_transpose(a, &t));
  assert_shape(t, 3, 4, 3, 2);
  for (size_t i = 0; i < 2; i++)
    for (size_t j = 0; j < 3; j++)
      for (size_t k = 0; k < 4; k++) assert_true(t->data[(k * 3 + j) * 2 + i] == a->data[(i * 3 + j) * 4 + k]);
  fl_array_release(a);
  fl_array_release(t);
  /* 2-D, larger than a block and not a multiple of it */
  a = randn2(70, 45, 9);
  assert_ok(fl_array_transpose(a, &t));
  assert_shape(t, 2, 45, 70, 0);
  for (size_t i = 0; i < 70; i++)
    for (size_t j = 0; j < 45; j++) assert_true(t->data[j * 70 + i] == a->data[i * 45 + j]);
  fl_array_release(a);
  fl_array_release(t);
  a = randn2(300, 200, 10); /* parallel path */
  assert_ok(fl_array_transpose(a, &t));
  for (size_t i = 0; i < 300; i += 7)
    for (size_t j = 0; j < 200; j += 3) assert_true(t->data[j * 300 + i] == a->data[i * 200 + j]);
  fl_array_release(a);
  fl_array_release(t);
  double d[3] = {1, 2, 3};
  a = arr1(3, d);
  assert_ok(fl_array_transpose(a, &t));
  assert_shape(t, 1, 3, 0, 0);
  assert_true(t->data != a->data && t->data[2] == 3);
  fl_array_release(a);
  fl_array_release(t);
}

static void test_concat_stack(void **state)
{
  (void)state;
  double da[6] = {1, 2, 3, 4, 5, 6}, db[4] = {7, 8, 9, 10}, dc[2] = {11, 12};
  fl_array *a = arr2(2, 3, da), *b = arr2(2, 2, db), *c = arr2(1, 2, dc), *o = NULL;
  const fl_array *ab[2] = {a, b};
  assert_ok(fl_array_concat(2, ab, 1, &o));
  assert_shape(o, 2, 2, 5, 0);
  double e1[10] = {1, 2, 3, 7, 8, 4, 5, 6, 9, 10};
  assert_memory_equal(o->data, e1, sizeof e1);
  fl_array_release(o);
  const fl_array *bcb[3] = {b, c, b};
  assert_ok(fl_array_concat(3, bcb, 0, &o));
  assert_shape(o, 2, 5, 2, 0);
  double e2[10] = {7, 8, 9, 10, 11, 12, 7, 8, 9, 10};
  assert_memory_equal(o->data, e2, sizeof e2);
  fl_array_release(o);
  o = NULL;
  assert_fails_null(fl_array_concat(2, ab, 0, &o), FL_EDIM, o);
  assert_non_null(strstr(fl_last_detail(), "(2,3)"));
  assert_fails_null(fl_array_concat(2, ab, 2, &o), FL_ERANGE, o);
  assert_fails_null(fl_array_concat(2, ab, -1, &o), FL_ERANGE, o);
  assert_fails_null(fl_array_concat(0, ab, 0, &o), FL_EINVAL, o);

  double dd[6] = {-1, -2, -3, -4, -5, -6};
  fl_array *d = arr2(2, 3, dd);
  const fl_array *ad[2] = {a, d};
  assert_ok(fl_array_stack(2, ad, 0, &o));
  assert_shape(o, 3, 2, 2, 3);
  for (size_t i = 0; i < 6; i++) assert_true(o->data[i] == da[i] && o->data[6 + i] == dd[i]);
  fl_array_release(o);
  assert_ok(fl_array_stack(2, ad, 1, &o));
  assert_shape(o, 3, 2, 2, 3);
  for (size_t i = 0; i < 2; i++)
    for (size_t j = 0; j < 3; j++) {
      assert_true(o->data[(i * 2 + 0) * 3 + j] == da[i * 3 + j]);
      assert_true(o->data[(i * 2 + 1) * 3 + j] == dd[i * 3 + j]);
    }
  fl_array_release(o);
  assert_ok(fl_array_stack(2, ad, 2, &o));
  assert_shape(o, 3, 2, 3, 2);
  for (size_t i = 0; i < 6; i++) assert_true(o->data[2 * i] == da[i] && o->data[2 * i + 1] == dd[i]);
  fl_array_release(o);
  o = NULL;
  assert_fails_null(fl_array_stack(2, ab, 0, &o), FL_EDIM, o);
  assert_fails_null(fl_array_stack(2, ad, 3, &o), FL_ERANGE, o);
  fl_array_release(a);
  fl_array_release(b);
  fl_array_release(c);
  fl_array_release(d);
}

/* ------------------------------------------------------------ element-wise */

static double ref_op(fl_binop op, double x, double y)
{
  switch (op) {
  case FL_ADD: return x + y;
  case FL_SUB: return x - y;
  case FL_MUL: return x * y;
  case FL_DIV: return x / y;
  case FL_POW: return pow(x, y);
  }
  return NAN;
}

/* out of a general broadcast, element by element from the numpy definition. */
static void check_broadcast(fl_binop op, const fl_array *a, const fl_array *b, const fl_array *z)
{
  int nd = z->ndim;
  size_t idx[FL_MAXDIM];
  for (size_t f = 0; f < z->size; f++) {
    size_t r = f;
    for (int k = nd - 1; k >= 0; k--) {
      idx[k] = r % z->shape[k];
      r /= z->shape[k];
    }
    size_t fa = 0, fb = 0;
    for (int k = 0; k < a->ndim; k++) {
      size_t i = a->shape[k] == 1 ? 0 : idx[k + nd - a->ndim];
      fa = fa * a->shape[k] + i;
    }
    for (int k = 0; k < b->ndim; k++) {
      size_t i = b->shape[k] == 1 ? 0 : idx[k + nd - b->ndim];
      fb = fb * b->shape[k] + i;
    }
    double e = ref_op(op, a->data[fa], b->data[fb]);
    if (!(z->data[f] == e)) fail_msg("element %zu: %.17g, expected %.17g", f, z->data[f], e);
  }
}

static void test_binop_hand(void **state)
{
  (void)state;
  double da[6] = {1, 2, 3, 4, 5, 6}, dr[3] = {10, 20, 30}, dc[2] = {100, 200}, ds[1] = {2};
  fl_array *a = arr2(2, 3, da), *r = arr1(3, dr), *c = arr2(2, 1, dc), *s = arr1(1, ds), *z = NULL;
  /* same shape */
  assert_ok(fl_array_binop(FL_MUL, a, a, &z));
  for (int i = 0; i < 6; i++) assert_true(z->data[i] == da[i] * da[i]);
  fl_array_release(z);
  /* scalar-shaped operand on either side */
  assert_ok(fl_array_binop(FL_SUB, a, s, &z));
  assert_shape(z, 2, 2, 3, 0);
  for (int i = 0; i < 6; i++) assert_true(z->data[i] == da[i] - 2);
  fl_array_release(z);
  assert_ok(fl_array_binop(FL_DIV, s, a, &z));
  for (int i = 0; i < 6; i++) assert_true(z->data[i] == 2 / da[i]);
  fl_array_release(z);
  /* row vector (2,3) op (3) and (3) op (2,3) */
  assert_ok(fl_array_binop(FL_ADD, a, r, &z));
  double e_add[6] = {11, 22, 33, 14, 25, 36};
  assert_memory_equal(z->data, e_add, sizeof e_add);
  fl_array_release(z);
  assert_ok(fl_array_binop(FL_SUB, r, a, &z));
  double e_sub[6] = {9, 18, 27, 6, 15, 24};
  assert_shape(z, 2, 2, 3, 0);
  assert_memory_equal(z->data, e_sub, sizeof e_sub);
  fl_array_release(z);
  /* column (2,1) op (2,3) */
  assert_ok(fl_array_binop(FL_SUB, c, a, &z));
  double e_col[6] = {99, 98, 97, 196, 195, 194};
  assert_memory_equal(z->data, e_col, sizeof e_col);
  fl_array_release(z);
  /* outer: (2,1) op (3) -> (2,3) */
  assert_ok(fl_array_binop(FL_MUL, c, r, &z));
  assert_shape(z, 2, 2, 3, 0);
  double e_out[6] = {1000, 2000, 3000, 2000, 4000, 6000};
  assert_memory_equal(z->data, e_out, sizeof e_out);
  fl_array_release(z);
  /* pow */
  assert_ok(fl_array_binop(FL_POW, a, s, &z));
  for (int i = 0; i < 6; i++) assert_true(z->data[i] == da[i] * da[i]);
  fl_array_release(z);
  /* (3) op (1,1) -> (1,3) */
  fl_array *s11 = arr2(1, 1, ds);
  assert_ok(fl_array_binop(FL_ADD, r, s11, &z));
  assert_shape(z, 2, 1, 3, 0);
  assert_true(z->data[2] == 32);
  fl_array_release(z);
  fl_array_release(s11);
  /* mismatch, numpy's message */
  double d4[4] = {0};
  fl_array *f4 = arr1(4, d4);
  z = NULL;
  assert_fails_null(fl_array_binop(FL_ADD, a, f4, &z), FL_EDIM, z);
  assert_string_equal(fl_last_detail(), "operands could not be broadcast together with shapes (2,3) (4)");
  int nd;
  size_t bs[FL_MAXDIM];
  assert_int_equal(fl_broadcast_shape(f4, a, &nd, bs), FL_EDIM);
  assert_ok(fl_broadcast_shape(c, r, &nd, bs));
  assert_true(nd == 2 && bs[0] == 2 && bs[1] == 3);
  fl_array_release(f4);
  assert_fails_null(fl_array_binop((fl_binop)99, a, a, &z), FL_EINVAL, z);
  assert_fails_null(fl_array_binop_scalar((fl_binop)-1, a, 1, 0, &z), FL_EINVAL, z);
  assert_fails_null(fl_array_map((fl_unop)99, a, &z), FL_EINVAL, z);
  /* scalar versions */
  assert_ok(fl_array_binop_scalar(FL_SUB, a, 1.5, 0, &z));
  for (int i = 0; i < 6; i++) assert_true(z->data[i] == da[i] - 1.5);
  fl_array_release(z);
  assert_ok(fl_array_binop_scalar(FL_SUB, a, 1.5, 1, &z));
  for (int i = 0; i < 6; i++) assert_true(z->data[i] == 1.5 - da[i]);
  fl_array_release(z);
  assert_ok(fl_array_binop_scalar(FL_POW, a, 2, 1, &z));
  for (int i = 0; i < 6; i++) assert_true(z->data[i] == pow(2, da[i]));
  fl_array_release(z);
  assert_ok(fl_array_binop_scalar(FL_DIV, a, 4, 0, &z));
  assert_true(z->data[5] == 1.5);
  fl_array_release(z);
  fl_array_release(a);
  fl_array_release(r);
  fl_array_release(c);
  fl_array_release(s);
}

static void test_binop_general(void **state)
{
  (void)state;
  /* shapes: {a}, {b}; includes 3-D, both-sided broadcasts and sizes above the parallel threshold */
  static const size_t cases[][2][4] = {
      /* ndim, s0, s1, s2 */
      {{3, 2, 1, 4}, {2, 3, 1, 0}},     /* (2,1,4) op (3,1) -> (2,3,4) */
      {{3, 2, 3, 4}, {3, 2, 1, 4}},     /* middle axis */
      {{3, 1, 3, 1}, {3, 2, 1, 4}},     /* both broadcast */
      {{2, 5, 1, 0}, {2, 1, 6, 0}},     /* column by row */
      {{1, 4, 0, 0}, {3, 3, 1, 1}},     /* (4) op (3,1,1) */
      {{2, 300, 200, 0}, {1, 200, 0, 0}}, /* row broadcast, parallel */
      {{2, 300, 200, 0}, {2, 300, 1, 0}}, /* column broadcast, parallel */
      {{2, 1, 200, 0}, {3, 300, 1, 1}},   /* general, parallel */
      {{2, 300, 1, 0}, {2, 1, 200, 0}},   /* outer, parallel */
  };
  fl_binop ops[5] = {FL_ADD, FL_SUB, FL_MUL, FL_DIV, FL_POW};
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    fl_array *ab[2];
    for (int w = 0; w < 2; w++) {
      size_t s[3] = {cases[c][w][1], cases[c][w][2], cases[c][w][3]};
      assert_ok(fl_array_rand((int)cases[c][w][0], s, 5 + c, (uint64_t)w, &ab[w]));
    }
    for (int o = 0; o < 5; o++)
      for (int sw = 0; sw < 2; sw++) {
        fl_array *z;
        assert_ok(fl_array_binop(ops[o], ab[sw], ab[1 - sw], &z));
        check_broadcast(ops[o], ab[sw], ab[1 - sw], z);
        fl_array_release(z);
      }
    fl_array_release(ab[0]);
    fl_array_release(ab[1]);
  }
  /* large same-shape and scalar paths */
  fl_array *x = randn2(400, 100, 3), *y = randn2(400, 100, 4), *z;
  assert_ok(fl_array_binop(FL_DIV, x, y, &z));
  for (size_t i = 0; i < x->size; i++) assert_true(z->data[i] == x->data[i] / y->data[i]);
  fl_array_release(z);
  assert_ok(fl_array_binop_scalar(FL_MUL, x, -3, 1, &z));
  for (size_t i = 0; i < x->size; i++) assert_true(z->data[i] == -3 * x->data[i]);
  fl_array_release(z);
  fl_array_release(x);
  fl_array_release(y);
  /* empty broadcasts */
  size_t s0 = 0, s1 = 1;
  fl_array *e, *one;
  assert_ok(fl_array_zeros(1, &s0, &e));
  assert_ok(fl_array_full(1, &s1, 2.0, &one));
  assert_ok(fl_array_binop(FL_ADD, e, one, &z));
  assert_shape(z, 1, 0, 0, 0);
  fl_array_release(z);
  fl_array_release(e);
  fl_array_release(one);
}

static void test_map(void **state)
{
  (void)state;
  size_t n = 50000;
  fl_array *a, *z;
  assert_ok(fl_array_rand(1, &n, 11, 0, &a));
  static double (*const f[8])(double) = {NULL, exp, log, sqrt, fabs, sin, cos, tanh};
  for (int op = FL_NEG; op <= FL_TANH; op++) {
    assert_ok(fl_array_map((fl_unop)op, a, &z));
    for (size_t i = 0; i < n; i += 13) {
      double e = op == FL_NEG ? -a->data[i] : f[op](a->data[i]);
      assert_true(z->data[i] == e);
    }
    fl_array_release(z);
  }
  fl_array_release(a);
}

/* ------------------------------------------------------------ reductions */

static void test_reduce_all(void **state)
{
  (void)state;
  double d[6] = {3, -1, 4, 1, -5, 9}, v;
  fl_array *a = arr2(2, 3, d);
  assert_ok(fl_array_reduce_all(FL_SUM, a, &v));
  assert_true(v == 11);
  assert_ok(fl_array_reduce_all(FL_MEAN, a, &v));
  assert_near(v, 11.0 / 6, 1e-15);
  assert_ok(fl_array_reduce_all(FL_MIN, a, &v));
  assert_true(v == -5);
  assert_ok(fl_array_reduce_all(FL_MAX, a, &v));
  assert_true(v == 9);
  assert_ok(fl_array_reduce_all(FL_ARGMIN, a, &v));
  assert_true(v == 4);
  assert_ok(fl_array_reduce_all(FL_ARGMAX, a, &v));
  assert_true(v == 5);
  assert_ok(fl_array_reduce_all(FL_NORM, a, &v));
  assert_near(v, sqrt(133.0), 1e-14);
  double m = 11.0 / 6, ss = 0;
  for (int i = 0; i < 6; i++) ss += (d[i] - m) * (d[i] - m);
  assert_ok(fl_array_reduce_all(FL_STD, a, &v));
  assert_near(v, sqrt(ss / 6), 1e-14); /* population std */
  fl_array_release(a);

  /* first occurrence for ties, NaN propagates */
  double t[5] = {1, 7, 7, NAN, 0};
  a = arr1(3, t);
  assert_ok(fl_array_reduce_all(FL_ARGMAX, a, &v));
  assert_true(v == 1);
  fl_array_release(a);
  a = arr1(5, t);
  assert_ok(fl_array_reduce_all(FL_MAX, a, &v));
  assert_true(isnan(v));
  assert_ok(fl_array_reduce_all(FL_ARGMIN, a, &v));
  assert_true(v == 3);
  fl_array_release(a);

  /* huge values do not overflow the norm */
  double h[2] = {3e200, 4e200};
  a = arr1(2, h);
  assert_ok(fl_array_reduce_all(FL_NORM, a, &v));
  assert_rel(v, 5e200, 1e-15);
  fl_array_release(a);

  /* large: blocked parallel sums against long double loops, std against two-pass */
  size_t n = 1000003;
  assert_ok(fl_array_randn(1, &n, 5, 1, &a));
  long double s = 0;
  for (size_t i = 0; i < n; i++) s += a->data[i] + 3.0;
  fl_array *b;
  assert_ok(fl_array_binop_scalar(FL_ADD, a, 3.0, 0, &b));
  assert_ok(fl_array_reduce_all(FL_SUM, b, &v));
  assert_rel(v, (double)s, 1e-13);
  long double mean = s / n, q = 0;
  for (size_t i = 0; i < n; i++) q += (b->data[i] - mean) * (b->data[i] - mean);
  assert_ok(fl_array_reduce_all(FL_STD, b, &v));
  assert_rel(v, (double)sqrtl(q / n), 1e-12);
  fl_array_release(a);
  fl_array_release(b);

  /* empty */
  size_t z0 = 0;
  assert_ok(fl_array_zeros(1, &z0, &a));
  assert_ok(fl_array_reduce_all(FL_SUM, a, &v));
  assert_true(v == 0);
  fl_clear_detail();
  assert_int_equal(fl_array_reduce_all(FL_MIN, a, &v), FL_EINVAL);
  assert_int_equal(fl_array_reduce_all(FL_ARGMAX, a, &v), FL_EINVAL);
  assert_true(fl_last_detail()[0] != '\0');
  fl_array_release(a);
}

static double ref_reduce(fl_redop op, const double *x, size_t n, size_t s)
{
  double sum = 0, best = x[0];
  size_t bi = 0;
  for (size_t i = 0; i < n; i++) sum += x[i * s];
  double mean = sum / (double)n, q = 0, nn = 0;
  for (size_t i = 0; i < n; i++) {
    q += (x[i * s] - mean) * (x[i * s] - mean);
    nn += x[i * s] * x[i * s];
    if ((op == FL_MAX || op == FL_ARGMAX) ? x[i * s] > best : x[i * s] < best) {
      best = x[i * s];
      bi = i;
    }
  }
  switch (op) {
  case FL_SUM: return sum;
  case FL_MEAN: return mean;
  case FL_STD: return sqrt(q / (double)n);
  case FL_NORM: return sqrt(nn);
  case FL_MIN:
  case FL_MAX: return best;
  case FL_ARGMIN:
  case FL_ARGMAX: return (double)bi;
  }
  return NAN;
}

static void test_reduce_axis(void **state)
{
  (void)state;
  size_t s[3] = {3, 4, 5};
  fl_array *a, *z = NULL;
  assert_ok(fl_array_randn(3, s, 8, 0, &a));
  for (int op = FL_SUM; op <= FL_ARGMIN; op++)
    for (int ax = 0; ax < 3; ax++) {
      assert_ok(fl_array_reduce((fl_redop)op, a, ax, &z));
      size_t rs[2];
      for (int k = 0, j = 0; k < 3; k++)
        if (k != ax) rs[j++] = s[k];
      assert_shape(z, 2, rs[0], rs[1], 0);
      size_t str[3] = {20, 5, 1};
      for (size_t p = 0; p < rs[0]; p++)
        for (size_t q = 0; q < rs[1]; q++) {
          size_t idx[3], j = 0;
          for (int k = 0; k < 3; k++) idx[k] = k == ax ? 0 : (j++ == 0 ? p : q);
          size_t base = idx[0] * 20 + idx[1] * 5 + idx[2];
          double e = ref_reduce((fl_redop)op, a->data + base, s[ax], str[ax]);
          assert_near(z->data[p * rs[1] + q], e, 1e-13);
        }
      fl_array_release(z);
    }
  fl_array_release(a);

  /* big (n, m) along each axis (row-by-row walk, parallel path) */
  fl_array *b = randn2(2000, 37, 12);
  for (int ax = 0; ax < 2; ax++)
    for (int op = FL_SUM; op <= FL_ARGMIN; op++) {
      assert_ok(fl_array_reduce((fl_redop)op, b, ax, &z));
      size_t len = ax ? 2000 : 37;
      assert_shape(z, 1, len, 0, 0);
      for (size_t i = 0; i < len; i++) {
        double e = ax ? ref_reduce((fl_redop)op, b->data + i * 37, 37, 1)
                      : ref_reduce((fl_redop)op, b->data + i, 2000, 37);
        assert_near(z->data[i], e, 1e-11);
      }
      fl_array_release(z);
    }
  fl_array_release(b);

  /* 1-D along axis 0 gives shape (1) */
  double d[4] = {2, 8, -1, 3};
  a = arr1(4, d);
  assert_ok(fl_array_reduce(FL_ARGMAX, a, 0, &z));
  assert_shape(z, 1, 1, 0, 0);
  assert_true(z->data[0] == 1);
  fl_array_release(z);
  assert_ok(fl_array_reduce(FL_STD, a, 0, &z));
  assert_near(z->data[0], sqrt(((2 - 3) * (2 - 3) + 25 + 16 + 0) / 4.0), 1e-15);
  fl_array_release(z);
  z = NULL;
  assert_fails_null(fl_array_reduce(FL_SUM, a, 1, &z), FL_ERANGE, z);
  assert_fails_null(fl_array_reduce(FL_SUM, a, -1, &z), FL_ERANGE, z);
  fl_array_release(a);
  size_t es[2] = {0, 3};
  assert_ok(fl_array_zeros(2, es, &a));
  assert_fails_null(fl_array_reduce(FL_MAX, a, 0, &z), FL_EINVAL, z);
  assert_ok(fl_array_reduce(FL_SUM, a, 0, &z)); /* sum over an empty axis is 0 */
  assert_shape(z, 1, 3, 0, 0);
  assert_true(z->data[0] == 0 && z->data[2] == 0);
  fl_array_release(z);
  fl_array_release(a);
}

/* ------------------------------------------------------------ BLAS */

static void test_matmul(void **state)
{
  (void)state;
  fl_array *a = randn2(37, 53, 1), *b = randn2(53, 29, 2), *c = NULL;
  assert_ok(fl_array_matmul(a, b, &c));
  assert_shape(c, 2, 37, 29, 0);
  double ref[37 * 29];
  naive_mm(a->data, b->data, ref, 37, 53, 29);
  for (size_t i = 0; i < 37 * 29; i++) assert_rel(c->data[i], ref[i], 1e-12);
  fl_array_release(c);

  /* 2-D x 1-D and 1-D x 2-D */
  fl_array *x, *y;
  size_t n53 = 53, n37 = 37;
  assert_ok(fl_array_randn(1, &n53, 3, 0, &x));
  assert_ok(fl_array_randn(1, &n37, 4, 0, &y));
  assert_ok(fl_array_matmul(a, x, &c));
  assert_shape(c, 1, 37, 0, 0);
  naive_mm(a->data, x->data, ref, 37, 53, 1);
  for (size_t i = 0; i < 37; i++) assert_rel(c->data[i], ref[i], 1e-12);
  fl_array_release(c);
  assert_ok(fl_array_matmul(y, a, &c));
  assert_shape(c, 1, 53, 0, 0);
  naive_mm(y->data, a->data, ref, 1, 37, 53);
  for (size_t i = 0; i < 53; i++) assert_rel(c->data[i], ref[i], 1e-12);
  fl_array_release(c);
  /* 1-D x 1-D -> (1), and dot */
  assert_ok(fl_array_matmul(x, x, &c));
  assert_shape(c, 1, 1, 0, 0);
  long double s = 0;
  for (size_t i = 0; i < 53; i++) s += (long double)x->data[i] * x->data[i];
  assert_rel(c->data[0], (double)s, 1e-13);
  fl_array_release(c);
  double dv;
  assert_ok(fl_array_dot(a, a, &dv));
  fl_array *sq;
  assert_ok(fl_array_binop(FL_MUL, a, a, &sq));
  double sv;
  assert_ok(fl_array_reduce_all(FL_SUM, sq, &sv));
  assert_rel(dv, sv, 1e-13);
  fl_array_release(sq);

  /* errors */
  c = NULL;
  assert_fails_null(fl_array_matmul(a, a, &c), FL_EDIM, c);
  assert_non_null(strstr(fl_last_detail(), "shapes (37,53) and (37,53) are not aligned"));
  assert_fails_null(fl_array_matmul(x, y, &c), FL_EDIM, c);
  assert_fails_null(fl_array_matmul(b, x, &c), FL_EDIM, c);
  size_t s3[3] = {2, 2, 2};
  fl_array *t3;
  assert_ok(fl_array_zeros(3, s3, &t3));
  assert_fails_null(fl_array_matmul(t3, t3, &c), FL_EDIM, c);
  fl_clear_detail();
  assert_int_equal(fl_array_dot(x, y, &dv), FL_EDIM);
  assert_true(fl_last_detail()[0] != '\0');
  fl_array_release(t3);

  /* inner extent 0 gives zeros */
  size_t s30[2] = {3, 0}, s02[2] = {0, 2};
  fl_array *p, *q;
  assert_ok(fl_array_new(2, s30, &p));
  assert_ok(fl_array_new(2, s02, &q));
  assert_ok(fl_array_matmul(p, q, &c));
  assert_shape(c, 2, 3, 2, 0);
  for (int i = 0; i < 6; i++) assert_true(c->data[i] == 0);
  fl_array_release(c);
  fl_array_release(p);
  fl_array_release(q);
  fl_array_release(a);
  fl_array_release(b);
  fl_array_release(x);
  fl_array_release(y);
}

/* ------------------------------------------------------------ LAPACK */

/* n x n random + n I: well conditioned */
static fl_array *well_conditioned(size_t n, uint64_t seed)
{
  fl_array *a = randn2(n, n, seed);
  for (size_t i = 0; i < n; i++) a->data[i * n + i] += (double)n;
  return a;
}

static void test_solve(void **state)
{
  (void)state;
  /* closed form: [[3,1],[1,2]] x = [9,8] -> x = [2,3] */
  double ad[4] = {3, 1, 1, 2}, bd[2] = {9, 8};
  fl_array *A = arr2(2, 2, ad), *b = arr1(2, bd), *x = NULL;
  assert_ok(fl_array_solve(A, b, &x));
  assert_shape(x, 1, 2, 0, 0);
  assert_near(x->data[0], 2, 1e-15);
  assert_near(x->data[1], 3, 1e-15);
  assert_true(A->data[0] == 3 && b->data[0] == 9); /* inputs untouched */
  fl_array_release(x);
  fl_array_release(A);
  fl_array_release(b);

  /* random 50x50: residual, 1-D and 2-D right-hand sides */
  size_t n = 50;
  A = well_conditioned(n, 21);
  fl_array *B = randn2(n, 3, 22), *r;
  assert_ok(fl_array_solve(A, B, &x));
  assert_shape(x, 2, 50, 3, 0);
  assert_ok(fl_array_matmul(A, x, &r));
  assert_true(max_abs_diff(r->data, B->data, n * 3) < 1e-12);
  fl_array_release(r);
  fl_array *b1;
  assert_ok(fl_array_col(B, 1, &b1));
  fl_array *x1;
  assert_ok(fl_array_solve(A, b1, &x1));
  assert_shape(x1, 1, 50, 0, 0);
  for (size_t i = 0; i < n; i++) assert_near(x1->data[i], x->data[i * 3 + 1], 1e-13);
  fl_array_release(x1);
  fl_array_release(x);

  /* errors */
  x = NULL;
  assert_fails_null(fl_array_solve(B, b1, &x), FL_EDIM, x); /* not square */
  fl_array *b7 = randn2(7, 1, 3);
  assert_fails_null(fl_array_solve(A, b7, &x), FL_EDIM, x); /* rhs mismatch */
  fl_array_release(b7);
  double sd[4] = {1, 2, 2, 4};
  fl_array *S = arr2(2, 2, sd), *b2 = arr1(2, bd);
  assert_fails_null(fl_array_solve(S, b2, &x), FL_ESINGULAR, x);
  assert_non_null(strstr(fl_last_detail(), "singular"));
  double nd[4] = {1, NAN, 0, 1};
  fl_array *N = arr2(2, 2, nd);
  assert_fails_null(fl_array_solve(N, b2, &x), FL_ENAN, x);
  assert_non_null(strstr(fl_last_detail(), "NaN or Inf"));
  b2->data[1] = INFINITY;
  assert_fails_null(fl_array_solve(A = (fl_array_release(A), arr2(2, 2, ad)), b2, &x), FL_ENAN, x);
  /* 0x0 system */
  size_t s00[2] = {0, 0}, z0 = 0;
  fl_array *A0, *b0;
  assert_ok(fl_array_new(2, s00, &A0));
  assert_ok(fl_array_new(1, &z0, &b0));
  assert_ok(fl_array_solve(A0, b0, &x));
  assert_shape(x, 1, 0, 0, 0);
  fl_array_release(x);
  double dv;
  assert_ok(fl_array_det(A0, &dv));
  assert_true(dv == 1);
  fl_array_release(A0);
  fl_array_release(b0);
  fl_array_release(N);
  fl_array_release(S);
  fl_array_release(b2);
  fl_array_release(b1);
  fl_array_release(B);
  fl_array_release(A);
}

static void test_cholesky(void **state)
{
  (void)state;
  size_t n = 6;
  fl_array *M = randn2(n, n, 31), *Mt, *A, *L = NULL, *Lt, *R;
  assert_ok(fl_array_transpose(M, &Mt));
  assert_ok(fl_array_matmul(M, Mt, &A));
  for (size_t i = 0; i < n; i++) A->data[i * n + i] += 1.0;
  assert_ok(fl_array_cholesky(A, &L));
  assert_shape(L, 2, 6, 6, 0);
  for (size_t i = 0; i < n; i++) {
    assert_true(L->data[i * n + i] > 0);
    for (size_t j = i + 1; j < n; j++) assert_true(L->data[i * n + j] == 0);
  }
  assert_ok(fl_array_transpose(L, &Lt));
  assert_ok(fl_array_matmul(L, Lt, &R));
  assert_true(max_abs_diff(R->data, A->data, n * n) < 1e-12);
  fl_array_release(R);
  fl_array_release(Lt);
  fl_array_release(L);
  /* closed form: [[4,2],[2,5]] = [[2,0],[1,2]] [[2,1],[0,2]] */
  double cd[4] = {4, 2, 2, 5};
  fl_array *C = arr2(2, 2, cd);
  assert_ok(fl_array_cholesky(C, &L));
  assert_near(L->data[0], 2, 1e-15);
  assert_near(L->data[2], 1, 1e-15);
  assert_near(L->data[3], 2, 1e-15);
  assert_true(L->data[1] == 0);
  fl_array_release(L);
  L = NULL;
  /* not positive definite */
  double nd[4] = {1, 2, 2, 1};
  fl_array *N = arr2(2, 2, nd);
  assert_fails_null(fl_array_cholesky(N, &L), FL_ESINGULAR, L);
  assert_non_null(strstr(fl_last_detail(), "not positive definite"));
  N->data[1] = NAN;
  assert_fails_null(fl_array_cholesky(N, &L), FL_ENAN, L);
  assert_non_null(strstr(fl_last_detail(), "NaN or Inf"));
  assert_fails_null(fl_array_cholesky(Mt = (fl_array_release(Mt), randn2(2, 3, 1)), &L), FL_EDIM, L);
  fl_array_release(N);
  fl_array_release(C);
  fl_array_release(Mt);
  fl_array_release(M);
  fl_array_release(A);
}

static void test_eigh(void **state)
{
  (void)state;
  double d[4] = {2, 1, 1, 2};
  fl_array *A = arr2(2, 2, d), *w = NULL, *V = NULL;
  assert_ok(fl_array_eigh(A, &w, &V));
  assert_shape(w, 1, 2, 0, 0);
  assert_shape(V, 2, 2, 2, 0);
  assert_near(w->data[0], 1, 1e-14);
  assert_near(w->data[1], 3, 1e-14);
  /* eigenvector of 3 is (1,1)/sqrt2 up to sign, in column 1 */
  assert_near(fabs(V->data[1]), M_SQRT1_2, 1e-14);
  assert_near(V->data[1], V->data[3], 1e-14);
  fl_array_release(w);
  fl_array_release(V);
  fl_array_release(A);

  /* random symmetric 8x8: A V = V diag(w), V orthonormal, w ascending */
  size_t n = 8;
  fl_array *M = randn2(n, n, 41), *Mt, *AV, *Vt, *VtV;
  assert_ok(fl_array_transpose(M, &Mt));
  assert_ok(fl_array_binop(FL_ADD, M, Mt, &A));
  assert_ok(fl_array_eigh(A, &w, &V));
  for (size_t i = 1; i < n; i++) assert_true(w->data[i - 1] <= w->data[i]);
  assert_ok(fl_array_matmul(A, V, &AV));
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) assert_near(AV->data[i * n + j], V->data[i * n + j] * w->data[j], 1e-12);
  assert_ok(fl_array_transpose(V, &Vt));
  assert_ok(fl_array_matmul(Vt, V, &VtV));
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) assert_near(VtV->data[i * n + j], i == j, 1e-13);
  double tr = 0, sw;
  for (size_t i = 0; i < n; i++) tr += A->data[i * n + i];
  assert_ok(fl_array_reduce_all(FL_SUM, w, &sw));
  assert_near(sw, tr, 1e-12);
  fl_array_release(AV);
  fl_array_release(Vt);
  fl_array_release(VtV);
  fl_array_release(w);
  fl_array_release(V);
  w = V = NULL;
  fl_clear_detail();
  assert_int_equal(fl_array_eigh(Mt = (fl_array_release(Mt), randn2(3, 2, 1)), &w, &V), FL_EDIM);
  assert_null(w);
  assert_null(V);
  A->data[5] = INFINITY;
  assert_int_equal(fl_array_eigh(A, &w, &V), FL_ENAN);
  assert_null(w);
  assert_null(V);
  fl_array_release(Mt);
  fl_array_release(M);
  fl_array_release(A);
}

static void check_svd(size_t m, size_t n, uint64_t seed)
{
  size_t k = m < n ? m : n;
  fl_array *A = randn2(m, n, seed), *U, *S, *Vt;
  assert_ok(fl_array_svd(A, &U, &S, &Vt));
  assert_shape(U, 2, m, k, 0);
  assert_shape(S, 1, k, 0, 0);
  assert_shape(Vt, 2, k, n, 0);
  for (size_t i = 0; i < k; i++) {
    assert_true(S->data[i] >= 0);
    if (i) assert_true(S->data[i - 1] >= S->data[i]);
  }
  /* U diag(S) Vt == A */
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) {
      double s = 0;
      for (size_t l = 0; l < k; l++) s += U->data[i * k + l] * S->data[l] * Vt->data[l * n + j];
      assert_near(s, A->data[i * n + j], 1e-13);
    }
  /* orthonormal columns of U, rows of Vt */
  for (size_t p = 0; p < k; p++)
    for (size_t q = 0; q < k; q++) {
      double su = 0, sv = 0;
      for (size_t i = 0; i < m; i++) su += U->data[i * k + p] * U->data[i * k + q];
      for (size_t j = 0; j < n; j++) sv += Vt->data[p * n + j] * Vt->data[q * n + j];
      assert_near(su, p == q, 1e-13);
      assert_near(sv, p == q, 1e-13);
    }
  /* singular values squared are the eigenvalues of A^T A or A A^T (independent method) */
  fl_array *At, *G, *w, *V;
  assert_ok(fl_array_transpose(A, &At));
  assert_ok(m <= n ? fl_array_matmul(A, At, &G) : fl_array_matmul(At, A, &G));
  assert_ok(fl_array_eigh(G, &w, &V));
  for (size_t i = 0; i < k; i++) assert_near(S->data[i] * S->data[i], w->data[k - 1 - i], 1e-12);
  fl_array_release(At);
  fl_array_release(G);
  fl_array_release(w);
  fl_array_release(V);
  fl_array_release(A);
  fl_array_release(U);
  fl_array_release(S);
  fl_array_release(Vt);
}

static void test_svd(void **state)
{
  (void)state;
  check_svd(7, 4, 51);
  check_svd(4, 7, 52);
  check_svd(5, 5, 53);
  double d[4] = {3, 0, 0, -2}; /* closed form: singular values 3, 2 */
  fl_array *A = arr2(2, 2, d), *U = NULL, *S = NULL, *Vt = NULL;
  assert_ok(fl_array_svd(A, &U, &S, &Vt));
  assert_near(S->data[0], 3, 1e-15);
  assert_near(S->data[1], 2, 1e-15);
  fl_array_release(U);
  fl_array_release(S);
  fl_array_release(Vt);
  U = S = Vt = NULL;
  A->data[2] = NAN;
  assert_int_equal(fl_array_svd(A, &U, &S, &Vt), FL_ENAN);
  assert_true(!U && !S && !Vt);
  fl_array_release(A);
  A = arr1(4, d);
  assert_int_equal(fl_array_svd(A, &U, &S, &Vt), FL_EDIM);
  assert_true(!U && !S && !Vt);
  fl_array_release(A);
}

static void test_lstsq(void **state)
{
  (void)state;
  /* overdetermined 20x3: equals the normal-equation solution */
  fl_array *A = randn2(20, 3, 61), *b, *x = NULL, *sv = NULL, *At, *AtA, *Atb, *xn;
  size_t m = 20;
  assert_ok(fl_array_randn(1, &m, 62, 0, &b));
  int rank = -1;
  assert_ok(fl_array_lstsq(A, b, -1, &x, &rank, &sv));
  assert_shape(x, 1, 3, 0, 0);
  assert_int_equal(rank, 3);
  assert_shape(sv, 1, 3, 0, 0);
  assert_ok(fl_array_transpose(A, &At));
  assert_ok(fl_array_matmul(At, A, &AtA));
  assert_ok(fl_array_matmul(At, b, &Atb));
  assert_ok(fl_array_solve(AtA, Atb, &xn));
  for (int i = 0; i < 3; i++) assert_near(x->data[i], xn->data[i], 1e-12);
  /* the singular values are those of svd */
  fl_array *U, *S, *Vt;
  assert_ok(fl_array_svd(A, &U, &S, &Vt));
  for (int i = 0; i < 3; i++) assert_near(sv->data[i], S->data[i], 1e-12);
  double S0 = S->data[0];
  fl_array_release(U);
  fl_array_release(S);
  fl_array_release(Vt);
  fl_array_release(x);
  fl_array_release(sv);
  fl_array_release(xn);
  fl_array_release(AtA);
  fl_array_release(Atb);
  fl_array_release(At);

  /* 2-D right-hand side: column by column the same */
  fl_array *B = randn2(20, 2, 63), *X, *bc, *xc;
  assert_ok(fl_array_lstsq(A, B, -1, &X, NULL, NULL));
  assert_shape(X, 2, 3, 2, 0);
  for (size_t j = 0; j < 2; j++) {
    assert_ok(fl_array_col(B, j, &bc));
    assert_ok(fl_array_lstsq(A, bc, -1, &xc, NULL, NULL));
    for (int i = 0; i < 3; i++) assert_near(X->data[i * 2 + j], xc->data[i], 1e-13);
    fl_array_release(bc);
    fl_array_release(xc);
  }
  fl_array_release(X);

  /* noiseless line fit y = 2.5 - 1.25 t recovers the coefficients */
  double Ld[2 * 11], yd[11];
  for (int i = 0; i < 11; i++) {
    double t = -1 + 0.3 * i;
    Ld[2 * i] = 1;
    Ld[2 * i + 1] = t;
    yd[i] = 2.5 - 1.25 * t;
  }
  fl_array *L = arr2(11, 2, Ld), *y = arr1(11, yd);
  assert_ok(fl_array_lstsq(L, y, -1, &x, &rank, NULL));
  assert_near(x->data[0], 2.5, 1e-13);
  assert_near(x->data[1], -1.25, 1e-13);
  assert_int_equal(rank, 2);
  fl_array_release(x);

  /* underdetermined: minimum-norm solution A^T (A A^T)^-1 b */
  double ud[6] = {1, 2, 3, 4, 5, 7}, ub[2] = {1, 2};
  fl_array *Au = arr2(2, 3, ud), *bu = arr1(2, ub), *Aut, *AAt, *z, *xm;
  assert_ok(fl_array_lstsq(Au, bu, -1, &x, &rank, NULL));
  assert_shape(x, 1, 3, 0, 0);
  assert_ok(fl_array_transpose(Au, &Aut));
  assert_ok(fl_array_matmul(Au, Aut, &AAt));
  assert_ok(fl_array_solve(AAt, bu, &z));
  assert_ok(fl_array_matmul(Aut, z, &xm));
  for (int i = 0; i < 3; i++) assert_near(x->data[i], xm->data[i], 1e-13);
  fl_array_release(x);
  fl_array_release(Aut);
  fl_array_release(AAt);
  fl_array_release(z);
  fl_array_release(xm);

  /* rank deficiency is reported */
  double rd[6] = {1, 2, 2, 4, 3, 6};
  fl_array *R = arr2(3, 2, rd), *rb = arr1(3, yd);
  assert_ok(fl_array_lstsq(R, rb, -1, &x, &rank, NULL));
  assert_int_equal(rank, 1);
  fl_array_release(x);

  /* no right-hand sides: x of shape (3,0), rank and singular values still given */
  size_t s200[2] = {20, 0};
  fl_array *B0;
  assert_ok(fl_array_new(2, s200, &B0));
  assert_ok(fl_array_lstsq(A, B0, -1, &x, &rank, &sv));
  assert_shape(x, 2, 3, 0, 0);
  assert_int_equal(rank, 3);
  assert_near(sv->data[0], S0, 1e-12);
  fl_array_release(x);
  fl_array_release(sv);
  fl_array_release(B0);

  /* errors */
  x = NULL;
  sv = NULL;
  assert_fails_null(fl_array_lstsq(A, bu, -1, &x, &rank, &sv), FL_EDIM, x);
  assert_null(sv);
  b->data[3] = NAN;
  assert_fails_null(fl_array_lstsq(A, b, -1, &x, &rank, &sv), FL_ENAN, x);
  assert_fails_null(fl_array_lstsq(b, b, -1, &x, &rank, &sv), FL_EDIM, x);
  fl_array_release(R);
  fl_array_release(rb);
  fl_array_release(Au);
  fl_array_release(bu);
  fl_array_release(L);
  fl_array_release(y);
  fl_array_release(B);
  fl_array_release(A);
  fl_array_release(b);
}

static void test_det(void **state)
{
  (void)state;
  double d3[9] = {6, 1, 1, 4, -2, 5, 2, 8, 7}; /* det = -306 */
  fl_array *A = arr2(3, 3, d3);
  double v, sg, la;
  assert_ok(fl_array_det(A, &v));
  assert_near(v, -306, 1e-12);
  assert_ok(fl_array_logdet(A, &sg, &la));
  assert_true(sg == -1);
  assert_near(la, log(306.0), 1e-14);
  fl_array_release(A);
  double p[9] = {0, 1, 0, 1, 0, 0, 0, 0, 1}; /* a transposition: -1 */
  A = arr2(3, 3, p);
  assert_ok(fl_array_det(A, &v));
  assert_true(v == -1);
  fl_array_release(A);
  double c[9] = {0, 1, 0, 0, 0, 1, 1, 0, 0}; /* a 3-cycle: +1 */
  A = arr2(3, 3, c);
  assert_ok(fl_array_det(A, &v));
  assert_true(v == 1);
  fl_array_release(A);
  /* singular */
  double s[4] = {1, 2, 2, 4};
  A = arr2(2, 2, s);
  assert_ok(fl_array_det(A, &v));
  assert_true(v == 0);
  assert_ok(fl_array_logdet(A, &sg, &la));
  assert_true(sg == 0 && isinf(la) && la < 0);
  fl_array_release(A);
  /* random 10x10: det = prod of eigenvalues of a symmetric matrix, logdet consistent with det */
  size_t n = 10;
  fl_array *M = randn2(n, n, 71), *Mt, *w, *V;
  assert_ok(fl_array_transpose(M, &Mt));
  assert_ok(fl_array_binop(FL_ADD, M, Mt, &A));
  assert_ok(fl_array_eigh(A, &w, &V));
  double pe = 1;
  for (size_t i = 0; i < n; i++) pe *= w->data[i];
  assert_ok(fl_array_det(A, &v));
  assert_rel(v, pe, 1e-11);
  assert_ok(fl_array_logdet(A, &sg, &la));
  assert_true(sg == (v > 0 ? 1 : -1));
  assert_rel(la, log(fabs(v)), 1e-13);
  fl_array_release(w);
  fl_array_release(V);
  /* logdet beyond double range of det: 200x200 of 10 I */
  fl_array *E;
  assert_ok(fl_array_eye(400, 400, &E));
  fl_array *E10;
  assert_ok(fl_array_binop_scalar(FL_MUL, E, 10, 0, &E10));
  assert_ok(fl_array_logdet(E10, &sg, &la));
  assert_true(sg == 1);
  assert_rel(la, 400 * log(10.0), 1e-13);
  fl_array_release(E);
  fl_array_release(E10);
  /* errors */
  fl_array *R = randn2(2, 3, 1);
  fl_clear_detail();
  assert_int_equal(fl_array_det(R, &v), FL_EDIM);
  assert_int_equal(fl_array_logdet(R, &sg, &la), FL_EDIM);
  assert_true(fl_last_detail()[0] != '\0');
  A->data[0] = NAN;
  assert_int_equal(fl_array_det(A, &v), FL_ENAN);
  assert_int_equal(fl_array_logdet(A, &sg, &la), FL_ENAN);
  fl_array_release(R);
  fl_array_release(M);
  fl_array_release(Mt);
  fl_array_release(A);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      T(test_linspace),    T(test_arange),       T(test_eye),        T(test_meshgrid),
      T(test_random),      T(test_col_row_reshape), T(test_slice),   T(test_transpose),
      T(test_concat_stack), T(test_binop_hand),  T(test_binop_general), T(test_map),
      T(test_reduce_all),  T(test_reduce_axis),  T(test_matmul),     T(test_solve),
      T(test_cholesky),    T(test_eigh),         T(test_svd),        T(test_lstsq),
      T(test_det),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
