/* Shared glue for the Lua bindings: object boxes, argument checks, option
 * tables, status -> Lua error. Every src/l_<module>.c uses these; no numerics. */
#ifndef L_UTIL_H
#define L_UTIL_H

#include <stddef.h>
#include <lua.h>
#include <lauxlib.h>
#include "fl_core.h"
#include "fl_array.h"
#include "fl_field.h"

#define FL_ARRAY_MT "fieldlab.Array"
#define FL_FIELD_MT "fieldlab.Field"

/* Text files compiled into the binary (stdlib modules, API docs). */
typedef struct fl_embedded_file { const char *name; const char *data; size_t len; } fl_embedded_file;
extern const fl_embedded_file fl_embedded[];

/* A userdata box holding one reference to a lib object; p == NULL once closed. */
typedef struct l_box { void *p; } l_box;

/* Raise "fname: detail" (or "fname: <status text>") when st != FL_OK; for
 * FL_ECALLBACK re-raise the failed callback's own error (l_set_callback_error). */
void l_check(lua_State *L, fl_status st, const char *fname);
/* Raise "fname: message" (printf style). */
int l_error(lua_State *L, const char *fname, const char *fmt, ...);

/* Create and push a box with metatable tname holding NULL; fill box->p after. */
l_box *l_newbox(lua_State *L, const char *tname);
/* The box at idx, checked to be of type tname and open. */
void *l_checkobj(lua_State *L, int idx, const char *tname);

/* Arrays. l_pusharray steals the reference (a may be NULL only on error paths: raises). */
void l_pusharray(lua_State *L, fl_array *a);
fl_array *l_checkarray(lua_State *L, int idx);
fl_array *l_testarray(lua_State *L, int idx);
/* An Array, or a number, or a (nested) table of numbers converted to an Array
 * that replaces the value at idx on the stack (so the GC owns it). */
fl_array *l_toarray(lua_State *L, int idx);
/* A shape: a positive integer or a table of 1..FL_MAXDIM non-negative integers.
 * Returns ndim. */
int l_checkshape(lua_State *L, int idx, size_t *shape);

/* Set attribute `key` of the array (or other box) at idx to the value on the
 * stack top, which is popped: `J.exact` reads it back. */
void l_setattr(lua_State *L, int idx, const char *key);
/* Push attribute `key` of the box at idx (nil when unset); returns its type. */
int l_getattr(lua_State *L, int idx, const char *key);

/* A Lua callback run from a lib loop failed: store its error object (popped
 * from the stack top) so that l_check, seeing FL_ECALLBACK, re-raises it. */
void l_set_callback_error(lua_State *L);

/* Fields. l_pushfield steals the reference. A Field userdata keeps in its user
 * value whatever Lua values the field needs alive (callbacks, parts). */
void l_pushfield(lua_State *L, fl_field *f);
fl_field *l_checkfield(lua_State *L, int idx);
fl_field *l_testfield(lua_State *L, int idx);
/* Points for a field of input dimension d at idx: an n-by-d Array, a 1-D Array
 * or a table of d numbers (one point: *single = 1), or a table of points. The
 * data stays valid while the value at idx is on the stack (tables are replaced
 * there by an Array). Raises "fname: points have dimension 3, the field takes 2"
 * (or "fname: a point has 3 coordinates, the field takes 2"). */
const double *l_checkpoints(lua_State *L, int idx, int d, size_t *n, int *single, const char *fname);
/* Time argument at idx: a number, or nil/none -> def. */
double l_opttime(lua_State *L, int idx, double def);

/* Options: the value at idx must be nil or a table whose keys are all in
 * `allowed` (NULL-terminated); otherwise an argument error naming the option. */
void l_checkopts(lua_State *L, int idx, const char *const *allowed);
/* Field `name` of the option table at idx (which may be nil). */
lua_Integer l_optinteger_field(lua_State *L, int idx, const char *name, lua_Integer def);
lua_Number l_optnumber_field(lua_State *L, int idx, const char *name, lua_Number def);
int l_optboolean_field(lua_State *L, int idx, const char *name, int def);
const char *l_optstring_field(lua_State *L, int idx, const char *name, const char *def);

/* A Field option `name` of the option table at idx: raises "option 'name' must
 * be a Field, not a <type>" unless it is one (or, when opt, nil: returns NULL).
 * The option table keeps the field alive. */
fl_field *l_optfield(lua_State *L, int idx, const char *name, int opt);

/* The head of a binding f{...}: the option table at 1 (keys in allowed) and
 * its Field option `name` (required), which must map R^d to R^d: otherwise
 * raises "fname: the <name> must map R^d to R^d<hint>, not R^a to R^b" (hint
 * "" or, say, " (a velocity)"). */
fl_field *l_opts_square_field(lua_State *L, const char *fname, const char *const *allowed, const char *name,
                              const char *hint);

/* t[k] = v for the table on the stack top. */
void l_setnumber(lua_State *L, const char *k, double v);
void l_setinteger(lua_State *L, const char *k, size_t v);

/* Wall-clock seconds (for progress). */
double l_now(void);

/* Progress of a long lib run, shown by the Lua function integrate._progress
 * (stdlib/fieldlab/integrate.lua) as _progress(fraction, seconds[, done]).
 * The function is looked up at each call as table[sub]._progress (sub NULL:
 * table._progress), table being a stack index (an upvalue pseudo-index of
 * the running binding). Put an l_progress first in the ctx of an
 * fl_observe and use l_progress_cb as its progress callback. */
