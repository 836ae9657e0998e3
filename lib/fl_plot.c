/* fl_plot: figures rendered through PLplot's cairo devices (see fl_plot.h). */
#include "config.h"
#include "fl_plot.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <plplot.h>

/* ------------------------------------------------------------ colours */

static const double viridis_data[256][3] = {
  {0.267004, 0.004874, 0.329415},
  {0.268510, 0.009605, 0.335427},
  {0.269944, 0.014625, 0.341379},
  {0.271305, 0.019942, 0.347269},
  {0.272594, 0.025563, 0.353093},
  {0.273809, 0.031497, 0.358853},
  {0.274952, 0.037752, 0.364543},
  {0.276022, 0.044167, 0.370164},
  {0.277018, 0.050344, 0.375715},
  {0.277941, 0.056324, 0.381191},
  {0.278791, 0.062145, 0.386592},
  {0.279566, 0.067836, 0.391917},
  {0.280267, 0.073417, 0.397163},
  {0.280894, 0.078907, 0.402329},
  {0.281446, 0.084320, 0.407414},
  {0.281924, 0.089666, 0.412415},
  {0.282327, 0.094955, 0.417331},
  {0.282656, 0.100196, 0.422160},
  {0.282910, 0.105393, 0.426902},
  {0.283091, 0.110553, 0.431554},
  {0.283197, 0.115680, 0.436115},
  {0.283229, 0.120777, 0.440584},
  {0.283187, 0.125848, 0.444960},
  {0.283072, 0.130895, 0.449241},
  {0.282884, 0.135920, 0.453427},
  {0.282623, 0.140926, 0.457517},
  {0.282290, 0.145912, 0.461510},
  {0.281887, 0.150881, 0.465405},
  {0.281412, 0.155834, 0.469201},
  {0.280868, 0.160771, 0.472899},
  {0.280255, 0.165693, 0.476498},
  {0.279574, 0.170599, 0.479997},
  {0.278826, 0.175490, 0.483397},
  {0.278012, 0.180367, 0.486697},
  {0.277134, 0.185228, 0.489898},
  {0.276194, 0.190074, 0.493001},
  {0.275191, 0.194905, 0.496005},
  {0.274128, 0.199721, 0.498911},
  {0.273006, 0.204520, 0.501721},
  {0.271828, 0.209303, 0.504434},
  {0.270595, 0.214069, 0.507052},
  {0.269308, 0.218818, 0.509577},
  {0.267968, 0.223549, 0.512008},
  {0.266580, 0.228262, 0.514349},
  {0.265145, 0.232956, 0.516599},
  {0.263663, 0.237631, 0.518762},
  {0.262138, 0.242286, 0.520837},
  {0.260571, 0.246922, 0.522828},
  {0.258965, 0.251537, 0.524736},
  {0.257322, 0.256130, 0.526563},
  {0.255645, 0.260703, 0.528312},
  {0.253935, 0.265254, 0.529983},
  {0.252194, 0.269783, 0.531579},
  {0.250425, 0.274290, 0.533103},
  {0.248629, 0.278775, 0.534556},
  {0.246811, 0.283237, 0.535941},
  {0.244972, 0.287675, 0.537260},
  {0.243113, 0.292092, 0.538516},
  {0.241237, 0.296485, 0.539709},
  {0.239346, 0.300855, 0.540844},
  {0.237441, 0.305202, 0.541921},
  {0.235526, 0.309527, 0.542944},
  {0.233603, 0.313828, 0.543914},
  {0.231674, 0.318106, 0.544834},
  {0.229739, 0.322361, 0.545706},
  {0.227802, 0.326594, 0.546532},
  {0.225863, 0.330805, 0.547314},
  {0.223925, 0.334994, 0.548053},
  {0.221989, 0.339161, 0.548752},
  {0.220057, 0.343307, 0.549413},
  {0.218130, 0.347432, 0.550038},
  {0.216210, 0.351535, 0.550627},
  {0.214298, 0.355619, 0.551184},
  {0.212395, 0.359683, 0.551710},
  {0.210503, 0.363727, 0.552206},
  {0.208623, 0.367752, 0.552675},
  {0.206756, 0.371758, 0.553117},
  {0.204903, 0.375746, 0.553533},
  {0.203063, 0.379716, 0.553925},
  {0.201239, 0.383670, 0.554294},
  {0.199430, 0.387607, 0.554642},
  {0.197636, 0.391528, 0.554969},
  {0.195860, 0.395433, 0.555276},
  {0.194100, 0.399323, 0.555565},
  {0.192357, 0.403199, 0.555836},
  {0.190631, 0.407061, 0.556089},
  {0.188923, 0.410910, 0.556326},
  {0.187231, 0.414746, 0.556547},
  {0.185556, 0.418570, 0.556753},
  {0.183898, 0.422383, 0.556944},
  {0.182256, 0.426184, 0.557120},
  {0.180629, 0.429975, 0.557282},
  {0.179019, 0.433756, 0.557430},
  {0.177423, 0.437527, 0.557565},
  {0.175841, 0.441290, 0.557685},
  {0.174274, 0.445044, 0.557792},
  {0.172719, 0.448791, 0.557885},
  {0.171176, 0.452530, 0.557965},
  {0.169646, 0.456262, 0.558030},
  {0.168126, 0.459988, 0.558082},
  {0.166617, 0.463708, 0.558119},
  {0.165117, 0.467423, 0.558141},
  {0.163625, 0.471133, 0.558148},
  {0.162142, 0.474838, 0.558140},
  {0.160665, 0.478540, 0.558115},
  {0.159194, 0.482237, 0.558073},
  {0.157729, 0.485932, 0.558013},
  {0.156270, 0.489624, 0.557936},
  {0.154815, 0.493313, 0.557840},
  {0.153364, 0.497000, 0.557724},
  {0.151918, 0.500685, 0.557587},
  {0.150476, 0.504369, 0.557430},
  {0.149039, 0.508051, 0.557250},
  {0.147607, 0.511733, 0.557049},
  {0.146180, 0.515413, 0.556823},
  {0.144759, 0.519093, 0.556572},
  {0.143343, 0.522773, 0.556295},
  {0.141935, 0.526453, 0.555991},
  {0.140536, 0.530132, 0.555659},
  {0.139147, 0.533812, 0.555298},
  {0.137770, 0.537492, 0.554906},
  {0.136408, 0.541173, 0.554483},
  {0.135066, 0.544853, 0.554029},
  {0.133743, 0.548535, 0.553541},
  {0.132444, 0.552216, 0.553018},
  {0.131172, 0.555899, 0.552459},
  {0.129933, 0.559582, 0.551864},
  {0.128729, 0.563265, 0.551229},
  {0.127568, 0.566949, 0.550556},
  {0.126453, 0.570633, 0.549841},
  {0.125394, 0.574318, 0.549086},
  {0.124395, 0.578002, 0.548287},
  {0.123463, 0.581687, 0.547445},
  {0.122606, 0.585371, 0.546557},
  {0.121831, 0.589055, 0.545623},
  {0.121148, 0.592739, 0.544641},
  {0.120565, 0.596422, 0.543611},
  {0.120092, 0.600104, 0.542530},
  {0.119738, 0.603785, 0.541400},
  {0.119512, 0.607464, 0.540218},
  {0.119423, 0.611141, 0.538982},
  {0.119483, 0.614817, 0.537692},
  {0.119699, 0.618490, 0.536347},
  {0.120081, 0.622161, 0.534946},
  {0.120638, 0.625828, 0.533488},
  {0.121380, 0.629492, 0.531973},
  {0.122312, 0.633153, 0.530398},
  {0.123444, 0.636809, 0.528763},
  {0.124780, 0.640461, 0.527068},
  {0.126326, 0.644107, 0.525311},
  {0.128087, 0.647749, 0.523491},
  {0.130067, 0.651384, 0.521608},
  {0.132268, 0.655014, 0.519661},
  {0.134692, 0.658636, 0.517649},
  {0.137339, 0.662252, 0.515571},
  {0.140210, 0.665859, 0.513427},
  {0.143303, 0.669459, 0.511215},
  {0.146616, 0.673050, 0.508936},
  {0.150148, 0.676631, 0.506589},
  {0.153894, 0.680203, 0.504172},
  {0.157851, 0.683765, 0.501686},
  {0.162016, 0.687316, 0.499129},
  {0.166383, 0.690856, 0.496502},
  {0.170948, 0.694384, 0.493803},
  {0.175707, 0.697900, 0.491033},
  {0.180653, 0.701402, 0.488189},
  {0.185783, 0.704891, 0.485273},
  {0.191090, 0.708366, 0.482284},
  {0.196571, 0.711827, 0.479221},
  {0.202219, 0.715272, 0.476084},
  {0.208030, 0.718701, 0.472873},
  {0.214000, 0.722114, 0.469588},
  {0.220124, 0.725509, 0.466226},
  {0.226397, 0.728888, 0.462789},
  {0.232815, 0.732247, 0.459277},
  {0.239374, 0.735588, 0.455688},
  {0.246070, 0.738910, 0.452024},
  {0.252899, 0.742211, 0.448284},
  {0.259857, 0.745492, 0.444467},
  {0.266941, 0.748751, 0.440573},
  {0.274149, 0.751988, 0.436601},
  {0.281477, 0.755203, 0.432552},
  {0.288921, 0.758394, 0.428426},
  {0.296479, 0.761561, 0.424223},
  {0.304148, 0.764704, 0.419943},
  {0.311925, 0.767822, 0.415586},
  {0.319809, 0.770914, 0.411152},
  {0.327796, 0.773980, 0.406640},
  {0.335885, 0.777018, 0.402049},
  {0.344074, 0.780029, 0.397381},
  {0.352360, 0.783011, 0.392636},
  {0.360741, 0.785964, 0.387814},
  {0.369214, 0.788888, 0.382914},
  {0.377779, 0.791781, 0.377939},
  {0.386433, 0.794644, 0.372886},
  {0.395174, 0.797475, 0.367757},
  {0.404001, 0.800275, 0.362552},
  {0.412913, 0.803041, 0.357269},
  {0.421908, 0.805774, 0.351910},
  {0.430983, 0.808473, 0.346476},
  {0.440137, 0.811138, 0.340967},
  {0.449368, 0.813768, 0.335384},
  {0.458674, 0.816363, 0.329727},
  {0.468053, 0.818921, 0.323998},
  {0.477504, 0.821444, 0.318195},
  {0.487026, 0.823929, 0.312321},
  {0.496615, 0.826376, 0.306377},
  {0.506271, 0.828786, 0.300362},
  {0.515992, 0.831158, 0.294279},
  {0.525776, 0.833491, 0.288127},
  {0.535621, 0.835785, 0.281908},
  {0.545524, 0.838039, 0.275626},
  {0.555484, 0.840254, 0.269281},
  {0.565498, 0.842430, 0.262877},
  {0.575563, 0.844566, 0.256415},
  {0.585678, 0.846661, 0.249897},
  {0.595839, 0.848717, 0.243329},
  {0.606045, 0.850733, 0.236712},
  {0.616293, 0.852709, 0.230052},
  {0.626579, 0.854645, 0.223353},
  {0.636902, 0.856542, 0.216620},
  {0.647257, 0.858400, 0.209861},
  {0.657642, 0.860219, 0.203082},
  {0.668054, 0.861999, 0.196293},
  {0.678489, 0.863742, 0.189503},
  {0.688944, 0.865448, 0.182725},
  {0.699415, 0.867117, 0.175971},
  {0.709898, 0.868751, 0.169257},
  {0.720391, 0.870350, 0.162603},
  {0.730889, 0.871916, 0.156029},
  {0.741388, 0.873449, 0.149561},
  {0.751884, 0.874951, 0.143228},
  {0.762373, 0.876424, 0.137064},
  {0.772852, 0.877868, 0.131109},
  {0.783315, 0.879285, 0.125405},
  {0.793760, 0.880678, 0.120005},
  {0.804182, 0.882046, 0.114965},
  {0.814576, 0.883393, 0.110347},
  {0.824940, 0.884720, 0.106217},
  {0.835270, 0.886029, 0.102646},
  {0.845561, 0.887322, 0.099702},
  {0.855810, 0.888601, 0.097452},
  {0.866013, 0.889868, 0.095953},
  {0.876168, 0.891125, 0.095250},
  {0.886271, 0.892374, 0.095374},
  {0.896320, 0.893616, 0.096335},
  {0.906311, 0.894855, 0.098125},
  {0.916242, 0.896091, 0.100717},
  {0.926106, 0.897330, 0.104071},
  {0.935904, 0.898570, 0.108131},
  {0.945636, 0.899815, 0.112838},
  {0.955300, 0.901065, 0.118128},
  {0.964894, 0.902323, 0.123941},
  {0.974417, 0.903590, 0.130215},
  {0.983868, 0.904867, 0.136897},
  {0.993248, 0.906157, 0.143936},
};

