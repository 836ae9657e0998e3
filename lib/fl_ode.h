/* fl_ode: ODE, SDE, symplectic and variational integrators acting on whole
 * particle arrays.
 *
 * Layering after GSL's odeiv2:
 *   system     an fl_field v (dim == codim == d): dx/dt = v(x, t), batched
 *              over n particles (the state is an n-by-d row-major array)
 *   step type  const Butcher tableaux (fl_ode_euler, _heun, _midpoint, _rk4,
 *              _dopri5 with FSAL, an embedded error estimate and dense output)
 *   step       one step of a step type on n particles (stage buffers)
 *   control    fl_ode_error_norm: the per-particle error norm
 *   evolve / driver
 *              fl_ode_run: fixed steps or adaptive (dopri5) from t0 to t1,
 *              with recording, observers, interrupts and counters.
 * fl_sde_run (Euler-Maruyama, Milstein; diagonal noise on the counter-based
 * RNG), fl_symp_run (leapfrog, Yoshida 4) and fl_var_run (dY/dt = J_v Y)
 * share the fixed-step driver.
 *
 * Speed: every stage evaluates the field once for a whole batch of
 * particles. When the field is thread safe, the fixed-step driver cuts the
 * particles into cache-sized blocks and advances each block, in parallel
 * (OpenMP), over a run of steps at a time (the particles are independent);
 * otherwise (a Lua field) each stage is one call on all n particles. No
 * allocation happens per step.
 *
 * Callbacks (observer, progress) return 0 to go on and a negative value to
 * stop: the run then returns FL_ECALLBACK (SUNDIALS's convention).
 * Part of libfieldlab: pure C11, no Lua, no printing, no exit. */
#ifndef FL_ODE_H
#define FL_ODE_H

#include <stddef.h>
#include <stdint.h>
#include "fl_core.h"
#include "fl_field.h"

/* ---------------------------------------------------------------- step types */

#define FL_ODE_MAXSTAGES 7

/* An explicit Runge-Kutta method: c[s], a[s*s] (row i: the coefficients of
 * stages 0..i-1 of stage i), b[s]; e[s] = b - bhat (NULL: no error
 * estimate). fsal: the last stage is f(y_new, t + h) (a's last row is b). */
typedef struct fl_ode_step_type {
  const char *name;
  int order;     /* order of the solution */
  int stages;    /* field evaluations per step (FSAL methods reuse one) */
  int fsal;
  int err_order; /* order of the embedded solution (0: none) */
  const double *c, *a, *b, *e;
} fl_ode_step_type;

extern const fl_ode_step_type fl_ode_euler, fl_ode_heun, fl_ode_midpoint, fl_ode_rk4, fl_ode_dopri5;

/* The step type called name ("euler", "heun", "midpoint", "rk4", "dopri5"), or NULL. */
const fl_ode_step_type *fl_ode_step_type_find(const char *name);
/* "euler, heun, midpoint, rk4, dopri5". */
const char *fl_ode_step_type_names(void);

/* ---------------------------------------------------------------- one step */

typedef struct fl_ode_step fl_ode_step;

/* Stage buffers for n particles of the field f (f->dim == f->codim). */
fl_status fl_ode_step_new(const fl_ode_step_type *T, fl_field *f, size_t n, fl_ode_step **out);
void fl_ode_step_free(fl_ode_step *s);
/* Forget the cached f(y, t) of an FSAL method (call when y changed outside apply). */
void fl_ode_step_reset(fl_ode_step *s);
/* yout = y advanced from t by h (y and yout n-by-d, distinct). yerr (may be
 * NULL) receives the local error estimate h sum_j e_j k_j (methods with e).
 * After an accepted step call fl_ode_step_accept before the next apply from
 * yout (it keeps the FSAL stage as the next first stage). */
fl_status fl_ode_step_apply(fl_ode_step *s, double t, double h, const double *y, double *yout, double *yerr);
void fl_ode_step_accept(fl_ode_step *s);
/* Dense output of the last apply (dopri5 only: its 4th-order continuous
 * extension): out = y(t + theta h), theta in [0, 1], from y and yout given to apply. */
