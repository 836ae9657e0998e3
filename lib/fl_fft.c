/* fl_fft: FFTW plan cache (r2c, c2r, r2r) and spectral derivatives. */
#include "config.h"

#include <complex.h> /* before fftw3.h: fftw_complex is then double complex */
#include <fftw3.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fl_fft.h"

#ifdef _OPENMP
#define FL_PRAGMA(x) _Pragma(#x)
#define FL_PFOR(cond) FL_PRAGMA(omp parallel for schedule(static) if(cond))
#else
#define FL_PFOR(cond)
#endif
#define PAR_MIN ((size_t)1 << 14)

struct fl_fft_plan {
  fl_fft_kind kind;
  int rank;
  size_t n[FL_FFT_MAXRANK];
  size_t howmany;
  fl_fft_rigor rigor;
  int nthreads;             /* FFTW threads the plan was made for */
  size_t in_size, out_size; /* elements: reals or complex numbers */
  fftw_plan plan;
  struct fl_fft_plan *next;
};

/* The cache: a list, searched and extended under the mutex. Entries are never
 * removed except by fl_fft_cache_clear, so a found pointer stays valid. */
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fl_fft_plan *cache_head;
static size_t cache_count;
static fl_fft_rigor cache_rigor = FL_FFT_ESTIMATE; /* guarded by cache_lock */

/* Threads for a transform of `total` real elements: FFTW's own threads (the
 * OpenMP build of FFTW, when configure found it) for large transforms only,
 * where they pay for themselves; the library's thread setting otherwise. */
#define THREAD_MIN ((size_t)1 << 15)
static int plan_threads(size_t total)
{
#ifdef FL_HAVE_FFTW_OMP
  return total >= THREAD_MIN ? fl_get_threads() : 1;
#else
  (void)total;
  return 1;
#endif
}

static unsigned rigor_flag(fl_fft_rigor r)
{
  return r == FL_FFT_PATIENT ? FFTW_PATIENT : r == FL_FFT_MEASURE ? FFTW_MEASURE : FFTW_ESTIMATE;
}

static const char *kind_name(fl_fft_kind k)
{
  static const char *const names[] = {"r2c", "c2r", "REDFT00", "REDFT10", "REDFT01",
                                      "RODFT00", "RODFT10", "RODFT01"};
  return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "unknown";
}

static fftw_r2r_kind r2r_kind(fl_fft_kind k)
{
  switch (k) {
  case FL_FFT_REDFT00: return FFTW_REDFT00;
  case FL_FFT_REDFT10: return FFTW_REDFT10;
  case FL_FFT_REDFT01: return FFTW_REDFT01;
  case FL_FFT_RODFT00: return FFTW_RODFT00;
  case FL_FFT_RODFT10: return FFTW_RODFT10;
  default: return FFTW_RODFT01;
  }
}

/* Make the FFTW plan of p (kind, rank, n, howmany set) on scratch buffers.
 * Called with the lock held. */
static fl_status make_plan(struct fl_fft_plan *p)
{
  int nn[FL_FFT_MAXRANK];
  size_t nreal = 1, nhalf = 1;
  for (int k = 0; k < p->rank; k++) {
    nn[k] = (int)p->n[k];
    nreal *= p->n[k];
    nhalf *= k == p->rank - 1 ? p->n[k] / 2 + 1 : p->n[k];
  }
  int hm = (int)p->howmany, stride = (int)p->howmany;
  size_t nr = nreal * p->howmany, nc = nhalf * p->howmany;
#ifdef FL_HAVE_FFTW_OMP
  static int threads_ready; /* guarded by the cache lock, like the planner */
  if (!threads_ready) threads_ready = fftw_init_threads();
  if (threads_ready) fftw_plan_with_nthreads(p->nthreads);
#endif
  double *r = NULL, *r2 = NULL;
  fftw_complex *c = NULL;
  switch (p->kind) {
  case FL_FFT_R2C:
  case FL_FFT_C2R:
    r = fftw_alloc_real(nr);
    c = fftw_alloc_complex(nc);
    if (!r || !c) break;
    if (p->kind == FL_FFT_R2C) {
      p->plan = fftw_plan_many_dft_r2c(p->rank, nn, hm, r, NULL, stride, 1, c, NULL, stride, 1,
                                       rigor_flag(p->rigor));
      p->in_size = nr;
      p->out_size = nc;
    } else {
      p->plan = fftw_plan_many_dft_c2r(p->rank, nn, hm, c, NULL, stride, 1, r, NULL, stride, 1,
                                       rigor_flag(p->rigor) | FFTW_DESTROY_INPUT);
      p->in_size = nc;
      p->out_size = nr;
    }
    break;
  default: {
    fftw_r2r_kind kinds[FL_FFT_MAXRANK];
    for (int k = 0; k < p->rank; k++) kinds[k] = r2r_kind(p->kind);
    r = fftw_alloc_real(nr);
    r2 = fftw_alloc_real(nr);
    if (!r || !r2) break;
    p->plan = fftw_plan_many_r2r(p->rank, nn, hm, r, NULL, stride, 1, r2, NULL, stride, 1, kinds,
                                 rigor_flag(p->rigor));
    p->in_size = p->out_size = nr;
  }
  }
  int nomem = !r || (!c && !r2);
  fftw_free(r);
  fftw_free(r2);
  fftw_free(c);
  if (nomem) return fl_fail(FL_ENOMEM, "no memory to plan a %s transform", kind_name(p->kind));
  if (!p->plan) return fl_fail(FL_EINVAL, "FFTW could not plan a %s transform", kind_name(p->kind));
  return FL_OK;
}