void fl_plot_viridis(double t, double rgb[3])
{
  if (!(t > 0)) t = 0; /* NaN too */
  if (t > 1) t = 1;
  double s = t * 255.0;
  int i = (int)s;
  if (i >= 255) i = 254;
  double w = s - i;
  for (int c = 0; c < 3; c++) rgb[c] = (1 - w) * viridis_data[i][c] + w * viridis_data[i + 1][c];
}

/* The colour cycle of lines, markers, arrows and bars (cmap0 entries 2..11);
 * matplotlib's "tab10", readable on white. */
static const int cycle[10][3] = {
  {31, 119, 180}, {255, 127, 14}, {44, 160, 44}, {214, 39, 40}, {148, 103, 189},
  {140, 86, 75}, {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207},
};
#define NCYCLE 10
#define COL_BLACK 1
#define COL_WHITE 0
#define COL_GRID 12
#define COL_CYCLE0 2

/* ------------------------------------------------------------ histograms */

fl_status fl_plot_histogram(size_t n, const double *x, size_t nbins, double lo, double hi, double *counts,
                            size_t *used)
{
  if (nbins == 0) return fl_fail(FL_EINVAL, "histogram: the number of bins must be positive");
  if (!(isfinite(lo) && isfinite(hi) && lo < hi))
    return fl_fail(FL_EINVAL, "histogram: the range must be finite with lo < hi, not [%g, %g]", lo, hi);
  for (size_t b = 0; b < nbins; b++) counts[b] = 0;
  size_t k = 0;
  double scale = (double)nbins / (hi - lo);
  /* per-thread copies of the counts for large inputs with few bins */
#pragma omp parallel for reduction(+ : counts[:nbins], k) if (n > 65536 && nbins <= 4096)
  for (size_t i = 0; i < n; i++) {
    double v = x[i];
    if (!(v >= lo && v <= hi)) continue;
    size_t b = (size_t)((v - lo) * scale);
    if (b >= nbins) b = nbins - 1;
    counts[b] += 1;
    k++;
  }
  if (used) *used = k;
  return FL_OK;
}

