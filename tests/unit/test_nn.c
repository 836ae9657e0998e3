/* Unit tests of lib/fl_nn.c: exact derivatives of networks against central
 * differences, symmetry of gradient-network Jacobians, zero divergence of
 * divfree networks, JVP/VJP against the Jacobian, safetensors round trips
 * and malformed files. Every test checks for leaks (fl_test_teardown). */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fl_nn.h"
#include "fl_test.h"

static fl_nn *mk(fl_nn_kind kind, int dim, int out, fl_nn_act act, fl_nn_time tm, uint64_t seed)
{
  fl_nn_arch a;
  memset(&a, 0, sizeof a);
  a.kind = kind;
  a.dim = dim;
  a.out = out;
  a.nhidden = 2;
  a.hidden[0] = 12;
  a.hidden[1] = 9;
  a.act = act;
  a.time = tm;
  fl_nn *nn;
  assert_ok(fl_nn_new(&a, FL_INIT_XAVIER, seed, &nn));
  return nn;
}

static void points(size_t n, int d, uint64_t s, double *x)
{
  for (size_t i = 0; i < n * (size_t)d; i++) x[i] = fl_test_uniform(s + i, -1.5, 1.5);
}

/* max |J - central differences of eval| / max(1, |J|) */
static double fd_error(fl_field *f, size_t n, const double *x, double t)
{
  int d = f->dim, m = f->codim;
  double *J = malloc(n * m * d * sizeof *J), *xp = malloc(n * d * sizeof *xp), *fp = malloc(n * m * sizeof *fp),
         *fm = malloc(n * m * sizeof *fm), err = 0;
  int exact = 0;
  assert_ok(fl_field_jacobian(f, n, x, t, J, &exact));
  assert_true(exact);
  const double h = 1e-5;
  for (int b = 0; b < d; b++) {
    memcpy(xp, x, n * d * sizeof *xp);
    for (size_t i = 0; i < n; i++) xp[i * d + b] += h;
    assert_ok(fl_field_eval(f, n, xp, t, fp));
    for (size_t i = 0; i < n; i++) xp[i * d + b] -= 2 * h;
    assert_ok(fl_field_eval(f, n, xp, t, fm));
    for (size_t i = 0; i < n; i++)
      for (int a = 0; a < m; a++) {
        double fd = (fp[i * m + a] - fm[i * m + a]) / (2 * h), j = J[(i * m + a) * d + b];
        double e = fabs(fd - j) / fmax(1, fabs(j));
        if (e > err) err = e;
      }
  }
  free(J);
  free(xp);
  free(fp);
  free(fm);
  return err;
}

static void test_jacobians_fd(void **s)
{
  (void)s;
  double x[7 * 4];
  for (int act = FL_ACT_SILU; act <= FL_ACT_SIGMOID; act++) {
    for (int kind = FL_NN_MLP; kind <= FL_NN_DIVFREE; kind++)
      for (int d = 2; d <= 4; d++) {
        fl_nn_time tm = (fl_nn_time)((act + d) % 4);
        fl_nn *nn = mk(kind == FL_NN_GRADIENT ? FL_NN_POTENTIAL : (fl_nn_kind)kind, d, 3, (fl_nn_act)act, tm, 10 + act);
        fl_field *f;
        assert_ok(fl_nn_field(nn, (fl_nn_kind)kind, &f));
        fl_nn_release(nn);
        points(7, d, 100 * act + d, x);
        double e = fd_error(f, 7, x, 0.37);
        if (act == FL_ACT_RELU) assert_true(e < 1e-4); /* kinks: only where no unit switches sign */
        else assert_true(e < 1e-6);
        fl_field_release(f);
      }
  }
}

