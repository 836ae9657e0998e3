/* fl_pslq: integer relations among real numbers by PSLQ (Ferguson and
 * Bailey), on MPFR inputs. Part of libfieldlab: pure C11, no Lua, no
 * printing, no exit.
 *
 * The algorithm is mpmath's pslq step for step (so the relations it returns
 * are the ones ramanujantools gets): fixed-point integers with p + 60 bits,
 * where p = round((digits + 1) log2 10) is the working precision, input
 * normalised by its Euclidean norm, tolerance 2^-floor(0.75 p), gamma =
 * sqrt(4/3), coefficients below maxcoeff, at most maxsteps iterations, and
 * the norm bound of every iteration stopping the search once it reaches
 * maxcoeff. A relation PSLQ proposes is then checked in MPFR: it is
 * reported only when |sum c_i x_i| <= 2^-floor(0.75 p) sum |c_i x_i|. */
#ifndef FL_PSLQ_H
#define FL_PSLQ_H

#include <mpfr.h>
#include "fl_core.h"

#define FL_PSLQ_MAXN 64

typedef enum fl_pslq_outcome {
  FL_PSLQ_FOUND = 0, /* a relation that holds at the working precision */
  FL_PSLQ_NORM,      /* every relation has norm above the bound, which reached maxcoeff */
  FL_PSLQ_MAXSTEPS,  /* maxsteps iterations without a relation */
  FL_PSLQ_PRECISION, /* the working precision was exhausted first */
  FL_PSLQ_TINY,      /* an entry is below the tolerance (zero to the working precision) */
  FL_PSLQ_UNCHECKED  /* PSLQ proposed a relation that does not hold to the working precision */
} fl_pslq_outcome;

typedef struct fl_pslq_result {
  fl_pslq_outcome outcome;
  long steps;          /* iterations done */
  long prec;           /* the working precision p in bits */
  long tiny;           /* FL_PSLQ_TINY: the 0-based index of the entry */
  double norm_bound;   /* the last lower bound on the norm of any relation (0: none computed) */
  /* FL_PSLQ_FOUND and FL_PSLQ_UNCHECKED: the relation in rel[], and */
  double holds_digits; /* -log10(|sum c_i x_i| / sum |c_i x_i|), HUGE_VAL when the sum is exactly 0 */
  double need_digits;  /* the digits the check asks for: floor(0.75 p) log10 2 */
} fl_pslq_result;

/* PSLQ on x[0..n-1]: 2 <= n <= FL_PSLQ_MAXN finite nonzero numbers,
 * digits >= 15 (the working precision; the inputs should be good to that
 * many significant digits), 1 <= maxcoeff <= 2^62, 1 <= maxsteps <= 10^8.
 * rel gets n coefficients (|c_i| < maxcoeff) when res->outcome is
 * FL_PSLQ_FOUND or FL_PSLQ_UNCHECKED. The residual |sum c_i x_i| goes to
 * residual when it is not NULL (any precision; set to 0 otherwise).
 * Errors: FL_EINVAL (n, a zero or non-finite entry, digits, maxcoeff,
 * maxsteps), FL_EINTR (interrupted), FL_ENOMEM. */
fl_status fl_pslq(int n, mpfr_srcptr const *x, long digits, long maxcoeff, long maxsteps, long *rel,
                  fl_pslq_result *res, mpfr_ptr residual);

/* mpmath's dps_to_prec: round((digits + 1) log2 10) bits. */
long fl_pslq_prec(long digits);

#endif