fl_status fl_fft_plan_get(fl_fft_kind kind, int rank, const size_t *n, size_t howmany,
                          const fl_fft_plan **out)
{
  *out = NULL;
  if ((unsigned)kind > (unsigned)FL_FFT_RODFT01) return fl_fail(FL_EINVAL, "unknown transform kind %d", (int)kind);
  if (rank < 1 || rank > FL_FFT_MAXRANK)
    return fl_fail(FL_EINVAL, "transform rank %d (must be 1 to %d)", rank, FL_FFT_MAXRANK);
  if (howmany < 1 || howmany > (size_t)INT32_MAX)
    return fl_fail(FL_EINVAL, "number of components %zu (must be 1 to %d)", howmany, INT32_MAX);
  size_t total = howmany;
  for (int k = 0; k < rank; k++) {
    size_t minn = kind == FL_FFT_REDFT00 ? 2 : 1;
    if (n[k] < minn || n[k] > (size_t)INT32_MAX)
      return fl_fail(FL_EINVAL, "%s transform: axis %d has %zu points (must be %zu or more)", kind_name(kind),
                     k + 1, n[k], minn);
    if (fl_mul_overflow(total, n[k], &total) || total > (size_t)INT32_MAX)
      return fl_fail(FL_EINVAL, "%s transform too large", kind_name(kind));
  }
  int nthreads = plan_threads(total);
  pthread_mutex_lock(&cache_lock);
  for (struct fl_fft_plan *p = cache_head; p; p = p->next) {
    if (p->kind != kind || p->rank != rank || p->howmany != howmany || p->rigor < cache_rigor ||
        p->nthreads != nthreads)
      continue;
    int same = 1;
    for (int k = 0; k < rank; k++) same &= p->n[k] == n[k];
    if (same) {
      pthread_mutex_unlock(&cache_lock);
      *out = p;
      return FL_OK;
    }
  }
  struct fl_fft_plan *p = calloc(1, sizeof *p);
  if (!p) {
    pthread_mutex_unlock(&cache_lock);
    return fl_fail(FL_ENOMEM, "no memory for an FFT plan");
  }
  p->kind = kind;
  p->rank = rank;
  for (int k = 0; k < rank; k++) p->n[k] = n[k];
  p->howmany = howmany;
  p->rigor = cache_rigor;
  p->nthreads = nthreads;
  fl_status st = make_plan(p);
  if (st != FL_OK) {
    pthread_mutex_unlock(&cache_lock);
    free(p);
    return st;
  }
  p->next = cache_head;
  cache_head = p;
  cache_count++;
  pthread_mutex_unlock(&cache_lock);
  *out = p;
  return FL_OK;
}

size_t fl_fft_plan_in_size(const fl_fft_plan *p) { return p->in_size; }
size_t fl_fft_plan_out_size(const fl_fft_plan *p) { return p->out_size; }

fl_status fl_fft_set_rigor(fl_fft_rigor r)
{
  if (r != FL_FFT_ESTIMATE && r != FL_FFT_MEASURE && r != FL_FFT_PATIENT)
    return fl_fail(FL_EINVAL, "unknown planning rigor %d", (int)r);
  pthread_mutex_lock(&cache_lock);
  cache_rigor = r;
  pthread_mutex_unlock(&cache_lock);
  return FL_OK;
}

