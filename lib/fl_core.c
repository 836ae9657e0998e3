#include "config.h"
#include "fl_core.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stdatomic.h>
#include <sys/mman.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* OpenBLAS exports this; declared here to avoid pulling in cblas.h. */
extern void openblas_set_num_threads(int num_threads);
extern int openblas_get_num_threads(void);

static _Thread_local char detail[512];
static atomic_size_t mem_in_use;
static volatile sig_atomic_t interrupted;

const char *fl_strerror(fl_status st)
{
  switch (st) {
  case FL_OK: return "success";
  case FL_ENOMEM: return "out of memory";
  case FL_EINVAL: return "invalid argument";
  case FL_EDIM: return "shape mismatch";
  case FL_ERANGE: return "out of range";
  case FL_ENOTCONV: return "did not converge";
  case FL_EINTR: return "interrupted";
  case FL_ECALLBACK: return "callback failed";
  case FL_EIO: return "input/output error";
  case FL_EFORMAT: return "malformed data";
  case FL_ESINGULAR: return "singular matrix";
  case FL_ENAN: return "not a finite number";
  }
  return "unknown error";
}

const char *fl_last_detail(void) { return detail; }

void fl_clear_detail(void) { detail[0] = '\0'; }

fl_status fl_fail(fl_status st, const char *fmt, ...)
{
  if (fmt) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
  } else {
    snprintf(detail, sizeof detail, "%s", fl_strerror(st));
  }
  return st;
}

#define FL_ALIGN 64
/* Buffers from this size on are aligned to 2 MiB and offered to the kernel's
 * transparent huge pages: first-touch page faults of a fresh 32 MB result
 * otherwise cost as much as a few percent of a large dgemm (numpy does the same). */
#define FL_HUGE (4u << 20)
#define FL_HUGE_ALIGN (2u << 20)

void *fl_alloc(size_t bytes)
{
  size_t align = bytes >= FL_HUGE ? FL_HUGE_ALIGN : FL_ALIGN;
  size_t n = bytes ? bytes : 1;
  n = (n + align - 1) / align * align;
  if (n < bytes) return NULL;
  void *p = aligned_alloc(align, n);
  if (!p) return NULL;
#ifdef MADV_HUGEPAGE
  if (align == FL_HUGE_ALIGN) madvise(p, n, MADV_HUGEPAGE);
#endif
  atomic_fetch_add(&mem_in_use, bytes);
  return p;
}

void *fl_calloc(size_t n, size_t size)
{
  size_t bytes;
  if (fl_mul_overflow(n, size, &bytes)) return NULL;
  void *p = fl_alloc(bytes);
  if (p) memset(p, 0, bytes);
  return p;
}

void fl_free(void *p, size_t bytes)
{
  if (!p) return;
  atomic_fetch_sub(&mem_in_use, bytes);
  free(p);
}

size_t fl_mem_in_use(void) { return atomic_load(&mem_in_use); }

int fl_mul_overflow(size_t n, size_t size, size_t *out)
{
  if (size && n > SIZE_MAX / size) return -1;
  *out = n * size;
  return 0;
}

void fl_interrupt(void) { interrupted = 1; }
int fl_interrupted(void) { return interrupted != 0; }
void fl_interrupt_clear(void) { interrupted = 0; }

void fl_set_threads(int n)
{
  if (n < 1) n = 1;
#ifdef _OPENMP
  omp_set_num_threads(n);
#endif
  openblas_set_num_threads(n);
}

int fl_get_threads(void)
{
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return openblas_get_num_threads();
#endif
}

const char *fl_version(void) { return PACKAGE_VERSION; }