fl_status fl_plot_histogram2d(size_t n, const double *xy, size_t nx, size_t ny, const double range[4],
                              double *counts, size_t *used)
{
  if (nx == 0 || ny == 0) return fl_fail(FL_EINVAL, "histogram2d: the numbers of bins must be positive");
  for (int a = 0; a < 2; a++)
    if (!(isfinite(range[2 * a]) && isfinite(range[2 * a + 1]) && range[2 * a] < range[2 * a + 1]))
      return fl_fail(FL_EINVAL, "histogram2d: the %s range must be finite with lo < hi, not [%g, %g]",
                     a ? "y" : "x", range[2 * a], range[2 * a + 1]);
  size_t m;
  if (fl_mul_overflow(nx, ny, &m)) return fl_fail(FL_ENOMEM, "histogram2d: too many bins");
  for (size_t b = 0; b < m; b++) counts[b] = 0;
  double sx = (double)nx / (range[1] - range[0]), sy = (double)ny / (range[3] - range[2]);
  size_t k = 0;
#pragma omp parallel for reduction(+ : counts[:m], k) if (n > 65536 && m <= 4096)
  for (size_t i = 0; i < n; i++) {
    double u = xy[2 * i], v = xy[2 * i + 1];
    if (!(u >= range[0] && u <= range[1] && v >= range[2] && v <= range[3])) continue;
    size_t bx = (size_t)((u - range[0]) * sx), by = (size_t)((v - range[2]) * sy);
    if (bx >= nx) bx = nx - 1;
    if (by >= ny) by = ny - 1;
    counts[by * nx + bx] += 1;
    k++;
  }
  if (used) *used = k;
  return FL_OK;
}

/* ------------------------------------------------------------ figure model */

typedef struct layer {
  fl_plot_kind kind;
  size_t n, nx, ny;
  double *x, *y, *u, *v, *z;
  double extent[4], zrange[2];
  char *label;
  int color;
  double size;
} layer;

typedef struct panel {
  char *title, *xlabel, *ylabel;
  int logx, logy, equal;
  double xlim[2], ylim[2];
  layer *layers;
  int nlayers, cap, next_color;
} panel;

struct fl_plot_figure {
  int rows, cols, width, height;
  panel *panels;
};

static char *dupstr(const char *s, fl_status *st)
{
  if (!s) return NULL;
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (!d) { *st = FL_ENOMEM; return NULL; }
  memcpy(d, s, n);
  return d;
}

static double *dupdata(const double *p, size_t n, fl_status *st)
{
  if (!p || n == 0) return NULL;
  double *d = malloc(n * sizeof *d);
  if (!d) { *st = FL_ENOMEM; return NULL; }
  memcpy(d, p, n * sizeof *d);
  return d;
}

static void layer_free(layer *l)
{
  free(l->x); free(l->y); free(l->u); free(l->v); free(l->z); free(l->label);
}

fl_status fl_plot_figure_new(int rows, int cols, int width, int height, fl_plot_figure **out)
{
  *out = NULL;
  if (rows < 1 || rows > 16 || cols < 1 || cols > 16)
    return fl_fail(FL_EINVAL, "a figure has 1 to 16 rows and columns, not %d x %d", rows, cols);
  if (width < 100 || width > 8000 || height < 100 || height > 8000)
    return fl_fail(FL_EINVAL, "a figure is 100 to 8000 pixels wide and high, not %d x %d", width, height);
  fl_plot_figure *f = calloc(1, sizeof *f);
  if (!f) return fl_fail(FL_ENOMEM, "figure: out of memory");
  f->panels = calloc((size_t)(rows * cols), sizeof *f->panels);
  if (!f->panels) { free(f); return fl_fail(FL_ENOMEM, "figure: out of memory"); }
  f->rows = rows; f->cols = cols; f->width = width; f->height = height;
  *out = f;
  return FL_OK;
}

static void panel_clear_text(panel *p)
{
  free(p->title); free(p->xlabel); free(p->ylabel);
  p->title = p->xlabel = p->ylabel = NULL;
}

void fl_plot_figure_free(fl_plot_figure *f)
{
  if (!f) return;
  for (int k = 0; k < f->rows * f->cols; k++) {
    panel *p = &f->panels[k];
    panel_clear_text(p);
    for (int i = 0; i < p->nlayers; i++) layer_free(&p->layers[i]);
    free(p->layers);
  }
  free(f->panels);
  free(f);
}

int fl_plot_figure_npanels(const fl_plot_figure *f) { return f->rows * f->cols; }

static fl_status check_panel(const fl_plot_figure *f, int k)
{
  if (k < 0 || k >= f->rows * f->cols)
    return fl_fail(FL_ERANGE, "panel %d out of range 0..%d", k, f->rows * f->cols - 1);
  return FL_OK;
}