static void test_potential_hessian_fd(void **s)
{
  (void)s;
  int d = 3;
  fl_nn *nn = mk(FL_NN_POTENTIAL, d, 1, FL_ACT_GELU, FL_TIME_FOURIER, 3);
  fl_field *E, *G;
  assert_ok(fl_nn_field(nn, FL_NN_POTENTIAL, &E));
  assert_ok(fl_nn_field(nn, FL_NN_GRADIENT, &G));
  fl_nn_release(nn);
  double x[5 * 3], H[5 * 9], g[5 * 3], gj[5 * 3], lap[5];
  points(5, d, 7, x);
  int exact;
  assert_ok(fl_field_hessian(E, 5, x, 0.2, H, &exact));
  assert_true(exact);
  assert_ok(fl_field_laplacian(E, 5, x, 0.2, lap, &exact));
  /* the gradient field's values (one reverse pass) = the potential's Jacobian (forward mode) */
  assert_ok(fl_field_eval(G, 5, x, 0.2, g));
  assert_ok(fl_field_jacobian(E, 5, x, 0.2, gj, &exact));
  for (int i = 0; i < 15; i++) assert_near(g[i], gj[i], 1e-14);
  for (int i = 0; i < 5; i++) assert_near(lap[i], H[i * 9] + H[i * 9 + 4] + H[i * 9 + 8], 1e-13);
  assert_true(fd_error(G, 5, x, 0.2) < 1e-6);
  fl_field_release(E);
  fl_field_release(G);
}

static void test_symmetry(void **s)
{
  (void)s;
  int d = 3;
  size_t n = 20;
  double x[20 * 3], J[20 * 9];
  fl_nn *p = mk(FL_NN_POTENTIAL, d, 1, FL_ACT_TANH, FL_TIME_NONE, 5), *q = mk(FL_NN_MLP, d, d, FL_ACT_TANH, FL_TIME_NONE, 5);
  fl_field *G, *M;
  assert_ok(fl_nn_field(p, FL_NN_GRADIENT, &G));
  assert_ok(fl_nn_field(q, FL_NN_MLP, &M));
  fl_nn_release(p);
  fl_nn_release(q);
  points(n, d, 9, x);
  assert_ok(fl_field_jacobian(G, n, x, 0, J, NULL));
  double asym = 0, scale = 0;
  for (size_t i = 0; i < n; i++)
    for (int a = 0; a < d; a++)
      for (int b = 0; b < d; b++) {
        asym = fmax(asym, fabs(J[i * 9 + a * 3 + b] - J[i * 9 + b * 3 + a]));
        scale = fmax(scale, fabs(J[i * 9 + a * 3 + b]));
      }
  assert_true(asym <= 1e-12 * scale);
  assert_true(scale > 1e-3);
  assert_ok(fl_field_jacobian(M, n, x, 0, J, NULL));
  asym = 0;
  for (size_t i = 0; i < n; i++) asym = fmax(asym, fabs(J[i * 9 + 1] - J[i * 9 + 3]));
  assert_true(asym > 1e-3); /* a plain MLP is not conservative */
  fl_field_release(G);
  fl_field_release(M);
}

static void test_divfree(void **s)
{
  (void)s;
  for (int d = 2; d <= 5; d++) {
    fl_nn *nn = mk(FL_NN_DIVFREE, d, 0, FL_ACT_SILU, FL_TIME_CONCAT, 40 + d);
    fl_field *f;
    assert_ok(fl_nn_field(nn, FL_NN_DIVFREE, &f));
    fl_nn_release(nn);
    size_t n = 50;
    double *x = malloc(n * d * sizeof *x), *div = malloc(n * sizeof *div), *v = malloc(n * d * sizeof *v);
    points(n, d, 1000 + d, x);
    assert_ok(fl_field_div(f, n, x, 0.5, div, NULL));
    assert_ok(fl_field_eval(f, n, x, 0.5, v));
    double vmax = 0;
    for (size_t i = 0; i < n * d; i++) vmax = fmax(vmax, fabs(v[i]));
    assert_true(vmax > 1e-3); /* not trivially zero */
    for (size_t i = 0; i < n; i++) assert_true(fabs(div[i]) < 1e-10);
    free(x);
    free(div);
    free(v);
    fl_field_release(f);
  }
  /* d = 3 is the curl of the vector potential: v = (d2 A3 - d3 A2, d3 A1 - d1 A3, d1 A2 - d2 A1) */
  fl_nn *nn = mk(FL_NN_DIVFREE, 3, 0, FL_ACT_TANH, FL_TIME_NONE, 8);
  fl_field *f;
  assert_ok(fl_nn_field(nn, FL_NN_DIVFREE, &f));
  double x[3] = {0.3, -0.4, 0.9}, v[3], D1[9];
  assert_ok(fl_field_eval(f, 1, x, 0, v));
  assert_ok(fl_nn_jet(nn, 1, x, 0, 1, NULL, D1, NULL));
  assert_near(v[0], D1[2 * 3 + 1] - D1[1 * 3 + 2], 1e-15);
  assert_near(v[1], D1[0 * 3 + 2] - D1[2 * 3 + 0], 1e-15);
  assert_near(v[2], D1[1 * 3 + 0] - D1[0 * 3 + 1], 1e-15);
  fl_nn_release(nn);
  fl_field_release(f);
}

