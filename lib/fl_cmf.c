/* fl_cmf: conservative matrix fields, walks, limits, PCFs, reals. See
 * fl_cmf.h. Symbolic work uses FLINT (fmpq_mpoly for fields, fmpz_poly_q
 * for trajectory matrices in n); walks use GMP integers in a balanced
 * product tree, the two halves of the upper levels in parallel (OpenMP
 * tasks). */
#include "config.h"
/* GCC 12 misreads FLINT's array-typed parameters (fmpq_t is fmpq[1]) on
 * heap structs and reports overflows that cannot happen. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#pragma GCC diagnostic ignored "-Wstringop-overread"
#endif
#include "fl_cmf.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmp.h>
#include <mpfr.h>
#include <flint/fmpz_poly.h>
#include <flint/fmpz_poly_q.h>
#include <flint/fmpz_poly_factor.h>
#include <flint/fmpz_factor.h>
#include <flint/fmpq_poly.h>
#include <flint/fmpq_mat.h>
#include <flint/ulong_extras.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "fl_rng.h"

static fl_status oom(void) { return fl_fail(FL_ENOMEM, "out of memory"); }

static long bits_of_digits(long d) { return (long)ceil((double)d * 3.3219280948873623) + 16; }

/* ------------------------------------------------------------ reals */

struct fl_real {
  mpfr_t v;
  long digits;
};

static fl_real *real_alloc(long digits)
{
  if (digits < 1) digits = 1;
  fl_real *r = fl_calloc(1, sizeof *r);
  if (!r) return NULL;
  r->digits = digits;
  mpfr_init2(r->v, (mpfr_prec_t)bits_of_digits(digits));
  return r;
}

void fl_real_free(fl_real *a)
{
  if (!a) return;
  mpfr_clear(a->v);
  fl_free(a, sizeof *a);
}

fl_status fl_real_from_str(const char *s, fl_real **out)
{
  *out = NULL;
  long nd = 0, lead = 1;
  const char *q = s;
  while (isspace((unsigned char)*q)) q++;
  if (*q == '+' || *q == '-') q++;
  for (const char *c = q; *c && *c != 'e' && *c != 'E'; c++) {
    if (isdigit((unsigned char)*c)) {
      if (*c != '0') lead = 0;
      if (!lead) nd++;
    }
  }
  fl_real *r = real_alloc(nd > 17 ? nd : 17);
  if (!r) return oom();
  char *end;
  mpfr_strtofr(r->v, s, &end, 10, MPFR_RNDN);
  while (isspace((unsigned char)*end)) end++;
  if (end == s || *end != '\0' || !mpfr_number_p(r->v)) {
    size_t pos = (size_t)(end - s) + 1;
    fl_real_free(r);
    return fl_fail(FL_EFORMAT, "\"%s\" is not a decimal number (at position %zu)", s, pos);
  }
  *out = r;
  return FL_OK;
}

fl_status fl_real_from_rat(const fl_rat *a, long digits, fl_real **out)
{
  if (!(*out = real_alloc(digits))) return oom();
  mpq_t q;
  mpq_init(q);
  fmpq_get_mpq(q, a->v);
  mpfr_set_q((*out)->v, q, MPFR_RNDN);
  mpq_clear(q);
  return FL_OK;
}

fl_status fl_real_from_double(double d, fl_real **out)
{
  *out = NULL;
  if (!isfinite(d)) return fl_fail(FL_ENAN, "%g is not a finite number", d);
  if (!(*out = real_alloc(17))) return oom();
  mpfr_set_d((*out)->v, d, MPFR_RNDN);
  return FL_OK;
}

fl_status fl_real_arith(fl_arith op, const fl_real *a, const fl_real *b, fl_real **out)
{
  *out = NULL;
  if (op == FL_ARITH_DIV && mpfr_zero_p(b->v)) return fl_fail(FL_ERANGE, "division by zero");
  fl_real *r = real_alloc(a->digits < b->digits ? a->digits : b->digits);
  if (!r) return oom();
  switch (op) {
  case FL_ARITH_ADD: mpfr_add(r->v, a->v, b->v, MPFR_RNDN); break;
  case FL_ARITH_SUB: mpfr_sub(r->v, a->v, b->v, MPFR_RNDN); break;
  case FL_ARITH_MUL: mpfr_mul(r->v, a->v, b->v, MPFR_RNDN); break;
  case FL_ARITH_DIV: mpfr_div(r->v, a->v, b->v, MPFR_RNDN); break;
  }
  *out = r;
  return FL_OK;
}

fl_status fl_real_neg(const fl_real *a, fl_real **out)
{
  if (!(*out = real_alloc(a->digits))) return oom();
  mpfr_neg((*out)->v, a->v, MPFR_RNDN);
  return FL_OK;
}

long fl_real_digits(const fl_real *a) { return a->digits; }
mpfr_srcptr fl_real_mpfr(const fl_real *a) { return a->v; }

fl_status fl_real_from_mpfr(mpfr_srcptr x, long digits, fl_real **out)
{
  *out = NULL;
  if (!mpfr_number_p(x)) return fl_fail(FL_ENAN, "not a finite number");
  if (!(*out = real_alloc(digits))) return oom();
  mpfr_set((*out)->v, x, MPFR_RNDN);
  return FL_OK;
}
double fl_real_to_double(const fl_real *a) { return mpfr_get_d(a->v, MPFR_RNDN); }
int fl_real_cmp(const fl_real *a, const fl_real *b) { return mpfr_cmp(a->v, b->v); }

/* Decimal text of x with nd significant digits. */
static char *mpfr_text(const mpfr_t x, long nd)
{
  if (mpfr_zero_p(x)) {
    char *s = malloc(2);
    if (s) strcpy(s, "0");
    return s;
  }
  if (nd < 1) nd = 1;
  mpfr_exp_t e;
  char *m = mpfr_get_str(NULL, &e, 10, (size_t)nd, x, MPFR_RNDN);
  if (!m) return NULL;
  int neg = m[0] == '-';
  const char *d = m + neg;
  size_t n = strlen(d);
  /* drop trailing zeros of the mantissa only after the decimal point */
  size_t len = n + 64 + (e > 0 && (size_t)e > n ? (size_t)e : 0) + (e < 0 ? (size_t)(-e) : 0);
  char *s = malloc(len);
  if (!s) { mpfr_free_str(m); return NULL; }
  char *o = s;
  if (neg) *o++ = '-';
  if (e > 60 || e < -30) {
    *o++ = d[0];
    if (n > 1) { *o++ = '.'; memcpy(o, d + 1, n - 1); o += n - 1; }
    sprintf(o, "e%ld", (long)e - 1);
  } else if (e <= 0) {
    *o++ = '0';
    *o++ = '.';
    for (long k = 0; k < -e; k++) *o++ = '0';
    memcpy(o, d, n);
    o[n] = '\0';
  } else if ((size_t)e >= n) {
    memcpy(o, d, n);
    o += n;
    for (size_t k = n; k < (size_t)e; k++) *o++ = '0';
    *o = '\0';
  } else {
    memcpy(o, d, (size_t)e);
    o += e;
    *o++ = '.';
    memcpy(o, d + e, n - (size_t)e);
    o[n - (size_t)e] = '\0';
  }
  mpfr_free_str(m);
  return s;
}

char *fl_real_str(const fl_real *a, long digits)
{
  return mpfr_text(a->v, digits > 0 ? digits : a->digits);
}

fl_status fl_const(const char *name, long k, long digits, fl_real **out)
{
  *out = NULL;
  if (digits < 1 || digits > 10000000) return fl_fail(FL_ERANGE, "digits must be 1 to 10^7, not %ld", digits);
  int which = strcmp(name, "pi") == 0 ? 0 : strcmp(name, "e") == 0 ? 1 : strcmp(name, "log2") == 0 ? 2
            : strcmp(name, "catalan") == 0 ? 3 : strcmp(name, "euler") == 0 ? 4 : strcmp(name, "zeta") == 0 ? 5
            : strcmp(name, "gompertz") == 0 ? 6 : -1;
  if (which < 0) return fl_fail(FL_EINVAL, "unknown constant '%s'", name);
  if (which == 5 && k < 2) return fl_fail(FL_ERANGE, "zeta(k) needs an integer k >= 2, not %ld", k);
  fl_real *r = real_alloc(digits);
  if (!r) return oom();
  mpfr_t t;
  mpfr_init2(t, mpfr_get_prec(r->v) + 32);
  switch (which) {
  case 0: mpfr_const_pi(t, MPFR_RNDN); break;
  case 1: mpfr_set_ui(t, 1, MPFR_RNDN); mpfr_exp(t, t, MPFR_RNDN); break;
  case 2: mpfr_const_log2(t, MPFR_RNDN); break;
  case 3: mpfr_const_catalan(t, MPFR_RNDN); break;
  case 4: mpfr_const_euler(t, MPFR_RNDN); break;
  case 5: mpfr_zeta_ui(t, (unsigned long)k, MPFR_RNDN); break;
  default: {
    /* G = e E1(1) = -e Ei(-1); since MPFR 4.0 mpfr_eint(x) for x < 0 is
     * Ei(x) = -E1(-x). Both factors are correctly rounded at 32 guard bits. */
    mpfr_t u;
    mpfr_init2(u, mpfr_get_prec(t));
    mpfr_set_si(u, -1, MPFR_RNDN);
    mpfr_eint(t, u, MPFR_RNDN);
    mpfr_set_ui(u, 1, MPFR_RNDN);
    mpfr_exp(u, u, MPFR_RNDN);
    mpfr_mul(t, t, u, MPFR_RNDN);
    mpfr_neg(t, t, MPFR_RNDN);
    mpfr_clear(u);
    break;
  }
  }
  mpfr_set(r->v, t, MPFR_RNDN);
  mpfr_clear(t);
  *out = r;
  return FL_OK;
}

/* ------------------------------------------------------------ symbolic matrices in n */

typedef struct qmat { int r; fmpz_poly_q_struct *e; } qmat;

static int qmat_init(qmat *m, int r)
{
  m->r = r;
  m->e = malloc(sizeof *m->e * (size_t)(r * r));
  if (!m->e) return -1;
  for (int k = 0; k < r * r; k++) fmpz_poly_q_init(m->e + k);
  return 0;
}

static void qmat_clear(qmat *m)
{
  if (!m->e) return;
  for (int k = 0; k < m->r * m->r; k++) fmpz_poly_q_clear(m->e + k);
  free(m->e);
  m->e = NULL;
}

static void qmat_one(qmat *m)
{
  for (int i = 0; i < m->r; i++)
    for (int j = 0; j < m->r; j++) {
      if (i == j) fmpz_poly_q_one(m->e + i * m->r + j);
      else fmpz_poly_q_zero(m->e + i * m->r + j);
    }
}

/* c = a b (c may not alias). */
static void qmat_mul(qmat *c, const qmat *a, const qmat *b)
{
  int r = a->r;
  fmpz_poly_q_t t;
  fmpz_poly_q_init(t);
  for (int i = 0; i < r; i++)
    for (int j = 0; j < r; j++) {
      fmpz_poly_q_zero(c->e + i * r + j);
      for (int k = 0; k < r; k++) {
        fmpz_poly_q_mul(t, a->e + i * r + k, b->e + k * r + j);
        fmpz_poly_q_add(c->e + i * r + j, c->e + i * r + j, t);
      }
    }
  fmpz_poly_q_clear(t);
}