fl_status fl_plot_panel_set(fl_plot_figure *f, int k, const fl_plot_panel_spec *s)
{
  fl_status st = check_panel(f, k);
  if (st) return st;
  for (int a = 0; a < 2; a++) {
    const double *lim = a ? s->ylim : s->xlim;
    if (lim[0] < lim[1] && !(isfinite(lim[0]) && isfinite(lim[1])))
      return fl_fail(FL_EINVAL, "the %s limits must be finite", a ? "y" : "x");
    if (lim[0] < lim[1] && (a ? s->logy : s->logx) && lim[0] <= 0)
      return fl_fail(FL_EINVAL, "the %s limits of a log axis must be positive, not [%g, %g]", a ? "y" : "x",
                     lim[0], lim[1]);
  }
  panel *p = &f->panels[k];
  st = FL_OK;
  char *t = dupstr(s->title, &st), *xl = dupstr(s->xlabel, &st), *yl = dupstr(s->ylabel, &st);
  if (st) { free(t); free(xl); free(yl); return fl_fail(FL_ENOMEM, "figure: out of memory"); }
  panel_clear_text(p);
  p->title = t; p->xlabel = xl; p->ylabel = yl;
  p->logx = s->logx; p->logy = s->logy; p->equal = s->equal;
  memcpy(p->xlim, s->xlim, sizeof p->xlim);
  memcpy(p->ylim, s->ylim, sizeof p->ylim);
  return FL_OK;
}

static const char *kind_name(fl_plot_kind k)
{
  switch (k) {
  case FL_PLOT_POINTS: return "points";
  case FL_PLOT_LINE: return "line";
  case FL_PLOT_ARROWS: return "arrows";
  case FL_PLOT_IMAGE: return "image";
  case FL_PLOT_BARS: return "bars";
  }
  return "?";
}

fl_status fl_plot_add(fl_plot_figure *f, int k, const fl_plot_layer_spec *s)
{
  fl_status st = check_panel(f, k);
  if (st) return st;
  if ((int)s->kind < 0 || s->kind > FL_PLOT_BARS) return fl_fail(FL_EINVAL, "unknown layer kind %d", (int)s->kind);
  if (s->color < -1 || s->color >= NCYCLE)
    return fl_fail(FL_EINVAL, "color index %d out of range 0..%d", s->color, NCYCLE - 1);
  if (!(s->size >= 0 && isfinite(s->size))) return fl_fail(FL_EINVAL, "size must be finite and >= 0, not %g", s->size);
  layer l = {0};
  l.kind = s->kind;
  l.size = s->size;
  if (s->kind == FL_PLOT_IMAGE) {
    if (s->nx < 1 || s->ny < 1 || !s->z) return fl_fail(FL_EINVAL, "image: needs at least 1 x 1 values");
    size_t m;
    if (fl_mul_overflow(s->nx, s->ny, &m)) return fl_fail(FL_ENOMEM, "image: too large");
    if (!(isfinite(s->extent[0]) && isfinite(s->extent[1]) && isfinite(s->extent[2]) && isfinite(s->extent[3]) &&
          s->extent[0] < s->extent[1] && s->extent[2] < s->extent[3]))
      return fl_fail(FL_EINVAL, "image: the extent must be finite with xmin < xmax and ymin < ymax");
    l.nx = s->nx; l.ny = s->ny;
    memcpy(l.extent, s->extent, sizeof l.extent);
    memcpy(l.zrange, s->zrange, sizeof l.zrange);
    l.z = dupdata(s->z, m, &st);
  } else {
    if (s->n == 0) return fl_fail(FL_EINVAL, "%s: no data", kind_name(s->kind));
    if (!s->x || !s->y || (s->kind == FL_PLOT_ARROWS && (!s->u || !s->v)))
      return fl_fail(FL_EINVAL, "%s: missing data", kind_name(s->kind));
    l.n = s->n;
    l.x = dupdata(s->x, s->kind == FL_PLOT_BARS ? s->n + 1 : s->n, &st);
    l.y = dupdata(s->y, s->n, &st);
    if (s->kind == FL_PLOT_ARROWS) { l.u = dupdata(s->u, s->n, &st); l.v = dupdata(s->v, s->n, &st); }
    if (s->kind == FL_PLOT_BARS)
      for (size_t i = 0; i < s->n && !st; i++)
        if (!(s->x[i] < s->x[i + 1]))
          { layer_free(&l); return fl_fail(FL_EINVAL, "bars: the edges must increase"); }
  }
  l.label = dupstr(s->label, &st);
  if (st) { layer_free(&l); return fl_fail(FL_ENOMEM, "figure: out of memory"); }
  panel *p = &f->panels[k];
  if (s->kind == FL_PLOT_IMAGE) l.color = 0;
  else if (s->color >= 0) l.color = s->color;
  else l.color = p->next_color++ % NCYCLE;
  if (p->nlayers == p->cap) {
    int cap = p->cap ? 2 * p->cap : 4;
    layer *nl = realloc(p->layers, (size_t)cap * sizeof *nl);
    if (!nl) { layer_free(&l); return fl_fail(FL_ENOMEM, "figure: out of memory"); }
    p->layers = nl; p->cap = cap;
  }
  p->layers[p->nlayers++] = l;
  return FL_OK;
}

/* ------------------------------------------------------------ devices */

fl_status fl_plot_device_for(const char *path, const char **device)
{
  const char *dot = path ? strrchr(path, '.') : NULL;
  const char *slash = path ? strrchr(path, '/') : NULL;
  if (dot && (!slash || dot > slash)) {
    if (!strcmp(dot, ".png") || !strcmp(dot, ".PNG")) { *device = "pngcairo"; return FL_OK; }
    if (!strcmp(dot, ".svg") || !strcmp(dot, ".SVG")) { *device = "svgcairo"; return FL_OK; }
    if (!strcmp(dot, ".pdf") || !strcmp(dot, ".PDF")) { *device = "pdfcairo"; return FL_OK; }
  }
  return fl_fail(FL_EINVAL, "cannot tell the format of '%s': the file name must end in .png, .svg or .pdf",
                 path ? path : "(null)");
}

/* PLplot is not re-entrant: one render at a time, in any thread. */
static pthread_mutex_t plot_lock = PTHREAD_MUTEX_INITIALIZER;
static jmp_buf plot_jmp;
static int plot_active;
static char plot_msg[512];

int fl_plot_device_available(const char *name)
{
  const char *menu[128], *devs[128];
  const char **pm = menu, **pd = devs;
  int n = 128, found = 0;
  pthread_mutex_lock(&plot_lock);
  plgDevs(&pm, &pd, &n);
  for (int i = 0; i < n && i < 128; i++)
    if (pd[i] && !strcmp(pd[i], name)) found = 1;
  pthread_mutex_unlock(&plot_lock);
  return found;
}

/* plexit() calls this before it would exit the process: jump back into the render. */
static int plot_exit_handler(PLCHAR_VECTOR msg)
{
  snprintf(plot_msg, sizeof plot_msg, "%s", msg && *msg ? msg : "PLplot error");
  if (plot_active) longjmp(plot_jmp, 1);
  return 1;
}

/* ------------------------------------------------------------ rendering */