static void test_jvp_vjp(void **s)
{
  (void)s;
  int d = 4, m = 3;
  size_t n = 6;
  fl_nn *nn = mk(FL_NN_MLP, d, m, FL_ACT_SOFTPLUS, FL_TIME_SINUSOIDAL, 2);
  double x[24], v[24], u[18], J[6 * 12], jv[18], ju[24];
  points(n, d, 1, x);
  points(n, d, 50, v);
  points(n, m, 90, u);
  assert_ok(fl_nn_jet(nn, n, x, 0.1, 1, NULL, J, NULL));
  assert_ok(fl_nn_jvp(nn, n, x, 0.1, v, jv));
  assert_ok(fl_nn_vjp(nn, n, x, 0.1, u, ju));
  for (size_t i = 0; i < n; i++) {
    for (int a = 0; a < m; a++) {
      double r = 0;
      for (int b = 0; b < d; b++) r += J[(i * m + a) * d + b] * v[i * d + b];
      assert_near(jv[i * m + a], r, 1e-13);
    }
    for (int b = 0; b < d; b++) {
      double r = 0;
      for (int a = 0; a < m; a++) r += J[(i * m + a) * d + b] * u[i * m + a];
      assert_near(ju[i * d + b], r, 1e-13);
    }
  }
  fl_nn_release(nn);
}

static const char *tmp_path(const char *name)
{
  static char buf[256];
  snprintf(buf, sizeof buf, "/tmp/fl_test_nn_%ld_%s", (long)getpid(), name);
  return buf;
}

static void test_save_load(void **s)
{
  (void)s;
  fl_nn *nn = mk(FL_NN_DIVFREE, 3, 0, FL_ACT_GELU, FL_TIME_FOURIER, 77), *back;
  strcpy(nn->a.param, "score");
  const char *p = tmp_path("rt.safetensors");
  assert_ok(fl_nn_save(nn, FL_NN_DIVFREE, p));
  fl_nn_kind k;
  assert_ok(fl_nn_load(p, NULL, &back, &k));
  assert_int_equal(k, FL_NN_DIVFREE);
  assert_string_equal(back->a.param, "score");
  assert_int_equal(back->P->n, nn->P->n);
  assert_memory_equal(back->P->x, nn->P->x, nn->P->n * sizeof(double));
  double x[12], a[12], b[12];
  points(4, 3, 3, x);
  assert_ok(fl_nn_jet(nn, 4, x, 0.3, 0, a, NULL, NULL));
  assert_ok(fl_nn_jet(back, 4, x, 0.3, 0, b, NULL, NULL));
  assert_memory_equal(a, b, sizeof a);
  fl_nn_release(back);
  /* a different architecture given: shape error naming the tensor */
  fl_nn_arch wrong = nn->a;
  wrong.hidden[0] = 13;
  assert_fails_with(fl_nn_load(p, &wrong, &back, NULL), FL_EDIM, "layers.0.weight");
  wrong = nn->a;
  wrong.nhidden = 1;
  assert_fails_with(fl_nn_load(p, &wrong, &back, NULL), FL_EDIM, "linear layers");
  /* truncated: the header length lies beyond the file */
  FILE *f = fopen(p, "rb");
  unsigned char buf[8192];
  size_t len = fread(buf, 1, sizeof buf, f);
  fclose(f);
  const char *q = tmp_path("bad.safetensors");
  f = fopen(q, "wb");
  fwrite(buf, 1, 40, f);
  fclose(f);
  assert_fails_with(fl_nn_load(q, NULL, &back, NULL), FL_EFORMAT, "beyond the file");
  /* cut in the data: offsets lie */
  f = fopen(q, "wb");
  fwrite(buf, 1, len - 16, f);
  fclose(f);
  assert_fails_with(fl_nn_load(q, NULL, &back, NULL), FL_EFORMAT, "offsets");
  /* wrong dtype */
  char *dt = strstr((char *)buf + 8, "\"F64\"");
  assert_non_null(dt);
  memcpy(dt, "\"I64\"", 5);
  f = fopen(q, "wb");
  fwrite(buf, 1, len, f);
  fclose(f);
  assert_fails_with(fl_nn_load(q, NULL, &back, NULL), FL_EFORMAT, "dtype I64");
  remove(p);
  remove(q);
  fl_nn_release(nn);
}