/* a := a^-1 by Gauss-Jordan; returns -1 when singular. */
static int qmat_inv(qmat *a)
{
  int r = a->r;
  qmat b;
  if (qmat_init(&b, r)) return -2;
  qmat_one(&b);
  fmpz_poly_q_t f, t;
  fmpz_poly_q_init(f);
  fmpz_poly_q_init(t);
  int ok = 0;
  for (int c = 0; c < r; c++) {
    int p = -1;
    for (int i = c; i < r; i++)
      if (!fmpz_poly_q_is_zero(a->e + i * r + c)) { p = i; break; }
    if (p < 0) { ok = -1; break; }
    if (p != c)
      for (int j = 0; j < r; j++) {
        fmpz_poly_q_swap(a->e + p * r + j, a->e + c * r + j);
        fmpz_poly_q_swap(b.e + p * r + j, b.e + c * r + j);
      }
    fmpz_poly_q_inv(f, a->e + c * r + c);
    for (int j = 0; j < r; j++) {
      fmpz_poly_q_mul(a->e + c * r + j, a->e + c * r + j, f);
      fmpz_poly_q_mul(b.e + c * r + j, b.e + c * r + j, f);
    }
    for (int i = 0; i < r; i++) {
      if (i == c || fmpz_poly_q_is_zero(a->e + i * r + c)) continue;
      fmpz_poly_q_set(f, a->e + i * r + c);
      for (int j = 0; j < r; j++) {
        fmpz_poly_q_mul(t, f, a->e + c * r + j);
        fmpz_poly_q_sub(a->e + i * r + j, a->e + i * r + j, t);
        fmpz_poly_q_mul(t, f, b.e + c * r + j);
        fmpz_poly_q_sub(b.e + i * r + j, b.e + i * r + j, t);
      }
    }
  }
  if (ok == 0)
    for (int k = 0; k < r * r; k++) fmpz_poly_q_swap(a->e + k, b.e + k);
  fmpz_poly_q_clear(f);
  fmpz_poly_q_clear(t);
  qmat_clear(&b);
  return ok;
}

/* num/den (fmpq_poly) -> canonical fmpz_poly_q; returns -1 when den == 0. */
static int q_from_fmpq_polys(fmpz_poly_q_t r, const fmpq_poly_t num, const fmpq_poly_t den)
{
  if (fmpq_poly_is_zero(den)) return -1;
  fmpz_poly_t a, b;
  fmpz_poly_init(a);
  fmpz_poly_init(b);
  fmpq_poly_get_numerator(a, num);
  fmpq_poly_get_numerator(b, den);
  fmpz_poly_scalar_mul_fmpz(a, a, fmpq_poly_denref(den));
  fmpz_poly_scalar_mul_fmpz(b, b, fmpq_poly_denref(num));
  fmpz_poly_swap(fmpz_poly_q_numref(r), a);
  fmpz_poly_swap(fmpz_poly_q_denref(r), b);
  fmpz_poly_q_canonicalise(r);
  fmpz_poly_clear(a);
  fmpz_poly_clear(b);
  return 0;
}

/* x(n) shifted: x(n + c). */
static void q_shift(fmpz_poly_q_t r, const fmpz_poly_q_t x, long c)
{
  fmpz_t cc;
  fmpz_init_set_si(cc, c);
  fmpz_poly_taylor_shift(fmpz_poly_q_numref(r), fmpz_poly_q_numref(x), cc);
  fmpz_poly_taylor_shift(fmpz_poly_q_denref(r), fmpz_poly_q_denref(x), cc);
  fmpz_poly_q_canonicalise(r);
  fmpz_clear(cc);
}

/* ------------------------------------------------------------ fl_mfun */

struct fl_mfun {
  int refc;
  int r;
  qmat T;              /* symbolic */
  fmpz_poly_struct *A; /* r*r, primitive over Z[n] */
  fmpz_poly_t S, D;    /* T = (S/D) A */
  /* the same as GMP coefficient arrays, for evaluation in threads */
  mpz_t **coef;
  long *deg;
};

void fl_mfun_retain(fl_mfun *m) { m->refc++; }

void fl_mfun_release(fl_mfun *m)
{
  if (!m || --m->refc > 0) return;
  int rr = m->r * m->r;
  qmat_clear(&m->T);
  if (m->A) {
    for (int k = 0; k < rr; k++) fmpz_poly_clear(m->A + k);
    free(m->A);
  }
  fmpz_poly_clear(m->S);
  fmpz_poly_clear(m->D);
  if (m->coef) {
    for (int k = 0; k < rr; k++) {
      if (!m->coef[k]) continue;
      for (long j = 0; j <= m->deg[k]; j++) mpz_clear(m->coef[k][j]);
      free(m->coef[k]);
    }
    free(m->coef);
  }
  free(m->deg);
  fl_free(m, sizeof *m);
}

int fl_mfun_rank(const fl_mfun *m) { return m->r; }

/* Takes T (moved into the new object). */
static fl_status mfun_from_qmat(qmat *T, fl_mfun **out)
{
  *out = NULL;
  int r = T->r, rr = r * r;
  fl_mfun *m = fl_calloc(1, sizeof *m);
  if (!m) return oom();
  m->refc = 1;
  m->r = r;
  m->T = *T;
  T->e = NULL;
  fmpz_poly_init(m->S);
  fmpz_poly_init(m->D);
  m->A = malloc(sizeof *m->A * (size_t)rr);
  m->coef = calloc((size_t)rr, sizeof *m->coef);
  m->deg = calloc((size_t)rr, sizeof *m->deg);
  if (!m->A || !m->coef || !m->deg) {
    free(m->A);
    m->A = NULL;
    fl_mfun_release(m);
    return oom();
  }
  for (int k = 0; k < rr; k++) fmpz_poly_init(m->A + k);
  /* D = lcm of the denominators, A = T D, S = gcd of A's entries */
  fmpz_poly_one(m->D);
  for (int k = 0; k < rr; k++) fmpz_poly_lcm(m->D, m->D, fmpz_poly_q_denref(m->T.e + k));
  fmpz_poly_t t;
  fmpz_poly_init(t);
  fmpz_poly_zero(m->S);
  for (int k = 0; k < rr; k++) {
    fmpz_poly_div(t, m->D, fmpz_poly_q_denref(m->T.e + k));
    fmpz_poly_mul(m->A + k, fmpz_poly_q_numref(m->T.e + k), t);
    fmpz_poly_gcd(m->S, m->S, m->A + k);
  }
  if (fmpz_poly_is_zero(m->S)) fmpz_poly_one(m->S);
  for (int k = 0; k < rr; k++) fmpz_poly_div(m->A + k, m->A + k, m->S);
  fmpz_poly_gcd(t, m->S, m->D);
  fmpz_poly_div(m->S, m->S, t);
  fmpz_poly_div(m->D, m->D, t);
  if (fmpz_sgn(fmpz_poly_lead(m->D)) < 0) {
    fmpz_poly_neg(m->D, m->D);
    fmpz_poly_neg(m->S, m->S);
  }
  fmpz_poly_clear(t);
  for (int k = 0; k < rr; k++) {
    long d = fmpz_poly_degree(m->A + k);
    if (d < 0) d = 0;
    m->deg[k] = d;
    m->coef[k] = malloc(sizeof(mpz_t) * (size_t)(d + 1));
    if (!m->coef[k]) { fl_mfun_release(m); return oom(); }
    for (long j = 0; j <= d; j++) {
      mpz_init(m->coef[k][j]);
      fmpz_t c;
      fmpz_init(c);
      fmpz_poly_get_coeff_fmpz(c, m->A + k, j);
      fmpz_get_mpz(m->coef[k][j], c);
      fmpz_clear(c);
    }
  }
  *out = m;
  return FL_OK;
}

/* fmpz_poly_q in n -> fl_poly in "n". */
static fl_status q_to_poly(const fmpz_poly_q_t x, fl_poly **out)
{
  *out = NULL;
  const char *nm = "n";
  fl_vars *v;
  fl_status st = fl_vars_new(1, &nm, &v);
  if (st) return st;
  fl_poly *p;
  st = fl_poly_zero_over(v, &p);
  fl_vars_release(v);
  if (st) return st;
  fmpq_poly_t a;
  fmpq_poly_init(a);
  fmpq_poly_set_fmpz_poly(a, fmpz_poly_q_numref(x));
  fmpq_mpoly_set_fmpq_poly(p->num, a, 0, v->ctx);
  fmpq_poly_set_fmpz_poly(a, fmpz_poly_q_denref(x));
  fmpq_mpoly_set_fmpq_poly(p->den, a, 0, v->ctx);
  fmpq_poly_clear(a);
  if ((st = fl_poly_normalize(p))) { fl_poly_free(p); return st; }
  *out = p;
  return FL_OK;
}

fl_status fl_mfun_entry(const fl_mfun *m, int i, int j, fl_poly **out)
{
  return q_to_poly(m->T.e + i * m->r + j, out);
}

/* ---- GMP matrices and the product tree */

typedef struct zwork {
  const fl_mfun *m;
  long n0;
  int r;
  int par_levels;
} zwork;

static mpz_t *zmat_new(int r)
{
  mpz_t *a = malloc(sizeof(mpz_t) * (size_t)(r * r));
  if (a)
    for (int k = 0; k < r * r; k++) mpz_init(a[k]);
  return a;
}

static void zmat_free(mpz_t *a, int r)
{
  if (!a) return;
  for (int k = 0; k < r * r; k++) mpz_clear(a[k]);
  free(a);
}

/* A(n) into a. */
static void zmat_eval(const fl_mfun *m, long n, mpz_t *a)
{
  for (int k = 0; k < m->r * m->r; k++) {
    long d = m->deg[k];
    mpz_set(a[k], m->coef[k][d]);
    for (long j = d - 1; j >= 0; j--) {
      mpz_mul_si(a[k], a[k], n);
      mpz_add(a[k], a[k], m->coef[k][j]);
    }
  }
}

/* c = a b; parallel over entries when asked (inside an OpenMP region). */
static void zmat_mul(mpz_t *c, mpz_t *a, mpz_t *b, int r, int par)
{
  (void)par;
  for (int i = 0; i < r; i++)
    for (int j = 0; j < r; j++) {
#ifdef _OPENMP
#pragma omp task if (par) firstprivate(i, j)
#endif
      {
        mpz_t t;
        mpz_init(t);
        mpz_mul(c[i * r + j], a[i * r], b[j]);
        for (int k = 1; k < r; k++) {
          mpz_mul(t, a[i * r + k], b[k * r + j]);
          mpz_add(c[i * r + j], c[i * r + j], t);
        }
        mpz_clear(t);
      }
    }
#ifdef _OPENMP
#pragma omp taskwait
#endif
}

#define LEAF 16

/* out = A(n0+lo) ... A(n0+hi-1), hi > lo; returns -1 when out of memory. */
static int ztree(const zwork *w, long lo, long hi, mpz_t *out, int level)
{
  int r = w->r;
  if (hi - lo <= LEAF) {
    mpz_t *a = zmat_new(r), *t = zmat_new(r);
    if (!a || !t) { zmat_free(a, r); zmat_free(t, r); return -1; }
    zmat_eval(w->m, w->n0 + lo, out);
    for (long i = lo + 1; i < hi; i++) {
      zmat_eval(w->m, w->n0 + i, a);
      zmat_mul(t, out, a, r, 0);
      for (int k = 0; k < r * r; k++) mpz_swap(t[k], out[k]);
    }
    zmat_free(a, r);
    zmat_free(t, r);
    return 0;
  }
  long mid = lo + (hi - lo) / 2;
  mpz_t *L = zmat_new(r), *R = zmat_new(r);
  if (!L || !R) { zmat_free(L, r); zmat_free(R, r); return -1; }
  int e1 = 0, e2 = 0, par = level < w->par_levels;
#ifdef _OPENMP
#pragma omp task if (par) shared(e1)
#endif
  e1 = ztree(w, lo, mid, L, level + 1);
  e2 = ztree(w, mid, hi, R, level + 1);
#ifdef _OPENMP
#pragma omp taskwait
#endif
  if (!e1 && !e2) zmat_mul(out, L, R, r, par);
  zmat_free(L, r);
  zmat_free(R, r);
  return e1 || e2 ? -1 : 0;
}