fl_fft_rigor fl_fft_get_rigor(void)
{
  pthread_mutex_lock(&cache_lock);
  fl_fft_rigor r = cache_rigor;
  pthread_mutex_unlock(&cache_lock);
  return r;
}

/* FFTW's planner and wisdom are not thread safe: both run under cache_lock. */
fl_status fl_fft_wisdom_export(const char *path)
{
  if (!path || !*path) return fl_fail(FL_EINVAL, "no file name for the FFTW wisdom");
  pthread_mutex_lock(&cache_lock);
  int ok = fftw_export_wisdom_to_filename(path);
  pthread_mutex_unlock(&cache_lock);
  if (!ok) return fl_fail(FL_EIO, "cannot write FFTW wisdom to '%s'", path);
  return FL_OK;
}

fl_status fl_fft_wisdom_import(const char *path)
{
  if (!path || !*path) return fl_fail(FL_EINVAL, "no file name for the FFTW wisdom");
  FILE *f = fopen(path, "rb");
  if (!f) return fl_fail(FL_EIO, "cannot open '%s' to read FFTW wisdom", path);
  fclose(f);
  pthread_mutex_lock(&cache_lock);
  int ok = fftw_import_wisdom_from_filename(path);
  pthread_mutex_unlock(&cache_lock);
  if (!ok) return fl_fail(FL_EIO, "'%s' is not FFTW wisdom (or was made by another FFTW)", path);
  return FL_OK;
}

size_t fl_fft_cache_size(void)
{
  pthread_mutex_lock(&cache_lock);
  size_t n = cache_count;
  pthread_mutex_unlock(&cache_lock);
  return n;
}

void fl_fft_cache_clear(void)
{
  pthread_mutex_lock(&cache_lock);
  while (cache_head) {
    struct fl_fft_plan *p = cache_head;
    cache_head = p->next;
    fftw_destroy_plan(p->plan);
    free(p);
  }
  cache_count = 0;
  pthread_mutex_unlock(&cache_lock);
}

/* FFTW's new-array execution needs the alignment the plan was made with (our
 * scratch buffers were SIMD aligned); arrays that are not (a view starting
 * mid-buffer) go through aligned copies. */
static int aligned(const void *p) { return fftw_alignment_of((double *)(uintptr_t)p) == 0; }

static fl_status check_exec(const fl_fft_plan *p, fl_fft_kind want, const void *in, const void *out,
                            const char *what)
{
  if (!p) return fl_fail(FL_EINVAL, "%s: no plan", what);
  int ok = want == FL_FFT_REDFT00 ? (p->kind >= FL_FFT_REDFT00) : p->kind == want;
  if (!ok) return fl_fail(FL_EINVAL, "%s: the plan is a %s transform", what, kind_name(p->kind));
  if (!in || !out) return fl_fail(FL_EINVAL, "%s: NULL array", what);
  if (in == out) return fl_fail(FL_EINVAL, "%s: plans are out of place (in and out are the same array)", what);
  return FL_OK;
}

/* Run a checked plan on in -> out with FFTW's new-array execution, through
 * aligned scratch copies when in or out is not aligned; in_elt and out_elt
 * are the byte sizes of the input and output elements. */
static fl_status execute(const fl_fft_plan *p, const void *in, size_t in_elt, void *out, size_t out_elt)
{
  void *a = (void *)(uintptr_t)in, *b = out;
  const int copy = !(aligned(in) && aligned(out));
  if (copy) {
    a = fftw_malloc(p->in_size * in_elt);
    b = fftw_malloc(p->out_size * out_elt);
    if (!a || !b) {
      fftw_free(a);
      fftw_free(b);
      return fl_fail(FL_ENOMEM, "no memory for an FFT");
    }
    memcpy(a, in, p->in_size * in_elt);
  }
  if (p->kind == FL_FFT_R2C)
    fftw_execute_dft_r2c(p->plan, a, b);
  else if (p->kind == FL_FFT_C2R)
    fftw_execute_dft_c2r(p->plan, a, b);
  else
    fftw_execute_r2r(p->plan, a, b);
  if (copy) {
    memcpy(out, b, p->out_size * out_elt);
    fftw_free(a);
    fftw_free(b);
  }
  return FL_OK;
}

fl_status fl_fft_r2c(const fl_fft_plan *p, const double *in, double complex *out)
{
  fl_status st = check_exec(p, FL_FFT_R2C, in, out, "fl_fft_r2c");
  return st != FL_OK ? st : execute(p, in, sizeof(double), out, sizeof(fftw_complex));
}

