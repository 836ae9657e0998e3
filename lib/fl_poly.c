/* fl_poly: exact rationals and multivariate rational functions over Q.
 * See fl_poly.h. FLINT (fmpq, fmpq_mpoly) does the arithmetic; this file
 * keeps values canonical (coprime num/den, monic den) and handles variable
 * sets, parsing and printing. */
#include "config.h"
/* GCC 12 misreads FLINT's array-typed parameters (fmpq_t is fmpq[1]) on
 * heap structs and reports overflows that cannot happen. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#pragma GCC diagnostic ignored "-Wstringop-overread"
#endif
#include "fl_poly.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ORD ORD_DEGLEX

/* ------------------------------------------------------------ small helpers */

void fl_str_free(char *s) { free(s); }

static char *dupstr(const char *s)
{
  size_t n = strlen(s);
  char *d = malloc(n + 1);
  if (d) memcpy(d, s, n + 1);
  return d;
}

static fl_status oom(void) { return fl_fail(FL_ENOMEM, "out of memory"); }

/* ------------------------------------------------------------ rationals */

static fl_rat *rat_alloc(void)
{
  fl_rat *r = fl_calloc(1, sizeof *r);
  if (r) fmpq_init(r->v);
  return r;
}

void fl_rat_free(fl_rat *a)
{
  if (!a) return;
  fmpq_clear(a->v);
  fl_free(a, sizeof *a);
}

fl_status fl_rat_new(fl_rat **out)
{
  *out = rat_alloc();
  return *out ? FL_OK : oom();
}

fl_status fl_rat_from_si(long v, fl_rat **out)
{
  if (!(*out = rat_alloc())) return oom();
  fmpq_set_si((*out)->v, v, 1);
  return FL_OK;
}

fl_status fl_rat_copy(const fl_rat *a, fl_rat **out)
{
  if (!(*out = rat_alloc())) return oom();
  fmpq_set((*out)->v, a->v);
  return FL_OK;
}

/* An unsigned decimal number at s ("12", "1.5", ".5", "3e-2") -> v exactly.
 * Returns the number of characters read (0: no number). */
static size_t scan_decimal(const char *s, fmpq_t v)
{
  size_t i = 0, nd = 0;
  fmpz_t m, t;
  fmpz_init(m);
  fmpz_init(t);
  long scale = 0;
  while (isdigit((unsigned char)s[i])) {
    fmpz_mul_ui(m, m, 10);
    fmpz_add_ui(m, m, (ulong)(s[i] - '0'));
    i++, nd++;
  }
  if (s[i] == '.' && (nd > 0 || isdigit((unsigned char)s[i + 1]))) {
    i++;
    while (isdigit((unsigned char)s[i])) {
      fmpz_mul_ui(m, m, 10);
      fmpz_add_ui(m, m, (ulong)(s[i] - '0'));
      i++, nd++, scale--;
    }
  }
  if (nd == 0) {
    fmpz_clear(m);
    fmpz_clear(t);
    return 0;
  }
  if (s[i] == 'e' || s[i] == 'E') {
    size_t j = i + 1;
    int neg = 0;
    if (s[j] == '+' || s[j] == '-') neg = s[j++] == '-';
    if (isdigit((unsigned char)s[j])) {
      long e = 0;
      while (isdigit((unsigned char)s[j])) {
        if (e < 100000000) e = 10 * e + (s[j] - '0');
        j++;
      }
      scale += neg ? -e : e;
      i = j;
    }
  }
  if (scale > 1000000 || scale < -1000000) scale = scale > 0 ? 1000000 : -1000000;
  fmpz_set_ui(t, 10);
  if (scale >= 0) {
    fmpz_pow_ui(t, t, (ulong)scale);
    fmpz_mul(m, m, t);
    fmpq_set_fmpz(v, m);
  } else {
    fmpz_pow_ui(t, t, (ulong)(-scale));
    fmpq_set_fmpz_frac(v, m, t);
  }
  fmpz_clear(m);
  fmpz_clear(t);
  return i;
}

fl_status fl_rat_from_str(const char *s, fl_rat **out)
{
  *out = NULL;
  size_t i = 0;
  while (isspace((unsigned char)s[i])) i++;
  int neg = 0;
  if (s[i] == '+' || s[i] == '-') neg = s[i++] == '-';
  fl_rat *r = rat_alloc();
  if (!r) return oom();
  size_t n = scan_decimal(s + i, r->v);
  if (n == 0) goto bad;
  i += n;
  while (isspace((unsigned char)s[i])) i++;
  if (s[i] == '/') {
    i++;
    while (isspace((unsigned char)s[i])) i++;
    fmpq_t d;
    fmpq_init(d);
    n = scan_decimal(s + i, d);
    if (n == 0) { fmpq_clear(d); goto bad; }
    if (fmpq_is_zero(d)) {
      fmpq_clear(d);
      fl_rat_free(r);
      return fl_fail(FL_ERANGE, "division by zero in \"%s\"", s);
    }
    fmpq_div(r->v, r->v, d);
    fmpq_clear(d);
    i += n;
    while (isspace((unsigned char)s[i])) i++;
  }
  if (s[i] != '\0') goto bad;
  if (neg) fmpq_neg(r->v, r->v);
  *out = r;
  return FL_OK;
bad:
  fl_rat_free(r);
  if (s[i] == '\0') return fl_fail(FL_EFORMAT, "\"%s\" is not a rational number (ends early at position %zu)", s, i + 1);
  return fl_fail(FL_EFORMAT, "\"%s\" is not a rational number (unexpected '%c' at position %zu)", s, s[i], i + 1);
}

fl_status fl_rat_from_double(double d, fl_rat **out)
{
  *out = NULL;
  if (!isfinite(d)) return fl_fail(FL_ENAN, "%g is not a finite number", d);
  int e;
  double m = frexp(d, &e); /* d = m 2^e, 0.5 <= |m| < 1 */
  /* 53 bits of mantissa as an integer */
  double mi = ldexp(m, 53);
  e -= 53;
  fl_rat *r = rat_alloc();
  if (!r) return oom();
  fmpz_t z;
  fmpz_init(z);
  fmpz_set_d(z, mi);
  fmpq_set_fmpz(r->v, z);
  if (e > 0) fmpq_mul_2exp(r->v, r->v, (ulong)e);
  else if (e < 0) fmpq_div_2exp(r->v, r->v, (ulong)(-e));
  fmpz_clear(z);
  *out = r;
  return FL_OK;
}

