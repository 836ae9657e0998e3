/* Unit tests of lib/fl_ad.c: gradcheck (central differences) and
 * gradgradcheck (central differences of the first gradient, which is itself
 * built with create_graph) of every op at random inputs, closed forms
 * (E = 1/2 |W x|^2: grad = W^T W x, Hessian-vector product W^T W v; third
 * derivative of tanh and silu), parameter blocks, arena memory and errors;
 * and the vectorised kernels of lib/fl_vmath.c behind exp, sigmoid and silu
 * (ulp error of exp against long double, special values, results that do
 * not depend on an element's position, closed forms). */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fl_ad.h"
#include "fl_vmath.h"
#include "fl_test.h"
#include <float.h>

/* ------------------------------------------------------------ the op table */

enum { DOM_ANY, DOM_POS, DOM_AWAY }; /* inputs in [-1.5,1.5], [0.3,2], or |x| in [0.2,1.5] */

typedef int (*build_fn)(fl_ad_graph *g, const int *x);

typedef struct opcase {
  const char *name;
  int nin;
  size_t shape[3][2];
  int dom[3];
  build_fn f;
} opcase;

static int b_add(fl_ad_graph *g, const int *x) { return fl_ad_add(g, x[0], x[1]); }
static int b_sub(fl_ad_graph *g, const int *x) { return fl_ad_sub(g, x[0], x[1]); }
static int b_mul(fl_ad_graph *g, const int *x) { return fl_ad_mul(g, x[0], x[1]); }
static int b_div(fl_ad_graph *g, const int *x) { return fl_ad_div(g, x[0], x[1]); }
static int b_neg(fl_ad_graph *g, const int *x) { return fl_ad_neg(g, x[0]); }
static int b_scale(fl_ad_graph *g, const int *x) { return fl_ad_scale(g, x[0], -2.5); }
static int b_affine(fl_ad_graph *g, const int *x) { return fl_ad_affine(g, x[0], 0.7, 3.0); }
static int b_mm00(fl_ad_graph *g, const int *x) { return fl_ad_matmul(g, x[0], x[1], 0, 0); }
static int b_mm01(fl_ad_graph *g, const int *x) { return fl_ad_matmul(g, x[0], x[1], 0, 1); }
static int b_mm10(fl_ad_graph *g, const int *x) { return fl_ad_matmul(g, x[0], x[1], 1, 0); }
static int b_mm11(fl_ad_graph *g, const int *x) { return fl_ad_matmul(g, x[0], x[1], 1, 1); }
static int b_t(fl_ad_graph *g, const int *x) { return fl_ad_transpose(g, x[0]); }
static int b_sum(fl_ad_graph *g, const int *x) { return fl_ad_sum(g, x[0], FL_AD_ALL); }
static int b_sum0(fl_ad_graph *g, const int *x) { return fl_ad_sum(g, x[0], 0); }
static int b_sum1(fl_ad_graph *g, const int *x) { return fl_ad_sum(g, x[0], 1); }
static int b_mean(fl_ad_graph *g, const int *x) { return fl_ad_mean(g, x[0], FL_AD_ALL); }
static int b_mean0(fl_ad_graph *g, const int *x) { return fl_ad_mean(g, x[0], 0); }
static int b_mean1(fl_ad_graph *g, const int *x) { return fl_ad_mean(g, x[0], 1); }
static int b_expand(fl_ad_graph *g, const int *x) { return fl_ad_expand(g, x[0], 4, 3); }
static int b_reshape(fl_ad_graph *g, const int *x) { return fl_ad_reshape(g, x[0], 2, 6); }
static int b_cols(fl_ad_graph *g, const int *x) { return fl_ad_cols(g, x[0], 1, 3); }
static int b_pad(fl_ad_graph *g, const int *x) { return fl_ad_pad_cols(g, x[0], 1, 5); }
static int b_concat(fl_ad_graph *g, const int *x) { return fl_ad_concat_cols(g, 3, x); }
static int b_concat2(fl_ad_graph *g, const int *x) { return fl_ad_concat_cols(g, 2, x); }
static int b_square(fl_ad_graph *g, const int *x) { return fl_ad_square(g, x[0]); }
static int b_sqrt(fl_ad_graph *g, const int *x) { return fl_ad_sqrt(g, x[0]); }
static int b_exp(fl_ad_graph *g, const int *x) { return fl_ad_exp(g, x[0]); }
static int b_log(fl_ad_graph *g, const int *x) { return fl_ad_log(g, x[0]); }
static int b_sin(fl_ad_graph *g, const int *x) { return fl_ad_sin(g, x[0]); }
static int b_cos(fl_ad_graph *g, const int *x) { return fl_ad_cos(g, x[0]); }
static int b_tanh(fl_ad_graph *g, const int *x) { return fl_ad_tanh(g, x[0]); }
static int b_sigmoid(fl_ad_graph *g, const int *x) { return fl_ad_sigmoid(g, x[0]); }
static int b_softplus(fl_ad_graph *g, const int *x) { return fl_ad_softplus(g, x[0]); }
static int b_silu(fl_ad_graph *g, const int *x) { return fl_ad_silu(g, x[0]); }
static int b_relu(fl_ad_graph *g, const int *x) { return fl_ad_relu(g, x[0]); }
static int b_gelu(fl_ad_graph *g, const int *x) { return fl_ad_gelu(g, x[0]); }
static int b_dense(fl_ad_graph *g, const int *x) { return fl_ad_dense(g, x[0], x[1], x[2]); }
static int b_silu_layer(fl_ad_graph *g, const int *x) { return fl_ad_silu(g, fl_ad_dense(g, x[0], x[1], x[2])); }
/* a composite: a small tanh layer with a bias row, x W + b */
static int b_layer(fl_ad_graph *g, const int *x)
{
  return fl_ad_tanh(g, fl_ad_add(g, fl_ad_matmul(g, x[0], x[1], 0, 0), x[2]));
}

