/* fl_vmath: vectorised element-wise kernels (see fl_vmath.h). */
#include "config.h"
#include "fl_vmath.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define FL_VM_X86 1
#include <immintrin.h>
#endif

/* K_SILU_S: silu and sigmoid (o0, o1); K_D1S, K_D2S: K_D1, K_D2 from a given sigmoid sp */
enum { K_EXP, K_SIG, K_SILU, K_D1, K_D2, K_JET, K_SILU_S, K_D1S, K_D2S };

/* ------------------------------------------------------------ one element */

static void scalar_run(int kind, size_t n, const double *x, const double *sp, const double *g, double *o0, double *o1,
                       double *o2)
{
  for (size_t i = 0; i < n; i++) {
    double v = x[i], gi = g ? g[i] : 1.0;
    if (kind == K_EXP) {
      o0[i] = exp(v);
      continue;
    }
    double s = kind == K_D1S || kind == K_D2S ? sp[i] : 1.0 / (1.0 + exp(-v));
    switch (kind) {
    case K_SIG: o0[i] = s; break;
    case K_SILU: o0[i] = v * s; break;
    case K_SILU_S: o0[i] = v * s; o1[i] = s; break;
    case K_D1: case K_D1S: o0[i] = gi * (s * (1.0 + v * (1.0 - s))); break;
    case K_D2: case K_D2S: o0[i] = gi * (s * (1.0 - s) * (2.0 + v * (1.0 - 2.0 * s))); break;
    default:
      if (o0) o0[i] = v * s;
      if (o1) o1[i] = s * (1.0 + v * (1.0 - s));
      if (o2) o2[i] = s * (1.0 - s) * (2.0 + v * (1.0 - 2.0 * s));
      break;
    }
  }
}

/* ------------------------------------------------------------ AVX2 + FMA */

#ifdef FL_VM_X86
#define FL_AVX2 __attribute__((target("avx2,fma")))
#define FL_AVX2_INLINE __attribute__((target("avx2,fma"), always_inline)) static inline

/* m e^r for |r| <= ln2/2: a degree-11 polynomial near the minimax one
 * (Chebyshev fit; relative error below 2e-17 with its coefficients rounded
 * to double). m = 1 or 4: the coefficients scale exactly. */
FL_AVX2_INLINE __m256d exp_poly(__m256d r, double m)
{
  __m256d p = _mm256_set1_pd(m * 0x1.af631d0072704p-26);
  p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(m * 0x1.28b4057f58263p-22));
  p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(m * 0x1.71ddf5749d050p-19));
  p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(m * 0x1.a01991ac871aep-16));
  p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(m * 0x1.a01a01b143790p-13));
  p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(m * 0x1.6c16c187fbe02p-10));
  p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(m * 0x1.111111110f225p-7));
  p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(m * 0x1.555555554f0cfp-5));
  p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(m * 0x1.555555555555ap-3));
  p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(m * 0x1.0000000000011p-1));
  p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(m));
  return _mm256_fmadd_pd(p, r, _mm256_set1_pd(m));
}

#define EXP_SHIFT 0x1.8p52 /* x / ln2 + EXP_SHIFT holds round(x / ln2) in its low mantissa bits */
#define EXP_SHIFT_BITS 0x4338000000000000LL

/* x = k ln2 + r (Cody-Waite: ln2 in two parts), with kd = k as a double and
 * the bits of k + EXP_SHIFT in kbits. x must be clamped to |x| < 2^50. */
FL_AVX2_INLINE __m256d exp_reduce(__m256d x, __m256d *kd, __m256i *kbits)
{
  const __m256d shift = _mm256_set1_pd(EXP_SHIFT);
  __m256d k = _mm256_fmadd_pd(x, _mm256_set1_pd(0x1.71547652b82fep0), shift);
  *kbits = _mm256_castpd_si256(k);
  k = _mm256_sub_pd(k, shift);
  *kd = k;
  __m256d r = _mm256_fnmadd_pd(k, _mm256_set1_pd(0x1.62e42fee00000p-1), x);
  return _mm256_fnmadd_pd(k, _mm256_set1_pd(0x1.a39ef35793c76p-33), r);
}

/* exp over the whole double range. min/max return their second operand
 * when one is NaN: a NaN goes through the clamp, and on to the result. */
