/* fl_cmf: conservative matrix fields, exact walks and limits, polynomial
 * continued fractions, MPFR reals and constants. Part of libfieldlab: pure
 * C11, no Lua, no printing, no exit.
 *
 * Conventions are those of RamanujanMachine/ramanujantools (see
 * shared/reference/cmf.md): matrices act on row vectors from the right,
 * products run left to right, W_N = M_t(s) M_t(s+t) ... M_t(s+(N-1)t),
 * p = W[0][r-1], q = W[1][r-1] (a PCF premultiplies by A = [[1,a(0)],[0,1]]),
 * precision = floor(-log10 |p/q(W_N) - p/q(W_{N-1})|) (100 when equal, 0
 * when undefined), delta = -1 - log|L - p/q| / log q with p/q reduced. */
#ifndef FL_CMF_H
#define FL_CMF_H

#include <stdint.h>
#include <mpfr.h>
#include "fl_core.h"
#include "fl_poly.h"

#define FL_CMF_MAXRANK 8
#define FL_CMF_MAXDIM 8

/* ------------------------------------------------------------ MPFR reals */

/* A real number with a given number of significant decimal digits (its
 * MPFR precision is about 3.32 bits per digit plus guard bits). */
typedef struct fl_real fl_real;

/* A decimal string ("3.14159", "-1.2e-5"); its accuracy is the number of
 * significant digits written (at least 17 are kept). */
fl_status fl_real_from_str(const char *s, fl_real **out);
fl_status fl_real_from_rat(const fl_rat *a, long digits, fl_real **out);
fl_status fl_real_from_double(double d, fl_real **out);  /* 17 digits */
void fl_real_free(fl_real *a);
/* a op b at the smaller accuracy of the two (an exact operand - a rational
 * - is given with digits <= 0 to fl_real_from_rat by the caller). */
fl_status fl_real_arith(fl_arith op, const fl_real *a, const fl_real *b, fl_real **out);
fl_status fl_real_neg(const fl_real *a, fl_real **out);
long fl_real_digits(const fl_real *a);
/* The MPFR value inside (valid while a lives), and a real from an MPFR
 * value rounded to `digits` significant digits (FL_ENAN when not finite). */
mpfr_srcptr fl_real_mpfr(const fl_real *a);
fl_status fl_real_from_mpfr(mpfr_srcptr x, long digits, fl_real **out);
double fl_real_to_double(const fl_real *a);
int fl_real_cmp(const fl_real *a, const fl_real *b);
/* Decimal text with `digits` significant digits (<= 0: the value's own);
 * free with fl_str_free; NULL when out of memory. */
char *fl_real_str(const fl_real *a, long digits);

/* Constants to `digits` significant digits (1 .. 10^7): "pi", "e", "log2",
 * "catalan", "euler", "gompertz" (G = e E1(1) = -e Ei(-1)), and "zeta"
 * with k >= 2 (k is ignored otherwise). */
fl_status fl_const(const char *name, long k, long digits, fl_real **out);

/* ------------------------------------------------------------ matrix functions of n */

/* An r x r matrix of rational functions of one variable n, M(n), kept both
 * symbolically and as M(n) = (S(n)/D(n)) A(n) with A primitive over Z[n].
 * Reference counted: walks and limits share it. */
typedef struct fl_mfun fl_mfun;

void fl_mfun_retain(fl_mfun *m);
void fl_mfun_release(fl_mfun *m);
int fl_mfun_rank(const fl_mfun *m);
/* Entry (i, j), 0-based, as a rational function in the variable "n". */
fl_status fl_mfun_entry(const fl_mfun *m, int i, int j, fl_poly **out);

/* The exact products W_d = M(n0) M(n0+1) ... M(n0+d-1) for the sorted
 * distinct depths d >= 1; out gets ndepths*r*r rationals (row-major per
 * depth; the caller frees each and owns the array, allocated with malloc).
 * sequential != 0 multiplies one step at a time instead of the balanced
 * product tree (for checking and benchmarking: the results are identical).
 * A pole (D(n) = 0) at a step is FL_ESINGULAR naming n. */
fl_status fl_mfun_walk(const fl_mfun *m, long n0, int ndepths, const long *depths, int sequential,
                       fl_rat ***out);

/* ------------------------------------------------------------ limits */

typedef struct fl_limit fl_limit;

/* The limit object of W_N = M(n0)...M(n0+N-1), N >= 1, with initial values
 * iv (2*r rationals, row-major, or NULL for rows e_0, e_1). */
fl_status fl_mfun_limit(fl_mfun *m, long n0, long N, const fl_rat *const *iv, int sequential, fl_limit **out);
void fl_limit_free(fl_limit *l);
long fl_limit_depth(const fl_limit *l);
/* Exact p and q (entries of IV W_N, including every scalar factor). */
fl_status fl_limit_pq(const fl_limit *l, fl_rat **p, fl_rat **q);
/* The reduced p/q; FL_ERANGE when q = 0 (undefined). */
fl_status fl_limit_rational(const fl_limit *l, fl_rat **out);
long fl_limit_precision(const fl_limit *l);
/* p/q to `digits` significant digits (<= 0: max(1.1 precision, 15), as
 * ramanujantools' as_float); more than that is FL_ERANGE, said plainly. */
fl_status fl_limit_value(const fl_limit *l, long digits, fl_real **out);
/* delta against L, or blind (L = NULL: the limit at depth 2N). An L with
 * too few digits for the convergent's error is FL_ERANGE. +-HUGE_VAL for
 * q = 1 / q = 0. */
fl_status fl_limit_delta(const fl_limit *l, const fl_real *L, double *out);
/* Bits of q (size of the convergent). */
size_t fl_limit_bits(const fl_limit *l);

/* ------------------------------------------------------------ CMFs */

