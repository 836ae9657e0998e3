/* fl_data: toy data sets and manifold data (see fl_data.h for the layout of
 * the random numbers and man/api/data.txt for the constants). */
#include "config.h"
#include "fl_data.h"
#include "fl_rng.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#ifdef _OPENMP
#define FL_PRAGMA(x) _Pragma(#x)
#define FL_PFOR(cond) FL_PRAGMA(omp parallel for schedule(static) if(cond))
#else
#define FL_PFOR(cond)
#endif
/* Below this many samples a loop runs serially (thread start-up costs more). */
#define PAR_MIN 4096

#define PI 3.14159265358979323846
#define TWO_PI 6.28318530717958647693

/* ------------------------------------------------------------ random numbers */

/* The two numbers of Philox block b of (seed, stream), as fl_rng.c defines
 * them: uniforms u[0], u[1] equal fl_rng_uniform(seed, stream, 2b), (.., 2b+1);
 * normals z[0], z[1] equal fl_rng_normal(seed, stream, 2b), (.., 2b+1). One
 * block gives both numbers of a pair, where two fl_rng_* calls would compute
 * it twice. tests/unit/test_data.c checks the equality. */
static inline void block(uint64_t seed, uint64_t stream, uint64_t b, uint32_t w[4])
{
  const uint32_t ctr[4] = {(uint32_t)b, (uint32_t)(b >> 32), (uint32_t)stream, (uint32_t)(stream >> 32)};
  const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
  fl_rng_philox(ctr, key, w);
}

static inline double u53(uint32_t a, uint32_t b)
{
  uint64_t x = ((uint64_t)(a >> 5) << 26) | (b >> 6);
  return (double)x * 0x1.0p-53;
}

static inline void uniform_pair(uint64_t seed, uint64_t stream, uint64_t b, double u[2])
{
  uint32_t w[4];
  block(seed, stream, b, w);
  u[0] = u53(w[0], w[1]);
  u[1] = u53(w[2], w[3]);
}

static inline void normal_pair(uint64_t seed, uint64_t stream, uint64_t b, double z[2])
{
  uint32_t w[4];
  block(seed, stream, b, w);
  double u1 = 1.0 - u53(w[0], w[1]);
  double u2 = u53(w[2], w[3]);
  double r = sqrt(-2.0 * log(u1));
  double th = TWO_PI * u2;
  z[0] = r * cos(th);
  z[1] = r * sin(th);
}

/* floor(k*u) for u in [0, 1), clamped to k-1 against rounding. */
static inline int pick(double u, int k)
{
  int j = (int)(u * k);
  return j < k ? j : k - 1;
}

/* ------------------------------------------------------------ toy sets */

typedef void (*toy_fn)(const double u[4], const double z[2], double *out);

static const double S2 = 0.70710678118654752440; /* 1/sqrt(2) */

/* FFJORD: centres 4*(1,0),(-1,0),(0,1),(0,-1),(s,s),(s,-s),(-s,s),(-s,-s),
 * component uniform, N(centre, 0.5^2 I), then divided by 1.414. */
static void toy_8gaussians(const double u[4], const double z[2], double *out)
{
  static const double c[8][2] = {{1, 0}, {-1, 0}, {0, 1}, {0, -1},
                                 {S2, S2}, {S2, -S2}, {-S2, S2}, {-S2, -S2}};
  int k = pick(u[0], 8);
  out[0] = (4.0 * c[k][0] + 0.5 * z[0]) / 1.414;
  out[1] = (4.0 * c[k][1] + 0.5 * z[1]) / 1.414;
}

/* FFJORD: x1 = 4U - 2; x2 = U - 2*randint(0, 2) + (floor(x1) mod 2); times 2. */
static void toy_checkerboard(const double u[4], const double z[2], double *out)
{
  (void)z;
  double x1 = u[0] * 4.0 - 2.0;
  double f = floor(x1);
  double m = f - 2.0 * floor(f / 2.0); /* Python's floor(x1) % 2: 0 or 1 */
  double x2 = u[2] - (u[1] < 0.5 ? 0.0 : 2.0) + m;
  out[0] = 2.0 * x1;
  out[1] = 2.0 * x2;
}

