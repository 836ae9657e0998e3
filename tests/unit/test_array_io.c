/* Unit tests of lib/fl_array_io.c: .npy and CSV reading and writing.
 *
 * Fixtures live in $top_srcdir/tests/data (top_srcdir is set by `make check`;
 * "." when unset) and are written by tests/data/make_fixtures.py with numpy;
 * the formulas of their values are repeated here. Temporary files go to a
 * mkdtemp directory under /tmp, removed at the end. */
#include "config.h"
#include "fl_array.h"

#include <dirent.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fl_test.h"

/* ------------------------------------------------------------ helpers */

static char tmpdir[64];

static int group_setup(void **state)
{
  (void)state;
  strcpy(tmpdir, "/tmp/fl_test_io_XXXXXX");
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
  (void)state;
  DIR *d = opendir(tmpdir);
  if (d) {
    struct dirent *e;
    char p[600];
    while ((e = readdir(d)) != NULL) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
      snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
      remove(p);
    }
    closedir(d);
  }
  return rmdir(tmpdir);
}

static const char *fixture(const char *name, char *buf, size_t len)
{
  const char *top = getenv("top_srcdir");
  snprintf(buf, len, "%s/tests/data/%s", top && *top ? top : ".", name);
  return buf;
}

static const char *tmp(const char *name, char *buf, size_t len)
{
  snprintf(buf, len, "%s/%s", tmpdir, name);
  return buf;
}

static void write_bytes(const char *path, const void *data, size_t n)
{
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, n, f), n);
  assert_int_equal(fclose(f), 0);
}

static void write_text(const char *path, const char *text)
{
  write_bytes(path, text, strlen(text));
}

/* Whole file into a malloc'd buffer. */
static unsigned char *read_bytes(const char *path, size_t *n)
{
  FILE *f = fopen(path, "rb");
  if (!f) fail_msg("cannot open %s: %s", path, strerror(errno));
  size_t cap = 1 << 16;
  unsigned char *b = malloc(cap);
  assert_non_null(b);
  *n = fread(b, 1, cap, f);
  assert_true(*n < cap);
  fclose(f);
  return b;
}

/* A .npy file with the given version and header text (padded here with spaces
 * and '\n' to a multiple of 64), then n bytes of data. */
static void write_npy(const char *path, int major, const char *header, const void *data, size_t n)
{
  unsigned char buf[4096];
  size_t pre = major == 1 ? 10 : 12;
  size_t hl = strlen(header);
  size_t total = (pre + hl + 1 + 63) / 64 * 64;
  size_t hlen = total - pre;
  assert_true(total + n <= sizeof buf);
  memcpy(buf, "\x93NUMPY", 6);
  buf[6] = (unsigned char)major;
  buf[7] = 0;
  buf[8] = (unsigned char)(hlen & 0xff);
  buf[9] = (unsigned char)(hlen >> 8);
  if (major != 1) buf[10] = buf[11] = 0;
  memcpy(buf + pre, header, hl);
  memset(buf + pre + hl, ' ', hlen - hl - 1);
  buf[total - 1] = '\n';
  if (n) memcpy(buf + total, data, n);
  write_bytes(path, buf, total + n);
}

static void assert_shape(const fl_array *a, int ndim, const size_t *shape)
{
  char got[128], want[128];
  fl_array_shape_str(a, got, sizeof got);
  fl_shape_str(ndim, shape, want, sizeof want);
  if (strcmp(got, want) != 0) fail_msg("shape %s, expected %s", got, want);
  size_t size = 1;
  for (int k = 0; k < ndim; k++) size *= shape[k];
  assert_int_equal(a->size, size);
}

static int same_bits(double x, double y) { return memcmp(&x, &y, sizeof x) == 0; }

static void assert_detail(const char *phrase)
{
  if (!strstr(fl_last_detail(), phrase))
    fail_msg("detail \"%s\" lacks \"%s\"", fl_last_detail(), phrase);
}