/* The fused DSM step (fl_nn_dsm_step): its parameter gradient against
 * central differences of its own loss (a deterministic function of the
 * weights for a fixed seed and stream), for every target and both
 * weightings; and the networks it refuses. */
static void test_dsm_step(void **s)
{
  (void)s;
  fl_schedule sc;
  fl_schedule_default(FL_SCHED_VP, &sc);
  double data[60 * 2];
  points(60, 2, 77, data);
  const fl_param targets[] = {FL_PARAM_EPS, FL_PARAM_X0, FL_PARAM_SCORE, FL_PARAM_VELOCITY};
  for (int q = 0; q < 5; q++) {
    fl_nn *nn = mk(FL_NN_MLP, 2, 2, FL_ACT_SILU, q == 1 ? FL_TIME_NONE : FL_TIME_CONCAT, 5 + (uint64_t)q);
    fl_nn_dsm *w;
    assert_ok(fl_nn_dsm_new(nn, &sc, targets[q % 4], q == 4, 1e-2, 1, 17, &w));
    fl_ad_params *P = nn->P;
    double loss, lp, lm;
    assert_ok(fl_nn_dsm_step(w, data, 60, 3, 128, &loss));
    assert_true(isfinite(loss) && loss > 0);
    double *g = malloc(P->n * sizeof *g);
    memcpy(g, P->g, P->n * sizeof *g);
    double err = 0, gmax = 0;
    for (size_t k = 0; k < P->n; k += 7) {
      double x0 = P->x[k], h = 1e-6 * fmax(1, fabs(x0));
      P->x[k] = x0 + h;
      assert_ok(fl_nn_dsm_step(w, data, 60, 3, 128, &lp));
      P->x[k] = x0 - h;
      assert_ok(fl_nn_dsm_step(w, data, 60, 3, 128, &lm));
      P->x[k] = x0;
      double fd = (lp - lm) / (2 * h);
      err = fmax(err, fabs(fd - g[k]));
      gmax = fmax(gmax, fabs(g[k]));
    }
    assert_true(gmax > 1e-3);
    assert_true(err < 1e-6 * fmax(1, gmax));
    free(g);
    fl_nn_dsm_free(w);
    fl_nn_release(nn);
  }
  fl_nn *tanh_net = mk(FL_NN_MLP, 2, 2, FL_ACT_TANH, FL_TIME_CONCAT, 1);
  fl_nn_dsm *w = NULL;
  assert_fails_with(fl_nn_dsm_new(tanh_net, &sc, FL_PARAM_EPS, 0, 1e-3, 1, 16, &w), FL_EINVAL, "silu");
  fl_nn_release(tanh_net);
  fl_nn *nn = mk(FL_NN_MLP, 2, 2, FL_ACT_SILU, FL_TIME_CONCAT, 1);
  assert_fails_with(fl_nn_dsm_new(nn, &sc, FL_PARAM_EPS, 0, 1e-3, 1, 1, &w), FL_EINVAL, "batch");
  assert_null(w);
  fl_nn_release(nn);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    T(test_jacobians_fd), T(test_potential_hessian_fd), T(test_symmetry), T(test_divfree),
    T(test_jvp_vjp), T(test_save_load), T(test_dsm_step),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