/* out = A(n0+lo) ... A(n0+hi-1) (identity when hi == lo). */
static int zproduct(const fl_mfun *m, long n0, long lo, long hi, int sequential, mpz_t *out)
{
  int r = m->r;
  if (hi <= lo) {
    for (int i = 0; i < r; i++)
      for (int j = 0; j < r; j++) mpz_set_ui(out[i * r + j], i == j);
    return 0;
  }
  if (sequential) {
    zwork w = {m, n0, r, 0};
    mpz_t *a = zmat_new(r), *t = zmat_new(r);
    if (!a || !t) { zmat_free(a, r); zmat_free(t, r); return -1; }
    zmat_eval(w.m, n0 + lo, out);
    for (long i = lo + 1; i < hi; i++) {
      zmat_eval(m, n0 + i, a);
      zmat_mul(t, out, a, r, 0);
      for (int k = 0; k < r * r; k++) mpz_swap(t[k], out[k]);
    }
    zmat_free(a, r);
    zmat_free(t, r);
    return 0;
  }
  int threads = fl_get_threads();
  zwork w = {m, n0, r, threads > 1 && hi - lo > 4 * LEAF ? 3 : 0};
  int err = 0;
#ifdef _OPENMP
  if (w.par_levels > 0) {
#pragma omp parallel num_threads(threads)
#pragma omp single
    err = ztree(&w, lo, hi, out, 0);
    return err;
  }
#endif
  err = ztree(&w, lo, hi, out, 0);
  return err;
}

/* Scalar product of S(n)/D(n) over the steps, exactly; checks poles. */
static fl_status scalar_product(const fl_mfun *m, long n0, long N, fmpq_t s)
{
  fmpz_t x, v, num, den;
  fmpz_init(x);
  fmpz_init(v);
  fmpz_init_set_ui(num, 1);
  fmpz_init_set_ui(den, 1);
  fl_status st = FL_OK;
  int sconst = fmpz_poly_degree(m->S) <= 0, dconst = fmpz_poly_degree(m->D) <= 0;
  /* products of many small factors: a simple binary accumulation is enough */
  for (long i = 0; i < N; i++) {
    fmpz_set_si(x, n0 + i);
    if (!dconst || i == 0) {
      fmpz_poly_evaluate_fmpz(v, m->D, x);
      if (fmpz_is_zero(v)) {
        st = fl_fail(FL_ESINGULAR, "the step matrix has a pole at n = %ld (step %ld)", n0 + i, i + 1);
        break;
      }
      if (!dconst) fmpz_mul(den, den, v);
    }
    if (!sconst) {
      fmpz_poly_evaluate_fmpz(v, m->S, x);
      fmpz_mul(num, num, v);
    }
  }
  if (!st) {
    if (sconst) {
      fmpz_poly_get_coeff_fmpz(v, m->S, 0);
      fmpz_pow_ui(num, v, (ulong)N);
    }
    if (dconst) {
      fmpz_poly_get_coeff_fmpz(v, m->D, 0);
      fmpz_pow_ui(den, v, (ulong)N);
    }
    fmpq_set_fmpz_frac(s, num, den);
  }
  fmpz_clear(x);
  fmpz_clear(v);
  fmpz_clear(num);
  fmpz_clear(den);
  return st;
}

/* Only the pole check (cheap; D usually constant). */
static fl_status check_poles(const fl_mfun *m, long n0, long N)
{
  if (fmpz_poly_degree(m->D) <= 0) return FL_OK;
  fmpz_t x, v;
  fmpz_init(x);
  fmpz_init(v);
  fl_status st = FL_OK;
  for (long i = 0; i < N && !st; i++) {
    fmpz_set_si(x, n0 + i);
    fmpz_poly_evaluate_fmpz(v, m->D, x);
    if (fmpz_is_zero(v)) st = fl_fail(FL_ESINGULAR, "the step matrix has a pole at n = %ld (step %ld)", n0 + i, i + 1);
  }
  fmpz_clear(x);
  fmpz_clear(v);
  return st;
}

fl_status fl_mfun_walk(const fl_mfun *m, long n0, int ndepths, const long *depths, int sequential, fl_rat ***out)
{
  *out = NULL;
  int r = m->r, rr = r * r;
  for (int k = 0; k < ndepths; k++) {
    if (depths[k] < 1) return fl_fail(FL_ERANGE, "depth must be at least 1, not %ld", depths[k]);
    if (k > 0 && depths[k] <= depths[k - 1]) return fl_fail(FL_EINVAL, "depths must be increasing");
  }
  fl_status st = check_poles(m, n0, depths[ndepths - 1]);
  if (st) return st;
  fl_rat **res = calloc((size_t)(ndepths * rr), sizeof *res);
  mpz_t *acc = zmat_new(r), *seg = zmat_new(r), *t = zmat_new(r);
  fmpq_t s;
  fmpq_init(s);
  if (!res || !acc || !seg || !t) { st = oom(); goto done; }
  for (int i = 0; i < r; i++) mpz_set_ui(acc[i * r + i], 1);
  long prev = 0;
  for (int k = 0; k < ndepths; k++) {
    if (fl_interrupted()) { st = fl_fail(FL_EINTR, "interrupted"); goto done; }
    if (zproduct(m, n0, prev, depths[k], sequential, seg)) { st = oom(); goto done; }
    zmat_mul(t, acc, seg, r, 0);
    for (int e = 0; e < rr; e++) mpz_swap(t[e], acc[e]);
    prev = depths[k];
    if ((st = scalar_product(m, n0, depths[k], s))) goto done;
    for (int e = 0; e < rr; e++) {
      if ((st = fl_rat_new(&res[k * rr + e]))) goto done;
      fmpz_t z;
      fmpz_init(z);
      fmpz_set_mpz(z, acc[e]);
      fmpq_mul_fmpz(res[k * rr + e]->v, s, z);
      fmpz_clear(z);
    }
  }
done:
  zmat_free(acc, r);
  zmat_free(seg, r);
  zmat_free(t, r);
  fmpq_clear(s);
  if (st && res) {
    for (int e = 0; e < ndepths * rr; e++) fl_rat_free(res[e]);
    free(res);
    res = NULL;
  }
  *out = res;
  return st;
}

/* ------------------------------------------------------------ limits */

struct fl_limit {
  fl_mfun *m;
  long n0, N;
  int r;
  fmpz *iv;      /* 2*r integers: IV times ivden */
  fmpz_t ivden;
  mpz_t *rows;   /* 2*r: IV' W_N (integer part, no scalars) */
  mpz_t p, q, pp, qp; /* current and previous (no scalars) */
  int zero, zero_prev; /* a scalar factor vanished (W = 0) */
};

void fl_limit_free(fl_limit *l)
{
  if (!l) return;
  if (l->iv) _fmpz_vec_clear(l->iv, 2 * l->r);
  fmpz_clear(l->ivden);
  if (l->rows) {
    for (int k = 0; k < 2 * l->r; k++) mpz_clear(l->rows[k]);
    free(l->rows);
  }
  mpz_clear(l->p);
  mpz_clear(l->q);
  mpz_clear(l->pp);
  mpz_clear(l->qp);
  fl_mfun_release(l->m);
  fl_free(l, sizeof *l);
}

long fl_limit_depth(const fl_limit *l) { return l->N; }
size_t fl_limit_bits(const fl_limit *l) { return mpz_sizeinbase(l->q, 2); }

/* rows (2 x r) = IV' W, for W r x r. */
static void project(const fl_limit *l, mpz_t *W, mpz_t *rows)
{
  int r = l->r;
  mpz_t t, z;
  mpz_init(t);
  mpz_init(z);
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < r; j++) {
      mpz_set_ui(rows[i * r + j], 0);
      for (int k = 0; k < r; k++) {
        if (fmpz_is_zero(l->iv + i * r + k)) continue;
        fmpz_get_mpz(z, l->iv + i * r + k);
        mpz_mul(t, z, W[k * r + j]);
        mpz_add(rows[i * r + j], rows[i * r + j], t);
      }
    }
  mpz_clear(t);
  mpz_clear(z);
}

/* Does S vanish at some step in [0, N)? */
static int scalar_zero(const fl_mfun *m, long n0, long N)
{
  if (fmpz_poly_degree(m->S) <= 0) return fmpz_poly_is_zero(m->S);
  fmpz_t x, v;
  fmpz_init(x);
  fmpz_init(v);
  int z = 0;
  for (long i = 0; i < N && !z; i++) {
    fmpz_set_si(x, n0 + i);
    fmpz_poly_evaluate_fmpz(v, m->S, x);
    z = fmpz_is_zero(v);
  }
  fmpz_clear(x);
  fmpz_clear(v);
  return z;
}

fl_status fl_mfun_limit(fl_mfun *m, long n0, long N, const fl_rat *const *iv, int sequential, fl_limit **out)
{
  *out = NULL;
  int r = m->r;
  if (r < 2) return fl_fail(FL_EDIM, "a limit needs matrices of rank at least 2");
  if (N < 1) return fl_fail(FL_ERANGE, "depth must be at least 1, not %ld", N);
  fl_status st = check_poles(m, n0, N);
  if (st) return st;
  fl_limit *l = fl_calloc(1, sizeof *l);
  if (!l) return oom();
  l->m = m;
  m->refc++;
  l->n0 = n0;
  l->N = N;
  l->r = r;
  fmpz_init_set_ui(l->ivden, 1);
  mpz_init(l->p);
  mpz_init(l->q);
  mpz_init(l->pp);
  mpz_init(l->qp);
  l->iv = _fmpz_vec_init(2 * r);
  l->rows = malloc(sizeof(mpz_t) * (size_t)(2 * r));
  mpz_t *W = zmat_new(r), *last = zmat_new(r), *prow = malloc(sizeof(mpz_t) * (size_t)(2 * r));
  if (!l->rows || !W || !last || !prow) {
    free(l->rows);
    l->rows = NULL;
    free(prow);
    zmat_free(W, r);
    zmat_free(last, r);
    fl_limit_free(l);
    return oom();
  }
  for (int k = 0; k < 2 * r; k++) { mpz_init(l->rows[k]); mpz_init(prow[k]); }
  if (iv) {
    fmpz_one(l->ivden);
    for (int k = 0; k < 2 * r; k++) fmpz_lcm(l->ivden, l->ivden, fmpq_denref(iv[k]->v));
    for (int k = 0; k < 2 * r; k++) {
      fmpz_divexact(l->iv + k, l->ivden, fmpq_denref(iv[k]->v));
      fmpz_mul(l->iv + k, l->iv + k, fmpq_numref(iv[k]->v));
    }
  } else {
    fmpz_one(l->iv + 0);
    fmpz_one(l->iv + r + 1);
  }
  /* W_{N-1}, then W_N = W_{N-1} A(n0+N-1) */
  if (zproduct(m, n0, 0, N - 1, sequential, W)) { st = oom(); goto done; }
  project(l, W, prow);
  mpz_set(l->pp, prow[r - 1]);
  mpz_set(l->qp, prow[2 * r - 1]);
  zmat_eval(m, n0 + N - 1, last);
  {
    /* rows = prow * A(last) */
    mpz_t t;
    mpz_init(t);
    for (int i = 0; i < 2; i++)
      for (int j = 0; j < r; j++) {
        mpz_set_ui(l->rows[i * r + j], 0);
        for (int k = 0; k < r; k++) {
          mpz_mul(t, prow[i * r + k], last[k * r + j]);
          mpz_add(l->rows[i * r + j], l->rows[i * r + j], t);
        }
      }
    mpz_clear(t);
  }
  mpz_set(l->p, l->rows[r - 1]);
  mpz_set(l->q, l->rows[2 * r - 1]);
  l->zero_prev = scalar_zero(m, n0, N - 1);
  l->zero = l->zero_prev || scalar_zero(m, n0 + N - 1, 1);
done:
  for (int k = 0; k < 2 * r; k++) mpz_clear(prow[k]);
  free(prow);
  zmat_free(W, r);
  zmat_free(last, r);
  if (st) { fl_limit_free(l); return st; }
  *out = l;
  return FL_OK;
}

fl_status fl_limit_pq(const fl_limit *l, fl_rat **p, fl_rat **q)
{
  *p = *q = NULL;
  fmpq_t s;
  fmpq_init(s);
  fl_status st = scalar_product(l->m, l->n0, l->N, s);
  if (!st) {
    fmpq_div_fmpz(s, s, l->ivden);
    if (!(st = fl_rat_new(p)) && !(st = fl_rat_new(q))) {
      fmpz_t z;
      fmpz_init(z);
      fmpz_set_mpz(z, l->p);
      fmpq_mul_fmpz((*p)->v, s, z);
      fmpz_set_mpz(z, l->q);
      fmpq_mul_fmpz((*q)->v, s, z);
      fmpz_clear(z);
    }
  }
  fmpq_clear(s);
  if (st) { fl_rat_free(*p); fl_rat_free(*q); *p = *q = NULL; }
  return st;
}