fl_status fl_ode_step_dense(const fl_ode_step *s, double theta, const double *y, const double *yout, double *out);
/* Field evaluations (batched calls) made so far. */
size_t fl_ode_step_evals(const fl_ode_step *s);

/* ---------------------------------------------------------------- control */

/* The error norm of a step of n particles in R^d: the largest over particles
 * of the RMS over components of err_ij / (atol + rtol max(|y_ij|, |ynew_ij|)).
 * A step is accepted when the norm is <= 1, so every particle meets the
 * tolerance. */
double fl_ode_error_norm(size_t n, size_t d, const double *y, const double *ynew, const double *err, double rtol,
                         double atol);

/* ---------------------------------------------------------------- observing a run */

/* When to record: every `every` steps (0: not by count; with adaptive steps,
 * every `every` accepted steps) and/or at the times times[0..ntimes) (in the
 * direction of integration, within [t0, t1]). With `every`, the initial
 * state and the final state are recorded too. Fixed-step runs land exactly
 * on each record time (the step that would cross one is split there);
 * adaptive ones use dense output.
 * At each record point the state is stored (store != 0) and the observer (if
 * any) is called; the progress callback is called now and then (between
 * runs of steps) with the fraction done. Neither is called from a parallel
 * region. Part k of the state (ODE: x; symplectic: q then p) has n*w[k]
 * numbers. */
typedef struct fl_observe {
  size_t every;
  const double *times;
  size_t ntimes;
  int store;
  int (*observer)(void *ctx, double t, int nparts, const double *const *parts);
  int (*progress)(void *ctx, double fraction);
  void *ctx;
} fl_observe;

/* What a run did. Zero it before the run; free with fl_run_free. */
typedef struct fl_run {
  double t;          /* time of the final state */
  size_t steps;      /* steps taken (accepted) */
  size_t rejected;   /* rejected steps (adaptive) */
  size_t evals;      /* field evaluations per particle (batched calls on all particles) */
  size_t nrec;       /* records stored */
  size_t reclen;     /* numbers per record */
  double *rec;       /* nrec * reclen: the stored states */
  double *rec_t;     /* nrec record times */
  size_t rec_cap;
  /* FL_ENAN: the first step (1-based) that produced a non-finite number, the particle and component (0-based) */
  size_t bad_step, bad_particle, bad_comp;
  double bad_t;
} fl_run;

void fl_run_free(fl_run *r);

/* Helpers shared by the drivers here and in fl_sample. */
/* Store (when obs->store; res->reclen numbers, the parts' lens summing to it)
 * and observe (obs->observer) the state parts at time t. obs may be NULL. */
fl_status fl_run_record(const fl_observe *obs, fl_run *res, double t, int nparts, const double *const *parts,
                        const size_t *lens);
/* Report progress (a fraction in [0, 1]) to obs->progress; FL_ECALLBACK when it fails. obs may be NULL. */
fl_status fl_observe_progress(const fl_observe *obs, double frac);
/* The first non-finite number of m particles of w numbers each: returns 1 and
 * sets (*bi, *bj) to (particle, component), or returns 0 with both 0. */
int fl_first_nonfinite(const double *x, size_t m, size_t w, size_t *bi, size_t *bj);

/* ---------------------------------------------------------------- ODE driver */

typedef struct fl_ode_opts {
  const fl_ode_step_type *method;
  double t0, t1;
  size_t steps;        /* > 0: that many equal steps; 0: adaptive (method with an error estimate) */
  const double *grid;  /* optional: explicit times grid[0..steps] (steps > 0), strictly monotone; overrides t0, t1 */
  double rtol, atol;   /* adaptive: tolerances (> 0) */
  double h0;           /* adaptive: first step (0: chosen from the field, Hairer's rule) */
  double hmin, hmax;   /* adaptive: step bounds (0: none) */
  size_t max_steps;    /* adaptive: cap on accepted + rejected steps (0: 100000) */
} fl_ode_opts;