fl_status fl_fft_c2r(const fl_fft_plan *p, double complex *in, double *out)
{
  fl_status st = check_exec(p, FL_FFT_C2R, in, out, "fl_fft_c2r");
  return st != FL_OK ? st : execute(p, in, sizeof(fftw_complex), out, sizeof(double));
}

fl_status fl_fft_r2r(const fl_fft_plan *p, const double *in, double *out)
{
  fl_status st = check_exec(p, FL_FFT_REDFT00, in, out, "fl_fft_r2r");
  return st != FL_OK ? st : execute(p, in, sizeof(double), out, sizeof(double));
}

/* ------------------------------------------------------------ spectral derivatives */

/* Wave numbers of the spectrum along each axis: kx[k][j] = 2 pi kk / len[k]
 * with kk = j for j <= n/2 and j - n above (the last axis holds only
 * j = 0..n/2); kd[k][j] is the same with the Nyquist mode of an even n zeroed
 * (first derivatives). */
typedef struct spectrum {
  int rank;
  size_t nc[FL_FFT_MAXRANK]; /* extents of the complex array */
  size_t ncomplex;           /* product of nc */
  size_t nreal;              /* product of n */
  double *kx[FL_FFT_MAXRANK], *kd[FL_FFT_MAXRANK];
  double *buf;
  size_t bytes;
} spectrum;

static void spectrum_free(spectrum *s) { fl_free(s->buf, s->bytes); }

static fl_status spectrum_init(spectrum *s, int rank, const size_t *n, const double *len)
{
  memset(s, 0, sizeof *s);
  if (rank < 1 || rank > FL_FFT_MAXRANK)
    return fl_fail(FL_EINVAL, "spectral derivative of rank %d (must be 1 to %d)", rank, FL_FFT_MAXRANK);
  s->rank = rank;
  s->ncomplex = 1;
  s->nreal = 1;
  size_t total = 0;
  for (int k = 0; k < rank; k++) {
    if (n[k] < 1) return fl_fail(FL_EINVAL, "spectral derivative: axis %d has no points", k + 1);
    if (!(len[k] > 0) || !isfinite(len[k]))
      return fl_fail(FL_EINVAL, "spectral derivative: period %g of axis %d must be positive", len[k], k + 1);
    s->nc[k] = k == rank - 1 ? n[k] / 2 + 1 : n[k];
    s->ncomplex *= s->nc[k];
    s->nreal *= n[k];
    total += 2 * s->nc[k];
  }
  s->bytes = total * sizeof(double);
  s->buf = fl_alloc(s->bytes);
  if (!s->buf) return fl_fail(FL_ENOMEM, "no memory for wave numbers");
  double *p = s->buf;
  for (int k = 0; k < rank; k++) {
    s->kx[k] = p;
    s->kd[k] = p + s->nc[k];
    p += 2 * s->nc[k];
    double scale = 2 * M_PI / len[k];
    for (size_t j = 0; j < s->nc[k]; j++) {
      double kk = j <= n[k] / 2 ? (double)j : (double)j - (double)n[k];
      s->kx[k][j] = scale * kk;
      s->kd[k][j] = (n[k] % 2 == 0 && j == n[k] / 2) ? 0.0 : scale * kk;
    }
  }
  return FL_OK;
}

/* Multi-index (j0, j1, j2) of flat complex index q. */
static inline void unflatten(const spectrum *s, size_t q, size_t *j)
{
  for (int k = s->rank - 1; k >= 0; k--) {
    j[k] = q % s->nc[k];
    q /= s->nc[k];
  }
}

/* The wave numbers and the forward (m_in components) and backward (m_out
 * components) plans of a spectral operator; on failure nothing is left to free. */
static fl_status spectral_setup(spectrum *s, int rank, const size_t *n, const double *len, size_t m_in,
                                size_t m_out, const fl_fft_plan **fwd, const fl_fft_plan **bwd)
{
  fl_status st = spectrum_init(s, rank, n, len);
  if (st != FL_OK) return st;
  st = fl_fft_plan_get(FL_FFT_R2C, rank, n, m_in, fwd);
  if (st == FL_OK) st = fl_fft_plan_get(FL_FFT_C2R, rank, n, m_out, bwd);
  if (st != FL_OK) spectrum_free(s);
  return st;
}

