/* fl_plot: figures (a grid of panels, each a stack of layers) rendered to
 * PNG, SVG or PDF through PLplot's cairo devices (pngcairo, svgcairo,
 * pdfcairo), chosen by the file extension.
 *
 * PLplot's hazards are contained here: the device is checked with plgDevs
 * before use (an unknown device makes PLplot prompt on stdin and exit), an
 * exit handler (plsexit) jumps back so that a PLplot error returns a status,
 * warnings are captured (plsError) instead of printed, every render uses a
 * fresh stream that is ended before returning, and renders are serialised
 * (PLplot is not re-entrant). Nothing is printed on stdout.
 *
 * The figure copies all data given to it. Indices are 0-based.
 * Part of libfieldlab: pure C11, no Lua, no printing, no exit. */
#ifndef FL_PLOT_H
#define FL_PLOT_H

#include <stddef.h>
#include "fl_core.h"

typedef enum fl_plot_kind {
  FL_PLOT_POINTS, /* markers at (x_i, y_i) */
  FL_PLOT_LINE,   /* a polyline through (x_i, y_i); non-finite values break it */
  FL_PLOT_ARROWS, /* arrows from (x_i, y_i) along (u_i, v_i) */
  FL_PLOT_IMAGE,  /* a cell image of z over extent, coloured by the colormap, with a colorbar */
  FL_PLOT_BARS    /* bars between edges x[i], x[i+1] of height y[i] (histograms) */
} fl_plot_kind;

typedef struct fl_plot_layer_spec {
  fl_plot_kind kind;
  size_t n;              /* points, vertices, arrows or bars */
  const double *x, *y;   /* n each (BARS: x has n+1 edges, y n heights) */
  const double *u, *v;   /* ARROWS: the n vectors */
  const double *z;       /* IMAGE: z[j*nx + i] is the cell i along x, j along y */
  size_t nx, ny;
  double extent[4];      /* IMAGE: xmin, xmax, ymin, ymax of the cell edges */
  double zrange[2];      /* IMAGE: colour range; zrange[0] >= zrange[1]: the data's */
  const char *label;     /* legend entry (LINE, POINTS, ARROWS, BARS) or colorbar label (IMAGE); may be NULL */
  int color;             /* index into the colour cycle (0..9), or -1: the next one of the panel */
  double size;           /* POINTS: marker scale (0: 1); LINE: width (0: 2); ARROWS: length
                          * factor (0: the longest arrow is 0.9 of the mean point spacing) */
} fl_plot_layer_spec;

typedef struct fl_plot_panel_spec {
  const char *title, *xlabel, *ylabel; /* may be NULL */
  int logx, logy;        /* log10 axes (non-positive values are left out) */
  double xlim[2], ylim[2]; /* lo < hi: fixed limits; else from the data */
  int equal;             /* same scale on both axes */
} fl_plot_panel_spec;

typedef struct fl_plot_figure fl_plot_figure;

/* A figure of rows x cols panels (1..16 each), width x height pixels (100..8000;
 * PDF and SVG get the same numbers as points, 1/72 inch). */
fl_status fl_plot_figure_new(int rows, int cols, int width, int height, fl_plot_figure **out);
void fl_plot_figure_free(fl_plot_figure *fig);
int fl_plot_figure_npanels(const fl_plot_figure *fig);
/* Title, labels, axes of panel k (row-major: k = row*cols + col). */
fl_status fl_plot_panel_set(fl_plot_figure *fig, int k, const fl_plot_panel_spec *spec);
/* Add a layer to panel k (data copied). */
fl_status fl_plot_add(fl_plot_figure *fig, int k, const fl_plot_layer_spec *spec);
/* Render to path; the device comes from the extension (.png, .svg, .pdf). */
fl_status fl_plot_save(const fl_plot_figure *fig, const char *path);

/* The PLplot device for a file name: "pngcairo", "svgcairo" or "pdfcairo";
 * FL_EINVAL naming the allowed extensions otherwise. */
fl_status fl_plot_device_for(const char *path, const char **device);
/* Whether PLplot knows device name (asked through plgDevs, never plsdev). */
int fl_plot_device_available(const char *name);

/* The viridis colormap (matplotlib's 256 entries, linearly interpolated) at
 * t in [0, 1] (clamped): rgb in [0, 1]. */
void fl_plot_viridis(double t, double rgb[3]);

/* Histograms: counts[nbins] of the finite x in [lo, hi] (x == hi in the last
 * bin; others are left out); *used gets how many were counted (may be NULL). */
fl_status fl_plot_histogram(size_t n, const double *x, size_t nbins, double lo, double hi, double *counts,
                            size_t *used);
/* 2-D: xy[n*2] points, counts[ny*nx] (row j = y bin) over range {xlo, xhi, ylo, yhi}. */
fl_status fl_plot_histogram2d(size_t n, const double *xy, size_t nx, size_t ny, const double range[4],
                              double *counts, size_t *used);

#endif
