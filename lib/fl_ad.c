/* fl_ad: reverse-mode autodiff on a tape of 2-D double tensors, symbol to
 * symbol (every backward rule is built from the same ops), so gradients can be
 * differentiated again. See fl_ad.h for the model. */
#include "config.h"
#include "fl_ad.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cblas.h>

#include "fl_vmath.h"
#ifdef _OPENMP
#include <omp.h>
#endif

#ifdef _OPENMP
#define FL_SIMD _Pragma("omp simd")
#else
#define FL_SIMD
#endif
/* Element counts above which element-wise kernels run in parallel. */
#define PAR_MIN ((size_t)1 << 15)
/* The same for the vectorised kernels of fl_vmath (about 0.5 ns an element:
 * waking a sleeping thread costs more below this), and their chunk. */
#define PAR_VM ((size_t)1 << 16)
#define VM_CHUNK ((size_t)4096)

/* ------------------------------------------------------------ ops */

enum {
  OP_LEAF, OP_PARAM, OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_AFFINE, OP_MATMUL, OP_TRANSPOSE, OP_SUM,
  OP_EXPAND, OP_RESHAPE, OP_COLS, OP_PADCOLS, OP_CONCAT, OP_DENSE,
  /* element-wise unary functions (keep together: OP_SQUARE .. OP_STEP) */
  OP_SQUARE, OP_SQRT, OP_EXP, OP_LOG, OP_SIN, OP_COS, OP_TANH, OP_SIGMOID, OP_SOFTPLUS, OP_SILU,
  OP_DSILU, /* silu'(x): internal, the backward rule of silu */
  OP_RELU, OP_GELU, OP_STEP,
  /* g * f'(x) of the unary node in[1], in one pass: backward without create_graph */
  OP_DFUSED
};

typedef struct node {
  int op;
  int rg;        /* requires grad */
  int nin;
  int in[2];
  int *ins;      /* the inputs of a concat (arena); else NULL and in[] */
  size_t r, c;
  double *v;     /* value; NULL for a parameter (read from its block) */
  fl_ad_params *P;
  size_t pk;     /* parameter index in P */
  double *grad;  /* leaf: accumulated gradient (arena), NULL until backward */
  double s, t;   /* affine */
  size_t ia, ib; /* sum: axis+1; matmul: trans flags; cols: j0, j1; padcols: j0 */
  double *aux;   /* silu that requires grad, and silu' made from it: sigmoid(x) (arena), else NULL */
} node;

typedef struct chunk { char *p; size_t size; } chunk;

struct fl_ad_graph {
  node *nodes;
  size_t nn, ncap;
  chunk *chunks;
  size_t nchunks, chcap;
  size_t cur, used;      /* allocation point: chunk cur, byte offset used */
  fl_ad_params **blocks; /* parameter blocks referenced by nodes (retained) */
  size_t nblocks, blcap;
  fl_status err;
  unsigned long gen;
  int nograd;            /* new nodes do not require grad (backward without create_graph) */
};

#define ALIGN 64
#define CHUNK_MIN ((size_t)1 << 18)

static inline int IN(const node *n, int k) { return n->ins ? n->ins[k] : n->in[k]; }

static inline double *VAL(const node *n)
{
  return n->v ? n->v : n->P->x + n->P->t[n->pk].off;
}

static const char *shp(const node *n, char *buf)
{
  snprintf(buf, 48, "(%zu,%zu)", n->r, n->c);
  return buf;
}

/* ------------------------------------------------------------ parameters */

fl_status fl_ad_params_new(fl_ad_params **out)
{
  *out = NULL;
  fl_ad_params *p = fl_calloc(1, sizeof *p);
  if (!p) return fl_fail(FL_ENOMEM, "out of memory for a parameter block");
  p->refcount = 1;
  p->cap = 64;
  p->x = fl_calloc(2 * p->cap, sizeof(double));
  if (!p->x) {
    fl_free(p, sizeof *p);
    return fl_fail(FL_ENOMEM, "out of memory for a parameter block");
  }
  p->g = p->x + p->cap;
  *out = p;
  return FL_OK;
}

fl_ad_params *fl_ad_params_retain(fl_ad_params *p)
{
  if (p) p->refcount++;
  return p;
}

void fl_ad_params_release(fl_ad_params *p)
{
  if (!p || --p->refcount > 0) return;
  fl_free(p->x, 2 * p->cap * sizeof(double));
  fl_free(p->t, p->tcap * sizeof *p->t);
  fl_free(p, sizeof *p);
}

fl_status fl_ad_params_add(fl_ad_params *p, size_t rows, size_t cols, const double *init, size_t *index)
{
  size_t m, need, bytes;
  if (fl_mul_overflow(rows, cols, &m) || p->n + m < p->n)
    return fl_fail(FL_EINVAL, "parameter of %zu x %zu elements is too large", rows, cols);
  need = p->n + m;
  if (p->count == p->tcap) {
    size_t tc = p->tcap ? 2 * p->tcap : 16;
    fl_ad_tensor *t = fl_alloc(tc * sizeof *t);
    if (!t) return fl_fail(FL_ENOMEM, "out of memory for the parameter table");
    if (p->count) memcpy(t, p->t, p->count * sizeof *t);
    fl_free(p->t, p->tcap * sizeof *p->t);
    p->t = t;
    p->tcap = tc;
  }
  if (need > p->cap) {
    size_t cap = p->cap;
    while (cap < need) cap = cap * 2 > cap ? cap * 2 : need;
    if (fl_mul_overflow(2 * cap, sizeof(double), &bytes))
      return fl_fail(FL_ENOMEM, "parameter block of %zu doubles is too large", need);
    double *x = fl_calloc(2 * cap, sizeof(double));
    if (!x) return fl_fail(FL_ENOMEM, "out of memory for %zu parameters", need);
    memcpy(x, p->x, p->n * sizeof(double));
    memcpy(x + cap, p->g, p->n * sizeof(double));
    fl_free(p->x, 2 * p->cap * sizeof(double));
    p->x = x;
    p->g = x + cap;
    p->cap = cap;
  }
  if (init) memcpy(p->x + p->n, init, m * sizeof(double));
  else memset(p->x + p->n, 0, m * sizeof(double));
  memset(p->g + p->n, 0, m * sizeof(double));
  p->t[p->count] = (fl_ad_tensor){p->n, rows, cols};
  p->n = need;
  *index = p->count++;
  return FL_OK;
}

double *fl_ad_params_value(fl_ad_params *p, size_t k) { return k < p->count ? p->x + p->t[k].off : NULL; }
double *fl_ad_params_grad(fl_ad_params *p, size_t k) { return k < p->count ? p->g + p->t[k].off : NULL; }
void fl_ad_params_zero_grad(fl_ad_params *p) { memset(p->g, 0, p->n * sizeof(double)); }

/* ------------------------------------------------------------ graph and arena */

fl_status fl_ad_graph_new(fl_ad_graph **out)
{
  *out = NULL;
  fl_ad_graph *g = fl_calloc(1, sizeof *g);
  if (!g) return fl_fail(FL_ENOMEM, "out of memory for a graph");
  g->gen = 1;
  *out = g;
  return FL_OK;
}

static void release_blocks(fl_ad_graph *g)
{
  for (size_t i = 0; i < g->nblocks; i++) fl_ad_params_release(g->blocks[i]);
  g->nblocks = 0;
}

