/* Unit tests of lib/fl_poly.c and lib/fl_cmf.c: exact arithmetic, the
 * conservativity check, walks (product tree against the sequential product),
 * limits, PCFs and constants, each against closed forms; every test checks
 * that fl_mem_in_use() is back to its starting value. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <flint/flint.h>
#include "fl_poly.h"
#include "fl_cmf.h"

static size_t mem_start;

static int setup(void **state)
{
  (void)state;
  mem_start = fl_mem_in_use();
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  flint_cleanup();
  if (fl_mem_in_use() != mem_start) {
    print_error("leak: fl_mem_in_use() %zu bytes at start, %zu at end\n", mem_start, fl_mem_in_use());
    return -1;
  }
  return 0;
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

#define assert_ok(expr)                                                                                \
  do {                                                                                                 \
    fl_status s_ = (expr);                                                                             \
    if (s_ != FL_OK) fail_msg("%s failed: %s (%s)", #expr, fl_strerror(s_), fl_last_detail());        \
  } while (0)

static fl_poly *P(const char *s)
{
  fl_poly *p;
  assert_ok(fl_poly_parse(s, &p));
  return p;
}

static void assert_str(char *s, const char *expect)
{
  assert_non_null(s);
  assert_string_equal(s, expect);
  fl_str_free(s);
}

/* ------------------------------------------------------------ poly */

static void test_parse_print_eval(void **state)
{
  (void)state;
  fl_poly *p = P("x^3 + 2*x^2*y - 7/2");
  assert_str(fl_poly_str(p), "x^3 + 2*x^2*y - 7/2");
  const char *names[] = {"x", "y"};
  fl_rat *v[2], *r;
  assert_ok(fl_rat_from_si(1, &v[0]));
  assert_ok(fl_rat_from_str("2", &v[1]));
  assert_ok(fl_poly_eval(p, 2, names, (const fl_rat *const *)v, &r));
  assert_str(fl_rat_str(r), "3/2"); /* 1 + 4 - 7/2 */
  fl_rat_free(r);
  /* a missing variable */
  assert_int_equal(fl_poly_eval(p, 1, names, (const fl_rat *const *)v, &r), FL_EINVAL);
  assert_null(r);
  assert_non_null(strstr(fl_last_detail(), "'y'"));
  fl_rat_free(v[0]);
  fl_rat_free(v[1]);
  fl_poly_free(p);
  /* decimals and exponents are exact */
  fl_rat *q;
  assert_ok(fl_rat_from_str("-12.375", &q));
  assert_str(fl_rat_str(q), "-99/8");
  fl_rat_free(q);
  assert_ok(fl_rat_from_str("2.5e-3", &q));
  assert_str(fl_rat_str(q), "1/400");
  fl_rat_free(q);
}

static void test_parse_errors(void **state)
{
  (void)state;
  fl_poly *p;
  assert_int_equal(fl_poly_parse("x^3 + * 2", &p), FL_EFORMAT);
  assert_null(p);
  assert_non_null(strstr(fl_last_detail(), "position 7"));
  assert_int_equal(fl_poly_parse("(x + 1", &p), FL_EFORMAT);
  assert_non_null(strstr(fl_last_detail(), "position 7"));
  assert_int_equal(fl_poly_parse("2x", &p), FL_EFORMAT);
  assert_non_null(strstr(fl_last_detail(), "position 2"));
  assert_int_equal(fl_poly_parse("1/(x-x)", &p), FL_ERANGE);
  assert_int_equal(fl_poly_parse("x^y", &p), FL_EFORMAT);
}