/* FFJORD: t = sqrt(U) * 540 deg (3 pi); d = (-cos t * t + U/2, sin t * t + U/2),
 * either d or -d (here: sign from a uniform), / 3, + 0.1 N(0, I). */
static void toy_2spirals(const double u[4], const double z[2], double *out)
{
  double t = sqrt(u[0]) * (540.0 * (TWO_PI / 360.0));
  double dx = -cos(t) * t + u[1] * 0.5;
  double dy = sin(t) * t + u[2] * 0.5;
  double s = u[3] < 0.5 ? 1.0 : -1.0;
  out[0] = s * dx / 3.0 + 0.1 * z[0];
  out[1] = s * dy / 3.0 + 0.1 * z[1];
}

/* sklearn make_moons(noise = 0.1): outer (cos a, sin a), inner
 * (1 - cos a, 1 - sin a - 0.5), a in [0, pi]; FFJORD: * 2 + (-1, -0.2). */
static void toy_moons(const double u[4], const double z[2], double *out)
{
  double a = PI * u[1], x, y;
  if (u[0] < 0.5) {
    x = cos(a);
    y = sin(a);
  } else {
    x = 1.0 - cos(a);
    y = 1.0 - sin(a) - 0.5;
  }
  out[0] = (x + 0.1 * z[0]) * 2.0 - 1.0;
  out[1] = (y + 0.1 * z[1]) * 2.0 - 0.2;
}

/* sklearn make_swiss_roll(noise = 1.0): t = 1.5 pi (1 + 2U), (t cos t, 21 U,
 * t sin t) + N(0, I); FFJORD keeps coordinates (0, 2) and divides by 5. */
static void toy_swissroll(const double u[4], const double z[2], double *out)
{
  double t = 1.5 * PI * (1.0 + 2.0 * u[0]);
  out[0] = (t * cos(t) + 1.0 * z[0]) / 5.0;
  out[1] = (t * sin(t) + 1.0 * z[1]) / 5.0;
}

/* sklearn make_circles(factor = 0.5, noise = 0.08): radius 1 or 0.5, uniform
 * angle, + 0.08 N(0, I); FFJORD: * 3. */
static void toy_circles(const double u[4], const double z[2], double *out)
{
  double r = u[0] < 0.5 ? 1.0 : 0.5, a = TWO_PI * u[1];
  out[0] = 3.0 * (r * cos(a) + 0.08 * z[0]);
  out[1] = 3.0 * (r * sin(a) + 0.08 * z[1]);
}

/* FFJORD: 5 arms; f = (1 + 0.3 z0, 0.1 z1); angle a = 2 pi k/5 + 0.25 exp(f0);
 * out = 2 * (f0 cos a + f1 sin a, -f0 sin a + f1 cos a) (FFJORD's einsum). */
static void toy_pinwheel(const double u[4], const double z[2], double *out)
{
  int k = pick(u[0], 5);
  double f0 = 1.0 + 0.3 * z[0], f1 = 0.1 * z[1];
  double a = TWO_PI * k / 5.0 + 0.25 * exp(f0);
  double c = cos(a), s = sin(a);
  out[0] = 2.0 * (f0 * c + f1 * s);
  out[1] = 2.0 * (-f0 * s + f1 * c);
}

/* FFJORD (later version of lib/toy_data.py): rings of radius 1, 0.75, 0.5,
 * 0.25 times 3, uniform angle, + 0.08 N(0, I) (added after the scaling). */
static void toy_rings(const double u[4], const double z[2], double *out)
{
  static const double r[4] = {1.0, 0.75, 0.5, 0.25};
  int k = pick(u[0], 4);
  double a = TWO_PI * u[1];
  out[0] = 3.0 * r[k] * cos(a) + 0.08 * z[0];
  out[1] = 3.0 * r[k] * sin(a) + 0.08 * z[1];
}

static const struct {
  const char *name;
  toy_fn fn;
  int nu; /* uniforms used: 0, 2 or 4 */
  int nz; /* normals used: 0 or 2 */
} toys[] = {
  {"8gaussians", toy_8gaussians, 2, 2},
  {"checkerboard", toy_checkerboard, 4, 0},
  {"2spirals", toy_2spirals, 4, 2},
  {"moons", toy_moons, 2, 2},
  {"swissroll", toy_swissroll, 2, 2},
  {"circles", toy_circles, 2, 2},
  {"pinwheel", toy_pinwheel, 2, 2},
  {"rings", toy_rings, 2, 2},
};
#define NTOYS ((int)(sizeof toys / sizeof toys[0]))