static void free_chunks(fl_ad_graph *g)
{
  for (size_t i = 0; i < g->nchunks; i++) fl_free(g->chunks[i].p, g->chunks[i].size);
  fl_free(g->chunks, g->chcap * sizeof *g->chunks);
  g->chunks = NULL;
  g->nchunks = g->chcap = g->cur = g->used = 0;
}

void fl_ad_graph_free(fl_ad_graph *g)
{
  if (!g) return;
  release_blocks(g);
  fl_free(g->blocks, g->blcap * sizeof *g->blocks);
  free_chunks(g);
  fl_free(g->nodes, g->ncap * sizeof *g->nodes);
  fl_free(g, sizeof *g);
}

void fl_ad_graph_reset(fl_ad_graph *g, int release)
{
  release_blocks(g);
  g->nn = 0;
  g->err = FL_OK;
  g->nograd = 0;
  g->gen++;
  if (release) {
    free_chunks(g);
    fl_free(g->nodes, g->ncap * sizeof *g->nodes);
    g->nodes = NULL;
    g->ncap = 0;
    fl_free(g->blocks, g->blcap * sizeof *g->blocks);
    g->blocks = NULL;
    g->blcap = 0;
    return;
  }
  if (g->nchunks > 1) { /* consolidate into one buffer that holds a whole cycle */
    size_t total = 0;
    for (size_t i = 0; i < g->nchunks; i++) total += g->chunks[i].size;
    for (size_t i = 1; i < g->nchunks; i++) fl_free(g->chunks[i].p, g->chunks[i].size);
    fl_free(g->chunks[0].p, g->chunks[0].size);
    g->nchunks = 0;
    char *p = fl_alloc(total);
    if (p) g->chunks[g->nchunks++] = (chunk){p, total};
  }
  g->cur = 0;
  g->used = 0;
}

unsigned long fl_ad_graph_generation(const fl_ad_graph *g) { return g->gen; }
size_t fl_ad_graph_nodes(const fl_ad_graph *g) { return g->nn; }

size_t fl_ad_graph_bytes(const fl_ad_graph *g)
{
  size_t b = 0;
  for (size_t i = 0; i < g->cur && i < g->nchunks; i++) b += g->chunks[i].size;
  return b + g->used;
}

fl_status fl_ad_status(const fl_ad_graph *g) { return g->err; }
void fl_ad_clear_error(fl_ad_graph *g) { g->err = FL_OK; }

/* Bump allocation of `bytes` (rounded up to 64), or NULL. Memory stays put
 * until reset; a mark/rollback (backward) may hand it out again. */
static void *arena_alloc(fl_ad_graph *g, size_t bytes)
{
  size_t b = (bytes + ALIGN - 1) / ALIGN * ALIGN;
  if (b < bytes) return NULL;
  while (g->cur < g->nchunks) {
    if (g->chunks[g->cur].size - g->used >= b) {
      void *p = g->chunks[g->cur].p + g->used;
      g->used += b;
      return p;
    }
    if (g->cur + 1 >= g->nchunks) break;
    g->cur++;
    g->used = 0;
  }
  if (g->nchunks == g->chcap) {
    size_t cc = g->chcap ? 2 * g->chcap : 8;
    chunk *c = fl_alloc(cc * sizeof *c);
    if (!c) return NULL;
    if (g->nchunks) memcpy(c, g->chunks, g->nchunks * sizeof *c);
    fl_free(g->chunks, g->chcap * sizeof *g->chunks);
    g->chunks = c;
    g->chcap = cc;
  }
  size_t size = g->nchunks ? 2 * g->chunks[g->nchunks - 1].size : CHUNK_MIN;
  if (size < b) size = b;
  char *p = fl_alloc(size);
  if (!p) return NULL;
  g->chunks[g->nchunks++] = (chunk){p, size};
  g->cur = g->nchunks - 1;
  g->used = b;
  return p;
}

/* The first failure sticks; returns -1. */
static int fail(fl_ad_graph *g, fl_status st, const char *fmt, ...)
{
  if (g->err == FL_OK) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    g->err = fl_fail(st, "%s", buf);
  }
  return -1;
}

/* Inputs must be valid ids; -1 (a failed op) propagates quietly. */
static int bad_input(fl_ad_graph *g, int a)
{
  if (g->err != FL_OK) return 1;
  if (a < 0 || (size_t)a >= g->nn) {
    fail(g, FL_EINVAL, "node %d does not exist (the graph has %zu nodes)", a, g->nn);
    return 1;
  }
  return 0;
}

/* A new node of shape r x c with a fresh value buffer (unless novalue). The
 * returned pointer is valid until the next new node. */
static node *new_node(fl_ad_graph *g, int op, size_t r, size_t c, int novalue, int *id)
{
  size_t m, bytes;
  if (fl_mul_overflow(r, c, &m) || fl_mul_overflow(m, sizeof(double), &bytes)) {
    fail(g, FL_EINVAL, "a tensor of %zu x %zu elements is too large", r, c);
    return NULL;
  }
  if (g->nn == g->ncap) {
    size_t nc = g->ncap ? 2 * g->ncap : 256;
    if (nc > INT32_MAX) {
      fail(g, FL_ENOMEM, "too many nodes in one graph (reset it)");
      return NULL;
    }
    node *nd = fl_alloc(nc * sizeof *nd);
    if (!nd) {
      fail(g, FL_ENOMEM, "out of memory for %zu graph nodes", nc);
      return NULL;
    }
    if (g->nn) memcpy(nd, g->nodes, g->nn * sizeof *nd);
    fl_free(g->nodes, g->ncap * sizeof *g->nodes);
    g->nodes = nd;
    g->ncap = nc;
  }
  double *v = NULL;
  if (!novalue && !(v = arena_alloc(g, bytes))) {
    fail(g, FL_ENOMEM, "out of memory for a %zu x %zu tensor", r, c);
    return NULL;
  }
  node *n = &g->nodes[g->nn];
  memset(n, 0, sizeof *n);
  n->op = op;
  n->r = r;
  n->c = c;
  n->v = v;
  *id = (int)g->nn++;
  return n;
}

/* ------------------------------------------------------------ leaves */

int fl_ad_leaf(fl_ad_graph *g, size_t rows, size_t cols, const double *data, int requires_grad)
{
  if (g->err != FL_OK) return -1;
  int id;
  node *n = new_node(g, OP_LEAF, rows, cols, 0, &id);
  if (!n) return -1;
  if (data) memcpy(n->v, data, rows * cols * sizeof(double));
  else memset(n->v, 0, rows * cols * sizeof(double));
  n->rg = requires_grad != 0;
  return id;
}

int fl_ad_const(fl_ad_graph *g, size_t rows, size_t cols, const double *data)
{
  return fl_ad_leaf(g, rows, cols, data, 0);
}

int fl_ad_scalar(fl_ad_graph *g, double v) { return fl_ad_leaf(g, 1, 1, &v, 0); }