static void test_rational_functions(void **state)
{
  (void)state;
  fl_poly *a = P("x^2 - 1"), *b = P("x - 1"), *q, *e = P("x + 1");
  assert_ok(fl_poly_arith(FL_ARITH_DIV, a, b, &q));
  assert_true(fl_poly_equal(q, e));
  assert_true(fl_poly_is_polynomial(q));
  fl_poly_free(q);
  /* over different variable sets; canonical text */
  fl_poly *c = P("x*y");
  assert_ok(fl_poly_arith(FL_ARITH_DIV, e, c, &q));
  assert_str(fl_poly_str(q), "(x + 1)/(x*y)");
  fl_poly *back = P("(x + 1)/(x*y)");
  assert_true(fl_poly_equal(q, back));
  /* substitution x := x + 1 and x := 1/y */
  fl_poly *sx = P("x + 1"), *s2;
  const char *nx[] = {"x"};
  assert_ok(fl_poly_subs(a, 1, nx, (const fl_poly *const *)&sx, &s2));
  fl_poly *want = P("x^2 + 2*x");
  assert_true(fl_poly_equal(s2, want));
  fl_poly_free(s2);
  fl_poly_free(want);
  fl_poly *inv = P("1/y");
  assert_ok(fl_poly_subs(a, 1, nx, (const fl_poly *const *)&inv, &s2));
  want = P("(1 - y^2)/y^2");
  assert_true(fl_poly_equal(s2, want));
  fl_poly_free(s2);
  fl_poly_free(want);
  /* powers */
  assert_ok(fl_poly_pow(e, 3, &s2));
  want = P("x^3 + 3*x^2 + 3*x + 1");
  assert_true(fl_poly_equal(s2, want));
  fl_poly_free(s2);
  fl_poly_free(want);
  fl_poly_free(inv);
  fl_poly_free(sx);
  fl_poly_free(back);
  fl_poly_free(q);
  fl_poly_free(c);
  fl_poly_free(a);
  fl_poly_free(b);
  fl_poly_free(e);
}

/* ------------------------------------------------------------ CMFs */

static const char *const XY[] = {"x", "y"};

static fl_cmf *make(const char *const *ents)
{
  fl_poly *M[8];
  for (int k = 0; k < 8; k++) M[k] = P(ents[k]);
  fl_cmf *c;
  assert_ok(fl_cmf_new(2, XY, 2, (const fl_poly *const *)M, &c));
  for (int k = 0; k < 8; k++) fl_poly_free(M[k]);
  return c;
}

static const char *const ZETA3[8] = {
  "0", "-x^3", "(x+1)^3", "x^3 + (x+1)^3 + 2*y*(y-1)*(2*x+1)",
  "-x^3 + 2*x^2*y - 2*x*y^2 + y^3", "-x^3", "x^3", "x^3 + 2*x^2*y + 2*x*y^2 + y^3"};
static const char *const PI[8] = {"x", "-x", "-y", "2*x+y+1", "1+y", "-x", "-1-y", "x+2*y+1"};
static const char *const FIXTURE[8] = {"x", "x+17", "x*y", "3*y-x+5", "x", "x+17", "x*y", "3*y-x+5"};

static void test_conservative(void **state)
{
  (void)state;
  int ok, fa, fb;
  fl_cmf *z = make(ZETA3);
  assert_ok(fl_cmf_check(z, 1, 8, 1, &ok, &fa, &fb));
  assert_true(ok);
  fl_cmf_free(z);
  fl_cmf *p = make(PI);
  assert_ok(fl_cmf_check(p, 1, 8, 1, &ok, &fa, &fb));
  assert_true(ok);
  fl_cmf_free(p);
  fl_cmf *f = make(FIXTURE);
  assert_ok(fl_cmf_check(f, 1, 8, 1, &ok, &fa, &fb));
  assert_false(ok);
  assert_int_equal(fa, 0);
  assert_int_equal(fb, 1);
  /* the exact check alone (no modular trials) agrees */
  assert_ok(fl_cmf_check(f, 1, 0, 1, &ok, &fa, &fb));
  assert_false(ok);
  fl_cmf_free(f);
  /* zeta3 with 1 added to each entry in turn */
  for (int k = 0; k < 8; k++) {
    char buf[8][128];
    const char *e[8];
    for (int j = 0; j < 8; j++) {
      snprintf(buf[j], sizeof buf[j], j == k ? "(%s) + 1" : "%s", ZETA3[j]);
      e[j] = buf[j];
    }
    fl_cmf *c = make(e);
    assert_ok(fl_cmf_check(c, 1, 0, 1, &ok, &fa, &fb));
    assert_false(ok);
    assert_ok(fl_cmf_check(c, 0, 4, 7, &ok, &fa, &fb));
    assert_false(ok);
    fl_cmf_free(c);
  }
}