typedef struct view {
  double wx0, wx1, wy0, wy1;   /* window (log10 for log axes) */
  double px_per_wx, px_per_wy; /* page pixels per window unit */
} view;

/* Labels of a log axis whose window is [lo, hi] in log10 units: every
   k-th decade (at most about 7 labels); where fewer than two decades fall
   inside, the values 1, 2 and 5 times a power of ten instead. */
static void log_labels(int yaxis, double lo, double hi) {
  char buf[64];
  const double eps = 1e-9 * (hi - lo);
  int d0 = (int)ceil(lo - eps), d1 = (int)floor(hi + eps);
  if (d1 - d0 >= 1) {
    int k = d1 - d0 <= 7 ? 1 : (int)ceil((d1 - d0) / 7.0);
    for (int d = d0; d <= d1; d++) {
      if (((d % k) + k) % k) continue;
      if (d == 0) snprintf(buf, sizeof buf, "1");
      else if (d == 1) snprintf(buf, sizeof buf, "10");
      else snprintf(buf, sizeof buf, "10#u%d#d", d);
      double pos = (d - lo) / (hi - lo);
      if (yaxis) plmtex("lv", 0.7, pos, 1.0, buf);
      else plmtex("b", 1.6, pos, 0.5, buf);
    }
    return;
  }
  static const double mant[9] = {1, 2, 5, 3, 4, 6, 7, 8, 9};
  int nm = 3, count = 0;
  for (int d = (int)floor(lo); d <= (int)ceil(hi); d++)
    for (int m = 0; m < 3; m++) count += log10(mant[m]) + d >= lo - eps && log10(mant[m]) + d <= hi + eps;
  if (count < 3) nm = 9;
  for (int d = (int)floor(lo); d <= (int)ceil(hi); d++)
    for (int m = 0; m < nm; m++) {
      double v = log10(mant[m]) + d;
      if (v < lo - eps || v > hi + eps) continue;
      snprintf(buf, sizeof buf, "%g", mant[m] * pow(10, d));
      double pos = (v - lo) / (hi - lo);
      if (yaxis) plmtex("lv", 0.7, pos, 1.0, buf);
      else plmtex("b", 1.6, pos, 0.5, buf);
    }
}

static double tx(const panel *p, double v) { return p->logx ? (v > 0 ? log10(v) : NAN) : v; }
static double ty(const panel *p, double v) { return p->logy ? (v > 0 ? log10(v) : NAN) : v; }

static void grow(double *lo, double *hi, double v)
{
  if (!isfinite(v)) return;
  if (v < *lo) *lo = v;
  if (v > *hi) *hi = v;
}

/* Default arrow factor: the longest arrow spans 0.9 of the mean spacing of the points. */
static double arrow_factor(const layer *l)
{
  double x0 = DBL_MAX, x1 = -DBL_MAX, y0 = DBL_MAX, y1 = -DBL_MAX, mx = 0;
  for (size_t i = 0; i < l->n; i++) {
    grow(&x0, &x1, l->x[i]);
    grow(&y0, &y1, l->y[i]);
    double m = hypot(l->u[i], l->v[i]);
    if (isfinite(m) && m > mx) mx = m;
  }
  if (mx == 0) return 1;
  double w = x1 > x0 ? x1 - x0 : 0, h = y1 > y0 ? y1 - y0 : 0;
  double area = w > 0 && h > 0 ? w * h : (w > 0 ? w * w : h * h);
  double spacing = area > 0 ? sqrt(area / (double)l->n) : 1;
  if (l->n == 1) spacing = 1;
  return (l->size > 0 ? l->size : 1) * 0.9 * spacing / mx;
}

static void data_limits(const panel *p, double *xl, double *yl)
{
  double x0 = DBL_MAX, x1 = -DBL_MAX, y0 = DBL_MAX, y1 = -DBL_MAX;
  int pad = 0;
  for (int k = 0; k < p->nlayers; k++) {
    const layer *l = &p->layers[k];
    switch (l->kind) {
    case FL_PLOT_IMAGE:
      grow(&x0, &x1, tx(p, l->extent[0])); grow(&x0, &x1, tx(p, l->extent[1]));
      grow(&y0, &y1, ty(p, l->extent[2])); grow(&y0, &y1, ty(p, l->extent[3]));
      break;
    case FL_PLOT_BARS:
      for (size_t i = 0; i <= l->n; i++) grow(&x0, &x1, tx(p, l->x[i]));
      for (size_t i = 0; i < l->n; i++) { grow(&y0, &y1, ty(p, l->y[i])); if (!p->logy) grow(&y0, &y1, 0); }
      pad = 1;
      break;
    case FL_PLOT_ARROWS: {
      double a = arrow_factor(l);
      for (size_t i = 0; i < l->n; i++) {
        grow(&x0, &x1, tx(p, l->x[i])); grow(&y0, &y1, ty(p, l->y[i]));
        grow(&x0, &x1, tx(p, l->x[i] + a * l->u[i])); grow(&y0, &y1, ty(p, l->y[i] + a * l->v[i]));
      }
      pad = 1;
      break;
    }
    default:
      for (size_t i = 0; i < l->n; i++) {
        if (!isfinite(tx(p, l->x[i])) || !isfinite(ty(p, l->y[i]))) continue;
        grow(&x0, &x1, tx(p, l->x[i])); grow(&y0, &y1, ty(p, l->y[i]));
      }
      pad = 1;
    }
  }
  if (x0 > x1) { x0 = 0; x1 = 1; }
  if (y0 > y1) { y0 = 0; y1 = 1; }
  if (x0 == x1) { x0 -= 0.5; x1 += 0.5; }
  if (y0 == y1) { y0 -= 0.5; y1 += 0.5; }
  if (pad) {
    double dx = 0.04 * (x1 - x0), dy = 0.04 * (y1 - y0);
    x0 -= dx; x1 += dx; y0 -= dy; y1 += dy;
  }
  xl[0] = x0; xl[1] = x1; yl[0] = y0; yl[1] = y1;
  if (p->xlim[0] < p->xlim[1]) { xl[0] = tx(p, p->xlim[0]); xl[1] = tx(p, p->xlim[1]); }
  if (p->ylim[0] < p->ylim[1]) { yl[0] = ty(p, p->ylim[0]); yl[1] = ty(p, p->ylim[1]); }
}