/* Loading path must fail with st and a detail holding the phrase and the path. */
static void expect_npy_fail(const char *path, fl_status st, const char *phrase)
{
  fl_array *a = (fl_array *)&a; /* not NULL: the call must clear it */
  fl_status got = fl_array_load_npy(path, &a);
  if (got != st)
    fail_msg("%s: status %d (%s), expected %d; detail: %s", path, got, fl_strerror(got), st,
             fl_last_detail());
  assert_null(a);
  assert_detail(phrase);
  assert_detail(path);
}

static void expect_csv_fail(const char *path, int header, fl_status st, const char *phrase)
{
  fl_array *a = (fl_array *)&a;
  char **names = (char **)&a;
  size_t nn = 99;
  fl_status got = fl_array_load_csv(path, header, &names, &nn, &a);
  if (got != st)
    fail_msg("%s: status %d (%s), expected %d; detail: %s", path, got, fl_strerror(got), st,
             fl_last_detail());
  assert_null(a);
  assert_null(names);
  assert_int_equal(nn, 0);
  assert_detail(phrase);
}

static fl_array *load_fixture(const char *name)
{
  char p[512];
  fl_array *a = NULL;
  fl_status st = fl_array_load_npy(fixture(name, p, sizeof p), &a);
  if (st) fail_msg("%s: %s: %s", name, fl_strerror(st), fl_last_detail());
  assert_non_null(a);
  return a;
}

/* ------------------------------------------------------------ .npy fixtures */

static void test_npy_f8_2d(void **state)
{
  (void)state;
  fl_array *a = load_fixture("f8_3x4.npy");
  assert_shape(a, 2, (size_t[]){3, 4});
  for (size_t i = 0; i < 3; i++)
    for (size_t j = 0; j < 4; j++) assert_true(a->data[i * 4 + j] == i * 10.0 + j + 0.25);
  fl_array_release(a);
}

static void test_npy_f4_1d(void **state)
{
  (void)state;
  fl_array *a = load_fixture("f4_7.npy");
  assert_shape(a, 1, (size_t[]){7});
  for (int k = 0; k < 7; k++) assert_true(a->data[k] == (double)(float)(k / 7.0));
  fl_array_release(a);
}

static void test_npy_integers(void **state)
{
  (void)state;
  fl_array *a = load_fixture("i8_6.npy");
  assert_shape(a, 1, (size_t[]){6});
  for (int k = 0; k < 6; k++) assert_true(a->data[k] == (k - 3) * 123456789012.0);
  fl_array_release(a);

  a = load_fixture("i4_2x3.npy");
  assert_shape(a, 2, (size_t[]){2, 3});
  for (int k = 0; k < 6; k++) assert_true(a->data[k] == (k - 4) * 100003.0);
  fl_array_release(a);

  a = load_fixture("i2_5.npy");
  assert_shape(a, 1, (size_t[]){5});
  for (int k = 0; k < 5; k++) assert_true(a->data[k] == (k - 2) * 16000.0);
  fl_array_release(a);

  const double i1[] = {-128, -1, 0, 1, 127}, u1[] = {0, 1, 128, 255}, b1[] = {1, 0, 0, 1};
  a = load_fixture("i1_5.npy");
  assert_shape(a, 1, (size_t[]){5});
  for (int k = 0; k < 5; k++) assert_true(a->data[k] == i1[k]);
  fl_array_release(a);
  a = load_fixture("u1_4.npy");
  assert_shape(a, 1, (size_t[]){4});
  for (int k = 0; k < 4; k++) assert_true(a->data[k] == u1[k]);
  fl_array_release(a);
  a = load_fixture("b1_4.npy");
  assert_shape(a, 1, (size_t[]){4});
  for (int k = 0; k < 4; k++) assert_true(a->data[k] == b1[k]);
  fl_array_release(a);
}

static void test_npy_big_endian(void **state)
{
  (void)state;
  fl_array *a = load_fixture("f8_big_2x3.npy");
  assert_shape(a, 2, (size_t[]){2, 3});
  for (int k = 0; k < 6; k++) assert_true(a->data[k] == k / 7.0);
  fl_array_release(a);
  a = load_fixture("f4_big_5.npy");
  assert_shape(a, 1, (size_t[]){5});
  for (int k = 0; k < 5; k++) assert_true(a->data[k] == (double)(float)(k / 3.0));
  fl_array_release(a);
}

