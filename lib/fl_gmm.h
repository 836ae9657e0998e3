/* fl_gmm: Gaussian mixtures in R^d with exact log-densities, scores,
 * score Jacobians (Hessians of log p), Laplacians, sampling and noising.
 *
 *   p(x) = sum_k w_k N(x; m_k, S_k),   k = 0 .. K-1
 *
 * A mixture is immutable once made and ref-counted. Construction factors
 * every covariance once (Cholesky, precision P_k = S_k^-1, log-normaliser
 * log w_k - d/2 log 2pi - 1/2 log det S_k), so evaluation is a tight loop
 * over points (OpenMP over points for large batches) with one pass over the
 * components per point and an online log-sum-exp: responsibilities stay
 * finite far from every mode (x = 1e3: no NaN).
 *
 * Derivatives (V2 of reference/diffusion.md), with responsibilities r_k(x)
 * and component scores s_k = -P_k (x - m_k):
 *   score  s = sum_k r_k s_k
 *   Hess   H = sum_k r_k (-P_k + (s_k - s)(s_k - s)^T)     (symmetric)
 *   Lap      = sum_k r_k (-tr P_k + |s_k - s|^2)
 * (the centred form avoids the cancellation of sum r s_k s_k^T - s s^T).
 *
 * Part of libfieldlab: pure C11, no Lua, no printing, no exit. */
#ifndef FL_GMM_H
#define FL_GMM_H

#include <stddef.h>
#include <stdint.h>
#include "fl_core.h"
#include "fl_field.h"

typedef struct fl_gmm {
  int refcount;
  int d;            /* dimension, >= 1 */
  int k;            /* number of components, >= 1 */
  double *weights;  /* k, normalised to sum 1 (zeros allowed) */
  double *means;    /* k*d */
  double *covs;     /* k*d*d, full symmetric covariances */
  double *chol;     /* k*d*d, lower Cholesky factors L_k (S_k = L_k L_k^T) */
  double *prec;     /* k*d*d, precisions P_k = S_k^-1 */
  double *lognorm;  /* k: log w_k - d/2 log(2 pi) - 1/2 log det S_k (-inf for w_k = 0) */
  double *trprec;   /* k: tr P_k */
  size_t nbytes;    /* bytes of the one block holding the arrays above */
} fl_gmm;

/* How `covs` is given to fl_gmm_new. */
typedef enum fl_gmm_cov {
  FL_GMM_COV_FULL,   /* k*d*d: one full matrix per component */
  FL_GMM_COV_DIAG,   /* k*d: one diagonal (variances) per component */
  FL_GMM_COV_ISO,    /* k: one variance per component (S_k = c_k I) */
  FL_GMM_COV_SHARED, /* d*d: one full matrix for every component */
  FL_GMM_COV_IDENTITY/* covs ignored (may be NULL): S_k = I */
} fl_gmm_cov;

/* A new mixture of k components in R^d. weights (k numbers >= 0, sum > 0;
 * normalised here) may be NULL for uniform weights. Fails with FL_EINVAL for
 * a negative weight or a zero sum, FL_ENAN for a NaN/Inf anywhere, and
 * FL_ESINGULAR naming the (1-based) component whose covariance is not
 * symmetric positive definite. */
fl_status fl_gmm_new(int d, int k, const double *weights, const double *means, const double *covs,
                     fl_gmm_cov cov_kind, fl_gmm **out);
fl_gmm *fl_gmm_retain(fl_gmm *g);
void fl_gmm_release(fl_gmm *g);

/* The noised mixture sum_k w_k N(alpha m_k, alpha^2 S_k + sigma^2 I): the
 * law of alpha X + sigma E for X ~ g, E ~ N(0, I). alpha, sigma finite,
 * sigma >= 0. */
fl_status fl_gmm_noised(const fl_gmm *g, double alpha, double sigma, fl_gmm **out);

/* ---- evaluation at n points x[n*d] (row-major); outputs may be NULL ---- */
/* logp[n] = log p(x_i). */
fl_status fl_gmm_log_density(const fl_gmm *g, size_t n, const double *x, double *logp);
/* p[n] = p(x_i) (= exp of the above; underflows to 0 far away). */
fl_status fl_gmm_density(const fl_gmm *g, size_t n, const double *x, double *p);
/* score[n*d] = grad log p(x_i); logp[n] too when not NULL. */
fl_status fl_gmm_score(const fl_gmm *g, size_t n, const double *x, double *score, double *logp);
/* Everything at once (each output may be NULL): logp[n], score[n*d],
 * hess[n*d*d] (Hessian of log p = Jacobian of the score), lap[n]. */
fl_status fl_gmm_eval(const fl_gmm *g, size_t n, const double *x, double *logp, double *score,
                      double *hess, double *lap);

/* Responsibility-weighted affine fields: v(x) = sum_k r_k(x) (A_k x + c_k)
 * with A[k*d*d] (row-major per component), c[k*d]; J[n*d*d] its exact
 * Jacobian sum_k r_k (A_k + (v_k - v)(s_k - s)^T), div[n] its trace. Any of
 * v, J, div may be NULL. (The probability-flow velocity of a noised mixture
 * is of this form, finite even where alpha = 0.) */
fl_status fl_gmm_mix_affine(const fl_gmm *g, const double *A, const double *c, size_t n,
                            const double *x, double *v, double *J, double *div);

/* Mixture mean[d] and covariance cov[d*d]. */
void fl_gmm_moments(const fl_gmm *g, double *mean, double *cov);

/* n samples out[n*d]: row i is m_k + L_k z_i where z_i[j] =
 * fl_rng_normal(seed, stream, i*d + j) (the same numbers as an n-by-d
 * fl_array_randn) and the component k is chosen by the uniform number
 * fl_rng_uniform(seed, stream, 2^62 + i) against the cumulative weights. */
fl_status fl_gmm_sample(const fl_gmm *g, size_t n, uint64_t seed, uint64_t stream, double *out);

/* ---- fields (they hold a reference to g) ---- */
/* Scalar field log p (codim 1) with exact jac (the score as a 1-by-d
 * Jacobian), hess and lap. Kind "gmm_logp". */
fl_status fl_gmm_logp_field(fl_gmm *g, fl_field **out);
/* Vector field grad log p (codim d) with exact jac (symmetric) and div. Kind "gmm_score". */
fl_status fl_gmm_score_field(fl_gmm *g, fl_field **out);

#endif
