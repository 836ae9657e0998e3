/* fl_ad: reverse-mode automatic differentiation over 2-D double tensors, with
 * gradients of gradients.
 *
 * THE GRAPH (a tape). Every tensor is rows x cols (a scalar is 1 x 1, a
 * vector is a row or a column). An fl_ad_graph records nodes in creation
 * order; a node is named by its id, an int >= 0. Values are computed eagerly
 * when a node is made (define by run), so fl_ad_value() is available at once.
 * Node values and bookkeeping live in an arena owned by the graph: there is no
 * per-node malloc, and fl_ad_graph_reset() drops every node at once (ids and
 * value pointers of the old nodes become invalid; the generation counter
 * fl_ad_graph_generation() tells a binding which handles are stale).
 *
 * SYMBOL TO SYMBOL. The backward rule of every op is written with the ops of
 * this header (the VJP of tanh is g*(1 - y*y) built from mul/affine/square
 * nodes), so fl_ad_grad(..., create_graph = 1) returns ordinary nodes that
 * can be differentiated again: Hessian-vector products, and losses on input
 * gradients such as |grad_x E - F|^2 differentiated in the parameters. With
 * create_graph = 0 the gradient nodes do not require grad, and element-wise
 * rules use fused numeric kernels (one pass g*f'(x)).
 *
 * PARAMETERS live outside the arena in an fl_ad_params block: the values of
 * all parameter tensors in one contiguous array x, their gradients in one
 * contiguous array g (for optimizers and for saving). fl_ad_param() makes a
 * graph node that reads the parameter in place; fl_ad_backward() accumulates
 * into the block's g. A block survives graph resets; a graph holds a
 * reference to each block it uses until its next reset.
 *
 * ERRORS. Op constructors return the new id, or -1 on failure: the graph then
 * keeps the first failure (fl_ad_status(), detail in fl_last_detail()), and
 * an op given an input id of -1 also returns -1 without touching the detail,
 * so a whole expression can be built and checked once at the end:
 *
 *     int h = fl_ad_tanh(g, fl_ad_add(g, fl_ad_matmul(g, x, W, 0, 0), b));
 *     if (h < 0) return fl_ad_status(g);
 *
 * fl_ad_graph_reset() and fl_ad_clear_error() clear the sticky status.
 * Functions that return fl_status follow the library convention (detail set
 * by fl_fail, nothing leaked).
 *
 * BROADCASTING (add, sub, mul, div): the shapes must be equal, or an operand
 * of extent 1 along an axis is repeated along it: a 1 x c row, an r x 1
 * column or a 1 x 1 scalar against r x c, and a row against a column
 * (r x 1 op 1 x c -> r x c).
 *
 * THREADS: a graph must be used by one thread at a time; large element-wise
 * kernels run in parallel (OpenMP) inside a call, small ones enter no
 * parallel region at all; matmul is fl_ad_gemm (below). exp, sigmoid and
 * silu (and silu's derivatives, from the sigmoid a silu that requires grad
 * keeps) run on the vector kernels of fl_vmath.
 * Part of libfieldlab: pure C11, no Lua, no printing, no exit. */
#ifndef FL_AD_H
#define FL_AD_H

#include <stddef.h>
#include "fl_core.h"

/* ------------------------------------------------------------ parameters */

typedef struct fl_ad_tensor { size_t off, rows, cols; } fl_ad_tensor;

typedef struct fl_ad_params {
  int refcount;
  size_t n;            /* doubles in use (sum of rows*cols of all tensors) */
  size_t cap;          /* doubles allocated for x (and for g) */
  double *x;           /* values: tensor k is x[t[k].off .. +rows*cols), row-major */
  double *g;           /* gradients, same layout (g = x + cap: one allocation) */
  size_t count;        /* number of tensors */
  size_t tcap;
  fl_ad_tensor *t;
} fl_ad_params;

fl_status fl_ad_params_new(fl_ad_params **out);
fl_ad_params *fl_ad_params_retain(fl_ad_params *p);
void fl_ad_params_release(fl_ad_params *p);
/* Append a rows x cols tensor initialised from init (row-major; NULL: zeros),
 * its gradient zero; *index gets its number (0, 1, ...). The block may move:
 * x and g pointers taken before are invalid afterwards (graph nodes are not
 * affected: they find their parameter by block and index). */
fl_status fl_ad_params_add(fl_ad_params *p, size_t rows, size_t cols, const double *init, size_t *index);
/* Value and gradient of tensor k (pointers into the block; NULL if k >= count). */
double *fl_ad_params_value(fl_ad_params *p, size_t k);
double *fl_ad_params_grad(fl_ad_params *p, size_t k);
void fl_ad_params_zero_grad(fl_ad_params *p);