#define S2(a, b) {a, b}
static const opcase cases[] = {
  {"add", 2, {S2(3, 4), S2(3, 4)}, {0, 0}, b_add},
  {"add row", 2, {S2(3, 4), S2(1, 4)}, {0, 0}, b_add},
  {"add col", 2, {S2(3, 1), S2(3, 4)}, {0, 0}, b_add},
  {"add scalar", 2, {S2(1, 1), S2(3, 4)}, {0, 0}, b_add},
  {"add col+row", 2, {S2(3, 1), S2(1, 4)}, {0, 0}, b_add},
  {"sub", 2, {S2(3, 4), S2(3, 4)}, {0, 0}, b_sub},
  {"sub row", 2, {S2(3, 4), S2(1, 4)}, {0, 0}, b_sub},
  {"sub scalar", 2, {S2(1, 1), S2(3, 4)}, {0, 0}, b_sub},
  {"mul", 2, {S2(3, 4), S2(3, 4)}, {0, 0}, b_mul},
  {"mul row", 2, {S2(1, 4), S2(3, 4)}, {0, 0}, b_mul},
  {"mul col", 2, {S2(3, 4), S2(3, 1)}, {0, 0}, b_mul},
  {"div", 2, {S2(3, 4), S2(3, 4)}, {0, 2}, b_div},
  {"div row", 2, {S2(3, 4), S2(1, 4)}, {0, 2}, b_div},
  {"div col", 2, {S2(3, 1), S2(3, 4)}, {0, 2}, b_div},
  {"div scalar", 2, {S2(3, 4), S2(1, 1)}, {0, 2}, b_div},
  {"neg", 1, {S2(3, 4)}, {0}, b_neg},
  {"scale", 1, {S2(3, 4)}, {0}, b_scale},
  {"affine", 1, {S2(3, 4)}, {0}, b_affine},
  {"matmul", 2, {S2(3, 4), S2(4, 2)}, {0, 0}, b_mm00},
  {"matmul a b^T", 2, {S2(3, 4), S2(2, 4)}, {0, 0}, b_mm01},
  {"matmul a^T b", 2, {S2(4, 3), S2(4, 2)}, {0, 0}, b_mm10},
  {"matmul a^T b^T", 2, {S2(4, 3), S2(2, 4)}, {0, 0}, b_mm11},
  {"matmul dot", 2, {S2(1, 5), S2(1, 5)}, {0, 0}, b_mm01},
  {"transpose", 1, {S2(3, 4)}, {0}, b_t},
  {"sum", 1, {S2(3, 4)}, {0}, b_sum},
  {"sum axis 0", 1, {S2(3, 4)}, {0}, b_sum0},
  {"sum axis 1", 1, {S2(3, 4)}, {0}, b_sum1},
  {"mean", 1, {S2(3, 4)}, {0}, b_mean},
  {"mean axis 0", 1, {S2(3, 4)}, {0}, b_mean0},
  {"mean axis 1", 1, {S2(3, 4)}, {0}, b_mean1},
  {"expand row", 1, {S2(1, 3)}, {0}, b_expand},
  {"expand col", 1, {S2(4, 1)}, {0}, b_expand},
  {"expand scalar", 1, {S2(1, 1)}, {0}, b_expand},
  {"reshape", 1, {S2(3, 4)}, {0}, b_reshape},
  {"cols", 1, {S2(3, 4)}, {0}, b_cols},
  {"pad_cols", 1, {S2(3, 2)}, {0}, b_pad},
  {"concat_cols", 3, {S2(3, 2), S2(3, 1), S2(3, 3)}, {0, 0, 0}, b_concat},
  {"concat_cols 2", 2, {S2(3, 1), S2(3, 2)}, {0, 0}, b_concat2},
  {"square", 1, {S2(3, 4)}, {0}, b_square},
  {"sqrt", 1, {S2(3, 4)}, {1}, b_sqrt},
  {"exp", 1, {S2(3, 4)}, {0}, b_exp},
  {"log", 1, {S2(3, 4)}, {1}, b_log},
  {"sin", 1, {S2(3, 4)}, {0}, b_sin},
  {"cos", 1, {S2(3, 4)}, {0}, b_cos},
  {"tanh", 1, {S2(3, 4)}, {0}, b_tanh},
  {"sigmoid", 1, {S2(3, 4)}, {0}, b_sigmoid},
  {"softplus", 1, {S2(3, 4)}, {0}, b_softplus},
  {"silu", 1, {S2(3, 4)}, {0}, b_silu},
  {"relu", 1, {S2(3, 4)}, {2}, b_relu},
  {"gelu", 1, {S2(3, 4)}, {0}, b_gelu},
  {"tanh layer", 3, {S2(5, 3), S2(3, 4), S2(1, 4)}, {0, 0, 0}, b_layer},
  {"dense", 3, {S2(5, 3), S2(3, 4), S2(1, 4)}, {0, 0, 0}, b_dense},
  {"silu layer (dense)", 3, {S2(5, 3), S2(3, 4), S2(1, 4)}, {0, 0, 0}, b_silu_layer},
};
#define NCASES (sizeof cases / sizeof cases[0])

/* ------------------------------------------------------------ harness */

typedef struct inputs {
  int nin;
  size_t r[3], c[3];
  double *x[3];
} inputs;

static void make_inputs(const opcase *oc, uint64_t seed, inputs *in)
{
  in->nin = oc->nin;
  for (int i = 0; i < oc->nin; i++) {
    size_t m = oc->shape[i][0] * oc->shape[i][1];
    in->r[i] = oc->shape[i][0];
    in->c[i] = oc->shape[i][1];
    in->x[i] = malloc(sizeof(double) * m);
    for (size_t k = 0; k < m; k++) {
      double u = fl_test_u01(seed * 1000 + (uint64_t)i * 100 + k);
      double v;
      if (oc->dom[i] == DOM_POS) v = 0.3 + 1.7 * u;
      else if (oc->dom[i] == DOM_AWAY) v = (u < 0.5 ? -1 : 1) * (0.2 + 2.6 * fabs(u - 0.5));
      else v = -1.5 + 3 * u;
      in->x[i][k] = v;
    }
  }
}