FL_AVX2_INLINE __m256d exp4(__m256d x0)
{
  __m256d x = _mm256_max_pd(_mm256_set1_pd(-750.0), _mm256_min_pd(_mm256_set1_pd(715.0), x0));
  __m256d kd;
  __m256i kb;
  __m256d p = exp_poly(exp_reduce(x, &kd, &kb), 1.0);
  /* k in [-1082, 1032]; kb = k + 1084 > 0, and 2^k = 2^k1 2^k2, k1 = floor(kb/2) - 542, both normal */
  kb = _mm256_add_epi64(kb, _mm256_set1_epi64x(1084 - EXP_SHIFT_BITS));
  __m256i k1b = _mm256_srli_epi64(kb, 1);
  __m256i e1 = _mm256_slli_epi64(_mm256_add_epi64(k1b, _mm256_set1_epi64x(481)), 52);
  __m256i e2 = _mm256_slli_epi64(_mm256_add_epi64(_mm256_sub_epi64(kb, k1b), _mm256_set1_epi64x(481)), 52);
  return _mm256_mul_pd(_mm256_mul_pd(p, _mm256_castsi256_pd(e1)), _mm256_castsi256_pd(e2));
}

/* e^x for a sigmoid 1/(1 + e^x): x clamped to [-705, 710], where 1 + e^x
 * rounds to 1 below and e^x is +inf above, as without the clamp; then one
 * power of two 2^(k-2) (k in [-1017, 1024]) times 4 e^r, so that e^710
 * overflows to +inf as it should. */
FL_AVX2_INLINE __m256d exp4_sig(__m256d x0)
{
  __m256d x = _mm256_max_pd(_mm256_set1_pd(-705.0), _mm256_min_pd(_mm256_set1_pd(710.0), x0));
  __m256d kd;
  __m256i kb;
  __m256d p4 = exp_poly(exp_reduce(x, &kd, &kb), 4.0);
  __m256i e = _mm256_slli_epi64(_mm256_add_epi64(kb, _mm256_set1_epi64x(1021 - EXP_SHIFT_BITS)), 52);
  return _mm256_mul_pd(p4, _mm256_castsi256_pd(e));
}

/* One group of 4 lanes of kernel `kind`. */
FL_AVX2_INLINE void lanes4(int kind, const double *x, const double *sp, const double *g, double *o0, double *o1,
                           double *o2)
{
  const __m256d one = _mm256_set1_pd(1.0);
  __m256d v = _mm256_loadu_pd(x);
  if (kind == K_EXP) {
    _mm256_storeu_pd(o0, exp4(v));
    return;
  }
  __m256d s = kind == K_D1S || kind == K_D2S
                ? _mm256_loadu_pd(sp)
                : _mm256_div_pd(one, _mm256_add_pd(one, exp4_sig(_mm256_sub_pd(_mm256_setzero_pd(), v))));
  __m256d oms = _mm256_sub_pd(one, s); /* 1 - s */
  __m256d d1 = kind == K_D1 || kind == K_D1S || kind == K_JET ? _mm256_mul_pd(s, _mm256_fmadd_pd(v, oms, one)) : s;
  __m256d d2 = s;
  if (kind == K_D2 || kind == K_D2S || kind == K_JET) /* s (1 - s) (2 + x (1 - 2 s)) */
    d2 = _mm256_mul_pd(_mm256_mul_pd(s, oms),
                       _mm256_fmadd_pd(v, _mm256_fnmadd_pd(_mm256_set1_pd(2.0), s, one), _mm256_set1_pd(2.0)));
  switch (kind) {
  case K_SIG: _mm256_storeu_pd(o0, s); break;
  case K_SILU: _mm256_storeu_pd(o0, _mm256_mul_pd(v, s)); break;
  case K_SILU_S:
    _mm256_storeu_pd(o0, _mm256_mul_pd(v, s));
    _mm256_storeu_pd(o1, s);
    break;
  case K_D1: case K_D1S: _mm256_storeu_pd(o0, g ? _mm256_mul_pd(_mm256_loadu_pd(g), d1) : d1); break;
  case K_D2: case K_D2S: _mm256_storeu_pd(o0, g ? _mm256_mul_pd(_mm256_loadu_pd(g), d2) : d2); break;
  default:
    if (o0) _mm256_storeu_pd(o0, _mm256_mul_pd(v, s));
    if (o1) _mm256_storeu_pd(o1, d1);
    if (o2) _mm256_storeu_pd(o2, d2);
    break;
  }
}

