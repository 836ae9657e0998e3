/* fl_pslq: PSLQ integer relations on MPFR inputs. See fl_pslq.h.
 *
 * The iteration follows D. H. Bailey's description of PSLQ as mpmath
 * implements it (identification.py): fixed-point integers with P = p + 60
 * fractional bits, floor divisions and shifts throughout, indices 1..n as
 * in the paper. The matrix A of the paper is never read, so it is not
 * kept. */
#include "config.h"
#include "fl_pslq.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>

#include <gmp.h>

static fl_status oom(void) { return fl_fail(FL_ENOMEM, "out of memory"); }

long fl_pslq_prec(long digits)
{
  double b = ((double)digits + 1.0) * 3.3219280948873626;
  long p = (long)floor(b + 0.5);
  return p > 1 ? p : 1;
}

/* r = round to the nearest multiple of 2^P: ((x + 2^(P-1)) >> P) << P. */
static void round_fixed(mpz_t r, const mpz_t x, mpz_srcptr half, long P)
{
  mpz_add(r, x, half);
  mpz_fdiv_q_2exp(r, r, (mp_bitcnt_t)P);
  mpz_mul_2exp(r, r, (mp_bitcnt_t)P);
}

/* floor(sqrt(x 2^P)): mpmath's sqrt_fixed. */
static void sqrt_fixed(mpz_t r, const mpz_t x, long P)
{
  mpz_mul_2exp(r, x, (mp_bitcnt_t)P);
  mpz_sqrt(r, r);
}

typedef struct pslq_state {
  int n;
  long P;
  mpz_t *H, *B, *y; /* (n+1)^2, (n+1)^2, n+1; 1-based */
  mpz_t t, u, half;
} pslq_state;

#define HH(s, i, j) ((s)->H[(i) * ((s)->n + 1) + (j)])
#define BB(s, i, j) ((s)->B[(i) * ((s)->n + 1) + (j)])

/* The reduction of row i against row j (step 4 of the paper):
 * t = nint(H[i,j] / H[j,j]); returns 0 when H[j,j] = 0 (nothing done). */
static int reduce(pslq_state *s, int i, int j)
{
  int n = s->n;
  long P = s->P;
  if (mpz_sgn(HH(s, j, j)) == 0) return 0;
  mpz_mul_2exp(s->u, HH(s, i, j), (mp_bitcnt_t)P);
  mpz_fdiv_q(s->u, s->u, HH(s, j, j));
  round_fixed(s->t, s->u, s->half, P);
  /* y[j] += (t y[i]) >> P */
  mpz_mul(s->u, s->t, s->y[i]);
  mpz_fdiv_q_2exp(s->u, s->u, (mp_bitcnt_t)P);
  mpz_add(s->y[j], s->y[j], s->u);
  for (int k = 1; k <= j; k++) {
    mpz_mul(s->u, s->t, HH(s, j, k));
    mpz_fdiv_q_2exp(s->u, s->u, (mp_bitcnt_t)P);
    mpz_sub(HH(s, i, k), HH(s, i, k), s->u);
  }
  for (int k = 1; k <= n; k++) {
    mpz_mul(s->u, s->t, BB(s, k, i));
    mpz_fdiv_q_2exp(s->u, s->u, (mp_bitcnt_t)P);
    mpz_add(BB(s, k, j), BB(s, k, j), s->u);
  }
  return 1;
}

/* The check: |sum c_i x_i| <= 2^-target sum |c_i x_i|, in MPFR with enough
 * bits that the sums are exact to far below the tolerance. */
static void check_relation(int n, mpfr_srcptr const *x, const long *c, long target, fl_pslq_result *res,
                           mpfr_ptr residual)
{
  mpfr_prec_t bits = 0;
  for (int i = 0; i < n; i++)
    if (mpfr_get_prec(x[i]) > bits) bits = mpfr_get_prec(x[i]);
  bits += 2 * 64 + 16;
  mpfr_t sum, abs, t;
  mpfr_init2(sum, bits);
  mpfr_init2(abs, bits);
  mpfr_init2(t, bits);
  mpfr_set_zero(sum, 1);
  mpfr_set_zero(abs, 1);
  for (int i = 0; i < n; i++) {
    if (c[i] == 0) continue;
    mpfr_mul_si(t, x[i], c[i], MPFR_RNDN);
    mpfr_add(sum, sum, t, MPFR_RNDN);
    mpfr_abs(t, t, MPFR_RNDN);
    mpfr_add(abs, abs, t, MPFR_RNDN);
  }
  mpfr_abs(sum, sum, MPFR_RNDN);
  if (residual) mpfr_set(residual, sum, MPFR_RNDN);
  res->need_digits = (double)target * 0.30102999566398120;
  if (mpfr_zero_p(sum)) {
    res->holds_digits = HUGE_VAL;
  } else {
    mpfr_div(t, sum, abs, MPFR_RNDN);
    mpfr_log10(t, t, MPFR_RNDN);
    res->holds_digits = -mpfr_get_d(t, MPFR_RNDN);
  }
  /* sum <= abs 2^-target */
  mpfr_mul_2si(abs, abs, -target, MPFR_RNDN);
  res->outcome = mpfr_cmp(sum, abs) <= 0 ? FL_PSLQ_FOUND : FL_PSLQ_UNCHECKED;
  mpfr_clear(sum);
  mpfr_clear(abs);
  mpfr_clear(t);
}