int fl_ad_param(fl_ad_graph *g, fl_ad_params *p, size_t k)
{
  if (g->err != FL_OK) return -1;
  if (!p || k >= p->count)
    return fail(g, FL_EINVAL, "parameter %zu does not exist (the block has %zu)", k, p ? p->count : 0);
  size_t i;
  for (i = 0; i < g->nblocks && g->blocks[i] != p; i++) {}
  if (i == g->nblocks) {
    if (g->nblocks == g->blcap) {
      size_t bc = g->blcap ? 2 * g->blcap : 4;
      fl_ad_params **b = fl_alloc(bc * sizeof *b);
      if (!b) return fail(g, FL_ENOMEM, "out of memory");
      if (g->nblocks) memcpy(b, g->blocks, g->nblocks * sizeof *b);
      fl_free(g->blocks, g->blcap * sizeof *g->blocks);
      g->blocks = b;
      g->blcap = bc;
    }
    g->blocks[g->nblocks++] = fl_ad_params_retain(p);
  }
  int id;
  node *n = new_node(g, OP_PARAM, p->t[k].rows, p->t[k].cols, 1, &id);
  if (!n) return -1;
  n->P = p;
  n->pk = k;
  n->rg = 1;
  return id;
}

/* ------------------------------------------------------------ element-wise binary */

/* A node with the two inputs a and b, shape r x c; value uninitialised. NULL
 * on failure. Pointers into g->nodes taken before are stale after. */
static node *binary_node(fl_ad_graph *g, int op, int a, int b, size_t r, size_t c, int *id)
{
  int rg = !g->nograd && (g->nodes[a].rg || g->nodes[b].rg);
  node *n = new_node(g, op, r, c, 0, id);
  if (!n) return NULL;
  n->nin = 2;
  n->in[0] = a;
  n->in[1] = b;
  n->rg = rg;
  return n;
}

static int binary(fl_ad_graph *g, int op, int a, int b, const char *name)
{
  if (bad_input(g, a) || bad_input(g, b)) return -1;
  const node *A = &g->nodes[a], *B = &g->nodes[b];
  size_t ra = A->r, ca = A->c, rb = B->r, cb = B->c;
  size_t r = ra == rb ? ra : ra == 1 ? rb : rb == 1 ? ra : (size_t)-1;
  size_t c = ca == cb ? ca : ca == 1 ? cb : cb == 1 ? ca : (size_t)-1;
  if (r == (size_t)-1 || c == (size_t)-1) {
    char b1[48], b2[48];
    return fail(g, FL_EDIM, "%s: shapes %s and %s do not broadcast", name, shp(A, b1), shp(B, b2));
  }
  int id;
  node *n = binary_node(g, op, a, b, r, c, &id);
  if (!n) return -1;
  A = &g->nodes[a];
  B = &g->nodes[b];
  const double *x = VAL(A), *y = VAL(B);
  double *z = n->v;
  size_t m = r * c;
  if (ra == rb && ca == cb) {
    switch (op) {
    case OP_ADD: FL_PFOR_IF(m > PAR_MIN, for (size_t i = 0; i < m; i++) z[i] = x[i] + y[i];); break;
    case OP_SUB: FL_PFOR_IF(m > PAR_MIN, for (size_t i = 0; i < m; i++) z[i] = x[i] - y[i];); break;
    case OP_MUL: FL_PFOR_IF(m > PAR_MIN, for (size_t i = 0; i < m; i++) z[i] = x[i] * y[i];); break;
    default: FL_PFOR_IF(m > PAR_MIN, for (size_t i = 0; i < m; i++) z[i] = x[i] / y[i];); break;
    }
    return id;
  }
  size_t sxa = ca == 1 ? 0 : 1, sxb = cb == 1 ? 0 : 1;
  size_t rsa = ra == 1 ? 0 : ca, rsb = rb == 1 ? 0 : cb;
  FL_PFOR_IF(m > PAR_MIN,
  for (size_t i = 0; i < r; i++) {
    const double *xa = x + i * rsa, *yb = y + i * rsb;
    double *zr = z + i * c;
    switch (op) {
    case OP_ADD: for (size_t j = 0; j < c; j++) zr[j] = xa[j * sxa] + yb[j * sxb]; break;
    case OP_SUB: for (size_t j = 0; j < c; j++) zr[j] = xa[j * sxa] - yb[j * sxb]; break;
    case OP_MUL: for (size_t j = 0; j < c; j++) zr[j] = xa[j * sxa] * yb[j * sxb]; break;
    default: for (size_t j = 0; j < c; j++) zr[j] = xa[j * sxa] / yb[j * sxb]; break;
    }
  });
  return id;
}

int fl_ad_add(fl_ad_graph *g, int a, int b) { return binary(g, OP_ADD, a, b, "add"); }
int fl_ad_sub(fl_ad_graph *g, int a, int b) { return binary(g, OP_SUB, a, b, "sub"); }
int fl_ad_mul(fl_ad_graph *g, int a, int b) { return binary(g, OP_MUL, a, b, "mul"); }
int fl_ad_div(fl_ad_graph *g, int a, int b) { return binary(g, OP_DIV, a, b, "div"); }

/* A node with one input a, shape r x c; value uninitialised. NULL on failure. */
static node *unary_node(fl_ad_graph *g, int op, int a, size_t r, size_t c, int novalue, int *id)
{
  int rg = !g->nograd && g->nodes[a].rg;
  node *n = new_node(g, op, r, c, novalue, id);
  if (!n) return NULL;
  n->nin = 1;
  n->in[0] = a;
  n->rg = rg;
  return n;
}

int fl_ad_affine(fl_ad_graph *g, int a, double s, double t)
{
  if (bad_input(g, a)) return -1;
  int id;
  node *n = unary_node(g, OP_AFFINE, a, g->nodes[a].r, g->nodes[a].c, 0, &id);
  if (!n) return -1;
  n->s = s;
  n->t = t;
  const double *x = VAL(&g->nodes[a]);
  double *z = n->v;
  size_t m = n->r * n->c;
  FL_PFOR_IF(m > PAR_MIN, for (size_t i = 0; i < m; i++) z[i] = s * x[i] + t;);
  return id;
}

int fl_ad_neg(fl_ad_graph *g, int a) { return fl_ad_affine(g, a, -1.0, 0.0); }
int fl_ad_scale(fl_ad_graph *g, int a, double s) { return fl_ad_affine(g, a, s, 0.0); }

/* ------------------------------------------------------------ linear algebra and shapes */

/* OpenBLAS exports these (pthreads and OpenMP builds alike). */
extern void openblas_set_num_threads(int num_threads);
extern int openblas_get_num_threads(void);

