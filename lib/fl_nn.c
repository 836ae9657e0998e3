/* fl_nn: MLPs as fields (see fl_nn.h). */
#include "config.h"
#include "fl_nn.h"
#include "fl_rng.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <jansson.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "fl_vmath.h"
#include "fl_optim.h"

/* OpenBLAS exports these (pthreads and OpenMP builds alike). */
extern void openblas_set_num_threads(int num_threads);
extern int openblas_get_num_threads(void);

/* doubles per work buffer of a block of points (1 MB: a dgemm of a few
 * hundred rows, near OpenBLAS's peak on one core, and cache-resident
 * element-wise passes) */
#define NN_BLOCK_DOUBLES ((size_t)1 << 17)

/* ------------------------------------------------------------ names */

static const char *const kind_names[] = {"mlp", "potential", "gradient_net", "divfree"};
static const char *const act_names[] = {"silu", "tanh", "relu", "gelu", "softplus", "sigmoid"};
static const char *const time_names[] = {"none", "concat", "fourier", "sinusoidal"};

const char *fl_nn_kind_name(fl_nn_kind k) { return (unsigned)k < 4 ? kind_names[k] : "?"; }
const char *fl_nn_act_name(fl_nn_act a) { return (unsigned)a < 6 ? act_names[a] : "?"; }
const char *fl_nn_time_name(fl_nn_time t) { return (unsigned)t < 4 ? time_names[t] : "?"; }

int fl_nn_act_parse(const char *s, fl_nn_act *a)
{
  for (int i = 0; i < 6; i++)
    if (!strcmp(s, act_names[i])) { *a = (fl_nn_act)i; return 0; }
  return -1;
}

int fl_nn_time_parse(const char *s, fl_nn_time *t)
{
  for (int i = 0; i < 4; i++)
    if (!strcmp(s, time_names[i])) { *t = (fl_nn_time)i; return 0; }
  return -1;
}

static int kind_parse(const char *s, fl_nn_kind *k)
{
  for (int i = 0; i < 4; i++)
    if (!strcmp(s, kind_names[i])) { *k = (fl_nn_kind)i; return 0; }
  return -1;
}

int fl_nn_time_features(fl_nn_time t)
{
  switch (t) {
  case FL_TIME_CONCAT: return 1;
  case FL_TIME_FOURIER: case FL_TIME_SINUSOIDAL: return 16;
  default: return 0;
  }
}

static void time_embed(fl_nn_time tm, double t, double *e)
{
  if (tm == FL_TIME_CONCAT) e[0] = t;
  else if (tm == FL_TIME_FOURIER)
    for (int k = 0; k < 8; k++) { e[2 * k] = sin(M_PI * (k + 1) * t); e[2 * k + 1] = cos(M_PI * (k + 1) * t); }
  else if (tm == FL_TIME_SINUSOIDAL)
    for (int k = 0; k < 8; k++) {
      double w = pow(1000.0, k / 7.0);
      e[2 * k] = sin(w * t);
      e[2 * k + 1] = cos(w * t);
    }
}

/* ------------------------------------------------------------ architecture */

fl_status fl_nn_arch_check(fl_nn_arch *a)
{
  if ((unsigned)a->kind > FL_NN_DIVFREE) return fl_fail(FL_EINVAL, "unknown network kind %d", (int)a->kind);
  if (a->kind == FL_NN_GRADIENT) a->kind = FL_NN_POTENTIAL; /* the base network of a gradient */
  if (a->dim < 1 || a->dim > 4096) return fl_fail(FL_EINVAL, "dim must be in 1..4096, not %d", a->dim);
  if (a->kind == FL_NN_POTENTIAL) a->out = 1;
  if (a->kind == FL_NN_DIVFREE) {
    if (a->dim < 2) return fl_fail(FL_EINVAL, "a divergence-free network needs dim >= 2, not %d", a->dim);
    a->out = a->dim * (a->dim - 1) / 2;
  }
  if (a->out < 1 || a->out > 1 << 20) return fl_fail(FL_EINVAL, "out must be a positive width, not %d", a->out);
  if (a->nhidden < 0 || a->nhidden > FL_NN_MAXLAYERS)
    return fl_fail(FL_EINVAL, "%d hidden layers (at most %d)", a->nhidden, FL_NN_MAXLAYERS);
  for (int i = 0; i < a->nhidden; i++)
    if (a->hidden[i] < 1 || a->hidden[i] > 1 << 20)
      return fl_fail(FL_EINVAL, "hidden layer %d has width %d (must be positive)", i + 1, a->hidden[i]);
  if ((unsigned)a->act > FL_ACT_SIGMOID) return fl_fail(FL_EINVAL, "unknown activation %d", (int)a->act);
  if ((unsigned)a->time > FL_TIME_SINUSOIDAL) return fl_fail(FL_EINVAL, "unknown time embedding %d", (int)a->time);
  if (!a->param[0]) strcpy(a->param, "velocity");
  if (strcmp(a->param, "velocity") && strcmp(a->param, "score") && strcmp(a->param, "eps") && strcmp(a->param, "x0"))
    return fl_fail(FL_EINVAL, "unknown parametrisation '%s' (velocity, score, eps or x0)", a->param);
  return FL_OK;
}

static void set_widths(fl_nn *nn)
{
  nn->in = nn->a.dim + fl_nn_time_features(nn->a.time);
  nn->nlayers = nn->a.nhidden + 1;
  nn->width[0] = nn->in;
  for (int i = 0; i < nn->a.nhidden; i++) nn->width[i + 1] = nn->a.hidden[i];
  nn->width[nn->nlayers] = nn->a.out;
}

fl_status fl_nn_new(const fl_nn_arch *arch, fl_nn_init init, uint64_t seed, fl_nn **out)
{
  fl_nn_arch a = *arch;
  fl_status st = fl_nn_arch_check(&a);
  if (st) return st;
  fl_nn *nn = calloc(1, sizeof *nn);
  if (!nn) return fl_fail(FL_ENOMEM, "network");
  nn->refcount = 1;
  nn->a = a;
  set_widths(nn);
  if ((st = fl_ad_params_new(&nn->P))) { free(nn); return st; }
  for (int l = 0; l < nn->nlayers && !st; l++) {
    size_t fi = (size_t)nn->width[l], fo = (size_t)nn->width[l + 1], k;
    double *w = malloc(fi * fo * sizeof *w), *b = malloc(fo * sizeof *b);
    if (!w || !b) { free(w); free(b); st = fl_fail(FL_ENOMEM, "network"); break; }
    if (init == FL_INIT_DEFAULT) { /* PyTorch's nn.Linear: U(-1/sqrt(in), 1/sqrt(in)) */
      double s = 1 / sqrt((double)fi);
      fl_rng_fill_uniform(seed, 2 * (uint64_t)l, 0, fi * fo, w);
      fl_rng_fill_uniform(seed, 2 * (uint64_t)l + 1, 0, fo, b);
      for (size_t i = 0; i < fi * fo; i++) w[i] = s * (2 * w[i] - 1);
      for (size_t i = 0; i < fo; i++) b[i] = s * (2 * b[i] - 1);
    } else {
      double s = init == FL_INIT_XAVIER ? sqrt(2.0 / (double)(fi + fo)) : sqrt(2.0 / (double)fi);
      fl_rng_fill_normal(seed, 2 * (uint64_t)l, 0, fi * fo, w);
      for (size_t i = 0; i < fi * fo; i++) w[i] *= s;
      memset(b, 0, fo * sizeof *b);
    }
    st = fl_ad_params_add(nn->P, fi, fo, w, &k);
    if (!st) st = fl_ad_params_add(nn->P, 1, fo, b, &k);
    free(w);
    free(b);
  }
  if (st) { fl_nn_release(nn); return st; }
  *out = nn;
  return FL_OK;
}

fl_nn *fl_nn_retain(fl_nn *nn)
{
  if (nn) nn->refcount++;
  return nn;
}

void fl_nn_release(fl_nn *nn)
{
  if (!nn || --nn->refcount > 0) return;
  if (nn->P) fl_ad_params_release(nn->P);
  free(nn);
}

size_t fl_nn_nparams(const fl_nn *nn) { return nn->P->n; }