int fl_data_toy_count(void) { return NTOYS; }

const char *fl_data_toy_name(int k) { return k >= 0 && k < NTOYS ? toys[k].name : NULL; }

int fl_data_toy_find(const char *name)
{
  if (!name) return -1;
  for (int k = 0; k < NTOYS; k++)
    if (strcmp(toys[k].name, name) == 0) return k;
  return -1;
}

static const char *join_names(const char *(*get)(int), int count, char *buf, size_t len)
{
  size_t used = 0;
  if (len == 0) return buf;
  buf[0] = '\0';
  for (int k = 0; k < count; k++) {
    int w = snprintf(buf + used, len - used, "%s%s", k ? ", " : "", get(k));
    if (w < 0 || (size_t)w >= len - used) {
      buf[used] = '\0'; /* whole names only */
      break;
    }
    used += (size_t)w;
  }
  return buf;
}

const char *fl_data_toy_list(char *buf, size_t len)
{
  return join_names(fl_data_toy_name, NTOYS, buf, len);
}

/* (first + n) * slots must fit in the 64-bit counter space of the generator. */
static fl_status check_range(size_t first, size_t n, size_t slots)
{
  uint64_t end = (uint64_t)first + (uint64_t)n;
  if (end < (uint64_t)first || end > UINT64_MAX / (uint64_t)slots)
    return fl_fail(FL_ERANGE, "samples %zu .. %zu exceed the random-number counter range", first,
                   first + n);
  return FL_OK;
}

fl_status fl_data_toy_fill(const char *name, uint64_t seed, uint64_t stream, size_t first, size_t n,
                           double *out)
{
  char list[256];
  int k = fl_data_toy_find(name);
  if (k < 0)
    return fl_fail(FL_EINVAL, "unknown toy data set '%s' (valid: %s)", name ? name : "(null)",
                   fl_data_toy_list(list, sizeof list));
  fl_status st = check_range(first, n, FL_DATA_TOY_SLOTS);
  if (st) return st;
  if (n == 0) return FL_OK;
  if (!out) return fl_fail(FL_EINVAL, "no output buffer");
  const toy_fn fn = toys[k].fn;
  const int nu = toys[k].nu, nz = toys[k].nz;
  const long long nn = (long long)n;
  /* Sample i: blocks 3i and 3i+1 give uniforms 6i .. 6i+3, block 3i+2 the
   * normals 6i+4, 6i+5. */
  FL_PFOR(n > PAR_MIN)
  for (long long j = 0; j < nn; j++) {
    uint64_t b = ((uint64_t)first + (uint64_t)j) * (FL_DATA_TOY_SLOTS / 2);
    double u[4] = {0, 0, 0, 0}, z[2] = {0, 0};
    if (nu > 0) uniform_pair(seed, stream, b, u);
    if (nu > 2) uniform_pair(seed, stream, b + 1, u + 2);
    if (nz > 0) normal_pair(seed, stream, b + 2, z);
    fn(u, z, out + 2 * j);
  }
  return FL_OK;
}

fl_status fl_data_toy(const char *name, size_t n, uint64_t seed, uint64_t stream, fl_array **out)
{
  *out = NULL;
  char list[256];
  if (fl_data_toy_find(name) < 0)
    return fl_fail(FL_EINVAL, "unknown toy data set '%s' (valid: %s)", name ? name : "(null)",
                   fl_data_toy_list(list, sizeof list));
  fl_status st = check_range(0, n, FL_DATA_TOY_SLOTS);
  if (st) return st;
  fl_array *a;
  size_t shape[2] = {n, 2};
  if ((st = fl_array_new(2, shape, &a))) return st;
  if ((st = fl_data_toy_fill(name, seed, stream, 0, n, a->data))) {
    fl_array_release(a);
    return st;
  }
  *out = a;
  return FL_OK;
}

/* ------------------------------------------------------------ manifolds */

static const struct {
  const char *name;
  int intrinsic;
  int ambient;
} manifolds[] = {
  {"circle", 1, 2},
  {"sphere", 2, 3},
  {"swissroll", 2, 3},
};
#define NMANIFOLDS ((int)(sizeof manifolds / sizeof manifolds[0]))
/* A sane bound on the embedding dimension (the slots count stays small). */
#define MAX_EMBED_DIM 1000000

