/* fl_nn: multilayer perceptrons as fields, on the parameter blocks of fl_ad.
 *
 * A network is a base MLP g: R^in -> R^out (in = dim + time features),
 * layers h_{l+1} = act(h_l W_l + b_l), the last layer linear. Its
 * parameters are the tensors of an fl_ad_params block: tensor 2l is W_l
 * (in_l x out_l, so a batch is X W), tensor 2l+1 is b_l (1 x out_l).
 *
 * Field kinds made on a base MLP:
 *   mlp           f = g                                (codim out)
 *   potential     E = g, out = 1                       (scalar; exact Hessian)
 *   gradient_net  f = grad_x E of a potential          (Jacobian = Hessian of E, symmetric)
 *   divfree       f_i = sum_j d_j A_ij, A antisymmetric built from the
 *                 d(d-1)/2 outputs of g: d = 2 is the rotated gradient of a
 *                 stream function (A_12 = g), d = 3 the curl of a vector
 *                 potential (A_ij = eps_ijk g_k), d >= 4 A_ij = g_k for the
 *                 k-th pair i < j in lexicographic order.
 *
 * Derivatives are exact, by forward-mode Taylor propagation (value, d
 * tangents and d(d+1)/2 second-order tangents per point) through the
 * layers, each layer one dgemm over all rows of a block of points: the
 * Jacobian of an mlp at n points costs about (1 + d) forward passes, the
 * Hessian of a potential about (1 + d + d(d+1)/2). Mixed second derivatives
 * are computed once and mirrored, so Hessians are symmetric bit for bit and
 * divfree fields have zero divergence to rounding. Blocks of points (about
 * 1 MB of work rows each, so that the element-wise passes stay in cache)
 * are shared out over the OpenMP threads, each running single-threaded
 * dgemms; results do not depend on the thread count.
 *
 * Files: safetensors (8-byte little-endian header length, a JSON header,
 * raw little-endian data); fieldlab writes F64 tensors "layers.K.weight"
 * ([out, in], PyTorch's layout) and "layers.K.bias" ([out]) and the
 * architecture as JSON in __metadata__["fieldlab"]. Reading accepts F32 and
 * F64 and takes the linear layers in increasing order of K (so an
 * nn.Sequential with activations at odd indices maps directly).
 * Part of libfieldlab: pure C11, no Lua, no printing, no exit. */
#ifndef FL_NN_H
#define FL_NN_H

#include <stddef.h>
#include <stdint.h>
#include "fl_core.h"
#include "fl_ad.h"
#include "fl_field.h"
#include "fl_array.h"
#include "fl_diffusion.h"

#define FL_NN_MAXLAYERS 32

typedef enum { FL_NN_MLP, FL_NN_POTENTIAL, FL_NN_GRADIENT, FL_NN_DIVFREE } fl_nn_kind;
typedef enum { FL_ACT_SILU, FL_ACT_TANH, FL_ACT_RELU, FL_ACT_GELU, FL_ACT_SOFTPLUS, FL_ACT_SIGMOID } fl_nn_act;
/* Time features appended to x: none; concat: t; fourier: sin(pi k t),
 * cos(pi k t), k = 1..8; sinusoidal: sin(w_k t), cos(w_k t) with
 * w_k = 1000^(k/7), k = 0..7 (frequencies 1 .. 1000). */
typedef enum { FL_TIME_NONE, FL_TIME_CONCAT, FL_TIME_FOURIER, FL_TIME_SINUSOIDAL } fl_nn_time;
typedef enum { FL_INIT_DEFAULT, FL_INIT_XAVIER, FL_INIT_KAIMING } fl_nn_init;

typedef struct fl_nn_arch {
  fl_nn_kind kind;
  int dim;                        /* field input dimension d */
  int out;                        /* base MLP outputs (mlp: codim; potential: 1; divfree: d(d-1)/2) */
  int nhidden;
  int hidden[FL_NN_MAXLAYERS];
  fl_nn_act act;
  fl_nn_time time;
  char param[16];                 /* "velocity", "score", "eps", "x0" */
} fl_nn_arch;

typedef struct fl_nn {
  int refcount;
  fl_nn_arch a;
  int in;                         /* dim + number of time features */
  int nlayers;                    /* nhidden + 1 */
  int width[FL_NN_MAXLAYERS + 2]; /* width[0] = in, ..., width[nlayers] = out */
  fl_ad_params *P;                /* one reference */
} fl_nn;

/* Names and parsing (0 on success, -1 unknown). */
const char *fl_nn_kind_name(fl_nn_kind k);
const char *fl_nn_act_name(fl_nn_act a);
const char *fl_nn_time_name(fl_nn_time t);
int fl_nn_act_parse(const char *s, fl_nn_act *a);
int fl_nn_time_parse(const char *s, fl_nn_time *t);
int fl_nn_time_features(fl_nn_time t);