static void draw_image(const layer *l, const panel *p, double **rows, size_t nrows)
{
  (void)nrows;
  double zmin = l->zrange[0], zmax = l->zrange[1];
  size_t m = l->nx * l->ny;
  if (!(zmin < zmax)) {
    zmin = DBL_MAX; zmax = -DBL_MAX;
    for (size_t i = 0; i < m; i++) grow(&zmin, &zmax, l->z[i]);
    if (zmin > zmax) { zmin = 0; zmax = 1; }
    if (zmin == zmax) { zmin -= 0.5; zmax += 0.5; }
  }
  for (size_t i = 0; i < l->nx; i++)
    for (size_t j = 0; j < l->ny; j++) {
      double z = l->z[j * l->nx + i];
      rows[i][j] = isfinite(z) ? (z < zmin ? zmin : z > zmax ? zmax : z) : zmin;
    }
  /* plimagefr: plimage quantises the colours to a few levels */
  plimagefr((PLFLT_MATRIX)rows, (PLINT)l->nx, (PLINT)l->ny, tx(p, l->extent[0]), tx(p, l->extent[1]),
            ty(p, l->extent[2]), ty(p, l->extent[3]), zmin, zmax, zmin, zmax, NULL, NULL);
}

static void image_zrange(const layer *l, double *zmin, double *zmax)
{
  *zmin = l->zrange[0]; *zmax = l->zrange[1];
  if (*zmin < *zmax) return;
  *zmin = DBL_MAX; *zmax = -DBL_MAX;
  for (size_t i = 0; i < l->nx * l->ny; i++) grow(zmin, zmax, l->z[i]);
  if (*zmin > *zmax) { *zmin = 0; *zmax = 1; }
  if (*zmin == *zmax) { *zmin -= 0.5; *zmax += 0.5; }
}

static void draw_polyline(const panel *p, const layer *l, double *bx, double *by)
{
  size_t run = 0;
  for (size_t i = 0; i <= l->n; i++) {
    double X = i < l->n ? tx(p, l->x[i]) : NAN, Y = i < l->n ? ty(p, l->y[i]) : NAN;
    if (isfinite(X) && isfinite(Y)) { bx[run] = X; by[run] = Y; run++; continue; }
    if (run >= 2) plline((PLINT)run, bx, by);
    else if (run == 1) plpoin(1, bx, by, 17);
    run = 0;
  }
}

static void draw_arrows(const panel *p, const layer *l, const view *v)
{
  double a = arrow_factor(l);
  for (size_t i = 0; i < l->n; i++) {
    double x0 = l->x[i], y0 = l->y[i], x1 = x0 + a * l->u[i], y1 = y0 + a * l->v[i];
    double X0 = tx(p, x0), Y0 = ty(p, y0), X1 = tx(p, x1), Y1 = ty(p, y1);
    if (!(isfinite(X0) && isfinite(Y0) && isfinite(X1) && isfinite(Y1))) continue;
    /* in page pixels */
    double dx = (X1 - X0) * v->px_per_wx, dy = (Y1 - Y0) * v->px_per_wy;
    double len = hypot(dx, dy);
    if (len < 0.5) continue;
    double hl = len * 0.3 < 9 ? len * 0.3 : 9, hw = hl * 0.45;
    double ux = dx / len, uy = dy / len;
    double bx = X1 - ux * hl / v->px_per_wx, by = Y1 - uy * hl / v->px_per_wy;
    double sx[2] = {X0, bx}, sy[2] = {Y0, by};
    plline(2, sx, sy);
    double hx[3] = {X1, bx - uy * hw / v->px_per_wx, bx + uy * hw / v->px_per_wx};
    double hy[3] = {Y1, by + ux * hw / v->px_per_wy, by - ux * hw / v->px_per_wy};
    plfill(3, hx, hy);
  }
}

static void draw_bars(const panel *p, const layer *l, int fill_col)
{
  double base = p->logy ? -DBL_MAX : 0;
  for (size_t i = 0; i < l->n; i++) {
    double x0 = tx(p, l->x[i]), x1 = tx(p, l->x[i + 1]), h = ty(p, l->y[i]);
    if (!(isfinite(x0) && isfinite(x1) && isfinite(h))) continue;
    double b = p->logy ? floor(h) - 10 : base;
    double rx[4] = {x0, x1, x1, x0}, ry[4] = {b, b, h, h};
    plcol0(fill_col);
    plfill(4, rx, ry);
    plcol0(COL_WHITE);
    plwidth(0.8);
    double ox[5] = {x0, x0, x1, x1, x1}, oy[5] = {b, h, h, b, b};
    plline(4, ox, oy);
  }
}

/* Text is literal: PLplot's escape character '#' is doubled (the escaped
 * copy is cut at 511 bytes). */
static const char *lit(const char *s, char *buf)
{
  size_t j = 0;
  for (; s && *s && j + 2 < 512; s++) {
    if (*s == '#') buf[j++] = '#';
    buf[j++] = *s;
  }
  buf[j] = 0;
  return buf;
}

