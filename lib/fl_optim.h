/* fl_optim: optimizers over one contiguous parameter block (value[], grad[],
 * state[]): SGD with momentum, Adam and AdamW with bias correction;
 * gradient-norm clipping, EMA of weights, learning-rate schedules, and the
 * counter-based mini-batch draw used by training. Pure C11. */
#ifndef FL_OPTIM_H
#define FL_OPTIM_H
#include <stddef.h>
#include <stdint.h>
#include "fl_core.h"

typedef enum fl_optim_kind { FL_OPTIM_SGD = 0, FL_OPTIM_ADAM = 1, FL_OPTIM_ADAMW = 2 } fl_optim_kind;

typedef struct fl_optim_config {
  double lr;           /* learning rate (> 0) */
  double beta1, beta2; /* Adam moments (in [0, 1)) */
  double eps;          /* Adam denominator epsilon (> 0) */
  double weight_decay; /* SGD/Adam: L2 added to the gradient; AdamW: decoupled */
  double momentum;     /* SGD (in [0, 1)) */
} fl_optim_config;

typedef struct fl_optim {
  fl_optim_kind kind;
  fl_optim_config cfg;
  size_t n;      /* parameters */
  uint64_t step; /* steps taken */
  double *m;     /* first moment / momentum buffer (n) */
  double *v;     /* second moment (n; Adam only, else NULL) */
} fl_optim;

/* Defaults: lr 1e-3, betas 0.9/0.999, eps 1e-8, no weight decay, no momentum. */
fl_optim_config fl_optim_defaults(void);
fl_status fl_optim_new(fl_optim **out, fl_optim_kind kind, size_t n, const fl_optim_config *cfg);
void fl_optim_free(fl_optim *o);
/* One update of x (n values) from g at learning rate lr (the config's when
 * lr <= 0); step increases by one. A non-finite gradient is FL_ENAN and
 * leaves x and the state unchanged. */
fl_status fl_optim_step(fl_optim *o, double *x, const double *g, double lr);
/* Euclidean norm of g (n values), overflow-safe. */
double fl_optim_norm(const double *g, size_t n);
/* Scale g so that its norm is at most maxnorm; returns the norm before. */
double fl_optim_clip(double *g, size_t n, double maxnorm);
/* ema = decay ema + (1 - decay) x. */
void fl_optim_ema(double *ema, const double *x, size_t n, double decay);
/* Learning rate at step (0-based) of total: linear warmup over `warmup` steps
 * (lr (step+1)/warmup), then constant, or cosine decay to min_lr over the
 * remaining steps when cosine is nonzero. */
double fl_optim_lr(double lr, uint64_t step, uint64_t warmup, uint64_t total, int cosine, double min_lr);
/* Draw b rows of data (nrows x d, row-major) uniformly with replacement:
 * row k is floor(u nrows), u = fl_rng_uniform(seed, stream, k). */
fl_status fl_optim_sample_rows(const double *data, size_t nrows, size_t d, size_t b, uint64_t seed,
                               uint64_t stream, double *out);
#endif