/* ------------------------------------------------------------ graph */

typedef struct fl_ad_graph fl_ad_graph;

fl_status fl_ad_graph_new(fl_ad_graph **out);
void fl_ad_graph_free(fl_ad_graph *g);
/* Drop every node (and the references to parameter blocks). release = 0 keeps
 * one arena buffer the size of everything the last cycle used, so a training
 * loop that builds the same graph each step allocates nothing after the
 * first; release = 1 gives all node memory back (fl_mem_in_use() returns to
 * what a fresh graph holds). Clears the sticky status; bumps the generation. */
void fl_ad_graph_reset(fl_ad_graph *g, int release);
unsigned long fl_ad_graph_generation(const fl_ad_graph *g);
size_t fl_ad_graph_nodes(const fl_ad_graph *g);
/* Bytes of arena in use by nodes now (not counting retained free buffers). */
size_t fl_ad_graph_bytes(const fl_ad_graph *g);
fl_status fl_ad_status(const fl_ad_graph *g);
void fl_ad_clear_error(fl_ad_graph *g);

/* ------------------------------------------------------------ leaves */

/* A leaf holding a copy of rows x cols doubles (NULL: zeros). requires_grad
 * marks a variable (fl_ad_backward accumulates its gradient), else a constant. */
int fl_ad_leaf(fl_ad_graph *g, size_t rows, size_t cols, const double *data, int requires_grad);
int fl_ad_const(fl_ad_graph *g, size_t rows, size_t cols, const double *data);
int fl_ad_scalar(fl_ad_graph *g, double v);   /* a 1 x 1 constant */
/* Parameter k of block p, read in place (requires grad). */
int fl_ad_param(fl_ad_graph *g, fl_ad_params *p, size_t k);

/* ------------------------------------------------------------ ops */

int fl_ad_add(fl_ad_graph *g, int a, int b);
int fl_ad_sub(fl_ad_graph *g, int a, int b);
int fl_ad_mul(fl_ad_graph *g, int a, int b);   /* element-wise */
int fl_ad_div(fl_ad_graph *g, int a, int b);
int fl_ad_neg(fl_ad_graph *g, int a);
int fl_ad_scale(fl_ad_graph *g, int a, double s);             /* s*a */
int fl_ad_affine(fl_ad_graph *g, int a, double s, double t);  /* s*a + t (t added to every element) */
/* op(a) op(b) with op(m) = m^T when the flag is set (cblas_dgemm). */
int fl_ad_matmul(fl_ad_graph *g, int a, int b, int trans_a, int trans_b);
/* x W + b for x r x k, W k x c and a row b 1 x c: a dense layer, one dgemm
 * onto the bias rows (add(matmul(x, W), b) in one pass less). */
int fl_ad_dense(fl_ad_graph *g, int x, int W, int b);
int fl_ad_transpose(fl_ad_graph *g, int a);
/* Sums keep two dimensions: axis FL_AD_ALL -> 1x1, axis 0 (over rows) -> 1 x c,
 * axis 1 (over columns) -> r x 1. mean divides by the count (of an empty
 * tensor: NaN). */
#define FL_AD_ALL (-1)
int fl_ad_sum(fl_ad_graph *g, int a, int axis);
int fl_ad_mean(fl_ad_graph *g, int a, int axis);
/* Repeat a (1 x c, r x 1 or 1 x 1) to rows x cols. */
int fl_ad_expand(fl_ad_graph *g, int a, size_t rows, size_t cols);
/* Same elements in row-major order, new shape (shares the value). */
int fl_ad_reshape(fl_ad_graph *g, int a, size_t rows, size_t cols);
/* Columns j0 .. j1-1 (0-based, j0 < j1 <= cols). */
int fl_ad_cols(fl_ad_graph *g, int a, size_t j0, size_t j1);
/* a (r x w) placed at columns j0 .. j0+w-1 of an r x cols zero tensor (the
 * adjoint of fl_ad_cols). */
int fl_ad_pad_cols(fl_ad_graph *g, int a, size_t j0, size_t cols);
/* Side by side: all inputs have the same rows. */
int fl_ad_concat_cols(fl_ad_graph *g, int n, const int *xs);

/* Element-wise functions. gelu is the tanh form
 * 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))); relu's derivative is
 * taken as 0 at 0. step(x) = (x > 0) is a constant (no gradient), used by
 * relu's backward rule. */
