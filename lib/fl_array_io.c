/* fl_array_io: .npy and CSV reading and writing for fl_array.
 *
 * .npy (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
 * magic "\x93NUMPY", major, minor, header length (2 bytes little-endian for
 * version 1.x, 4 bytes for 2.x and 3.x), then an ASCII (3.x: UTF-8) Python dict
 * literal with the keys 'descr', 'fortran_order' and 'shape', padded with
 * spaces and ended by '\n', then the raw data in C order.
 *
 * Part of libfieldlab: pure C11, no Lua, no printing, no exit. */
#include "config.h"
#include "fl_array.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ helpers */

static int host_is_little(void)
{
  const uint16_t one = 1;
  unsigned char b;
  memcpy(&b, &one, 1);
  return b == 1;
}

static void swap_bytes(unsigned char *p, size_t itemsize)
{
  for (size_t i = 0, j = itemsize - 1; i < j; i++, j--) {
    unsigned char t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
}

/* Size of an open file, -1 when it cannot be told (a pipe). Leaves the
 * position at the start. */
static long file_size(FILE *f)
{
  if (fseek(f, 0, SEEK_END) != 0) {
    clearerr(f);
    return -1;
  }
  long n = ftell(f);
  if (fseek(f, 0, SEEK_SET) != 0) return -1;
  return n;
}

/* ------------------------------------------------------------ .npy header */

static const unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

/* Longest header accepted. numpy itself refuses headers over 10000 bytes
 * unless told otherwise; ours are never more than a few hundred. */
#define NPY_MAX_HEADER (1u << 20)

enum npy_kind { NPY_FLOAT, NPY_INT, NPY_UINT, NPY_BOOL };

typedef struct npy_header {
  char descr[32];
  int have_descr, have_fortran, have_shape;
  int fortran_order;
  int ndim;
  size_t shape[FL_MAXDIM];
  enum npy_kind kind;
  size_t itemsize;
  int swap;           /* file byte order differs from the host's */
} npy_header;

typedef struct hparser {
  const char *s, *end, *path;
} hparser;

static void hp_ws(hparser *p)
{
  while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r'))
    p->s++;
}

static int hp_peek(hparser *p)
{
  hp_ws(p);
  return p->s < p->end ? (unsigned char)*p->s : -1;
}

static fl_status hp_bad(hparser *p, const char *what)
{
  return fl_fail(FL_EFORMAT, "%s: malformed .npy header: %s", p->path, what);
}

/* A Python string literal in single or double quotes (no escapes needed for
 * the keys and dtypes we read). */
static fl_status hp_string(hparser *p, char *buf, size_t len)
{
  int q = hp_peek(p);
  if (q != '\'' && q != '"') return hp_bad(p, "expected a quoted string");
  p->s++;
  size_t n = 0;
  while (p->s < p->end && *p->s != q) {
    if (n + 1 >= len) return hp_bad(p, "string too long");
    buf[n++] = *p->s++;
  }
  if (p->s >= p->end) return hp_bad(p, "unterminated string");
  p->s++;
  buf[n] = '\0';
  return FL_OK;
}

static fl_status hp_shape(hparser *p, npy_header *h)
{
  if (hp_peek(p) != '(') return hp_bad(p, "'shape' is not a tuple");
  p->s++;
  int nd = 0;
  for (;;) {
    int c = hp_peek(p);
    if (c == ')') {
      p->s++;
      break;
    }
    if (c < '0' || c > '9') return hp_bad(p, "'shape' holds something other than non-negative integers");
    size_t v = 0;
    while (p->s < p->end && *p->s >= '0' && *p->s <= '9') {
      unsigned d = (unsigned)(*p->s - '0');
      if (v > (SIZE_MAX - d) / 10)
        return fl_fail(FL_EFORMAT, "%s: shape extent too large", p->path);
      v = v * 10 + d;
      p->s++;
    }
    if (p->s < p->end && (*p->s == 'L' || *p->s == 'l')) p->s++; /* Python 2 longs */
    if (nd >= FL_MAXDIM)
      return fl_fail(FL_EFORMAT, "%s: more than %d dimensions (fieldlab arrays have at most %d)",
                     p->path, FL_MAXDIM, FL_MAXDIM);
    h->shape[nd++] = v;
    c = hp_peek(p);
    if (c == ',') {
      p->s++;
    } else if (c != ')') {
      return hp_bad(p, "expected ',' or ')' in 'shape'");
    }
  }
  h->ndim = nd;
  h->have_shape = 1;
  return FL_OK;
}

static fl_status hp_dict(hparser *p, npy_header *h)
{
  if (hp_peek(p) != '{') return hp_bad(p, "does not start with '{'");
  p->s++;
  for (;;) {
    int c = hp_peek(p);
    if (c == '}') {
      p->s++;
      break;
    }
    if (c < 0) return hp_bad(p, "missing '}'");
    char key[32];
    fl_status st = hp_string(p, key, sizeof key);
    if (st) return st;
    if (hp_peek(p) != ':') return hp_bad(p, "expected ':' after a key");
    p->s++;
    if (strcmp(key, "descr") == 0) {
      if (hp_peek(p) == '[')
        return fl_fail(FL_EFORMAT, "%s: unsupported dtype (a structured dtype)", p->path);
      st = hp_string(p, h->descr, sizeof h->descr);
      if (st) return st;
      h->have_descr = 1;
    } else if (strcmp(key, "fortran_order") == 0) {
      hp_ws(p);
      size_t left = (size_t)(p->end - p->s);
      if (left >= 4 && memcmp(p->s, "True", 4) == 0) {
        h->fortran_order = 1;
        p->s += 4;
      } else if (left >= 5 && memcmp(p->s, "False", 5) == 0) {
        h->fortran_order = 0;
        p->s += 5;
      } else {
        return hp_bad(p, "'fortran_order' is neither True nor False");
      }
      h->have_fortran = 1;
    } else if (strcmp(key, "shape") == 0) {
      st = hp_shape(p, h);
      if (st) return st;
    } else {
      return fl_fail(FL_EFORMAT, "%s: malformed .npy header: unexpected key '%s'", p->path, key);
    }
    c = hp_peek(p);
    if (c == ',') {
      p->s++;
    } else if (c != '}') {
      return hp_bad(p, "expected ',' or '}' after a value");
    }
  }
  if (!h->have_descr) return hp_bad(p, "no 'descr' key");
  if (!h->have_fortran) return hp_bad(p, "no 'fortran_order' key");
  if (!h->have_shape) return hp_bad(p, "no 'shape' key");
  return FL_OK;
}

/* '<f8' and friends: byte order, kind, item size. */
static fl_status npy_dtype(const char *path, npy_header *h)
{
  const char *d = h->descr;
  char order = d[0];
  if (order != '<' && order != '>' && order != '|' && order != '=')
    return fl_fail(FL_EFORMAT, "%s: unsupported dtype '%s'", path, d);
  char kind = d[1];
  const char *num = d + 2;
  size_t size = 0;
  if (strcmp(num, "1") == 0) size = 1;
  else if (strcmp(num, "2") == 0) size = 2;
  else if (strcmp(num, "4") == 0) size = 4;
  else if (strcmp(num, "8") == 0) size = 8;
  int ok = 0;
  switch (kind) {
  case 'f': ok = size == 4 || size == 8; h->kind = NPY_FLOAT; break;
  case 'i': ok = size != 0; h->kind = NPY_INT; break;
  case 'u': ok = size != 0; h->kind = NPY_UINT; break;
  case 'b': ok = size == 1; h->kind = NPY_BOOL; break;
  default: break;
  }
  if (!ok)
    return fl_fail(FL_EFORMAT, "%s: unsupported dtype '%s' (fieldlab reads float64/32, "
                   "int64/32/16/8, uint64/32/16/8 and bool)", path, d);
  h->itemsize = size;
  int file_little = order == '<' || order == '|' || (order == '=' && host_is_little());
  h->swap = size > 1 && file_little != host_is_little();
  return FL_OK;
}

/* Convert n items of the file's type at src to doubles at dst. src is modified
 * (byte-swapped in place) when the byte order differs. */
static void npy_convert(const npy_header *h, unsigned char *src, size_t n, double *dst)
{
  size_t w = h->itemsize;
  if (h->swap)
    for (size_t i = 0; i < n; i++) swap_bytes(src + i * w, w);
  for (size_t i = 0; i < n; i++) {
    const unsigned char *p = src + i * w;
    double v = 0;
    switch (h->kind) {
    case NPY_FLOAT:
      if (w == 8) { double x; memcpy(&x, p, 8); v = x; }
      else { float x; memcpy(&x, p, 4); v = x; }
      break;
    case NPY_INT:
      switch (w) {
      case 1: { int8_t x; memcpy(&x, p, 1); v = x; } break;
      case 2: { int16_t x; memcpy(&x, p, 2); v = x; } break;
      case 4: { int32_t x; memcpy(&x, p, 4); v = x; } break;
      default: { int64_t x; memcpy(&x, p, 8); v = (double)x; } break;
      }
      break;
    case NPY_UINT:
      switch (w) {
      case 1: { uint8_t x; memcpy(&x, p, 1); v = x; } break;
      case 2: { uint16_t x; memcpy(&x, p, 2); v = x; } break;
      case 4: { uint32_t x; memcpy(&x, p, 4); v = x; } break;
      default: { uint64_t x; memcpy(&x, p, 8); v = (double)x; } break;
      }
      break;
    case NPY_BOOL:
      v = p[0] != 0;
      break;
    }
    dst[i] = v;
  }
}

static fl_status read_fail(FILE *f, const char *path, const char *what)
{
  if (ferror(f)) return fl_fail(FL_EIO, "%s: cannot read: %s", path, strerror(errno));
  return fl_fail(FL_EFORMAT, "%s: truncated: %s", path, what);
}

/* ------------------------------------------------------------ .npy load */

fl_status fl_array_load_npy(const char *path, fl_array **out)
{
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) return fl_fail(FL_EIO, "%s: cannot open: %s", path, strerror(errno));

  fl_status st = FL_OK;
  char *htext = NULL;
  unsigned char *chunk = NULL;
  fl_array *a = NULL;
  long fsize = file_size(f);

  unsigned char pre[12];
  if (fread(pre, 1, 8, f) != 8) {
    st = ferror(f) ? fl_fail(FL_EIO, "%s: cannot read: %s", path, strerror(errno))
                   : fl_fail(FL_EFORMAT, "%s: not a .npy file (too short)", path);
    goto done;
  }
  if (memcmp(pre, npy_magic, 6) != 0) {
    st = fl_fail(FL_EFORMAT, "%s: not a .npy file (bad magic)", path);
    goto done;
  }
  int major = pre[6], minor = pre[7];
  size_t lenbytes;
  if (major == 1) lenbytes = 2;
  else if (major == 2 || major == 3) lenbytes = 4;
  else {
    st = fl_fail(FL_EFORMAT, "%s: unsupported .npy version %d.%d (fieldlab reads 1.0 to 3.0)",
                 path, major, minor);
    goto done;
  }
  if (fread(pre + 8, 1, lenbytes, f) != lenbytes) {
    st = read_fail(f, path, "the file ends inside the .npy preamble");
    goto done;
  }
  size_t hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
  if (lenbytes == 4) hlen |= (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
  size_t data_off = 8 + lenbytes + hlen;
  if (hlen > NPY_MAX_HEADER) {
    st = fl_fail(FL_EFORMAT, "%s: malformed .npy header: header length %zu is absurd", path, hlen);
    goto done;
  }
  if (fsize >= 0 && (size_t)fsize < data_off) {
    st = fl_fail(FL_EFORMAT, "%s: truncated: header length %zu but the file has only %ld bytes",
                 path, hlen, fsize);
    goto done;
  }
  htext = malloc(hlen + 1);
  if (!htext) {
    st = fl_fail(FL_ENOMEM, "%s: cannot allocate the .npy header", path);
    goto done;
  }
  if (fread(htext, 1, hlen, f) != hlen) {
    st = read_fail(f, path, "the file ends inside the .npy header");
    goto done;
  }
  htext[hlen] = '\0';

  npy_header h;
  memset(&h, 0, sizeof h);
  hparser hp = {htext, htext + hlen, path};
  if ((st = hp_dict(&hp, &h))) goto done;
  if ((st = npy_dtype(path, &h))) goto done;
  /* Fortran order is the same layout as C order when at most one extent exceeds 1. */
  int nontrivial = 0;
  for (int k = 0; k < h.ndim; k++) nontrivial += h.shape[k] > 1;
  if (h.fortran_order && nontrivial > 1) {
    st = fl_fail(FL_EFORMAT, "%s: fortran_order arrays are not supported (save a C-order array, "
                 "e.g. np.ascontiguousarray)", path);
    goto done;
  }

  int ndim = h.ndim;
  size_t shape[FL_MAXDIM];
  if (ndim == 0) { /* a 0-d array loads as shape (1) */
    ndim = 1;
    shape[0] = 1;
  } else {
    memcpy(shape, h.shape, sizeof shape);
  }
  char sbuf[192];
  fl_shape_str(ndim, shape, sbuf, sizeof sbuf);
  size_t count = 1, nbytes;
  for (int k = 0; k < ndim; k++)
    if (fl_mul_overflow(count, shape[k], &count)) {
      st = fl_fail(FL_EFORMAT, "%s: shape %s overflows", path, sbuf);
      goto done;
    }
  if (fl_mul_overflow(count, h.itemsize, &nbytes) || fl_mul_overflow(count, sizeof(double), &(size_t){0})) {
    st = fl_fail(FL_EFORMAT, "%s: shape %s overflows", path, sbuf);
    goto done;
  }
  /* Refuse a header claiming more data than the file holds before allocating it. */
  if (fsize >= 0 && nbytes > (size_t)fsize - data_off) {
    st = fl_fail(FL_EFORMAT, "%s: truncated: header says shape %s = %zu bytes of %s but only %zu bytes follow",
                 path, sbuf, nbytes, h.descr, (size_t)fsize - data_off);
    goto done;
  }

  if ((st = fl_array_new(ndim, shape, &a))) goto done;

  char what[320];
  snprintf(what, sizeof what, "header says shape %s = %zu bytes of %s but fewer bytes follow",
           sbuf, nbytes, h.descr);
  if (h.kind == NPY_FLOAT && h.itemsize == 8 && !h.swap) {
    if (count && fread(a->data, 8, count, f) != count) {
      st = read_fail(f, path, what);
      goto done;
    }
  } else {
    enum { CHUNK = 8192 };
    chunk = malloc(CHUNK * h.itemsize);
    if (!chunk) {
      st = fl_fail(FL_ENOMEM, "%s: cannot allocate a read buffer", path);
      goto done;
    }
    for (size_t i = 0; i < count; i += CHUNK) {
      size_t n = count - i < CHUNK ? count - i : CHUNK;
      if (fread(chunk, h.itemsize, n, f) != n) {
        st = read_fail(f, path, what);
        goto done;
      }
      npy_convert(&h, chunk, n, a->data + i);
    }
  }

done:
  free(chunk);
  free(htext);
  fclose(f);
  if (st) {
    fl_array_release(a);
    return st;
  }
  *out = a;
  return FL_OK;
}

/* ------------------------------------------------------------ .npy save */

/* Spare spaces numpy leaves after the dict so the first extent can grow in
 * place (numpy.lib.format.GROWTH_AXIS_MAX_DIGITS). */
#define NPY_GROWTH_DIGITS 21
#define NPY_ALIGN 64

fl_status fl_array_save_npy(const char *path, const fl_array *a)
{
  /* The header exactly as numpy >= 1.24 writes it:
   * {'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), } + spaces + '\n' */
  char hdr[512];
  size_t n = (size_t)snprintf(hdr, sizeof hdr, "{'descr': '<f8', 'fortran_order': False, 'shape': (");
  for (int k = 0; k < a->ndim; k++)
    n += (size_t)snprintf(hdr + n, sizeof hdr - n, k ? ", %zu" : "%zu", a->shape[k]);
  n += (size_t)snprintf(hdr + n, sizeof hdr - n, a->ndim == 1 ? ",), }" : "), }");
  char first[32];
  int digits = snprintf(first, sizeof first, "%zu", a->shape[0]);
  for (int k = digits; k < NPY_GROWTH_DIGITS; k++) hdr[n++] = ' ';
  /* pad so that magic(6) + version(2) + length(2) + header is a multiple of 64 */
  size_t total = 10 + n + 1;
  size_t padded = (total + NPY_ALIGN - 1) / NPY_ALIGN * NPY_ALIGN;
  while (10 + n + 1 < padded) hdr[n++] = ' ';
  hdr[n++] = '\n';
  /* n <= 10 + 8 * 22 + 21 + 63 + 1 < 512 and < 65536: version 1.0 always fits */

  unsigned char pre[10];
  memcpy(pre, npy_magic, 6);
  pre[6] = 1;
  pre[7] = 0;
  pre[8] = (unsigned char)(n & 0xff);
  pre[9] = (unsigned char)(n >> 8);

  FILE *f = fopen(path, "wb");
  if (!f) return fl_fail(FL_EIO, "%s: cannot open for writing: %s", path, strerror(errno));
  int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(hdr, 1, n, f) == n;
  if (ok && a->size) {
    if (host_is_little()) {
      ok = fwrite(a->data, sizeof(double), a->size, f) == a->size;
    } else {
      for (size_t i = 0; ok && i < a->size; i++) {
        unsigned char b[8];
        memcpy(b, &a->data[i], 8);
        swap_bytes(b, 8);
        ok = fwrite(b, 1, 8, f) == 8;
      }
    }
  }
  int err = ok ? 0 : errno;
  if (fclose(f) != 0 && ok) {
    ok = 0;
    err = errno;
  }
  if (!ok) {
    remove(path);
    return fl_fail(FL_EIO, "%s: cannot write: %s", path, strerror(err));
  }
  return FL_OK;
}

/* ------------------------------------------------------------ CSV */

void fl_csv_names_free(char **names, size_t n)
{
  if (!names) return;
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
}

/* Whole file into a NUL-terminated malloc'd buffer (works for pipes too). */
static fl_status slurp(const char *path, char **buf, size_t *len)
{
  *buf = NULL;
  *len = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return fl_fail(FL_EIO, "%s: cannot open: %s", path, strerror(errno));
  size_t cap = 1 << 16, n = 0;
  char *b = malloc(cap);
  if (!b) {
    fclose(f);
    return fl_fail(FL_ENOMEM, "%s: cannot allocate a read buffer", path);
  }
  for (;;) {
    if (cap - n < 2) {
      if (cap > SIZE_MAX / 2) {
        free(b);
        fclose(f);
        return fl_fail(FL_ENOMEM, "%s: file too large", path);
      }
      char *nb = realloc(b, cap * 2);
      if (!nb) {
        free(b);
        fclose(f);
        return fl_fail(FL_ENOMEM, "%s: cannot allocate %zu bytes to read it", path, cap * 2);
      }
      b = nb;
      cap *= 2;
    }
    size_t got = fread(b + n, 1, cap - n - 1, f);
    n += got;
    if (got == 0) break;
  }
  if (ferror(f)) {
    int e = errno;
    free(b);
    fclose(f);
    return fl_fail(FL_EIO, "%s: cannot read: %s", path, strerror(e));
  }
  fclose(f);
  b[n] = '\0';
  *buf = b;
  *len = n;
  return FL_OK;
}

static int is_space(char c) { return c == ' ' || c == '\t'; }

/* Trim [*s, *e) of spaces and tabs. */
static void trim(const char **s, const char **e)
{
  while (*s < *e && is_space(**s)) (*s)++;
  while (*e > *s && is_space((*e)[-1])) (*e)--;
}

/* Parse [s, e) (already trimmed, inside a NUL-terminated buffer) as one whole
 * number; 0 on success. The character at e, if any, is a comma, a space, a
 * line end or the NUL, none of which strtod can take into a number. */
static int parse_number(const char *s, const char *e, double *v)
{
  if (s == e) return -1;
  char *end;
  *v = strtod(s, &end);
  return end == e ? 0 : -1;
}

/* Does the row [s, e) consist only of numbers? */
static int row_is_numeric(const char *s, const char *e)
{
  for (;;) {
    const char *c = memchr(s, ',', (size_t)(e - s));
    const char *ce = c ? c : e;
    const char *a = s, *b = ce;
    trim(&a, &b);
    double v;
    if (parse_number(a, b, &v)) return 0;
    if (!c) return 1;
    s = c + 1;
  }
}

/* Split a header row into names: cells trimmed, "quoted" cells unquoted ("" is
 * a quote, a comma inside quotes belongs to the name). A leading '#' (numpy's
 * savetxt writes "# x,y") is dropped. */
static fl_status parse_header(const char *path, size_t lineno, const char *s, const char *e,
                              char ***names_out, size_t *n_out)
{
  *names_out = NULL;
  *n_out = 0;
  while (s < e && is_space(*s)) s++;
  if (s < e && *s == '#') s++;
  size_t cap = 8, n = 0;
  char **names = malloc(cap * sizeof *names);
  if (!names) return fl_fail(FL_ENOMEM, "%s: cannot allocate header names", path);
  fl_status st = FL_OK;
  for (;;) {
    while (s < e && is_space(*s)) s++;
    char *name = malloc((size_t)(e - s) + 1);
    if (!name) {
      st = fl_fail(FL_ENOMEM, "%s: cannot allocate header names", path);
      break;
    }
    size_t len = 0;
    if (s < e && *s == '"') {
      s++;
      for (;;) {
        if (s >= e) {
          free(name);
          st = fl_fail(FL_EFORMAT, "%s:%zu: column %zu: unterminated quote in the header", path,
                       lineno, n + 1);
          goto fail;
        }
        if (*s == '"') {
          if (s + 1 < e && s[1] == '"') {
            name[len++] = '"';
            s += 2;
            continue;
          }
          s++;
          break;
        }
        name[len++] = *s++;
      }
      while (s < e && is_space(*s)) s++;
      if (s < e && *s != ',') {
        free(name);
        st = fl_fail(FL_EFORMAT, "%s:%zu: column %zu: text after a closing quote in the header",
                     path, lineno, n + 1);
        goto fail;
      }
    } else {
      const char *c = memchr(s, ',', (size_t)(e - s));
      const char *a = s, *b = c ? c : e;
      trim(&a, &b);
      len = (size_t)(b - a);
      memcpy(name, a, len);
      s = c ? c : e;
    }
    name[len] = '\0';
    if (n == cap) {
      char **nn = realloc(names, 2 * cap * sizeof *names);
      if (!nn) {
        free(name);
        st = fl_fail(FL_ENOMEM, "%s: cannot allocate header names", path);
        goto fail;
      }
      names = nn;
      cap *= 2;
    }
    names[n++] = name;
    if (s >= e) break;
    s++; /* the comma */
  }
  if (st == FL_OK) {
    *names_out = names;
    *n_out = n;
    return FL_OK;
  }
fail:
  fl_csv_names_free(names, n);
  return st;
}

fl_status fl_array_load_csv(const char *path, int header, char ***names, size_t *nnames, fl_array **out)
{
  *out = NULL;
  if (names) *names = NULL;
  if (nnames) *nnames = 0;
  if (header < -1 || header > 1)
    return fl_fail(FL_EINVAL, "header must be -1 (detect), 0 or 1, not %d", header);

  char *buf;
  size_t len;
  fl_status st = slurp(path, &buf, &len);
  if (st) return st;

  char **hnames = NULL;
  size_t nh = 0;
  double *vals = NULL;
  size_t nvals = 0, cap = 0, rows = 0, cols = 0;
  size_t header_line = 0;
  int first = 1;

  const char *p = buf, *end = buf + len;
  if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3; /* UTF-8 byte-order mark */
  for (size_t lineno = 1; p < end; lineno++) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end;
    const char *next = nl ? nl + 1 : end;
    if (le > p && le[-1] == '\r') le--;
    const char *a = p, *b = le;
    trim(&a, &b);
    p = next;
    if (a == b) continue; /* blank line */

    if (first) {
      first = 0;
      int is_header = header == 1 || (header == -1 && !row_is_numeric(a, b));
      if (is_header) {
        if ((st = parse_header(path, lineno, a, b, &hnames, &nh))) goto done;
        header_line = lineno;
        continue;
      }
    }

    size_t col = 0;
    const char *s = a;
    for (;;) {
      const char *c = memchr(s, ',', (size_t)(b - s));
      const char *ca = s, *cb = c ? c : b;
      trim(&ca, &cb);
      col++;
      double v;
      if (parse_number(ca, cb, &v)) {
        int w = (int)(cb - ca);
        st = fl_fail(FL_EFORMAT, "%s:%zu: column %zu: '%.*s%s' is not a number", path, lineno, col,
                     w > 40 ? 40 : w, ca, w > 40 ? "..." : "");
        goto done;
      }
      if (nvals == cap) {
        size_t ncap = cap ? 2 * cap : 256;
        double *nv = ncap > SIZE_MAX / sizeof *vals ? NULL : realloc(vals, ncap * sizeof *vals);
        if (!nv) {
          st = fl_fail(FL_ENOMEM, "%s: cannot allocate memory for the values", path);
          goto done;
        }
        vals = nv;
        cap = ncap;
      }
      vals[nvals++] = v;
      if (!c) break;
      s = c + 1;
    }
    if (rows == 0) {
      cols = col;
      if (header_line && nh != cols) {
        st = fl_fail(FL_EFORMAT, "%s:%zu: %zu columns, but the header (line %zu) has %zu names",
                     path, lineno, cols, header_line, nh);
        goto done;
      }
    } else if (col != cols) {
      st = fl_fail(FL_EFORMAT, "%s:%zu: %zu columns, expected %zu", path, lineno, col, cols);
      goto done;
    }
    rows++;
  }
  if (rows == 0) {
    st = fl_fail(FL_EFORMAT, "%s: no data rows", path);
    goto done;
  }

  fl_array *arr;
  size_t shape[2] = {rows, cols};
  if ((st = fl_array_from_data(2, shape, vals, &arr))) goto done;
  *out = arr;
  if (names) {
    *names = hnames;
    hnames = NULL;
  }
  if (nnames) *nnames = nh;

done:
  fl_csv_names_free(hnames, nh);
  free(vals);
  free(buf);
  return st;
}