fl_status fl_rat_arith(fl_arith op, const fl_rat *a, const fl_rat *b, fl_rat **out)
{
  *out = NULL;
  if (op == FL_ARITH_DIV && fmpq_is_zero(b->v)) return fl_fail(FL_ERANGE, "division by zero");
  fl_rat *r = rat_alloc();
  if (!r) return oom();
  switch (op) {
  case FL_ARITH_ADD: fmpq_add(r->v, a->v, b->v); break;
  case FL_ARITH_SUB: fmpq_sub(r->v, a->v, b->v); break;
  case FL_ARITH_MUL: fmpq_mul(r->v, a->v, b->v); break;
  case FL_ARITH_DIV: fmpq_div(r->v, a->v, b->v); break;
  }
  *out = r;
  return FL_OK;
}

fl_status fl_rat_neg(const fl_rat *a, fl_rat **out)
{
  if (!(*out = rat_alloc())) return oom();
  fmpq_neg((*out)->v, a->v);
  return FL_OK;
}

fl_status fl_rat_pow(const fl_rat *a, long e, fl_rat **out)
{
  *out = NULL;
  if (e > (1L << 20) || e < -(1L << 20)) return fl_fail(FL_ERANGE, "exponent %ld is too large (|e| <= 2^20)", e);
  if (e < 0 && fmpq_is_zero(a->v)) return fl_fail(FL_ERANGE, "division by zero (0 to a negative power)");
  fl_rat *r = rat_alloc();
  if (!r) return oom();
  fmpq_pow_si(r->v, a->v, e);
  *out = r;
  return FL_OK;
}

int fl_rat_cmp(const fl_rat *a, const fl_rat *b) { return fmpq_cmp(a->v, b->v); }
int fl_rat_sign(const fl_rat *a) { return fmpq_sgn(a->v); }
int fl_rat_is_integer(const fl_rat *a) { return fmpz_is_one(fmpq_denref(a->v)); }

fl_status fl_rat_num(const fl_rat *a, fl_rat **out)
{
  if (!(*out = rat_alloc())) return oom();
  fmpq_set_fmpz((*out)->v, fmpq_numref(a->v));
  return FL_OK;
}

fl_status fl_rat_den(const fl_rat *a, fl_rat **out)
{
  if (!(*out = rat_alloc())) return oom();
  fmpq_set_fmpz((*out)->v, fmpq_denref(a->v));
  return FL_OK;
}

double fl_rat_to_double(const fl_rat *a)
{
  /* correctly rounded via mpq */
  mpq_t q;
  mpq_init(q);
  fmpq_get_mpq(q, a->v);
  double d = mpq_get_d(q); /* truncates; fine to 1 ulp */
  mpq_clear(q);
  return d;
}

char *fl_rat_str(const fl_rat *a)
{
  char *f = fmpq_get_str(NULL, 10, a->v);
  if (!f) return NULL;
  char *s = dupstr(f);
  flint_free(f);
  return s;
}

size_t fl_rat_bits(const fl_rat *a)
{
  return fmpz_bits(fmpq_numref(a->v)) + fmpz_bits(fmpq_denref(a->v));
}

/* ------------------------------------------------------------ variable sets */

static int cmpstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

fl_status fl_vars_new(int n, const char *const *names, fl_vars **out)
{
  *out = NULL;
  fl_vars *v = fl_calloc(1, sizeof *v);
  if (!v) return oom();
  v->refc = 1;
  v->names = calloc((size_t)(n > 0 ? n : 1), sizeof *v->names);
  if (!v->names) { fl_free(v, sizeof *v); return oom(); }
  const char **tmp = calloc((size_t)(n > 0 ? n : 1), sizeof *tmp);
  if (!tmp) { free(v->names); fl_free(v, sizeof *v); return oom(); }
  for (int i = 0; i < n; i++) tmp[i] = names[i];
  qsort(tmp, (size_t)n, sizeof *tmp, cmpstr);
  int m = 0;
  for (int i = 0; i < n; i++) {
    if (m > 0 && strcmp(tmp[i], v->names[m - 1]) == 0) continue;
    if (!(v->names[m] = dupstr(tmp[i]))) {
      for (int j = 0; j < m; j++) free(v->names[j]);
      free(v->names);
      free(tmp);
      fl_free(v, sizeof *v);
      return oom();
    }
    m++;
  }
  free(tmp);
  if (m > FL_POLY_MAXVARS) {
    for (int j = 0; j < m; j++) free(v->names[j]);
    free(v->names);
    fl_free(v, sizeof *v);
    return fl_fail(FL_ERANGE, "too many variables (%d, at most %d)", m, FL_POLY_MAXVARS);
  }
  v->n = m;
  fmpq_mpoly_ctx_init(v->ctx, m, ORD);
  *out = v;
  return FL_OK;
}

void fl_vars_release(fl_vars *v)
{
  if (!v || --v->refc > 0) return;
  fmpq_mpoly_ctx_clear(v->ctx);
  for (int i = 0; i < v->n; i++) free(v->names[i]);
  free(v->names);
  fl_free(v, sizeof *v);
}

int fl_vars_index(const fl_vars *v, const char *name)
{
  for (int i = 0; i < v->n; i++)
    if (strcmp(v->names[i], name) == 0) return i;
  return -1;
}

static int vars_same(const fl_vars *a, const fl_vars *b)
{
  if (a == b) return 1;
  if (a->n != b->n) return 0;
  for (int i = 0; i < a->n; i++)
    if (strcmp(a->names[i], b->names[i]) != 0) return 0;
  return 1;
}

/* The union of two variable sets (a new reference). */
static fl_status vars_union(fl_vars *a, const fl_vars *b, fl_vars **out)
{
  if (vars_same(a, b)) {
    a->refc++;
    *out = a;
    return FL_OK;
  }
  const char **names = malloc(sizeof *names * (size_t)(a->n + b->n + 1));
  if (!names) return oom();
  int n = 0;
  for (int i = 0; i < a->n; i++) names[n++] = a->names[i];
  for (int i = 0; i < b->n; i++) names[n++] = b->names[i];
  fl_status st = fl_vars_new(n, names, out);
  free(names);
  return st;
}