static void free_inputs(inputs *in)
{
  for (int i = 0; i < in->nin; i++) free(in->x[i]);
}

/* Random weights of the output's shape, so that L = sum(out .* W) sees every entry. */
static double weight(size_t k) { return fl_test_uniform(77 + k, -1, 1); }
static double weight2(int i, size_t k) { return fl_test_uniform(5000 + 97 * (uint64_t)i + k, -1, 1); }

/* Build the leaves and the op; L = sum(out .* W). Returns L; leaves in xs. */
static int build_loss(fl_ad_graph *g, const opcase *oc, const inputs *in, int *xs)
{
  for (int i = 0; i < in->nin; i++) xs[i] = fl_ad_leaf(g, in->r[i], in->c[i], in->x[i], 1);
  int y = oc->f(g, xs);
  assert_true(y >= 0);
  size_t r, c;
  assert_ok(fl_ad_shape(g, y, &r, &c));
  double *w = malloc(sizeof(double) * (r * c + 1));
  for (size_t k = 0; k < r * c; k++) w[k] = weight(k);
  int W = fl_ad_const(g, r, c, w);
  free(w);
  return fl_ad_sum(g, fl_ad_mul(g, y, W), FL_AD_ALL);
}

static double loss_value(fl_ad_graph *g, const opcase *oc, const inputs *in)
{
  int xs[3];
  fl_ad_graph_reset(g, 0);
  int L = build_loss(g, oc, in, xs);
  assert_true(L >= 0);
  return fl_ad_value(g, L)[0];
}

/* S = sum_i sum(dL/dx_i .* U_i), the first gradients taken with create_graph = cg. */
static int build_s(fl_ad_graph *g, const opcase *oc, const inputs *in, int *xs, int cg)
{
  int L = build_loss(g, oc, in, xs), gr[3];
  assert_ok(fl_ad_grad(g, L, -1, in->nin, xs, cg, gr));
  int S = -1;
  for (int i = 0; i < in->nin; i++) {
    size_t m = in->r[i] * in->c[i];
    double *u = malloc(sizeof(double) * m);
    for (size_t k = 0; k < m; k++) u[k] = weight2(i, k);
    int U = fl_ad_const(g, in->r[i], in->c[i], u);
    free(u);
    int t = fl_ad_sum(g, fl_ad_mul(g, gr[i], U), FL_AD_ALL);
    S = S < 0 ? t : fl_ad_add(g, S, t);
  }
  assert_true(S >= 0);
  return S;
}

static double s_value(fl_ad_graph *g, const opcase *oc, const inputs *in)
{
  int xs[3];
  fl_ad_graph_reset(g, 0);
  int S = build_s(g, oc, in, xs, 0);
  return fl_ad_value(g, S)[0];
}

static double fd_step(double x) { return 1e-5 * fmax(1.0, fabs(x)); }

/* Compare analytic gradients ga[i] (of shape in) with central differences of fn. */
static void compare_fd(const char *what, const opcase *oc, fl_ad_graph *g, inputs *in, double **ga,
                       double (*fn)(fl_ad_graph *, const opcase *, const inputs *), double tol)
{
  for (int i = 0; i < in->nin; i++) {
    size_t m = in->r[i] * in->c[i];
    for (size_t k = 0; k < m; k++) {
      double x0 = in->x[i][k], h = fd_step(x0);
      in->x[i][k] = x0 + h;
      double fp = fn(g, oc, in);
      in->x[i][k] = x0 - h;
      double fm = fn(g, oc, in);
      in->x[i][k] = x0;
      double fd = (fp - fm) / (2 * h);
      if (!(fabs(ga[i][k] - fd) <= tol * fmax(1.0, fabs(fd))))
        fail_msg("%s of %s: input %d entry %zu: analytic %.15g, finite differences %.15g", what, oc->name, i + 1,
                 k, ga[i][k], fd);
    }
  }
}

static void gradcheck_one(const opcase *oc)
{
  fl_ad_graph *g;
  assert_ok(fl_ad_graph_new(&g));
  inputs in;
  make_inputs(oc, 1, &in);
  int xs[3], gr[3];
  int L = build_loss(g, oc, &in, xs);
  assert_ok(fl_ad_grad(g, L, -1, in.nin, xs, 0, gr));
  double *ga[3];
  for (int i = 0; i < in.nin; i++) {
    size_t m = in.r[i] * in.c[i], r, c;
    assert_ok(fl_ad_shape(g, gr[i], &r, &c));
    assert_int_equal(r, in.r[i]);
    assert_int_equal(c, in.c[i]);
    assert_false(fl_ad_requires_grad(g, gr[i])); /* create_graph = 0: constants */
    ga[i] = malloc(sizeof(double) * m);
    memcpy(ga[i], fl_ad_value(g, gr[i]), sizeof(double) * m);
  }
  /* backward accumulates the same gradients into the leaves (twice: doubled) */
  size_t nodes = fl_ad_graph_nodes(g);
  assert_ok(fl_ad_backward(g, L));
  assert_int_equal(fl_ad_graph_nodes(g), nodes);
  assert_ok(fl_ad_backward(g, L));
  for (int i = 0; i < in.nin; i++) {
    const double *lg = fl_ad_leaf_grad(g, xs[i]);
    assert_non_null(lg);
    for (size_t k = 0; k < in.r[i] * in.c[i]; k++) assert_near(lg[k], 2 * ga[i][k], 1e-13 * fmax(1, fabs(ga[i][k])));
  }
  /* the create_graph = 1 gradient has the same value */
  fl_ad_graph_reset(g, 0);
  L = build_loss(g, oc, &in, xs);
  assert_ok(fl_ad_grad(g, L, -1, in.nin, xs, 1, gr));
  for (int i = 0; i < in.nin; i++)
    for (size_t k = 0; k < in.r[i] * in.c[i]; k++) assert_near(fl_ad_value(g, gr[i])[k], ga[i][k], 1e-13 * fmax(1, fabs(ga[i][k])));
  compare_fd("gradcheck", oc, g, &in, ga, loss_value, 1e-7);
  for (int i = 0; i < in.nin; i++) free(ga[i]);
  free_inputs(&in);
  fl_ad_graph_free(g);
}

