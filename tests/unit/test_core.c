/* Unit tests of lib/fl_core: status text, error detail, allocation, interrupts. */
#include "config.h"
#include <string.h>
#include "fl_core.h"
#include "fl_test.h"

static void test_strerror_and_detail(void **state)
{
  (void)state;
  for (int s = FL_OK; s <= FL_ENAN; s++) {
    const char *t = fl_strerror((fl_status)s);
    assert_non_null(t);
    assert_true(strlen(t) > 3);
    assert_string_not_equal(t, "unknown error");
  }
  assert_string_equal(fl_strerror((fl_status)999), "unknown error");
  fl_clear_detail();
  assert_string_equal(fl_last_detail(), "");
  assert_int_equal(fl_fail(FL_EDIM, "shapes %s and %s", "(2,3)", "(4,5)"), FL_EDIM);
  assert_string_equal(fl_last_detail(), "shapes (2,3) and (4,5)");
  assert_int_equal(fl_fail(FL_EIO, NULL), FL_EIO);
  assert_string_equal(fl_last_detail(), "input/output error");
}

static void test_alloc_accounting(void **state)
{
  (void)state;
  size_t before = fl_mem_in_use();
  double *p = fl_alloc(1000 * sizeof(double));
  assert_non_null(p);
  assert_int_equal((uintptr_t)p % 64, 0);
  assert_int_equal(fl_mem_in_use(), before + 8000);
  double *z = fl_calloc(10, sizeof(double));
  assert_non_null(z);
  for (int i = 0; i < 10; i++) assert_true(z[i] == 0.0);
  fl_free(z, 10 * sizeof(double));
  fl_free(p, 1000 * sizeof(double));
  assert_int_equal(fl_mem_in_use(), before);
  void *e = fl_alloc(0);
  assert_non_null(e);
  fl_free(e, 0);
  assert_null(fl_calloc(SIZE_MAX / 2, 4));
  fl_free(NULL, 0);
}

static void test_mul_overflow(void **state)
{
  (void)state;
  size_t r;
  assert_int_equal(fl_mul_overflow(3, 4, &r), 0);
  assert_int_equal(r, 12);
  assert_int_equal(fl_mul_overflow(SIZE_MAX / 2 + 1, 2, &r), -1);
  assert_int_equal(fl_mul_overflow(0, SIZE_MAX, &r), 0);
  assert_int_equal(r, 0);
}

static void test_interrupt_flag(void **state)
{
  (void)state;
  fl_interrupt_clear();
  assert_false(fl_interrupted());
  fl_interrupt();
  assert_true(fl_interrupted());
  fl_interrupt_clear();
  assert_false(fl_interrupted());
}

static void test_threads(void **state)
{
  (void)state;
  fl_set_threads(2);
  assert_int_equal(fl_get_threads(), 2);
  fl_set_threads(0); /* clamped to 1 */
  assert_int_equal(fl_get_threads(), 1);
  assert_string_equal(fl_version(), PACKAGE_VERSION);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    T(test_strerror_and_detail),
    T(test_alloc_accounting),
    T(test_mul_overflow),
    T(test_interrupt_flag),
    T(test_threads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