fl_status fl_nn_set_params(fl_nn *nn, fl_ad_params *P)
{
  if (P->count != (size_t)(2 * nn->nlayers))
    return fl_fail(FL_EDIM, "the parameter block has %zu tensors, the network %d", P->count, 2 * nn->nlayers);
  for (int l = 0; l < nn->nlayers; l++) {
    const fl_ad_tensor *w = &P->t[2 * l], *b = &P->t[2 * l + 1];
    if (w->rows != (size_t)nn->width[l] || w->cols != (size_t)nn->width[l + 1] || b->rows != 1 ||
        b->cols != (size_t)nn->width[l + 1])
      return fl_fail(FL_EDIM, "layer %d: parameter shapes (%zu,%zu) and (%zu,%zu), the network needs (%d,%d) and (1,%d)",
                     l + 1, w->rows, w->cols, b->rows, b->cols, nn->width[l], nn->width[l + 1], nn->width[l + 1]);
  }
  fl_ad_params_retain(P);
  fl_ad_params_release(nn->P);
  nn->P = P;
  return FL_OK;
}

/* ------------------------------------------------------------ activations */

/* f, f', f'' at z. */
static inline void act3(fl_nn_act a, double z, double *f, double *f1, double *f2)
{
  switch (a) {
  case FL_ACT_TANH: {
    double y = tanh(z), s = 1 - y * y;
    *f = y; *f1 = s; *f2 = -2 * y * s;
    return;
  }
  case FL_ACT_SIGMOID: {
    double s = 1 / (1 + exp(-z)), d = s * (1 - s);
    *f = s; *f1 = d; *f2 = d * (1 - 2 * s);
    return;
  }
  case FL_ACT_SOFTPLUS: {
    double s = 1 / (1 + exp(-z));
    *f = z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
    *f1 = s; *f2 = s * (1 - s);
    return;
  }
  case FL_ACT_SILU: {
    double s = 1 / (1 + exp(-z));
    *f = z * s; *f1 = s * (1 + z * (1 - s)); *f2 = s * (1 - s) * (2 + z * (1 - 2 * s));
    return;
  }
  case FL_ACT_RELU:
    *f = z > 0 ? z : 0; *f1 = z > 0 ? 1 : 0; *f2 = 0;
    return;
  case FL_ACT_GELU: {
    const double k = 0.7978845608028654, c = 0.044715;
    double u = k * (z + c * z * z * z), T = tanh(u), s = 1 - T * T, u1 = k * (1 + 3 * c * z * z), u2 = 6 * k * c * z;
    *f = 0.5 * z * (1 + T);
    *f1 = 0.5 * (1 + T) + 0.5 * z * s * u1;
    *f2 = s * u1 + 0.5 * z * (-2 * T * s * u1 * u1 + s * u2);
    return;
  }
  }
  *f = *f1 = *f2 = 0;
}

/* ------------------------------------------------------------ jets */

static size_t max_width(const fl_nn *nn)
{
  size_t w = 0;
  for (int l = 0; l <= nn->nlayers; l++)
    if ((size_t)nn->width[l] > w) w = (size_t)nn->width[l];
  return w;
}

/* f, f' and (f2 != NULL) f'' of the activation at n pre-activations z. */
static void act_arrays(fl_nn_act a, size_t n, const double *z, double *f, double *f1, double *f2)
{
  if (a == FL_ACT_SILU) {
    fl_vm_silu_jet(n, z, f, f1, f2);
    return;
  }
  if (a == FL_ACT_SIGMOID) {
    fl_vm_sigmoid(n, z, f);
    for (size_t i = 0; i < n; i++) {
      double s = f[i], d = s * (1 - s);
      f1[i] = d;
      if (f2) f2[i] = d * (1 - 2 * s);
    }
    return;
  }
  for (size_t i = 0; i < n; i++) {
    double u, u1, u2;
    act3(a, z[i], &u, &u1, &u2);
    f[i] = u;
    f1[i] = u1;
    if (f2) f2[i] = u2;
  }
}

/* Work split over blocks of points, each block on one thread with its own
 * scratch buffers; inside a block every layer is one dgemm over all its
 * rows (OpenBLAS held to one thread meanwhile: the threads are ours). A
 * block of about NN_BLOCK_DOUBLES doubles per buffer stays in the cache
 * between the dgemm and the element-wise passes. */
typedef struct blockjob {
  size_t n, B, nb;  /* points, points per block, blocks */
  size_t bufs[4];   /* doubles in each scratch buffer (0: none) */
  void (*run)(const struct blockjob *job, size_t i0, size_t b, double *const *buf);
  const fl_nn *nn;
  const double *x, *emb, *dirs, *u;
  int nd, np;
  double *val, *D1, *D2, *out;
} blockjob;

static void plan_blocks(blockjob *job, size_t n, size_t per_point)
{
  size_t B = NN_BLOCK_DOUBLES / (per_point ? per_point : 1);
  if (B < 1) B = 1;
  if (B > n) B = n;
  job->n = n;
  job->B = B;
  job->nb = n ? (n + B - 1) / B : 0;
}

/* Block k, unless an earlier block ran out of memory or was interrupted. */
static void one_block(const blockjob *job, size_t k, double *const *buf, int *nomem, int *intr)
{
  int stop, stop2;
#ifdef _OPENMP
#pragma omp atomic read
#endif
  stop = *nomem;
#ifdef _OPENMP
#pragma omp atomic read
#endif
  stop2 = *intr;
  if (stop || stop2) return;
  if (fl_interrupted()) {
#ifdef _OPENMP
#pragma omp atomic write
#endif
    *intr = 1;
    return;
  }
  size_t i0 = k * job->B, b = job->n - i0 < job->B ? job->n - i0 : job->B;
  job->run(job, i0, b, buf);
}

/* The part of run_blocks on one thread: its buffers, and the blocks the
 * (dynamic) schedule gives it; par = 0 (not in a parallel region): all. */
static void run_blocks_thread(const blockjob *job, int par, int *nomem, int *intr)
{
  double *buf[4] = {NULL, NULL, NULL, NULL};
  int ok = 1;
  for (int k = 0; k < 4; k++)
    if (job->bufs[k] && !(buf[k] = fl_alloc(job->bufs[k] * sizeof(double)))) ok = 0;
  if (!ok) {
#ifdef _OPENMP
#pragma omp atomic write
#endif
    *nomem = 1;
  }
  if (par) {
#ifdef _OPENMP
#pragma omp for schedule(dynamic)
#endif
    for (size_t k = 0; k < job->nb; k++) one_block(job, k, buf, nomem, intr);
  } else {
    for (size_t k = 0; k < job->nb; k++) one_block(job, k, buf, nomem, intr);
  }
  for (int k = 0; k < 4; k++)
    if (buf[k]) fl_free(buf[k], job->bufs[k] * sizeof(double));
}

static fl_status run_blocks(const blockjob *job)
{
  if (job->nb == 0) return FL_OK;
  int nth = 1;
#ifdef _OPENMP
  nth = omp_get_max_threads();
  if ((size_t)nth > job->nb) nth = (int)job->nb;
#endif
  int obt = nth > 1 ? openblas_get_num_threads() : 1;
  if (obt > 1) openblas_set_num_threads(1);
  int nomem = 0, intr = 0;
  size_t need = 0;
  if (nth > 1) {
#ifdef _OPENMP
#pragma omp parallel num_threads(nth)
#endif
    run_blocks_thread(job, 1, &nomem, &intr);
  } else {
    run_blocks_thread(job, 0, &nomem, &intr); /* no parallel region: even a one-thread one costs a system call */
  }
  if (obt > 1) openblas_set_num_threads(obt);
  for (int k = 0; k < 4; k++) need += job->bufs[k];
  if (nomem) return fl_fail(FL_ENOMEM, "network work space (%zu bytes per thread)", need * sizeof(double));
  return intr ? FL_EINTR : FL_OK;
}

/* One block of b points. Work matrices hold R row blocks of b rows: block 0
 * values, blocks 1..nd tangents, then np second-order tangents (pairs a <= b).
 * buf: H, Z (R b w each), F1, F2 (b w: the activation's derivatives). */