static void gradgradcheck_one(const opcase *oc)
{
  fl_ad_graph *g;
  assert_ok(fl_ad_graph_new(&g));
  inputs in;
  make_inputs(oc, 2, &in);
  int xs[3], hv[3];
  int S = build_s(g, oc, &in, xs, 1);
  assert_ok(fl_ad_grad(g, S, -1, in.nin, xs, 0, hv));
  double *ga[3];
  for (int i = 0; i < in.nin; i++) {
    size_t m = in.r[i] * in.c[i];
    ga[i] = malloc(sizeof(double) * m);
    memcpy(ga[i], fl_ad_value(g, hv[i]), sizeof(double) * m);
  }
  compare_fd("gradgradcheck", oc, g, &in, ga, s_value, 1e-7);
  for (int i = 0; i < in.nin; i++) free(ga[i]);
  free_inputs(&in);
  fl_ad_graph_free(g);
}

static void test_gradcheck(void **state)
{
  (void)state;
  for (size_t i = 0; i < NCASES; i++) gradcheck_one(&cases[i]);
}

static void test_gradgradcheck(void **state)
{
  (void)state;
  for (size_t i = 0; i < NCASES; i++) gradgradcheck_one(&cases[i]);
}

/* A wrong backward rule must be caught by the harness: a tolerance check of
 * the checker itself (the gradient of sin compared with cos + 1e-5 fails). */
static void test_checker_detects_errors(void **state)
{
  (void)state;
  fl_ad_graph *g;
  assert_ok(fl_ad_graph_new(&g));
  double x0 = 0.4, h = fd_step(x0);
  int x = fl_ad_leaf(g, 1, 1, &x0, 1), y = fl_ad_sin(g, x), d;
  assert_ok(fl_ad_grad(g, y, -1, 1, &x, 0, &d));
  double fd = (sin(x0 + h) - sin(x0 - h)) / (2 * h);
  assert_true(fabs(fl_ad_value(g, d)[0] - fd) <= 1e-9);
  assert_false(fabs(fl_ad_value(g, d)[0] + 1e-6 - fd) <= 1e-7);
  fl_ad_graph_free(g);
}

/* ------------------------------------------------------------ values of the forward ops */

static void test_forward_values(void **state)
{
  (void)state;
  fl_ad_graph *g;
  assert_ok(fl_ad_graph_new(&g));
  const double a[6] = {1, 2, 3, 4, 5, 6}, row[3] = {10, 20, 30}, col[2] = {100, 200};
  int A = fl_ad_const(g, 2, 3, a), R = fl_ad_const(g, 1, 3, row), C = fl_ad_const(g, 2, 1, col);
  const double *v = fl_ad_value(g, fl_ad_add(g, A, R));
  for (int k = 0; k < 6; k++) assert_near(v[k], a[k] + row[k % 3], 0);
  v = fl_ad_value(g, fl_ad_sub(g, C, A));
  for (int k = 0; k < 6; k++) assert_near(v[k], col[k / 3] - a[k], 0);
  v = fl_ad_value(g, fl_ad_add(g, C, R));
  for (int k = 0; k < 6; k++) assert_near(v[k], col[k / 3] + row[k % 3], 0);
  v = fl_ad_value(g, fl_ad_matmul(g, A, A, 0, 1)); /* A A^T = [[14, 32], [32, 77]] */
  assert_near(v[0], 14, 0); assert_near(v[1], 32, 0); assert_near(v[2], 32, 0); assert_near(v[3], 77, 0);
  {
    const double wv[6] = {1, -2, 0.5, 3, 0.25, -1}, bv[2] = {0.125, -4};
    int Wn = fl_ad_const(g, 3, 2, wv), Bn = fl_ad_const(g, 1, 2, bv);
    const double *lin = fl_ad_value(g, fl_ad_dense(g, A, Wn, Bn));
    const double *ref = fl_ad_value(g, fl_ad_add(g, fl_ad_matmul(g, A, Wn, 0, 0), Bn));
    for (int k = 0; k < 4; k++) assert_near(lin[k], ref[k], 1e-14);
    assert_int_equal(fl_ad_dense(g, A, A, Bn), -1); /* W 2 x 3 does not fit x 2 x 3 */
    assert_int_equal(fl_ad_status(g), FL_EDIM);
    assert_non_null(strstr(fl_last_detail(), "dense"));
    fl_ad_clear_error(g);
  }
  v = fl_ad_value(g, fl_ad_transpose(g, A));
  assert_near(v[1], 4, 0); assert_near(v[4], 3, 0);
  v = fl_ad_value(g, fl_ad_sum(g, A, 0));
  assert_near(v[0], 5, 0); assert_near(v[2], 9, 0);
  v = fl_ad_value(g, fl_ad_mean(g, A, 1));
  assert_near(v[0], 2, 1e-15); assert_near(v[1], 5, 1e-15);
  assert_near(fl_ad_value(g, fl_ad_mean(g, A, FL_AD_ALL))[0], 3.5, 1e-15);
  v = fl_ad_value(g, fl_ad_cols(g, A, 1, 3));
  assert_near(v[0], 2, 0); assert_near(v[3], 6, 0);
  int parts[2] = {C, A};
  v = fl_ad_value(g, fl_ad_concat_cols(g, 2, parts));
  assert_near(v[0], 100, 0); assert_near(v[4], 200, 0); assert_near(v[7], 6, 0);
  v = fl_ad_value(g, fl_ad_pad_cols(g, C, 2, 4));
  assert_near(v[2], 100, 0); assert_near(v[0], 0, 0); assert_near(v[6], 200, 0);
  /* element-wise functions against libm */
  const double xs[5] = {-3.0, -0.5, 0.25, 1.0, 30.0};
  int X = fl_ad_const(g, 1, 5, xs);
  const double *sp = fl_ad_value(g, fl_ad_softplus(g, X)), *sg = fl_ad_value(g, fl_ad_sigmoid(g, X));
  const double *si = fl_ad_value(g, fl_ad_silu(g, X)), *ge = fl_ad_value(g, fl_ad_gelu(g, X));
  const double *re = fl_ad_value(g, fl_ad_relu(g, X));
  for (int k = 0; k < 5; k++) {
    double x = xs[k], s = 1 / (1 + exp(-x));
    assert_rel(sp[k], log(1 + exp(x)), 1e-14);
    assert_rel(sg[k], s, 1e-15);
    assert_rel(si[k], x * s, 1e-15);
    assert_rel(ge[k], 0.5 * x * (1 + tanh(sqrt(2 / M_PI) * (x + 0.044715 * x * x * x))), 1e-15);
    assert_near(re[k], x > 0 ? x : 0, 0);
  }
  /* softplus does not overflow */
  double big = 800;
  int B = fl_ad_const(g, 1, 1, &big);
  assert_near(fl_ad_value(g, fl_ad_softplus(g, B))[0], 800, 0);
  assert_near(fl_ad_value(g, fl_ad_sigmoid(g, fl_ad_neg(g, B)))[0], 0, 0);
  assert_int_equal(fl_ad_status(g), FL_OK);
  fl_ad_graph_free(g);
}