typedef struct l_progress {
  lua_State *L;
  int quiet, shown;
  double start, last;
  int table;
  const char *sub;
} l_progress;
/* Start the clock; quiet from l_quiet. */
void l_progress_init(lua_State *L, l_progress *p, int table, const char *sub);
/* The fl_observe progress callback (ctx: an l_progress, or a struct that
 * starts with one): calls _progress at most 5 times a second after the first
 * second, unless quiet. Returns -1 when it raised (l_set_callback_error). */
int l_progress_cb(void *ctx, double frac);
/* After the run: the final _progress(1, seconds, true) when any was shown. */
void l_progress_end(l_progress *p);

/* Results of an fl_ode / fl_sample run (defined in l_integrate.c). */
struct fl_run;
/* Push part `part` of the records (offset off, n*d numbers per record) as an
 * Array (nrec, n, d), or (nrec, d) when single; errors raise as fname. */
void l_push_run_records(lua_State *L, const struct fl_run *r, size_t off, size_t n, size_t d, int single,
                        const char *fname);
/* Push the record times as a 1-D Array; errors raise as fname. */
void l_push_run_times(lua_State *L, const struct fl_run *r, const char *fname);
/* A run stopped by an interrupt (FL_EINTR) returns what it did: consume the
 * interrupt (and the Lua hook that raises it) and warn on stderr. */
void l_run_interrupted(lua_State *L, const struct fl_run *r, const char *fname);

/* Tell the Lua GC about an external allocation of `bytes` (steps the GC for large ones). */
void l_gc_account(lua_State *L, size_t bytes);

/* Library-wide defaults kept in the registry (not in C globals). */
lua_Integer l_default_seed(lua_State *L);
void l_set_default_seed(lua_State *L, lua_Integer seed);
/* --quiet: no progress output from long runs. */
int l_quiet(lua_State *L);
void l_set_quiet(lua_State *L, int quiet);
/* A fresh stream number for an unseeded random draw: 1, 2, 3, ... per state. */
lua_Integer l_next_stream(lua_State *L);

/* For an __index metamethod (object at 1, key at 2): push the entry for the
 * key in the __methods table of the object's metatable (nil when none), above
 * that metatable and method table; returns the entry's type. */
int l_getmethod(lua_State *L);

/* Register the module table `name` (functions fns) into the table at top of stack
 * (the core table) as field name. */
void l_newmodule(lua_State *L, const char *name, const luaL_Reg *fns);
/* Add the functions fns to the module table `name` of the table at top of
 * stack (the core table), creating that module table when missing. Leaves
 * the stack as it was. */
void l_addfuncs(lua_State *L, const char *name, const luaL_Reg *fns);
/* Create metatable tname with metamethods meta and the method table methods.
 * The metatable gets __name = tname, __methods = the method table and
 * __properties = an array of property names (props, NULL-terminated, may be
 * NULL); it is also stored as core.classes[tname]. Unless meta has its own
 * __index, __index is the method table. Leaves nothing on the stack. */
void l_newclass(lua_State *L, const char *tname, const luaL_Reg *meta, const luaL_Reg *methods,
                 const char *const *props);

/* Extend the class tname (made by l_newclass) from another module: add the
 * methods to its __methods, and the property getters (name -> function(obj,
 * key) returning the value, nil where the property does not apply) to its
 * __getters, listing their names in __properties. Either may be NULL. An
 * __index that wants these getters calls l_getproperty. Leaves the stack. */
void l_extendclass(lua_State *L, const char *tname, const luaL_Reg *methods, const luaL_Reg *getters);
/* For an __index metamethod (object at 1, key at 2): when the class has a
 * getter for the key (l_extendclass), push its value and return 1; else
 * push nothing and return 0. */
int l_getproperty(lua_State *L);

/* Module openers (one per l_<module>.c): each adds its module(s) to the table on top. */
void l_open_array(lua_State *L);
void l_open_field(lua_State *L);     /* module field: the Field type, field.fn, algebra */
void l_open_gmm(lua_State *L);       /* field.gmm, field.gaussian (into module field) */
void l_open_analytic(lua_State *L);  /* field.linear, field.vortex, ... (into module field) */
void l_open_grid(lua_State *L);      /* field.grid, field.sample, field.grid_from (into module field) */
void l_open_diffusion(lua_State *L); /* module diffusion: schedules */
void l_open_data(lua_State *L);      /* module data: toy data sets */
void l_open_cmf(lua_State *L);       /* modules poly, cmf, pcf, const (with FLINT) */
void l_open_decomp(lua_State *L);    /* module decomp: Helmholtz-Hodge on grids */
void l_open_wdecomp(lua_State *L);   /* decomp.weighted (into module decomp) */
void l_open_integrate(lua_State *L); /* module integrate: ODE, SDE, symplectic steppers */
void l_open_metric(lua_State *L);    /* module metric: sample distances */
void l_open_check(lua_State *L);     /* module check: conservativity tests */
void l_open_ad(lua_State *L);        /* module ad: tape autodiff */
void l_open_sample(lua_State *L);    /* module sample: diffusion samplers, likelihoods */
void l_open_net(lua_State *L);       /* module net: networks as fields */
void l_open_plot(lua_State *L);      /* module plot: figures */
void l_open_optim(lua_State *L);     /* modules optim and loss: training */

/* The core: a table with every module, the embedded files and the runtime
 * settings. Used by the program (preloaded) and by fieldlab/core.so. */
int fl_lua_open_core(lua_State *L);

#endif