static void draw_legend(const panel *p, const double *xl, const double *yl, double vpw_mm, double vph_mm, double ch_mm)
{
  int n = 0;
  size_t maxlen = 0;
  for (int k = 0; k < p->nlayers; k++)
    if (p->layers[k].label && p->layers[k].kind != FL_PLOT_IMAGE) {
      n++;
      size_t len = strlen(p->layers[k].label);
      if (len > maxlen) maxlen = len;
    }
  if (n == 0) return;
  plwind(0, 1, 0, 1);
  double lh = 1.7 * ch_mm / vph_mm;              /* line height */
  double cw = 0.75 * ch_mm / vpw_mm;             /* char width (approx.) */
  double sw = 2.5 * ch_mm / vpw_mm;              /* sample width */
  double w = sw + cw * (double)(maxlen + 2), h = lh * n + 0.6 * lh;
  /* the corner whose box covers the fewest data points (lines: their vertices) */
  const double wx0 = xl[0], wx1 = xl[1], wy0 = yl[0], wy1 = yl[1];
  size_t best = (size_t)-1;
  double x1 = 0.985, y1 = 0.985;
  for (int c = 0; c < 4; c++) {
    double cx1 = c & 1 ? 0.015 + w : 0.985, cy1 = c & 2 ? 0.015 + h : 0.985;
    size_t hits = 0;
    for (int k = 0; k < p->nlayers; k++) {
      const layer *l = &p->layers[k];
      if (l->kind == FL_PLOT_IMAGE) continue;
      size_t step = l->n > 20000 ? l->n / 20000 : 1;
      for (size_t i = 0; i < l->n; i += step) {
        double u = (tx(p, l->x[i]) - wx0) / (wx1 - wx0), v = (ty(p, l->y[i]) - wy0) / (wy1 - wy0);
        if (l->kind == FL_PLOT_BARS) v = (ty(p, l->y[i]) - wy0) / (wy1 - wy0) > cy1 - h ? cy1 : -1;
        if (u >= cx1 - w && u <= cx1 && v >= cy1 - h && v <= cy1) hits++;
      }
      if (l->kind == FL_PLOT_LINE)
        for (size_t i = 0; i + 1 < l->n; i++) /* midpoints too */
          for (int q = 1; q < 4; q++) {
            double a = tx(p, l->x[i]) + (tx(p, l->x[i + 1]) - tx(p, l->x[i])) * q / 4.0;
            double b = ty(p, l->y[i]) + (ty(p, l->y[i + 1]) - ty(p, l->y[i])) * q / 4.0;
            double u = (a - wx0) / (wx1 - wx0), v = (b - wy0) / (wy1 - wy0);
            if (u >= cx1 - w && u <= cx1 && v >= cy1 - h && v <= cy1) hits++;
          }
    }
    if (hits < best) { best = hits; x1 = cx1; y1 = cy1; }
  }
  double x0 = x1 - w, y0 = y1 - h;
  if (x0 < 0.01) x0 = 0.01;
  double bx[4] = {x0, x1, x1, x0}, by[4] = {y0, y0, y1, y1};
  plcol0(COL_WHITE);
  plfill(4, bx, by);
  plcol0(COL_GRID);
  plwidth(1);
  double ox[5] = {x0, x1, x1, x0, x0}, oy[5] = {y0, y0, y1, y1, y0};
  plline(5, ox, oy);
  int i = 0;
  for (int k = 0; k < p->nlayers; k++) {
    const layer *l = &p->layers[k];
    if (!l->label || l->kind == FL_PLOT_IMAGE) continue;
    double yc = y1 - 0.8 * lh - lh * i;
    double sx0 = x0 + 0.4 * cw, sx1 = x0 + sw - 0.2 * cw;
    plcol0(COL_CYCLE0 + l->color);
    if (l->kind == FL_PLOT_LINE || l->kind == FL_PLOT_ARROWS) {
      plwidth(l->kind == FL_PLOT_LINE ? (l->size > 0 ? l->size : 2) : 1.5);
      double lx[2] = {sx0, sx1}, ly[2] = {yc, yc};
      plline(2, lx, ly);
    } else if (l->kind == FL_PLOT_BARS) {
      double q = 0.35 * lh;
      double rx[4] = {sx0, sx1, sx1, sx0}, ry[4] = {yc - q, yc - q, yc + q, yc + q};
      plfill(4, rx, ry);
    } else {
      double px = 0.5 * (sx0 + sx1), py = yc;
      plssym(0, 1.0);
      plpoin(1, &px, &py, 17);
    }
    plcol0(COL_BLACK);
    char tb[512];
    plptex(x0 + sw + 0.3 * cw, yc, 1, 0, 0, lit(l->label, tb));
    i++;
  }
}