/* ------------------------------------------------------------ closed forms */

/* E = 1/2 |W x|^2 for W m x d, x d x 1: grad = W^T W x and (grad of <grad, v>) = W^T W v. */
static void test_quadratic_energy(void **state)
{
  (void)state;
  enum { M = 7, D = 5 };
  double W[M * D], x[D], v[D], WtWx[D], WtWv[D];
  for (int k = 0; k < M * D; k++) W[k] = fl_test_uniform(300 + k, -1, 1);
  for (int k = 0; k < D; k++) {
    x[k] = fl_test_uniform(400 + k, -2, 2);
    v[k] = fl_test_uniform(500 + k, -2, 2);
  }
  for (int j = 0; j < D; j++) {
    long double s1 = 0, s2 = 0;
    for (int i = 0; i < M; i++) {
      long double wx = 0, wv = 0;
      for (int k = 0; k < D; k++) {
        wx += (long double)W[i * D + k] * x[k];
        wv += (long double)W[i * D + k] * v[k];
      }
      s1 += W[i * D + j] * wx;
      s2 += W[i * D + j] * wv;
    }
    WtWx[j] = (double)s1;
    WtWv[j] = (double)s2;
  }
  fl_ad_graph *g;
  assert_ok(fl_ad_graph_new(&g));
  int Wn = fl_ad_const(g, M, D, W), X = fl_ad_leaf(g, D, 1, x, 1), V = fl_ad_const(g, D, 1, v);
  int E = fl_ad_scale(g, fl_ad_sum(g, fl_ad_square(g, fl_ad_matmul(g, Wn, X, 0, 0)), FL_AD_ALL), 0.5);
  int G, H;
  assert_ok(fl_ad_grad(g, E, -1, 1, &X, 1, &G));
  assert_true(fl_ad_requires_grad(g, G));
  for (int k = 0; k < D; k++) assert_near(fl_ad_value(g, G)[k], WtWx[k], 1e-14 * fmax(1, fabs(WtWx[k])));
  int s = fl_ad_sum(g, fl_ad_mul(g, G, V), FL_AD_ALL);
  assert_ok(fl_ad_grad(g, s, -1, 1, &X, 1, &H));
  for (int k = 0; k < D; k++) assert_near(fl_ad_value(g, H)[k], WtWv[k], 1e-14 * fmax(1, fabs(WtWv[k])));
  /* the HVP does not depend on x: its own gradient is zero */
  int s2 = fl_ad_sum(g, fl_ad_mul(g, H, V), FL_AD_ALL), H2;
  assert_ok(fl_ad_grad(g, s2, -1, 1, &X, 0, &H2));
  for (int k = 0; k < D; k++) assert_near(fl_ad_value(g, H2)[k], 0, 0);
  /* a batch of points as rows: E = 1/2 sum |W x_i|^2 with X n x d -> grad = X W^T W */
  enum { N = 4 };
  double xb[N * D];
  for (int k = 0; k < N * D; k++) xb[k] = fl_test_uniform(600 + k, -2, 2);
  int XB = fl_ad_leaf(g, N, D, xb, 1);
  int EB = fl_ad_scale(g, fl_ad_sum(g, fl_ad_square(g, fl_ad_matmul(g, XB, Wn, 0, 1)), FL_AD_ALL), 0.5), GB;
  assert_ok(fl_ad_grad(g, EB, -1, 1, &XB, 0, &GB));
  for (int n = 0; n < N; n++)
    for (int j = 0; j < D; j++) {
      long double s3 = 0;
      for (int i = 0; i < M; i++) {
        long double wx = 0;
        for (int k = 0; k < D; k++) wx += (long double)W[i * D + k] * xb[n * D + k];
        s3 += W[i * D + j] * wx;
      }
      assert_near(fl_ad_value(g, GB)[n * D + j], (double)s3, 1e-14 * fmax(1, fabs((double)s3)));
    }
  fl_ad_graph_free(g);
}

/* tanh: first, second and third derivatives by repeated create_graph. */
static void test_third_derivative(void **state)
{
  (void)state;
  fl_ad_graph *g;
  assert_ok(fl_ad_graph_new(&g));
  double x0 = 0.3, t = tanh(x0);
  int x = fl_ad_leaf(g, 1, 1, &x0, 1), y = fl_ad_tanh(g, x), d1, d2, d3;
  assert_ok(fl_ad_grad(g, y, -1, 1, &x, 1, &d1));
  assert_ok(fl_ad_grad(g, d1, -1, 1, &x, 1, &d2));
  assert_ok(fl_ad_grad(g, d2, -1, 1, &x, 1, &d3));
  assert_near(fl_ad_value(g, d1)[0], 1 - t * t, 1e-15);
  assert_near(fl_ad_value(g, d2)[0], -2 * t * (1 - t * t), 1e-15);
  assert_near(fl_ad_value(g, d3)[0], (1 - t * t) * (6 * t * t - 2), 1e-15);
  fl_ad_graph_free(g);
}