static void test_npy_3d(void **state)
{
  (void)state;
  fl_array *a = load_fixture("f8_2x3x4.npy");
  assert_shape(a, 3, (size_t[]){2, 3, 4});
  for (size_t i = 0; i < 2; i++)
    for (size_t j = 0; j < 3; j++)
      for (size_t k = 0; k < 4; k++)
        assert_true(a->data[(i * 3 + j) * 4 + k] == 100.0 * i + 10.0 * j + k - 0.5);
  fl_array_release(a);
}

static void test_npy_versions(void **state)
{
  (void)state;
  const char *names[] = {"f8_v2_3x2.npy", "f8_v3_3x2.npy"};
  for (int n = 0; n < 2; n++) {
    fl_array *a = load_fixture(names[n]);
    assert_shape(a, 2, (size_t[]){3, 2});
    for (int k = 0; k < 6; k++) assert_true(a->data[k] == k / 7.0);
    fl_array_release(a);
  }
}

static void test_npy_scalar_and_empty(void **state)
{
  (void)state;
  fl_array *a = load_fixture("f8_scalar.npy"); /* shape () */
  assert_shape(a, 1, (size_t[]){1});
  assert_true(a->data[0] == 3.5);
  fl_array_release(a);
  a = load_fixture("f8_0x3.npy");
  assert_shape(a, 2, (size_t[]){0, 3});
  fl_array_release(a);
}

static void test_npy_bad_fixtures(void **state)
{
  (void)state;
  char p[512];
  expect_npy_fail(fixture("bad_truncated.npy", p, sizeof p), FL_EFORMAT,
                  "truncated: header says shape (4,3) = 96 bytes of <f8 but only 56 bytes follow");
  /* shape (1000,1000) and 8 bytes: refused from the file size, before allocating 8 MB */
  expect_npy_fail(fixture("bad_lying_header.npy", p, sizeof p), FL_EFORMAT,
                  "shape (1000,1000) = 8000000 bytes of <f8 but only 8 bytes follow");
  expect_npy_fail(fixture("bad_magic.npy", p, sizeof p), FL_EFORMAT, "not a .npy file (bad magic)");
  expect_npy_fail(fixture("bad_complex.npy", p, sizeof p), FL_EFORMAT, "unsupported dtype '<c16'");
  expect_npy_fail(fixture("bad_fortran.npy", p, sizeof p), FL_EFORMAT,
                  "fortran_order arrays are not supported");
  expect_npy_fail(fixture("no_such_file.npy", p, sizeof p), FL_EIO, "No such file");
  expect_npy_fail(fixture("", p, sizeof p), FL_EIO, ""); /* a directory */
}

/* ------------------------------------------------------------ .npy headers */

static void test_npy_header_variants(void **state)
{
  (void)state;
  char p[512];
  double d6[6] = {1, 2, 3, 4, 5, 6};
  const char *ok[] = {
      "{ \"shape\" : ( 2 , 3 ) , 'fortran_order':False,'descr':'<f8' }",
      "{'descr': '<f8', 'fortran_order': False, 'shape': (2L, 3L), }",
      "{'fortran_order': False, 'shape': (2,3,), 'descr': '=f8',}",
  };
  for (int n = 0; n < 3; n++) {
    fl_array *a = NULL;
    write_npy(tmp("h.npy", p, sizeof p), n == 2 ? 2 : 1, ok[n], d6, sizeof d6);
    fl_status st = fl_array_load_npy(p, &a);
    if (st) fail_msg("header %s: %s", ok[n], fl_last_detail());
    assert_shape(a, 2, (size_t[]){2, 3});
    for (int k = 0; k < 6; k++) assert_true(a->data[k] == k + 1);
    fl_array_release(a);
  }

  /* big-endian int32 and uint16; fortran_order arrays with one extent > 1 (same
   * layout as C order) */
  const unsigned char be[] = {0, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe};
  fl_array *a = NULL;
  write_npy(p, 1, "{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }", be, 8);
  assert_int_equal(fl_array_load_npy(p, &a), FL_OK);
  assert_true(a->data[0] == 1 && a->data[1] == -2);
  fl_array_release(a);
  write_npy(p, 1, "{'descr': '>u2', 'fortran_order': True, 'shape': (4,), }", be, 8);
  assert_int_equal(fl_array_load_npy(p, &a), FL_OK);
  assert_true(a->data[0] == 0 && a->data[1] == 1 && a->data[2] == 65535 && a->data[3] == 65534);
  fl_array_release(a);

  write_npy(p, 1, "{'descr': '<f8', 'fortran_order': True, 'shape': (1, 2, 1), }", d6, 16);
  assert_int_equal(fl_array_load_npy(p, &a), FL_OK);
  assert_shape(a, 3, (size_t[]){1, 2, 1});
  assert_true(a->data[0] == 1 && a->data[1] == 2);
  fl_array_release(a);

  /* 8 dimensions is the most */
  write_npy(p, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,1,1,1,1,2,1,3), }", d6,
            sizeof d6);
  assert_int_equal(fl_array_load_npy(p, &a), FL_OK);
  assert_shape(a, 8, (size_t[]){1, 1, 1, 1, 1, 2, 1, 3});
  fl_array_release(a);
}

