/* fl_rng: counter-based random numbers (Philox4x32-10).
 * A number is a pure function of (seed, stream, index): the same seed gives the
 * same numbers whatever the thread count or the order of evaluation. */
#ifndef FL_RNG_H
#define FL_RNG_H

#include <stdint.h>
#include <stddef.h>

/* One Philox4x32-10 block: counter ctr[4], key key[2] -> out[4]. */
void fl_rng_philox(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

/* The index-th uniform number in [0, 1) of (seed, stream), 53 random bits. */
double fl_rng_uniform(uint64_t seed, uint64_t stream, uint64_t index);
/* The index-th standard normal number of (seed, stream) (Box-Muller). */
double fl_rng_normal(uint64_t seed, uint64_t stream, uint64_t index);

/* out[j] = a uniform integer in [0, k), 0 < k < 2^32, j < n: four per
 * Philox block, the 32-bit words of blocks start/4, ... scaled by k
 * (multiply-shift: bias below k / 2^32). start must be a multiple of 4. */
void fl_rng_fill_index(uint64_t seed, uint64_t stream, uint64_t start, size_t n, uint32_t k, uint32_t *out);

/* out[k] = fl_rng_uniform/normal(seed, stream, start + k), k < n, in parallel. */
void fl_rng_fill_uniform(uint64_t seed, uint64_t stream, uint64_t start, size_t n, double *out);
void fl_rng_fill_normal(uint64_t seed, uint64_t stream, uint64_t start, size_t n, double *out);

#endif
