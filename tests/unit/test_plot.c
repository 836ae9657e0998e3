/* Unit tests of lib/fl_plot: colormap, histograms, devices, rendering. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fl_plot.h"

static char dir[256];

static const char *tmp(const char *name)
{
  static char buf[512];
  snprintf(buf, sizeof buf, "%s/%s", dir, name);
  return buf;
}

static long file_size(const char *path)
{
  struct stat sb;
  return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

static int starts_with(const char *path, const char *magic, size_t n)
{
  char b[16] = {0};
  FILE *fp = fopen(path, "rb");
  if (!fp) return 0;
  size_t got = fread(b, 1, n, fp);
  fclose(fp);
  return got == n && memcmp(b, magic, n) == 0;
}

static void test_viridis(void **s)
{
  (void)s;
  double c[3];
  fl_plot_viridis(0, c);
  assert_float_equal(c[0], 0.267004, 1e-12);
  assert_float_equal(c[2], 0.329415, 1e-12);
  fl_plot_viridis(1, c);
  assert_float_equal(c[0], 0.993248, 1e-12);
  assert_float_equal(c[1], 0.906157, 1e-12);
  fl_plot_viridis(128.0 / 255.0, c); /* matplotlib's entry 128 */
  assert_float_equal(c[0], 0.127568, 1e-9);
  assert_float_equal(c[1], 0.566949, 1e-9);
  assert_float_equal(c[2], 0.550556, 1e-9);
  fl_plot_viridis(-3, c);
  assert_float_equal(c[0], 0.267004, 1e-12);
  fl_plot_viridis(NAN, c);
  assert_float_equal(c[1], 0.004874, 1e-12);
  /* perceptual: lightness (luma) increases monotonically */
  double prev = -1;
  for (int i = 0; i <= 100; i++) {
    fl_plot_viridis(i / 100.0, c);
    double y = 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
    assert_true(y > prev);
    prev = y;
  }
}

static void test_histogram(void **s)
{
  (void)s;
  double x[] = {0, 0.1, 0.25, 0.5, 0.99, 1.0, -0.1, 1.1, NAN, 0.75};
  double c[4];
  size_t used;
  assert_int_equal(fl_plot_histogram(10, x, 4, 0, 1, c, &used), FL_OK);
  assert_int_equal(used, 7);
  assert_float_equal(c[0], 2, 0); /* 0, 0.1 */
  assert_float_equal(c[1], 1, 0); /* 0.25 */
  assert_float_equal(c[2], 1, 0); /* 0.5 */
  assert_float_equal(c[3], 3, 0); /* 0.75, 0.99, 1.0 (hi is in the last bin) */
  assert_int_equal(fl_plot_histogram(10, x, 0, 0, 1, c, NULL), FL_EINVAL);
  assert_int_equal(fl_plot_histogram(10, x, 4, 1, 1, c, NULL), FL_EINVAL);
  assert_non_null(strstr(fl_last_detail(), "lo < hi"));

  double xy[] = {0.1, 0.1, 0.9, 0.1, 0.9, 0.9, 0.95, 0.6, 2, 0.5, 0.5, NAN};
  double r[4] = {0, 1, 0, 1}, h[4];
  assert_int_equal(fl_plot_histogram2d(6, xy, 2, 2, r, h, &used), FL_OK);
  assert_int_equal(used, 4);
  assert_float_equal(h[0], 1, 0); /* (x bin 0, y bin 0) */
  assert_float_equal(h[1], 1, 0); /* x bin 1, y bin 0 */
  assert_float_equal(h[2], 0, 0); /* x bin 0, y bin 1 */
  assert_float_equal(h[3], 2, 0); /* x bin 1, y bin 1 */
  r[3] = -1;
  assert_int_equal(fl_plot_histogram2d(6, xy, 2, 2, r, h, NULL), FL_EINVAL);
  assert_non_null(strstr(fl_last_detail(), "y range"));
}

static void test_devices(void **s)
{
  (void)s;
  const char *d;
  assert_int_equal(fl_plot_device_for("a/b.png", &d), FL_OK);
  assert_string_equal(d, "pngcairo");
  assert_int_equal(fl_plot_device_for("b.svg", &d), FL_OK);
  assert_string_equal(d, "svgcairo");
  assert_int_equal(fl_plot_device_for("b.pdf", &d), FL_OK);
  assert_string_equal(d, "pdfcairo");
  assert_int_equal(fl_plot_device_for("b.jpg", &d), FL_EINVAL);
  assert_non_null(strstr(fl_last_detail(), ".png, .svg or .pdf"));
  assert_int_equal(fl_plot_device_for("dir.png/b", &d), FL_EINVAL);
  assert_true(fl_plot_device_available("pngcairo"));
  assert_true(fl_plot_device_available("svgcairo"));
  assert_true(fl_plot_device_available("pdfcairo"));
  assert_false(fl_plot_device_available("nosuchdevice"));
}