static void test_npy_header_errors(void **state)
{
  (void)state;
  char p[512];
  double d[2] = {1, 2};
  static const struct {
    int major;
    const char *header;
    const char *phrase;
  } bad[] = {
      {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,2), }",
       "more than 8 dimensions"},
      {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }",
       "overflows"},
      {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999999,), }",
       "too large"},
      {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (-2,), }", "non-negative integers"},
      {1, "{'descr': '<f8', 'fortran_order': False, }", "no 'shape' key"},
      {1, "{'descr': '<f8', 'shape': (2,), }", "no 'fortran_order' key"},
      {1, "{'fortran_order': False, 'shape': (2,), }", "no 'descr' key"},
      {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'extra': 1}", "unexpected key 'extra'"},
      {1, "{'descr': '<f8', 'fortran_order': Maybe, 'shape': (2,), }", "neither True nor False"},
      {1, "{'descr': '<f8' 'fortran_order': False, 'shape': (2,), }", "expected ',' or '}'"},
      {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), ", "missing '}'"},
      {1, "hello", "malformed .npy header"},
      {1, "{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", "unsupported dtype '<f2'"},
      {1, "{'descr': '<U8', 'fortran_order': False, 'shape': (2,), }", "unsupported dtype '<U8'"},
      {1, "{'descr': 'O', 'fortran_order': False, 'shape': (2,), }", "unsupported dtype 'O'"},
      {1, "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2,), }", "structured"},
      {3, "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }", "fortran_order arrays are not supported"},
      {4, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", "unsupported .npy version 4.0"},
  };
  for (size_t n = 0; n < sizeof bad / sizeof bad[0]; n++) {
    write_npy(tmp("bad.npy", p, sizeof p), bad[n].major, bad[n].header, d, sizeof d);
    expect_npy_fail(p, FL_EFORMAT, bad[n].phrase);
  }

  /* too short for the preamble */
  write_bytes(p, "\x93NUM", 4);
  expect_npy_fail(p, FL_EFORMAT, "not a .npy file (too short)");
  write_bytes(p, "\x93NUMPY\x02\x00\x10", 9);
  expect_npy_fail(p, FL_EFORMAT, "truncated");
  /* absurd header length (version 2: 4 bytes) */
  write_bytes(p, "\x93NUMPY\x02\x00\xf0\xff\xff\xff{}", 14);
  expect_npy_fail(p, FL_EFORMAT, "header length 4294967280 is absurd");
  /* header length past the end of the file */
  write_bytes(p, "\x93NUMPY\x01\x00\x00\x10{'descr': '<f8'}\n", 27);
  expect_npy_fail(p, FL_EFORMAT, "header length 4096 but the file has only 27 bytes");
  /* one byte of data short, a small dtype (converted in chunks) */
  write_npy(p, 1, "{'descr': '<i2', 'fortran_order': False, 'shape': (5,), }", d, 9);
  expect_npy_fail(p, FL_EFORMAT, "10 bytes of <i2 but only 9 bytes follow");
}

/* ------------------------------------------------------------ .npy save */