/* ------------------------------------------------------------ rational functions */

static fl_poly *poly_alloc(fl_vars *v)
{
  fl_poly *p = fl_calloc(1, sizeof *p);
  if (!p) return NULL;
  p->vars = v;
  v->refc++;
  fmpq_mpoly_init(p->num, v->ctx);
  fmpq_mpoly_init(p->den, v->ctx);
  fmpq_mpoly_one(p->den, v->ctx);
  return p;
}

void fl_poly_free(fl_poly *a)
{
  if (!a) return;
  fmpq_mpoly_clear(a->num, a->vars->ctx);
  fmpq_mpoly_clear(a->den, a->vars->ctx);
  fl_vars_release(a->vars);
  fl_free(a, sizeof *a);
}

fl_status fl_poly_zero_over(fl_vars *v, fl_poly **out)
{
  *out = poly_alloc(v);
  return *out ? FL_OK : oom();
}

fl_status fl_poly_normalize(fl_poly *a)
{
  const fmpq_mpoly_ctx_struct *ctx = a->vars->ctx;
  if (fmpq_mpoly_is_zero(a->den, ctx)) return fl_fail(FL_ERANGE, "division by zero");
  if (fmpq_mpoly_is_zero(a->num, ctx)) {
    fmpq_mpoly_one(a->den, ctx);
    return FL_OK;
  }
  if (fmpq_mpoly_is_fmpq(a->den, ctx)) {
    fmpq_t c;
    fmpq_init(c);
    fmpq_mpoly_get_fmpq(c, a->den, ctx);
    fmpq_mpoly_scalar_div_fmpq(a->num, a->num, c, ctx);
    fmpq_mpoly_one(a->den, ctx);
    fmpq_clear(c);
    return FL_OK;
  }
  fmpq_mpoly_t g;
  fmpq_mpoly_init(g, ctx);
  if (!fmpq_mpoly_gcd(g, a->num, a->den, ctx)) {
    fmpq_mpoly_clear(g, ctx);
    return fl_fail(FL_ERANGE, "polynomial gcd failed (exponents too large)");
  }
  if (!fmpq_mpoly_is_one(g, ctx)) {
    fmpq_mpoly_divides(a->num, a->num, g, ctx);
    fmpq_mpoly_divides(a->den, a->den, g, ctx);
  }
  fmpq_mpoly_clear(g, ctx);
  fmpq_t lc;
  fmpq_init(lc);
  fmpq_mpoly_get_term_coeff_fmpq(lc, a->den, 0, ctx);
  if (!fmpq_is_one(lc)) {
    fmpq_mpoly_scalar_div_fmpq(a->num, a->num, lc, ctx);
    fmpq_mpoly_scalar_div_fmpq(a->den, a->den, lc, ctx);
  }
  fmpq_clear(lc);
  return FL_OK;
}

fl_status fl_poly_lift(const fl_poly *a, fl_vars *v, fl_poly **out)
{
  *out = NULL;
  slong *map = malloc(sizeof *map * (size_t)(a->vars->n + 1));
  if (!map) return oom();
  for (int i = 0; i < a->vars->n; i++) {
    map[i] = fl_vars_index(v, a->vars->names[i]);
    if (map[i] < 0) {
      free(map);
      return fl_fail(FL_EINVAL, "variable '%s' is not in the target set", a->vars->names[i]);
    }
  }
  fl_poly *r = poly_alloc(v);
  if (!r) { free(map); return oom(); }
  fmpq_mpoly_compose_fmpq_mpoly_gen(r->num, a->num, map, a->vars->ctx, v->ctx);
  fmpq_mpoly_compose_fmpq_mpoly_gen(r->den, a->den, map, a->vars->ctx, v->ctx);
  free(map);
  *out = r;
  return FL_OK;
}

fl_status fl_poly_copy(const fl_poly *a, fl_poly **out)
{
  fl_poly *r = poly_alloc(a->vars);
  if (!r) return (*out = NULL), oom();
  fmpq_mpoly_set(r->num, a->num, a->vars->ctx);
  fmpq_mpoly_set(r->den, a->den, a->vars->ctx);
  *out = r;
  return FL_OK;
}

fl_status fl_poly_var(const char *name, fl_poly **out)
{
  *out = NULL;
  size_t n = strlen(name);
  if (n == 0 || n > FL_POLY_MAXNAME || !(isalpha((unsigned char)name[0]) || name[0] == '_'))
    return fl_fail(FL_EINVAL, "'%s' is not a variable name (letters, digits and _, not starting with a digit)", name);
  for (size_t i = 0; i < n; i++)
    if (!(isalnum((unsigned char)name[i]) || name[i] == '_'))
      return fl_fail(FL_EINVAL, "'%s' is not a variable name (letters, digits and _, not starting with a digit)", name);
  fl_vars *v;
  fl_status st = fl_vars_new(1, &name, &v);
  if (st) return st;
  fl_poly *r = poly_alloc(v);
  fl_vars_release(v);
  if (!r) return oom();
  fmpq_mpoly_gen(r->num, 0, v->ctx);
  *out = r;
  return FL_OK;
}

fl_status fl_poly_from_rat(const fl_rat *c, fl_poly **out)
{
  *out = NULL;
  fl_vars *v;
  fl_status st = fl_vars_new(0, NULL, &v);
  if (st) return st;
  fl_poly *r = poly_alloc(v);
  fl_vars_release(v);
  if (!r) return oom();
  fmpq_mpoly_set_fmpq(r->num, c->v, v->ctx);
  *out = r;
  return FL_OK;
}

fl_status fl_poly_from_si(long c, fl_poly **out)
{
  fl_rat r;
  fmpq_init(r.v);
  fmpq_set_si(r.v, c, 1);
  fl_status st = fl_poly_from_rat(&r, out);
  fmpq_clear(r.v);
  return st;
}