int fl_data_manifold_count(void) { return NMANIFOLDS; }

const char *fl_data_manifold_name(int k) { return k >= 0 && k < NMANIFOLDS ? manifolds[k].name : NULL; }

const char *fl_data_manifold_list(char *buf, size_t len)
{
  return join_names(fl_data_manifold_name, NMANIFOLDS, buf, len);
}

static int manifold_find(const char *name)
{
  if (!name) return -1;
  for (int k = 0; k < NMANIFOLDS; k++)
    if (strcmp(manifolds[k].name, name) == 0) return k;
  return -1;
}

int fl_data_manifold_dim(const char *name)
{
  int k = manifold_find(name);
  return k < 0 ? -1 : manifolds[k].intrinsic;
}

int fl_data_manifold_ambient(const char *name)
{
  int k = manifold_find(name);
  return k < 0 ? -1 : manifolds[k].ambient;
}

size_t fl_data_manifold_slots(int dim)
{
  size_t d = dim > 0 ? (size_t)dim : 0;
  return 2 + d + (d & 1);
}

fl_status fl_data_manifold(const char *name, size_t n, int dim, double noise, double radius,
                           uint64_t seed, uint64_t stream, fl_array **out)
{
  *out = NULL;
  char list[128];
  int k = manifold_find(name);
  if (k < 0)
    return fl_fail(FL_EINVAL, "unknown manifold '%s' (valid: %s)", name ? name : "(null)",
                   fl_data_manifold_list(list, sizeof list));
  int amb = manifolds[k].ambient;
  if (dim < amb)
    return fl_fail(FL_EINVAL, "dim %d is less than %d, the dimension the %s lives in", dim, amb,
                   manifolds[k].name);
  if (dim > MAX_EMBED_DIM)
    return fl_fail(FL_EINVAL, "dim %d is larger than %d", dim, MAX_EMBED_DIM);
  if (!(noise >= 0) || !isfinite(noise))
    return fl_fail(FL_EINVAL, "noise must be a finite number >= 0 (got %g)", noise);
  if (!(radius > 0) || !isfinite(radius))
    return fl_fail(FL_EINVAL, "radius must be a finite number > 0 (got %g)", radius);
  const size_t slots = fl_data_manifold_slots(dim);
  fl_status st = check_range(0, n, slots);
  if (st) return st;
  fl_array *a;
  size_t shape[2] = {n, (size_t)dim};
  if ((st = fl_array_new(2, shape, &a))) return st;
  double *x = a->data;
  const size_t D = (size_t)dim, half = slots / 2;
  const long long nn = (long long)n;
  const int kind = k;
  FL_PFOR(n > PAR_MIN)
  for (long long i = 0; i < nn; i++) {
    double *p = x + (size_t)i * D;
    uint64_t b = (uint64_t)i * half; /* block b: uniforms Ki, Ki+1; then normal pairs */
    double u[2];
    uniform_pair(seed, stream, b, u);
    memset(p, 0, D * sizeof *p);
    if (kind == 0) { /* circle */
      double a = TWO_PI * u[0];
      p[0] = radius * cos(a);
      p[1] = radius * sin(a);
    } else if (kind == 1) { /* sphere: uniform height (Archimedes) and longitude */
      double h = 2.0 * u[0] - 1.0, a = TWO_PI * u[1];
      double rho = sqrt(fmax(0.0, 1.0 - h * h));
      p[0] = radius * rho * cos(a);
      p[1] = radius * rho * sin(a);
      p[2] = radius * h;
    } else { /* swissroll: sklearn make_swiss_roll without noise */
      double t = 1.5 * PI * (1.0 + 2.0 * u[0]);
      p[0] = radius * t * cos(t);
      p[1] = radius * 21.0 * u[1];
      p[2] = radius * t * sin(t);
    }
    if (noise > 0) {
      for (size_t j = 0; j < D; j += 2) {
        double z[2];
        normal_pair(seed, stream, b + 1 + j / 2, z);
        p[j] += noise * z[0];
        if (j + 1 < D) p[j + 1] += noise * z[1];
      }
    }
  }
  *out = a;
  return FL_OK;
}