static void roundtrip_npy(const fl_array *a)
{
  char p[512];
  fl_array *b = NULL;
  assert_int_equal(fl_array_save_npy(tmp("rt.npy", p, sizeof p), a), FL_OK);
  fl_status st = fl_array_load_npy(p, &b);
  if (st) fail_msg("%s", fl_last_detail());
  assert_true(fl_array_same_shape(a, b));
  assert_int_equal(a->size, b->size);
  if (a->size) assert_memory_equal(a->data, b->data, a->size * sizeof(double));
  fl_array_release(b);
}

static void test_npy_roundtrip(void **state)
{
  (void)state;
  const double special[] = {NAN, -NAN, INFINITY, -INFINITY, -0.0, 0.0, 1e-308, 4.9e-324,
                            DBL_MAX, -DBL_MIN, 1.0 / 3.0, -1e300, 0.1, 123456789012345678.0};
  const size_t ns = sizeof special / sizeof special[0];
  fl_array *a = NULL;
  assert_int_equal(fl_array_from_data(1, (size_t[]){ns}, special, &a), FL_OK);
  roundtrip_npy(a);
  fl_array_release(a);

  const size_t shapes[][FL_MAXDIM] = {{3, 4}, {2, 3, 4}, {0, 5}, {1, 2, 1, 2, 1, 2, 1, 2}, {12345}};
  const int ndims[] = {2, 3, 2, 8, 1};
  for (int s = 0; s < 5; s++) {
    assert_int_equal(fl_array_new(ndims[s], shapes[s], &a), FL_OK);
    for (size_t k = 0; k < a->size; k++) a->data[k] = special[k % ns] * (double)(k + 1);
    roundtrip_npy(a);
    fl_array_release(a);
  }
}

/* The header (and the whole file) must be byte for byte what numpy writes. */
static void assert_file_equals_fixture(const char *written, const char *name)
{
  char p[512];
  size_t n1, n2;
  unsigned char *ours = read_bytes(written, &n1);
  unsigned char *theirs = read_bytes(fixture(name, p, sizeof p), &n2);
  size_t hlen = (size_t)theirs[8] | (size_t)theirs[9] << 8;
  if (n1 < 10 + hlen || memcmp(ours, theirs, 10 + hlen) != 0)
    fail_msg("%s: header differs from numpy's:\nours  : %.*s\nnumpy: %.*s", name,
             n1 > 10 ? (int)(n1 - 10 < hlen ? n1 - 10 : hlen) : 0, (const char *)ours + 10,
             (int)hlen, (const char *)theirs + 10);
  assert_int_equal((10 + hlen) % 64, 0);
  assert_int_equal(ours[10 + hlen - 1], '\n');
  assert_int_equal(n1, n2);
  assert_memory_equal(ours, theirs, n1);
  free(ours);
  free(theirs);
}

static void test_npy_save_matches_numpy(void **state)
{
  (void)state;
  char p[512];
  fl_array *a = NULL;
  assert_int_equal(fl_array_zeros(2, (size_t[]){2, 3}, &a), FL_OK);
  assert_int_equal(fl_array_save_npy(tmp("z.npy", p, sizeof p), a), FL_OK);
  fl_array_release(a);
  assert_file_equals_fixture(p, "written_by_numpy_2x3.npy");

  assert_int_equal(fl_array_new(1, (size_t[]){7}, &a), FL_OK);
  for (int k = 0; k < 7; k++) a->data[k] = k / 7.0;
  assert_int_equal(fl_array_save_npy(p, a), FL_OK);
  fl_array_release(a);
  assert_file_equals_fixture(p, "written_by_numpy_7.npy");

  /* every C-order <f8 fixture np.save wrote comes back identical */
  const char *same[] = {"f8_3x4.npy", "f8_2x3x4.npy", "f8_0x3.npy"};
  for (int n = 0; n < 3; n++) {
    a = load_fixture(same[n]);
    assert_int_equal(fl_array_save_npy(p, a), FL_OK);
    fl_array_release(a);
    assert_file_equals_fixture(p, same[n]);
  }
}