static void test_bad_cmf(void **state)
{
  (void)state;
  fl_poly *M[8];
  for (int k = 0; k < 8; k++) M[k] = P("1");
  fl_cmf *c;
  const char *twice[] = {"x", "x"};
  assert_int_equal(fl_cmf_new(2, twice, 2, (const fl_poly *const *)M, &c), FL_EINVAL);
  assert_null(c);
  const char *nn[] = {"n", "x"};
  assert_int_equal(fl_cmf_new(2, nn, 2, (const fl_poly *const *)M, &c), FL_EINVAL);
  assert_int_equal(fl_cmf_new(2, XY, 1, (const fl_poly *const *)M, &c), FL_ERANGE);
  for (int k = 0; k < 8; k++) fl_poly_free(M[k]);
}

static void free_rats(fl_rat **r, int n)
{
  for (int k = 0; k < n; k++) fl_rat_free(r[k]);
  free(r);
}

static void test_walk_tree_equals_sequential(void **state)
{
  (void)state;
  fl_cmf *z = make(ZETA3);
  long t[2] = {1, 1};
  fl_rat *s[2];
  assert_ok(fl_rat_from_si(1, &s[0]));
  assert_ok(fl_rat_from_si(1, &s[1]));
  fl_mfun *m;
  assert_ok(fl_cmf_trajectory(z, t, (const fl_rat *const *)s, &m));
  long depths[3] = {1, 777, 2000};
  fl_rat **a, **b;
  assert_ok(fl_mfun_walk(m, 0, 3, depths, 0, &a));
  assert_ok(fl_mfun_walk(m, 0, 3, depths, 1, &b));
  for (int k = 0; k < 12; k++) assert_int_equal(fl_rat_cmp(a[k], b[k]), 0);
  /* depth 1 is M_x(1,1) M_y(2,1) */
  fl_rat **w;
  int steps[2] = {1, 2};
  assert_ok(fl_cmf_work(z, (const fl_rat *const *)s, 2, steps, &w));
  for (int k = 0; k < 4; k++) assert_int_equal(fl_rat_cmp(a[k], w[k]), 0);
  free_rats(w, 4);
  free_rats(a, 12);
  free_rats(b, 12);
  /* the other path order gives the same work */
  int steps2[2] = {2, 1};
  fl_rat **w2;
  assert_ok(fl_cmf_work(z, (const fl_rat *const *)s, 2, steps, &w));
  assert_ok(fl_cmf_work(z, (const fl_rat *const *)s, 2, steps2, &w2));
  for (int k = 0; k < 4; k++) assert_int_equal(fl_rat_cmp(w[k], w2[k]), 0);
  free_rats(w, 4);
  free_rats(w2, 4);
  /* depth 0 is refused */
  long zero = 0;
  assert_int_equal(fl_mfun_walk(m, 0, 1, &zero, 0, &a), FL_ERANGE);
  assert_null(a);
  fl_mfun_release(m);
  fl_rat_free(s[0]);
  fl_rat_free(s[1]);
  fl_cmf_free(z);
}

static void test_limit_zeta3(void **state)
{
  (void)state;
  fl_cmf *z = make(ZETA3);
  long t[2] = {1, 1};
  fl_rat *s[2];
  assert_ok(fl_rat_from_si(1, &s[0]));
  assert_ok(fl_rat_from_si(1, &s[1]));
  fl_mfun *m;
  assert_ok(fl_cmf_trajectory(z, t, (const fl_rat *const *)s, &m));
  fl_limit *l;
  assert_ok(fl_mfun_limit(m, 0, 200, NULL, 0, &l));
  long prec = fl_limit_precision(l);
  assert_true(prec > 500 && prec < 700); /* about 3.06 digits per step */
  fl_real *v, *z3, *one, *num, *want;
  assert_ok(fl_limit_value(l, 40, &v));
  assert_ok(fl_const("zeta", 3, 60, &z3));
  fl_rat *r1;
  assert_ok(fl_rat_from_si(1, &r1));
  assert_ok(fl_real_from_rat(r1, 60, &one));
  assert_ok(fl_real_arith(FL_ARITH_SUB, one, z3, &num));
  assert_ok(fl_real_arith(FL_ARITH_DIV, num, z3, &want)); /* (1 - zeta3)/zeta3 */
  char *a = fl_real_str(v, 32), *b = fl_real_str(want, 32);
  assert_string_equal(a, b);
  assert_string_equal(a, "-0.16809262741929253131687372117847");
  fl_str_free(a);
  fl_str_free(b);
  fl_real *tmp;
  assert_int_equal(fl_limit_value(l, 100000, &tmp), FL_ERANGE);
  assert_non_null(strstr(fl_last_detail(), "walk deeper"));
  fl_real_free(v);
  fl_real_free(z3);
  fl_real_free(one);
  fl_real_free(num);
  fl_real_free(want);
  fl_rat_free(r1);
  fl_limit_free(l);
  fl_mfun_release(m);
  fl_rat_free(s[0]);
  fl_rat_free(s[1]);
  fl_cmf_free(z);
}