void fl_ad_gemm(int ta, int tb, size_t m, size_t n, size_t k, double alpha, const double *A, size_t lda,
                const double *B, size_t ldb, double beta, double *C, size_t ldc)
{
  const CBLAS_TRANSPOSE TA = ta ? CblasTrans : CblasNoTrans, TB = tb ? CblasTrans : CblasNoTrans;
  int nt = 1, inpar = 0;
#ifdef _OPENMP
  inpar = omp_in_parallel();
  if ((double)m * (double)n * (double)k >= FL_AD_GEMM_SERIAL && !inpar) nt = omp_get_max_threads();
#endif
  int obt = inpar ? 1 : openblas_get_num_threads(); /* in a region: the caller's business */
  if (obt > 1) openblas_set_num_threads(1);
  if (nt > 1) {
    /* C in nt slabs of rows (or of columns, when it has fewer rows), one
     * single-threaded dgemm each: an op(A) row slab starts at row i0 of A,
     * or at column i0 of A^T; an op(B) column slab at column j0 of B, or at
     * row j0 of B^T */
    int byrows = m >= n;
    size_t len = byrows ? m : n, step = (len + (size_t)nt - 1) / (size_t)nt;
    step = (step + 7) / 8 * 8;
    size_t parts = (len + step - 1) / step;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt)
#endif
    for (size_t q = 0; q < parts; q++) {
      size_t o = q * step, w = len - o < step ? len - o : step;
      if (byrows)
        cblas_dgemm(CblasRowMajor, TA, TB, (int)w, (int)n, (int)k, alpha, ta ? A + o : A + o * lda, (int)lda, B,
                    (int)ldb, beta, C + o * ldc, (int)ldc);
      else
        cblas_dgemm(CblasRowMajor, TA, TB, (int)m, (int)w, (int)k, alpha, A, (int)lda, tb ? B + o * ldb : B + o,
                    (int)ldb, beta, C + o, (int)ldc);
    }
  } else {
    cblas_dgemm(CblasRowMajor, TA, TB, (int)m, (int)n, (int)k, alpha, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
  }
  if (obt > 1) openblas_set_num_threads(obt);
}

int fl_ad_matmul(fl_ad_graph *g, int a, int b, int ta, int tb)
{
  if (bad_input(g, a) || bad_input(g, b)) return -1;
  const node *A = &g->nodes[a], *B = &g->nodes[b];
  size_t m = ta ? A->c : A->r, k = ta ? A->r : A->c;
  size_t k2 = tb ? B->c : B->r, nn = tb ? B->r : B->c;
  if (k != k2) {
    char b1[48], b2[48];
    return fail(g, FL_EDIM, "matmul: shapes %s%s and %s%s are not aligned", shp(A, b1), ta ? "^T" : "",
                shp(B, b2), tb ? "^T" : "");
  }
  int id;
  node *n = binary_node(g, OP_MATMUL, a, b, m, nn, &id);
  if (!n) return -1;
  A = &g->nodes[a];
  B = &g->nodes[b];
  n->ia = ta != 0;
  n->ib = tb != 0;
  if (m == 0 || nn == 0) return id;
  if (k == 0) {
    memset(n->v, 0, m * nn * sizeof(double));
    return id;
  }
  if (m == 1 && nn == 1 && !ta && tb) { /* dot product */
    n->v[0] = cblas_ddot((int)k, VAL(A), 1, VAL(B), 1);
    return id;
  }
  fl_ad_gemm(ta, tb, m, nn, k, 1.0, VAL(A), A->c ? A->c : 1, VAL(B), B->c ? B->c : 1, 0.0, n->v, nn);
  return id;
}

int fl_ad_dense(fl_ad_graph *g, int x, int w, int b)
{
  if (bad_input(g, x) || bad_input(g, w) || bad_input(g, b)) return -1;
  const node *X = &g->nodes[x], *W = &g->nodes[w], *Bn = &g->nodes[b];
  size_t r = X->r, k = X->c, c = W->c;
  if (W->r != k || Bn->r != 1 || Bn->c != c) {
    char b1[48], b2[48], b3[48];
    return fail(g, FL_EDIM, "dense: x %s, W %s and b %s do not fit (x W + b needs x r x k, W k x c, b 1 x c)",
                shp(X, b1), shp(W, b2), shp(Bn, b3));
  }
  int rg = !g->nograd && (X->rg || W->rg || Bn->rg);
  int *ins = arena_alloc(g, 3 * sizeof(int));
  if (!ins) return fail(g, FL_ENOMEM, "out of memory");
  ins[0] = x;
  ins[1] = w;
  ins[2] = b;
  int id;
  node *n = new_node(g, OP_DENSE, r, c, 0, &id);
  if (!n) return -1;
  n->nin = 3;
  n->ins = ins;
  n->rg = rg;
  /* the bias in every row: row 0, then rows [0, k) copied to [k, 2k) */
  if (r) memcpy(n->v, VAL(&g->nodes[b]), c * sizeof(double));
  for (size_t k = 1; k < r; k *= 2) memcpy(n->v + k * c, n->v, (k <= r - k ? k : r - k) * c * sizeof(double));
  if (r && c && k) /* beta = 1: onto the bias rows */
    fl_ad_gemm(0, 0, r, c, k, 1.0, VAL(&g->nodes[x]), k, VAL(&g->nodes[w]), c, 1.0, n->v, c);
  return id;
}

int fl_ad_transpose(fl_ad_graph *g, int a)
{
  if (bad_input(g, a)) return -1;
  size_t r = g->nodes[a].r, c = g->nodes[a].c;
  int id;
  node *n = unary_node(g, OP_TRANSPOSE, a, c, r, 0, &id);
  if (!n) return -1;
  const double *x = VAL(&g->nodes[a]);
  double *z = n->v;
  const size_t B = 32;
  for (size_t i0 = 0; i0 < r; i0 += B)
    for (size_t j0 = 0; j0 < c; j0 += B)
      for (size_t i = i0; i < i0 + B && i < r; i++)
        for (size_t j = j0; j < j0 + B && j < c; j++) z[j * r + i] = x[i * c + j];
  return id;
}

int fl_ad_sum(fl_ad_graph *g, int a, int axis)
{
  if (bad_input(g, a)) return -1;
  if (axis < -1 || axis > 1) return fail(g, FL_EINVAL, "sum: axis %d is not -1 (all), 0 or 1", axis);
  size_t r = g->nodes[a].r, c = g->nodes[a].c;
  int id;
  node *n = unary_node(g, OP_SUM, a, axis == 0 || axis == -1 ? 1 : r, axis == 1 || axis == -1 ? 1 : c, 0, &id);
  if (!n) return -1;
  n->ia = (size_t)(axis + 1);
  const double *x = VAL(&g->nodes[a]);
  double *z = n->v;
  if (axis == -1) {
    double s = 0;
    size_t m = r * c;
    for (size_t i = 0; i < m; i++) s += x[i];
    z[0] = s;
  } else if (axis == 0) {
    memset(z, 0, c * sizeof(double));
    for (size_t i = 0; i < r; i++) {
      const double *xi = x + i * c;
      FL_SIMD
      for (size_t j = 0; j < c; j++) z[j] += xi[j];
    }
  } else {
    FL_PFOR_IF(r * c > PAR_MIN,
    for (size_t i = 0; i < r; i++) {
      double s = 0;
      for (size_t j = 0; j < c; j++) s += x[i * c + j];
      z[i] = s;
    });
  }
  return id;
}

int fl_ad_mean(fl_ad_graph *g, int a, int axis)
{
  if (bad_input(g, a)) return -1;
  size_t r = g->nodes[a].r, c = g->nodes[a].c;
  size_t cnt = axis == -1 ? r * c : axis == 0 ? r : c;
  return fl_ad_affine(g, fl_ad_sum(g, a, axis), cnt ? 1.0 / (double)cnt : NAN, 0.0);
}