static void test_npy_save_errors(void **state)
{
  (void)state;
  char p[512];
  fl_array *a = NULL;
  assert_int_equal(fl_array_zeros(1, (size_t[]){3}, &a), FL_OK);
  assert_int_equal(fl_array_save_npy(tmp("no/such/dir/x.npy", p, sizeof p), a), FL_EIO);
  assert_detail("No such file");
  assert_detail("x.npy");
  assert_int_equal(fl_array_save_npy(tmpdir, a), FL_EIO); /* a directory */
  fl_array_release(a);
}

/* ------------------------------------------------------------ CSV */

static void assert_names(char **names, size_t n, const char *const *want, size_t nwant)
{
  assert_int_equal(n, nwant);
  assert_non_null(names);
  for (size_t k = 0; k < n; k++)
    if (strcmp(names[k], want[k]) != 0) fail_msg("name %zu is '%s', expected '%s'", k, names[k], want[k]);
}

static void check_numpy_csv(const fl_array *a)
{
  const double c[3] = {0.5, 1e-300, -2.5e10};
  assert_shape(a, 2, (size_t[]){4, 3});
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 3; j++) assert_true(a->data[i * 3 + j] == (double)(10 * i + j) + c[j]);
}

static void test_csv_numpy(void **state)
{
  (void)state;
  char p[512];
  const char *xyz[] = {"x", "y", "z"};
  const char *files[] = {"numpy_header.csv", "numpy_comment_header.csv"};
  for (int f = 0; f < 2; f++) {
    for (int header = -1; header <= 1; header += 2) { /* detect and present */
      fl_array *a = NULL;
      char **names = NULL;
      size_t nn = 0;
      fl_status st = fl_array_load_csv(fixture(files[f], p, sizeof p), header, &names, &nn, &a);
      if (st) fail_msg("%s: %s", files[f], fl_last_detail());
      check_numpy_csv(a);
      assert_names(names, nn, xyz, 3);
      fl_csv_names_free(names, nn);
      fl_array_release(a);
    }
  }
  /* header 0: the header row is a bad data row */
  expect_csv_fail(fixture("numpy_header.csv", p, sizeof p), 0, FL_EFORMAT,
                  "numpy_header.csv:1: column 1: 'x' is not a number");
  /* names may be NULL */
  fl_array *a = NULL;
  size_t nn = 0;
  assert_int_equal(fl_array_load_csv(p, -1, NULL, &nn, &a), FL_OK);
  assert_int_equal(nn, 3);
  check_numpy_csv(a);
  fl_array_release(a);
  assert_int_equal(fl_array_load_csv(p, 1, NULL, NULL, &a), FL_OK);
  check_numpy_csv(a);
  fl_array_release(a);
}

static void test_csv_quoted_header(void **state)
{
  (void)state;
  char p[512];
  fl_array *a = NULL;
  char **names = NULL;
  size_t nn = 0;
  /* "alpha", "beta,gamma" ,"say ""hi""" then \r\n lines, a blank line, spaces */
  assert_int_equal(fl_array_load_csv(fixture("quoted_header.csv", p, sizeof p), -1, &names, &nn, &a), FL_OK);
  const char *want[] = {"alpha", "beta,gamma", "say \"hi\""};
  assert_names(names, nn, want, 3);
  assert_shape(a, 2, (size_t[]){2, 3});
  for (int k = 0; k < 6; k++) assert_true(a->data[k] == k + 1);
  fl_csv_names_free(names, nn);
  fl_array_release(a);

  write_text(tmp("q.csv", p, sizeof p), "\"a,b\nx\n");
  expect_csv_fail(p, 1, FL_EFORMAT, "q.csv:1: column 1: unterminated quote");
  write_text(p, "\"a\"b,c\n1,2\n");
  expect_csv_fail(p, 1, FL_EFORMAT, "q.csv:1: column 1: text after a closing quote");
}

