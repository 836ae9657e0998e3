/* fl_diffusion: noise schedules of affine Gaussian paths and the exact
 * noised Gaussian mixtures they produce.
 *
 *   x_t = alpha(t) x0 + sigma(t) eps,   eps ~ N(0, I)
 *
 * Schedules (reference/diffusion.md section 0):
 *   VP      alpha = exp(-t^2 (b1-b0)/4 - t b0/2), sigma = sqrt(1 - alpha^2)
 *   VE      alpha = 1, sigma = smin (smax/smin)^t
 *   EDM     alpha = 1, sigma = t
 *   linear  alpha = 1 - t, sigma = t
 *   cosine  alpha = cos(pi t/2), sigma = sin(pi t/2)
 * with f = alpha'/alpha, g^2 = d(sigma^2)/dt - 2 f sigma^2 and the half
 * log-SNR lambda = log(alpha/sigma) (decreasing in t), each in closed form,
 * and the exact inverse t(lambda) (stable forms: no cancellation near t = 0).
 *
 * A schedule is a small value (no references, no allocation).
 * Part of libfieldlab: pure C11, no Lua, no printing, no exit. */
#ifndef FL_DIFFUSION_H
#define FL_DIFFUSION_H

#include <stddef.h>
#include "fl_core.h"
#include "fl_field.h"
#include "fl_gmm.h"

typedef enum fl_schedule_kind {
  FL_SCHED_VP, FL_SCHED_VE, FL_SCHED_EDM, FL_SCHED_LINEAR, FL_SCHED_COSINE
} fl_schedule_kind;

typedef struct fl_schedule {
  fl_schedule_kind kind;
  double p0, p1;      /* VP: b0, b1; VE: smin, smax; unused otherwise */
  double t_min, t_max;
} fl_schedule;

/* Defaults: VP b0 0.1, b1 20, t in [1e-5, 1]; VE smin 0.01, smax 50, t in
 * [0, 1]; EDM t in [0.002, 80]; linear and cosine t in [0, 1]. */
void fl_schedule_default(fl_schedule_kind kind, fl_schedule *s);
/* Checks the parameters of s (FL_EINVAL naming the bad one). */
fl_status fl_schedule_check(const fl_schedule *s);
/* "vp", "ve", "edm", "linear", "cosine". */
const char *fl_schedule_name(const fl_schedule *s);

typedef enum fl_schedule_fn {
  FL_SCHED_ALPHA, FL_SCHED_SIGMA, FL_SCHED_DALPHA, FL_SCHED_DSIGMA, FL_SCHED_F, FL_SCHED_G2,
  FL_SCHED_LOGSNR, FL_SCHED_T_OF_LOGSNR
} fl_schedule_fn;

/* One function of the schedule at t (or, for FL_SCHED_T_OF_LOGSNR, at lambda). */
double fl_schedule_eval(const fl_schedule *s, fl_schedule_fn fn, double t);
/* out[i] = fl_schedule_eval(s, fn, in[i]), i < n. */
void fl_schedule_map(const fl_schedule *s, fl_schedule_fn fn, size_t n, const double *in, double *out);
/* alpha, sigma, their derivatives, and alpha alpha' and sigma sigma' (finite
 * where sigma' is not, e.g. VP at t = 0); any pointer may be NULL. */
void fl_schedule_coefs(const fl_schedule *s, double t, double *alpha, double *sigma, double *dalpha,
                       double *dsigma, double *aad, double *ssd);

/* The four equivalent network targets at (x, t). */
typedef enum fl_param { FL_PARAM_EPS, FL_PARAM_X0, FL_PARAM_SCORE, FL_PARAM_VELOCITY } fl_param;
/* "eps", "x0", "score", "velocity" -> 0 and *out, or -1. */
int fl_param_from_name(const char *name, fl_param *out);
/* out[i] = the `to` target given the `from` target value[i] at point x[i],
 * i < n counting every element (shapes of value, x and out agree):
 *   eps = -sigma s,  x0 = (x + sigma^2 s)/alpha,  s = (alpha x0 - x)/sigma^2,
 *   v = alpha' x0 + sigma' eps,  and from v with det = alpha sigma' - sigma alpha':
 *   x0 = (sigma' x - sigma v)/det,  eps = (alpha v - alpha' x)/det.
 * FL_ERANGE when a division by alpha, sigma or det = 0 would be needed at t. */
fl_status fl_schedule_convert(const fl_schedule *s, double t, fl_param from, fl_param to, size_t n,
                              const double *value, const double *x, double *out);

/* The noised mixture p_t = sum_k w_k N(alpha m_k, alpha^2 S_k + sigma^2 I) at t. */
fl_status fl_schedule_noised_gmm(const fl_schedule *s, const fl_gmm *g, double t, fl_gmm **out);

typedef enum fl_noised_what { FL_NOISED_LOGP, FL_NOISED_SCORE, FL_NOISED_VELOCITY } fl_noised_what;
/* Time-dependent fields of p_t (they hold a reference to g and a copy of s):
 *   FL_NOISED_LOGP      log p_t (codim 1; exact jac = score, hess, lap), kind "noised_logp"
 *   FL_NOISED_SCORE     grad log p_t (exact jac, div), kind "noised_score"
 *   FL_NOISED_VELOCITY  the probability-flow velocity v = f x - g^2/2 s (exact jac,
 *                       div), kind "noised_velocity", computed as
 *                       v = sum_k r_k (A_k x + c_k), A_k = (alpha alpha' S_k + sigma sigma' I) C_k^-1,
 *                       c_k = alpha' m_k - alpha A_k m_k: finite where alpha = 0 (linear, t = 1).
 * Each call noises the mixture at its t (O(K d^3), no cache, thread safe). */
fl_status fl_schedule_noised_field(const fl_schedule *s, fl_gmm *g, fl_noised_what what, fl_field **out);

#endif