/* r = a op b, all three over the same variable set; r is fresh. */
static fl_status arith_same(fl_arith op, const fl_poly *a, const fl_poly *b, fl_poly *r)
{
  const fmpq_mpoly_ctx_struct *ctx = r->vars->ctx;
  int dens1 = fmpq_mpoly_is_one(a->den, ctx) && fmpq_mpoly_is_one(b->den, ctx);
  switch (op) {
  case FL_ARITH_ADD:
  case FL_ARITH_SUB:
    if (dens1) {
      if (op == FL_ARITH_ADD) fmpq_mpoly_add(r->num, a->num, b->num, ctx);
      else fmpq_mpoly_sub(r->num, a->num, b->num, ctx);
      return FL_OK;
    } else {
      fmpq_mpoly_t t;
      fmpq_mpoly_init(t, ctx);
      fmpq_mpoly_mul(r->num, a->num, b->den, ctx);
      fmpq_mpoly_mul(t, b->num, a->den, ctx);
      if (op == FL_ARITH_ADD) fmpq_mpoly_add(r->num, r->num, t, ctx);
      else fmpq_mpoly_sub(r->num, r->num, t, ctx);
      fmpq_mpoly_mul(r->den, a->den, b->den, ctx);
      fmpq_mpoly_clear(t, ctx);
    }
    break;
  case FL_ARITH_MUL:
    fmpq_mpoly_mul(r->num, a->num, b->num, ctx);
    if (dens1) return FL_OK;
    fmpq_mpoly_mul(r->den, a->den, b->den, ctx);
    break;
  case FL_ARITH_DIV:
    if (fmpq_mpoly_is_zero(b->num, ctx)) return fl_fail(FL_ERANGE, "division by zero");
    fmpq_mpoly_mul(r->num, a->num, b->den, ctx);
    fmpq_mpoly_mul(r->den, a->den, b->num, ctx);
    break;
  }
  return fl_poly_normalize(r);
}

fl_status fl_poly_arith(fl_arith op, const fl_poly *a, const fl_poly *b, fl_poly **out)
{
  *out = NULL;
  fl_vars *v;
  fl_status st = vars_union(a->vars, b->vars, &v);
  if (st) return st;
  fl_poly *al = NULL, *bl = NULL, *r = NULL;
  const fl_poly *aa = a, *bb = b;
  if (!vars_same(a->vars, v)) {
    if ((st = fl_poly_lift(a, v, &al))) goto done;
    aa = al;
  }
  if (!vars_same(b->vars, v)) {
    if ((st = fl_poly_lift(b, v, &bl))) goto done;
    bb = bl;
  }
  if (!(r = poly_alloc(v))) { st = oom(); goto done; }
  if ((st = arith_same(op, aa, bb, r))) { fl_poly_free(r); r = NULL; }
done:
  fl_poly_free(al);
  fl_poly_free(bl);
  fl_vars_release(v);
  *out = r;
  return st;
}

fl_status fl_poly_neg(const fl_poly *a, fl_poly **out)
{
  fl_status st = fl_poly_copy(a, out);
  if (st) return st;
  fmpq_mpoly_neg((*out)->num, (*out)->num, a->vars->ctx);
  return FL_OK;
}

fl_status fl_poly_pow(const fl_poly *a, long e, fl_poly **out)
{
  *out = NULL;
  const fmpq_mpoly_ctx_struct *ctx = a->vars->ctx;
  if (e > (1L << 16) || e < -(1L << 16)) return fl_fail(FL_ERANGE, "exponent %ld is too large (|e| <= 65536)", e);
  if (e < 0 && fmpq_mpoly_is_zero(a->num, ctx)) return fl_fail(FL_ERANGE, "division by zero (0 to a negative power)");
  fl_poly *r = poly_alloc(a->vars);
  if (!r) return oom();
  ulong k = (ulong)(e < 0 ? -e : e);
  int ok = fmpq_mpoly_pow_ui(r->num, e < 0 ? a->den : a->num, k, ctx) &&
           fmpq_mpoly_pow_ui(r->den, e < 0 ? a->num : a->den, k, ctx);
  fl_status st = ok ? (e < 0 ? fl_poly_normalize(r) : FL_OK) : fl_fail(FL_ERANGE, "power too large");
  if (st) { fl_poly_free(r); return st; }
  *out = r;
  return FL_OK;
}

int fl_poly_equal(const fl_poly *a, const fl_poly *b)
{
  if (vars_same(a->vars, b->vars))
    return fmpq_mpoly_equal(a->num, b->num, a->vars->ctx) && fmpq_mpoly_equal(a->den, b->den, a->vars->ctx);
  fl_poly *d;
  if (fl_poly_arith(FL_ARITH_SUB, a, b, &d)) return 0;
  int z = fmpq_mpoly_is_zero(d->num, d->vars->ctx);
  fl_poly_free(d);
  return z;
}

int fl_poly_is_polynomial(const fl_poly *a) { return fmpq_mpoly_is_one(a->den, a->vars->ctx); }
int fl_poly_is_zero(const fl_poly *a) { return fmpq_mpoly_is_zero(a->num, a->vars->ctx); }

int fl_poly_get_const(const fl_poly *a, fl_rat **out, fl_status *st)
{
  *out = NULL;
  *st = FL_OK;
  const fmpq_mpoly_ctx_struct *ctx = a->vars->ctx;
  if (!fmpq_mpoly_is_fmpq(a->num, ctx) || !fmpq_mpoly_is_one(a->den, ctx)) return 0;
  if ((*st = fl_rat_new(out))) return 0;
  fmpq_mpoly_get_fmpq((*out)->v, a->num, ctx);
  return 1;
}

int fl_poly_used_vars(const fl_poly *a, const char **names)
{
  int n = a->vars->n, m = 0;
  if (n == 0) return 0;
  slong *dn = malloc(sizeof *dn * (size_t)n * 2);
  if (!dn) return 0;
  fmpq_mpoly_degrees_si(dn, a->num, a->vars->ctx);
  fmpq_mpoly_degrees_si(dn + n, a->den, a->vars->ctx);
  for (int i = 0; i < n; i++)
    if (dn[i] > 0 || dn[n + i] > 0) {
      if (names) names[m] = a->vars->names[i];
      m++;
    }
  free(dn);
  return m;
}

long fl_poly_degree(const fl_poly *a, const char *var)
{
  if (!var) return (long)fmpq_mpoly_total_degree_si(a->num, a->vars->ctx);
  int i = fl_vars_index(a->vars, var);
  if (i < 0) return fmpq_mpoly_is_zero(a->num, a->vars->ctx) ? -1 : 0;
  return (long)fmpq_mpoly_degree_si(a->num, i, a->vars->ctx);
}