int fl_ad_expand(fl_ad_graph *g, int a, size_t rows, size_t cols)
{
  if (bad_input(g, a)) return -1;
  size_t ra = g->nodes[a].r, ca = g->nodes[a].c;
  if ((ra != rows && ra != 1) || (ca != cols && ca != 1)) {
    char b1[48];
    return fail(g, FL_EDIM, "expand: cannot repeat %s to (%zu,%zu)", shp(&g->nodes[a], b1), rows, cols);
  }
  int id;
  node *n = unary_node(g, OP_EXPAND, a, rows, cols, 0, &id);
  if (!n) return -1;
  const double *x = VAL(&g->nodes[a]);
  double *z = n->v;
  size_t sj = ca == 1 ? 0 : 1, si = ra == 1 ? 0 : ca;
  FL_PFOR_IF(rows * cols > PAR_MIN,
  for (size_t i = 0; i < rows; i++)
    for (size_t j = 0; j < cols; j++) z[i * cols + j] = x[i * si + j * sj];);
  return id;
}

int fl_ad_reshape(fl_ad_graph *g, int a, size_t rows, size_t cols)
{
  if (bad_input(g, a)) return -1;
  const node *A = &g->nodes[a];
  size_t m;
  if (fl_mul_overflow(rows, cols, &m) || m != A->r * A->c) {
    char b1[48];
    return fail(g, FL_EDIM, "reshape: cannot reshape %s (%zu elements) to (%zu,%zu)", shp(A, b1), A->r * A->c,
                rows, cols);
  }
  int share = A->v != NULL; /* a parameter's block may move: copy it */
  int id;
  node *n = unary_node(g, OP_RESHAPE, a, rows, cols, share, &id);
  if (!n) return -1;
  A = &g->nodes[a];
  if (share) n->v = A->v;
  else memcpy(n->v, VAL(A), m * sizeof(double));
  return id;
}

int fl_ad_cols(fl_ad_graph *g, int a, size_t j0, size_t j1)
{
  if (bad_input(g, a)) return -1;
  size_t r = g->nodes[a].r, c = g->nodes[a].c;
  if (j0 >= j1 || j1 > c) {
    char b1[48];
    return fail(g, FL_ERANGE, "cols: columns %zu..%zu (0-based, end excluded) are not a range of %s", j0, j1,
                shp(&g->nodes[a], b1));
  }
  int id;
  node *n = unary_node(g, OP_COLS, a, r, j1 - j0, 0, &id);
  if (!n) return -1;
  n->ia = j0;
  n->ib = j1;
  const double *x = VAL(&g->nodes[a]);
  size_t w = j1 - j0;
  for (size_t i = 0; i < r; i++) memcpy(n->v + i * w, x + i * c + j0, w * sizeof(double));
  return id;
}

int fl_ad_pad_cols(fl_ad_graph *g, int a, size_t j0, size_t cols)
{
  if (bad_input(g, a)) return -1;
  size_t r = g->nodes[a].r, w = g->nodes[a].c;
  if (j0 + w > cols || j0 + w < j0) {
    char b1[48];
    return fail(g, FL_ERANGE, "pad_cols: %s at column %zu does not fit in %zu columns", shp(&g->nodes[a], b1),
                j0, cols);
  }
  int id;
  node *n = unary_node(g, OP_PADCOLS, a, r, cols, 0, &id);
  if (!n) return -1;
  n->ia = j0;
  const double *x = VAL(&g->nodes[a]);
  memset(n->v, 0, r * cols * sizeof(double));
  for (size_t i = 0; i < r; i++) memcpy(n->v + i * cols + j0, x + i * w, w * sizeof(double));
  return id;
}

int fl_ad_concat_cols(fl_ad_graph *g, int n, const int *xs)
{
  if (g->err != FL_OK) return -1;
  if (n < 1) return fail(g, FL_EINVAL, "concat_cols: needs at least one tensor");
  size_t r = 0, c = 0;
  int rg = 0;
  for (int k = 0; k < n; k++) {
    if (bad_input(g, xs[k])) return -1;
    const node *X = &g->nodes[xs[k]];
    if (k == 0) r = X->r;
    if (X->r != r) {
      char b1[48], b2[48];
      return fail(g, FL_EDIM, "concat_cols: tensor %d has shape %s, tensor 1 has %s (rows differ)", k + 1,
                  shp(X, b1), shp(&g->nodes[xs[0]], b2));
    }
    c += X->c;
    rg |= X->rg;
  }
  if (n == 1) return xs[0];
  int *ins = arena_alloc(g, (size_t)n * sizeof(int));
  if (!ins) return fail(g, FL_ENOMEM, "out of memory");
  memcpy(ins, xs, (size_t)n * sizeof(int));
  int id;
  node *z = new_node(g, OP_CONCAT, r, c, 0, &id);
  if (!z) return -1;
  z->nin = n;
  z->ins = ins;
  z->rg = rg && !g->nograd;
  size_t off = 0;
  for (int k = 0; k < n; k++) {
    const node *X = &g->nodes[ins[k]];
    const double *x = VAL(X);
    for (size_t i = 0; i < r; i++) memcpy(z->v + i * c + off, x + i * X->c, X->c * sizeof(double));
    off += X->c;
  }
  return id;
}

/* ------------------------------------------------------------ element-wise unary */

#define GELU_K 0.7978845608028654 /* sqrt(2/pi) */
#define GELU_C 0.044715

static inline double sigm(double x)
{
  if (x >= 0) return 1 / (1 + exp(-x));
  double e = exp(x);
  return e / (1 + e);
}

static inline double softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }

/* The vectorised kernels (fl_vmath) over m elements, in chunks over threads:
 * z = f(x), or z = g * f'(x) when g is given. For silu, so = the sigmoid
 * of x to keep (may be NULL); for its derivatives, si = that sigmoid (NULL:
 * computed again). */
enum { VM_EXP, VM_SIGMOID, VM_SILU, VM_DSILU, VM_D2SILU };

static void vm_apply(int k, size_t m, const double *x, const double *si, const double *g, double *z, double *so)
{
  size_t nch = (m + VM_CHUNK - 1) / VM_CHUNK;
  FL_PFOR_IF(m > PAR_VM,
  for (size_t c = 0; c < nch; c++) {
    size_t i = c * VM_CHUNK, len = m - i < VM_CHUNK ? m - i : VM_CHUNK;
    const double *gi = g ? g + i : NULL;
    switch (k) {
    case VM_EXP: fl_vm_exp(len, x + i, z + i); break;
    case VM_SIGMOID: fl_vm_sigmoid(len, x + i, z + i); break;
    case VM_SILU:
      if (so) fl_vm_silu_s(len, x + i, z + i, so + i);
      else fl_vm_silu(len, x + i, z + i);
      break;
    case VM_DSILU:
      if (si) fl_vm_silu_d1_s(len, x + i, si + i, gi, z + i);
      else fl_vm_silu_d1(len, x + i, gi, z + i);
      break;
    default:
      if (si) fl_vm_silu_d2_s(len, x + i, si + i, gi, z + i);
      else fl_vm_silu_d2(len, x + i, gi, z + i);
      break;
    }
  });
}

void fl_ad_silu_kernel(size_t m, const double *x, double *f, double *s) { vm_apply(VM_SILU, m, x, NULL, NULL, f, s); }
void fl_ad_dsilu_kernel(size_t m, const double *x, const double *s, const double *g, double *out)
{
  vm_apply(VM_DSILU, m, x, s, g, out, NULL);
}