/* A seed turns grad into a vector-Jacobian product: y = x A (1 x 3), seed s -> s A^T. */
static void test_seed_vjp(void **state)
{
  (void)state;
  fl_ad_graph *g;
  assert_ok(fl_ad_graph_new(&g));
  const double A[6] = {1, 2, 3, 4, 5, 6}, xv[2] = {0.5, -1}, sv[3] = {1, -2, 0.5};
  int a = fl_ad_const(g, 2, 3, A), x = fl_ad_leaf(g, 1, 2, xv, 1), y = fl_ad_matmul(g, x, a, 0, 0);
  int s = fl_ad_const(g, 1, 3, sv), d;
  assert_ok(fl_ad_grad(g, y, s, 1, &x, 0, &d));
  assert_near(fl_ad_value(g, d)[0], 1 - 4 + 1.5, 1e-15);
  assert_near(fl_ad_value(g, d)[1], 4 - 10 + 3, 1e-15);
  /* a node y does not depend on gets a zero gradient */
  int z = fl_ad_leaf(g, 2, 2, NULL, 1), dz;
  assert_ok(fl_ad_grad(g, y, s, 1, &z, 0, &dz));
  size_t r, c;
  assert_ok(fl_ad_shape(g, dz, &r, &c));
  assert_int_equal(r, 2);
  assert_int_equal(c, 2);
  for (int k = 0; k < 4; k++) assert_near(fl_ad_value(g, dz)[k], 0, 0);
  fl_ad_graph_free(g);
}

/* ------------------------------------------------------------ parameters */

static void test_params(void **state)
{
  (void)state;
  fl_ad_params *P;
  assert_ok(fl_ad_params_new(&P));
  fl_ad_graph *g;
  assert_ok(fl_ad_graph_new(&g));
  const double w0[6] = {1, -2, 3, 0.5, 1, -1}, b0[2] = {0.1, -0.2}, xv[3] = {1, 2, -1};
  size_t kw, kb;
  assert_ok(fl_ad_params_add(P, 3, 2, w0, &kw));
  assert_ok(fl_ad_params_add(P, 1, 2, b0, &kb));
  assert_int_equal(kw, 0);
  assert_int_equal(kb, 1);
  assert_int_equal(P->n, 8);
  assert_true(fl_ad_params_value(P, 1) == P->x + 6); /* contiguous: W then b */
  for (int step = 0; step < 2; step++) {
    /* L = sum((x W + b)^2): dL/dW = x^T 2(xW+b), dL/db = 2(xW+b) */
    int x = fl_ad_const(g, 1, 3, xv);
    int y = fl_ad_add(g, fl_ad_matmul(g, x, fl_ad_param(g, P, kw), 0, 0), fl_ad_param(g, P, kb));
    int L = fl_ad_sum(g, fl_ad_square(g, y), FL_AD_ALL);
    assert_ok(fl_ad_backward(g, L));
    const double *yv = fl_ad_value(g, y);
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 2; j++) assert_near(P->g[i * 2 + j], (step + 1) * 2 * xv[i] * yv[j], 1e-14);
    for (int j = 0; j < 2; j++) assert_near(P->g[6 + j], (step + 1) * 2 * yv[j], 1e-14);
    fl_ad_graph_reset(g, 0);
  }
  /* the graph holds the block until its reset; growing the block keeps nodes valid */
  int pw = fl_ad_param(g, P, kw);
  size_t k3;
  double big[1000];
  for (int k = 0; k < 1000; k++) big[k] = k;
  assert_ok(fl_ad_params_add(P, 10, 100, big, &k3));
  assert_near(fl_ad_value(g, pw)[2], 3, 0);
  assert_near(fl_ad_params_value(P, k3)[999], 999, 0);
  fl_ad_params_zero_grad(P);
  for (size_t k = 0; k < P->n; k++) assert_near(P->g[k], 0, 0);
  fl_ad_params_release(P); /* the graph still holds it */
  assert_near(fl_ad_value(g, pw)[0], 1, 0);
  fl_ad_graph_free(g);
}

/* ------------------------------------------------------------ arena memory */

static int mlp_step(fl_ad_graph *g, fl_ad_params *P)
{
  double x[64 * 2];
  for (int k = 0; k < 128; k++) x[k] = fl_test_uniform(900 + k, -1, 1);
  int X = fl_ad_const(g, 64, 2, x);
  int h = fl_ad_tanh(g, fl_ad_add(g, fl_ad_matmul(g, X, fl_ad_param(g, P, 0), 0, 0), fl_ad_param(g, P, 1)));
  int E = fl_ad_sum(g, fl_ad_matmul(g, h, fl_ad_param(g, P, 2), 0, 0), FL_AD_ALL);
  return fl_ad_backward(g, E) == FL_OK ? E : -1;
}

static void test_arena_memory(void **state)
{
  (void)state;
  size_t base = fl_mem_in_use();
  fl_ad_params *P;
  assert_ok(fl_ad_params_new(&P));
  size_t k;
  assert_ok(fl_ad_params_add(P, 2, 32, NULL, &k));
  assert_ok(fl_ad_params_add(P, 1, 32, NULL, &k));
  assert_ok(fl_ad_params_add(P, 32, 1, NULL, &k));
  size_t with_params = fl_mem_in_use();
  fl_ad_graph *g;
  assert_ok(fl_ad_graph_new(&g));
  size_t fresh = fl_mem_in_use();
  assert_true(mlp_step(g, P) >= 0);
  assert_true(fl_mem_in_use() > fresh);
  fl_ad_graph_reset(g, 0);
  size_t steady = fl_mem_in_use();
  for (int s = 0; s < 20; s++) {
    assert_true(mlp_step(g, P) >= 0);
    assert_int_equal(fl_mem_in_use(), steady); /* no allocation in a repeated step */
    fl_ad_graph_reset(g, 0);
  }
  /* a graph much larger than the arena grows it, reset consolidates */
  for (int s = 0; s < 40; s++) assert_true(mlp_step(g, P) >= 0);
  assert_true(fl_mem_in_use() > steady);
  fl_ad_graph_reset(g, 0);
  size_t big = fl_mem_in_use();
  for (int s = 0; s < 40; s++) assert_true(mlp_step(g, P) >= 0);
  assert_int_equal(fl_mem_in_use(), big);
  fl_ad_graph_reset(g, 1);
  assert_int_equal(fl_mem_in_use(), fresh); /* release: back to a fresh graph */
  assert_true(mlp_step(g, P) >= 0);
  fl_ad_graph_free(g);
  assert_int_equal(fl_mem_in_use(), with_params);
  fl_ad_params_release(P);
  assert_int_equal(fl_mem_in_use(), base);
}

