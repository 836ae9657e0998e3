/* fl_core: status codes, error detail, allocation, interrupt flag.
 * Part of libfieldlab: pure C11, no Lua, no printing, no exit. */
#ifndef FL_CORE_H
#define FL_CORE_H

#include <stddef.h>

typedef enum fl_status {
  FL_OK = 0,
  FL_ENOMEM,     /* out of memory */
  FL_EINVAL,     /* invalid argument */
  FL_EDIM,       /* shape or dimension mismatch */
  FL_ERANGE,     /* index or value out of range */
  FL_ENOTCONV,   /* iteration did not converge */
  FL_EINTR,      /* interrupted (Ctrl-C) */
  FL_ECALLBACK,  /* a user callback failed */
  FL_EIO,        /* input/output error */
  FL_EFORMAT,    /* malformed file or data */
  FL_ESINGULAR,  /* singular or not positive definite matrix */
  FL_ENAN        /* NaN or Inf where a finite number is needed */
} fl_status;

/* Short text for a status ("shape mismatch"). Never NULL. */
const char *fl_strerror(fl_status st);

/* The detail of the last error set in this thread ("shapes (2,3) and (4,5)"),
 * or "" when none. fl_fail() sets it and returns st, so a function can end
 * with `return fl_fail(FL_EDIM, "shapes %s and %s", ...)`. */
const char *fl_last_detail(void);
fl_status fl_fail(fl_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void fl_clear_detail(void);

/* Aligned allocation for large numeric buffers (SIMD alignment, suitable for
 * BLAS and FFTW). fl_alloc(0) returns a valid pointer. The byte count given to
 * fl_free must be the one given to fl_alloc: it keeps fl_mem_in_use() exact. */
void *fl_alloc(size_t bytes);
void *fl_calloc(size_t n, size_t size);
void fl_free(void *p, size_t bytes);
size_t fl_mem_in_use(void);

/* n*size without overflow: returns 0 and sets *out on success, -1 on overflow. */
int fl_mul_overflow(size_t n, size_t size, size_t *out);

/* Interrupts. The program's SIGINT handler calls fl_interrupt(); long loops in
 * lib/ poll fl_interrupted() and return FL_EINTR. This flag is, with the FFT
 * plan cache, the only global mutable state of the library. */
void fl_interrupt(void);
int fl_interrupted(void);
void fl_interrupt_clear(void);

/* Number of threads lib/ loops may use (OpenMP) and OpenBLAS uses. */
void fl_set_threads(int n);
int fl_get_threads(void);

/* Version string of the library. */
const char *fl_version(void);

/* FL_PFOR_IF(cond, loop): the for statement `loop` run by an OpenMP
 * parallel for when cond holds, else as a plain loop: no parallel region at
 * all (`omp parallel for if(cond)` still enters a one-thread region, which
 * costs a futex system call in libgomp, about as much as a 4096-element
 * element-wise pass). */
#ifdef _OPENMP
#define FL_PFOR_IF(cond, ...)                                                                                       \
  do {                                                                                                             \
    if (cond) {                                                                                                    \
      _Pragma("omp parallel for schedule(static)")                                                                 \
      __VA_ARGS__                                                                                                  \
    } else {                                                                                                       \
      __VA_ARGS__                                                                                                  \
    }                                                                                                              \
  } while (0)
#else
#define FL_PFOR_IF(cond, ...) do { __VA_ARGS__ } while (0)
#endif

#endif