static void unary_kernel(int op, const double *x, double *z, size_t m)
{
  switch (op) {
  case OP_EXP: vm_apply(VM_EXP, m, x, NULL, NULL, z, NULL); return;
  case OP_SIGMOID: vm_apply(VM_SIGMOID, m, x, NULL, NULL, z, NULL); return;
  case OP_SILU: vm_apply(VM_SILU, m, x, NULL, NULL, z, NULL); return;
  case OP_DSILU: vm_apply(VM_DSILU, m, x, NULL, NULL, z, NULL); return;
  default: break;
  }
  switch (op) {
  case OP_SQUARE: FL_PFOR_IF(m > PAR_MIN, for (size_t i = 0; i < m; i++) z[i] = x[i] * x[i];); break;
  case OP_SQRT: FL_PFOR_IF(m > PAR_MIN, for (size_t i = 0; i < m; i++) z[i] = sqrt(x[i]);); break;
  case OP_LOG: FL_PFOR_IF(m > PAR_MIN / 8, for (size_t i = 0; i < m; i++) z[i] = log(x[i]);); break;
  case OP_SIN: FL_PFOR_IF(m > PAR_MIN / 8, for (size_t i = 0; i < m; i++) z[i] = sin(x[i]);); break;
  case OP_COS: FL_PFOR_IF(m > PAR_MIN / 8, for (size_t i = 0; i < m; i++) z[i] = cos(x[i]);); break;
  case OP_TANH: FL_PFOR_IF(m > PAR_MIN / 8, for (size_t i = 0; i < m; i++) z[i] = tanh(x[i]);); break;
  case OP_SOFTPLUS: FL_PFOR_IF(m > PAR_MIN / 8, for (size_t i = 0; i < m; i++) z[i] = softplus(x[i]);); break;
  case OP_RELU: FL_PFOR_IF(m > PAR_MIN, for (size_t i = 0; i < m; i++) z[i] = x[i] > 0 ? x[i] : 0.0;); break;
  case OP_GELU:
    FL_PFOR_IF(m > PAR_MIN / 8,
    for (size_t i = 0; i < m; i++) {
      double v = x[i];
      z[i] = 0.5 * v * (1 + tanh(GELU_K * (v + GELU_C * v * v * v)));
    });
    break;
  default: /* OP_STEP */
    FL_PFOR_IF(m > PAR_MIN, for (size_t i = 0; i < m; i++) z[i] = x[i] > 0 ? 1.0 : 0.0;);
    break;
  }
}

static int unary(fl_ad_graph *g, int op, int a)
{
  if (bad_input(g, a)) return -1;
  int id;
  node *n = unary_node(g, op, a, g->nodes[a].r, g->nodes[a].c, 0, &id);
  if (!n) return -1;
  if (op == OP_STEP) n->rg = 0;
  size_t m = n->r * n->c;
  if (op == OP_SILU && n->rg) { /* keep sigmoid(x) for the backward pass */
    if (!(n->aux = arena_alloc(g, m * sizeof(double))))
      return fail(g, FL_ENOMEM, "out of memory for a %zu x %zu tensor", n->r, n->c);
    vm_apply(VM_SILU, m, VAL(&g->nodes[a]), NULL, NULL, n->v, n->aux);
    return id;
  }
  unary_kernel(op, VAL(&g->nodes[a]), n->v, m);
  return id;
}

/* silu'(a) with s = sigmoid(a) when at hand (the aux of a silu node on a; may be NULL). */
static int dsilu(fl_ad_graph *g, int a, double *s)
{
  if (bad_input(g, a)) return -1;
  int id;
  node *n = unary_node(g, OP_DSILU, a, g->nodes[a].r, g->nodes[a].c, 0, &id);
  if (!n) return -1;
  n->aux = s;
  vm_apply(VM_DSILU, n->r * n->c, VAL(&g->nodes[a]), s, NULL, n->v, NULL);
  return id;
}

int fl_ad_square(fl_ad_graph *g, int a) { return unary(g, OP_SQUARE, a); }
int fl_ad_sqrt(fl_ad_graph *g, int a) { return unary(g, OP_SQRT, a); }
int fl_ad_exp(fl_ad_graph *g, int a) { return unary(g, OP_EXP, a); }
int fl_ad_log(fl_ad_graph *g, int a) { return unary(g, OP_LOG, a); }
int fl_ad_sin(fl_ad_graph *g, int a) { return unary(g, OP_SIN, a); }
int fl_ad_cos(fl_ad_graph *g, int a) { return unary(g, OP_COS, a); }
int fl_ad_tanh(fl_ad_graph *g, int a) { return unary(g, OP_TANH, a); }
int fl_ad_sigmoid(fl_ad_graph *g, int a) { return unary(g, OP_SIGMOID, a); }
int fl_ad_softplus(fl_ad_graph *g, int a) { return unary(g, OP_SOFTPLUS, a); }
int fl_ad_silu(fl_ad_graph *g, int a) { return unary(g, OP_SILU, a); }
int fl_ad_relu(fl_ad_graph *g, int a) { return unary(g, OP_RELU, a); }
int fl_ad_gelu(fl_ad_graph *g, int a) { return unary(g, OP_GELU, a); }
int fl_ad_step(fl_ad_graph *g, int a) { return unary(g, OP_STEP, a); }

/* gy * f'(x) for the unary node u = f(x), in one pass (no gradient). */
static int dfused(fl_ad_graph *g, int gy, int u)
{
  if (bad_input(g, gy) || bad_input(g, u)) return -1;
  int id;
  node *n = new_node(g, OP_DFUSED, g->nodes[u].r, g->nodes[u].c, 0, &id);
  if (!n) return -1;
  n->nin = 2;
  n->in[0] = gy;
  n->in[1] = u;
  const node *U = &g->nodes[u];
  const double *G = VAL(&g->nodes[gy]), *y = VAL(U), *x = VAL(&g->nodes[U->in[0]]);
  double *z = n->v;
  size_t m = n->r * n->c;
  switch (U->op) {
  case OP_SQUARE: FL_PFOR_IF(m > PAR_MIN, for (size_t i = 0; i < m; i++) z[i] = 2 * x[i] * G[i];); break;
  case OP_SQRT: FL_PFOR_IF(m > PAR_MIN, for (size_t i = 0; i < m; i++) z[i] = 0.5 * G[i] / y[i];); break;
  case OP_EXP: FL_PFOR_IF(m > PAR_MIN, for (size_t i = 0; i < m; i++) z[i] = G[i] * y[i];); break;
  case OP_LOG: FL_PFOR_IF(m > PAR_MIN, for (size_t i = 0; i < m; i++) z[i] = G[i] / x[i];); break;
  case OP_SIN: FL_PFOR_IF(m > PAR_MIN / 8, for (size_t i = 0; i < m; i++) z[i] = G[i] * cos(x[i]);); break;
  case OP_COS: FL_PFOR_IF(m > PAR_MIN / 8, for (size_t i = 0; i < m; i++) z[i] = -G[i] * sin(x[i]);); break;
  case OP_TANH: FL_PFOR_IF(m > PAR_MIN, for (size_t i = 0; i < m; i++) z[i] = G[i] * (1 - y[i] * y[i]);); break;
  case OP_SIGMOID: FL_PFOR_IF(m > PAR_MIN, for (size_t i = 0; i < m; i++) z[i] = G[i] * y[i] * (1 - y[i]);); break;
  case OP_SOFTPLUS: FL_PFOR_IF(m > PAR_MIN / 8, for (size_t i = 0; i < m; i++) z[i] = G[i] * sigm(x[i]);); break;
  case OP_SILU: vm_apply(VM_DSILU, m, x, U->aux, G, z, NULL); break;
  case OP_DSILU: vm_apply(VM_D2SILU, m, x, U->aux, G, z, NULL); break;
  case OP_RELU: FL_PFOR_IF(m > PAR_MIN, for (size_t i = 0; i < m; i++) z[i] = x[i] > 0 ? G[i] : 0.0;); break;
  case OP_GELU:
    FL_PFOR_IF(m > PAR_MIN / 8,
    for (size_t i = 0; i < m; i++) {
      double v = x[i], v2 = v * v, t = tanh(GELU_K * v * (1 + GELU_C * v2));
      z[i] = G[i] * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * GELU_K * (1 + 3 * GELU_C * v2));
    });
    break;
  default: memset(z, 0, m * sizeof(double)); break;
  }
  return id;
}