static void test_apery_pcf(void **state)
{
  (void)state;
  fl_cmf *z = make(ZETA3);
  long t[2] = {1, 1};
  fl_rat *s[2];
  assert_ok(fl_rat_from_si(0, &s[0]));
  assert_ok(fl_rat_from_si(0, &s[1]));
  fl_pcf *p;
  assert_ok(fl_cmf_to_pcf(z, t, (const fl_rat *const *)s, &p));
  fl_poly *a, *b, *ea = P("34*n^3 + 51*n^2 + 27*n + 5"), *eb = P("-n^6");
  assert_ok(fl_pcf_a(p, &a));
  assert_ok(fl_pcf_b(p, &b));
  assert_true(fl_poly_equal(a, ea));
  assert_true(fl_poly_equal(b, eb));
  /* delta at depth 2000 against 6/zeta(3) to 6500 digits: about 0.0866 */
  fl_limit *l;
  assert_ok(fl_pcf_limit(p, 2000, 1, 0, &l));
  fl_real *z3, *six, *L;
  fl_rat *r6;
  assert_ok(fl_rat_from_si(6, &r6));
  assert_ok(fl_const("zeta", 3, 6500, &z3));
  assert_ok(fl_real_from_rat(r6, 6500, &six));
  assert_ok(fl_real_arith(FL_ARITH_DIV, six, z3, &L));
  double d;
  assert_ok(fl_limit_delta(l, L, &d));
  assert_true(d > 0.08 && d < 0.09);
  fl_real_free(z3);
  fl_real_free(six);
  fl_real_free(L);
  fl_rat_free(r6);
  fl_limit_free(l);
  /* PCF(2n+1, n^2) convergents: 4/3, 24/19, 51/40, 555/436, 205/161 */
  fl_pcf *q;
  fl_poly *qa = P("2*n+1"), *qb = P("n^2");
  assert_ok(fl_pcf_new(qa, qb, &q));
  const char *want[5] = {"4/3", "24/19", "51/40", "555/436", "205/161"};
  for (long N = 1; N <= 5; N++) {
    fl_rat *r;
    assert_ok(fl_pcf_limit(q, N, 1, 0, &l));
    assert_ok(fl_limit_rational(l, &r));
    assert_str(fl_rat_str(r), want[N - 1]);
    fl_rat_free(r);
    fl_limit_free(l);
  }
  fl_pcf_free(q);
  fl_poly_free(qa);
  fl_poly_free(qb);
  fl_poly_free(a);
  fl_poly_free(b);
  fl_poly_free(ea);
  fl_poly_free(eb);
  fl_pcf_free(p);
  fl_rat_free(s[0]);
  fl_rat_free(s[1]);
  fl_cmf_free(z);
}

static void test_constants(void **state)
{
  (void)state;
  fl_real *r;
  assert_ok(fl_const("pi", 0, 30, &r));
  assert_str(fl_real_str(r, 0), "3.14159265358979323846264338328");
  fl_real_free(r);
  assert_ok(fl_const("euler", 0, 20, &r));
  assert_str(fl_real_str(r, 0), "0.57721566490153286061");
  fl_real_free(r);
  assert_int_equal(fl_const("zeta", 1, 20, &r), FL_ERANGE);
  assert_int_equal(fl_const("tau", 0, 20, &r), FL_EINVAL);
  assert_ok(fl_real_from_str("1.25e-3", &r));
  assert_str(fl_real_str(r, 3), "0.00125");
  fl_real_free(r);
  assert_int_equal(fl_real_from_str("1.2x", &r), FL_EFORMAT);
}