fl_status fl_poly_num(const fl_poly *a, fl_poly **out)
{
  fl_status st = fl_poly_copy(a, out);
  if (st) return st;
  fmpq_mpoly_one((*out)->den, a->vars->ctx);
  return FL_OK;
}

fl_status fl_poly_den(const fl_poly *a, fl_poly **out)
{
  fl_status st = fl_poly_copy(a, out);
  if (st) return st;
  fmpq_mpoly_set((*out)->num, a->den, a->vars->ctx);
  fmpq_mpoly_one((*out)->den, a->vars->ctx);
  return FL_OK;
}

/* a restricted to the variables it uses (a new value). */
static fl_status compact(const fl_poly *a, fl_poly **out)
{
  const char *names[FL_POLY_MAXVARS];
  int m = fl_poly_used_vars(a, names);
  if (m == a->vars->n) return fl_poly_copy(a, out);
  fl_vars *v;
  fl_status st = fl_vars_new(m, names, &v);
  if (st) return st;
  /* map by evaluation: unused variables do not occur, so compose with the
   * generators of v and zero for the rest */
  fl_poly *r = poly_alloc(v);
  if (!r) { fl_vars_release(v); return oom(); }
  int n = a->vars->n;
  fmpq_mpoly_struct *gens = malloc(sizeof *gens * (size_t)n);
  fmpq_mpoly_struct **C = malloc(sizeof *C * (size_t)n);
  if (!gens || !C) { free(gens); free(C); fl_poly_free(r); fl_vars_release(v); return oom(); }
  for (int i = 0; i < n; i++) {
    fmpq_mpoly_init(gens + i, v->ctx);
    int j = fl_vars_index(v, a->vars->names[i]);
    if (j >= 0) fmpq_mpoly_gen(gens + i, j, v->ctx);
    C[i] = gens + i;
  }
  int ok = fmpq_mpoly_compose_fmpq_mpoly(r->num, a->num, C, a->vars->ctx, v->ctx) &&
           fmpq_mpoly_compose_fmpq_mpoly(r->den, a->den, C, a->vars->ctx, v->ctx);
  for (int i = 0; i < n; i++) fmpq_mpoly_clear(gens + i, v->ctx);
  free(gens);
  free(C);
  fl_vars_release(v);
  if (!ok) { fl_poly_free(r); return fl_fail(FL_ERANGE, "composition failed (exponents too large)"); }
  *out = r;
  return FL_OK;
}

fl_status fl_poly_subs(const fl_poly *a, int n, const char *const *names, const fl_poly *const *vals,
                       fl_poly **out)
{
  *out = NULL;
  fl_status st;
  /* the target variable set: a's and every value's */
  fl_vars *v = a->vars;
  v->refc++;
  for (int i = 0; i < n; i++) {
    fl_vars *u;
    if ((st = vars_union(v, vals[i]->vars, &u))) { fl_vars_release(v); return st; }
    fl_vars_release(v);
    v = u;
  }
  int na = a->vars->n;
  fl_poly **sub = calloc((size_t)(na > 0 ? na : 1), sizeof *sub);
  fl_poly *acc = NULL, *term = NULL, *tmp = NULL, *r = NULL;
  if (!sub) { fl_vars_release(v); return oom(); }
  int allpoly = 1;
  for (int i = 0; i < na; i++) {
    const fl_poly *val = NULL;
    for (int k = 0; k < n; k++)
      if (strcmp(names[k], a->vars->names[i]) == 0) val = vals[k];
    if (val) {
      st = fl_poly_lift(val, v, &sub[i]);
    } else {
      if (!(sub[i] = poly_alloc(v))) st = oom();
      else { fmpq_mpoly_gen(sub[i]->num, fl_vars_index(v, a->vars->names[i]), v->ctx); st = FL_OK; }
    }
    if (st) goto done;
    allpoly = allpoly && fmpq_mpoly_is_one(sub[i]->den, v->ctx);
  }
  if (!(r = poly_alloc(v))) { st = oom(); goto done; }
  if (allpoly) {
    fmpq_mpoly_struct **C = malloc(sizeof *C * (size_t)(na > 0 ? na : 1));
    if (!C) { st = oom(); goto done; }
    for (int i = 0; i < na; i++) C[i] = sub[i]->num;
    int ok = fmpq_mpoly_compose_fmpq_mpoly(r->num, a->num, C, a->vars->ctx, v->ctx) &&
             fmpq_mpoly_compose_fmpq_mpoly(r->den, a->den, C, a->vars->ctx, v->ctx);
    free(C);
    if (!ok) { st = fl_fail(FL_ERANGE, "composition failed (exponents too large)"); goto done; }
    if (fmpq_mpoly_is_zero(r->den, v->ctx)) { st = fl_fail(FL_ERANGE, "division by zero: the denominator vanishes after substitution"); goto done; }
    if ((st = fl_poly_normalize(r))) goto done;
  } else {
    /* term by term in rational-function arithmetic, for num and den */
    fl_poly *parts[2] = {NULL, NULL};
    for (int which = 0; which < 2; which++) {
      const fmpq_mpoly_struct *P = which ? a->den : a->num;
      if ((st = fl_poly_zero_over(v, &acc))) goto done;
      ulong *ex = malloc(sizeof *ex * (size_t)(na > 0 ? na : 1));
      if (!ex) { st = oom(); goto done; }
      slong len = fmpq_mpoly_length(P, a->vars->ctx);
      for (slong k = 0; k < len && !st; k++) {
        fl_rat c;
        fmpq_init(c.v);
        fmpq_mpoly_get_term_coeff_fmpq(c.v, P, k, a->vars->ctx);
        fmpq_mpoly_get_term_exp_ui(ex, P, k, a->vars->ctx);
        st = fl_poly_zero_over(v, &term);
        if (!st) fmpq_mpoly_set_fmpq(term->num, c.v, v->ctx);
        fmpq_clear(c.v);
        for (int i = 0; i < na && !st; i++) {
          if (ex[i] == 0) continue;
          fl_poly *pw = NULL;
          if (!(st = fl_poly_pow(sub[i], (long)ex[i], &pw))) {
            st = fl_poly_arith(FL_ARITH_MUL, term, pw, &tmp);
            fl_poly_free(pw);
            if (!st) { fl_poly_free(term); term = tmp; tmp = NULL; }
          }
        }
        if (!st && !(st = fl_poly_arith(FL_ARITH_ADD, acc, term, &tmp))) {
          fl_poly_free(acc);
          acc = tmp;
          tmp = NULL;
        }
        fl_poly_free(term);
        term = NULL;
      }
      free(ex);
      if (st) { fl_poly_free(parts[0]); goto done; }
      parts[which] = acc;
      acc = NULL;
    }
    fl_poly_free(r);
    r = NULL;
    st = fl_poly_arith(FL_ARITH_DIV, parts[0], parts[1], &r);
    fl_poly_free(parts[0]);
    fl_poly_free(parts[1]);
    if (st) goto done;
  }
  st = compact(r, out);
done:
  fl_poly_free(r);
  fl_poly_free(acc);
  fl_poly_free(term);
  fl_poly_free(tmp);
  for (int i = 0; i < na; i++) fl_poly_free(sub[i]);
  free(sub);
  fl_vars_release(v);
  return st;
}