/* ------------------------------------------------------------ inspection */

static const node *get(const fl_ad_graph *g, int id)
{
  return id >= 0 && (size_t)id < g->nn ? &g->nodes[id] : NULL;
}

const double *fl_ad_value(const fl_ad_graph *g, int id)
{
  const node *n = get(g, id);
  return n ? VAL(n) : NULL;
}

fl_status fl_ad_shape(const fl_ad_graph *g, int id, size_t *rows, size_t *cols)
{
  const node *n = get(g, id);
  if (!n) return fl_fail(FL_EINVAL, "node %d does not exist (the graph has %zu nodes)", id, g->nn);
  *rows = n->r;
  *cols = n->c;
  return FL_OK;
}

int fl_ad_requires_grad(const fl_ad_graph *g, int id)
{
  const node *n = get(g, id);
  return n ? n->rg : 0;
}

int fl_ad_is_leaf(const fl_ad_graph *g, int id)
{
  const node *n = get(g, id);
  return n && (n->op == OP_LEAF || n->op == OP_PARAM);
}

const double *fl_ad_leaf_grad(const fl_ad_graph *g, int id)
{
  const node *n = get(g, id);
  return n && n->op == OP_LEAF ? n->grad : NULL;
}

void fl_ad_zero_leaf_grad(fl_ad_graph *g, int id)
{
  const node *n = get(g, id);
  if (n && n->op == OP_LEAF && n->grad) memset(n->grad, 0, n->r * n->c * sizeof(double));
}

/* ------------------------------------------------------------ backward rules */

/* Sum gy over the axes along which a tensor of shape r x c was broadcast. */
static int unbroadcast(fl_ad_graph *g, int gy, size_t r, size_t c)
{
  if (gy < 0) return -1;
  if (g->nodes[gy].r != r) gy = fl_ad_sum(g, gy, 0);
  if (gy >= 0 && g->nodes[gy].c != c) gy = fl_ad_sum(g, gy, 1);
  return gy;
}

/* The contribution of node id's adjoint gy to the adjoint of its input k,
 * built from differentiable ops (or, with g->nograd, fused kernels). */
static int vjp(fl_ad_graph *g, int id, int k, int gy)
{
  const node nd = g->nodes[id]; /* a copy: the node array may move below */
  int a = IN(&nd, 0), b = nd.nin > 1 ? IN(&nd, 1) : -1, x = IN(&nd, k);
  size_t rx = g->nodes[x].r, cx = g->nodes[x].c;
  if (nd.op >= OP_SQUARE && nd.op <= OP_GELU && g->nograd) return dfused(g, gy, id);
  switch (nd.op) {
  case OP_ADD: return unbroadcast(g, gy, rx, cx);
  case OP_SUB: return k == 0 ? unbroadcast(g, gy, rx, cx) : fl_ad_neg(g, unbroadcast(g, gy, rx, cx));
  case OP_MUL: return unbroadcast(g, fl_ad_mul(g, gy, k == 0 ? b : a), rx, cx);
  case OP_DIV:
    if (k == 0) return unbroadcast(g, fl_ad_div(g, gy, b), rx, cx);
    return fl_ad_neg(g, unbroadcast(g, fl_ad_mul(g, fl_ad_div(g, gy, b), id), rx, cx));
  case OP_AFFINE: return nd.s == 1.0 ? gy : fl_ad_scale(g, gy, nd.s);
  case OP_MATMUL: {
    int ta = (int)nd.ia, tb = (int)nd.ib;
    if (k == 0) return ta ? fl_ad_matmul(g, b, gy, tb, 1) : fl_ad_matmul(g, gy, b, 0, !tb);
    return tb ? fl_ad_matmul(g, gy, a, 1, ta) : fl_ad_matmul(g, a, gy, !ta, 0);
  }
  case OP_DENSE: /* x W + b */
    if (k == 0) return fl_ad_matmul(g, gy, IN(&nd, 1), 0, 1);
    if (k == 1) return fl_ad_matmul(g, IN(&nd, 0), gy, 1, 0);
    return fl_ad_sum(g, gy, 0);
  case OP_TRANSPOSE: return fl_ad_transpose(g, gy);
  case OP_SUM: return fl_ad_expand(g, gy, rx, cx);
  case OP_EXPAND: return unbroadcast(g, gy, rx, cx);
  case OP_RESHAPE: return fl_ad_reshape(g, gy, rx, cx);
  case OP_COLS: return fl_ad_pad_cols(g, gy, nd.ia, cx);
  case OP_PADCOLS: return fl_ad_cols(g, gy, nd.ia, nd.ia + cx);
  case OP_CONCAT: {
    size_t off = 0;
    for (int q = 0; q < k; q++) off += g->nodes[IN(&nd, q)].c;
    return fl_ad_cols(g, gy, off, off + cx);
  }
  case OP_SQUARE: return fl_ad_mul(g, gy, fl_ad_scale(g, a, 2.0));
  case OP_SQRT: return fl_ad_div(g, fl_ad_scale(g, gy, 0.5), id);
  case OP_EXP: return fl_ad_mul(g, gy, id);
  case OP_LOG: return fl_ad_div(g, gy, a);
  case OP_SIN: return fl_ad_mul(g, gy, fl_ad_cos(g, a));
  case OP_COS: return fl_ad_neg(g, fl_ad_mul(g, gy, fl_ad_sin(g, a)));
  case OP_TANH: return fl_ad_mul(g, gy, fl_ad_affine(g, fl_ad_square(g, id), -1.0, 1.0));
  case OP_SIGMOID: return fl_ad_mul(g, gy, fl_ad_mul(g, id, fl_ad_affine(g, id, -1.0, 1.0)));
  case OP_SOFTPLUS: return fl_ad_mul(g, gy, fl_ad_sigmoid(g, a));
  case OP_SILU: return fl_ad_mul(g, gy, dsilu(g, a, nd.aux)); /* silu' = s (1 + x (1 - s)), s = sigmoid(x) */
  case OP_DSILU: { /* silu'' = s (1 - s) (2 + x (1 - 2 s)) */
    int s = fl_ad_sigmoid(g, a);
    int d = fl_ad_mul(g, fl_ad_mul(g, s, fl_ad_affine(g, s, -1.0, 1.0)),
                      fl_ad_affine(g, fl_ad_mul(g, a, fl_ad_affine(g, s, -2.0, 1.0)), 1.0, 2.0));
    return fl_ad_mul(g, gy, d);
  }
  case OP_RELU: return fl_ad_mul(g, gy, fl_ad_step(g, a));
  case OP_GELU: { /* 0.5 (1 + t) + 0.5 x (1 - t^2) k (1 + 3 c x^2), t = tanh(k x (1 + c x^2)) */
    int x2 = fl_ad_square(g, a);
    int t = fl_ad_tanh(g, fl_ad_scale(g, fl_ad_mul(g, a, fl_ad_affine(g, x2, GELU_C, 1.0)), GELU_K));
    int du = fl_ad_affine(g, x2, 3.0 * GELU_C * GELU_K, GELU_K);
    int t2 = fl_ad_mul(g, fl_ad_scale(g, a, 0.5), fl_ad_affine(g, fl_ad_square(g, t), -1.0, 1.0));
    int d = fl_ad_add(g, fl_ad_affine(g, t, 0.5, 0.5), fl_ad_mul(g, t2, du));
    return fl_ad_mul(g, gy, d);
  }
  default: /* leaves, step and fused nodes have no gradient to pass on */
    return fail(g, FL_EINVAL, "internal: no backward rule for op %d", nd.op);
  }
}