static void test_csv_numbers_and_layout(void **state)
{
  (void)state;
  char p[512];
  fl_array *a = NULL;
  char **names = (char **)&a;
  size_t nn = 7;
  /* BOM, spaces, scientific, nan/inf, blank and whitespace-only lines, \r\n, no final newline */
  write_text(tmp("n.csv", p, sizeof p),
             "\xEF\xBB\xBF 1, 2.5e3 ,-inf\r\n\r\n   \nnan , 1E-300,  -0\r\n+4,INF,0x10");
  assert_int_equal(fl_array_load_csv(p, -1, &names, &nn, &a), FL_OK);
  assert_null(names);
  assert_int_equal(nn, 0);
  assert_shape(a, 2, (size_t[]){3, 3});
  const double *d = a->data;
  assert_true(d[0] == 1 && d[1] == 2500 && d[2] == -INFINITY);
  assert_true(isnan(d[3]) && d[4] == 1e-300 && same_bits(d[5], -0.0));
  assert_true(d[6] == 4 && d[7] == INFINITY && d[8] == 16);
  fl_array_release(a);

  /* header 0 and -1 agree on a numeric file; header 1 takes the first row as names */
  write_text(p, "1,2\n3,4\n5,6\n");
  assert_int_equal(fl_array_load_csv(p, 0, &names, &nn, &a), FL_OK);
  assert_null(names);
  assert_shape(a, 2, (size_t[]){3, 2});
  fl_array_release(a);
  assert_int_equal(fl_array_load_csv(p, 1, &names, &nn, &a), FL_OK);
  const char *want[] = {"1", "2"};
  assert_names(names, nn, want, 2);
  assert_shape(a, 2, (size_t[]){2, 2});
  assert_true(a->data[0] == 3 && a->data[3] == 6);
  fl_csv_names_free(names, nn);
  fl_array_release(a);

  /* detection: one non-numeric cell makes the row a header */
  write_text(p, "t, 2\n3,4\n");
  assert_int_equal(fl_array_load_csv(p, -1, &names, &nn, &a), FL_OK);
  const char *want2[] = {"t", "2"};
  assert_names(names, nn, want2, 2);
  assert_shape(a, 2, (size_t[]){1, 2});
  fl_csv_names_free(names, nn);
  fl_array_release(a);

  /* one column */
  write_text(p, "7\n8\n9\n");
  assert_int_equal(fl_array_load_csv(p, -1, NULL, NULL, &a), FL_OK);
  assert_shape(a, 2, (size_t[]){3, 1});
  fl_array_release(a);
}

static void test_csv_errors(void **state)
{
  (void)state;
  char p[512];
  tmp("m.csv", p, sizeof p);
  write_text(p, "a,b,c\n1,2,3\n\n4,5\n");
  expect_csv_fail(p, -1, FL_EFORMAT, "m.csv:4: 2 columns, expected 3");
  write_text(p, "1,2,3\n4,5,6,7\n");
  expect_csv_fail(p, -1, FL_EFORMAT, "m.csv:2: 4 columns, expected 3");
  write_text(p, "a,b,c\n1,2,3\n4,abc,6\n");
  expect_csv_fail(p, -1, FL_EFORMAT, "m.csv:3: column 2: 'abc' is not a number");
  write_text(p, "1,2,3\r\n4,5,6\r\n7,8,9 x\r\n");
  expect_csv_fail(p, 0, FL_EFORMAT, "m.csv:3: column 3: '9 x' is not a number");
  write_text(p, "1,2,3\n1,,3\n");
  expect_csv_fail(p, -1, FL_EFORMAT, "m.csv:2: column 2: '' is not a number");
  write_text(p, "1,2,\n");
  expect_csv_fail(p, 0, FL_EFORMAT, "m.csv:1: column 3: '' is not a number");
  write_text(p, "1;2;3\n");
  expect_csv_fail(p, 0, FL_EFORMAT, "column 1: '1;2;3' is not a number");
  write_text(p, "a,b\n1,2,3\n");
  expect_csv_fail(p, -1, FL_EFORMAT, "m.csv:2: 3 columns, but the header (line 1) has 2 names");
  write_text(p, "");
  expect_csv_fail(p, -1, FL_EFORMAT, "m.csv: no data rows");
  write_text(p, "\n  \r\n\n");
  expect_csv_fail(p, 0, FL_EFORMAT, "no data rows");
  write_text(p, "x,y\n");
  expect_csv_fail(p, -1, FL_EFORMAT, "no data rows");
  write_text(p, "1,2\n");
  expect_csv_fail(p, 1, FL_EFORMAT, "no data rows");
  expect_csv_fail(p, 2, FL_EINVAL, "header");
  expect_csv_fail(tmp("absent.csv", p, sizeof p), -1, FL_EIO, "absent.csv: cannot open: No such file");

  /* a long cell is shortened in the message */
  char line[200];
  memset(line, 'z', 150);
  strcpy(line + 150, "\n");
  write_text(tmp("m.csv", p, sizeof p), line);
  expect_csv_fail(p, 0, FL_EFORMAT, "zzz...' is not a number");
}