fl_status fl_pslq(int n, mpfr_srcptr const *x, long digits, long maxcoeff, long maxsteps, long *rel,
                  fl_pslq_result *res, mpfr_ptr residual)
{
  res->outcome = FL_PSLQ_MAXSTEPS;
  res->steps = 0;
  res->tiny = -1;
  res->norm_bound = 0;
  res->holds_digits = 0;
  res->need_digits = 0;
  res->prec = 0;
  if (residual) mpfr_set_zero(residual, 1);
  if (n < 2 || n > FL_PSLQ_MAXN)
    return fl_fail(FL_EINVAL, "PSLQ needs 2 to %d values, not %d", FL_PSLQ_MAXN, n);
  if (digits < 15 || digits > 10000000)
    return fl_fail(FL_EINVAL, "the working precision must be 15 to 10^7 digits, not %ld (PSLQ is meaningless "
                              "below 53 bits)", digits);
  if (maxcoeff < 1 || maxcoeff > (1L << 62)) return fl_fail(FL_EINVAL, "maxcoeff must be 1 to 2^62, not %ld", maxcoeff);
  if (maxsteps < 1 || maxsteps > 100000000L) return fl_fail(FL_EINVAL, "maxsteps must be 1 to 10^8, not %ld", maxsteps);
  for (int i = 0; i < n; i++) {
    if (!mpfr_number_p(x[i])) return fl_fail(FL_ENAN, "value %d is not a finite number", i + 1);
    if (mpfr_zero_p(x[i])) return fl_fail(FL_EINVAL, "value %d is zero: PSLQ needs nonzero numbers", i + 1);
  }
  long prec = fl_pslq_prec(digits);
  long target = (long)floor((double)prec * 0.75);
  long P = prec + 60;
  res->prec = prec;

  pslq_state s = {0};
  s.n = n;
  s.P = P;
  int nn = (n + 1) * (n + 1);
  s.H = malloc(sizeof(mpz_t) * (size_t)nn);
  s.B = malloc(sizeof(mpz_t) * (size_t)nn);
  s.y = malloc(sizeof(mpz_t) * (size_t)(n + 1));
  mpz_t *xs = malloc(sizeof(mpz_t) * (size_t)(n + 1));
  mpz_t *sv = malloc(sizeof(mpz_t) * (size_t)(n + 1));
  mpz_t *gp = malloc(sizeof(mpz_t) * (size_t)(n + 1));
  if (!s.H || !s.B || !s.y || !xs || !sv || !gp) {
    free(s.H);
    free(s.B);
    free(s.y);
    free(xs);
    free(sv);
    free(gp);
    return oom();
  }
  for (int k = 0; k < nn; k++) {
    mpz_init(s.H[k]);
    mpz_init(s.B[k]);
  }
  for (int k = 0; k <= n; k++) {
    mpz_init(s.y[k]);
    mpz_init(xs[k]);
    mpz_init(sv[k]);
    mpz_init(gp[k]);
  }
  mpz_init(s.t);
  mpz_init(s.u);
  mpz_init(s.half);
  mpz_setbit(s.half, (mp_bitcnt_t)(P - 1));
  mpz_t tol, g, t1, t2, t3, t4, best;
  mpz_init(tol);
  mpz_init(g);
  mpz_init(t1);
  mpz_init(t2);
  mpz_init(t3);
  mpz_init(t4);
  mpz_init(best);
  mpfr_t xf;
  mpfr_init2(xf, 64);
  fl_status st = FL_OK;

  /* tol = 2^-target in fixed point; the inputs as floor(x 2^P) */
  mpz_setbit(tol, (mp_bitcnt_t)(P - target));
  for (int k = 1; k <= n; k++) {
    /* rounded to the working precision first, as mpmath's mpf(x) */
    mpfr_set_prec(xf, (mpfr_prec_t)prec);
    mpfr_set(xf, x[k - 1], MPFR_RNDN);
    mpfr_mul_2si(xf, xf, P, MPFR_RNDN); /* exact: a power of two */
    mpfr_get_z(xs[k], xf, MPFR_RNDD);
  }
  /* magnitudes: an entry below tol/100 stops the search */
  mpz_fdiv_q_ui(t1, tol, 100);
  for (int k = 1; k <= n; k++) {
    mpz_abs(t2, xs[k]);
    if (mpz_sgn(t2) == 0 || mpz_cmp(t2, t1) < 0) {
      res->outcome = FL_PSLQ_TINY;
      res->tiny = k - 1;
      goto done;
    }
  }
  /* g = sqrt(4/3) */
  mpz_set_ui(t1, 4);
  mpz_mul_2exp(t1, t1, (mp_bitcnt_t)P);
  mpz_fdiv_q_ui(t1, t1, 3);
  sqrt_fixed(g, t1, P);
  mpz_set_ui(gp[0], 1);
  for (int i = 1; i <= n; i++) mpz_mul(gp[i], gp[i - 1], g);
  /* B = I */
  for (int i = 1; i <= n; i++) mpz_setbit(BB(&s, i, i), (mp_bitcnt_t)P);
  /* s_k = sqrt(sum_{j >= k} x_j^2), then y = x / s_1, s = s / s_1 */
  for (int k = 1; k <= n; k++) {
    mpz_set_ui(t1, 0);
    for (int j = k; j <= n; j++) {
      mpz_mul(t2, xs[j], xs[j]);
      mpz_fdiv_q_2exp(t2, t2, (mp_bitcnt_t)P);
      mpz_add(t1, t1, t2);
    }
    sqrt_fixed(sv[k], t1, P);
  }
  mpz_set(t3, sv[1]);
  for (int k = 1; k <= n; k++) {
    mpz_mul_2exp(t1, xs[k], (mp_bitcnt_t)P);
    mpz_fdiv_q(s.y[k], t1, t3);
    mpz_mul_2exp(t1, sv[k], (mp_bitcnt_t)P);
    mpz_fdiv_q(sv[k], t1, t3);
  }
  /* H */
  for (int i = 1; i <= n; i++) {
    if (i <= n - 1 && mpz_sgn(sv[i]) != 0) {
      mpz_mul_2exp(t1, sv[i + 1], (mp_bitcnt_t)P);
      mpz_fdiv_q(HH(&s, i, i), t1, sv[i]);
    }
    for (int j = 1; j < i; j++) {
      mpz_mul(t2, sv[j], sv[j + 1]);
      if (mpz_sgn(t2) == 0) continue;
      mpz_mul(t1, s.y[i], s.y[j]);
      mpz_neg(t1, t1);
      mpz_mul_2exp(t1, t1, (mp_bitcnt_t)P);
      mpz_fdiv_q(HH(&s, i, j), t1, t2);
    }
  }
  /* reduce H */
  for (int i = 2; i <= n; i++)
    for (int j = i - 1; j >= 1; j--) reduce(&s, i, j);

  res->outcome = FL_PSLQ_MAXSTEPS;
  for (long rep = 0; rep < maxsteps; rep++) {
    if (fl_interrupted()) { st = fl_fail(FL_EINTR, "interrupted"); goto done; }
    res->steps = rep + 1;
    /* 1: the row m maximising gamma^i |H[i,i]| */
    int m = -1;
    mpz_set_si(best, -1);
    for (int i = 1; i < n; i++) {
      mpz_abs(t1, HH(&s, i, i));
      mpz_mul(t1, t1, gp[i]);
      mpz_fdiv_q_2exp(t1, t1, (mp_bitcnt_t)(P * (i - 1)));
      if (mpz_cmp(t1, best) > 0) {
        m = i;
        mpz_set(best, t1);
      }
    }
    /* 2: exchange m and m+1 */
    mpz_swap(s.y[m], s.y[m + 1]);
    for (int i = 1; i <= n; i++) mpz_swap(HH(&s, m, i), HH(&s, m + 1, i));
    for (int i = 1; i <= n; i++) mpz_swap(BB(&s, i, m), BB(&s, i, m + 1));
    /* 3: restore the lower trapezoidal form */
    if (m <= n - 2) {
      mpz_mul(t1, HH(&s, m, m), HH(&s, m, m));
      mpz_mul(t2, HH(&s, m, m + 1), HH(&s, m, m + 1));
      mpz_add(t1, t1, t2);
      mpz_fdiv_q_2exp(t1, t1, (mp_bitcnt_t)P);
      sqrt_fixed(t4, t1, P); /* t0 */
      if (mpz_sgn(t4) == 0) {
        res->outcome = FL_PSLQ_PRECISION;
        break;
      }
      mpz_mul_2exp(t1, HH(&s, m, m), (mp_bitcnt_t)P);
      mpz_fdiv_q(t1, t1, t4);
      mpz_mul_2exp(t2, HH(&s, m, m + 1), (mp_bitcnt_t)P);
      mpz_fdiv_q(t2, t2, t4);
      for (int i = m; i <= n; i++) {
        mpz_set(t3, HH(&s, i, m));
        mpz_set(t4, HH(&s, i, m + 1));
        /* H[i,m] = (t1 t3 + t2 t4) >> P; H[i,m+1] = (-t2 t3 + t1 t4) >> P */
        mpz_mul(s.u, t1, t3);
        mpz_addmul(s.u, t2, t4);
        mpz_fdiv_q_2exp(HH(&s, i, m), s.u, (mp_bitcnt_t)P);
        mpz_mul(s.u, t1, t4);
        mpz_submul(s.u, t2, t3);
        mpz_fdiv_q_2exp(HH(&s, i, m + 1), s.u, (mp_bitcnt_t)P);
      }
    }
    /* 4: reduce */
    for (int i = m + 1; i <= n; i++) {
      int j0 = i - 1 < m + 1 ? i - 1 : m + 1;
      for (int j = j0; j >= 1; j--)
        if (!reduce(&s, i, j)) break;
    }
    /* 5: a small entry of y is a relation (a column of B) */
    for (int i = 1; i <= n; i++) {
      mpz_abs(t1, s.y[i]);
      if (mpz_cmp(t1, tol) >= 0) continue;
      int ok = 1;
      for (int j = 1; j <= n && ok; j++) {
        round_fixed(t2, BB(&s, j, i), s.half, P);
        mpz_fdiv_q_2exp(t2, t2, (mp_bitcnt_t)P);
        mpz_abs(t3, t2);
        if (mpz_cmp_si(t3, maxcoeff) >= 0) ok = 0;
        else rel[j - 1] = mpz_get_si(t2);
      }
      if (ok) {
        check_relation(n, x, rel, target, res, residual);
        goto done;
      }
    }
    /* 6: the norm bound 1/max|H| (divided by 100, as mpmath) */
    mpz_set_ui(t1, 0);
    for (int k = 0; k < nn; k++)
      if (mpz_cmpabs(s.H[k], t1) > 0) mpz_abs(t1, s.H[k]);
    if (mpz_sgn(t1) != 0) {
      mpz_set_ui(t2, 0);
      mpz_setbit(t2, (mp_bitcnt_t)(2 * P));
      mpz_fdiv_q(t2, t2, t1);
      mpz_fdiv_q_2exp(t2, t2, (mp_bitcnt_t)P);
      mpz_fdiv_q_ui(t2, t2, 100);
      res->norm_bound = mpz_get_d(t2);
      if (mpz_cmp_si(t2, maxcoeff) >= 0) {
        res->outcome = FL_PSLQ_NORM;
        break;
      }
    } else {
      res->norm_bound = HUGE_VAL;
      res->outcome = FL_PSLQ_NORM;
      break;
    }
  }
done:
  mpfr_clear(xf);
  mpz_clear(tol);
  mpz_clear(g);
  mpz_clear(t1);
  mpz_clear(t2);
  mpz_clear(t3);
  mpz_clear(t4);
  mpz_clear(best);
  mpz_clear(s.t);
  mpz_clear(s.u);
  mpz_clear(s.half);
  for (int k = 0; k < nn; k++) {
    mpz_clear(s.H[k]);
    mpz_clear(s.B[k]);
  }
  for (int k = 0; k <= n; k++) {
    mpz_clear(s.y[k]);
    mpz_clear(xs[k]);
    mpz_clear(sv[k]);
    mpz_clear(gp[k]);
  }
  free(s.H);
  free(s.B);
  free(s.y);
  free(xs);
  free(sv);
  free(gp);
  return st;
}