static void test_figure_args(void **s)
{
  (void)s;
  fl_plot_figure *f;
  assert_int_equal(fl_plot_figure_new(0, 1, 640, 480, &f), FL_EINVAL);
  assert_null(f);
  assert_int_equal(fl_plot_figure_new(1, 1, 50, 480, &f), FL_EINVAL);
  assert_int_equal(fl_plot_figure_new(2, 3, 900, 600, &f), FL_OK);
  assert_int_equal(fl_plot_figure_npanels(f), 6);
  double x[3] = {1, 2, 3}, y[3] = {1, 4, 9};
  fl_plot_layer_spec l = {.kind = FL_PLOT_LINE, .n = 3, .x = x, .y = y, .color = -1};
  assert_int_equal(fl_plot_add(f, 6, &l), FL_ERANGE);
  l.color = 10;
  assert_int_equal(fl_plot_add(f, 0, &l), FL_EINVAL);
  l.color = -1;
  l.n = 0;
  assert_int_equal(fl_plot_add(f, 0, &l), FL_EINVAL);
  fl_plot_layer_spec b = {.kind = FL_PLOT_BARS, .n = 2, .x = (double[]){0, 1, 1}, .y = y, .color = -1};
  assert_int_equal(fl_plot_add(f, 0, &b), FL_EINVAL);
  assert_non_null(strstr(fl_last_detail(), "edges"));
  fl_plot_panel_spec ps = {.logy = 1, .ylim = {-1, 10}};
  assert_int_equal(fl_plot_panel_set(f, 0, &ps), FL_EINVAL);
  assert_int_equal(fl_plot_save(f, tmp("x.gif")), FL_EINVAL);
  assert_int_equal(fl_plot_save(f, "/nonexistent-dir/x.png"), FL_EIO);
  assert_non_null(strstr(fl_last_detail(), "cannot write"));
  fl_plot_figure_free(f);
}

/* A 2x2 figure with every layer kind. */
static fl_plot_figure *every_kind(void)
{
  fl_plot_figure *f;
  assert_int_equal(fl_plot_figure_new(2, 2, 900, 700, &f), FL_OK);
  enum { N = 400 };
  static double x[N], y[N], u[N], v[N], z[30 * 20], e[21], h[20];
  for (int i = 0; i < N; i++) {
    x[i] = cos(0.1 * i) * (1 + i / 400.0);
    y[i] = sin(0.1 * i) * (1 + i / 400.0);
    u[i] = -y[i];
    v[i] = x[i];
  }
  fl_plot_panel_spec p0 = {.title = "points", .xlabel = "x", .ylabel = "y", .equal = 1};
  assert_int_equal(fl_plot_panel_set(f, 0, &p0), FL_OK);
  fl_plot_layer_spec pts = {.kind = FL_PLOT_POINTS, .n = N, .x = x, .y = y, .color = -1, .label = "spiral"};
  assert_int_equal(fl_plot_add(f, 0, &pts), FL_OK);
  fl_plot_layer_spec ar = {.kind = FL_PLOT_ARROWS, .n = N / 10, .x = x, .y = y, .u = u, .v = v, .color = -1};
  assert_int_equal(fl_plot_add(f, 0, &ar), FL_OK);
  double sx[50], sy[50], sy2[50];
  for (int i = 0; i < 50; i++) { sx[i] = i + 1; sy[i] = 1.0 / sx[i]; sy2[i] = 1.0 / (sx[i] * sx[i]); }
  fl_plot_panel_spec p1 = {.title = "error vs steps", .xlabel = "steps", .ylabel = "error", .logx = 1, .logy = 1};
  assert_int_equal(fl_plot_panel_set(f, 1, &p1), FL_OK);
  fl_plot_layer_spec l1 = {.kind = FL_PLOT_LINE, .n = 50, .x = sx, .y = sy, .color = -1, .label = "order 1"};
  fl_plot_layer_spec l2 = {.kind = FL_PLOT_LINE, .n = 50, .x = sx, .y = sy2, .color = -1, .label = "order 2"};
  assert_int_equal(fl_plot_add(f, 1, &l1), FL_OK);
  assert_int_equal(fl_plot_add(f, 1, &l2), FL_OK);
  for (int j = 0; j < 20; j++)
    for (int i = 0; i < 30; i++) z[j * 30 + i] = sin(0.3 * i) * cos(0.4 * j);
  fl_plot_panel_spec p2 = {.title = "image", .xlabel = "x", .ylabel = "y"};
  assert_int_equal(fl_plot_panel_set(f, 2, &p2), FL_OK);
  fl_plot_layer_spec im = {.kind = FL_PLOT_IMAGE, .nx = 30, .ny = 20, .z = z, .extent = {0, 3, 0, 2}, .label = "z"};
  assert_int_equal(fl_plot_add(f, 2, &im), FL_OK);
  for (int i = 0; i <= 20; i++) e[i] = -2 + 0.2 * i;
  for (int i = 0; i < 20; i++) h[i] = exp(-0.5 * (e[i] + 0.1) * (e[i] + 0.1));
  fl_plot_panel_spec p3 = {.title = "bars", .xlabel = "x", .ylabel = "density"};
  assert_int_equal(fl_plot_panel_set(f, 3, &p3), FL_OK);
  fl_plot_layer_spec br = {.kind = FL_PLOT_BARS, .n = 20, .x = e, .y = h, .color = -1, .label = "hist"};
  assert_int_equal(fl_plot_add(f, 3, &br), FL_OK);
  return f;
}