/* ------------------------------------------------------------ differentiation */

static fl_status grad_impl(fl_ad_graph *g, int y, int seed, int n, const int *xs, int create_graph, int *out)
{
  size_t ny = (size_t)y + 1;
  int *adj = arena_alloc(g, ny * sizeof(int));
  char *need = arena_alloc(g, ny);
  if (!adj || !need) return fl_fail(FL_ENOMEM, "grad: out of memory");
  memset(need, 0, ny);
  for (int k = 0; k < n; k++)
    if (xs[k] <= y) need[xs[k]] = 1;
  /* need[id]: id is a wanted x or depends on one (step and fused nodes cut the path) */
  for (size_t id = 0; id < ny; id++) {
    const node *nd = &g->nodes[id];
    if (need[id] || nd->op == OP_STEP || nd->op == OP_DFUSED) continue;
    for (int q = 0; q < nd->nin; q++)
      if (need[IN(nd, q)]) { need[id] = 1; break; }
  }
  for (size_t id = 0; id < ny; id++) adj[id] = -1;
  int saved = g->nograd;
  g->nograd = !create_graph;
  if (seed < 0) seed = fl_ad_scalar(g, 1.0);
  adj[y] = seed;
  for (int id = y; id >= 0 && g->err == FL_OK; id--) {
    if (adj[id] < 0 || !need[id]) continue;
    int nin = g->nodes[id].nin;
    for (int q = 0; q < nin && g->err == FL_OK; q++) {
      int in = IN(&g->nodes[id], q);
      if (!need[in]) continue;
      int c = vjp(g, id, q, adj[id]);
      adj[in] = adj[in] < 0 ? c : fl_ad_add(g, adj[in], c);
    }
  }
  for (int k = 0; k < n && g->err == FL_OK; k++) {
    int a = xs[k] <= y ? adj[xs[k]] : -1;
    if (a < 0) a = fl_ad_const(g, g->nodes[xs[k]].r, g->nodes[xs[k]].c, NULL);
    out[k] = a;
  }
  g->nograd = saved;
  if (g->err != FL_OK) {
    for (int k = 0; k < n; k++) out[k] = -1;
    return g->err;
  }
  return FL_OK;
}

fl_status fl_ad_grad(fl_ad_graph *g, int y, int seed, int n, const int *xs, int create_graph, int *out)
{
  for (int k = 0; k < n; k++) out[k] = -1;
  if (g->err != FL_OK) return fl_fail(FL_EINVAL, "grad: the graph holds a failed operation (reset it)");
  const node *Y = get(g, y);
  if (!Y) return fl_fail(FL_EINVAL, "grad: node %d does not exist", y);
  for (int k = 0; k < n; k++)
    if (!get(g, xs[k])) return fl_fail(FL_EINVAL, "grad: node %d does not exist", xs[k]);
  char b1[48], b2[48];
  if (seed < 0 && (Y->r != 1 || Y->c != 1))
    return fl_fail(FL_EDIM, "grad: the output has shape %s; give a seed of that shape or reduce it to (1,1)",
                   shp(Y, b1));
  if (seed >= 0) {
    const node *S = get(g, seed);
    if (!S) return fl_fail(FL_EINVAL, "grad: node %d does not exist", seed);
    if (S->r != Y->r || S->c != Y->c)
      return fl_fail(FL_EDIM, "grad: seed of shape %s for an output of shape %s", shp(S, b1), shp(Y, b2));
  }
  fl_status st = grad_impl(g, y, seed, n, xs, create_graph, out);
  if (st != FL_OK) g->err = FL_OK; /* the detail is set; the graph's nodes are intact */
  return st;
}

fl_status fl_ad_backward(fl_ad_graph *g, int y)
{
  if (g->err != FL_OK) return fl_fail(FL_EINVAL, "backward: the graph holds a failed operation (reset it)");
  const node *Y = get(g, y);
  if (!Y) return fl_fail(FL_EINVAL, "backward: node %d does not exist", y);
  if (Y->r != 1 || Y->c != 1) {
    char b1[48];
    return fl_fail(FL_EDIM, "backward needs a scalar (1,1) output, got shape %s (sum or mean it first)",
                   shp(Y, b1));
  }
  /* gradient buffers of the leaves first: they outlive the rollback */
  int n = 0;
  for (int id = 0; id <= y; id++) {
    node *nd = &g->nodes[id];
    if (!nd->rg || (nd->op != OP_LEAF && nd->op != OP_PARAM)) continue;
    n++;
    if (nd->op == OP_LEAF && !nd->grad) {
      double *p = arena_alloc(g, nd->r * nd->c * sizeof(double));
      if (!p) return fl_fail(FL_ENOMEM, "backward: out of memory");
      memset(p, 0, nd->r * nd->c * sizeof(double));
      g->nodes[id].grad = p;
    }
  }
  if (n == 0) return FL_OK;
  size_t mark_nn = g->nn, mark_cur = g->cur, mark_used = g->used;
  fl_status st = FL_OK;
  int *xs = arena_alloc(g, 2 * (size_t)n * sizeof(int));
  if (!xs) {
    st = fl_fail(FL_ENOMEM, "backward: out of memory");
  } else {
    int *out = xs + n, q = 0;
    for (int id = 0; id <= y; id++) {
      const node *nd = &g->nodes[id];
      if (nd->rg && (nd->op == OP_LEAF || nd->op == OP_PARAM)) xs[q++] = id;
    }
    st = grad_impl(g, y, -1, n, xs, 0, out);
    for (int k = 0; k < n && st == FL_OK; k++) {
      const node *X = &g->nodes[xs[k]];
      const double *d = VAL(&g->nodes[out[k]]);
      double *acc = X->op == OP_LEAF ? X->grad : X->P->g + X->P->t[X->pk].off;
      size_t m = X->r * X->c;
      for (size_t i = 0; i < m; i++) acc[i] += d[i];
    }
  }
  g->nn = mark_nn;
  g->cur = mark_cur;
  g->used = mark_used;
  g->err = FL_OK;
  return st;
}