fl_status fl_fft_diffop(int rank, const size_t *n, const double *len, size_t m_in, const double *in,
                        size_t m_out, const double *coef, double *out)
{
  if (m_in < 1 || m_out < 1) return fl_fail(FL_EINVAL, "spectral derivative with no components");
  spectrum s;
  const fl_fft_plan *fwd, *bwd;
  fl_status st = spectral_setup(&s, rank, n, len, m_in, m_out, &fwd, &bwd);
  if (st != FL_OK) return st;
  size_t fb = s.ncomplex * m_in * sizeof(double complex), gb = s.ncomplex * m_out * sizeof(double complex);
  double complex *F = fl_alloc(fb), *G = fl_alloc(gb);
  if (!F || !G) {
    fl_free(F, fb);
    fl_free(G, gb);
    spectrum_free(&s);
    return fl_fail(FL_ENOMEM, "no memory for a spectral derivative");
  }
  st = fl_fft_r2c(fwd, in, F);
  if (st == FL_OK) {
    const double inv = 1.0 / (double)s.nreal;
    const size_t nq = s.ncomplex;
    FL_PFOR(nq * m_out > PAR_MIN)
    for (size_t q = 0; q < nq; q++) {
      size_t j[FL_FFT_MAXRANK];
      unflatten(&s, q, j);
      double kd[FL_FFT_MAXRANK];
      for (int k = 0; k < rank; k++) kd[k] = s.kd[k][j[k]];
      for (size_t c = 0; c < m_out; c++) {
        double complex acc = 0;
        for (size_t a = 0; a < m_in; a++) {
          double w = 0;
          const double *cf = coef + (c * m_in + a) * (size_t)rank;
          for (int k = 0; k < rank; k++) w += cf[k] * kd[k];
          acc += w * F[q * m_in + a];
        }
        G[q * m_out + c] = I * acc * inv; /* d/dx e^{ikx} = ik e^{ikx} */
      }
    }
    st = fl_fft_c2r(bwd, G, out);
  }
  fl_free(F, fb);
  fl_free(G, gb);
  spectrum_free(&s);
  return st;
}

fl_status fl_fft_deriv(int rank, const size_t *n, const double *len, size_t m, int axis,
                       const double *in, double *out)
{
  if (rank < 1 || rank > FL_FFT_MAXRANK) return fl_fail(FL_EINVAL, "spectral derivative of rank %d", rank);
  if (axis < 0 || axis >= rank) return fl_fail(FL_EINVAL, "axis %d out of range 1..%d", axis + 1, rank);
  if (m < 1 || m > 4096) return fl_fail(FL_EINVAL, "spectral derivative of %zu components (1 to 4096)", m);
  size_t nc = m * m * (size_t)rank;
  double *coef = fl_calloc(nc, sizeof *coef);
  if (!coef) return fl_fail(FL_ENOMEM, "no memory for a spectral derivative");
  for (size_t c = 0; c < m; c++) coef[(c * m + c) * (size_t)rank + (size_t)axis] = 1.0;
  fl_status st = fl_fft_diffop(rank, n, len, m, in, m, coef, out);
  fl_free(coef, nc * sizeof *coef);
  return st;
}

fl_status fl_fft_laplacian(int rank, const size_t *n, const double *len, size_t m, const double *in,
                           double *out)
{
  if (m < 1) return fl_fail(FL_EINVAL, "spectral Laplacian with no components");
  spectrum s;
  const fl_fft_plan *fwd, *bwd;
  fl_status st = spectral_setup(&s, rank, n, len, m, m, &fwd, &bwd);
  if (st != FL_OK) return st;
  size_t fb = s.ncomplex * m * sizeof(double complex);
  double complex *F = fl_alloc(fb);
  if (!F) {
    spectrum_free(&s);
    return fl_fail(FL_ENOMEM, "no memory for a spectral Laplacian");
  }
  st = fl_fft_r2c(fwd, in, F);
  if (st == FL_OK) {
    const double inv = 1.0 / (double)s.nreal;
    const size_t nq = s.ncomplex;
    FL_PFOR(nq * m > PAR_MIN)
    for (size_t q = 0; q < nq; q++) {
      size_t j[FL_FFT_MAXRANK];
      unflatten(&s, q, j);
      double k2 = 0;
      for (int k = 0; k < rank; k++) k2 += s.kx[k][j[k]] * s.kx[k][j[k]];
      for (size_t c = 0; c < m; c++) F[q * m + c] *= -k2 * inv;
    }
    st = fl_fft_c2r(bwd, F, out);
  }
  fl_free(F, fb);
  spectrum_free(&s);
  return st;
}
