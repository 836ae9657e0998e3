/* fl_sample: diffusion sampling runs and log-likelihoods, built on the
 * integrators of fl_ode and the schedules of fl_diffusion.
 *
 *   prediction fields  a field predicting eps, x0, the score or the
 *                      velocity at (x, t) is turned into any other target
 *                      by the affine maps of fl_schedule_convert: at fixed
 *                      t every target is cx(t) x + cp(t) prediction, so the
 *                      Jacobian and divergence follow exactly
 *                      (fl_sample_predict).
 *   ODE samplers       euler, heun, rk4, rk45 run fl_ode_run on the
 *                      probability-flow velocity over the time grid (heun:
 *                      the last step is Euler when it ends at t = 0, EDM's
 *                      rule); ddim (eta), dpm2, dpm++1, dpm++2m are
 *                      exponential integrators in the half log-SNR
 *                      lambda (reference/diffusion.md section 3.1).
 *   SDE samplers       euler_maruyama runs fl_sde_run on the reverse SDE
 *                      dx = (f x - g^2 s) dt + g dW backwards; ddpm is DDIM
 *                      with eta = 1; pc adds Langevin corrector steps
 *                      (Song et al.'s snr rule); edm is Karras et al.'s
 *                      stochastic Heun sampler (schedules with alpha = 1).
 *   log-likelihood     the augmented probability-flow ODE from t_min to
 *                      t_max with the exact divergence or Hutchinson's
 *                      estimator (probes fixed per trajectory).
 *   FlowChef           gradient-skipping steering of a rectified-flow
 *                      velocity toward a cost (reference section 4).
 *
 * Random numbers: the prior is fl_rng_normal(seed, stream, i*d + j) (the
 * numbers of an n-by-d fl_array_randn); the noise of step k is
 * fl_sde_noise(seed, stream + 1 (+ 2 for correctors), n, d, k, i, j): the
 * same paths whatever the thread count.
 * Part of libfieldlab: pure C11, no Lua, no printing, no exit. */
#ifndef FL_SAMPLE_H
#define FL_SAMPLE_H

#include <stddef.h>
#include <stdint.h>
#include "fl_core.h"
#include "fl_field.h"
#include "fl_diffusion.h"
#include "fl_ode.h"

typedef enum fl_sampler {
  FL_SAMP_EULER, FL_SAMP_HEUN, FL_SAMP_RK4, FL_SAMP_RK45, FL_SAMP_DDIM, FL_SAMP_DPM2, FL_SAMP_DPMPP1,
  FL_SAMP_DPMPP2M, /* ODE */
  FL_SAMP_EM, FL_SAMP_DDPM, FL_SAMP_PC, FL_SAMP_EDM /* SDE */
} fl_sampler;

/* "euler", "heun", "rk4", "rk45", "ddim", "dpm2", "dpm++1", "dpm++2m",
 * "euler_maruyama", "ddpm", "pc", "edm" -> 0 and *out, or -1. */
int fl_sampler_from_name(const char *name, fl_sampler *out);
const char *fl_sampler_name(fl_sampler s);
/* Whether the sampler draws noise (the SDE samplers, and ddim with eta > 0). */
int fl_sampler_is_sde(fl_sampler s);

typedef enum fl_tgrid { FL_TGRID_T, FL_TGRID_LOGSNR, FL_TGRID_EDM } fl_tgrid;
/* "t", "logsnr", "edm" -> 0 and *out, or -1. */
int fl_tgrid_from_name(const char *name, fl_tgrid *out);

/* grid[0..steps]: from t_max down to t_min, uniform in t, uniform in the
 * half log-SNR lambda (both ends need a finite lambda), or EDM's rho grid in
 * sigma: sigma_i = (smax^(1/rho) + i/steps (smin^(1/rho) - smax^(1/rho)))^rho
 * mapped back to t through lambda (alpha = 1: t = sigma for the EDM
 * schedule). FL_EINVAL for steps = 0 or t_max <= t_min. */
fl_status fl_sample_grid(const fl_schedule *s, fl_tgrid kind, size_t steps, double t_max, double t_min, double rho,
                         double *grid);

/* A field predicting `to` from f, which predicts `from` under schedule s
 * (from == to: a new reference to f). Exact Jacobian and divergence when
 * f has them. Kind "predict". */
fl_status fl_sample_predict(fl_field *f, fl_param from, fl_param to, const fl_schedule *s, fl_field **out);

typedef struct fl_sample_opts {
  fl_sampler solver;
  fl_param kind;          /* what the field predicts */
  fl_schedule sched;
  size_t steps;           /* > 0 (rk45: 0, adaptive) */
  fl_tgrid grid;
  double t_max, t_min;    /* t_max > t_min >= 0 */
  double rho;             /* EDM grid exponent (7) */
  double eta;             /* ddim: 0 deterministic, 1 ancestral */
  double rtol, atol;      /* rk45 */
  double snr;             /* pc: Langevin signal-to-noise ratio (0.16) */
  size_t corrector_steps; /* pc: Langevin steps per time step (1) */
  double s_churn, s_noise, s_tmin, s_tmax; /* edm: 0, 1, 0, inf */
  uint64_t seed, stream;
} fl_sample_opts;