fl_status fl_poly_eval(const fl_poly *a, int n, const char *const *names, const fl_rat *const *vals,
                       fl_rat **out)
{
  *out = NULL;
  int na = a->vars->n;
  const char *used[FL_POLY_MAXVARS];
  int nu = fl_poly_used_vars(a, used);
  fmpq *pts = _fmpq_vec_init(na > 0 ? na : 1);
  fmpq **pp = malloc(sizeof *pp * (size_t)(na > 0 ? na : 1));
  if (!pp) { _fmpq_vec_clear(pts, na > 0 ? na : 1); return oom(); }
  fl_status st = FL_OK;
  for (int i = 0; i < na; i++) {
    pp[i] = pts + i;
    int given = 0;
    for (int k = 0; k < n; k++)
      if (strcmp(names[k], a->vars->names[i]) == 0) { fmpq_set(pts + i, vals[k]->v); given = 1; }
    if (!given)
      for (int u = 0; u < nu; u++)
        if (strcmp(used[u], a->vars->names[i]) == 0) {
          st = fl_fail(FL_EINVAL, "no value for variable '%s'", used[u]);
          goto done;
        }
  }
  fmpq_t vn, vd;
  fmpq_init(vn);
  fmpq_init(vd);
  if (!fmpq_mpoly_evaluate_all_fmpq(vn, a->num, pp, a->vars->ctx) ||
      !fmpq_mpoly_evaluate_all_fmpq(vd, a->den, pp, a->vars->ctx)) {
    st = fl_fail(FL_ERANGE, "evaluation failed (numbers too large)");
  } else if (fmpq_is_zero(vd)) {
    st = fl_fail(FL_ERANGE, "division by zero: the denominator vanishes there");
  } else if (!(st = fl_rat_new(out))) {
    fmpq_div((*out)->v, vn, vd);
  }
  fmpq_clear(vn);
  fmpq_clear(vd);
done:
  free(pp);
  _fmpq_vec_clear(pts, na > 0 ? na : 1);
  return st;
}

static char *mpoly_str(const fmpq_mpoly_t p, const fl_vars *v)
{
  char *f = fmpq_mpoly_get_str_pretty(p, (const char **)v->names, v->ctx);
  if (!f) return NULL;
  char *s = dupstr(f);
  flint_free(f);
  return s;
}

char *fl_poly_str(const fl_poly *a)
{
  char *n = mpoly_str(a->num, a->vars);
  if (!n || fl_poly_is_polynomial(a)) return n;
  char *d = mpoly_str(a->den, a->vars);
  if (!d) { free(n); return NULL; }
  int pn = strchr(n, ' ') != NULL, pd = strpbrk(d, " */") != NULL;
  size_t len = strlen(n) + strlen(d) + 8;
  char *s = malloc(len);
  if (s) snprintf(s, len, "%s%s%s/%s%s%s", pn ? "(" : "", n, pn ? ")" : "", pd ? "(" : "", d, pd ? ")" : "");
  free(n);
  free(d);
  return s;
}


/* ------------------------------------------------------------ matrices */

static void free_polys(fl_poly **a, int n)
{
  if (!a) return;
  for (int k = 0; k < n; k++) {
    fl_poly_free(a[k]);
    a[k] = NULL;
  }
}

static fl_status mat_check(int r)
{
  if (r < 1 || r > 16) return fl_fail(FL_ERANGE, "matrices must be 1x1 to 16x16, not %dx%d", r, r);
  return FL_OK;
}

fl_status fl_poly_mat_mul(int r, const fl_poly *const *A, const fl_poly *const *B, fl_poly **C)
{
  fl_status st = mat_check(r);
  if (st) return st;
  for (int k = 0; k < r * r; k++) C[k] = NULL;
  fl_poly *t = NULL, *s = NULL;
  for (int i = 0; i < r && !st; i++)
    for (int j = 0; j < r && !st; j++) {
      fl_poly *acc = NULL;
      if ((st = fl_poly_from_si(0, &acc))) break;
      for (int k = 0; k < r && !st; k++) {
        if (fl_poly_is_zero(A[i * r + k]) || fl_poly_is_zero(B[k * r + j])) continue;
        if ((st = fl_poly_arith(FL_ARITH_MUL, A[i * r + k], B[k * r + j], &t))) break;
        st = fl_poly_arith(FL_ARITH_ADD, acc, t, &s);
        fl_poly_free(t);
        t = NULL;
        if (!st) { fl_poly_free(acc); acc = s; s = NULL; }
      }
      C[i * r + j] = acc;
    }
  if (st) free_polys(C, r * r);
  return st;
}

/* Gauss-Jordan on a copy of A; with inv != NULL the inverse goes there,
 * with det != NULL the determinant. */