static void jet_block(const blockjob *job, size_t i0, size_t B, double *const *buf)
{
  const fl_nn *nn = job->nn;
  const int nd = job->nd, np = job->np;
  const double *x = job->x + i0 * (size_t)nn->a.dim, *dirs = job->dirs ? job->dirs + i0 * (size_t)nn->a.dim : NULL;
  double *H = buf[0], *Z = buf[1], *F1 = buf[2], *F2 = buf[3];
  int d = nn->a.dim, in = nn->in, ne = in - d;
  size_t R = 1 + (size_t)nd + (size_t)np;
  memset(H, 0, R * B * (size_t)in * sizeof *H);
  for (size_t p = 0; p < B; p++) {
    memcpy(H + p * in, x + p * d, (size_t)d * sizeof *H);
    if (ne) memcpy(H + p * in + d, job->emb, (size_t)ne * sizeof *H);
    for (int b = 0; b < nd; b++) {
      double *row = H + ((1 + (size_t)b) * B + p) * in;
      if (dirs) memcpy(row, dirs + p * d, (size_t)d * sizeof *H);
      else row[b] = 1;
    }
  }
  const fl_ad_params *P = nn->P;
  for (int l = 0; l < nn->nlayers; l++) {
    size_t wi = (size_t)nn->width[l], wo = (size_t)nn->width[l + 1], BW = B * wo;
    const double *W = P->x + P->t[2 * l].off, *bias = P->x + P->t[2 * l + 1].off;
    fl_ad_gemm(0, 0, R * B, wo, wi, 1.0, H, wi, W, wo, 0.0, Z, wo);
    for (size_t p = 0; p < B; p++)
      for (size_t c = 0; c < wo; c++) Z[p * wo + c] += bias[c];
    if (l == nn->nlayers - 1) break;
    /* values into H's block 0, f' and f'' at hand for the tangents */
    act_arrays(nn->a.act, BW, Z, H, F1, np ? F2 : NULL);
    for (int b = 0; b < nd; b++) {
      double *Hb = H + (size_t)(1 + b) * BW;
      const double *Zb = Z + (size_t)(1 + b) * BW;
      for (size_t e = 0; e < BW; e++) Hb[e] = F1[e] * Zb[e];
    }
    int q = 0;
    for (int a = 0; a < nd && np; a++)
      for (int b = a; b < nd; b++, q++) {
        double *Hq = H + (size_t)(1 + nd + q) * BW;
        const double *Za = Z + (size_t)(1 + a) * BW, *Zb = Z + (size_t)(1 + b) * BW;
        const double *Zq = Z + (size_t)(1 + nd + q) * BW;
        for (size_t e = 0; e < BW; e++) Hq[e] = F2[e] * Za[e] * Zb[e] + F1[e] * Zq[e];
      }
  }
  size_t m = (size_t)nn->a.out, BW = B * m;
  if (job->val) memcpy(job->val + i0 * m, Z, BW * sizeof *Z);
  if (job->D1) {
    double *D1 = job->D1 + i0 * m * (size_t)nd;
    for (size_t p = 0; p < B; p++)
      for (size_t o = 0; o < m; o++)
        for (int b = 0; b < nd; b++) D1[(p * m + o) * nd + b] = Z[(size_t)(1 + b) * BW + p * m + o];
  }
  if (job->D2) {
    double *D2 = job->D2 + i0 * m * (size_t)d * d;
    int q = 0;
    for (int a = 0; a < nd; a++)
      for (int b = a; b < nd; b++, q++)
        for (size_t p = 0; p < B; p++)
          for (size_t o = 0; o < m; o++) {
            double v = Z[(size_t)(1 + nd + q) * BW + p * m + o];
            D2[((p * m + o) * nd + a) * nd + b] = v;
            D2[((p * m + o) * nd + b) * nd + a] = v;
          }
  }
}

static fl_status jet_run(const fl_nn *nn, size_t n, const double *x, double t, int order, const double *dirs,
                         double *val, double *D1, double *D2)
{
  int d = nn->a.dim;
  int nd = dirs ? 1 : (order >= 1 ? d : 0), np = order >= 2 ? d * (d + 1) / 2 : 0;
  size_t R = 1 + (size_t)nd + (size_t)np, w = max_width(nn);
  double emb[16];
  time_embed(nn->a.time, t, emb);
  blockjob job = {0};
  plan_blocks(&job, n, R * w);
  job.bufs[0] = job.bufs[1] = R * job.B * w;
  job.bufs[2] = job.B * w;
  job.bufs[3] = np ? job.B * w : 0;
  job.run = jet_block;
  job.nn = nn;
  job.x = x;
  job.emb = emb;
  job.dirs = dirs;
  job.nd = nd;
  job.np = np;
  job.val = val;
  job.D1 = D1;
  job.D2 = D2;
  return run_blocks(&job);
}

fl_status fl_nn_jet(const fl_nn *nn, size_t n, const double *x, double t, int order, double *val, double *D1,
                    double *D2)
{
  return jet_run(nn, n, x, t, order, NULL, val, order >= 1 ? D1 : NULL, order >= 2 ? D2 : NULL);
}

fl_status fl_nn_jvp(const fl_nn *nn, size_t n, const double *x, double t, const double *v, double *out)
{
  return jet_run(nn, n, x, t, 1, v, NULL, out, NULL);
}

/* One block of the reverse pass. buf[0]: slot 0 the input, slots 1..L-1 the
 * pre-activations z_l, then T (activated), G, G2, each b w. */
static void vjp_block(const blockjob *job, size_t i0, size_t b, double *const *buf)
{
  const fl_nn *nn = job->nn;
  int d = nn->a.dim, L = nn->nlayers, in = nn->in;
  size_t w = max_width(nn), m = (size_t)nn->a.out;
  const fl_ad_params *P = nn->P;
  fl_nn_act act = nn->a.act;
  double *Zs[FL_NN_MAXLAYERS + 2];
  for (size_t k = 0; k < (size_t)L + 3; k++) Zs[k] = buf[0] + k * b * w;
  double *T = Zs[L], *G = Zs[L + 1], *G2 = Zs[L + 2], *F1 = buf[1];
  for (size_t p = 0; p < b; p++) {
    memcpy(Zs[0] + p * in, job->x + (i0 + p) * d, (size_t)d * sizeof(double));
    if (in > d) memcpy(Zs[0] + p * in + d, job->emb, (size_t)(in - d) * sizeof(double));
  }
  for (int l = 0; l + 1 < L; l++) {
    size_t wi = (size_t)nn->width[l], wo = (size_t)nn->width[l + 1];
    fl_ad_gemm(0, 0, b, wo, wi, 1.0, l ? T : Zs[0], wi, P->x + P->t[2 * l].off, wo, 0.0, Zs[l + 1], wo);
    const double *bias = P->x + P->t[2 * l + 1].off;
    double *Zl = Zs[l + 1];
    for (size_t p = 0; p < b; p++)
      for (size_t c = 0; c < wo; c++) Zl[p * wo + c] += bias[c];
    act_arrays(act, b * wo, Zl, T, F1, NULL);
  }
  memcpy(G, job->u + i0 * m, b * m * sizeof(double));
  for (int l = L - 1; l >= 0; l--) {
    size_t wi = (size_t)nn->width[l], wo = (size_t)nn->width[l + 1];
    fl_ad_gemm(0, 1, b, wi, wo, 1.0, G, wo, P->x + P->t[2 * l].off, wo, 0.0, G2, wi);
    if (l > 0) { /* times f'(z_l) */
      size_t ne = b * wi;
      act_arrays(act, ne, Zs[l], T, F1, NULL);
      for (size_t e = 0; e < ne; e++) G2[e] *= F1[e];
    }
    double *tmp = G; G = G2; G2 = tmp;
  }
  for (size_t p = 0; p < b; p++) memcpy(job->out + (i0 + p) * d, G + p * in, (size_t)d * sizeof(double));
}

fl_status fl_nn_vjp(const fl_nn *nn, size_t n, const double *x, double t, const double *u, double *out)
{
  size_t w = max_width(nn), S = (size_t)nn->nlayers + 3;
  double emb[16];
  time_embed(nn->a.time, t, emb);
  blockjob job = {0};
  plan_blocks(&job, n, w * S);
  job.bufs[0] = job.B * w * S;
  job.bufs[1] = job.B * w;
  job.run = vjp_block;
  job.nn = nn;
  job.x = x;
  job.emb = emb;
  job.u = u;
  job.out = out;
  return run_blocks(&job);
}

/* ------------------------------------------------------------ fields */

typedef struct nn_field { fl_nn *nn; fl_nn_kind kind; } nn_field;

static void nf_destroy(void *data)
{
  nn_field *nf = data;
  fl_nn_release(nf->nn);
  free(nf);
}

static fl_status scratch(size_t count, double **p, size_t *bytes)
{
  if (fl_mul_overflow(count, sizeof(double), bytes)) return fl_fail(FL_ENOMEM, "network: size overflow");
  *p = fl_alloc(*bytes);
  return *p ? FL_OK : fl_fail(FL_ENOMEM, "network work space (%zu bytes)", *bytes);
}

static fl_status mlp_eval(fl_field *f, size_t n, const double *x, double t, double *out)
{
  return fl_nn_jet(((nn_field *)f->data)->nn, n, x, t, 0, out, NULL, NULL);
}