/* Defaults for solver under schedule s: t_max, t_min from s, rho 7, grid
 * "t", rtol 1e-5, atol 1e-7, snr 0.16, one corrector step, S_noise 1,
 * S_tmax inf. */
void fl_sample_opts_default(fl_sample_opts *o, fl_sampler solver, fl_param kind, const fl_schedule *s);

/* The prior x[n*d] = sigma(t_max) z, z = fl_rng_normal(seed, stream, i*d + j). */
void fl_sample_prior(const fl_schedule *s, double t_max, size_t n, size_t d, uint64_t seed, uint64_t stream,
                     double *x);

/* Run the sampler on the n particles x[n*d] (the initial state at t_max,
 * updated in place to the samples at t_min). obs: record every `every`
 * steps (times are not supported), observer, progress (may be NULL).
 * res: counters and records (zero it first; fl_run_free after).
 * Statuses as fl_ode_run: FL_ENAN names the step and the particle. */
fl_status fl_sample_run(fl_field *f, const fl_sample_opts *o, size_t n, double *x, const fl_observe *obs,
                        fl_run *res);

/* ---------------------------------------------------------------- log-likelihood */

typedef struct fl_loglik_opts {
  fl_param kind;
  fl_schedule sched;
  double t_min, t_max;
  int hutchinson;        /* 0: exact divergence (fl_field_div) */
  int gaussian;          /* Hutchinson probes: 1 Gaussian, 0 Rademacher */
  size_t nprobes;        /* >= 1 (>= 2 for a standard error) */
  uint64_t seed, stream;
  size_t steps;          /* > 0: RK4 steps; 0: adaptive dopri5 */
  double rtol, atol;
  fl_field *prior;       /* scalar log density at t_max, or NULL: N(0, sigma(t_max)^2 I) */
} fl_loglik_opts;

/* log p_{t_min}(x_i) for x[n*d]: integrates dx/dt = v, dl/dt = div v from
 * t_min to t_max and returns logp[i] = log prior(x_i(t_max)) + l_i.
 * Hutchinson: div v ~ e^T J e with nprobes probes per particle fixed along
 * its trajectory (probe k of particle i: component j is
 * fl_rng_normal(seed, stream, (i*K + k)*d + j), or its sign), logp the mean
 * over probes and se[i] (may be NULL) its standard error; exact: se[i] = 0.
 * xT[n*d] (may be NULL) receives the latent states. *exact (may be NULL):
 * whether the divergence was the field's exact one. evals: field calls. */
fl_status fl_sample_loglik(fl_field *f, const fl_loglik_opts *o, size_t n, const double *x, double *logp, double *se,
                           double *xT, int *exact, size_t *evals);

/* ---------------------------------------------------------------- FlowChef */

/* A cost of x0hat[n*d]: grad[n*d] = dL_i/dx0hat_i, L[n] (may be NULL) the
 * per-particle costs. Returns 0, or < 0 to stop (FL_ECALLBACK). */
typedef int (*fl_cost_fn)(void *ctx, size_t n, size_t d, const double *x0hat, double *grad, double *L);

/* The linear-Gaussian measurement cost L = |A x - y|^2 / (2 noise^2): ctx
 * is an fl_cost_linear. */
typedef struct fl_cost_linear {
  size_t m, d;
  const double *A; /* m*d */
  const double *y; /* m */
  double noise;
} fl_cost_linear;
int fl_cost_linear_fn(void *ctx, size_t n, size_t d, const double *x, double *grad, double *L);

typedef struct fl_flowchef_opts {
  size_t steps;       /* Euler steps from t_max to 0 (linear path) */
  double t_max;       /* 1 */
  double lr;          /* gradient step eta */
  size_t iters;       /* gradient steps per time step (K, 1) */
  size_t steer_steps; /* steer during the first steer_steps steps (steps - 1: not the last) */
  int exact_grad;     /* 0: gradient skipping (FlowChef); 1: the full gradient of L(z - t v(z)),
                         (I - t J_v)^T grad L, with v and J_v re-evaluated at every iteration */
} fl_flowchef_opts;

/* FlowChef on the velocity v of the linear path: at t_i = t_max (1 - i/N),
 * v = v(z, t_i); K times x0hat = z - t_i v (v fixed), z -= lr grad L(x0hat)
 * (with exact_grad: z -= lr (I - t_i J_v(z))^T grad L(x0hat(z)), v and J_v
 * at the current z);
 * then z += (t_{i+1} - t_i) v with the pre-steering v. z[n*d] in/out.
 * L[n] (may be NULL): the cost at the last steered x0hat. */
fl_status fl_sample_flowchef(fl_field *v, const fl_flowchef_opts *o, fl_cost_fn cost, void *ctx, size_t n, double *z,
                             double *L, const fl_observe *obs, fl_run *res);

#endif