static fl_status gauss(int r, const fl_poly *const *A, fl_poly **inv, fl_poly **det)
{
  fl_status st = mat_check(r);
  if (st) return st;
  int rr = r * r;
  fl_poly **a = calloc((size_t)rr, sizeof *a), **b = calloc((size_t)rr, sizeof *b);
  fl_poly *d = NULL, *f = NULL, *t = NULL, *s = NULL;
  if (!a || !b) { free(a); free(b); return oom(); }
  for (int k = 0; k < rr && !st; k++) {
    st = fl_poly_copy(A[k], &a[k]);
    if (!st) st = fl_poly_from_si(k / r == k % r, &b[k]);
  }
  if (!st) st = fl_poly_from_si(1, &d);
  for (int c = 0; c < r && !st; c++) {
    int p = -1;
    for (int i = c; i < r; i++)
      if (!fl_poly_is_zero(a[i * r + c])) { p = i; break; }
    if (p < 0) {
      if (det) {
        fl_poly_free(d);
        d = NULL;
        st = fl_poly_from_si(0, &d);
        break;
      }
      st = fl_fail(FL_ESINGULAR, "the matrix is singular (its determinant is identically 0)");
      break;
    }
    if (p != c) {
      for (int j = 0; j < r; j++) {
        fl_poly *x = a[p * r + j]; a[p * r + j] = a[c * r + j]; a[c * r + j] = x;
        x = b[p * r + j]; b[p * r + j] = b[c * r + j]; b[c * r + j] = x;
      }
      if ((st = fl_poly_neg(d, &t))) break;
      fl_poly_free(d);
      d = t;
      t = NULL;
    }
    /* d *= pivot; row c /= pivot */
    if ((st = fl_poly_arith(FL_ARITH_MUL, d, a[c * r + c], &t))) break;
    fl_poly_free(d);
    d = t;
    t = NULL;
    if ((st = fl_poly_copy(a[c * r + c], &f))) break;
    for (int j = 0; j < r && !st; j++) {
      if (!(st = fl_poly_arith(FL_ARITH_DIV, a[c * r + j], f, &t))) { fl_poly_free(a[c * r + j]); a[c * r + j] = t; t = NULL; }
      if (!st && !(st = fl_poly_arith(FL_ARITH_DIV, b[c * r + j], f, &t))) { fl_poly_free(b[c * r + j]); b[c * r + j] = t; t = NULL; }
    }
    fl_poly_free(f);
    f = NULL;
    for (int i = 0; i < r && !st; i++) {
      if (i == c || fl_poly_is_zero(a[i * r + c])) continue;
      if ((st = fl_poly_copy(a[i * r + c], &f))) break;
      for (int j = 0; j < r && !st; j++) {
        if (!(st = fl_poly_arith(FL_ARITH_MUL, f, a[c * r + j], &t))) {
          st = fl_poly_arith(FL_ARITH_SUB, a[i * r + j], t, &s);
          fl_poly_free(t);
          t = NULL;
          if (!st) { fl_poly_free(a[i * r + j]); a[i * r + j] = s; s = NULL; }
        }
        if (!st && inv && !(st = fl_poly_arith(FL_ARITH_MUL, f, b[c * r + j], &t))) {
          st = fl_poly_arith(FL_ARITH_SUB, b[i * r + j], t, &s);
          fl_poly_free(t);
          t = NULL;
          if (!st) { fl_poly_free(b[i * r + j]); b[i * r + j] = s; s = NULL; }
        }
      }
      fl_poly_free(f);
      f = NULL;
    }
  }
  if (!st && inv)
    for (int k = 0; k < rr; k++) { inv[k] = b[k]; b[k] = NULL; }
  if (!st && det) { *det = d; d = NULL; }
  free_polys(a, rr);
  free_polys(b, rr);
  free(a);
  free(b);
  fl_poly_free(d);
  fl_poly_free(f);
  fl_poly_free(t);
  fl_poly_free(s);
  return st;
}

fl_status fl_poly_mat_inv(int r, const fl_poly *const *A, fl_poly **out)
{
  for (int k = 0; k < r * r && r >= 1 && r <= 16; k++) out[k] = NULL;
  return gauss(r, A, out, NULL);
}

fl_status fl_poly_mat_det(int r, const fl_poly *const *A, fl_poly **out)
{
  *out = NULL;
  return gauss(r, A, NULL, out);
}

/* ------------------------------------------------------------ parser */

typedef struct parser {
  const char *s;
  size_t i;
  fl_vars *v;
  fl_status st;
} parser;

static void skip(parser *p)
{
  while (isspace((unsigned char)p->s[p->i])) p->i++;
}

static fl_poly *perr(parser *p, const char *expect)
{
  if (p->st) return NULL;
  if (p->s[p->i] == '\0')
    p->st = fl_fail(FL_EFORMAT, "\"%s\": unexpected end at position %zu (expected %s)", p->s, p->i + 1, expect);
  else
    p->st = fl_fail(FL_EFORMAT, "\"%s\": unexpected '%c' at position %zu (expected %s)", p->s, p->s[p->i], p->i + 1,
                    expect);
  return NULL;
}

static fl_poly *binop(parser *p, fl_arith op, fl_poly *a, fl_poly *b)
{
  fl_poly *r = NULL;
  if (a && b) {
    r = poly_alloc(p->v);
    if (!r) p->st = oom();
    else if ((p->st = arith_same(op, a, b, r))) { fl_poly_free(r); r = NULL; }
  }
  fl_poly_free(a);
  fl_poly_free(b);
  return r;
}

static fl_poly *parse_expr(parser *p);

static fl_poly *parse_atom(parser *p)
{
  skip(p);
  char c = p->s[p->i];
  if (c == '(') {
    p->i++;
    fl_poly *e = parse_expr(p);
    if (!e) return NULL;
    skip(p);
    if (p->s[p->i] != ')') { fl_poly_free(e); return perr(p, "')'"); }
    p->i++;
    return e;
  }
  if (isalpha((unsigned char)c) || c == '_') {
    size_t j = p->i;
    while (isalnum((unsigned char)p->s[j]) || p->s[j] == '_') j++;
    char name[FL_POLY_MAXNAME + 1];
    size_t n = j - p->i;
    if (n > FL_POLY_MAXNAME) {
      p->st = fl_fail(FL_EFORMAT, "\"%s\": variable name too long at position %zu", p->s, p->i + 1);
      return NULL;
    }
    memcpy(name, p->s + p->i, n);
    name[n] = '\0';
    p->i = j;
    fl_poly *r = poly_alloc(p->v);
    if (!r) { p->st = oom(); return NULL; }
    fmpq_mpoly_gen(r->num, fl_vars_index(p->v, name), p->v->ctx);
    return r;
  }
  if (isdigit((unsigned char)c) || c == '.') {
    fmpq_t q;
    fmpq_init(q);
    size_t n = scan_decimal(p->s + p->i, q);
    if (n == 0) { fmpq_clear(q); return perr(p, "a number, a variable or '('"); }
    p->i += n;
    fl_poly *r = poly_alloc(p->v);
    if (!r) p->st = oom();
    else fmpq_mpoly_set_fmpq(r->num, q, p->v->ctx);
    fmpq_clear(q);
    return r;
  }
  return perr(p, "a number, a variable or '('");
}