/* ------------------------------------------------------------ errors */

static void test_errors(void **state)
{
  (void)state;
  fl_ad_graph *g;
  assert_ok(fl_ad_graph_new(&g));
  int a = fl_ad_leaf(g, 2, 3, NULL, 1), b = fl_ad_leaf(g, 3, 2, NULL, 1);
  fl_clear_detail();
  assert_int_equal(fl_ad_add(g, a, b), -1);
  assert_int_equal(fl_ad_status(g), FL_EDIM);
  assert_non_null(strstr(fl_last_detail(), "add: shapes (2,3) and (3,2) do not broadcast"));
  /* sticky: later ops fail quietly, the first detail stays */
  assert_int_equal(fl_ad_tanh(g, fl_ad_mul(g, a, a)), -1);
  assert_non_null(strstr(fl_last_detail(), "add: shapes"));
  assert_fails_with(fl_ad_backward(g, a), FL_EINVAL, "failed operation");
  fl_ad_clear_error(g);
  assert_int_equal(fl_ad_matmul(g, a, a, 0, 0), -1);
  assert_non_null(strstr(fl_last_detail(), "matmul: shapes (2,3) and (2,3) are not aligned"));
  fl_ad_clear_error(g);
  assert_true(fl_ad_matmul(g, a, a, 0, 1) >= 0);
  assert_int_equal(fl_ad_cols(g, a, 2, 5), -1);
  assert_int_equal(fl_ad_status(g), FL_ERANGE);
  fl_ad_clear_error(g);
  assert_int_equal(fl_ad_reshape(g, a, 4, 2), -1);
  assert_non_null(strstr(fl_last_detail(), "reshape: cannot reshape (2,3)"));
  fl_ad_clear_error(g);
  assert_int_equal(fl_ad_expand(g, a, 4, 3), -1);
  fl_ad_clear_error(g);
  int parts[2] = {a, b};
  assert_int_equal(fl_ad_concat_cols(g, 2, parts), -1);
  assert_non_null(strstr(fl_last_detail(), "rows differ"));
  fl_ad_clear_error(g);
  assert_int_equal(fl_ad_exp(g, 99), -1);
  assert_non_null(strstr(fl_last_detail(), "node 99 does not exist"));
  fl_ad_clear_error(g);
  int out = 7;
  assert_fails_with(fl_ad_backward(g, a), FL_EDIM, "backward needs a scalar (1,1) output, got shape (2,3)");
  assert_fails_with(fl_ad_grad(g, a, -1, 1, &b, 0, &out), FL_EDIM, "shape (2,3)");
  assert_int_equal(out, -1);
  assert_fails_with(fl_ad_grad(g, a, b, 1, &b, 0, &out), FL_EDIM, "seed of shape (3,2)");
  assert_fails_with(fl_ad_grad(g, 1000, -1, 1, &b, 0, &out), FL_EINVAL, "does not exist");
  /* a failed grad leaves a usable graph */
  int s = fl_ad_sum(g, a, FL_AD_ALL);
  assert_ok(fl_ad_grad(g, s, -1, 1, &a, 0, &out));
  assert_near(fl_ad_value(g, out)[5], 1, 0);
  fl_ad_params *P;
  assert_ok(fl_ad_params_new(&P));
  assert_int_equal(fl_ad_param(g, P, 0), -1);
  assert_non_null(strstr(fl_last_detail(), "parameter 0 does not exist"));
  fl_ad_params_release(P);
  unsigned long gen = fl_ad_graph_generation(g);
  fl_ad_graph_reset(g, 0);
  assert_int_equal(fl_ad_status(g), FL_OK);
  assert_true(fl_ad_graph_generation(g) != gen);
  assert_int_equal(fl_ad_graph_nodes(g), 0);
  assert_null(fl_ad_value(g, a));
  fl_ad_graph_free(g);
}

/* silu: first, second and third derivatives by repeated create_graph (the
 * third goes through the differentiable rule of silu''s internal derivative op). */
static void test_silu_derivatives(void **state)
{
  (void)state;
  fl_ad_graph *g;
  assert_ok(fl_ad_graph_new(&g));
  const double xs[4] = {-3.0, -0.4, 0.7, 2.5};
  for (int k = 0; k < 4; k++) {
    double x0 = xs[k], s = 1 / (1 + exp(-x0)), u = s * (1 - s);
    int x = fl_ad_leaf(g, 1, 1, &x0, 1), y = fl_ad_silu(g, x), d1, d2, d3;
    assert_ok(fl_ad_grad(g, y, -1, 1, &x, 1, &d1));
    assert_ok(fl_ad_grad(g, d1, -1, 1, &x, 1, &d2));
    assert_ok(fl_ad_grad(g, d2, -1, 1, &x, 1, &d3));
    assert_rel(fl_ad_value(g, d1)[0], s * (1 + x0 * (1 - s)), 1e-15);
    assert_rel(fl_ad_value(g, d2)[0], u * (2 + x0 * (1 - 2 * s)), 1e-14);
    assert_rel(fl_ad_value(g, d3)[0], u * ((1 - 2 * s) * (3 + x0 * (1 - 2 * s)) - 2 * x0 * u), 1e-13);
  }
  fl_ad_graph_free(g);
}

/* ulp distance of a from the long double b (for subnormals: of their spacing 2^-1074) */
static double ulps(double a, long double b)
{
  int e;
  frexp((double)b, &e);
  double u = ldexp(1.0, e - 53), tiny = ldexp(1.0, -1074);
  return (double)(fabsl((long double)a - b) / (u > tiny ? u : tiny));
}