static int defined(const fl_limit *l) { return !l->zero && mpz_sgn(l->q) != 0; }

fl_status fl_limit_rational(const fl_limit *l, fl_rat **out)
{
  *out = NULL;
  if (!defined(l))
    return fl_fail(FL_ERANGE, "p/q is undefined at depth %ld (q = 0%s)", l->N,
                   l->zero ? ": the walk passes a point where the step matrix vanishes" : "");
  fl_status st = fl_rat_new(out);
  if (st) return st;
  fmpz_t a, b;
  fmpz_init(a);
  fmpz_init(b);
  fmpz_set_mpz(a, l->p);
  fmpz_set_mpz(b, l->q);
  fmpq_set_fmpz_frac((*out)->v, a, b);
  fmpz_clear(a);
  fmpz_clear(b);
  return FL_OK;
}

/* floor(-log10 |p/q - pp/qp|) of two projective ratios; 100 when equal. */
static long precision_of(const mpz_t p, const mpz_t q, const mpz_t pp, const mpz_t qp)
{
  mpz_t a, b;
  mpz_init(a);
  mpz_init(b);
  mpz_mul(a, p, qp);
  mpz_mul(b, pp, q);
  mpz_sub(a, a, b);
  long res;
  if (mpz_sgn(a) == 0) {
    res = 100;
  } else {
    mpz_mul(b, q, qp);
    mpfr_t x, y;
    mpfr_init2(x, 128);
    mpfr_init2(y, 128);
    mpfr_set_z(x, a, MPFR_RNDN);
    mpfr_abs(x, x, MPFR_RNDN);
    mpfr_log10(x, x, MPFR_RNDN);
    mpfr_set_z(y, b, MPFR_RNDN);
    mpfr_abs(y, y, MPFR_RNDN);
    mpfr_log10(y, y, MPFR_RNDN);
    mpfr_sub(x, y, x, MPFR_RNDN); /* -log10 |a/b| */
    mpfr_floor(x, x);
    res = mpfr_get_si(x, MPFR_RNDN);
    mpfr_clear(x);
    mpfr_clear(y);
  }
  mpz_clear(a);
  mpz_clear(b);
  return res;
}

long fl_limit_precision(const fl_limit *l)
{
  if (!defined(l) || l->zero_prev || mpz_sgn(l->qp) == 0) return 0;
  return precision_of(l->p, l->q, l->pp, l->qp);
}

static long default_digits(long prec)
{
  long d = (long)(1.1 * (double)prec);
  return d > 15 ? d : 15;
}

static void ratio(mpfr_t x, const mpz_t p, const mpz_t q)
{
  mpfr_t y;
  mpfr_init2(y, mpfr_get_prec(x));
  mpfr_set_z(x, p, MPFR_RNDN);
  mpfr_set_z(y, q, MPFR_RNDN);
  mpfr_div(x, x, y, MPFR_RNDN);
  mpfr_clear(y);
}

fl_status fl_limit_value(const fl_limit *l, long digits, fl_real **out)
{
  *out = NULL;
  if (!defined(l)) return fl_fail(FL_ERANGE, "p/q is undefined at depth %ld (q = 0)", l->N);
  long prec = fl_limit_precision(l), maxd = default_digits(prec);
  if (digits <= 0) digits = maxd;
  if (digits > maxd)
    return fl_fail(FL_ERANGE,
                   "%ld digits asked, but the depth-%ld limit is only good to %ld digits (precision()); "
                   "at most %ld can be given: walk deeper",
                   digits, l->N, prec, maxd);
  fl_real *r = real_alloc(digits);
  if (!r) return oom();
  ratio(r->v, l->p, l->q);
  *out = r;
  return FL_OK;
}

/* The blind L: p/q at depth 2N, to max(1.1 precision, 15) digits. */
static fl_status blind_value(const fl_limit *l, fl_real **out)
{
  *out = NULL;
  int r = l->r;
  fl_status st = check_poles(l->m, l->n0 + l->N, l->N);
  if (st) return st;
  mpz_t *W = zmat_new(r), *rows = zmat_new(r);
  if (!W || !rows) { zmat_free(W, r); zmat_free(rows, r); return oom(); }
  fl_limit tmp = *l;
  if (zproduct(l->m, l->n0, l->N, 2 * l->N - 1, 0, W)) { st = oom(); goto done; }
  /* depth 2N - 1 rows, then one more step */
  mpz_t t, p1, q1;
  mpz_init(t);
  mpz_init(p1);
  mpz_init(q1);
  {
    mpz_t *R1 = zmat_new(r), *A = zmat_new(r);
    for (int i = 0; i < 2; i++)
      for (int j = 0; j < r; j++) {
        mpz_set_ui(R1[i * r + j], 0);
        for (int k = 0; k < r; k++) {
          mpz_mul(t, l->rows[i * r + k], W[k * r + j]);
          mpz_add(R1[i * r + j], R1[i * r + j], t);
        }
      }
    mpz_set(p1, R1[r - 1]);
    mpz_set(q1, R1[2 * r - 1]);
    zmat_eval(l->m, l->n0 + 2 * l->N - 1, A);
    for (int i = 0; i < 2; i++)
      for (int j = 0; j < r; j++) {
        mpz_set_ui(rows[i * r + j], 0);
        for (int k = 0; k < r; k++) {
          mpz_mul(t, R1[i * r + k], A[k * r + j]);
          mpz_add(rows[i * r + j], rows[i * r + j], t);
        }
      }
    zmat_free(R1, r);
    zmat_free(A, r);
  }
  (void)tmp;
  if (mpz_sgn(rows[2 * r - 1]) == 0 || mpz_sgn(q1) == 0 || scalar_zero(l->m, l->n0 + l->N, l->N)) {
    st = fl_fail(FL_ERANGE, "the blind limit (depth %ld) is undefined", 2 * l->N);
  } else {
    long prec = precision_of(rows[r - 1], rows[2 * r - 1], p1, q1);
    fl_real *L = real_alloc(default_digits(prec));
    if (!L) st = oom();
    else { ratio(L->v, rows[r - 1], rows[2 * r - 1]); *out = L; }
  }
  mpz_clear(t);
  mpz_clear(p1);
  mpz_clear(q1);
done:
  zmat_free(W, r);
  zmat_free(rows, r);
  return st;
}

fl_status fl_limit_delta(const fl_limit *l, const fl_real *L, double *out)
{
  *out = 0;
  if (!defined(l)) return fl_fail(FL_ERANGE, "p/q is undefined at depth %ld (q = 0)", l->N);
  fl_real *blind = NULL;
  fl_status st;
  if (!L) {
    if ((st = blind_value(l, &blind))) return st;
    L = blind;
  }
  mpz_t p, q, g;
  mpz_init_set(p, l->p);
  mpz_init_set(q, l->q);
  mpz_init(g);
  mpz_gcd(g, p, q);
  mpz_divexact(p, p, g);
  mpz_divexact(q, q, g);
  if (mpz_sgn(q) < 0) { mpz_neg(p, p); mpz_neg(q, q); }
  st = FL_OK;
  if (mpz_cmp_ui(q, 1) == 0) {
    *out = HUGE_VAL;
  } else {
    long wp = bits_of_digits(L->digits) + 64;
    mpfr_t x, d, lq;
    mpfr_init2(x, (mpfr_prec_t)wp);
    mpfr_init2(d, (mpfr_prec_t)wp);
    mpfr_init2(lq, 128);
    ratio(x, p, q);
    mpfr_sub(d, L->v, x, MPFR_RNDN);
    mpfr_abs(d, d, MPFR_RNDN);
    /* L is good to about |L| 10^-digits: the difference must be well above that */
    mpfr_t tol;
    mpfr_init2(tol, 64);
    mpfr_abs(tol, L->v, MPFR_RNDN);
    if (mpfr_cmp_ui(tol, 1) < 0) mpfr_set_ui(tol, 1, MPFR_RNDN);
    mpfr_mul_ui(tol, tol, 100, MPFR_RNDN);
    {
      mpfr_t ten;
      mpfr_init2(ten, 64);
      mpfr_set_ui(ten, 10, MPFR_RNDN);
      mpfr_pow_si(ten, ten, -L->digits, MPFR_RNDN);
      mpfr_mul(tol, tol, ten, MPFR_RNDN);
      mpfr_clear(ten);
    }
    if (mpfr_cmp(d, tol) <= 0) {
      long need = 0;
      if (!mpfr_zero_p(d)) {
        mpfr_log10(lq, d, MPFR_RNDN);
        need = -mpfr_get_si(lq, MPFR_RNDN);
      } else {
        need = (long)(2 * mpz_sizeinbase(q, 10));
      }
      st = fl_fail(FL_ERANGE,
                   "L is given to %ld significant digits, but p/q at depth %ld is closer to it than that "
                   "(|L - p/q| about 1e-%ld): give L to at least %ld digits",
                   L->digits, l->N, need, need + 20);
    } else {
      mpfr_log(d, d, MPFR_RNDN);
      mpfr_set_z(lq, q, MPFR_RNDN);
      mpfr_log(lq, lq, MPFR_RNDN);
      mpfr_div(d, d, lq, MPFR_RNDN);
      *out = -1.0 - mpfr_get_d(d, MPFR_RNDN);
    }
    mpfr_clear(tol);
    mpfr_clear(x);
    mpfr_clear(d);
    mpfr_clear(lq);
  }
  mpz_clear(p);
  mpz_clear(q);
  mpz_clear(g);
  fl_real_free(blind);
  return st;
}

/* ------------------------------------------------------------ CMFs */

struct fl_cmf {
  int dim, r;
  char **axes;
  fl_vars *vars;    /* axes and parameters */
  int *axis_var;    /* index of axis a in vars */
  fl_poly **M;      /* dim*r*r, all over vars */
};

void fl_cmf_free(fl_cmf *c)
{
  if (!c) return;
  if (c->M)
    for (int k = 0; k < c->dim * c->r * c->r; k++) fl_poly_free(c->M[k]);
  free(c->M);
  if (c->axes)
    for (int a = 0; a < c->dim; a++) free(c->axes[a]);
  free(c->axes);
  free(c->axis_var);
  fl_vars_release(c->vars);
  fl_free(c, sizeof *c);
}

int fl_cmf_dim(const fl_cmf *c) { return c->dim; }
int fl_cmf_rank(const fl_cmf *c) { return c->r; }
const char *fl_cmf_axis(const fl_cmf *c, int a) { return c->axes[a]; }


/* An axis or parameter name: a valid variable name (fl_poly_var's rule), not
   "n" (trajectories use it). what: "axis" or "parameter". */
static fl_status check_var_name(const char *name, const char *what)
{
  fl_poly *v;
  fl_status st = fl_poly_var(name, &v);
  if (st) return st;
  fl_poly_free(v);
  if (strcmp(name, "n") == 0) return fl_fail(FL_EINVAL, "'n' is reserved for trajectories; name the %s otherwise", what);
  return FL_OK;
}

fl_status fl_cmf_entry(const fl_cmf *c, int a, int i, int j, fl_poly **out)
{
  fl_poly *p = c->M[a * c->r * c->r + i * c->r + j];
  /* a compact copy: through substitution of nothing */
  return fl_poly_subs(p, 0, NULL, NULL, out);
}

/* The field over the axes, the parameter names params (kept even where no
 * entry uses them) and every variable of the entries; strict: every
 * non-axis variable must be among params. */