/* Inflation a -> c a, b -> c(n-1) c b; deflation exact or FL_EINVAL; each
 * convergent of the inflated PCF is c(0) times the original's. */
static void test_pcf_inflate(void **state)
{
  (void)state;
  fl_poly *a = P("34*n^3 + 51*n^2 + 27*n + 5"), *b = P("-n^6"), *c = P("(n+2)^3");
  fl_poly *ea = P("(n+2)^3*(2*n+1)*(17*n^2+17*n+5)"), *eb = P("-n^6*(n+1)^3*(n+2)^3");
  fl_pcf *p, *inf, *def;
  assert_ok(fl_pcf_new(a, b, &p));
  assert_ok(fl_pcf_inflate(p, c, &inf));
  fl_poly *ia, *ib;
  assert_ok(fl_pcf_a(inf, &ia));
  assert_ok(fl_pcf_b(inf, &ib));
  assert_true(fl_poly_equal(ia, ea));
  assert_true(fl_poly_equal(ib, eb));
  assert_ok(fl_pcf_deflate(inf, c, &def));
  fl_poly *da, *db;
  assert_ok(fl_pcf_a(def, &da));
  assert_ok(fl_pcf_b(def, &db));
  assert_true(fl_poly_equal(da, a));
  assert_true(fl_poly_equal(db, b));
  /* p/q of the inflated PCF = 8 p/q of Apery's, exactly */
  fl_rat *eight;
  assert_ok(fl_rat_from_si(8, &eight));
  for (long N = 1; N <= 40; N += 13) {
    fl_limit *l1, *l2;
    fl_rat *r1, *r2, *r8;
    assert_ok(fl_pcf_limit(p, N, 1, 0, &l1));
    assert_ok(fl_pcf_limit(inf, N, 1, 0, &l2));
    assert_ok(fl_limit_rational(l1, &r1));
    assert_ok(fl_limit_rational(l2, &r2));
    assert_ok(fl_rat_arith(FL_ARITH_MUL, r1, eight, &r8));
    assert_int_equal(fl_rat_cmp(r8, r2), 0);
    fl_rat_free(r1);
    fl_rat_free(r2);
    fl_rat_free(r8);
    fl_limit_free(l1);
    fl_limit_free(l2);
  }
  fl_rat_free(eight);
  /* not divisible: a by n+1; b by c(n) c(n-1) = n (n-1) */
  fl_pcf *bad;
  fl_poly *c1 = P("n+1"), *cn = P("n"), *zero = P("0"), *rc = P("1/n"), *pa = P("n*(n+1)"), *pb = P("n^2");
  assert_int_equal(fl_pcf_deflate(p, c1, &bad), FL_EINVAL);
  assert_non_null(strstr(fl_last_detail(), "does not divide a(n)"));
  fl_pcf *q;
  assert_ok(fl_pcf_new(pa, pb, &q));
  assert_int_equal(fl_pcf_deflate(q, cn, &bad), FL_EINVAL);
  assert_non_null(strstr(fl_last_detail(), "does not divide b(n)"));
  assert_int_equal(fl_pcf_inflate(p, zero, &bad), FL_EINVAL);
  assert_int_equal(fl_pcf_deflate(p, rc, &bad), FL_EINVAL);
  fl_pcf_free(q);
  fl_poly *polys[] = {a, b, c, ea, eb, ia, ib, da, db, c1, cn, zero, rc, pa, pb};
  for (size_t k = 0; k < sizeof polys / sizeof *polys; k++) fl_poly_free(polys[k]);
  fl_pcf_free(def);
  fl_pcf_free(inf);
  fl_pcf_free(p);
}

/* G = e E1(1) against OEIS A073003 (the Lua test also checks it against
 * the continued fraction 1/(2 - 1/(4 - 4/(6 - ...)))). */
static void test_gompertz(void **state)
{
  (void)state;
  fl_real *g;
  assert_ok(fl_const("gompertz", 0, 50, &g));
  assert_str(fl_real_str(g, 0), "0.59634736232319407434107849936927937607417786015255");
  fl_real_free(g);
}

/* ------------------------------------------------------------ matrices, parameters, dual, coboundary */

static void free_polys(fl_poly **p, int n)
{
  for (int k = 0; k < n; k++) fl_poly_free(p[k]);
}