int fl_ad_square(fl_ad_graph *g, int a);
int fl_ad_sqrt(fl_ad_graph *g, int a);
int fl_ad_exp(fl_ad_graph *g, int a);
int fl_ad_log(fl_ad_graph *g, int a);
int fl_ad_sin(fl_ad_graph *g, int a);
int fl_ad_cos(fl_ad_graph *g, int a);
int fl_ad_tanh(fl_ad_graph *g, int a);
int fl_ad_sigmoid(fl_ad_graph *g, int a);
int fl_ad_softplus(fl_ad_graph *g, int a);   /* log(1 + e^x), computed stably */
int fl_ad_silu(fl_ad_graph *g, int a);       /* x sigmoid(x) */
int fl_ad_relu(fl_ad_graph *g, int a);
int fl_ad_gelu(fl_ad_graph *g, int a);
int fl_ad_step(fl_ad_graph *g, int a);

/* Row-major C = alpha op(A) op(B) + beta C (op(M) = M^T when the flag is
 * set) through cblas_dgemm, used by matmul and by the networks of fl_nn.
 * OpenBLAS's own threads are not used: a product of FL_AD_GEMM_SERIAL
 * multiply-adds or more is cut into slabs of rows (or columns) of C, one
 * single-threaded dgemm per OpenMP thread (fl_set_threads); a smaller one
 * runs on the calling thread. OpenBLAS's worker threads spin (sched_yield)
 * between calls, and on the 2-core development machine they took the core
 * that the element-wise loops of a training step needed, and a 256 x 64 x
 * 64 product took 1.8 times as long on 2 threads as on 1. Inside an
 * OpenMP parallel region it runs on the calling thread and leaves
 * OpenBLAS's thread count as it is (set it to 1 before the region, as
 * fl_nn does); outside, OpenBLAS's count is global: call it from one
 * thread at a time. */
#define FL_AD_GEMM_SERIAL 4194304.0
void fl_ad_gemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, double alpha, const double *A, size_t lda,
                const double *B, size_t ldb, double beta, double *C, size_t ldc);

/* The kernels of a silu node that requires grad, for code that runs a
 * network outside a graph and must agree with it bit for bit (fl_nn's
 * training step): f = silu(x) and s = sigmoid(x) over m elements; out =
 * g * silu'(x) from that s. Large m runs over the OpenMP threads, as in
 * the graph. */
void fl_ad_silu_kernel(size_t m, const double *x, double *f, double *s);
void fl_ad_dsilu_kernel(size_t m, const double *x, const double *s, const double *g, double *out);

/* ------------------------------------------------------------ inspection */

/* Value of node id (row-major rows*cols doubles, valid until the next reset;
 * for a parameter, valid until the block grows). NULL for a bad id. */
const double *fl_ad_value(const fl_ad_graph *g, int id);
/* Shape of node id; FL_EINVAL for a bad id. */
fl_status fl_ad_shape(const fl_ad_graph *g, int id, size_t *rows, size_t *cols);
int fl_ad_requires_grad(const fl_ad_graph *g, int id);
int fl_ad_is_leaf(const fl_ad_graph *g, int id);
/* The gradient fl_ad_backward accumulated for leaf id (NULL when none yet, for
 * a non-leaf or a bad id). A parameter's gradient is in its block. */
const double *fl_ad_leaf_grad(const fl_ad_graph *g, int id);
/* Zero the accumulated gradient of leaf id (nothing when it has none). */
void fl_ad_zero_leaf_grad(fl_ad_graph *g, int id);

/* ------------------------------------------------------------ differentiation */

/* Gradients of y with respect to the n nodes xs (any nodes made before y):
 * out[k] = d<seed, y>/dxs[k], a node of the shape of xs[k]. seed is a node of
 * y's shape, or -1 for y 1 x 1 (seed 1); so with a seed this is the
 * vector-Jacobian product. A node y does not depend on gets a zero gradient
 * (a constant node of its shape). create_graph = 1: the out nodes are built
 * from differentiable ops and require grad where they depend on a variable,
 * so they can be differentiated again; 0: they are constants.
 * FL_EDIM when y is not 1x1 and no seed is given, or the seed's shape is not
 * y's; FL_EINVAL for a bad id, an x made after y, or a graph in error. */
fl_status fl_ad_grad(fl_ad_graph *g, int y, int seed, int n, const int *xs, int create_graph, int *out);
/* Accumulate dy/dleaf for every leaf that requires grad (fl_ad_leaf_grad) and
 * dy/dparameter into the blocks' g (+=: call fl_ad_params_zero_grad between
 * steps). y must be 1 x 1. The nodes the backward pass makes are dropped
 * afterwards: the graph has the same nodes as before. */
fl_status fl_ad_backward(fl_ad_graph *g, int y);

#endif