/* Integrate dx/dt = v(x, t) for the n particles x (n-by-d, updated in place)
 * from t0 to t1 (t1 < t0 integrates backwards).
 * Returns FL_OK; FL_EINTR (Ctrl-C: x is the state at res->t, records so far
 * kept); FL_ENAN (a non-finite state: res->bad_*; records so far kept; x
 * unspecified); FL_ENOTCONV (adaptive: max_steps reached or the step fell
 * below hmin; x is the state at res->t); FL_ECALLBACK; or an error of the field. */
fl_status fl_ode_run(fl_field *v, size_t n, double *x, const fl_ode_opts *o, const fl_observe *obs, fl_run *res);

/* ---------------------------------------------------------------- SDE */

typedef enum fl_sde_method { FL_SDE_EULER_MARUYAMA, FL_SDE_MILSTEIN } fl_sde_method;

/* The standard normal increment xi of particle i, component j, step k (all
 * 0-based) of an SDE run of n particles in R^d: fl_rng_normal(seed, stream,
 * (k*n + i)*d + j). dW = sqrt(|h|) xi. A pure function of its arguments, so
 * paths do not depend on the number of threads. */
double fl_sde_noise(uint64_t seed, uint64_t stream, size_t n, size_t d, size_t k, size_t i, size_t j);

/* dX = a(X, t) dt + g(X, t) dW with diagonal noise: g_j multiplies dW_j. The
 * diffusion is the field g (codim d: the diagonal, or codim 1: the same for
 * every component) or, when g is NULL, the constant sigma. Milstein adds
 * 1/2 g_j (dg_j/dx_j) (dW_j^2 - h) (diagonal noise: g_j depends on x_j only;
 * with a constant sigma it is Euler-Maruyama). Fixed steps (steps > 0, or
 * grid[0..steps]). Statuses as fl_ode_run. */
typedef struct fl_sde_opts {
  fl_sde_method method;
  double t0, t1;
  size_t steps;
  const double *grid;
  uint64_t seed, stream;
} fl_sde_opts;

fl_status fl_sde_run(fl_field *drift, fl_field *g, double sigma, size_t n, double *x, const fl_sde_opts *o,
                     const fl_observe *obs, fl_run *res);

/* ---------------------------------------------------------------- symplectic */

typedef enum fl_symp_method { FL_SYMP_LEAPFROG, FL_SYMP_YOSHIDA4 } fl_symp_method;

/* H = |p|^2/2 + Phi(q, t), the force given as the acceleration field
 * a(q, t) = -grad Phi (dim == codim == d). q, p n-by-d, updated in place.
 * Leapfrog: kick-drift-kick (one force evaluation per step: the last kick's
 * force is the next step's first). Yoshida 4 (Forest-Ruth): three leapfrog
 * substeps of w1 h, w0 h, w1 h, w1 = 1/(2 - 2^(1/3)), w0 = 1 - 2 w1 (three
 * evaluations per step). Records hold q then p. Statuses as fl_ode_run. */
fl_status fl_symp_run(fl_field *accel, fl_symp_method method, size_t n, double *q, double *p, double t0,
                      double t1, size_t steps, const fl_observe *obs, fl_run *res);

/* Total energy sum_i (|p_i|^2/2 + Phi(q_i, t)) of n particles for the scalar
 * potential Phi (dim d, codim 1), and (L may be NULL) the total angular
 * momentum sum_i q_i x p_i: one number for d == 2, three for d == 3
 * (L untouched otherwise). */
fl_status fl_symp_diagnostics(fl_field *potential, size_t n, const double *q, const double *p, double t,
                              double *energy, double *L);

/* ---------------------------------------------------------------- variational */

/* Integrate x' = v(x, t) together with Y' = J_v(x, t) Y (Y: n d-by-d
 * matrices, row-major, updated in place; start from the identity to get the
 * Jacobian of the flow map) with the fixed-step method T (an explicit RK
 * applied to the pair). J_v from fl_field_jacobian (exact when the field
 * has one; *exact (may be NULL) says so). Records hold x only. */
fl_status fl_var_run(fl_field *v, const fl_ode_step_type *T, size_t n, double *x, double *Y, double t0, double t1,
                     size_t steps, const fl_observe *obs, fl_run *res, int *exact);

#endif
