/* fl_poly: exact rationals and multivariate rational functions over Q
 * (FLINT fmpq / fmpq_mpoly). Part of libfieldlab: pure C11, no Lua, no
 * printing, no exit.
 *
 * An fl_poly is a rational function num/den in named variables: num and den
 * are coprime polynomials over Q and den is monic (leading coefficient 1 in
 * degree-lexicographic order), so den == 1 exactly when the value is a
 * polynomial and two equal rational functions have equal parts. Each value
 * carries its variable set (sorted by name; shared, reference counted);
 * operations on values with different variable sets work over the union.
 * Values are immutable: every operation returns a new object that the
 * caller owns (free with fl_poly_free / fl_rat_free). */
#ifndef FL_POLY_H
#define FL_POLY_H

#include <stddef.h>
#include <flint/fmpq.h>
#include <flint/fmpq_mpoly.h>
#include "fl_core.h"

/* ------------------------------------------------------------ rationals */

typedef struct fl_rat { fmpq_t v; } fl_rat;

typedef enum fl_arith { FL_ARITH_ADD, FL_ARITH_SUB, FL_ARITH_MUL, FL_ARITH_DIV } fl_arith;

fl_status fl_rat_new(fl_rat **out);                       /* 0 */
fl_status fl_rat_from_si(long v, fl_rat **out);
/* "p", "p/q", "-12.375", "1e-3", "2.5e10" (exact decimal value). Spaces
 * around the number are allowed; anything else is FL_EFORMAT naming the
 * position. */
fl_status fl_rat_from_str(const char *s, fl_rat **out);
/* The exact binary value of a finite double (FL_ENAN otherwise). */
fl_status fl_rat_from_double(double d, fl_rat **out);
fl_status fl_rat_copy(const fl_rat *a, fl_rat **out);
void fl_rat_free(fl_rat *a);
/* a op b; division by zero is FL_ERANGE. */
fl_status fl_rat_arith(fl_arith op, const fl_rat *a, const fl_rat *b, fl_rat **out);
fl_status fl_rat_neg(const fl_rat *a, fl_rat **out);
/* a^e; a negative e needs a != 0. |e| <= 2^20. */
fl_status fl_rat_pow(const fl_rat *a, long e, fl_rat **out);
int fl_rat_cmp(const fl_rat *a, const fl_rat *b);
int fl_rat_sign(const fl_rat *a);
int fl_rat_is_integer(const fl_rat *a);
/* Numerator and denominator (denominator > 0) as integer rationals. */
fl_status fl_rat_num(const fl_rat *a, fl_rat **out);
fl_status fl_rat_den(const fl_rat *a, fl_rat **out);
/* Nearest double (correctly rounded; +-HUGE_VAL beyond the range). */
double fl_rat_to_double(const fl_rat *a);
/* "p" or "p/q" in base 10; the caller frees with fl_str_free. NULL when out
 * of memory. */
char *fl_rat_str(const fl_rat *a);
/* Bits of numerator plus denominator (for memory accounting). */
size_t fl_rat_bits(const fl_rat *a);
void fl_str_free(char *s);

/* ------------------------------------------------------------ rational functions */

/* The shared variable set of a value (and its FLINT context). */
typedef struct fl_vars {
  int refc;
  int n;
  char **names; /* sorted, distinct */
  fmpq_mpoly_ctx_t ctx;
} fl_vars;

typedef struct fl_poly {
  fl_vars *vars;
  fmpq_mpoly_t num, den;
} fl_poly;

/* Longest variable name, and the most variables one value may have. */
#define FL_POLY_MAXNAME 64
#define FL_POLY_MAXVARS 64

/* Parse "x^3 + 2*x^2*y - 7/2", "(x+1)^3/(y-2)", "0.5*x". Grammar: numbers
 * (integers, decimals, exponents), identifiers [A-Za-z_][A-Za-z0-9_]*,
 * + - * / ^ (or **) with integer exponents, parentheses. A malformed string
 * is FL_EFORMAT with the 1-based position: "unexpected ')' at position 7".
 * Division by zero is FL_ERANGE. */