static fl_status mlp_jac(fl_field *f, size_t n, const double *x, double t, double *J)
{
  return fl_nn_jet(((nn_field *)f->data)->nn, n, x, t, 1, NULL, J, NULL);
}

static fl_status pot_hess(fl_field *f, size_t n, const double *x, double t, double *H)
{
  return fl_nn_jet(((nn_field *)f->data)->nn, n, x, t, 2, NULL, NULL, H);
}

static fl_status pot_lap(fl_field *f, size_t n, const double *x, double t, double *out)
{
  int d = f->dim;
  double *H;
  size_t bytes;
  fl_status st = scratch(n * (size_t)d * d, &H, &bytes);
  if (st) return st;
  if (!(st = pot_hess(f, n, x, t, H)))
    for (size_t i = 0; i < n; i++) {
      double s = 0;
      for (int a = 0; a < d; a++) s += H[(i * d + a) * d + a];
      out[i] = s;
    }
  fl_free(H, bytes);
  return st;
}

/* gradient of a potential: one reverse pass for the values, the Hessian for the Jacobian */
static fl_status grad_eval(fl_field *f, size_t n, const double *x, double t, double *out)
{
  double *u;
  size_t bytes;
  fl_status st = scratch(n ? n : 1, &u, &bytes);
  if (st) return st;
  for (size_t i = 0; i < n; i++) u[i] = 1;
  st = fl_nn_vjp(((nn_field *)f->data)->nn, n, x, t, u, out);
  fl_free(u, bytes);
  return st;
}

/* divfree: A_ij = s g_k for the pair (i < j) -> (k, s). */
static void df_pair(int d, int i, int j, int *k, int *s)
{
  if (d == 3) {
    static const int kk[3][3] = {{0, 2, 1}, {2, 0, 0}, {1, 0, 0}};
    *k = kk[i][j];
    *s = (i == 0 && j == 2) ? -1 : 1;
    return;
  }
  *k = i * d - i * (i + 1) / 2 + (j - i - 1);
  *s = 1;
}

static fl_status df_eval(fl_field *f, size_t n, const double *x, double t, double *out)
{
  const fl_nn *nn = ((nn_field *)f->data)->nn;
  int d = f->dim;
  size_t m = (size_t)nn->a.out, bytes;
  double *D1;
  fl_status st = scratch(n * m * d, &D1, &bytes);
  if (st) return st;
  if (!(st = fl_nn_jet(nn, n, x, t, 1, NULL, D1, NULL)))
    for (size_t p = 0; p < n; p++) {
      double *v = out + p * d;
      for (int i = 0; i < d; i++) v[i] = 0;
      for (int i = 0; i < d; i++)
        for (int j = i + 1; j < d; j++) {
          int k, s;
          df_pair(d, i, j, &k, &s);
          const double *g = D1 + (p * m + (size_t)k) * d;
          v[i] += s * g[j];
          v[j] -= s * g[i];
        }
    }
  fl_free(D1, bytes);
  return st;
}

static fl_status df_jac(fl_field *f, size_t n, const double *x, double t, double *J)
{
  const fl_nn *nn = ((nn_field *)f->data)->nn;
  int d = f->dim;
  size_t m = (size_t)nn->a.out, bytes;
  double *D2;
  fl_status st = scratch(n * m * d * d, &D2, &bytes);
  if (st) return st;
  if (!(st = fl_nn_jet(nn, n, x, t, 2, NULL, NULL, D2)))
    for (size_t p = 0; p < n; p++) {
      double *Jp = J + p * d * d;
      memset(Jp, 0, (size_t)d * d * sizeof *Jp);
      for (int i = 0; i < d; i++)
        for (int j = i + 1; j < d; j++) {
          int k, s;
          df_pair(d, i, j, &k, &s);
          const double *H = D2 + (p * m + (size_t)k) * d * d;
          for (int b = 0; b < d; b++) {
            Jp[i * d + b] += s * H[j * d + b];
            Jp[j * d + b] -= s * H[i * d + b];
          }
        }
    }
  fl_free(D2, bytes);
  return st;
}

static const fl_field_ops mlp_ops = {"mlp", mlp_eval, mlp_jac, NULL, NULL, NULL, nf_destroy};
static const fl_field_ops pot_ops = {"potential", mlp_eval, mlp_jac, NULL, pot_hess, pot_lap, nf_destroy};
static const fl_field_ops grad_ops = {"gradient_net", grad_eval, pot_hess, NULL, NULL, NULL, nf_destroy};
static const fl_field_ops df_ops = {"divfree", df_eval, df_jac, NULL, NULL, NULL, nf_destroy};

fl_status fl_nn_field(fl_nn *nn, fl_nn_kind kind, fl_field **out)
{
  const fl_field_ops *ops;
  int codim;
  switch (kind) {
  case FL_NN_MLP: ops = &mlp_ops; codim = nn->a.out; break;
  case FL_NN_POTENTIAL: ops = &pot_ops; codim = 1; break;
  case FL_NN_GRADIENT: ops = &grad_ops; codim = nn->a.dim; break;
  case FL_NN_DIVFREE: ops = &df_ops; codim = nn->a.dim; break;
  default: return fl_fail(FL_EINVAL, "unknown network kind %d", (int)kind);
  }
  if ((kind == FL_NN_POTENTIAL || kind == FL_NN_GRADIENT) && nn->a.out != 1)
    return fl_fail(FL_EINVAL, "a %s needs a scalar network (out = 1), not out = %d", fl_nn_kind_name(kind), nn->a.out);
  if (kind == FL_NN_DIVFREE && (nn->a.dim < 2 || nn->a.out != nn->a.dim * (nn->a.dim - 1) / 2))
    return fl_fail(FL_EINVAL, "a divfree network in %d dimensions needs %d outputs, not %d", nn->a.dim,
                   nn->a.dim * (nn->a.dim - 1) / 2, nn->a.out);
  nn_field *nf = malloc(sizeof *nf);
  if (!nf) return fl_fail(FL_ENOMEM, "network field");
  nf->nn = fl_nn_retain(nn);
  nf->kind = kind;
  return fl_field_new(ops, nn->a.dim, codim, nn->a.time != FL_TIME_NONE, 1, nf, out);
}

fl_nn *fl_nn_of(const fl_field *f, fl_nn_kind *kind)
{
  if (!f || (f->ops != &mlp_ops && f->ops != &pot_ops && f->ops != &grad_ops && f->ops != &df_ops)) return NULL;
  const nn_field *nf = f->data;
  if (kind) *kind = nf->kind;
  return nf->nn;
}

/* ------------------------------------------------------------ architecture as JSON */

fl_status fl_nn_arch_to_json(const fl_nn_arch *a, char **json)
{
  json_t *o = json_object(), *h = json_array();
  if (!o || !h) { json_decref(o); json_decref(h); return fl_fail(FL_ENOMEM, "architecture"); }
  for (int i = 0; i < a->nhidden; i++) json_array_append_new(h, json_integer(a->hidden[i]));
  json_object_set_new(o, "kind", json_string(fl_nn_kind_name(a->kind)));
  json_object_set_new(o, "dim", json_integer(a->dim));
  json_object_set_new(o, "out", json_integer(a->out));
  json_object_set_new(o, "hidden", h);
  json_object_set_new(o, "act", json_string(fl_nn_act_name(a->act)));
  json_object_set_new(o, "time", json_string(fl_nn_time_name(a->time)));
  json_object_set_new(o, "param", json_string(a->param));
  *json = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(o);
  return *json ? FL_OK : fl_fail(FL_ENOMEM, "architecture");
}