static fl_status cmf_build(int dim, const char *const *axes, int np, const char *const *params, int strict, int rank,
                           const fl_poly *const *M, fl_cmf **out)
{
  *out = NULL;
  if (dim < 1 || dim > FL_CMF_MAXDIM) return fl_fail(FL_ERANGE, "a CMF has 1 to %d axes, not %d", FL_CMF_MAXDIM, dim);
  if (rank < 2 || rank > FL_CMF_MAXRANK)
    return fl_fail(FL_ERANGE, "matrices must be 2x2 to %dx%d, not %dx%d", FL_CMF_MAXRANK, FL_CMF_MAXRANK, rank, rank);
  for (int a = 0; a < dim; a++) {
    fl_status st = check_var_name(axes[a], "axis");
    if (st) return st;
    for (int b = 0; b < a; b++)
      if (strcmp(axes[a], axes[b]) == 0) return fl_fail(FL_EINVAL, "axis '%s' is named twice", axes[a]);
  }
  if (np < 0) np = 0;
  for (int k = 0; k < np; k++) {
    fl_status st = check_var_name(params[k], "parameter");
    if (st) return st;
    for (int a = 0; a < dim; a++)
      if (strcmp(params[k], axes[a]) == 0) return fl_fail(FL_EINVAL, "'%s' is an axis and cannot be a parameter too", params[k]);
  }
  int rr = rank * rank;
  if (strict)
    for (int k = 0; k < dim * rr; k++) {
      const char *used[FL_POLY_MAXVARS];
      int nu = fl_poly_used_vars(M[k], used);
      for (int u = 0; u < nu; u++) {
        int known = 0;
        for (int a = 0; a < dim; a++) known = known || strcmp(used[u], axes[a]) == 0;
        for (int q = 0; q < np; q++) known = known || strcmp(used[u], params[q]) == 0;
        if (!known)
          return fl_fail(FL_EINVAL, "M_%s[%d][%d] uses '%s', which is neither an axis nor a declared parameter",
                         axes[k / rr], (k % rr) / rank + 1, k % rank + 1, used[u]);
      }
    }
  /* the variable set: axes, parameters and every variable of the entries */
  const char **names = malloc(sizeof *names * (size_t)(dim + np + FL_POLY_MAXVARS * dim * rr));
  if (!names) return oom();
  int nn = 0;
  for (int a = 0; a < dim; a++) names[nn++] = axes[a];
  for (int q = 0; q < np; q++) names[nn++] = params[q];
  for (int k = 0; k < dim * rr; k++) nn += fl_poly_used_vars(M[k], names + nn);
  fl_cmf *c = fl_calloc(1, sizeof *c);
  fl_status st = FL_OK;
  if (!c) { free(names); return oom(); }
  c->dim = dim;
  c->r = rank;
  if ((st = fl_vars_new(nn, names, &c->vars))) { free(names); fl_free(c, sizeof *c); return st; }
  free(names);
  if (c->vars->n > FL_POLY_MAXVARS) {
    fl_vars_release(c->vars);
    fl_free(c, sizeof *c);
    return fl_fail(FL_ERANGE, "too many variables (at most %d axes and parameters)", FL_POLY_MAXVARS);
  }
  c->axes = calloc((size_t)dim, sizeof *c->axes);
  c->axis_var = calloc((size_t)dim, sizeof *c->axis_var);
  c->M = calloc((size_t)(dim * rr), sizeof *c->M);
  if (!c->axes || !c->axis_var || !c->M) { st = oom(); goto fail; }
  for (int a = 0; a < dim; a++) {
    size_t len = strlen(axes[a]);
    if (!(c->axes[a] = malloc(len + 1))) { st = oom(); goto fail; }
    memcpy(c->axes[a], axes[a], len + 1);
    c->axis_var[a] = fl_vars_index(c->vars, axes[a]);
  }
  for (int k = 0; k < dim * rr; k++) {
    /* lift: M[k]'s used variables are all in vars; compact first */
    fl_poly *cp;
    if ((st = fl_poly_subs(M[k], 0, NULL, NULL, &cp))) goto fail;
    st = fl_poly_lift(cp, c->vars, &c->M[k]);
    fl_poly_free(cp);
    if (st) goto fail;
  }
  *out = c;
  return FL_OK;
fail:
  fl_cmf_free(c);
  return st;
}

fl_status fl_cmf_new(int dim, const char *const *axes, int rank, const fl_poly *const *M, fl_cmf **out)
{
  return cmf_build(dim, axes, 0, NULL, 0, rank, M, out);
}

fl_status fl_cmf_new_params(int dim, const char *const *axes, int np, const char *const *params, int rank,
                            const fl_poly *const *M, fl_cmf **out)
{
  return cmf_build(dim, axes, np, params, np >= 0, rank, M, out);
}

static int is_axis_var(const fl_cmf *c, int v)
{
  for (int a = 0; a < c->dim; a++)
    if (c->axis_var[a] == v) return 1;
  return 0;
}

int fl_cmf_nparams(const fl_cmf *c) { return c->vars->n - c->dim; }

const char *fl_cmf_param(const fl_cmf *c, int k)
{
  for (int v = 0; v < c->vars->n; v++) {
    if (is_axis_var(c, v)) continue;
    if (k-- == 0) return c->vars->names[v];
  }
  return NULL;
}

/* The parameter names of c (pointers into c), in order; returns the count. */
static int param_names(const fl_cmf *c, const char **out)
{
  int np = 0;
  for (int v = 0; v < c->vars->n; v++)
    if (!is_axis_var(c, v)) out[np++] = c->vars->names[v];
  return np;
}

/* A new field with c's axes and parameters (less the names in drop) and
 * the matrices M, unless st already reports a failure. M (an array of
 * dim r^2 entries, NULL ones allowed) and its entries are taken: freed here
 * either way. Returns st or the status of the build. */
static fl_status rebuild(const fl_cmf *c, fl_status st, int ndrop, const char *const *drop, fl_poly **M, fl_cmf **out)
{
  if (st) {
    for (int k = 0; k < c->dim * c->r * c->r; k++) fl_poly_free(M[k]);
    free(M);
    return st;
  }
  const char *params[FL_POLY_MAXVARS];
  int np = param_names(c, params), kept = 0;
  for (int k = 0; k < np; k++) {
    int dropped = 0;
    for (int d = 0; d < ndrop; d++) dropped = dropped || strcmp(params[k], drop[d]) == 0;
    if (!dropped) params[kept++] = params[k];
  }
  st = cmf_build(c->dim, (const char *const *)c->axes, kept, params, 0, c->r, (const fl_poly *const *)M, out);
  for (int k = 0; k < c->dim * c->r * c->r; k++) fl_poly_free(M[k]);
  free(M);
  return st;
}