static void test_render(void **s)
{
  (void)s;
  fl_plot_figure *f = every_kind();
  /* stdout stays empty: send it to a file while rendering */
  fflush(stdout);
  int saved = dup(1);
  int fd = open(tmp("stdout.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  assert_true(saved >= 0 && fd >= 0);
  dup2(fd, 1);
  close(fd);
  fl_status a = fl_plot_save(f, tmp("all.png"));
  fl_status b = fl_plot_save(f, tmp("all.svg"));
  fl_status c = fl_plot_save(f, tmp("all.pdf"));
  fflush(stdout);
  dup2(saved, 1);
  close(saved);
  assert_int_equal(a, FL_OK);
  assert_int_equal(b, FL_OK);
  assert_int_equal(c, FL_OK);
  assert_int_equal(file_size(tmp("stdout.txt")), 0);
  assert_true(starts_with(tmp("all.png"), "\x89PNG\r\n\x1a\n", 8));
  assert_true(file_size(tmp("all.png")) > 20000);
  assert_true(starts_with(tmp("all.svg"), "<?xml", 5));
  assert_true(file_size(tmp("all.svg")) > 5000);
  assert_true(starts_with(tmp("all.pdf"), "%PDF", 4));
  assert_true(file_size(tmp("all.pdf")) > 2000);
  fl_plot_figure_free(f);
}

/* An error inside the render (a panel too small to draw) takes the jump-back
 * path; the stream is ended, the partial file removed, and the next render works. */
static void test_render_error_recovers(void **s)
{
  (void)s;
  fl_plot_figure *f;
  assert_int_equal(fl_plot_figure_new(16, 16, 100, 100, &f), FL_OK);
  double x[2] = {0, 1};
  fl_plot_layer_spec l = {.kind = FL_PLOT_LINE, .n = 2, .x = x, .y = x, .color = -1};
  assert_int_equal(fl_plot_add(f, 0, &l), FL_OK);
  assert_int_equal(fl_plot_save(f, tmp("small.png")), FL_EIO);
  assert_non_null(strstr(fl_last_detail(), "too small"));
  assert_int_equal(file_size(tmp("small.png")), -1);
  fl_plot_figure_free(f);
  f = every_kind();
  assert_int_equal(fl_plot_save(f, tmp("again.png")), FL_OK);
  assert_true(file_size(tmp("again.png")) > 20000);
  fl_plot_figure_free(f);
}

int main(void)
{
  snprintf(dir, sizeof dir, "/tmp/fl_test_plot_XXXXXX");
  if (!mkdtemp(dir)) return 1;
  const struct CMUnitTest ts[] = {
    cmocka_unit_test(test_viridis),      cmocka_unit_test(test_histogram),
    cmocka_unit_test(test_devices),      cmocka_unit_test(test_figure_args),
    cmocka_unit_test(test_render),       cmocka_unit_test(test_render_error_recovers),
  };
  int rc = cmocka_run_group_tests(ts, NULL, NULL);
  if (!getenv("FL_KEEP")) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) rc = rc ? rc : 1;
  } else {
    fprintf(stderr, "kept %s\n", dir);
  }
  return rc;
}