static void test_vmath(void **state)
{
  (void)state;
  enum { N = 200003 };
  double *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y), *z = malloc(N * sizeof *z);
  double *s = malloc(N * sizeof *s), *w = malloc(N * sizeof *w), *gr = malloc(N * sizeof *gr);
  assert_non_null(x); assert_non_null(y); assert_non_null(z); assert_non_null(s); assert_non_null(w);
  assert_non_null(gr);
  /* exp within 1 ulp over the normal range: wide, moderate and small arguments */
  for (size_t i = 0; i < N; i++) {
    double sc = i % 3 == 0 ? 708.0 : i % 3 == 1 ? 30.0 : 0.5;
    x[i] = fl_test_uniform(i, -sc, sc);
  }
  fl_vm_exp(N, x, y);
  double worst = 0;
  for (size_t i = 0; i < N; i++) {
    double u = ulps(y[i], expl((long double)x[i]));
    if (u > worst) worst = u;
  }
  assert_true(worst <= 1.0);
  /* special values, one at a time and together (same bits either way) */
  const double sp[] = {0.0, -0.0, 1.0, 709.78, 709.79, 1e300, INFINITY, -INFINITY, -708.5, -740.0, -745.1,
                       -745.2, -1e300, 1e-300, NAN};
  const size_t ns = sizeof sp / sizeof *sp;
  double one[1], all[16];
  fl_vm_exp(ns, sp, all);
  for (size_t i = 0; i < ns; i++) {
    fl_vm_exp(1, sp + i, one);
    assert_memory_equal(one, all + i, sizeof *one);
    double e = exp(sp[i]);
    if (isnan(e)) assert_true(isnan(all[i]));
    else if (e == 0 || isinf(e) || e == 1) assert_true(all[i] == e);
    else assert_true(ulps(all[i], expl((long double)sp[i])) <= 1.0);
  }
  assert_true(all[4] == INFINITY && all[11] == 0 && all[10] > 0 && all[10] < DBL_MIN);
  /* silu and its derivatives: closed forms, and the forms from a kept sigmoid agree bit for bit */
  for (size_t i = 0; i < N; i++) {
    x[i] = fl_test_uniform(i + 7 * N, -40, 40);
    gr[i] = fl_test_uniform(i + 9 * N, -2, 2);
  }
  fl_vm_silu_s(N, x, z, s);
  fl_vm_silu(N, x, y);
  assert_memory_equal(y, z, N * sizeof *y);
  fl_vm_sigmoid(N, x, y);
  assert_memory_equal(y, s, N * sizeof *y);
  for (size_t i = 0; i < N; i += 97) {
    double e = 1 / (1 + exp(-x[i]));
    assert_rel(s[i], e, 4e-16);
    assert_rel(z[i], x[i] * e, 4e-16);
  }
  fl_vm_silu_d1(N, x, gr, y);
  fl_vm_silu_d1_s(N, x, s, gr, w);
  assert_memory_equal(y, w, N * sizeof *y);
  fl_vm_silu_d2(N, x, NULL, y);
  fl_vm_silu_d2_s(N, x, s, NULL, w);
  assert_memory_equal(y, w, N * sizeof *y);
  double *f0 = malloc(N * sizeof *f0), *f1 = malloc(N * sizeof *f1);
  assert_non_null(f0); assert_non_null(f1);
  fl_vm_silu_jet(N, x, f0, f1, w);
  assert_memory_equal(y, w, N * sizeof *y); /* d2 */
  assert_memory_equal(f0, z, N * sizeof *z);
  fl_vm_silu_d1(N, x, NULL, y);
  assert_memory_equal(f1, y, N * sizeof *y);
  for (size_t i = 0; i < N; i += 97) {
    double e = 1 / (1 + exp(-x[i])), d1 = e * (1 + x[i] * (1 - e)), d2 = e * (1 - e) * (2 + x[i] * (1 - 2 * e));
    assert_near(f1[i], d1, 1e-15 * (1 + fabs(x[i])));
    assert_near(w[i], d2, 1e-15 * (1 + fabs(x[i])));
  }
  /* sigmoid and silu out to the ends of the range (their exp is clamped there) */
  const double ext[] = {-1e300, -800.0, -745.5, -720.0, -709.9, -709.5, -708.0, -705.5, -700.0, -40.0,
                        40.0,   700.0,  705.5,  708.0,  709.9,  745.5,  800.0,  1e300,  INFINITY, -INFINITY};
  const size_t ne = sizeof ext / sizeof *ext;
  double se[32], fe[32];
  fl_vm_sigmoid(ne, ext, se);
  fl_vm_silu(ne, ext, fe);
  for (size_t i = 0; i < ne; i++) {
    double ref = 1 / (1 + exp(-ext[i]));
    assert_true(fabs(se[i] - ref) <= 4e-16 * ref + 1e-323);
    if (isfinite(ext[i])) assert_true(fabs(fe[i] - ext[i] * ref) <= 4e-16 * fabs(ext[i] * ref) + 1e-320);
  }
  double nan1 = NAN;
  fl_vm_sigmoid(1, &nan1, se);
  assert_true(isnan(se[0]));
  /* an element's result does not depend on where it sits or on n */
  for (size_t n = 1; n <= 9; n++) {
    fl_vm_silu_d1(n, x + 3, gr + 3, all);
    for (size_t i = 0; i < n; i++) {
      fl_vm_silu_d1(1, x + 3 + i, gr + 3 + i, one);
      assert_memory_equal(one, all + i, sizeof *one);
    }
  }
  free(x); free(y); free(z); free(s); free(w); free(gr); free(f0); free(f1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    T(test_forward_values),
    T(test_gradcheck),
    T(test_gradgradcheck),
    T(test_checker_detects_errors),
    T(test_quadratic_energy),
    T(test_third_derivative),
    T(test_silu_derivatives),
    T(test_vmath),
    T(test_seed_vjp),
    T(test_params),
    T(test_arena_memory),
    T(test_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