static void test_poly_matrices(void **state)
{
  (void)state;
  /* A = [[x, y], [1, x + 1]]: det = x^2 + x - y, A A^-1 = I */
  fl_poly *A[4] = {P("x"), P("y"), P("1"), P("x + 1")}, *Ai[4], *C[4], *d;
  assert_ok(fl_poly_mat_det(2, (const fl_poly *const *)A, &d));
  assert_str(fl_poly_str(d), "x^2 + x - y");
  fl_poly_free(d);
  assert_ok(fl_poly_mat_inv(2, (const fl_poly *const *)A, Ai));
  assert_str(fl_poly_str(Ai[0]), "(x + 1)/(x^2 + x - y)");
  assert_ok(fl_poly_mat_mul(2, (const fl_poly *const *)A, (const fl_poly *const *)Ai, C));
  assert_str(fl_poly_str(C[0]), "1");
  assert_str(fl_poly_str(C[1]), "0");
  assert_str(fl_poly_str(C[2]), "0");
  assert_str(fl_poly_str(C[3]), "1");
  free_polys(C, 4);
  free_polys(Ai, 4);
  /* a singular matrix: rows proportional */
  fl_poly *S[4] = {P("x"), P("x*y"), P("1"), P("y")};
  assert_int_equal(fl_poly_mat_inv(2, (const fl_poly *const *)S, Ai), FL_ESINGULAR);
  assert_ok(fl_poly_mat_det(2, (const fl_poly *const *)S, &d));
  assert_str(fl_poly_str(d), "0");
  fl_poly_free(d);
  free_polys(S, 4);
  free_polys(A, 4);
}

/* W = M_x(P) M_y(P + e_x) (the work from P to P + e_x + e_y). */
static fl_rat **work_xy(const fl_cmf *c, long px, long py)
{
  fl_rat *from[2], **W;
  assert_ok(fl_rat_from_si(px, &from[0]));
  assert_ok(fl_rat_from_si(py, &from[1]));
  int steps[2] = {1, 2};
  assert_ok(fl_cmf_work(c, (const fl_rat *const *)from, 2, steps, &W));
  fl_rat_free(from[0]);
  fl_rat_free(from[1]);
  return W;
}

static void test_dual_coboundary(void **state)
{
  (void)state;
  fl_cmf *z = make(ZETA3), *d, *c;
  int ok, fa, fb;
  assert_ok(fl_cmf_dual(z, &d));
  assert_ok(fl_cmf_check(d, 1, 4, 1, &ok, &fa, &fb));
  assert_true(ok);
  /* the dual's walk is (W^-1)^T: W_dual^T W = I for the 2x2 walk from (1,2) */
  fl_rat **W = work_xy(z, 1, 2), **Wd = work_xy(d, 1, 2);
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 2; j++) {
      /* (Wd^T W)[i][j] = sum_k Wd[k][i] W[k][j] */
      fmpq_t acc, t;
      fmpq_init(acc);
      fmpq_init(t);
      for (int k = 0; k < 2; k++) {
        fmpq_mul(t, Wd[k * 2 + i]->v, W[k * 2 + j]->v);
        fmpq_add(acc, acc, t);
      }
      assert_int_equal(fmpq_equal_si(acc, i == j), 1);
      fmpq_clear(acc);
      fmpq_clear(t);
    }
  free_rats(Wd, 4);
  /* coboundary by U = diag(1, x^-3), then back by U^-1: the field again */
  fl_poly *U[4] = {P("1"), P("0"), P("0"), P("x^-3")}, *Ui[4] = {P("1"), P("0"), P("0"), P("x^3")};
  fl_cmf *back;
  assert_ok(fl_cmf_coboundary(z, (const fl_poly *const *)U, &c));
  assert_ok(fl_cmf_check(c, 1, 4, 1, &ok, &fa, &fb));
  assert_true(ok);
  fl_poly *e;
  assert_ok(fl_cmf_entry(c, 1, 1, 0, &e)); /* U^-1 M_y U: [1][0] = x^3 x^3 */
  assert_str(fl_poly_str(e), "x^6");
  fl_poly_free(e);
  assert_ok(fl_cmf_coboundary(c, (const fl_poly *const *)Ui, &back));
  for (int a = 0; a < 2; a++)
    for (int k = 0; k < 4; k++) {
      fl_poly *p1, *p2;
      assert_ok(fl_cmf_entry(back, a, k / 2, k % 2, &p1));
      assert_ok(fl_cmf_entry(z, a, k / 2, k % 2, &p2));
      assert_true(fl_poly_equal(p1, p2));
      fl_poly_free(p1);
      fl_poly_free(p2);
    }
  /* the coboundary's walk is U(P)^-1 W U(P + e_x + e_y): entry [0][1] scales by (px+1)^-3 */
  fl_rat **Wc = work_xy(c, 1, 2);
  fmpq_t t;
  fmpq_init(t);
  fmpq_set_si(t, 1, 8); /* U(2, 3)[1][1] = 2^-3 */
  fmpq_mul(t, t, W[1]->v);
  assert_true(fmpq_equal(t, Wc[1]->v));
  fmpq_clear(t);
  free_rats(Wc, 4);
  free_rats(W, 4);
  /* a singular U */
  fl_poly *Us[4] = {P("x"), P("2*x"), P("1"), P("2")};
  fl_cmf *bad;
  assert_int_equal(fl_cmf_coboundary(z, (const fl_poly *const *)Us, &bad), FL_ESINGULAR);
  assert_non_null(strstr(fl_last_detail(), "U is singular"));
  free_polys(Us, 4);
  free_polys(U, 4);
  free_polys(Ui, 4);
  fl_cmf_free(back);
  fl_cmf_free(c);
  fl_cmf_free(d);
  fl_cmf_free(z);
}

