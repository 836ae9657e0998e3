/* fl_fft: FFTW plan cache and spectral derivatives.
 *
 * Plans are made once per (kind, shape, number of interleaved components)
 * with FFTW_ESTIMATE, under a mutex, and kept for the life of the process:
 * the cache is the one piece of global mutable state of the library besides
 * the interrupt flag. Executing a plan is thread safe; the execute functions
 * below take new arrays each call (FFTW's new-array interface) and copy
 * through aligned scratch buffers when the arrays given are not aligned as
 * FFTW requires.
 *
 * Data layout: a real array of shape (n[0], ..., n[rank-1], howmany),
 * row-major, i.e. `howmany` interleaved components per node (the layout of
 * grid field values). The r2c output has shape (n[0], ..., n[rank-1]/2+1,
 * howmany) of complex numbers. Transforms are unnormalised (FFTW's
 * convention): c2r(r2c(x)) = N x with N = n[0]*...*n[rank-1].
 *
 * Part of libfieldlab: pure C11, no Lua, no printing, no exit. Include
 * <complex.h> before this header when you use the complex buffers. */
#ifndef FL_FFT_H
#define FL_FFT_H

#include <complex.h>
#include <stddef.h>
#include "fl_core.h"

#define FL_FFT_MAXRANK 3

typedef enum fl_fft_kind {
  FL_FFT_R2C = 0,  /* real -> half complex spectrum (forward, e^{-i k x}) */
  FL_FFT_C2R,      /* half complex spectrum -> real (backward); destroys its input */
  FL_FFT_REDFT00,  /* DCT-I on every axis (needs n >= 2) */
  FL_FFT_REDFT10,  /* DCT-II ("the" DCT) */
  FL_FFT_REDFT01,  /* DCT-III (inverse of DCT-II up to 2n per axis) */
  FL_FFT_RODFT00,  /* DST-I */
  FL_FFT_RODFT10,  /* DST-II */
  FL_FFT_RODFT01   /* DST-III */
} fl_fft_kind;

typedef struct fl_fft_plan fl_fft_plan;

/* The cached plan for (kind, rank, n[0..rank), howmany), made on first use.
 * rank 1..FL_FFT_MAXRANK, every n[k] >= 1 (>= 2 for REDFT00), howmany >= 1.
 * The same arguments always give the same pointer. */
fl_status fl_fft_plan_get(fl_fft_kind kind, int rank, const size_t *n, size_t howmany,
                          const fl_fft_plan **out);

/* Number of elements (reals for the real side, complex numbers for the
 * spectrum) of the input and output of a plan. */
size_t fl_fft_plan_in_size(const fl_fft_plan *p);
size_t fl_fft_plan_out_size(const fl_fft_plan *p);

/* Execute on new arrays (out-of-place: in != out). c2r overwrites in. */
fl_status fl_fft_r2c(const fl_fft_plan *p, const double *in, double complex *out);
fl_status fl_fft_c2r(const fl_fft_plan *p, double complex *in, double *out);
fl_status fl_fft_r2r(const fl_fft_plan *p, const double *in, double *out);

/* Planning rigor of the plans made from now on (default FL_FFT_ESTIMATE).
 * A cached plan is reused for any rigor up to the one it was made with; a
 * request at a higher rigor makes (and caches) a new plan, slower to make and
 * usually faster to run. Plans made with FFTW_ESTIMATE also use any wisdom
 * that FFTW holds for their problem (from plans made at a higher rigor in
 * this process, or imported with fl_fft_wisdom_import). */
typedef enum fl_fft_rigor { FL_FFT_ESTIMATE = 0, FL_FFT_MEASURE, FL_FFT_PATIENT } fl_fft_rigor;
fl_status fl_fft_set_rigor(fl_fft_rigor r);
fl_fft_rigor fl_fft_get_rigor(void);

/* FFTW wisdom (the planner's measurements) to and from a file: FL_EIO naming
 * the file when it cannot be written, read, or is not FFTW wisdom. Import
 * before the first transform of a shape: plans already cached are kept. */
fl_status fl_fft_wisdom_export(const char *path);
fl_status fl_fft_wisdom_import(const char *path);

/* Number of plans in the cache, and a way to empty it (frees every plan;
 * no plan pointer obtained before may be used afterwards; not while other
 * threads use plans). */
size_t fl_fft_cache_size(void);
void fl_fft_cache_clear(void);

/* ---- spectral derivatives of periodic data ----
 * Data as above: rank axes of n[k] nodes spanning one period len[k] each
 * (nodes at len[k]*j/n[k]), m_in interleaved components. */

/* out (m_out interleaved components) with
 *   out_c = sum_{a, k} coef[(c*m_in + a)*rank + k] * d in_a / d x_k,
 * one forward transform of all components and one backward transform. The
 * Nyquist mode of an even n[k] is dropped from d/dx_k (its derivative is not
 * representable on the grid), so the derivative of a trigonometric
 * polynomial of degree < n/2 is exact to rounding. in and out must not
 * overlap. */
fl_status fl_fft_diffop(int rank, const size_t *n, const double *len, size_t m_in, const double *in,
                        size_t m_out, const double *coef, double *out);

/* out = d/dx_axis of each of the m components (axis 0-based). */
fl_status fl_fft_deriv(int rank, const size_t *n, const double *len, size_t m, int axis,
                       const double *in, double *out);

/* out = Laplacian of each of the m components (-|k|^2 in spectral space;
 * the Nyquist mode is kept: its second derivative is representable). */
fl_status fl_fft_laplacian(int rank, const size_t *n, const double *len, size_t m, const double *in,
                           double *out);

#endif