fl_status fl_poly_parse(const char *s, fl_poly **out);
fl_status fl_poly_var(const char *name, fl_poly **out);
fl_status fl_poly_from_rat(const fl_rat *c, fl_poly **out);
fl_status fl_poly_from_si(long c, fl_poly **out);
fl_status fl_poly_copy(const fl_poly *a, fl_poly **out);
void fl_poly_free(fl_poly *a);

/* a op b over the union of the variables; dividing by zero is FL_ERANGE. */
fl_status fl_poly_arith(fl_arith op, const fl_poly *a, const fl_poly *b, fl_poly **out);
fl_status fl_poly_neg(const fl_poly *a, fl_poly **out);
/* a^e, e >= 0, or e < 0 for a != 0. */
fl_status fl_poly_pow(const fl_poly *a, long e, fl_poly **out);
int fl_poly_equal(const fl_poly *a, const fl_poly *b);
int fl_poly_is_polynomial(const fl_poly *a);
int fl_poly_is_zero(const fl_poly *a);
/* The constant value when a is constant (returns 1), else 0. */
int fl_poly_get_const(const fl_poly *a, fl_rat **out, fl_status *st);
/* Names of the variables a actually depends on (pointers into a; valid while
 * a lives). Returns the count; names may be NULL to count only. */
int fl_poly_used_vars(const fl_poly *a, const char **names);
/* Degree of the numerator in var (total degree when var is NULL); -1 for 0. */
long fl_poly_degree(const fl_poly *a, const char *var);
fl_status fl_poly_num(const fl_poly *a, fl_poly **out);
fl_status fl_poly_den(const fl_poly *a, fl_poly **out);

/* Substitute var names[i] := vals[i] (any rational functions); variables not
 * named stay. A value whose denominator becomes 0 is FL_ERANGE. */
fl_status fl_poly_subs(const fl_poly *a, int n, const char *const *names, const fl_poly *const *vals,
                       fl_poly **out);
/* Exact value at names[i] = vals[i]; every variable a depends on must be
 * given (FL_EINVAL naming the missing one), a vanishing denominator is
 * FL_ERANGE. Names that a does not use are ignored. */
fl_status fl_poly_eval(const fl_poly *a, int n, const char *const *names, const fl_rat *const *vals,
                       fl_rat **out);
/* "x^3 + 2*x^2*y - 7/2", "(x + 1)/(y - 2)"; free with fl_str_free. NULL when
 * out of memory. */
char *fl_poly_str(const fl_poly *a);

/* ------------------------------------------------------------ matrices of rational functions */

/* r x r matrices (1 <= r <= 16), row-major arrays of r*r values; out gets
 * r*r new values (the caller frees each; the array itself is the caller's). */
/* C = A B. */
fl_status fl_poly_mat_mul(int r, const fl_poly *const *A, const fl_poly *const *B, fl_poly **C);
/* The inverse of A by Gauss-Jordan elimination over the rational functions;
 * FL_ESINGULAR when det A is identically 0. */
fl_status fl_poly_mat_inv(int r, const fl_poly *const *A, fl_poly **out);
/* The determinant (fraction-free elimination over the rational functions). */
fl_status fl_poly_mat_det(int r, const fl_poly *const *A, fl_poly **out);

/* ------------------------------------------------------------ internals shared with fl_cmf */

/* A variable set with the given names (sorted and deduplicated here). */
fl_status fl_vars_new(int n, const char *const *names, fl_vars **out);
void fl_vars_release(fl_vars *v);
int fl_vars_index(const fl_vars *v, const char *name);
/* a lifted to the variable set v (which must contain a's variables). */
fl_status fl_poly_lift(const fl_poly *a, fl_vars *v, fl_poly **out);
/* An uninitialised-to-zero value over v (takes a reference to v). */
fl_status fl_poly_zero_over(fl_vars *v, fl_poly **out);
/* Cancel the gcd and make den monic (num/den set directly by the caller). */
fl_status fl_poly_normalize(fl_poly *a);

#endif
