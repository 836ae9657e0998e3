/* fl_data: toy data sets of diffusion/flow research and manifold data with a
 * known intrinsic dimension.
 *
 * Every generator is counter based: sample i is a pure function of
 * (seed, stream, i). It uses the random numbers of fixed indices of the
 * fl_rng generator (fl_rng_uniform / fl_rng_normal of (seed, stream, index)):
 *
 *   toy sets:   K = FL_DATA_TOY_SLOTS = 6 per sample; uniforms at indices
 *               6i+0 .. 6i+3, standard normals at 6i+4 and 6i+5;
 *   manifolds:  K = fl_data_manifold_slots(dim) = 2 + dim rounded up to even;
 *               uniforms at Ki+0 and Ki+1, normals at Ki+2 .. Ki+1+dim.
 *
 * So the first n samples of a draw of N > n samples are the draw of n samples,
 * and results do not depend on the number of threads.
 *
 * The toy generators are those of FFJORD's lib/toy_data.py (rtqichen/ffjord)
 * and sklearn's make_moons / make_circles / make_swiss_roll, with one change
 * forced by the counter-based design: where the original splits n points
 * deterministically between groups (the moons and circles halves, the five
 * pinwheel arms, the four rings, the two spirals) or places points at evenly
 * spaced angles (linspace), each sample draws its group and its angle
 * uniformly at random. The distribution is the n -> infinity limit of the
 * original; group counts are multinomial instead of exact. See
 * man/api/data.txt for the constants.
 *
 * Part of libfieldlab: pure C11, no Lua, no printing, no exit. */
#ifndef FL_DATA_H
#define FL_DATA_H

#include <stddef.h>
#include <stdint.h>
#include "fl_core.h"
#include "fl_array.h"

#define FL_DATA_TOY_SLOTS 6

/* ---- toy sets in R^2 ---- */
/* Number of toy sets and their names (index 0 .. count-1; NULL past the end). */
int fl_data_toy_count(void);
const char *fl_data_toy_name(int k);
/* Index of a toy set by name, or -1. */
int fl_data_toy_find(const char *name);
/* "8gaussians, checkerboard, ..." into buf (always NUL-terminated); returns buf. */
const char *fl_data_toy_list(char *buf, size_t len);

/* Samples first .. first+n-1 of toy set `name` into out[n*2] (row-major). */
fl_status fl_data_toy_fill(const char *name, uint64_t seed, uint64_t stream, size_t first, size_t n,
                           double *out);
/* A new n-by-2 array of samples 0 .. n-1. Unknown name: FL_EINVAL listing the valid ones. */
fl_status fl_data_toy(const char *name, size_t n, uint64_t seed, uint64_t stream, fl_array **out);

/* ---- manifolds embedded in R^dim ---- */
/* "circle" (intrinsic dimension 1, in R^2), "sphere" (S^2 in R^3, 2),
 * "swissroll" (sklearn's roll in R^3, 2). */
int fl_data_manifold_count(void);
const char *fl_data_manifold_name(int k);
const char *fl_data_manifold_list(char *buf, size_t len);
/* Intrinsic dimension, or -1 for an unknown name. */
int fl_data_manifold_dim(const char *name);
/* Dimension of the space the manifold is defined in (2 or 3), or -1. */
int fl_data_manifold_ambient(const char *name);
/* Random-number slots per sample for embedding dimension dim. */
size_t fl_data_manifold_slots(int dim);
/* n points of the manifold scaled by radius, zero-padded to R^dim (dim >= the
 * ambient dimension), plus N(0, noise^2) in every coordinate: a new n-by-dim
 * array. FL_EINVAL for an unknown name, dim too small, noise < 0, radius <= 0
 * or non-finite values. */
fl_status fl_data_manifold(const char *name, size_t n, int dim, double noise, double radius,
                           uint64_t seed, uint64_t stream, fl_array **out);

#endif