fl_status fl_cmf_subs(const fl_cmf *c, int n, const char *const *names, const fl_poly *const *vals, fl_cmf **out)
{
  *out = NULL;
  for (int i = 0; i < n; i++) {
    for (int a = 0; a < c->dim; a++)
      if (strcmp(names[i], c->axes[a]) == 0)
        return fl_fail(FL_EINVAL, "'%s' is an axis: only parameters can be substituted", names[i]);
    int v = fl_vars_index(c->vars, names[i]);
    if (v < 0) {
      const char *params[FL_POLY_MAXVARS];
      int np = param_names(c, params);
      char list[512] = "";
      size_t len = 0;
      for (int k = 0; k < np && len + 80 < sizeof list; k++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", k ? ", " : "", params[k]);
      return fl_fail(FL_EINVAL, "'%s' is not a parameter of this CMF (parameters: %s)", names[i], np ? list : "none");
    }
  }
  int rr = c->r * c->r, total = c->dim * rr;
  fl_poly **M = calloc((size_t)total, sizeof *M);
  if (!M) return oom();
  fl_status st = FL_OK;
  for (int k = 0; k < total && !st; k++) st = fl_poly_subs(c->M[k], n, names, vals, &M[k]);
  return rebuild(c, st, n, names, M, out);
}

fl_status fl_cmf_dual(const fl_cmf *c, fl_cmf **out)
{
  *out = NULL;
  int r = c->r, rr = r * r, total = c->dim * rr;
  fl_poly **M = calloc((size_t)total, sizeof *M), *inv[FL_CMF_MAXRANK * FL_CMF_MAXRANK];
  if (!M) return oom();
  fl_status st = FL_OK;
  for (int a = 0; a < c->dim && !st; a++) {
    st = fl_poly_mat_inv(r, (const fl_poly *const *)(c->M + a * rr), inv);
    if (st) {
      st = fl_fail(FL_ESINGULAR, "M_%s is singular (det = 0 identically): the dual needs its inverse", c->axes[a]);
      break;
    }
    for (int i = 0; i < r; i++)
      for (int j = 0; j < r; j++) M[a * rr + i * r + j] = inv[j * r + i];
  }
  return rebuild(c, st, 0, NULL, M, out);
}

fl_status fl_cmf_coboundary(const fl_cmf *c, const fl_poly *const *U, fl_cmf **out)
{
  *out = NULL;
  int r = c->r, rr = r * r, total = c->dim * rr;
  fl_poly *Ui[FL_CMF_MAXRANK * FL_CMF_MAXRANK], *Us[FL_CMF_MAXRANK * FL_CMF_MAXRANK] = {0},
          *T[FL_CMF_MAXRANK * FL_CMF_MAXRANK] = {0};
  fl_status st = fl_poly_mat_inv(r, U, Ui);
  if (st) return fl_fail(FL_ESINGULAR, "U is singular (det U = 0 identically): a coboundary needs an invertible U");
  fl_poly **M = calloc((size_t)total, sizeof *M);
  if (!M) { for (int k = 0; k < rr; k++) fl_poly_free(Ui[k]); return oom(); }
  for (int a = 0; a < c->dim && !st; a++) {
    /* U(P + e_a) */
    fl_poly *xv = NULL, *one = NULL, *sh = NULL;
    st = fl_poly_var(c->axes[a], &xv);
    if (!st) st = fl_poly_from_si(1, &one);
    if (!st) st = fl_poly_arith(FL_ARITH_ADD, xv, one, &sh);
    const char *nm = c->axes[a];
    for (int k = 0; k < rr && !st; k++) st = fl_poly_subs(U[k], 1, &nm, (const fl_poly *const *)&sh, &Us[k]);
    fl_poly_free(xv);
    fl_poly_free(one);
    fl_poly_free(sh);
    /* U^-1 M_a U(P + e_a) */
    if (!st) st = fl_poly_mat_mul(r, (const fl_poly *const *)Ui, (const fl_poly *const *)(c->M + a * rr), T);
    if (!st) st = fl_poly_mat_mul(r, (const fl_poly *const *)T, (const fl_poly *const *)Us, M + a * rr);
    for (int k = 0; k < rr; k++) {
      fl_poly_free(Us[k]);
      fl_poly_free(T[k]);
      Us[k] = T[k] = NULL;
    }
  }
  for (int k = 0; k < rr; k++) fl_poly_free(Ui[k]);
  return rebuild(c, st, 0, NULL, M, out);
}

/* ---- exact check */

typedef struct pmat { int r; fmpq_mpoly_struct *e; } pmat;

static void pmat_init(pmat *m, int r, const fmpq_mpoly_ctx_t ctx)
{
  m->r = r;
  m->e = malloc(sizeof *m->e * (size_t)(r * r));
  for (int k = 0; m->e && k < r * r; k++) fmpq_mpoly_init(m->e + k, ctx);
}

static void pmat_clear(pmat *m, const fmpq_mpoly_ctx_t ctx)
{
  if (!m->e) return;
  for (int k = 0; k < m->r * m->r; k++) fmpq_mpoly_clear(m->e + k, ctx);
  free(m->e);
  m->e = NULL;
}

static void pmat_mul(pmat *c, const pmat *a, const pmat *b, const fmpq_mpoly_ctx_t ctx)
{
  int r = a->r;
  fmpq_mpoly_t t;
  fmpq_mpoly_init(t, ctx);
  for (int i = 0; i < r; i++)
    for (int j = 0; j < r; j++) {
      fmpq_mpoly_zero(c->e + i * r + j, ctx);
      for (int k = 0; k < r; k++) {
        fmpq_mpoly_mul(t, a->e + i * r + k, b->e + k * r + j, ctx);
        fmpq_mpoly_add(c->e + i * r + j, c->e + i * r + j, t, ctx);
      }
    }
  fmpq_mpoly_clear(t, ctx);
}

/* Shift x_var -> x_var + 1 (composition). */
static int mpoly_shift(fmpq_mpoly_t out, const fmpq_mpoly_t in, int var, const fmpq_mpoly_ctx_t ctx, int nvars)
{
  fmpq_mpoly_struct *g = malloc(sizeof *g * (size_t)(nvars > 0 ? nvars : 1));
  fmpq_mpoly_struct **C = calloc((size_t)(nvars > 0 ? nvars : 1), sizeof *C);
  if (!g || !C) { free(g); free(C); return 0; }
  for (int i = 0; i < nvars; i++) {
    fmpq_mpoly_init(g + i, ctx);
    fmpq_mpoly_gen(g + i, i, ctx);
    if (i == var) fmpq_mpoly_add_si(g + i, g + i, 1, ctx);
    C[i] = g + i;
  }
  int ok = fmpq_mpoly_compose_fmpq_mpoly(out, in, C, ctx, ctx);
  for (int i = 0; i < nvars; i++) fmpq_mpoly_clear(g + i, ctx);
  free(g);
  free(C);
  return ok;
}

/* P (polynomial matrix) and d (scalar) with M_a = P / d. */
static fl_status cleared(const fl_cmf *c, int a, pmat *P, fmpq_mpoly_t d)
{
  const fmpq_mpoly_ctx_struct *ctx = c->vars->ctx;
  int rr = c->r * c->r;
  fl_poly **M = c->M + a * rr;
  fmpq_mpoly_t g, t;
  fmpq_mpoly_init(g, ctx);
  fmpq_mpoly_init(t, ctx);
  fmpq_mpoly_one(d, ctx);
  fl_status st = FL_OK;
  for (int k = 0; k < rr && !st; k++) {
    if (fmpq_mpoly_is_one(M[k]->den, ctx)) continue;
    if (!fmpq_mpoly_gcd(g, d, M[k]->den, ctx)) { st = fl_fail(FL_ERANGE, "gcd failed"); break; }
    fmpq_mpoly_mul(t, d, M[k]->den, ctx);
    fmpq_mpoly_divides(d, t, g, ctx);
  }
  for (int k = 0; k < rr && !st; k++) {
    fmpq_mpoly_divides(t, d, M[k]->den, ctx);
    fmpq_mpoly_mul(P->e + k, M[k]->num, t, ctx);
  }
  fmpq_mpoly_clear(g, ctx);
  fmpq_mpoly_clear(t, ctx);
  return st;
}

static fl_status exact_pair(const fl_cmf *c, int a, int b, int *ok)
{
  const fmpq_mpoly_ctx_struct *ctx = c->vars->ctx;
  int r = c->r, nv = c->vars->n, va = c->axis_var[a], vb = c->axis_var[b];
  pmat Pa, Pb, Pa_b, Pb_a, L, R;
  fmpq_mpoly_t da, db, da_b, db_a, s1, s2;
  pmat_init(&Pa, r, ctx); pmat_init(&Pb, r, ctx); pmat_init(&Pa_b, r, ctx);
  pmat_init(&Pb_a, r, ctx); pmat_init(&L, r, ctx); pmat_init(&R, r, ctx);
  fmpq_mpoly_init(da, ctx); fmpq_mpoly_init(db, ctx); fmpq_mpoly_init(da_b, ctx);
  fmpq_mpoly_init(db_a, ctx); fmpq_mpoly_init(s1, ctx); fmpq_mpoly_init(s2, ctx);
  fl_status st = FL_OK;
  if (!Pa.e || !Pb.e || !Pa_b.e || !Pb_a.e || !L.e || !R.e) { st = oom(); goto done; }
  if ((st = cleared(c, a, &Pa, da)) || (st = cleared(c, b, &Pb, db))) goto done;
  int sok = 1;
  for (int k = 0; k < r * r; k++) {
    sok = sok && mpoly_shift(Pa_b.e + k, Pa.e + k, vb, ctx, nv); /* P_a(P + e_b) */
    sok = sok && mpoly_shift(Pb_a.e + k, Pb.e + k, va, ctx, nv); /* P_b(P + e_a) */
  }
  sok = sok && mpoly_shift(da_b, da, vb, ctx, nv) && mpoly_shift(db_a, db, va, ctx, nv);
  if (!sok) { st = fl_fail(FL_ERANGE, "shift failed (exponents too large)"); goto done; }
  /* P_a(P) P_b(P+e_a) d_b(P) d_a(P+e_b) == P_b(P) P_a(P+e_b) d_a(P) d_b(P+e_a) */
  pmat_mul(&L, &Pa, &Pb_a, ctx);
  pmat_mul(&R, &Pb, &Pa_b, ctx);
  fmpq_mpoly_mul(s1, db, da_b, ctx);
  fmpq_mpoly_mul(s2, da, db_a, ctx);
  *ok = 1;
  for (int k = 0; k < r * r && *ok; k++) {
    fmpq_mpoly_mul(L.e + k, L.e + k, s1, ctx);
    fmpq_mpoly_mul(R.e + k, R.e + k, s2, ctx);
    *ok = fmpq_mpoly_equal(L.e + k, R.e + k, ctx);
  }
done:
  pmat_clear(&Pa, ctx); pmat_clear(&Pb, ctx); pmat_clear(&Pa_b, ctx);
  pmat_clear(&Pb_a, ctx); pmat_clear(&L, ctx); pmat_clear(&R, ctx);
  fmpq_mpoly_clear(da, ctx); fmpq_mpoly_clear(db, ctx); fmpq_mpoly_clear(da_b, ctx);
  fmpq_mpoly_clear(db_a, ctx); fmpq_mpoly_clear(s1, ctx); fmpq_mpoly_clear(s2, ctx);
  return st;
}

/* ---- modular pre-check */

#define PRIME UWORD(2305843009213693951) /* 2^61 - 1 */

/* A(pt) mod p; *bad when a coefficient denominator vanishes mod p. */
static ulong mod_eval(const fmpq_mpoly_t A, const ulong *pt, const fmpq_mpoly_ctx_t ctx, int nv, ulong pinv,
                      int *bad, ulong *ex)
{
  ulong acc = 0;
  slong len = fmpq_mpoly_length(A, ctx);
  fmpq_t cq;
  fmpq_init(cq);
  for (slong k = 0; k < len; k++) {
    fmpq_mpoly_get_term_coeff_fmpq(cq, A, k, ctx);
    ulong num = fmpz_fdiv_ui(fmpq_numref(cq), PRIME), den = fmpz_fdiv_ui(fmpq_denref(cq), PRIME);
    if (den == 0) { *bad = 1; break; }
    ulong t = n_mulmod2_preinv(num, n_invmod(den, PRIME), PRIME, pinv);
    fmpq_mpoly_get_term_exp_ui(ex, A, k, ctx);
    for (int i = 0; i < nv; i++)
      if (ex[i]) t = n_mulmod2_preinv(t, n_powmod2_ui_preinv(pt[i], ex[i], PRIME, pinv), PRIME, pinv);
    acc = n_addmod(acc, t, PRIME);
  }
  fmpq_clear(cq);
  return acc;
}

/* M_a at pt (+ e_shift when shift >= 0) mod p into m; 0 on success. */
static int mod_matrix(const fl_cmf *c, int a, const ulong *pt0, int shift, ulong *m, ulong pinv, ulong *pt, ulong *ex)
{
  int nv = c->vars->n, rr = c->r * c->r;
  memcpy(pt, pt0, sizeof *pt * (size_t)nv);
  if (shift >= 0) pt[shift] = n_addmod(pt[shift], 1, PRIME);
  for (int k = 0; k < rr; k++) {
    int bad = 0;
    fl_poly *e = c->M[a * rr + k];
    ulong nu = mod_eval(e->num, pt, c->vars->ctx, nv, pinv, &bad, ex);
    ulong de = mod_eval(e->den, pt, c->vars->ctx, nv, pinv, &bad, ex);
    if (bad || de == 0) return -1;
    m[k] = n_mulmod2_preinv(nu, n_invmod(de, PRIME), PRIME, pinv);
  }
  return 0;
}

static void mod_mul(ulong *c, const ulong *a, const ulong *b, int r, ulong pinv)
{
  for (int i = 0; i < r; i++)
    for (int j = 0; j < r; j++) {
      ulong s = 0;
      for (int k = 0; k < r; k++) s = n_addmod(s, n_mulmod2_preinv(a[i * r + k], b[k * r + j], PRIME, pinv), PRIME);
      c[i * r + j] = s;
    }
}

fl_status fl_cmf_check(const fl_cmf *c, int exact, int trials, uint64_t seed, int *ok, int *fa, int *fb)
{
  *ok = 1;
  *fa = *fb = -1;
  int r = c->r, rr = r * r, nv = c->vars->n;
  ulong pinv = n_preinvert_limb(PRIME);
  ulong *buf = malloc(sizeof *buf * (size_t)(6 * rr + 3 * (nv + 1)));
  if (!buf) return oom();
  ulong *m1 = buf, *m2 = m1 + rr, *m3 = m2 + rr, *m4 = m3 + rr, *L = m4 + rr, *R = L + rr;
  ulong *pt0 = R + rr, *pt = pt0 + nv + 1, *ex = pt + nv + 1;
  uint64_t counter = 0;
  for (int a = 0; a < c->dim && *ok; a++)
    for (int b = a + 1; b < c->dim && *ok; b++) {
      int done = 0;
      for (int tr = 0; done < trials && tr < 4 * trials + 8; tr++) {
        for (int i = 0; i < nv; i++) {
          uint32_t ctr[4] = {(uint32_t)counter, (uint32_t)(counter >> 32), 0x636d66u, 0}, key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)}, o[4];
          counter++;
          fl_rng_philox(ctr, key, o);
          pt0[i] = (((ulong)o[0] << 32) | o[1]) % PRIME;
        }
        if (mod_matrix(c, a, pt0, -1, m1, pinv, pt, ex) || mod_matrix(c, b, pt0, c->axis_var[a], m2, pinv, pt, ex) ||
            mod_matrix(c, b, pt0, -1, m3, pinv, pt, ex) || mod_matrix(c, a, pt0, c->axis_var[b], m4, pinv, pt, ex))
          continue;
        done++;
        mod_mul(L, m1, m2, r, pinv);
        mod_mul(R, m3, m4, r, pinv);
        if (memcmp(L, R, sizeof *L * (size_t)rr) != 0) {
          *ok = 0;
          *fa = a;
          *fb = b;
          break;
        }
      }
    }
  free(buf);
  if (!*ok || !exact) return FL_OK;
  for (int a = 0; a < c->dim && *ok; a++)
    for (int b = a + 1; b < c->dim && *ok; b++) {
      fl_status st = exact_pair(c, a, b, ok);
      if (st) return st;
      if (!*ok) { *fa = a; *fb = b; }
    }
  return FL_OK;
}

/* ---- trajectories */

static fl_status check_no_params(const fl_cmf *c)
{
  for (int k = 0; k < c->dim * c->r * c->r; k++) {
    const char *used[FL_POLY_MAXVARS];
    int nu = fl_poly_used_vars(c->M[k], used);
    for (int u = 0; u < nu; u++) {
      int isaxis = 0;
      for (int a = 0; a < c->dim; a++) isaxis = isaxis || strcmp(used[u], c->axes[a]) == 0;
      if (!isaxis)
        return fl_fail(FL_EINVAL, "the matrices depend on the parameter '%s': substitute a value first", used[u]);
    }
  }
  return FL_OK;
}

/* M_a at P = s + n t + off as a matrix in n; -1 when an entry is identically
 * infinite there. */