/* Check an architecture (sets out for potential and divfree); FL_EINVAL with detail. */
fl_status fl_nn_arch_check(fl_nn_arch *a);
/* A network with fresh parameters (init, seed). */
fl_status fl_nn_new(const fl_nn_arch *a, fl_nn_init init, uint64_t seed, fl_nn **out);
fl_nn *fl_nn_retain(fl_nn *nn);
void fl_nn_release(fl_nn *nn);
size_t fl_nn_nparams(const fl_nn *nn);
/* Use block P (retained) instead of the current one: P must hold exactly the
 * network's tensors, with the same shapes. */
fl_status fl_nn_set_params(fl_nn *nn, fl_ad_params *P);

/* The base MLP at n points x[n*dim], time t: val[n*out]; D1[n*out*dim]
 * (D1[(i*out + o)*dim + b] = d g_o / d x_b) when order >= 1; D2[n*out*dim*dim]
 * when order >= 2. Unused outputs may be NULL. */
fl_status fl_nn_jet(const fl_nn *nn, size_t n, const double *x, double t, int order, double *val, double *D1,
                    double *D2);
/* Jacobian-vector products of the base MLP: out[n*out] = J(x_i) v_i for
 * v[n*dim] (one forward pass with one tangent). */
fl_status fl_nn_jvp(const fl_nn *nn, size_t n, const double *x, double t, const double *v, double *out);
/* Vector-Jacobian products: out[n*dim] = J(x_i)^T u_i for u[n*out] (reverse pass). */
fl_status fl_nn_vjp(const fl_nn *nn, size_t n, const double *x, double t, const double *u, double *out);

/* The field of kind nn->a.kind (FL_NN_GRADIENT: the gradient of the
 * potential nn). Holds a reference to nn. */
fl_status fl_nn_field(fl_nn *nn, fl_nn_kind kind, fl_field **out);
/* The network behind a field made by fl_nn_field (NULL for other fields), and its kind. */
fl_nn *fl_nn_of(const fl_field *f, fl_nn_kind *kind);

/* Architecture as a JSON text (malloc'ed, free with free()) and back. */
fl_status fl_nn_arch_to_json(const fl_nn_arch *a, char **json);
fl_status fl_nn_arch_from_json(const char *json, fl_nn_arch *a);

/* Save (F64, atomically: temp file + rename) with kind recorded. */
fl_status fl_nn_save(const fl_nn *nn, fl_nn_kind kind, const char *path);
/* Load: arch NULL takes the architecture from __metadata__ (fieldlab files);
 * else the given one (PyTorch files). *kind gets the recorded kind (arch's
 * kind when given). */
fl_status fl_nn_load(const char *path, const fl_nn_arch *arch, fl_nn **out, fl_nn_kind *kind);

/* Every tensor of a safetensors file (F32 or F64) as an Array of its shape:
 * names[k] (malloc'ed) and arrays[k] (one reference each), in file order;
 * free the names and the two lists with free(). */
fl_status fl_nn_read_tensors(const char *path, size_t *count, char ***names, fl_array ***arrays);

/* One step of denoising score matching for an mlp network with silu
 * activations and time none or concat, in one call: the loss of
 * loss.dsm (stdlib/fieldlab/train.lua) on a batch of b rows drawn from
 * data (fl_optim_sample_rows, stream `base`), t ~ U[t_min, t_max] from
 * stream base + 1, eps from stream base + 2, and its gradient in the
 * parameters written to the block's g (zeroed first). Every number equals
 * what the ad graph computes for the same loss bit for bit (same kernels,
 * same dgemm calls, same order of operations); the gradient is skipped when
 * the loss is not finite. The workspace holds all buffers: no allocation
 * per step. weight_sigma2: the sigma^2 weighting, else none. When the
 * step has 2^20 multiply-adds or more, its network part runs in one OpenMP
 * parallel region on all threads (at least 8 batch rows each), every
 * product split in slabs of rows or columns with a spinning barrier
 * between dependent stages: each element is computed as the whole product
 * computes it, so the numbers are those of one thread. */
typedef struct fl_nn_dsm fl_nn_dsm;
fl_status fl_nn_dsm_new(fl_nn *nn, const fl_schedule *s, fl_param target, int weight_sigma2, double t_min,
                        double t_max, size_t batch, fl_nn_dsm **out);
void fl_nn_dsm_free(fl_nn_dsm *w);
fl_status fl_nn_dsm_step(fl_nn_dsm *w, const double *data, size_t nrows, uint64_t seed, uint64_t base,
                         double *loss);

#endif