static fl_status render(const fl_plot_figure *f, const char *dev, const char *path)
{
  PLINT errcode = 0;
  char errmsg[1024] = "";
  volatile PLINT old = 0, strm = -1;
  double **volatile rows = NULL;
  volatile size_t nrows = 0;
  double *volatile buf = NULL;
  plot_msg[0] = 0;
  if (setjmp(plot_jmp)) {
    plot_active = 0;
    if (strm >= 0) { plsstrm(strm); plend1(); plsstrm(old); }
    if (rows) { for (size_t i = 0; i < nrows; i++) free(rows[i]); free(rows); }
    free(buf);
    return fl_fail(FL_EIO, "PLplot: %s (writing %s)", plot_msg, path);
  }
  PLINT o, s;
  plgstrm(&o);
  old = o;
  plsexit(plot_exit_handler);
  plot_active = 1;
  plmkstrm(&s);
  strm = s;
  plsError(&errcode, errmsg);
  plsdev(dev);
  plsfnam(path);
  plspage(0, 0, f->width, f->height, 0, 0);
  plsori(0);
  plscolbg(255, 255, 255);
  plscol0(COL_BLACK, 0, 0, 0);
  plscol0(COL_GRID, 150, 150, 150);
  for (int c = 0; c < NCYCLE; c++) plscol0(COL_CYCLE0 + c, cycle[c][0], cycle[c][1], cycle[c][2]);
  plinit();
  if (errcode) goto fail;
  plscmap1n(256);
  {
    PLINT r[256], g[256], b[256];
    for (int i = 0; i < 256; i++) {
      r[i] = (PLINT)lround(255 * viridis_data[i][0]);
      g[i] = (PLINT)lround(255 * viridis_data[i][1]);
      b[i] = (PLINT)lround(255 * viridis_data[i][2]);
    }
    plscmap1(r, g, b, 256);
  }
  pladv(0);
  plfontld(1);
  /* font: about 1/45 of the shorter side of a panel, between 3 and 5 mm */
  double pxmin, pxmax, pymin, pymax;
  plgspa(&pxmin, &pxmax, &pymin, &pymax); /* page in mm */
  double pw = pxmax - pxmin, ph = pymax - pymin;
  double cellw = pw / f->cols, cellh = ph / f->rows;
  double ch = (cellw < cellh ? cellw : cellh) / 38.0;
  if (ch > 3.6) ch = 3.6;
  if (ch < 2.2) ch = 2.2;
  plschr(ch, 1.0);
  double ppm = f->width / pw; /* pixels per mm */
  size_t maxbuf = 0;
  for (int k = 0; k < f->rows * f->cols; k++)
    for (int i = 0; i < f->panels[k].nlayers; i++) {
      const layer *l = &f->panels[k].layers[i];
      if (l->kind == FL_PLOT_LINE && l->n + 1 > maxbuf) maxbuf = l->n + 1;
      if (l->kind == FL_PLOT_IMAGE && l->nx > nrows) nrows = l->nx;
    }
  if (maxbuf) {
    buf = malloc(2 * maxbuf * sizeof(double));
    if (!buf) goto nomem;
  }
  {
    size_t maxny = 1;
    for (int k = 0; k < f->rows * f->cols; k++)
      for (int i = 0; i < f->panels[k].nlayers; i++)
        if (f->panels[k].layers[i].kind == FL_PLOT_IMAGE && f->panels[k].layers[i].ny > maxny)
          maxny = f->panels[k].layers[i].ny;
    if (maxny < 256) maxny = 256;
    if (nrows < 2) nrows = 2;
    rows = calloc(nrows, sizeof *rows);
    if (!rows) goto nomem;
    for (size_t i = 0; i < nrows; i++) {
      rows[i] = malloc(maxny * sizeof(double));
      if (!rows[i]) goto nomem;
    }
  }
  for (int k = 0; k < f->rows * f->cols; k++) {
    const panel *p = &f->panels[k];
    int r = k / f->cols, c = k % f->cols;
    /* a cell left empty in a grid of panels stays blank (no empty axes) */
    if (p->nlayers == 0 && !p->title && f->rows * f->cols > 1) continue;
    const layer *img = NULL;
    for (int i = 0; i < p->nlayers; i++) if (p->layers[i].kind == FL_PLOT_IMAGE) img = &p->layers[i];
    /* viewport in mm inside the cell, margins in character heights */
    double cx0 = c * cellw, cy1 = ph - r * cellh;
    double ml = (p->logy ? 7.2 : 6.2) * ch, mr = (img ? 9.5 : 1.8) * ch, mb = 4.6 * ch, mt = (p->title ? 3.0 : 1.5) * ch;
    double vx0 = cx0 + ml, vx1 = cx0 + cellw - mr, vy0 = cy1 - cellh + mb, vy1 = cy1 - mt;
    if (vx1 - vx0 < 5 || vy1 - vy0 < 5) {
      snprintf(plot_msg, sizeof plot_msg, "panel %d is too small to draw (%dx%d pixels for %dx%d panels)", k + 1,
               f->width, f->height, f->rows, f->cols);
      goto small;
    }
    double xl[2], yl[2];
    data_limits(p, xl, yl);
    if (p->equal && !p->logx && !p->logy) {
      /* shrink the viewport so that one unit is as long on both axes */
      double sx = (vx1 - vx0) / (xl[1] - xl[0]), sy = (vy1 - vy0) / (yl[1] - yl[0]);
      if (sx > sy) { double w = sy * (xl[1] - xl[0]), m = 0.5 * (vx0 + vx1); vx0 = m - w / 2; vx1 = m + w / 2; }
      else { double h = sx * (yl[1] - yl[0]), m = 0.5 * (vy0 + vy1); vy0 = m - h / 2; vy1 = m + h / 2; }
    }
    plsvpa(vx0, vx1, vy0, vy1);
    plwind(xl[0], xl[1], yl[0], yl[1]);
    view v = {xl[0], xl[1], yl[0], yl[1], (vx1 - vx0) * ppm / (xl[1] - xl[0]), (vy1 - vy0) * ppm / (yl[1] - yl[0])};
    for (int i = 0; i < p->nlayers; i++) {
      const layer *l = &p->layers[i];
      plcol0(COL_CYCLE0 + l->color);
      switch (l->kind) {
      case FL_PLOT_IMAGE: draw_image(l, p, rows, nrows); break;
      case FL_PLOT_POINTS: {
        /* the filled-circle glyph scales with the character height */
        plssym(0, l->size > 0 ? l->size : 1.0);
        plschr(0, l->size > 0 ? l->size : 1.0);
        for (size_t j = 0; j < l->n; j += 4096) {
          size_t m = l->n - j < 4096 ? l->n - j : 4096;
          if (p->logx || p->logy) {
            double px[64], py[64];
            for (size_t q = 0; q < m; q++) {
              px[q % 64] = tx(p, l->x[j + q]); py[q % 64] = ty(p, l->y[j + q]);
              if (q % 64 == 63 || q == m - 1) plpoin((PLINT)(q % 64 + 1), px, py, 17);
            }
          } else {
            plpoin((PLINT)m, l->x + j, l->y + j, 17);
          }
        }
        break;
      }
      case FL_PLOT_LINE: plwidth(l->size > 0 ? l->size : 2); draw_polyline(p, l, buf, buf + maxbuf); plwidth(1); break;
      case FL_PLOT_ARROWS: plwidth(1.2); draw_arrows(p, l, &v); plwidth(1); break;
      case FL_PLOT_BARS: draw_bars(p, l, COL_CYCLE0 + l->color); plwidth(1); break;
      }
      plschr(0, 1.0);
    }
    plcol0(COL_BLACK);
    plwidth(1);
    char xo[16] = "bcnst", yo[16] = "bcnstv";
    if (p->logx) strcat(xo, "l");
    if (p->logy) strcat(yo, "l");
    /* PLplot labels a log axis at every decade and nowhere else: too many
       labels over many decades, none inside one decade. Label log axes
       here instead (log_labels), PLplot draws their ticks. */
    if (p->logx) memmove(xo + 2, xo + 3, strlen(xo + 2));
    if (p->logy) memmove(yo + 2, yo + 3, strlen(yo + 2));
    plbox(xo, 0, 0, yo, 0, 0);
    if (p->logx) log_labels(0, xl[0], xl[1]);
    if (p->logy) log_labels(1, yl[0], yl[1]);
    char tb[512];
    plmtex("b", 3.0, 0.5, 0.5, lit(p->xlabel, tb));
    plmtex("l", p->logy ? 6.0 : 4.6, 0.5, 0.5, lit(p->ylabel, tb));
    if (p->title) { plschr(0, 1.15); plmtex("t", 1.0, 0.5, 0.5, lit(p->title, tb)); plschr(0, 1.0); }
    draw_legend(p, xl, yl, vx1 - vx0, vy1 - vy0, ch);
    if (img) {
      double zmin, zmax;
      image_zrange(img, &zmin, &zmax);
      double bx0 = vx1 + 1.2 * ch, bx1 = bx0 + 1.4 * ch;
      plsvpa(bx0, bx1, vy0, vy1);
      plwind(0, 1, zmin, zmax);
      for (int j = 0; j < 256; j++) rows[0][j] = rows[1][j] = zmin + (zmax - zmin) * j / 255.0;
      plimagefr((PLFLT_MATRIX)rows, 2, 256, 0, 1, zmin, zmax, zmin, zmax, zmin, zmax, NULL, NULL);
      plcol0(COL_BLACK);
      plbox("bc", 0, 0, "bcmstv", 0, 0);
      if (img->label) plmtex("r", 5.2, 0.5, 0.5, lit(img->label, tb));
    }
    if (errcode) goto fail;
  }
  plend1();
  plsstrm(old);
  plot_active = 0;
  for (size_t i = 0; i < nrows; i++) free(rows[i]);
  free(rows);
  free(buf);
  if (errcode) return fl_fail(FL_EIO, "PLplot: %s (writing %s)", errmsg, path);
  return FL_OK;
fail:
  snprintf(plot_msg, sizeof plot_msg, "%.400s", errmsg);
small:
  plot_active = 1;
  longjmp(plot_jmp, 2);
nomem:
  snprintf(plot_msg, sizeof plot_msg, "out of memory");
  plot_active = 1;
  longjmp(plot_jmp, 3);
}

fl_status fl_plot_save(const fl_plot_figure *f, const char *path)
{
  const char *dev;
  fl_status st = fl_plot_device_for(path, &dev);
  if (st) return st;
  if (!fl_plot_device_available(dev))
    return fl_fail(FL_EIO, "PLplot has no '%s' device here (install plplot-driver-cairo)", dev);
  /* PLplot reports an unwritable file by exiting: check first */
  FILE *fp = fopen(path, "wb");
  if (!fp) return fl_fail(FL_EIO, "cannot write '%s'", path);
  fclose(fp);
  pthread_mutex_lock(&plot_lock);
  st = render(f, dev, path);
  pthread_mutex_unlock(&plot_lock);
  if (st) remove(path);
  return st;
}