static void test_params_subs(void **state)
{
  (void)state;
  /* cmf1 at c = (0, a, 0, 1): the log field when a = 1 */
  const char *ents[8] = {"0", "a*x^2", "1", "a*(x+y) - (x-y+1)", "x-y", "a*x^2", "1", "a*(x+y)"};
  fl_poly *M[8];
  for (int k = 0; k < 8; k++) M[k] = P(ents[k]);
  const char *params[2] = {"a", "b"};
  fl_cmf *c, *s, *bad;
  assert_ok(fl_cmf_new_params(2, XY, 2, params, 2, (const fl_poly *const *)M, &c));
  assert_int_equal(fl_cmf_nparams(c), 2);
  assert_string_equal(fl_cmf_param(c, 0), "a");
  assert_string_equal(fl_cmf_param(c, 1), "b");
  /* an undeclared variable */
  assert_int_equal(fl_cmf_new_params(2, XY, 1, params + 1, 2, (const fl_poly *const *)M, &bad), FL_EINVAL);
  assert_non_null(strstr(fl_last_detail(), "'a'"));
  /* substitute a = 1 */
  const char *nm = "a";
  fl_poly *one = P("1");
  assert_ok(fl_cmf_subs(c, 1, &nm, (const fl_poly *const *)&one, &s));
  assert_int_equal(fl_cmf_nparams(s), 1);
  assert_string_equal(fl_cmf_param(s, 0), "b");
  fl_poly *e;
  assert_ok(fl_cmf_entry(s, 0, 1, 1, &e));
  assert_str(fl_poly_str(e), "2*y - 1");
  fl_poly_free(e);
  /* an axis, an unknown name */
  const char *ax = "x", *q = "q";
  assert_int_equal(fl_cmf_subs(c, 1, &ax, (const fl_poly *const *)&one, &bad), FL_EINVAL);
  assert_int_equal(fl_cmf_subs(c, 1, &q, (const fl_poly *const *)&one, &bad), FL_EINVAL);
  assert_non_null(strstr(fl_last_detail(), "parameters: a, b"));
  fl_poly_free(one);
  for (int k = 0; k < 8; k++) fl_poly_free(M[k]);
  fl_cmf_free(s);
  fl_cmf_free(c);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    T(test_parse_print_eval),
    T(test_parse_errors),
    T(test_rational_functions),
    T(test_conservative),
    T(test_bad_cmf),
    T(test_walk_tree_equals_sequential),
    T(test_limit_zeta3),
    T(test_apery_pcf),
    T(test_constants),
    T(test_pcf_inflate),
    T(test_gompertz),
    T(test_poly_matrices),
    T(test_dual_coboundary),
    T(test_params_subs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