FL_AVX2_INLINE void run4(int kind, size_t n, const double *x, const double *sp, const double *g, double *o0,
                         double *o1, double *o2)
{
  size_t i = 0;
  for (; i + 4 <= n; i += 4)
    lanes4(kind, x + i, sp ? sp + i : NULL, g ? g + i : NULL, o0 ? o0 + i : NULL, o1 ? o1 + i : NULL,
           o2 ? o2 + i : NULL);
  if (i < n) { /* the last 1-3 elements, padded */
    double xb[4] = {0, 0, 0, 0}, sb[4] = {0, 0, 0, 0}, gb[4] = {1, 1, 1, 1}, b0[4], b1[4], b2[4];
    size_t m = n - i;
    memcpy(xb, x + i, m * sizeof *xb);
    if (sp) memcpy(sb, sp + i, m * sizeof *sb);
    if (g) memcpy(gb, g + i, m * sizeof *gb);
    lanes4(kind, xb, sb, gb, b0, b1, b2);
    if (o0) memcpy(o0 + i, b0, m * sizeof *b0);
    if (o1) memcpy(o1 + i, b1, m * sizeof *b1);
    if (o2) memcpy(o2 + i, b2, m * sizeof *b2);
  }
}

/* One instance per kind, so that `kind` is a constant inside each loop. */
FL_AVX2 static void avx2_run(int kind, size_t n, const double *x, const double *sp, const double *g, double *o0,
                             double *o1, double *o2)
{
  switch (kind) {
  case K_EXP: run4(K_EXP, n, x, sp, g, o0, o1, o2); break;
  case K_SIG: run4(K_SIG, n, x, sp, g, o0, o1, o2); break;
  case K_SILU: run4(K_SILU, n, x, sp, g, o0, o1, o2); break;
  case K_D1: run4(K_D1, n, x, sp, g, o0, o1, o2); break;
  case K_D2: run4(K_D2, n, x, sp, g, o0, o1, o2); break;
  case K_SILU_S: run4(K_SILU_S, n, x, sp, g, o0, o1, o2); break;
  case K_D1S: run4(K_D1S, n, x, sp, g, o0, o1, o2); break;
  case K_D2S: run4(K_D2S, n, x, sp, g, o0, o1, o2); break;
  default: run4(K_JET, n, x, sp, g, o0, o1, o2); break;
  }
}

int fl_vm_vectorised(void)
{
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#else
int fl_vm_vectorised(void) { return 0; }
#endif

static void run(int kind, size_t n, const double *x, const double *sp, const double *g, double *o0, double *o1,
                double *o2)
{
#ifdef FL_VM_X86
  if (fl_vm_vectorised()) {
    avx2_run(kind, n, x, sp, g, o0, o1, o2);
    return;
  }
#endif
  scalar_run(kind, n, x, sp, g, o0, o1, o2);
}

void fl_vm_exp(size_t n, const double *x, double *out) { run(K_EXP, n, x, NULL, NULL, out, NULL, NULL); }
void fl_vm_sigmoid(size_t n, const double *x, double *out) { run(K_SIG, n, x, NULL, NULL, out, NULL, NULL); }
void fl_vm_silu(size_t n, const double *x, double *out) { run(K_SILU, n, x, NULL, NULL, out, NULL, NULL); }
void fl_vm_silu_d1(size_t n, const double *x, const double *g, double *out)
{
  run(K_D1, n, x, NULL, g, out, NULL, NULL);
}
void fl_vm_silu_d2(size_t n, const double *x, const double *g, double *out)
{
  run(K_D2, n, x, NULL, g, out, NULL, NULL);
}
void fl_vm_silu_jet(size_t n, const double *x, double *f, double *f1, double *f2)
{
  run(K_JET, n, x, NULL, NULL, f, f1, f2);
}
void fl_vm_silu_s(size_t n, const double *x, double *f, double *s) { run(K_SILU_S, n, x, NULL, NULL, f, s, NULL); }
void fl_vm_silu_d1_s(size_t n, const double *x, const double *s, const double *g, double *out)
{
  run(K_D1S, n, x, s, g, out, NULL, NULL);
}
void fl_vm_silu_d2_s(size_t n, const double *x, const double *s, const double *g, double *out)
{
  run(K_D2S, n, x, s, g, out, NULL, NULL);
}