fl_status fl_nn_arch_from_json(const char *text, fl_nn_arch *a)
{
  json_error_t err;
  json_t *o = json_loads(text, 0, &err);
  if (!o) return fl_fail(FL_EFORMAT, "architecture: bad JSON (%s)", err.text);
  memset(a, 0, sizeof *a);
  fl_status st = FL_OK;
  json_t *k = json_object_get(o, "kind"), *d = json_object_get(o, "dim"), *out = json_object_get(o, "out"),
         *h = json_object_get(o, "hidden"), *ac = json_object_get(o, "act"), *tm = json_object_get(o, "time"),
         *pa = json_object_get(o, "param");
  if (!json_is_string(k) || kind_parse(json_string_value(k), &a->kind))
    st = fl_fail(FL_EFORMAT, "architecture: missing or unknown 'kind'");
  else if (!json_is_integer(d) || !json_is_integer(out))
    st = fl_fail(FL_EFORMAT, "architecture: 'dim' and 'out' must be integers");
  else if (!json_is_array(h) || json_array_size(h) > FL_NN_MAXLAYERS)
    st = fl_fail(FL_EFORMAT, "architecture: 'hidden' must be an array of at most %d widths", FL_NN_MAXLAYERS);
  else if (!json_is_string(ac) || fl_nn_act_parse(json_string_value(ac), &a->act))
    st = fl_fail(FL_EFORMAT, "architecture: missing or unknown 'act'");
  else if (!json_is_string(tm) || fl_nn_time_parse(json_string_value(tm), &a->time))
    st = fl_fail(FL_EFORMAT, "architecture: missing or unknown 'time'");
  else {
    a->dim = (int)json_integer_value(d);
    a->out = (int)json_integer_value(out);
    a->nhidden = (int)json_array_size(h);
    for (int i = 0; i < a->nhidden && !st; i++) {
      json_t *w = json_array_get(h, (size_t)i);
      if (!json_is_integer(w)) st = fl_fail(FL_EFORMAT, "architecture: hidden widths must be integers");
      else a->hidden[i] = (int)json_integer_value(w);
    }
    if (json_is_string(pa)) snprintf(a->param, sizeof a->param, "%s", json_string_value(pa));
  }
  json_decref(o);
  return st;
}

/* ------------------------------------------------------------ safetensors */