static fl_poly *parse_power(parser *p)
{
  fl_poly *b = parse_atom(p);
  if (!b) return NULL;
  skip(p);
  int star2 = p->s[p->i] == '*' && p->s[p->i + 1] == '*';
  if (p->s[p->i] != '^' && !star2) return b;
  p->i += star2 ? 2 : 1;
  skip(p);
  int neg = 0;
  if (p->s[p->i] == '-' || p->s[p->i] == '+') neg = p->s[p->i++] == '-';
  int paren = 0;
  if (!neg && p->s[p->i] == '(') {
    /* ^(-2) */
    paren = 1;
    p->i++;
    skip(p);
    if (p->s[p->i] == '-' || p->s[p->i] == '+') neg = p->s[p->i++] == '-';
  }
  if (!isdigit((unsigned char)p->s[p->i])) { fl_poly_free(b); return perr(p, "an integer exponent"); }
  long e = 0;
  while (isdigit((unsigned char)p->s[p->i])) {
    if (e <= 100000000) e = 10 * e + (p->s[p->i] - '0');
    p->i++;
  }
  if (paren) {
    skip(p);
    if (p->s[p->i] != ')') { fl_poly_free(b); return perr(p, "')'"); }
    p->i++;
  }
  fl_poly *r = NULL;
  fl_status st = fl_poly_pow(b, neg ? -e : e, &r);
  fl_poly_free(b);
  if (st) {
    p->st = fl_fail(st, "\"%s\": %s (the power ending at position %zu)", p->s, fl_last_detail(), p->i);
    return NULL;
  }
  skip(p);
  if (p->s[p->i] == '^') return perr(p, "an operator other than a second '^' (write (a^b)^c)");
  return r;
}

static fl_poly *parse_unary(parser *p)
{
  skip(p);
  if (p->s[p->i] == '-') {
    p->i++;
    fl_poly *a = parse_unary(p);
    if (a) fmpq_mpoly_neg(a->num, a->num, p->v->ctx);
    return a;
  }
  if (p->s[p->i] == '+') {
    p->i++;
    return parse_unary(p);
  }
  return parse_power(p);
}

static fl_poly *parse_term(parser *p)
{
  fl_poly *a = parse_unary(p);
  while (a) {
    skip(p);
    char c = p->s[p->i];
    if (c == '*' && p->s[p->i + 1] != '*') {
      p->i++;
      a = binop(p, FL_ARITH_MUL, a, parse_unary(p));
    } else if (c == '/') {
      size_t at = p->i;
      p->i++;
      fl_poly *b = parse_unary(p);
      if (b && fmpq_mpoly_is_zero(b->num, p->v->ctx)) {
        fl_poly_free(a);
        fl_poly_free(b);
        p->st = fl_fail(FL_ERANGE, "\"%s\": division by zero at position %zu", p->s, at + 1);
        return NULL;
      }
      a = binop(p, FL_ARITH_DIV, a, b);
    } else {
      break;
    }
  }
  return a;
}

static fl_poly *parse_expr(parser *p)
{
  fl_poly *a = parse_term(p);
  while (a) {
    skip(p);
    char c = p->s[p->i];
    if (c != '+' && c != '-') break;
    p->i++;
    a = binop(p, c == '+' ? FL_ARITH_ADD : FL_ARITH_SUB, a, parse_term(p));
  }
  return a;
}

fl_status fl_poly_parse(const char *s, fl_poly **out)
{
  *out = NULL;
  /* collect the identifiers first: every value of the parse lives over them */
  const char *names[FL_POLY_MAXVARS];
  char buf[FL_POLY_MAXVARS][FL_POLY_MAXNAME + 1];
  int n = 0;
  for (size_t i = 0; s[i];) {
    if (isalpha((unsigned char)s[i]) || s[i] == '_') {
      size_t j = i;
      while (isalnum((unsigned char)s[j]) || s[j] == '_') j++;
      if (j - i <= FL_POLY_MAXNAME && !(i > 0 && (isdigit((unsigned char)s[i - 1]) || s[i - 1] == '.') &&
                                        (s[i] == 'e' || s[i] == 'E') && 0)) {
        char tmp[FL_POLY_MAXNAME + 1];
        memcpy(tmp, s + i, j - i);
        tmp[j - i] = '\0';
        int dup = 0;
        for (int k = 0; k < n; k++) dup = dup || strcmp(buf[k], tmp) == 0;
        if (!dup) {
          if (n == FL_POLY_MAXVARS) return fl_fail(FL_ERANGE, "\"%s\": more than %d variables", s, FL_POLY_MAXVARS);
          memcpy(buf[n], tmp, j - i + 1);
          names[n] = buf[n];
          n++;
        }
      }
      i = j;
    } else if (isdigit((unsigned char)s[i]) || s[i] == '.') {
      /* skip a number, including an exponent "1e-3" */
      fmpq_t q;
      fmpq_init(q);
      size_t k = scan_decimal(s + i, q);
      fmpq_clear(q);
      i += k ? k : 1;
    } else {
      i++;
    }
  }
  parser p = {s, 0, NULL, FL_OK};
  fl_status st = fl_vars_new(n, names, &p.v);
  if (st) return st;
  fl_poly *r = parse_expr(&p);
  if (r) {
    skip(&p);
    if (s[p.i] != '\0') {
      fl_poly_free(r);
      r = perr(&p, "an operator");
    }
  }
  fl_vars_release(p.v);
  if (!r) return p.st ? p.st : oom();
  *out = r;
  return FL_OK;
}