fl_status fl_array_save_csv(const char *path, const fl_array *a, const char *header)
{
  if (a->ndim > 2) {
    char sbuf[192];
    return fl_fail(FL_EDIM, "%s: CSV holds 1-D or 2-D arrays, not shape %s", path,
                   fl_array_shape_str(a, sbuf, sizeof sbuf));
  }
  size_t rows = a->shape[0], cols = a->ndim == 2 ? a->shape[1] : 1;
  FILE *f = fopen(path, "w");
  if (!f) return fl_fail(FL_EIO, "%s: cannot open for writing: %s", path, strerror(errno));
  int ok = 1;
  if (header) {
    size_t hl = strlen(header);
    ok = fputs(header, f) >= 0;
    if (ok && (hl == 0 || header[hl - 1] != '\n')) ok = fputc('\n', f) != EOF;
  }
  for (size_t i = 0; ok && i < rows; i++) {
    for (size_t j = 0; ok && j < cols; j++)
      ok = fprintf(f, j ? ",%.17g" : "%.17g", a->data[i * cols + j]) > 0;
    if (ok) ok = fputc('\n', f) != EOF;
  }
  int err = ok ? 0 : errno;
  if (fclose(f) != 0 && ok) {
    ok = 0;
    err = errno;
  }
  if (!ok) {
    remove(path);
    return fl_fail(FL_EIO, "%s: cannot write: %s", path, strerror(err));
  }
  return FL_OK;
}