static void test_csv_save(void **state)
{
  (void)state;
  char p[512];
  const double v[] = {0.1, 1, -0.0, 1e300, NAN, -INFINITY, 1e-308, 1.0 / 3.0, 4.9e-324};
  fl_array *a = NULL, *b = NULL;
  char **names = NULL;
  size_t nn = 0;

  /* exact text */
  assert_int_equal(fl_array_from_data(2, (size_t[]){2, 2}, v, &a), FL_OK);
  assert_int_equal(fl_array_save_csv(tmp("s.csv", p, sizeof p), a, "a,b"), FL_OK);
  size_t n;
  char *text = (char *)read_bytes(p, &n);
  const char *want = "a,b\n0.10000000000000001,1\n-0,1.0000000000000001e+300\n";
  assert_int_equal(n, strlen(want));
  assert_memory_equal(text, want, n);
  free(text);
  fl_array_release(a);

  /* round trip, bit-exact (NaN stays NaN) */
  assert_int_equal(fl_array_from_data(2, (size_t[]){3, 3}, v, &a), FL_OK);
  assert_int_equal(fl_array_save_csv(p, a, "x,\"y\",z\n"), FL_OK);
  assert_int_equal(fl_array_load_csv(p, -1, &names, &nn, &b), FL_OK);
  const char *xyz[] = {"x", "y", "z"};
  assert_names(names, nn, xyz, 3);
  assert_true(fl_array_same_shape(a, b));
  for (size_t k = 0; k < 9; k++)
    if (isnan(a->data[k])) assert_true(isnan(b->data[k]));
    else assert_true(same_bits(a->data[k], b->data[k]));
  fl_csv_names_free(names, nn);
  fl_array_release(b);
  fl_array_release(a);

  /* 1-D: one column, no header */
  assert_int_equal(fl_array_from_data(1, (size_t[]){4}, v, &a), FL_OK);
  assert_int_equal(fl_array_save_csv(p, a, NULL), FL_OK);
  assert_int_equal(fl_array_load_csv(p, -1, &names, &nn, &b), FL_OK);
  assert_null(names);
  assert_shape(b, 2, (size_t[]){4, 1});
  for (size_t k = 0; k < 4; k++) assert_true(same_bits(a->data[k], b->data[k]));
  fl_array_release(b);
  fl_array_release(a);

  /* > 2-D and unwritable paths */
  assert_int_equal(fl_array_zeros(3, (size_t[]){2, 2, 2}, &a), FL_OK);
  assert_int_equal(fl_array_save_csv(p, a, NULL), FL_EDIM);
  assert_detail("(2,2,2)");
  fl_array_release(a);
  assert_int_equal(fl_array_zeros(1, (size_t[]){2}, &a), FL_OK);
  assert_int_equal(fl_array_save_csv(tmp("no/dir/s.csv", p, sizeof p), a, NULL), FL_EIO);
  assert_detail("s.csv: cannot open for writing: No such file");
  fl_array_release(a);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      T(test_npy_f8_2d),
      T(test_npy_f4_1d),
      T(test_npy_integers),
      T(test_npy_big_endian),
      T(test_npy_3d),
      T(test_npy_versions),
      T(test_npy_scalar_and_empty),
      T(test_npy_bad_fixtures),
      T(test_npy_header_variants),
      T(test_npy_header_errors),
      T(test_npy_roundtrip),
      T(test_npy_save_matches_numpy),
      T(test_npy_save_errors),
      T(test_csv_numpy),
      T(test_csv_quoted_header),
      T(test_csv_numbers_and_layout),
      T(test_csv_errors),
      T(test_csv_save),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