static int axis_at(const fl_cmf *c, int a, const long *t, const fl_rat *const *s, const long *off, qmat *F)
{
  int nv = c->vars->n, rr = c->r * c->r;
  fmpq_poly_struct *C = malloc(sizeof *C * (size_t)(nv > 0 ? nv : 1));
  fmpq_poly_struct **Cp = malloc(sizeof *Cp * (size_t)(nv > 0 ? nv : 1));
  if (!C || !Cp) { free(C); free(Cp); return -2; }
  for (int i = 0; i < nv; i++) { fmpq_poly_init(C + i); Cp[i] = C + i; }
  for (int b = 0; b < c->dim; b++) {
    fmpq_t v;
    fmpq_init(v);
    fmpq_add_si(v, s[b]->v, off[b]);
    fmpq_poly_set_coeff_fmpq(C + c->axis_var[b], 0, v);
    fmpq_poly_set_coeff_si(C + c->axis_var[b], 1, t[b]);
    fmpq_clear(v);
  }
  int res = 0;
  fmpq_poly_t pn, pd;
  fmpq_poly_init(pn);
  fmpq_poly_init(pd);
  for (int k = 0; k < rr && !res; k++) {
    fl_poly *e = c->M[a * rr + k];
    if (!fmpq_mpoly_compose_fmpq_poly(pn, e->num, Cp, c->vars->ctx) ||
        !fmpq_mpoly_compose_fmpq_poly(pd, e->den, Cp, c->vars->ctx))
      res = -2;
    else if (q_from_fmpq_polys(F->e + k, pn, pd))
      res = -1;
  }
  fmpq_poly_clear(pn);
  fmpq_poly_clear(pd);
  for (int i = 0; i < nv; i++) fmpq_poly_clear(C + i);
  free(C);
  free(Cp);
  (void)a;
  return res;
}

/* The product along the path in axis order perm; -1 when singular. */
static int build_path(const fl_cmf *c, const long *t, const fl_rat *const *s, const int *perm, qmat *T)
{
  int r = c->r;
  long off[FL_CMF_MAXDIM] = {0};
  qmat F, P;
  if (qmat_init(&F, r)) return -2;
  if (qmat_init(&P, r)) { qmat_clear(&F); return -2; }
  qmat_one(T);
  int res = 0;
  for (int k = 0; k < c->dim && !res; k++) {
    int a = perm[k];
    long n = t[a] < 0 ? -t[a] : t[a];
    for (long step = 0; step < n && !res; step++) {
      if (t[a] < 0) off[a]--;
      res = axis_at(c, a, t, s, off, &F);
      if (!res && t[a] < 0) res = qmat_inv(&F);
      if (!res) {
        qmat_mul(&P, T, &F);
        for (int e = 0; e < r * r; e++) fmpz_poly_q_swap(P.e + e, T->e + e);
      }
      if (t[a] > 0) off[a]++;
    }
  }
  qmat_clear(&F);
  qmat_clear(&P);
  return res;
}

static int next_perm(int *p, int n)
{
  int i = n - 2;
  while (i >= 0 && p[i] >= p[i + 1]) i--;
  if (i < 0) return 0;
  int j = n - 1;
  while (p[j] <= p[i]) j--;
  int t = p[i]; p[i] = p[j]; p[j] = t;
  for (int a = i + 1, b = n - 1; a < b; a++, b--) { t = p[a]; p[a] = p[b]; p[b] = t; }
  return 1;
}

fl_status fl_cmf_trajectory(const fl_cmf *c, const long *t, const fl_rat *const *s, fl_mfun **out)
{
  *out = NULL;
  fl_status st = check_no_params(c);
  if (st) return st;
  int nz = 0;
  for (int a = 0; a < c->dim; a++) {
    if (t[a] > 100000 || t[a] < -100000) return fl_fail(FL_ERANGE, "trajectory component %ld is too large", t[a]);
    nz += t[a] != 0;
  }
  if (!nz) return fl_fail(FL_EINVAL, "the trajectory is zero");
  int perm[FL_CMF_MAXDIM];
  for (int a = 0; a < c->dim; a++) perm[a] = a;
  qmat T;
  if (qmat_init(&T, c->r)) return oom();
  int res;
  do {
    res = build_path(c, t, s, perm, &T);
    if (res == -2) { qmat_clear(&T); return oom(); }
  } while (res != 0 && next_perm(perm, c->dim));
  if (res != 0) {
    qmat_clear(&T);
    return fl_fail(FL_ESINGULAR, "the trajectory matrix is singular in every axis order (a factor has a pole or is "
                                 "not invertible along the whole line)");
  }
  st = mfun_from_qmat(&T, out);
  qmat_clear(&T);
  return st;
}

fl_status fl_cmf_work(const fl_cmf *c, const fl_rat *const *from, int nsteps, const int *steps, fl_rat ***out)
{
  *out = NULL;
  fl_status st = check_no_params(c);
  if (st) return st;
  int r = c->r, rr = r * r, nv = c->vars->n;
  fmpq *pt = _fmpq_vec_init(nv > 0 ? nv : 1);
  fmpq **pp = malloc(sizeof *pp * (size_t)(nv > 0 ? nv : 1));
  fmpq_mat_t W, F, T;
  fmpq_mat_init(W, r, r);
  fmpq_mat_init(F, r, r);
  fmpq_mat_init(T, r, r);
  fmpq_mat_one(W);
  fmpq_t vn, vd;
  fmpq_init(vn);
  fmpq_init(vd);
  if (!pp) { st = oom(); goto done; }
  for (int i = 0; i < nv; i++) pp[i] = pt + i;
  for (int a = 0; a < c->dim; a++) fmpq_set(pt + c->axis_var[a], from[a]->v);
  for (int k = 0; k < nsteps && !st; k++) {
    int a = (steps[k] < 0 ? -steps[k] : steps[k]) - 1;
    if (a < 0 || a >= c->dim) { st = fl_fail(FL_EINVAL, "bad step %d", steps[k]); break; }
    int back = steps[k] < 0;
    if (back) fmpq_sub_si(pt + c->axis_var[a], pt + c->axis_var[a], 1);
    for (int e = 0; e < rr && !st; e++) {
      fl_poly *m = c->M[a * rr + e];
      fmpq_mpoly_evaluate_all_fmpq(vn, m->num, pp, c->vars->ctx);
      fmpq_mpoly_evaluate_all_fmpq(vd, m->den, pp, c->vars->ctx);
      if (fmpq_is_zero(vd)) {
        char *ps = fmpq_get_str(NULL, 10, pt + c->axis_var[a]);
        st = fl_fail(FL_ESINGULAR, "M_%s has a pole at step %d (%s = %s)", c->axes[a], k + 1, c->axes[a], ps ? ps : "?");
        flint_free(ps);
        break;
      }
      fmpq_div(fmpq_mat_entry(F, e / r, e % r), vn, vd);
    }
    if (st) break;
    if (back && !fmpq_mat_inv(F, F)) {
      st = fl_fail(FL_ESINGULAR, "M_%s is singular at step %d: a backward step cannot invert it", c->axes[a], k + 1);
      break;
    }
    fmpq_mat_mul(T, W, F);
    fmpq_mat_swap(T, W);
    if (!back) fmpq_add_si(pt + c->axis_var[a], pt + c->axis_var[a], 1);
  }
  if (!st) {
    fl_rat **res = calloc((size_t)rr, sizeof *res);
    if (!res) st = oom();
    for (int e = 0; e < rr && !st; e++) {
      if (!(st = fl_rat_new(&res[e]))) fmpq_set(res[e]->v, fmpq_mat_entry(W, e / r, e % r));
    }
    if (st && res) {
      for (int e = 0; e < rr; e++) fl_rat_free(res[e]);
      free(res);
      res = NULL;
    }
    *out = res;
  }
done:
  fmpq_clear(vn);
  fmpq_clear(vd);
  fmpq_mat_clear(W);
  fmpq_mat_clear(F);
  fmpq_mat_clear(T);
  free(pp);
  _fmpq_vec_clear(pt, nv > 0 ? nv : 1);
  return st;
}

/* ------------------------------------------------------------ PCFs */

struct fl_pcf {
  fmpz_poly_q_t a, b; /* in n (b may be rational in principle; kept polynomial in practice) */
};

void fl_pcf_free(fl_pcf *p)
{
  if (!p) return;
  fmpz_poly_q_clear(p->a);
  fmpz_poly_q_clear(p->b);
  fl_free(p, sizeof *p);
}

/* A polynomial over Q in n (or constant) -> fmpz_poly_q. */
static fl_status poly_in_n(const fl_poly *x, const char *what, fmpz_poly_q_t out)
{
  const char *used[FL_POLY_MAXVARS];
  int nu = fl_poly_used_vars(x, used);
  for (int u = 0; u < nu; u++)
    if (strcmp(used[u], "n") != 0)
      return fl_fail(FL_EINVAL, "%s must be a function of n only, not of '%s'", what, used[u]);
  int nv = x->vars->n;
  fmpq_poly_struct *C = malloc(sizeof *C * (size_t)(nv > 0 ? nv : 1));
  fmpq_poly_struct **Cp = malloc(sizeof *Cp * (size_t)(nv > 0 ? nv : 1));
  if (!C || !Cp) { free(C); free(Cp); return oom(); }
  for (int i = 0; i < nv; i++) {
    fmpq_poly_init(C + i);
    Cp[i] = C + i;
    if (strcmp(x->vars->names[i], "n") == 0) fmpq_poly_set_coeff_si(C + i, 1, 1);
  }
  fmpq_poly_t pn, pd;
  fmpq_poly_init(pn);
  fmpq_poly_init(pd);
  fl_status st = FL_OK;
  if (!fmpq_mpoly_compose_fmpq_poly(pn, x->num, Cp, x->vars->ctx) ||
      !fmpq_mpoly_compose_fmpq_poly(pd, x->den, Cp, x->vars->ctx) || q_from_fmpq_polys(out, pn, pd))
    st = fl_fail(FL_ERANGE, "%s: conversion failed", what);
  fmpq_poly_clear(pn);
  fmpq_poly_clear(pd);
  for (int i = 0; i < nv; i++) fmpq_poly_clear(C + i);
  free(C);
  free(Cp);
  return st;
}

static fl_pcf *pcf_alloc(void)
{
  fl_pcf *p = fl_calloc(1, sizeof *p);
  if (!p) return NULL;
  fmpz_poly_q_init(p->a);
  fmpz_poly_q_init(p->b);
  return p;
}

fl_status fl_pcf_new(const fl_poly *a, const fl_poly *b, fl_pcf **out)
{
  *out = NULL;
  fl_pcf *p = pcf_alloc();
  if (!p) return oom();
  fl_status st = poly_in_n(a, "a(n)", p->a);
  if (!st) st = poly_in_n(b, "b(n)", p->b);
  if (st) { fl_pcf_free(p); return st; }
  *out = p;
  return FL_OK;
}

fl_status fl_pcf_a(const fl_pcf *p, fl_poly **out) { return q_to_poly(p->a, out); }
fl_status fl_pcf_b(const fl_pcf *p, fl_poly **out) { return q_to_poly(p->b, out); }

fl_status fl_pcf_limit(const fl_pcf *p, long N, long start, int sequential, fl_limit **out)
{
  *out = NULL;
  if (N < 1) return fl_fail(FL_ERANGE, "depth must be at least 1, not %ld", N);
  qmat T;
  if (qmat_init(&T, 2)) return oom();
  fmpz_poly_q_zero(T.e + 0);
  fmpz_poly_q_set(T.e + 1, p->b);
  fmpz_poly_q_one(T.e + 2);
  fmpz_poly_q_set(T.e + 3, p->a);
  fl_mfun *m;
  fl_status st = mfun_from_qmat(&T, &m);
  qmat_clear(&T);
  if (st) return st;
  /* A = [[1, a(0)], [0, 1]] */
  fl_rat *iv[4] = {NULL, NULL, NULL, NULL};
  for (int k = 0; k < 4 && !st; k++) st = fl_rat_new(&iv[k]);
  if (!st) {
    fmpq_one(iv[0]->v);
    fmpq_one(iv[3]->v);
    fmpz_t z0, vn, vd;
    fmpz_init(z0);
    fmpz_init(vn);
    fmpz_init(vd);
    fmpz_poly_evaluate_fmpz(vn, fmpz_poly_q_numref(p->a), z0);
    fmpz_poly_evaluate_fmpz(vd, fmpz_poly_q_denref(p->a), z0);
    if (fmpz_is_zero(vd)) st = fl_fail(FL_ESINGULAR, "a(n) has a pole at n = 0");
    else fmpq_set_fmpz_frac(iv[1]->v, vn, vd);
    fmpz_clear(z0);
    fmpz_clear(vn);
    fmpz_clear(vd);
  }
  if (!st) st = fl_mfun_limit(m, start, N, (const fl_rat *const *)iv, sequential, out);
  for (int k = 0; k < 4; k++) fl_rat_free(iv[k]);
  fl_mfun_release(m);
  return st;
}