static void put_le64(unsigned char *b, uint64_t v)
{
  for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le64(const unsigned char *b)
{
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | b[i];
  return v;
}

static void put_f64(unsigned char *b, double x)
{
  uint64_t u;
  memcpy(&u, &x, 8);
  put_le64(b, u);
}

fl_status fl_nn_save(const fl_nn *nn, fl_nn_kind kind, const char *path)
{
  fl_nn_arch a = nn->a;
  a.kind = kind;
  char *arch;
  fl_status st = fl_nn_arch_to_json(&a, &arch);
  if (st) return st;
  json_t *h = json_object(), *meta = json_object();
  json_object_set_new(meta, "fieldlab", json_string(arch));
  json_object_set_new(meta, "format", json_string("pt"));
  free(arch);
  json_object_set_new(h, "__metadata__", meta);
  size_t off = 0;
  for (int l = 0; l < nn->nlayers; l++) {
    size_t wi = (size_t)nn->width[l], wo = (size_t)nn->width[l + 1];
    char name[64];
    for (int pb = 0; pb < 2; pb++) {
      size_t cnt = pb ? wo : wi * wo;
      json_t *e = json_object(), *shape = json_array(), *offs = json_array();
      json_array_append_new(shape, json_integer((json_int_t)wo));
      if (!pb) json_array_append_new(shape, json_integer((json_int_t)wi));
      json_array_append_new(offs, json_integer((json_int_t)off));
      json_array_append_new(offs, json_integer((json_int_t)(off + 8 * cnt)));
      json_object_set_new(e, "dtype", json_string("F64"));
      json_object_set_new(e, "shape", shape);
      json_object_set_new(e, "data_offsets", offs);
      snprintf(name, sizeof name, "layers.%d.%s", l, pb ? "bias" : "weight");
      json_object_set_new(h, name, e);
      off += 8 * cnt;
    }
  }
  char *htext = json_dumps(h, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(h);
  if (!htext) return fl_fail(FL_ENOMEM, "safetensors header");
  size_t hl = strlen(htext), hpad = (hl + 7) / 8 * 8, total = 8 + hpad + off;
  unsigned char *buf = malloc(total);
  if (!buf) { free(htext); return fl_fail(FL_ENOMEM, "safetensors file (%zu bytes)", total); }
  put_le64(buf, hpad);
  memcpy(buf + 8, htext, hl);
  memset(buf + 8 + hl, ' ', hpad - hl);
  free(htext);
  unsigned char *p = buf + 8 + hpad;
  const fl_ad_params *P = nn->P;
  for (int l = 0; l < nn->nlayers; l++) {
    size_t wi = (size_t)nn->width[l], wo = (size_t)nn->width[l + 1];
    const double *W = P->x + P->t[2 * l].off, *b = P->x + P->t[2 * l + 1].off;
    for (size_t o = 0; o < wo; o++)
      for (size_t i = 0; i < wi; i++, p += 8) put_f64(p, W[i * wo + o]);
    for (size_t o = 0; o < wo; o++, p += 8) put_f64(p, b[o]);
  }
  size_t plen = strlen(path);
  char *tmp = malloc(plen + 16);
  if (!tmp) { free(buf); return fl_fail(FL_ENOMEM, "path"); }
  snprintf(tmp, plen + 16, "%s.tmp", path);
  FILE *fp = fopen(tmp, "wb");
  if (!fp) {
    st = fl_fail(FL_EIO, "cannot write %s: %s", tmp, strerror(errno));
  } else {
    int bad = fwrite(buf, 1, total, fp) != total;
    bad |= fclose(fp) != 0;
    if (bad) {
      st = fl_fail(FL_EIO, "cannot write %s: %s", tmp, strerror(errno));
      remove(tmp);
    } else if (rename(tmp, path)) {
      st = fl_fail(FL_EIO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
      remove(tmp);
    }
  }
  free(tmp);
  free(buf);
  return st;
}

/* Prefix the current error detail with the path. */
static void prefix_detail(fl_status st, const char *path)
{
  char d[512];
  snprintf(d, sizeof d, "%s", fl_last_detail());
  fl_fail(st, "%s: %s", path, d);
}

static int cmp_int(const void *a, const void *b)
{
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

/* Read tensor `name` of expected shape (r, c) (c == 0: 1-D [r]) into dst
 * (transposed: dst[j*r + i] = T[i][j] when transpose). */
static fl_status read_tensor(json_t *h, const char *name, const unsigned char *data, size_t dlen, size_t r, size_t c,
                             int transpose, double *dst)
{
  json_t *e = json_object_get(h, name);
  if (!json_is_object(e)) return fl_fail(FL_EFORMAT, "no tensor '%s' in the file", name);
  json_t *dt = json_object_get(e, "dtype"), *sh = json_object_get(e, "shape"), *of = json_object_get(e, "data_offsets");
  if (!json_is_string(dt)) return fl_fail(FL_EFORMAT, "tensor '%s': no dtype", name);
  const char *dts = json_string_value(dt);
  int es = !strcmp(dts, "F64") ? 8 : !strcmp(dts, "F32") ? 4 : 0;
  if (!es) return fl_fail(FL_EFORMAT, "tensor '%s': dtype %s (F32 or F64 expected)", name, dts);
  size_t want_nd = c ? 2 : 1;
  if (!json_is_array(sh)) return fl_fail(FL_EFORMAT, "tensor '%s': no shape", name);
  int ok = json_array_size(sh) == want_nd;
  for (size_t i = 0; ok && i < want_nd; i++) {
    json_t *v = json_array_get(sh, i);
    ok = json_is_integer(v) && (size_t)json_integer_value(v) == (i ? c : r) && json_integer_value(v) >= 0;
  }
  if (!ok) {
    char got[128] = "", *q = got;
    for (size_t i = 0; i < json_array_size(sh) && q < got + 100; i++)
      q += snprintf(q, (size_t)(got + sizeof got - q), "%s%lld", i ? ", " : "",
                    (long long)json_integer_value(json_array_get(sh, i)));
    if (c) return fl_fail(FL_EDIM, "tensor '%s' has shape [%s], the architecture needs [%zu, %zu]", name, got, r, c);
    return fl_fail(FL_EDIM, "tensor '%s' has shape [%s], the architecture needs [%zu]", name, got, r);
  }
  if (!json_is_array(of) || json_array_size(of) != 2 || !json_is_integer(json_array_get(of, 0)) ||
      !json_is_integer(json_array_get(of, 1)))
    return fl_fail(FL_EFORMAT, "tensor '%s': data_offsets must be two integers", name);
  json_int_t a = json_integer_value(json_array_get(of, 0)), b = json_integer_value(json_array_get(of, 1));
  size_t cnt = r * (c ? c : 1);
  if (a < 0 || b < a || (uint64_t)b > dlen)
    return fl_fail(FL_EFORMAT, "tensor '%s': data offsets [%lld, %lld] lie outside the %zu data bytes of the file", name,
                   (long long)a, (long long)b, dlen);
  if ((uint64_t)(b - a) != cnt * (size_t)es)
    return fl_fail(FL_EFORMAT, "tensor '%s': data offsets [%lld, %lld] hold %lld bytes, shape and dtype %s need %zu",
                   name, (long long)a, (long long)b, (long long)(b - a), dts, cnt * (size_t)es);
  const unsigned char *p = data + a;
  size_t cc = c ? c : 1;
  for (size_t i = 0; i < r; i++)
    for (size_t j = 0; j < cc; j++) {
      double v;
      if (es == 8) {
        uint64_t u = get_le64(p);
        memcpy(&v, &u, 8);
      } else {
        uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        float fv;
        memcpy(&fv, &u, 4);
        v = fv;
      }
      p += es;
      dst[transpose ? j * r + i : i * cc + j] = v;
    }
  return FL_OK;
}

/* Read a safetensors file: the whole file in *buf, its header parsed in *h,
 * the data section at *data (*dlen bytes). */
static fl_status st_open(const char *path, unsigned char **bufp, json_t **hp, const unsigned char **data, size_t *dlen)
{
  FILE *fp = fopen(path, "rb");
  if (!fp) return fl_fail(FL_EIO, "cannot open %s: %s", path, strerror(errno));
  long size = -1;
  if (!fseek(fp, 0, SEEK_END)) size = ftell(fp);
  if (size < 0 || fseek(fp, 0, SEEK_SET)) { fclose(fp); return fl_fail(FL_EIO, "cannot read %s", path); }
  unsigned char *buf = malloc((size_t)size + 1);
  if (!buf) { fclose(fp); return fl_fail(FL_ENOMEM, "%s: %ld bytes", path, size); }
  size_t got = fread(buf, 1, (size_t)size, fp);
  fclose(fp);
  fl_status st = FL_OK;
  json_t *h = NULL;
  uint64_t hl = 0;
  if (got != (size_t)size) st = fl_fail(FL_EIO, "cannot read %s", path);
  else if (size < 8) st = fl_fail(FL_EFORMAT, "%s: %ld bytes, too short for a safetensors file", path, size);
  else if ((hl = get_le64(buf)) > (uint64_t)size - 8)
    st = fl_fail(FL_EFORMAT, "%s: header length %llu beyond the file (%ld bytes): truncated or not safetensors", path,
                 (unsigned long long)hl, size);
  else {
    json_error_t err;
    h = json_loadb((const char *)buf + 8, (size_t)hl, 0, &err);
    if (!json_is_object(h))
      st = fl_fail(FL_EFORMAT, "%s: the header is not a JSON object (%s)", path, h ? "an array or value" : err.text);
  }
  if (st) {
    json_decref(h);
    free(buf);
    return st;
  }
  *bufp = buf;
  *hp = h;
  *data = buf + 8 + hl;
  *dlen = (size_t)size - 8 - (size_t)hl;
  return FL_OK;
}

fl_status fl_nn_load(const char *path, const fl_nn_arch *arch, fl_nn **out, fl_nn_kind *kind)
{
  unsigned char *buf;
  json_t *h;
  const unsigned char *data;
  size_t dlen;
  fl_nn *nn = NULL;
  fl_status st = st_open(path, &buf, &h, &data, &dlen);
  if (st) return st;
  fl_nn_arch a;
  fl_nn_kind k;
  if (arch) {
    a = *arch;
    k = a.kind;
  } else {
    json_t *fl = json_object_get(json_object_get(h, "__metadata__"), "fieldlab");
    if (!json_is_string(fl)) {
      st = fl_fail(FL_EFORMAT, "%s: no fieldlab architecture in __metadata__ (for a PyTorch file give one: net.import_torch)", path);
      goto done;
    }
    if ((st = fl_nn_arch_from_json(json_string_value(fl), &a))) {
      prefix_detail(st, path);
      goto done;
    }
    k = a.kind;
  }
  /* the linear layers in the file, by increasing K of layers.K.weight */
  int ks[FL_NN_MAXLAYERS + 2], nk = 0;
  const char *key;
  json_t *val;
  json_object_foreach(h, key, val) {
    int K, pos = 0;
    if (strncmp(key, "layers.", 7)) continue; /* other tensors (and __metadata__) are not the network's */
    if (sscanf(key, "layers.%d.weight%n", &K, &pos) == 1 && key[pos] == 0) {
      if (nk > FL_NN_MAXLAYERS) { st = fl_fail(FL_EFORMAT, "%s: more than %d layers", path, FL_NN_MAXLAYERS + 1); goto done; }
      ks[nk++] = K;
    } else if (!(sscanf(key, "layers.%d.bias%n", &K, &pos) == 1 && key[pos] == 0)) {
      st = fl_fail(FL_EFORMAT, "%s: unexpected tensor '%s' (names are layers.K.weight and layers.K.bias)", path, key);
      goto done;
    }
  }
  qsort(ks, (size_t)nk, sizeof *ks, cmp_int);
  {
    /* before allocating: the data must hold the parameters at least as F32 */
    fl_nn_arch chk = a;
    if ((st = fl_nn_arch_check(&chk))) { prefix_detail(st, path); goto done; }
    double need = 0;
    int w0 = chk.dim + fl_nn_time_features(chk.time);
    for (int l = 0; l <= chk.nhidden; l++) {
      int wi = l ? chk.hidden[l - 1] : w0, wo = l < chk.nhidden ? chk.hidden[l] : chk.out;
      need += ((double)wi + 1) * wo;
    }
    if (4 * need > (double)dlen) {
      st = fl_fail(FL_EFORMAT, "%s: %zu data bytes, the architecture's %.0f parameters need at least %.0f", path, dlen,
                   need, 4 * need);
      goto done;
    }
  }
  if ((st = fl_nn_new(&a, FL_INIT_DEFAULT, 0, &nn))) goto done;
  if (nk != nn->nlayers) {
    st = fl_fail(FL_EDIM, "%s: the file has %d linear layers, the architecture %d", path, nk, nn->nlayers);
    goto done;
  }
  for (int l = 0; l < nn->nlayers && !st; l++) {
    char name[64];
    size_t wi = (size_t)nn->width[l], wo = (size_t)nn->width[l + 1];
    snprintf(name, sizeof name, "layers.%d.weight", ks[l]);
    st = read_tensor(h, name, data, dlen, wo, wi, 1, fl_ad_params_value(nn->P, 2 * (size_t)l));
    if (!st) {
      snprintf(name, sizeof name, "layers.%d.bias", ks[l]);
      st = read_tensor(h, name, data, dlen, wo, 0, 0, fl_ad_params_value(nn->P, 2 * (size_t)l + 1));
    }
    if (st) prefix_detail(st, path);
  }
  if (!st) {
    *out = nn;
    nn = NULL;
    if (kind) *kind = k;
  }
done:
  if (nn) fl_nn_release(nn);
  json_decref(h);
  free(buf);
  return st;
}

fl_status fl_nn_read_tensors(const char *path, size_t *count, char ***names, fl_array ***arrays)
{
  unsigned char *buf;
  json_t *h;
  const unsigned char *data;
  size_t dlen, n = 0, cap;
  fl_status st = st_open(path, &buf, &h, &data, &dlen);
  if (st) return st;
  cap = json_object_size(h) + 1;
  char **nm = calloc(cap, sizeof *nm);
  fl_array **ar = calloc(cap, sizeof *ar);
  if (!nm || !ar) st = fl_fail(FL_ENOMEM, "tensors");
  const char *key;
  json_t *e;
  json_object_foreach(h, key, e) {
    if (st) break;
    if (!strcmp(key, "__metadata__")) continue;
    json_t *sh = json_object_get(e, "shape");
    size_t shape[FL_MAXDIM], nd = json_is_array(sh) ? json_array_size(sh) : 0;
    if (!json_is_array(sh) || nd < 1 || nd > 2) {
      st = fl_fail(FL_EFORMAT, "%s: tensor '%s': only 1-D and 2-D tensors are read", path, key);
      break;
    }
    for (size_t i = 0; i < nd; i++) {
      json_t *v = json_array_get(sh, i);
      if (!json_is_integer(v) || json_integer_value(v) < 0) { st = fl_fail(FL_EFORMAT, "%s: tensor '%s': bad shape", path, key); break; }
      shape[i] = (size_t)json_integer_value(v);
    }
    if (st) break;
    size_t r = nd ? shape[0] : 1, c = 1;
    for (size_t i = 1; i < nd; i++) c *= shape[i];
    if ((st = fl_array_new((int)nd, shape, &ar[n]))) break;
    if (!(nm[n] = strdup(key))) { n++; st = fl_fail(FL_ENOMEM, "tensors"); break; }
    n++;
    if ((st = read_tensor(h, key, data, dlen, r, nd > 1 ? c : 0, 0, ar[n - 1]->data))) prefix_detail(st, path);
  }
  json_decref(h);
  free(buf);
  if (st) {
    for (size_t i = 0; i < n; i++) { free(nm[i]); fl_array_release(ar[i]); }
    free(nm);
    free(ar);
    return st;
  }
  *count = n;
  *names = nm;
  *arrays = ar;
  return FL_OK;
}

/* ------------------------------------------------------------ fused DSM step */

struct fl_nn_dsm {
  fl_nn *nn;
  fl_schedule s;
  fl_param target;
  int sigma2;
  double tmin, tmax;
  size_t b;
  double *buf;
  size_t bytes;
  double *x0, *eps, *t, *a, *sg, *da, *ds, *xt, *h0, *r, *sq, *gA;
  double *z[FL_NN_MAXLAYERS + 2], *f[FL_NN_MAXLAYERS + 2], *sig[FL_NN_MAXLAYERS + 2], *gz[FL_NN_MAXLAYERS + 2];
  int nt;      /* threads of the step (see fl_nn_dsm_step) */
  double loss; /* the loss of the last step, set by its thread 0 */
};

fl_status fl_nn_dsm_new(fl_nn *nn, const fl_schedule *s, fl_param target, int weight_sigma2, double t_min,
                        double t_max, size_t batch, fl_nn_dsm **out)
{
  *out = NULL;
  if (nn->a.kind != FL_NN_MLP || nn->a.act != FL_ACT_SILU ||
      (nn->a.time != FL_TIME_NONE && nn->a.time != FL_TIME_CONCAT) || nn->a.out != nn->a.dim)
    return fl_fail(FL_EINVAL, "fl_nn_dsm_new: needs an mlp R^d -> R^d with silu activations and time none or concat");
  if (batch < 2) return fl_fail(FL_EINVAL, "fl_nn_dsm_new: batch must be >= 2, not %zu", batch);
  for (int l = 1; l < nn->nlayers; l++)
    if (nn->width[l] < 2) return fl_fail(FL_EINVAL, "fl_nn_dsm_new: hidden widths must be >= 2");
  fl_nn_dsm *w = fl_calloc(1, sizeof *w);
  if (!w) return fl_fail(FL_ENOMEM, "fl_nn_dsm_new: out of memory");
  size_t b = batch, d = (size_t)nn->a.dim, L = (size_t)nn->nlayers, mw = 0, total = 0;
  for (size_t l = 0; l <= L; l++) mw = (size_t)nn->width[l] > mw ? (size_t)nn->width[l] : mw;
  /* x0 eps xt r: b d each; t a sg da ds sq: b; h0: b in; gA gB: b mw; per layer z, and f, sig for hidden */
  total = 4 * b * d + 6 * b + b * (size_t)nn->in + b * mw;
  for (size_t l = 1; l <= L; l++) total += b * (size_t)nn->width[l] * (l < L ? 4 : 2);
  for (size_t l = 1; l <= L; l++) total += 8; /* alignment slack */
  w->bytes = (total + 8 * 16) * sizeof(double);
  w->buf = fl_alloc(w->bytes);
  if (!w->buf) {
    fl_free(w, sizeof *w);
    return fl_fail(FL_ENOMEM, "fl_nn_dsm_new: out of memory for %zu doubles", total);
  }
  double *p = w->buf;
#define TAKE(ptr, cnt) do { (ptr) = p; p += ((cnt) + 7) / 8 * 8; } while (0)
  TAKE(w->x0, b * d); TAKE(w->eps, b * d); TAKE(w->xt, b * d); TAKE(w->r, b * d);
  TAKE(w->t, b); TAKE(w->a, b); TAKE(w->sg, b); TAKE(w->da, b); TAKE(w->ds, b); TAKE(w->sq, b);
  TAKE(w->h0, b * (size_t)nn->in); TAKE(w->gA, b * mw);
  for (size_t l = 1; l <= L; l++) {
    TAKE(w->z[l], b * (size_t)nn->width[l]);
    TAKE(w->gz[l], b * (size_t)nn->width[l]);
    if (l < L) {
      TAKE(w->f[l], b * (size_t)nn->width[l]);
      TAKE(w->sig[l], b * (size_t)nn->width[l]);
    }
  }
#undef TAKE
  /* threads: all of them when the step has 2^20 multiply-adds or more
   * (one parallel region per step pays for itself from there), each at
   * least 8 rows of the batch */
  double macs = 0;
  for (size_t l = 1; l <= L; l++) macs += (double)b * nn->width[l - 1] * nn->width[l];
  w->nt = 1;
#ifdef _OPENMP
  if (macs >= 1048576.0) {
    int mt = omp_get_max_threads(), rows = (int)(b / 8 < 64 ? b / 8 : 64);
    w->nt = mt < rows ? mt : rows;
    if (w->nt < 1) w->nt = 1;
  }
#endif
  w->nn = fl_nn_retain(nn);
  w->s = *s;
  w->target = target;
  w->sigma2 = weight_sigma2 != 0;
  w->tmin = t_min;
  w->tmax = t_max;
  w->b = b;
  *out = w;
  return FL_OK;
}

void fl_nn_dsm_free(fl_nn_dsm *w)
{
  if (!w) return;
  fl_nn_release(w->nn);
  fl_free(w->buf, w->bytes);
  fl_free(w, sizeof *w);
}

/* ------------------------------------------------------------ the step's threads
 * The network part of a step runs on nt threads, each taking a slab of
 * every product (rows of the batch; for the parameter gradients, rows or
 * columns of the gradient), with a barrier between dependent stages. A
 * dgemm computes each element of its result from its row of op(A) and its
 * column of op(B) in an order that depends only on k, so a slab holds the
 * numbers the whole product would: the split changes no bit. */

typedef struct dsm_barrier {
  int count, sense;
} dsm_barrier;

/* Wait for the nt threads (a no-op for one): spin a little, then yield,
 * since on a busy machine the thread waited for may need this core. */
static void dsm_wait(dsm_barrier *bar, int nt, int *sense)
{
  if (nt == 1) return;
  int s = !*sense;
  *sense = s;
  if (__atomic_add_fetch(&bar->count, 1, __ATOMIC_ACQ_REL) == nt) {
    __atomic_store_n(&bar->count, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&bar->sense, s, __ATOMIC_RELEASE);
  } else {
    for (long spin = 0; __atomic_load_n(&bar->sense, __ATOMIC_ACQUIRE) != s; spin++)
      if (spin > 20000) sched_yield();
  }
}

/* Slab me of nt of len items: [*o, *o + *n), in multiples of 8. */
static void dsm_slab(size_t len, int me, int nt, size_t *o, size_t *n)
{
  size_t step = (len + (size_t)nt - 1) / (size_t)nt;
  step = (step + 7) / 8 * 8;
  size_t lo = (size_t)me * step;
  *o = lo < len ? lo : len;
  *n = len - *o < step ? len - *o : step;
}

/* Forward pass of layer l on rows [o, o + n): z = bias rows + h W (the
 * graph's dense layer: one dgemm with beta = 1), f = silu(z) for hidden
 * layers. Returns the layer's output. */
static const double *dsm_forward(fl_nn_dsm *w, const double *h, size_t l, size_t o, size_t n)
{
  fl_nn *nn = w->nn;
  fl_ad_params *P = nn->P;
  size_t k = (size_t)nn->width[l - 1], c = (size_t)nn->width[l];
  double *z = w->z[l];
  const double *bias = fl_ad_params_value(P, 2 * (l - 1) + 1);
  for (size_t i = o; i < o + n; i++) memcpy(z + i * c, bias, c * sizeof(double));
  if (n) fl_ad_gemm(0, 0, n, c, k, 1.0, h + o * k, k, fl_ad_params_value(P, 2 * (l - 1)), c, 1.0, z + o * c, c);
  if (l == (size_t)nn->nlayers) return z;
  fl_vm_silu_s(n * c, z + o * c, w->f[l] + o * c, w->sig[l] + o * c);
  return w->f[l];
}

/* Backward stage of layer l, slab me of nt: the parameter gradients W_l +=
 * h_{l-1}^T gz[l] (beta = 1 onto zeros: the graph's 0 + value) in a slab of
 * rows (or columns, when it has fewer rows), b_l += the column sums of gz[l]
 * in row order (the graph's sum node) in a slab of columns; and for l > 1
 * the link of the chain gz[l-1] = silu'(z_{l-1}) (gz[l] W^T) (the graph's
 * matmul and fused silu' nodes) in a slab of rows of the batch. x is the
 * network input. */
static void dsm_backward(fl_nn_dsm *w, const double *x, size_t l, int me, int nt)
{
  fl_nn *nn = w->nn;
  fl_ad_params *P = nn->P;
  size_t b = w->b, k = (size_t)nn->width[l - 1], c = (size_t)nn->width[l], o, n;
  const double *hin = l > 1 ? w->f[l - 1] : x, *restrict G = w->gz[l];
  double *gW = fl_ad_params_grad(P, 2 * (l - 1));
  if (k >= c) {
    dsm_slab(k, me, nt, &o, &n);
    if (n) fl_ad_gemm(1, 0, n, c, b, 1.0, hin + o, k, G, c, 1.0, gW + o * c, c);
  } else {
    dsm_slab(c, me, nt, &o, &n);
    if (n) fl_ad_gemm(1, 0, k, n, b, 1.0, hin, k, G + o, c, 1.0, gW + o, c);
  }
  dsm_slab(c, me, nt, &o, &n);
  double *restrict gb = fl_ad_params_grad(P, 2 * (l - 1) + 1);
  for (size_t i = 0; i < b; i++) {
    const double *restrict gi = G + i * c;
#ifdef _OPENMP
#pragma omp simd
#endif
    for (size_t j = o; j < o + n; j++) gb[j] += gi[j];
  }
  if (l == 1) return;
  dsm_slab(b, me, nt, &o, &n);
  if (!n) return;
  double *gA = w->gA + o * k;
  fl_ad_gemm(0, 1, n, k, c, 1.0, G + o * c, c, fl_ad_params_value(P, 2 * (l - 1)), c, 0.0, gA, k);
  fl_vm_silu_d1_s(n * k, w->z[l - 1] + o * k, w->sig[l - 1] + o * k, gA, w->gz[l - 1] + o * k);
}

static void dsm_loss(fl_nn_dsm *w, const double *pred);

/* The network part of a step on thread me of nt: forward, the loss (thread
 * 0), backward unless the loss is not finite. */
static void dsm_net(fl_nn_dsm *w, const double *x, int me, int nt, dsm_barrier *bar)
{
  fl_nn *nn = w->nn;
  const size_t L = (size_t)nn->nlayers;
  int sense = 0;
  size_t o, n;
  dsm_slab(w->b, me, nt, &o, &n);
  const double *h = x;
  for (size_t l = 1; l <= L; l++) h = dsm_forward(w, h, l, o, n); /* own rows only */
  dsm_wait(bar, nt, &sense);
  if (me == 0) dsm_loss(w, h);
  dsm_wait(bar, nt, &sense);
  if (!isfinite(w->loss)) return;
  for (size_t l = L; l >= 1; l--) {
    dsm_backward(w, x, l, me, nt);
    if (l > 1) dsm_wait(bar, nt, &sense);
  }
}

/* The operations below are those of the ad graph for loss.dsm on
 * model:forward (lib/fl_ad.c), one for one: element-wise products and sums
 * in the same order, the dense layers as the bias rows plus one dgemm
 * (beta = 1), the backward products as the graph's matmul nodes, silu from
 * the kept sigmoid. The parameter gradients go straight into the zeroed
 * block g (0 + v = v, as the graph's accumulation). */
fl_status fl_nn_dsm_step(fl_nn_dsm *w, const double *data, size_t nrows, uint64_t seed, uint64_t base, double *loss)
{
  fl_nn *nn = w->nn;
  const size_t b = w->b, d = (size_t)nn->a.dim, in = (size_t)nn->in;
  fl_status st = fl_optim_sample_rows(data, nrows, d, b, seed, base, w->x0);
  if (st) return st;
  /* t = u (t_max - t_min) + t_min, two roundings as the Array ops */
  const double span = w->tmax - w->tmin;
  fl_rng_fill_uniform(seed, base + 1, 0, b, w->t);
  for (size_t i = 0; i < b; i++) w->t[i] = w->t[i] * span;
  for (size_t i = 0; i < b; i++) w->t[i] = w->t[i] + w->tmin;
  fl_rng_fill_normal(seed, base + 2, 0, b * d, w->eps);
  /* alpha and sigma (and their derivatives) from one fl_schedule_coefs call
   * per t: the very call fl_schedule_eval makes for each of them */
  for (size_t i = 0; i < b; i++) fl_schedule_coefs(&w->s, w->t[i], w->a + i, w->sg + i, w->da + i, w->ds + i, NULL, NULL);
  /* xt = X0 a + E s, and the network input [xt, t] */
  for (size_t i = 0; i < b; i++)
    for (size_t j = 0; j < d; j++) {
      double u = w->x0[i * d + j] * w->a[i], v = w->eps[i * d + j] * w->sg[i];
      w->xt[i * d + j] = u + v;
    }
  const double *x = w->xt;
  if (in != d) {
    for (size_t i = 0; i < b; i++) {
      for (size_t j = 0; j < d; j++) w->h0[i * in + j] = w->xt[i * d + j];
      w->h0[i * in + d] = w->t[i];
    }
    x = w->h0;
  }
  int nt = w->nt;
#ifdef _OPENMP
  if (omp_in_parallel()) nt = 1;
  if (nt > 1) {
    int obt = openblas_get_num_threads();
    if (obt > 1) openblas_set_num_threads(1);
    dsm_barrier bar = {0, 0};
#pragma omp parallel num_threads(nt)
    dsm_net(w, x, omp_get_thread_num(), omp_get_num_threads(), &bar);
    if (obt > 1) openblas_set_num_threads(obt);
  } else
#endif
    dsm_net(w, x, 0, 1, NULL);
  *loss = w->loss;
  return FL_OK;
}

/* The residual, the loss (into w->loss) and, when it is finite, d loss /
 * d pred into gz[L] and the zeroed gradient block. */
static void dsm_loss(fl_nn_dsm *w, const double *pred)
{
  fl_nn *nn = w->nn;
  fl_ad_params *P = nn->P;
  const size_t b = w->b, d = (size_t)nn->a.dim, L = (size_t)nn->nlayers;
  double *r = w->r;
  size_t m = b * d;
  switch (w->target) {
  case FL_PARAM_EPS:
    for (size_t i = 0; i < m; i++) r[i] = pred[i] - w->eps[i];
    break;
  case FL_PARAM_X0:
    for (size_t i = 0; i < m; i++) r[i] = pred[i] - w->x0[i];
    break;
  case FL_PARAM_VELOCITY:
    for (size_t i = 0; i < b; i++)
      for (size_t j = 0; j < d; j++) {
        double u = w->x0[i * d + j] * w->da[i], v = w->eps[i * d + j] * w->ds[i], tv = u + v;
        r[i * d + j] = pred[i * d + j] - tv;
      }
    break;
  default: /* score: pred + E / s */
    for (size_t i = 0; i < b; i++)
      for (size_t j = 0; j < d; j++) {
        double e = w->eps[i * d + j] / w->sg[i];
        r[i * d + j] = pred[i * d + j] + e;
      }
    break;
  }
  /* sq = mean over columns of r^2 (times sigma^2), loss = mean of sq */
  const double sc = 1.0 / (double)d, sb = 1.0 / (double)b;
  for (size_t i = 0; i < b; i++) {
    double acc = 0;
    for (size_t j = 0; j < d; j++) {
      double q = r[i * d + j] * r[i * d + j];
      acc += q;
    }
    w->sq[i] = sc * acc + 0.0;
  }
  if (w->sigma2)
    for (size_t i = 0; i < b; i++) {
      double s2 = w->sg[i] * w->sg[i];
      w->sq[i] = w->sq[i] * s2;
    }
  double tot = 0;
  for (size_t i = 0; i < b; i++) tot += w->sq[i];
  double lv = sb * tot + 0.0;
  w->loss = lv;
  if (!isfinite(lv)) return;
  /* backward: d loss / d sq_i = 1/b (times sigma_i^2), / d r_ij = 2 r_ij (that / d) */
  double g0 = sb * 1.0 + 0.0;
  double *G = w->gz[L];
  for (size_t i = 0; i < b; i++) {
    double gi = g0;
    if (w->sigma2) {
      double s2 = w->sg[i] * w->sg[i];
      gi = gi * s2;
    }
    if (sc != 1.0) gi = sc * gi + 0.0;
    for (size_t j = 0; j < d; j++) G[i * d + j] = 2 * r[i * d + j] * gi;
  }
  memset(P->g, 0, P->n * sizeof(double));
}