typedef struct fl_cmf fl_cmf;

/* dim axes (distinct names, not "n"), one rank x rank matrix per axis:
 * M[a*rank*rank + i*rank + j]. Entries may use further variables
 * (parameters). 2 <= rank <= 8, 1 <= dim <= 8. */
fl_status fl_cmf_new(int dim, const char *const *axes, int rank, const fl_poly *const *M, fl_cmf **out);
/* The same with declared parameters: params[0..np-1] are parameters even
 * where no entry uses them (distinct from the axes, not "n"), and any other
 * non-axis variable of an entry is FL_EINVAL naming the entry. */
fl_status fl_cmf_new_params(int dim, const char *const *axes, int np, const char *const *params, int rank,
                            const fl_poly *const *M, fl_cmf **out);
void fl_cmf_free(fl_cmf *c);
/* The parameters: the variables that are not axes, sorted by name (the
 * names are valid while c lives). */
int fl_cmf_nparams(const fl_cmf *c);
const char *fl_cmf_param(const fl_cmf *c, int k);
/* The field with parameters names[i] := vals[i] (rational functions of the
 * remaining parameters, or numbers). Naming an axis or a name that is no
 * parameter is FL_EINVAL. */
fl_status fl_cmf_subs(const fl_cmf *c, int n, const char *const *names, const fl_poly *const *vals, fl_cmf **out);
/* The dual field M_a -> (M_a^-1)^T (conservative when c is: the walk from P
 * to Q becomes (W^-1)^T); FL_ESINGULAR when an M_a is singular. */
fl_status fl_cmf_dual(const fl_cmf *c, fl_cmf **out);
/* The coboundary M_a(P) -> U(P)^-1 M_a(P) U(P + e_a) by the r x r matrix U
 * (rational functions of the axes and parameters; the walk from P to Q
 * becomes U(P)^-1 W U(Q)); FL_ESINGULAR when det U = 0 identically. */
fl_status fl_cmf_coboundary(const fl_cmf *c, const fl_poly *const *U, fl_cmf **out);
int fl_cmf_dim(const fl_cmf *c);
int fl_cmf_rank(const fl_cmf *c);
const char *fl_cmf_axis(const fl_cmf *c, int a);
fl_status fl_cmf_entry(const fl_cmf *c, int a, int i, int j, fl_poly **out);

/* Conservativity: M_a(P) M_b(P+e_a) = M_b(P) M_a(P+e_b) for all a < b.
 * First `trials` random evaluations modulo the prime 2^61-1 (a mismatch
 * proves non-conservativity); then, when exact, the polynomial identity
 * after clearing denominators. *ok: 1 or 0; *fa, *fb: the first failing
 * pair (or -1). */
fl_status fl_cmf_check(const fl_cmf *c, int exact, int trials, uint64_t seed, int *ok, int *fa, int *fb);

/* The trajectory matrix M_t(P) at P = s + n t (symbolic in n): the product
 * along a lattice path from P to P+t (negative components step backwards
 * with inverse matrices). Axis orders are tried until no factor is
 * identically singular; FL_ESINGULAR when every order is. t has dim
 * integers (not all 0), s dim rationals. */
fl_status fl_cmf_trajectory(const fl_cmf *c, const long *t, const fl_rat *const *s, fl_mfun **out);

/* The exact product along a path of unit steps from `from`: steps[k] = +-(a+1)
 * for a step along axis a. out: r*r rationals (malloc'd array). */
fl_status fl_cmf_work(const fl_cmf *c, const fl_rat *const *from, int nsteps, const int *steps, fl_rat ***out);

/* ------------------------------------------------------------ PCFs */

typedef struct fl_pcf fl_pcf;

/* PCF(a, b): a, b polynomials in n (or constants) over Q. */
fl_status fl_pcf_new(const fl_poly *a, const fl_poly *b, fl_pcf **out);
void fl_pcf_free(fl_pcf *p);
fl_status fl_pcf_a(const fl_pcf *p, fl_poly **out);
fl_status fl_pcf_b(const fl_pcf *p, fl_poly **out);
/* W = A M(start) ... M(start+N-1) (start = 1 is the usual convergent). */
fl_status fl_pcf_limit(const fl_pcf *p, long N, long start, int sequential, fl_limit **out);
/* Remove the largest c(n) with c | a and c(n)c(n-1) | b (a, b over Z):
 * fl_pcf_deflate by that c, so convergents become p/(c(0) q). */
fl_status fl_pcf_deflate_all(const fl_pcf *p, fl_pcf **out);
/* Inflation by a nonzero polynomial c(n) over Q, as ramanujantools'
 * PCF.inflate: PCF(c(n) a(n), c(n-1) c(n) b(n)). a(0) is inflated too, so
 * every convergent p/q becomes c(0) p/q (the limit is c(0) times the
 * original's; unchanged when c(0) = 1). c with another variable, a
 * non-polynomial c or c = 0 is FL_EINVAL. */
fl_status fl_pcf_inflate(const fl_pcf *p, const fl_poly *c, fl_pcf **out);
/* The exact inverse: PCF(a/c, b/(c(n-1) c(n))), when c(n) divides a(n) and
 * c(n-1) c(n) divides b(n) over Q[n] (numerators, for rational a, b);
 * otherwise FL_EINVAL naming what does not divide. Convergents become
 * p/(c(0) q). */
fl_status fl_pcf_deflate(const fl_pcf *p, const fl_poly *c, fl_pcf **out);
/* The 2x2 trajectory matrix at P = s + n t turned into a PCF by the
 * companion closed form, denominators cleared, then deflate_all. */
fl_status fl_cmf_to_pcf(const fl_cmf *c, const long *t, const fl_rat *const *s, fl_pcf **out);

#endif