/* Deflate (a, b) in Z[n] in place by the largest c(n). */
static void deflate_all(fmpz_poly_t a, fmpz_poly_t b)
{
  if (fmpz_poly_is_zero(a) || fmpz_poly_is_zero(b)) return;
  fmpz_poly_factor_t fac;
  fmpz_poly_factor_init(fac);
  fmpz_poly_factor(fac, a);
  fmpz_poly_t c, cs, cc, q;
  fmpz_poly_init(c);
  fmpz_poly_init(cs);
  fmpz_poly_init(cc);
  fmpz_poly_init(q);
  fmpz_t m1;
  fmpz_init_set_si(m1, -1);
  for (slong k = 0; k < fac->num; k++) {
    if (fmpz_poly_degree(fac->p + k) < 1) continue;
    for (slong e = fac->exp[k]; e >= 1; e--) {
      fmpz_poly_pow(c, fac->p + k, (ulong)e);
      fmpz_poly_taylor_shift(cs, c, m1);
      fmpz_poly_mul(cc, c, cs);
      if (fmpz_poly_divides(q, b, cc)) {
        fmpz_poly_swap(b, q);
        fmpz_poly_div(a, a, c);
        break;
      }
    }
  }
  /* integer part: the largest g with g | content(a), g^2 | content(b) */
  fmpz_t ca, cb, g;
  fmpz_init(ca);
  fmpz_init(cb);
  fmpz_init_set_ui(g, 1);
  fmpz_poly_content(ca, a);
  fmpz_poly_content(cb, b);
  fmpz_factor_t ff;
  fmpz_factor_init(ff);
  fmpz_factor(ff, ca);
  for (slong k = 0; k < ff->num; k++) {
    ulong e = 0;
    fmpz_t t;
    fmpz_init_set(t, cb);
    while (fmpz_divisible(t, ff->p + k) && !fmpz_is_zero(t)) { fmpz_divexact(t, t, ff->p + k); e++; }
    fmpz_clear(t);
    ulong m = e / 2 < ff->exp[k] ? e / 2 : ff->exp[k];
    for (ulong i = 0; i < m; i++) fmpz_mul(g, g, ff->p + k);
  }
  if (!fmpz_is_one(g)) {
    fmpz_poly_scalar_divexact_fmpz(a, a, g);
    fmpz_poly_scalar_divexact_fmpz(b, b, g);
    fmpz_poly_scalar_divexact_fmpz(b, b, g);
  }
  fmpz_factor_clear(ff);
  fmpz_clear(ca);
  fmpz_clear(cb);
  fmpz_clear(g);
  fmpz_clear(m1);
  fmpz_poly_clear(c);
  fmpz_poly_clear(cs);
  fmpz_poly_clear(cc);
  fmpz_poly_clear(q);
  fmpz_poly_factor_clear(fac);
}

fl_status fl_pcf_deflate_all(const fl_pcf *p, fl_pcf **out)
{
  *out = NULL;
  if (!fmpz_poly_is_one(fmpz_poly_q_denref(p->a)) || !fmpz_poly_is_one(fmpz_poly_q_denref(p->b)))
    return fl_fail(FL_EINVAL, "deflate_all needs polynomial a(n) and b(n)");
  fl_pcf *r = pcf_alloc();
  if (!r) return oom();
  fmpz_poly_q_set(r->a, p->a);
  fmpz_poly_q_set(r->b, p->b);
  deflate_all(fmpz_poly_q_numref(r->a), fmpz_poly_q_numref(r->b));
  *out = r;
  return FL_OK;
}

/* c(n) as a nonzero polynomial in n over Q: FL_EINVAL otherwise. */
static fl_status pcf_factor(const fl_poly *c, fmpz_poly_q_t out)
{
  fl_status st = poly_in_n(c, "c(n)", out);
  if (st) return st;
  if (fmpz_poly_q_is_zero(out)) return fl_fail(FL_EINVAL, "c(n) must not be zero");
  if (fmpz_poly_degree(fmpz_poly_q_denref(out)) > 0) {
    fl_poly *cp = NULL;
    char *sc = q_to_poly(out, &cp) ? NULL : fl_poly_str(cp);
    st = fl_fail(FL_EINVAL, "c(n) must be a polynomial in n, not the rational function %s", sc ? sc : "?");
    fl_str_free(sc);
    fl_poly_free(cp);
  }
  return st;
}

/* "c | x" over Q[n], for x a rational function in lowest terms: the
 * primitive part of c's numerator divides x's numerator in Z[n] (Gauss). */
static int q_divides(const fmpz_poly_q_t x, const fmpz_poly_q_t c)
{
  if (fmpz_poly_q_is_zero(x)) return 1;
  fmpz_poly_t pp, q;
  fmpz_poly_init(pp);
  fmpz_poly_init(q);
  fmpz_poly_primitive_part(pp, fmpz_poly_q_numref(c));
  int ok = fmpz_poly_divides(q, fmpz_poly_q_numref(x), pp);
  fmpz_poly_clear(pp);
  fmpz_poly_clear(q);
  return ok;
}

/* The error "what = c does not divide name = x". */
static fl_status not_divisible(const char *what, const fmpz_poly_q_t c, const char *name, const fmpz_poly_q_t x)
{
  fl_poly *pc = NULL, *px = NULL;
  char *sc = q_to_poly(c, &pc) ? NULL : fl_poly_str(pc);
  char *sx = q_to_poly(x, &px) ? NULL : fl_poly_str(px);
  fl_status st = fl_fail(FL_EINVAL, "%s = %s does not divide %s = %s (over Q[n])", what,
                         sc ? sc : "?", name, sx ? sx : "?");
  fl_str_free(sc);
  fl_str_free(sx);
  fl_poly_free(pc);
  fl_poly_free(px);
  return st;
}

/* inflate (deflate = 0) or deflate by c: a -> c a, b -> c(n-1) c(n) b. */
static fl_status pcf_scale(const fl_pcf *p, const fl_poly *c, int deflate, fl_pcf **out)
{
  *out = NULL;
  fmpz_poly_q_t cq, cs, cc;
  fmpz_poly_q_init(cq);
  fmpz_poly_q_init(cs);
  fmpz_poly_q_init(cc);
  fl_pcf *r = NULL;
  fl_status st = pcf_factor(c, cq);
  if (!st) {
    q_shift(cs, cq, -1);
    fmpz_poly_q_mul(cc, cq, cs);
    if (deflate && !q_divides(p->a, cq)) st = not_divisible("c(n)", cq, "a(n)", p->a);
    else if (deflate && !q_divides(p->b, cc)) {
      /* name c(n) c(n-1) as the product of its two factors */
      fl_poly *p1 = NULL, *p2 = NULL;
      char *s1 = q_to_poly(cq, &p1) ? NULL : fl_poly_str(p1);
      char *s2 = q_to_poly(cs, &p2) ? NULL : fl_poly_str(p2);
      size_t len = (s1 ? strlen(s1) : 1) + (s2 ? strlen(s2) : 1) + 64;
      char *what = malloc(len);
      if (!what) st = oom();
      else {
        snprintf(what, len, "c(n) c(n-1) = (%s)*(%s)", s1 ? s1 : "?", s2 ? s2 : "?");
        st = not_divisible(what, cc, "b(n)", p->b);
        free(what);
      }
      fl_str_free(s1);
      fl_str_free(s2);
      fl_poly_free(p1);
      fl_poly_free(p2);
    }
  }
  if (!st && !(r = pcf_alloc())) st = oom();
  if (!st) {
    if (deflate) {
      fmpz_poly_q_div(r->a, p->a, cq);
      fmpz_poly_q_div(r->b, p->b, cc);
    } else {
      fmpz_poly_q_mul(r->a, p->a, cq);
      fmpz_poly_q_mul(r->b, p->b, cc);
    }
    *out = r;
  }
  fmpz_poly_q_clear(cq);
  fmpz_poly_q_clear(cs);
  fmpz_poly_q_clear(cc);
  return st;
}

fl_status fl_pcf_inflate(const fl_pcf *p, const fl_poly *c, fl_pcf **out) { return pcf_scale(p, c, 0, out); }
fl_status fl_pcf_deflate(const fl_pcf *p, const fl_poly *c, fl_pcf **out) { return pcf_scale(p, c, 1, out); }

fl_status fl_cmf_to_pcf(const fl_cmf *c, const long *t, const fl_rat *const *s, fl_pcf **out)
{
  *out = NULL;
  if (c->r != 2) return fl_fail(FL_EDIM, "to_pcf needs 2x2 matrices, not %dx%d", c->r, c->r);
  fl_mfun *m;
  fl_status st = fl_cmf_trajectory(c, t, s, &m);
  if (st) return st;
  const fmpz_poly_q_struct *M = m->T.e;
  if (fmpz_poly_q_is_zero(M + 2)) {
    fl_mfun_release(m);
    return fl_fail(FL_EINVAL, "the trajectory matrix has m10 = 0: the 2x2 companion form does not apply");
  }
  fmpz_poly_q_t ratio_, sh, a, b, det, t1;
  fmpz_poly_q_init(ratio_);
  fmpz_poly_q_init(sh);
  fmpz_poly_q_init(a);
  fmpz_poly_q_init(b);
  fmpz_poly_q_init(det);
  fmpz_poly_q_init(t1);
  /* ratio = m10(n+1)/m10(n) */
  q_shift(sh, M + 2, 1);
  fmpz_poly_q_div(ratio_, sh, M + 2);
  /* a = m00(n+1) + m11(n) ratio */
  q_shift(a, M + 0, 1);
  fmpz_poly_q_mul(t1, M + 3, ratio_);
  fmpz_poly_q_add(a, a, t1);
  /* b = -det M(n) ratio */
  fmpz_poly_q_mul(det, M + 0, M + 3);
  fmpz_poly_q_mul(t1, M + 1, M + 2);
  fmpz_poly_q_sub(det, det, t1);
  fmpz_poly_q_mul(b, det, ratio_);
  fmpz_poly_q_neg(b, b);
  /* clear denominators: inflate by c = lcm(den a, den b) */
  fmpz_poly_t cpol, cs;
  fmpz_poly_init(cpol);
  fmpz_poly_init(cs);
  fmpz_poly_lcm(cpol, fmpz_poly_q_denref(a), fmpz_poly_q_denref(b));
  fmpz_t m1;
  fmpz_init_set_si(m1, -1);
  fmpz_poly_taylor_shift(cs, cpol, m1);
  fl_pcf *r = pcf_alloc();
  if (!r) st = oom();
  else {
    fmpz_poly_q_zero(t1);
    fmpz_poly_set(fmpz_poly_q_numref(t1), cpol);
    fmpz_poly_one(fmpz_poly_q_denref(t1));
    fmpz_poly_q_mul(r->a, a, t1);
    fmpz_poly_q_mul(r->b, b, t1);
    fmpz_poly_set(fmpz_poly_q_numref(t1), cs);
    fmpz_poly_q_mul(r->b, r->b, t1);
    deflate_all(fmpz_poly_q_numref(r->a), fmpz_poly_q_numref(r->b));
    *out = r;
  }
  fmpz_clear(m1);
  fmpz_poly_clear(cpol);
  fmpz_poly_clear(cs);
  fmpz_poly_q_clear(ratio_);
  fmpz_poly_q_clear(sh);
  fmpz_poly_q_clear(a);
  fmpz_poly_q_clear(b);
  fmpz_poly_q_clear(det);
  fmpz_poly_q_clear(t1);
  fl_mfun_release(m);
  return st;
}
