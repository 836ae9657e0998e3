/* Lua bindings of lib/fl_poly and lib/fl_cmf: modules `poly`, `cmf`, `pcf`
 * and `const`; types fieldlab.Rational, fieldlab.Poly, fieldlab.Real,
 * fieldlab.CMF, fieldlab.Limit, fieldlab.PCF. Glue only. */
#include "config.h"
#include "l_util.h"
#include "fl_poly.h"
#include "fl_cmf.h"
#include "fl_pslq.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RAT_MT "fieldlab.Rational"
#define POLY_MT "fieldlab.Poly"
#define REAL_MT "fieldlab.Real"
#define CMF_MT "fieldlab.CMF"
#define LIMIT_MT "fieldlab.Limit"
#define PCF_MT "fieldlab.PCF"

/* ------------------------------------------------------------ boxes */

static void push_rat(lua_State *L, fl_rat *r)
{
  l_box *b = l_newbox(L, RAT_MT);
  b->p = r;
  l_gc_account(L, fl_rat_bits(r) / 8);
}

static void push_poly(lua_State *L, fl_poly *p)
{
  l_box *b = l_newbox(L, POLY_MT);
  b->p = p;
}

static void push_real(lua_State *L, fl_real *r)
{
  l_box *b = l_newbox(L, REAL_MT);
  b->p = r;
}

/* Anchor-first helpers: the box exists before the lib call, so a raise frees. */
#define NEWBOX(L, mt) l_newbox(L, mt)

static fl_rat *test_rat(lua_State *L, int idx)
{
  l_box *b = luaL_testudata(L, idx, RAT_MT);
  if (!b) return NULL;
  if (!b->p) luaL_argerror(L, idx, "object is closed");
  return b->p;
}

static fl_poly *test_poly(lua_State *L, int idx)
{
  l_box *b = luaL_testudata(L, idx, POLY_MT);
  if (!b) return NULL;
  if (!b->p) luaL_argerror(L, idx, "object is closed");
  return b->p;
}

static fl_real *test_real(lua_State *L, int idx)
{
  l_box *b = luaL_testudata(L, idx, REAL_MT);
  if (!b) return NULL;
  if (!b->p) luaL_argerror(L, idx, "object is closed");
  return b->p;
}

/* A Rational from a Rational, an integer (or integral float) or a string;
 * replaces the value at idx (so the GC owns it). */
static fl_rat *to_rat(lua_State *L, int idx, const char *fname)
{
  idx = lua_absindex(L, idx);
  fl_rat *r = test_rat(L, idx);
  if (r) return r;
  l_box *b = NEWBOX(L, RAT_MT);
  fl_status st;
  if (lua_isinteger(L, idx)) {
    st = fl_rat_from_si((long)lua_tointeger(L, idx), &r);
  } else if (lua_type(L, idx) == LUA_TNUMBER) {
    double d = lua_tonumber(L, idx);
    if (d != floor(d) || !isfinite(d))
      luaL_argerror(L, idx, lua_pushfstring(L, "%f is not an integer: give an exact rational as a string such as '1/10'", d));
    st = fl_rat_from_double(d, &r);
  } else if (lua_type(L, idx) == LUA_TSTRING) {
    st = fl_rat_from_str(lua_tostring(L, idx), &r);
  } else {
    return luaL_typeerror(L, idx, "rational (Rational, integer or string)"), NULL;
  }
  l_check(L, st, fname);
  b->p = r;
  lua_replace(L, idx);
  return r;
}

/* A Poly from a Poly, Rational, number or string (parsed). */
static fl_poly *to_poly(lua_State *L, int idx, const char *fname)
{
  idx = lua_absindex(L, idx);
  fl_poly *p = test_poly(L, idx);
  if (p) return p;
  fl_status st;
  if (lua_type(L, idx) == LUA_TSTRING) {
    l_box *b = NEWBOX(L, POLY_MT);
    l_check(L, fl_poly_parse(lua_tostring(L, idx), &p), fname);
    b->p = p;
    lua_replace(L, idx);
    return p;
  }
  if (!test_rat(L, idx) && lua_type(L, idx) != LUA_TNUMBER)
    return luaL_typeerror(L, idx, "polynomial (Poly, Rational, number or string)"), NULL;
  fl_rat *r = to_rat(L, idx, fname);
  l_box *b = NEWBOX(L, POLY_MT);
  st = fl_poly_from_rat(r, &p);
  l_check(L, st, fname);
  b->p = p;
  lua_replace(L, idx);
  return p;
}

/* A Real from a Real, number, decimal string or Rational (at digits). */
static fl_real *to_real(lua_State *L, int idx, long digits, const char *fname)
{
  idx = lua_absindex(L, idx);
  fl_real *x = test_real(L, idx);
  if (x) return x;
  fl_status st;
  l_box *b;
  if (lua_type(L, idx) == LUA_TSTRING) {
    b = NEWBOX(L, REAL_MT);
    st = fl_real_from_str(lua_tostring(L, idx), &x);
  } else if (test_rat(L, idx) || lua_isinteger(L, idx)) {
    fl_rat *r = to_rat(L, idx, fname);
    b = NEWBOX(L, REAL_MT);
    st = fl_real_from_rat(r, digits > 0 ? digits : 40, &x);
  } else if (lua_type(L, idx) == LUA_TNUMBER) {
    b = NEWBOX(L, REAL_MT);
    st = fl_real_from_double(lua_tonumber(L, idx), &x);
  } else {
    return luaL_typeerror(L, idx, "real (Real, number, decimal string or Rational)"), NULL;
  }
  l_check(L, st, fname);
  b->p = x;
  lua_replace(L, idx);
  return x;
}

static void push_str(lua_State *L, char *s)
{
  if (!s) luaL_error(L, "out of memory");
  lua_pushstring(L, s);
  fl_str_free(s);
}

/* ------------------------------------------------------------ shared metamethods */

static int m_gc(lua_State *L)
{
  l_box *b = lua_touserdata(L, 1);
  if (!b || !b->p) return 0;
  lua_getmetatable(L, 1);
  lua_getfield(L, -1, "__name");
  const char *n = lua_tostring(L, -1);
  void *p = b->p;
  b->p = NULL;
  if (strcmp(n, RAT_MT) == 0) fl_rat_free(p);
  else if (strcmp(n, POLY_MT) == 0) fl_poly_free(p);
  else if (strcmp(n, REAL_MT) == 0) fl_real_free(p);
  else if (strcmp(n, CMF_MT) == 0) fl_cmf_free(p);
  else if (strcmp(n, LIMIT_MT) == 0) fl_limit_free(p);
  else if (strcmp(n, PCF_MT) == 0) fl_pcf_free(p);
  return 0;
}

static const char *const arith_names[] = {"addition", "subtraction", "multiplication", "division"};

/* The Rational a op b of the values at 1 and 2 (Rationals or numbers). */
static int rat_arith(lua_State *L, fl_arith op, const char *fname)
{
  fl_rat *a = to_rat(L, 1, fname), *b = to_rat(L, 2, fname), *r;
  l_box *box = NEWBOX(L, RAT_MT);
  l_check(L, fl_rat_arith(op, a, b, &r), fname);
  box->p = r;
  return 1;
}

/* a op b over Real > Poly (or a string) > Rational (or a number). */
static int m_arith(lua_State *L)
{
  fl_arith op = (fl_arith)lua_tointeger(L, lua_upvalueindex(1));
  const char *fname = arith_names[op];
  lua_settop(L, 2);
  if (test_real(L, 1) || test_real(L, 2)) {
    long d = test_real(L, 1) ? fl_real_digits(test_real(L, 1)) : fl_real_digits(test_real(L, 2));
    fl_real *a = to_real(L, 1, d, fname), *b = to_real(L, 2, d, fname), *r;
    l_box *box = NEWBOX(L, REAL_MT);
    l_check(L, fl_real_arith(op, a, b, &r), fname);
    box->p = r;
    return 1;
  }
  if (test_poly(L, 1) || test_poly(L, 2) || lua_type(L, 1) == LUA_TSTRING || lua_type(L, 2) == LUA_TSTRING) {
    fl_poly *a = to_poly(L, 1, fname), *b = to_poly(L, 2, fname), *r;
    l_box *box = NEWBOX(L, POLY_MT);
    l_check(L, fl_poly_arith(op, a, b, &r), fname);
    box->p = r;
    return 1;
  }
  return rat_arith(L, op, fname);
}

static long check_exponent(lua_State *L, int idx)
{
  int isint;
  lua_Integer e = lua_tointegerx(L, idx, &isint);
  if (!isint) luaL_argerror(L, idx, "exponent must be an integer");
  return (long)e;
}

static int m_pow(lua_State *L)
{
  if (test_real(L, 1)) return luaL_error(L, "power: a Real to a power is not supported (multiply)");
  long e = check_exponent(L, 2);
  if (test_poly(L, 1) || lua_type(L, 1) == LUA_TSTRING) {
    fl_poly *a = to_poly(L, 1, "power"), *r;
    l_box *box = NEWBOX(L, POLY_MT);
    l_check(L, fl_poly_pow(a, e, &r), "power");
    box->p = r;
    return 1;
  }
  fl_rat *a = to_rat(L, 1, "power"), *r;
  l_box *box = NEWBOX(L, RAT_MT);
  l_check(L, fl_rat_pow(a, e, &r), "power");
  box->p = r;
  return 1;
}

static int m_unm(lua_State *L)
{
  if (test_real(L, 1)) {
    fl_real *r;
    l_box *box = NEWBOX(L, REAL_MT);
    l_check(L, fl_real_neg(test_real(L, 1), &r), "unary minus");
    box->p = r;
  } else if (test_poly(L, 1)) {
    fl_poly *r;
    l_box *box = NEWBOX(L, POLY_MT);
    l_check(L, fl_poly_neg(test_poly(L, 1), &r), "unary minus");
    box->p = r;
  } else {
    fl_rat *r;
    fl_rat *a = to_rat(L, 1, "unary minus");
    l_box *box = NEWBOX(L, RAT_MT);
    l_check(L, fl_rat_neg(a, &r), "unary minus");
    box->p = r;
  }
  return 1;
}

static int m_eq(lua_State *L)
{
  if (test_real(L, 1) || test_real(L, 2)) {
    if (!test_real(L, 1) || !test_real(L, 2)) { lua_pushboolean(L, 0); return 1; }
    lua_pushboolean(L, fl_real_cmp(test_real(L, 1), test_real(L, 2)) == 0);
    return 1;
  }
  if (test_poly(L, 1) || test_poly(L, 2)) {
    fl_poly *a = to_poly(L, 1, "=="), *b = to_poly(L, 2, "==");
    lua_pushboolean(L, fl_poly_equal(a, b));
    return 1;
  }
  fl_rat *a = test_rat(L, 1), *b = test_rat(L, 2);
  lua_pushboolean(L, a && b && fl_rat_cmp(a, b) == 0);
  return 1;
}

/* Order: Rationals, numbers and Reals. */
static int compare(lua_State *L)
{
  if (test_real(L, 1) || test_real(L, 2)) {
    long d = test_real(L, 1) ? fl_real_digits(test_real(L, 1)) : fl_real_digits(test_real(L, 2));
    fl_real *a = to_real(L, 1, d, "comparison"), *b = to_real(L, 2, d, "comparison");
    return fl_real_cmp(a, b);
  }
  if (test_poly(L, 1) || test_poly(L, 2)) return luaL_error(L, "comparison: polynomials are not ordered");
  return fl_rat_cmp(to_rat(L, 1, "comparison"), to_rat(L, 2, "comparison"));
}

static int m_lt(lua_State *L) { lua_pushboolean(L, compare(L) < 0); return 1; }
static int m_le(lua_State *L) { lua_pushboolean(L, compare(L) <= 0); return 1; }

static int m_concat(lua_State *L)
{
  luaL_tolstring(L, 1, NULL);
  luaL_tolstring(L, 2, NULL);
  lua_concat(L, 2);
  return 1;
}

/* ------------------------------------------------------------ Rational */

static int rat_tostring(lua_State *L)
{
  l_box *b = luaL_checkudata(L, 1, RAT_MT);
  if (!b->p) { lua_pushstring(L, "Rational (closed)"); return 1; }
  push_str(L, fl_rat_str(b->p));
  return 1;
}

static int rat_part(lua_State *L, int den)
{
  fl_rat *a = l_checkobj(L, 1, RAT_MT), *r;
  l_box *box = NEWBOX(L, RAT_MT);
  l_check(L, den ? fl_rat_den(a, &r) : fl_rat_num(a, &r), den ? "Rational:den" : "Rational:num");
  box->p = r;
  return 1;
}

static int rat_num(lua_State *L) { return rat_part(L, 0); }
static int rat_den(lua_State *L) { return rat_part(L, 1); }

static int rat_tonumber(lua_State *L)
{
  lua_pushnumber(L, fl_rat_to_double(l_checkobj(L, 1, RAT_MT)));
  return 1;
}

static int rat_is_integer(lua_State *L)
{
  lua_pushboolean(L, fl_rat_is_integer(l_checkobj(L, 1, RAT_MT)));
  return 1;
}

static int rat_sign(lua_State *L)
{
  lua_pushinteger(L, fl_rat_sign(l_checkobj(L, 1, RAT_MT)));
  return 1;
}

static int rat_bits(lua_State *L)
{
  lua_pushinteger(L, (lua_Integer)fl_rat_bits(l_checkobj(L, 1, RAT_MT)));
  return 1;
}

/* ------------------------------------------------------------ Poly */

static int poly_tostring(lua_State *L)
{
  l_box *b = luaL_checkudata(L, 1, POLY_MT);
  if (!b->p) { lua_pushstring(L, "Poly (closed)"); return 1; }
  push_str(L, fl_poly_str(b->p));
  return 1;
}

static int p_parse(lua_State *L)
{
  const char *s = luaL_checkstring(L, 1);
  fl_poly *p;
  l_box *box = NEWBOX(L, POLY_MT);
  l_check(L, fl_poly_parse(s, &p), "poly.parse");
  box->p = p;
  return 1;
}

static int p_var(lua_State *L)
{
  int n = lua_gettop(L);
  luaL_argcheck(L, n >= 1, 1, "need a variable name");
  for (int i = 1; i <= n; i++) {
    const char *s = luaL_checkstring(L, i);
    fl_poly *p;
    l_box *box = NEWBOX(L, POLY_MT);
    l_check(L, fl_poly_var(s, &p), "poly.var");
    box->p = p;
  }
  return n;
}

static int p_rational(lua_State *L)
{
  luaL_checkany(L, 1);
  if (!lua_isnoneornil(L, 2)) return rat_arith(L, FL_ARITH_DIV, "poly.rational");
  fl_rat *a = to_rat(L, 1, "poly.rational"), *r;
  l_box *box = NEWBOX(L, RAT_MT);
  l_check(L, fl_rat_copy(a, &r), "poly.rational");
  box->p = r;
  return 1;
}

static int p_is_poly(lua_State *L)
{
  lua_pushboolean(L, luaL_testudata(L, 1, POLY_MT) != NULL);
  return 1;
}

static int p_is_rational(lua_State *L)
{
  lua_pushboolean(L, luaL_testudata(L, 1, RAT_MT) != NULL);
  return 1;
}

/* name -> value table at idx into arrays (values converted by conv). */
static int collect_assign(lua_State *L, int idx, const char ***names, void ***vals, int kind, const char *fname)
{
  luaL_checktype(L, idx, LUA_TTABLE);
  int n = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) { n++; lua_pop(L, 1); }
  const char **nm = lua_newuserdatauv(L, sizeof *nm * (size_t)(n + 1), 0);
  void **vv = lua_newuserdatauv(L, sizeof *vv * (size_t)(n + 1), 0);
  lua_newtable(L); /* anchors for converted values */
  int anchors = lua_gettop(L);
  int k = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_type(L, -2) != LUA_TSTRING) luaL_argerror(L, idx, "keys must be variable names");
    nm[k] = lua_tostring(L, -2);
    int vi = lua_gettop(L);
    vv[k] = kind == 0 ? (void *)to_poly(L, vi, fname) : (void *)to_rat(L, vi, fname);
    lua_pushvalue(L, vi);
    lua_rawseti(L, anchors, k + 1);
    lua_pop(L, 1);
    k++;
  }
  *names = nm;
  *vals = vv;
  return n;
}

static int poly_subs(lua_State *L)
{
  fl_poly *a = l_checkobj(L, 1, POLY_MT), *r;
  const char **names;
  void **vals;
  int n = collect_assign(L, 2, &names, &vals, 0, "Poly:subs");
  l_box *box = NEWBOX(L, POLY_MT);
  l_check(L, fl_poly_subs(a, n, names, (const fl_poly *const *)vals, &r), "Poly:subs");
  box->p = r;
  return 1;
}

static int poly_shift(lua_State *L)
{
  fl_poly *a = l_checkobj(L, 1, POLY_MT), *r;
  luaL_checktype(L, 2, LUA_TTABLE);
  /* {x = 1} -> subs{x = x + 1} */
  lua_newtable(L);
  int t = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, 2)) {
    if (lua_type(L, -2) != LUA_TSTRING) luaL_argerror(L, 2, "keys must be variable names");
    fl_rat *c = to_rat(L, lua_gettop(L), "Poly:shift");
    fl_poly *v, *cp, *s;
    l_box *bv = NEWBOX(L, POLY_MT);
    l_check(L, fl_poly_var(lua_tostring(L, -3), &v), "Poly:shift");
    bv->p = v;
    l_box *bc = NEWBOX(L, POLY_MT);
    l_check(L, fl_poly_from_rat(c, &cp), "Poly:shift");
    bc->p = cp;
    l_box *bs = NEWBOX(L, POLY_MT);
    l_check(L, fl_poly_arith(FL_ARITH_ADD, v, cp, &s), "Poly:shift");
    bs->p = s;
    lua_pushvalue(L, -5); /* key */
    lua_insert(L, -2);
    lua_settable(L, t);
    lua_pop(L, 3);
  }
  const char **names;
  void **vals;
  int n = collect_assign(L, t, &names, &vals, 0, "Poly:shift");
  l_box *box = NEWBOX(L, POLY_MT);
  l_check(L, fl_poly_subs(a, n, names, (const fl_poly *const *)vals, &r), "Poly:shift");
  box->p = r;
  return 1;
}

static int poly_eval(lua_State *L)
{
  fl_poly *a = l_checkobj(L, 1, POLY_MT);
  fl_rat *r;
  const char **names;
  void **vals;
  int n = lua_isnoneornil(L, 2) ? 0 : collect_assign(L, 2, &names, &vals, 1, "Poly:eval");
  if (n == 0) { names = NULL; vals = NULL; }
  l_box *box = NEWBOX(L, RAT_MT);
  l_check(L, fl_poly_eval(a, n, names, (const fl_rat *const *)vals, &r), "Poly:eval");
  box->p = r;
  return 1;
}

static int poly_vars(lua_State *L)
{
  fl_poly *a = l_checkobj(L, 1, POLY_MT);
  const char *names[FL_POLY_MAXVARS];
  int n = fl_poly_used_vars(a, names);
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    lua_pushstring(L, names[i]);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static int poly_degree(lua_State *L)
{
  fl_poly *a = l_checkobj(L, 1, POLY_MT);
  lua_pushinteger(L, fl_poly_degree(a, luaL_optstring(L, 2, NULL)));
  return 1;
}

static int poly_part(lua_State *L, int den)
{
  fl_poly *a = l_checkobj(L, 1, POLY_MT), *r;
  l_box *box = NEWBOX(L, POLY_MT);
  l_check(L, den ? fl_poly_den(a, &r) : fl_poly_num(a, &r), den ? "Poly:den" : "Poly:num");
  box->p = r;
  return 1;
}

static int poly_num(lua_State *L) { return poly_part(L, 0); }
static int poly_den(lua_State *L) { return poly_part(L, 1); }

static int poly_is_polynomial(lua_State *L)
{
  lua_pushboolean(L, fl_poly_is_polynomial(l_checkobj(L, 1, POLY_MT)));
  return 1;
}

/* ------------------------------------------------------------ Real and const */

static int real_tostring(lua_State *L)
{
  l_box *b = luaL_checkudata(L, 1, REAL_MT);
  if (!b->p) { lua_pushstring(L, "Real (closed)"); return 1; }
  push_str(L, fl_real_str(b->p, 0));
  return 1;
}

static int real_str(lua_State *L)
{
  fl_real *a = l_checkobj(L, 1, REAL_MT);
  lua_Integer d = luaL_optinteger(L, 2, 0);
  luaL_argcheck(L, d >= 0 && d <= 100000000, 2, "digits must be 1 or more");
  push_str(L, fl_real_str(a, (long)d));
  return 1;
}

static int real_tonumber(lua_State *L)
{
  lua_pushnumber(L, fl_real_to_double(l_checkobj(L, 1, REAL_MT)));
  return 1;
}

static int real_digits(lua_State *L)
{
  lua_pushinteger(L, fl_real_digits(l_checkobj(L, 1, REAL_MT)));
  return 1;
}

static long check_digits(lua_State *L, int idx)
{
  int isint;
  lua_Integer d = lua_tointegerx(L, idx, &isint);
  if (lua_isnoneornil(L, idx)) return 30;
  if (!isint || d < 1 || d > 10000000) luaL_argerror(L, idx, "digits must be an integer 1 to 10^7");
  return (long)d;
}

static int constant(lua_State *L, const char *name, const char *fname, long k, int didx)
{
  long d = check_digits(L, didx);
  fl_real *r;
  l_box *box = NEWBOX(L, REAL_MT);
  l_check(L, fl_const(name, k, d, &r), fname);
  box->p = r;
  return 1;
}

static int c_pi(lua_State *L) { return constant(L, "pi", "const.pi", 0, 1); }
static int c_e(lua_State *L) { return constant(L, "e", "const.e", 0, 1); }
static int c_log2(lua_State *L) { return constant(L, "log2", "const.log2", 0, 1); }
static int c_catalan(lua_State *L) { return constant(L, "catalan", "const.catalan", 0, 1); }
static int c_euler(lua_State *L) { return constant(L, "euler", "const.euler", 0, 1); }
static int c_gompertz(lua_State *L) { return constant(L, "gompertz", "const.gompertz", 0, 1); }
static int c_zeta(lua_State *L)
{
  lua_Integer k = luaL_checkinteger(L, 1);
  luaL_argcheck(L, k >= 2 && k <= 1000000, 1, "zeta(k) needs an integer k >= 2");
  return constant(L, "zeta", "const.zeta", (long)k, 2);
}

static int c_real(lua_State *L)
{
  luaL_checkany(L, 1);
  if (lua_type(L, 1) == LUA_TSTRING && lua_isnoneornil(L, 2)) {
    fl_real *r;
    l_box *box = NEWBOX(L, REAL_MT);
    l_check(L, fl_real_from_str(lua_tostring(L, 1), &r), "const.real");
    box->p = r;
    return 1;
  }
  long d = lua_isnoneornil(L, 2) ? 40 : check_digits(L, 2);
  if (test_real(L, 1)) {
    lua_settop(L, 1);
    return 1;
  }
  if (lua_type(L, 1) == LUA_TSTRING) {
    to_rat(L, 1, "const.real");
  }
  to_real(L, 1, d, "const.real");
  lua_settop(L, 1);
  return 1;
}

static int c_is_real(lua_State *L)
{
  lua_pushboolean(L, luaL_testudata(L, 1, REAL_MT) != NULL);
  return 1;
}


/* const.pslq(values [, opts]) */
static const char *const pslq_opts[] = {"maxcoeff", "maxsteps", "digits", NULL};

static void push_relation(lua_State *L, const long *rel, int n)
{
  lua_createtable(L, n, 0);
  for (int k = 0; k < n; k++) {
    lua_pushinteger(L, (lua_Integer)rel[k]);
    lua_rawseti(L, -2, k + 1);
  }
}

static int c_pslq(lua_State *L)
{
  const char *fname = "const.pslq";
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 2);
  l_checkopts(L, 2, pslq_opts);
  int n = (int)lua_rawlen(L, 1);
  if (n < 2) l_error(L, fname, "needs a list of at least 2 values, got %d", n);
  if (n > FL_PSLQ_MAXN) l_error(L, fname, "at most %d values, got %d", FL_PSLQ_MAXN, n);
  /* the digits the values carry (exact values: no limit) */
  long avail = LONG_MAX;
  int limiting = 0;
  lua_newtable(L);
  int vals = lua_gettop(L); /* the values, converted below */
  for (int k = 1; k <= n; k++) {
    lua_rawgeti(L, 1, k);
    int vi = lua_gettop(L);
    long d = LONG_MAX;
    if (test_real(L, vi)) {
      d = fl_real_digits(test_real(L, vi));
    } else if (lua_isinteger(L, vi) || test_rat(L, vi)) {
      d = LONG_MAX;
    } else if (lua_type(L, vi) == LUA_TNUMBER) {
      double x = lua_tonumber(L, vi);
      if (!isfinite(x)) l_error(L, fname, "value %d is not a finite number", k);
      d = 17;
    } else if (lua_type(L, vi) == LUA_TSTRING) {
      d = fl_real_digits(to_real(L, vi, 0, fname));
    } else {
      l_error(L, fname, "value %d must be a Real, a number, a Rational or a decimal string, not a %s", k,
              luaL_typename(L, vi));
    }
    if (d < avail) { avail = d; limiting = k; }
    lua_rawseti(L, vals, k);
  }
  long digits;
  if (!lua_isnil(L, 2) && lua_getfield(L, 2, "digits") != LUA_TNIL) {
    int isint;
    lua_Integer dd = lua_tointegerx(L, -1, &isint);
    if (!isint || dd < 15 || dd > 10000000)
      l_error(L, fname, "option 'digits' must be an integer from 15 to 10^7 (PSLQ needs at least 53 bits), not %s",
              luaL_tolstring(L, -1, NULL));
    if (dd > avail)
      l_error(L, fname, "option 'digits' asks for %d digits, but value %d is known to only %d", (int)dd, limiting, (int)avail);
    digits = (long)dd;
  } else {
    if (avail < 15)
      l_error(L, fname, "value %d is known to only %d digits: PSLQ needs at least 15", limiting, (int)avail);
    digits = avail == LONG_MAX ? 30 : avail;
  }
  lua_Integer maxcoeff = l_optinteger_field(L, 2, "maxcoeff", 1000);
  if (maxcoeff < 1 || maxcoeff > ((lua_Integer)1 << 62)) l_error(L, fname, "option 'maxcoeff' must be 1 to 2^62");
  lua_Integer defsteps = maxcoeff < 100 ? 100 : maxcoeff > 100000 ? 100000 : maxcoeff;
  lua_Integer maxsteps = l_optinteger_field(L, 2, "maxsteps", defsteps);
  if (maxsteps < 1 || maxsteps > 100000000) l_error(L, fname, "option 'maxsteps' must be 1 to 10^8");
  mpfr_srcptr xs[FL_PSLQ_MAXN];
  for (int k = 1; k <= n; k++) {
    lua_rawgeti(L, vals, k);
    xs[k - 1] = fl_real_mpfr(to_real(L, lua_gettop(L), digits, fname));
    lua_rawseti(L, vals, k); /* keep the converted value alive */
  }
  long rel[FL_PSLQ_MAXN];
  fl_pslq_result res;
  fl_real *resid = NULL;
  l_box *rb = NEWBOX(L, REAL_MT);
  int rbi = lua_gettop(L);
  {
    fl_rat *z;
    l_check(L, fl_rat_new(&z), fname);
    fl_status st = fl_real_from_rat(z, digits, &resid);
    fl_rat_free(z);
    l_check(L, st, fname);
    rb->p = resid;
  }
  l_check(L, fl_pslq(n, xs, digits, (long)maxcoeff, (long)maxsteps, rel, &res, (mpfr_ptr)fl_real_mpfr(resid)), fname);
  lua_createtable(L, 0, 10);
  int found = res.outcome == FL_PSLQ_FOUND;
  lua_pushboolean(L, found);
  lua_setfield(L, -2, "found");
  lua_pushinteger(L, digits);
  lua_setfield(L, -2, "digits");
  lua_pushinteger(L, res.steps);
  lua_setfield(L, -2, "steps");
  lua_pushinteger(L, maxcoeff);
  lua_setfield(L, -2, "maxcoeff");
  if (res.norm_bound > 0) {
    lua_pushnumber(L, res.norm_bound);
    lua_setfield(L, -2, "norm_bound");
  }
  if (found || res.outcome == FL_PSLQ_UNCHECKED) {
    push_relation(L, rel, n);
    lua_setfield(L, -2, found ? "relation" : "candidate");
    lua_pushvalue(L, rbi);
    lua_setfield(L, -2, "residual");
    lua_pushnumber(L, res.holds_digits);
    lua_setfield(L, -2, "holds");
  }
  char msg[256];
  switch (res.outcome) {
  case FL_PSLQ_FOUND: msg[0] = '\0'; break;
  case FL_PSLQ_NORM:
    snprintf(msg, sizeof msg, "no relation with coefficients below maxcoeff = %lld: any relation has a norm of at "
             "least about %.4g", (long long)maxcoeff, res.norm_bound);
    break;
  case FL_PSLQ_MAXSTEPS:
    snprintf(msg, sizeof msg, "no relation found in %ld steps (maxsteps)", res.steps);
    break;
  case FL_PSLQ_PRECISION:
    snprintf(msg, sizeof msg, "the working precision (%ld digits) was exhausted after %ld steps without a relation",
             digits, res.steps);
    break;
  case FL_PSLQ_TINY:
    snprintf(msg, sizeof msg, "value %ld is zero to the working precision (%ld digits)", res.tiny + 1, digits);
    break;
  case FL_PSLQ_UNCHECKED:
    snprintf(msg, sizeof msg, "PSLQ proposed a relation that holds to only %.1f digits, fewer than the %.1f the "
             "working precision (%ld digits) asks for", res.holds_digits, res.need_digits, digits);
    break;
  }
  lua_pushstring(L, msg);
  if (found) lua_pop(L, 1);
  else lua_setfield(L, -2, "reason");
  return 1;
}

/* ------------------------------------------------------------ CMF */

static fl_cmf *check_cmf(lua_State *L) { return l_checkobj(L, 1, CMF_MT); }

static int cmf_tostring(lua_State *L)
{
  l_box *b = luaL_checkudata(L, 1, CMF_MT);
  if (!b->p) { lua_pushstring(L, "CMF (closed)"); return 1; }
  fl_cmf *c = b->p;
  luaL_Buffer buf;
  luaL_buffinit(L, &buf);
  lua_pushfstring(L, "CMF(rank %d, axes ", fl_cmf_rank(c));
  luaL_addvalue(&buf);
  for (int a = 0; a < fl_cmf_dim(c); a++) {
    if (a) luaL_addstring(&buf, ", ");
    luaL_addstring(&buf, fl_cmf_axis(c, a));
  }
  luaL_addstring(&buf, ")");
  luaL_pushresult(&buf);
  return 1;
}

/* A matrix given in Lua at idx (table of rows, or a function of the axis
 * variables) -> rank and entries pushed into out (as Poly values kept in
 * the anchor table at anchors). Returns the rank. */
static int read_matrix(lua_State *L, int idx, int anchors, int dim, const char *const *axes, const char *axis,
                       int rank, fl_poly **out)
{
  idx = lua_absindex(L, idx);
  if (lua_isfunction(L, idx)) {
    lua_pushvalue(L, idx);
    for (int a = 0; a < dim; a++) {
      fl_poly *v;
      l_box *b = NEWBOX(L, POLY_MT);
      l_check(L, fl_poly_var(axes[a], &v), "cmf.new");
      b->p = v;
    }
    lua_call(L, dim, 1);
    if (!lua_istable(L, -1)) luaL_error(L, "cmf.new: the function for axis '%s' must return a matrix (table of rows)", axis);
    lua_replace(L, idx);
  }
  if (!lua_istable(L, idx)) luaL_error(L, "cmf.new: M.%s must be a table of rows (or a function returning one)", axis);
  int r = (int)lua_rawlen(L, idx);
  if (r < 2 || r > FL_CMF_MAXRANK) luaL_error(L, "cmf.new: M.%s has %d rows: matrices must be 2x2 to 8x8", axis, r);
  if (rank && r != rank)
    luaL_error(L, "cmf.new: matrices of unequal size: M.%s is %dx%d, the first axis' %dx%d", axis, r, r, rank, rank);
  for (int i = 0; i < r; i++) {
    lua_rawgeti(L, idx, i + 1);
    if (!lua_istable(L, -1) || (int)lua_rawlen(L, -1) != r)
      luaL_error(L, "cmf.new: M.%s is not square: row %d has %d entries, expected %d", axis, i + 1,
                 lua_istable(L, -1) ? (int)lua_rawlen(L, -1) : 0, r);
    for (int j = 0; j < r; j++) {
      lua_rawgeti(L, -1, j + 1);
      int vi = lua_gettop(L);
      if (lua_isnil(L, vi)) luaL_error(L, "cmf.new: M.%s[%d][%d] is missing", axis, i + 1, j + 1);
      out[i * r + j] = to_poly(L, vi, "cmf.new");
      lua_rawseti(L, anchors, (lua_Integer)lua_rawlen(L, anchors) + 1);
    }
    lua_pop(L, 1);
  }
  return r;
}

static const char *const new_opts[] = {"axes", "M", "params", "validate", NULL};

static int cmf_new(lua_State *L)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  l_checkopts(L, 1, new_opts);
  lua_settop(L, 1);
  if (lua_getfield(L, 1, "axes") != LUA_TTABLE) luaL_argerror(L, 1, "option 'axes' must be a list of axis names");
  int dim = (int)lua_rawlen(L, 2);
  if (dim < 1 || dim > FL_CMF_MAXDIM) luaL_argerror(L, 1, "option 'axes' must name 1 to 8 axes");
  const char *axes[FL_CMF_MAXDIM];
  for (int a = 0; a < dim; a++) {
    lua_rawgeti(L, 2, a + 1);
    if (lua_type(L, -1) != LUA_TSTRING) luaL_argerror(L, 1, "axis names must be strings");
    axes[a] = lua_tostring(L, -1);
    lua_pop(L, 1); /* kept alive by the axes table */
    for (int b = 0; b < a; b++)
      if (strcmp(axes[a], axes[b]) == 0) l_error(L, "cmf.new", "axis '%s' is named twice", axes[a]);
  }
  if (lua_getfield(L, 1, "M") != LUA_TTABLE) luaL_argerror(L, 1, "option 'M' must be a table {axis = matrix, ...}");
  /* every key of M is an axis */
  lua_pushnil(L);
  while (lua_next(L, 3)) {
    lua_pop(L, 1);
    int ok = 0;
    for (int a = 0; a < dim; a++) ok = ok || (lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), axes[a]) == 0);
    if (!ok) l_error(L, "cmf.new", "M has a matrix for '%s', which is not an axis", luaL_tolstring(L, -1, NULL));
  }
  lua_newtable(L);
  int anchors = lua_gettop(L);
  fl_poly **M = lua_newuserdatauv(L, sizeof *M * (size_t)(dim * FL_CMF_MAXRANK * FL_CMF_MAXRANK), 0);
  int rank = 0;
  for (int a = 0; a < dim; a++) {
    if (lua_getfield(L, 3, axes[a]) == LUA_TNIL) l_error(L, "cmf.new", "no matrix for axis '%s' in M", axes[a]);
    fl_poly *tmp[FL_CMF_MAXRANK * FL_CMF_MAXRANK];
    int r = read_matrix(L, -1, anchors, dim, axes, axes[a], rank, tmp);
    if (!rank) rank = r;
    for (int k = 0; k < r * r; k++) M[a * r * r + k] = tmp[k];
    lua_pop(L, 1);
  }
  /* declared parameters */
  const char *params[FL_POLY_MAXVARS];
  int np = -1;
  if (lua_getfield(L, 1, "params") != LUA_TNIL) {
    if (!lua_istable(L, -1)) luaL_argerror(L, 1, "option 'params' must be a list of parameter names");
    np = (int)lua_rawlen(L, -1);
    if (np > FL_POLY_MAXVARS - dim) luaL_argerror(L, 1, "option 'params' names too many parameters");
    for (int k = 0; k < np; k++) {
      lua_rawgeti(L, -1, k + 1);
      if (lua_type(L, -1) != LUA_TSTRING) luaL_argerror(L, 1, "parameter names must be strings");
      params[k] = lua_tostring(L, -1);
      lua_pop(L, 1); /* kept alive by the params table */
    }
  }
  lua_rawseti(L, anchors, (lua_Integer)lua_rawlen(L, anchors) + 1);
  fl_cmf *c;
  l_box *box = NEWBOX(L, CMF_MT);
  if (np >= 0) l_check(L, fl_cmf_new_params(dim, axes, np, params, rank, (const fl_poly *const *)M, &c), "cmf.new");
  else l_check(L, fl_cmf_new(dim, axes, rank, (const fl_poly *const *)M, &c), "cmf.new");
  box->p = c;
  lua_getfield(L, 1, "validate");
  int validate = lua_isnil(L, -1) ? 1 : lua_toboolean(L, -1);
  lua_pop(L, 1);
  if (validate) {
    int ok, fa, fb;
    l_check(L, fl_cmf_check(c, 1, 8, 1, &ok, &fa, &fb), "cmf.new");
    if (!ok)
      l_error(L, "cmf.new", "the field is not conservative: M_%s(P) M_%s(P+e_%s) != M_%s(P) M_%s(P+e_%s) "
              "(pass validate = false to build it anyway)",
              axes[fa], axes[fb], axes[fa], axes[fb], axes[fa], axes[fb]);
  }
  return 1;
}

static const char *const check_opts[] = {"probabilistic", "trials", "seed", NULL};

static int cmf_is_conservative(lua_State *L)
{
  fl_cmf *c = check_cmf(L);
  l_checkopts(L, 2, check_opts);
  int prob = l_optboolean_field(L, 2, "probabilistic", 0);
  lua_Integer trials = l_optinteger_field(L, 2, "trials", 8);
  lua_Integer seed = l_optinteger_field(L, 2, "seed", 1);
  if (trials < 1 || trials > 100000) luaL_argerror(L, 2, "option 'trials' must be 1 to 100000");
  int ok, fa, fb;
  l_check(L, fl_cmf_check(c, !prob, (int)trials, (uint64_t)seed, &ok, &fa, &fb), "CMF:is_conservative");
  lua_pushboolean(L, ok);
  if (ok) return 1;
  lua_pushfstring(L, "%s,%s", fl_cmf_axis(c, fa), fl_cmf_axis(c, fb));
  return 2;
}

static int cmf_validate(lua_State *L)
{
  fl_cmf *c = check_cmf(L);
  int ok, fa, fb;
  l_check(L, fl_cmf_check(c, 1, 8, 1, &ok, &fa, &fb), "CMF:validate");
  if (!ok) {
    const char *a = fl_cmf_axis(c, fa), *b = fl_cmf_axis(c, fb);
    l_error(L, "CMF:validate", "not conservative for the axes %s, %s: M_%s(P) M_%s(P+e_%s) != M_%s(P) M_%s(P+e_%s)",
            a, b, a, b, a, b, a, b);
  }
  lua_settop(L, 1);
  return 1;
}

static int cmf_params(lua_State *L)
{
  fl_cmf *c = check_cmf(L);
  int np = fl_cmf_nparams(c);
  lua_createtable(L, np, 0);
  for (int k = 0; k < np; k++) {
    lua_pushstring(L, fl_cmf_param(c, k));
    lua_rawseti(L, -2, k + 1);
  }
  return 1;
}

static int cmf_subs(lua_State *L)
{
  fl_cmf *c = check_cmf(L);
  const char **names;
  void **vals;
  int n = collect_assign(L, 2, &names, &vals, 0, "CMF:subs");
  fl_cmf *r;
  l_box *box = NEWBOX(L, CMF_MT);
  l_check(L, fl_cmf_subs(c, n, names, (const fl_poly *const *)vals, &r), "CMF:subs");
  box->p = r;
  return 1;
}

static int cmf_dual(lua_State *L)
{
  fl_cmf *c = check_cmf(L);
  fl_cmf *r;
  l_box *box = NEWBOX(L, CMF_MT);
  l_check(L, fl_cmf_dual(c, &r), "CMF:dual");
  box->p = r;
  return 1;
}

/* An r x r matrix at idx (a table of rows of Poly-able entries, or a
 * function of the variables vars returning one) into out; entries are
 * anchored in the table at anchors. Returns r. */
static int read_polymat(lua_State *L, int idx, int anchors, int nvars, const char *const *vars, int want,
                        fl_poly **out, const char *fname, const char *what)
{
  idx = lua_absindex(L, idx);
  if (lua_isfunction(L, idx)) {
    lua_pushvalue(L, idx);
    for (int a = 0; a < nvars; a++) {
      fl_poly *v;
      l_box *b = NEWBOX(L, POLY_MT);
      l_check(L, fl_poly_var(vars[a], &v), fname);
      b->p = v;
    }
    lua_call(L, nvars, 1);
    lua_replace(L, idx);
  }
  if (!lua_istable(L, idx)) l_error(L, fname, "%s must be a matrix (a table of rows)", what);
  int r = (int)lua_rawlen(L, idx);
  if (r < 1 || r > 16) l_error(L, fname, "%s has %d rows: 1 to 16 are supported", what, r);
  if (want && r != want) l_error(L, fname, "%s is %dx%d, the field's matrices %dx%d", what, r, r, want, want);
  for (int i = 0; i < r; i++) {
    lua_rawgeti(L, idx, i + 1);
    if (!lua_istable(L, -1) || (int)lua_rawlen(L, -1) != r)
      l_error(L, fname, "%s is not square: row %d has %d entries, expected %d", what, i + 1,
              lua_istable(L, -1) ? (int)lua_rawlen(L, -1) : 0, r);
    for (int j = 0; j < r; j++) {
      lua_rawgeti(L, -1, j + 1);
      int vi = lua_gettop(L);
      if (lua_isnil(L, vi)) l_error(L, fname, "%s[%d][%d] is missing", what, i + 1, j + 1);
      out[i * r + j] = to_poly(L, vi, fname);
      lua_rawseti(L, anchors, (lua_Integer)lua_rawlen(L, anchors) + 1);
    }
    lua_pop(L, 1);
  }
  return r;
}

static int cmf_coboundary(lua_State *L)
{
  fl_cmf *c = check_cmf(L);
  luaL_checkany(L, 2);
  lua_settop(L, 2);
  lua_newtable(L);
  int anchors = lua_gettop(L);
  int dim = fl_cmf_dim(c), r = fl_cmf_rank(c);
  const char *axes[FL_CMF_MAXDIM];
  for (int a = 0; a < dim; a++) axes[a] = fl_cmf_axis(c, a);
  fl_poly *U[FL_CMF_MAXRANK * FL_CMF_MAXRANK];
  read_polymat(L, 2, anchors, dim, axes, r, U, "CMF:coboundary", "U");
  fl_cmf *res;
  l_box *box = NEWBOX(L, CMF_MT);
  l_check(L, fl_cmf_coboundary(c, (const fl_poly *const *)U, &res), "CMF:coboundary");
  box->p = res;
  return 1;
}

/* A matrix of Poly values (r*r, taken) -> table of rows. */
static void push_polymat(lua_State *L, fl_poly **e, int r)
{
  lua_createtable(L, r, 0);
  for (int i = 0; i < r; i++) {
    lua_createtable(L, r, 0);
    for (int j = 0; j < r; j++) {
      l_box *b = NEWBOX(L, POLY_MT);
      b->p = e[i * r + j];
      e[i * r + j] = NULL;
      lua_rawseti(L, -2, j + 1);
    }
    lua_rawseti(L, -2, i + 1);
  }
}

static int p_inverse(lua_State *L)
{
  luaL_checkany(L, 1);
  lua_settop(L, 1);
  lua_newtable(L);
  fl_poly *A[256], *R[256];
  int r = read_polymat(L, 1, 2, 0, NULL, 0, A, "poly.inverse", "the matrix");
  fl_status st = fl_poly_mat_inv(r, (const fl_poly *const *)A, R);
  l_check(L, st, "poly.inverse");
  push_polymat(L, R, r);
  return 1;
}

static int p_det(lua_State *L)
{
  luaL_checkany(L, 1);
  lua_settop(L, 1);
  lua_newtable(L);
  fl_poly *A[256], *d;
  int r = read_polymat(L, 1, 2, 0, NULL, 0, A, "poly.det", "the matrix");
  l_box *b = NEWBOX(L, POLY_MT);
  l_check(L, fl_poly_mat_det(r, (const fl_poly *const *)A, &d), "poly.det");
  b->p = d;
  return 1;
}

static int cmf_axes(lua_State *L)
{
  fl_cmf *c = check_cmf(L);
  lua_createtable(L, fl_cmf_dim(c), 0);
  for (int a = 0; a < fl_cmf_dim(c); a++) {
    lua_pushstring(L, fl_cmf_axis(c, a));
    lua_rawseti(L, -2, a + 1);
  }
  return 1;
}

static int cmf_rank(lua_State *L) { lua_pushinteger(L, fl_cmf_rank(check_cmf(L))); return 1; }
static int cmf_dim(lua_State *L) { lua_pushinteger(L, fl_cmf_dim(check_cmf(L))); return 1; }

static int axis_index(lua_State *L, fl_cmf *c, int idx)
{
  if (lua_isinteger(L, idx)) {
    lua_Integer a = lua_tointeger(L, idx);
    if (a < 1 || a > fl_cmf_dim(c)) luaL_argerror(L, idx, "axis number out of range");
    return (int)a - 1;
  }
  const char *s = luaL_checkstring(L, idx);
  for (int a = 0; a < fl_cmf_dim(c); a++)
    if (strcmp(s, fl_cmf_axis(c, a)) == 0) return a;
  return luaL_argerror(L, idx, lua_pushfstring(L, "'%s' is not an axis of this CMF", s));
}

/* Push a matrix of Poly entries made by get(i, j). */
static int cmf_M(lua_State *L)
{
  fl_cmf *c = check_cmf(L);
  int a = axis_index(L, c, 2), r = fl_cmf_rank(c);
  lua_createtable(L, r, 0);
  for (int i = 0; i < r; i++) {
    lua_createtable(L, r, 0);
    for (int j = 0; j < r; j++) {
      fl_poly *p;
      l_box *b = NEWBOX(L, POLY_MT);
      l_check(L, fl_cmf_entry(c, a, i, j, &p), "CMF:M");
      b->p = p;
      lua_rawseti(L, -2, j + 1);
    }
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

/* A point or trajectory at idx: a list in axis order or a table by axis name. */
static void read_point(lua_State *L, fl_cmf *c, int idx, int integer, long *t, fl_rat **s, int anchors,
                       const char *what)
{
  idx = lua_absindex(L, idx);
  int dim = fl_cmf_dim(c);
  if (!lua_istable(L, idx))
    luaL_argerror(L, idx, lua_pushfstring(L, "%s must be a table of %d %s", what, dim, integer ? "integers" : "rationals"));
  int bylist = lua_rawlen(L, idx) > 0;
  if (bylist && (int)lua_rawlen(L, idx) != dim)
    luaL_argerror(L, idx, lua_pushfstring(L, "%s has %d entries, the CMF %d axes", what, (int)lua_rawlen(L, idx), dim));
  for (int a = 0; a < dim; a++) {
    if (bylist) lua_rawgeti(L, idx, a + 1);
    else lua_getfield(L, idx, fl_cmf_axis(c, a));
    int vi = lua_gettop(L);
    if (lua_isnil(L, vi)) {
      lua_pop(L, 1);
      lua_pushinteger(L, 0);
    }
    if (integer) {
      int isint;
      lua_Integer v = lua_tointegerx(L, vi, &isint);
      if (!isint) luaL_argerror(L, idx, lua_pushfstring(L, "%s: entries must be integers", what));
      t[a] = (long)v;
    } else {
      s[a] = to_rat(L, vi, what);
      lua_rawseti(L, anchors, (lua_Integer)lua_rawlen(L, anchors) + 1);
      continue;
    }
    lua_pop(L, 1);
  }
  if (!bylist) {
    lua_pushnil(L);
    while (lua_next(L, idx)) {
      lua_pop(L, 1);
      int ok = 0;
      for (int a = 0; a < dim; a++)
        ok = ok || (lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), fl_cmf_axis(c, a)) == 0);
      if (!ok) luaL_argerror(L, idx, lua_pushfstring(L, "%s names '%s', which is not an axis", what, luaL_tolstring(L, -1, NULL)));
    }
  }
}

/* A matrix of rationals (r*r, freed here) -> table of rows of Rationals. */
static void push_ratmat(lua_State *L, fl_rat **e, int r)
{
  /* first give every entry to a box, then free the array */
  lua_createtable(L, r, 0);
  for (int i = 0; i < r; i++) {
    lua_createtable(L, r, 0);
    for (int j = 0; j < r; j++) {
      push_rat(L, e[i * r + j]);
      e[i * r + j] = NULL;
      lua_rawseti(L, -2, j + 1);
    }
    lua_rawseti(L, -2, i + 1);
  }
}

static void free_rats(fl_rat **e, int n)
{
  if (!e) return;
  for (int k = 0; k < n; k++) fl_rat_free(e[k]);
  free(e);
}

static const char *const walk_opts[] = {"method", NULL};

static int method_opt(lua_State *L, int idx)
{
  l_checkopts(L, idx, walk_opts);
  const char *m = l_optstring_field(L, idx, "method", "tree");
  if (strcmp(m, "tree") == 0) return 0;
  if (strcmp(m, "sequential") == 0) return 1;
  return luaL_argerror(L, idx, "option 'method' must be \"tree\" or \"sequential\"");
}

/* trajectory matrix of (t at 2, start at 3) into a fresh anchored mfun holder. */
typedef struct mfun_holder { fl_mfun *m; } mfun_holder;

static int mfun_holder_gc(lua_State *L)
{
  mfun_holder *h = lua_touserdata(L, 1);
  if (h->m) fl_mfun_release(h->m);
  h->m = NULL;
  return 0;
}

static fl_mfun *trajectory(lua_State *L, fl_cmf *c, int tidx, int sidx, const char *fname)
{
  long t[FL_CMF_MAXDIM];
  fl_rat *s[FL_CMF_MAXDIM];
  lua_newtable(L);
  int anchors = lua_gettop(L);
  read_point(L, c, tidx, 1, t, NULL, anchors, "trajectory");
  if (lua_isnoneornil(L, sidx)) luaL_argerror(L, sidx, "need a start point");
  read_point(L, c, sidx, 0, NULL, s, anchors, "start");
  mfun_holder *h = lua_newuserdatauv(L, sizeof *h, 0);
  h->m = NULL;
  lua_newtable(L);
  lua_pushcfunction(L, mfun_holder_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  l_check(L, fl_cmf_trajectory(c, t, (const fl_rat *const *)s, &h->m), fname);
  lua_remove(L, anchors);
  return h->m;
}

static int cmf_walk(lua_State *L)
{
  fl_cmf *c = check_cmf(L);
  lua_settop(L, 5);
  int seq = method_opt(L, 5);
  int r = fl_cmf_rank(c);
  long depths[4096];
  int nd = 0, list = 0;
  if (lua_istable(L, 3)) {
    list = 1;
    nd = (int)lua_rawlen(L, 3);
    if (nd < 1 || nd > 4096) luaL_argerror(L, 3, "a list of 1 to 4096 depths");
    for (int k = 0; k < nd; k++) {
      lua_rawgeti(L, 3, k + 1);
      int isint;
      lua_Integer d = lua_tointegerx(L, -1, &isint);
      lua_pop(L, 1);
      if (!isint || d < 1) luaL_argerror(L, 3, "depths must be integers >= 1");
      if (k && d <= depths[k - 1]) luaL_argerror(L, 3, "depths must be increasing");
      depths[k] = (long)d;
    }
  } else {
    int isint;
    lua_Integer d = lua_tointegerx(L, 3, &isint);
    if (!isint) luaL_typeerror(L, 3, "depth (integer) or list of depths");
    if (d < 1) luaL_argerror(L, 3, lua_pushfstring(L, "depth must be at least 1, not %I", d));
    depths[0] = (long)d;
    nd = 1;
  }
  fl_mfun *m = trajectory(L, c, 2, 4, "CMF:walk");
  fl_rat **res;
  l_check(L, fl_mfun_walk(m, 0, nd, depths, seq, &res), "CMF:walk");
  if (!list) {
    push_ratmat(L, res, r);
    free_rats(res, r * r);
    return 1;
  }
  lua_createtable(L, nd, 0);
  for (int k = 0; k < nd; k++) {
    push_ratmat(L, res + k * r * r, r);
    lua_rawseti(L, -2, k + 1);
  }
  free_rats(res, nd * r * r);
  return 1;
}

static int cmf_limit(lua_State *L)
{
  fl_cmf *c = check_cmf(L);
  lua_settop(L, 5);
  int seq = method_opt(L, 5);
  int isint;
  lua_Integer d = lua_tointegerx(L, 3, &isint);
  if (!isint) luaL_typeerror(L, 3, "depth (integer)");
  if (d < 1) luaL_argerror(L, 3, lua_pushfstring(L, "depth must be at least 1, not %I", d));
  fl_mfun *m = trajectory(L, c, 2, 4, "CMF:limit");
  fl_limit *lim;
  l_box *box = NEWBOX(L, LIMIT_MT);
  l_check(L, fl_mfun_limit(m, 0, (long)d, NULL, seq, &lim), "CMF:limit");
  box->p = lim;
  l_gc_account(L, fl_limit_bits(lim) / 2);
  return 1;
}

static int cmf_trajectory_matrix(lua_State *L)
{
  fl_cmf *c = check_cmf(L);
  lua_settop(L, 3);
  fl_mfun *m = trajectory(L, c, 2, 3, "CMF:trajectory_matrix");
  int r = fl_mfun_rank(m);
  lua_createtable(L, r, 0);
  for (int i = 0; i < r; i++) {
    lua_createtable(L, r, 0);
    for (int j = 0; j < r; j++) {
      fl_poly *p;
      l_box *b = NEWBOX(L, POLY_MT);
      l_check(L, fl_mfun_entry(m, i, j, &p), "CMF:trajectory_matrix");
      b->p = p;
      lua_rawseti(L, -2, j + 1);
    }
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static int cmf_to_pcf(lua_State *L)
{
  fl_cmf *c = check_cmf(L);
  lua_settop(L, 3);
  long t[FL_CMF_MAXDIM];
  fl_rat *s[FL_CMF_MAXDIM];
  lua_newtable(L);
  int anchors = lua_gettop(L);
  read_point(L, c, 2, 1, t, NULL, anchors, "trajectory");
  if (lua_isnoneornil(L, 3)) luaL_argerror(L, 3, "need a start point");
  read_point(L, c, 3, 0, NULL, s, anchors, "start");
  fl_pcf *p;
  l_box *box = NEWBOX(L, PCF_MT);
  l_check(L, fl_cmf_to_pcf(c, t, (const fl_rat *const *)s, &p), "CMF:to_pcf");
  box->p = p;
  return 1;
}

static int cmf_work(lua_State *L)
{
  fl_cmf *c = check_cmf(L);
  lua_settop(L, 4);
  int dim = fl_cmf_dim(c), r = fl_cmf_rank(c);
  long to[FL_CMF_MAXDIM], diff[FL_CMF_MAXDIM];
  fl_rat *from[FL_CMF_MAXDIM];
  lua_newtable(L);
  int anchors = lua_gettop(L);
  read_point(L, c, 2, 0, NULL, from, anchors, "from");
  /* `to` as rationals, whose differences from `from` must be integers */
  fl_rat *tor[FL_CMF_MAXDIM];
  read_point(L, c, 3, 0, NULL, tor, anchors, "to");
  long total = 0;
  for (int a = 0; a < dim; a++) {
    fl_rat *d;
    l_check(L, fl_rat_arith(FL_ARITH_SUB, tor[a], from[a], &d), "CMF:work");
    int ok = fl_rat_is_integer(d);
    double dv = fl_rat_to_double(d);
    fl_rat_free(d);
    if (!ok || fabs(dv) > 1e6) luaL_argerror(L, 3, "to - from must be an integer vector (|steps| <= 10^6)");
    diff[a] = (long)dv;
    to[a] = diff[a] < 0 ? -diff[a] : diff[a];
    total += to[a];
  }
  int *steps = lua_newuserdatauv(L, sizeof *steps * (size_t)(total > 0 ? total : 1), 0);
  if (lua_isnoneornil(L, 4)) {
    long k = 0;
    for (int a = 0; a < dim; a++)
      for (long i = 0; i < to[a]; i++) steps[k++] = diff[a] < 0 ? -(a + 1) : a + 1;
  } else {
    luaL_checktype(L, 4, LUA_TTABLE);
    if ((long)lua_rawlen(L, 4) != total)
      luaL_argerror(L, 4, lua_pushfstring(L, "the path has %d steps, to - from needs %d", (int)lua_rawlen(L, 4), (int)total));
    long count[FL_CMF_MAXDIM] = {0};
    for (long k = 0; k < total; k++) {
      lua_rawgeti(L, 4, (lua_Integer)k + 1);
      int a = axis_index(L, c, lua_gettop(L));
      lua_pop(L, 1);
      steps[k] = diff[a] < 0 ? -(a + 1) : a + 1;
      if (++count[a] > to[a]) luaL_argerror(L, 4, lua_pushfstring(L, "the path steps along %s too often", fl_cmf_axis(c, a)));
    }
  }
  fl_rat **res;
  l_check(L, fl_cmf_work(c, (const fl_rat *const *)from, (int)total, steps, &res), "CMF:work");
  push_ratmat(L, res, r);
  free_rats(res, r * r);
  return 1;
}

/* ------------------------------------------------------------ Limit */

static int lim_tostring(lua_State *L)
{
  l_box *b = luaL_checkudata(L, 1, LIMIT_MT);
  if (!b->p) { lua_pushstring(L, "Limit (closed)"); return 1; }
  fl_limit *l = b->p;
  long prec = fl_limit_precision(l);
  fl_real *v = NULL;
  if (fl_limit_value(l, 0, &v) == FL_OK) {
    long d = prec < 30 ? (prec > 1 ? prec : 1) : 30;
    char *s = fl_real_str(v, d);
    fl_real_free(v);
    lua_pushfstring(L, "Limit(depth %d, precision %d, %s%s)", (int)fl_limit_depth(l), (int)prec, s ? s : "?",
                    prec > 30 ? "..." : "");
    fl_str_free(s);
  } else {
    lua_pushfstring(L, "Limit(depth %d, undefined)", (int)fl_limit_depth(l));
  }
  return 1;
}

static int lim_pq(lua_State *L)
{
  fl_limit *l = l_checkobj(L, 1, LIMIT_MT);
  fl_rat *p, *q;
  l_box *bp = NEWBOX(L, RAT_MT), *bq = NEWBOX(L, RAT_MT);
  l_check(L, fl_limit_pq(l, &p, &q), "Limit:pq");
  bp->p = p;
  bq->p = q;
  return 2;
}

static int lim_rational(lua_State *L)
{
  fl_limit *l = l_checkobj(L, 1, LIMIT_MT);
  fl_rat *r;
  l_box *b = NEWBOX(L, RAT_MT);
  l_check(L, fl_limit_rational(l, &r), "Limit:rational");
  b->p = r;
  return 1;
}

static int lim_precision(lua_State *L)
{
  lua_pushinteger(L, fl_limit_precision(l_checkobj(L, 1, LIMIT_MT)));
  return 1;
}

static int lim_depth(lua_State *L)
{
  lua_pushinteger(L, fl_limit_depth(l_checkobj(L, 1, LIMIT_MT)));
  return 1;
}

static int lim_value(lua_State *L)
{
  fl_limit *l = l_checkobj(L, 1, LIMIT_MT);
  long d = 0;
  if (!lua_isnoneornil(L, 2)) d = check_digits(L, 2);
  fl_real *r;
  l_box *b = NEWBOX(L, REAL_MT);
  l_check(L, fl_limit_value(l, d, &r), "Limit:value");
  b->p = r;
  return 1;
}

static int lim_delta(lua_State *L)
{
  fl_limit *l = l_checkobj(L, 1, LIMIT_MT);
  fl_real *x = lua_isnoneornil(L, 2) ? NULL : to_real(L, 2, 0, "Limit:delta");
  double d;
  l_check(L, fl_limit_delta(l, x, &d), "Limit:delta");
  lua_pushnumber(L, d);
  return 1;
}

/* ------------------------------------------------------------ PCF */

static int pcf_new(lua_State *L)
{
  luaL_checkany(L, 1);
  luaL_checkany(L, 2);
  fl_poly *a = to_poly(L, 1, "pcf.new"), *b = to_poly(L, 2, "pcf.new");
  fl_pcf *p;
  l_box *box = NEWBOX(L, PCF_MT);
  l_check(L, fl_pcf_new(a, b, &p), "pcf.new");
  box->p = p;
  return 1;
}

static int pcf_tostring(lua_State *L)
{
  l_box *b = luaL_checkudata(L, 1, PCF_MT);
  if (!b->p) { lua_pushstring(L, "PCF (closed)"); return 1; }
  fl_poly *a = NULL, *bb = NULL;
  if (fl_pcf_a(b->p, &a) || fl_pcf_b(b->p, &bb)) {
    fl_poly_free(a);
    lua_pushstring(L, "PCF(?)");
    return 1;
  }
  char *sa = fl_poly_str(a), *sb = fl_poly_str(bb);
  lua_pushfstring(L, "PCF(%s, %s)", sa ? sa : "?", sb ? sb : "?");
  fl_str_free(sa);
  fl_str_free(sb);
  fl_poly_free(a);
  fl_poly_free(bb);
  return 1;
}

static int pcf_part(lua_State *L, int which)
{
  fl_pcf *p = l_checkobj(L, 1, PCF_MT);
  fl_poly *r;
  l_box *b = NEWBOX(L, POLY_MT);
  l_check(L, which ? fl_pcf_b(p, &r) : fl_pcf_a(p, &r), which ? "PCF:b" : "PCF:a");
  b->p = r;
  return 1;
}

static int pcf_a(lua_State *L) { return pcf_part(L, 0); }
static int pcf_b(lua_State *L) { return pcf_part(L, 1); }

static const char *const pcf_limit_opts[] = {"start", "method", NULL};

static fl_limit *pcf_limit_at(lua_State *L, fl_pcf *p, int nidx, int oidx, const char *fname)
{
  int isint;
  lua_Integer N = lua_tointegerx(L, nidx, &isint);
  if (!isint) luaL_typeerror(L, nidx, "depth (integer)");
  if (N < 1) luaL_argerror(L, nidx, lua_pushfstring(L, "depth must be at least 1, not %I", N));
  l_checkopts(L, oidx, pcf_limit_opts);
  lua_Integer start = l_optinteger_field(L, oidx, "start", 1);
  const char *m = l_optstring_field(L, oidx, "method", "tree");
  int seq = strcmp(m, "sequential") == 0;
  if (!seq && strcmp(m, "tree") != 0) luaL_argerror(L, oidx, "option 'method' must be \"tree\" or \"sequential\"");
  fl_limit *lim;
  l_box *box = NEWBOX(L, LIMIT_MT);
  l_check(L, fl_pcf_limit(p, (long)N, (long)start, seq, &lim), fname);
  box->p = lim;
  return lim;
}

static int pcf_limit(lua_State *L)
{
  fl_pcf *p = l_checkobj(L, 1, PCF_MT);
  pcf_limit_at(L, p, 2, 3, "PCF:limit");
  return 1;
}

static int pcf_delta(lua_State *L)
{
  fl_pcf *p = l_checkobj(L, 1, PCF_MT);
  lua_settop(L, 3);
  fl_real *x = lua_isnil(L, 3) ? NULL : to_real(L, 3, 0, "PCF:delta");
  fl_limit *lim = pcf_limit_at(L, p, 2, 4, "PCF:delta");
  double d;
  l_check(L, fl_limit_delta(lim, x, &d), "PCF:delta");
  lua_pushnumber(L, d);
  return 1;
}

static int pcf_deflate_all(lua_State *L)
{
  fl_pcf *p = l_checkobj(L, 1, PCF_MT), *r;
  l_box *b = NEWBOX(L, PCF_MT);
  l_check(L, fl_pcf_deflate_all(p, &r), "PCF:deflate_all");
  b->p = r;
  return 1;
}

static int pcf_scale(lua_State *L, int deflate)
{
  const char *fname = deflate ? "PCF:deflate" : "PCF:inflate";
  fl_pcf *p = l_checkobj(L, 1, PCF_MT), *r;
  luaL_checkany(L, 2);
  fl_poly *c = to_poly(L, 2, fname);
  l_box *b = NEWBOX(L, PCF_MT);
  l_check(L, deflate ? fl_pcf_deflate(p, c, &r) : fl_pcf_inflate(p, c, &r), fname);
  b->p = r;
  return 1;
}

static int pcf_inflate(lua_State *L) { return pcf_scale(L, 0); }
static int pcf_deflate(lua_State *L) { return pcf_scale(L, 1); }

/* PCF:precision(depth [, opts]): PCF:limit(depth, opts):precision(). */
static int pcf_precision(lua_State *L)
{
  fl_pcf *p = l_checkobj(L, 1, PCF_MT);
  fl_limit *lim = pcf_limit_at(L, p, 2, 3, "PCF:precision");
  lua_pushinteger(L, fl_limit_precision(lim));
  return 1;
}

/* ------------------------------------------------------------ registration */

static const luaL_Reg poly_fns[] = {
  {"parse", p_parse}, {"var", p_var}, {"rational", p_rational},
  {"is_poly", p_is_poly}, {"is_rational", p_is_rational}, {"inverse", p_inverse}, {"det", p_det}, {NULL, NULL}
};

static const luaL_Reg cmf_fns[] = {{"new", cmf_new}, {NULL, NULL}};
static const luaL_Reg pcf_fns[] = {{"new", pcf_new}, {NULL, NULL}};
static const luaL_Reg const_fns[] = {
  {"pi", c_pi}, {"e", c_e}, {"log2", c_log2}, {"catalan", c_catalan}, {"euler", c_euler},
  {"gompertz", c_gompertz}, {"zeta", c_zeta}, {"real", c_real}, {"is_real", c_is_real}, {"pslq", c_pslq}, {NULL, NULL}
};

#define ARITH_META {"__gc", m_gc}, {"__close", m_gc}, {"__unm", m_unm}, {"__eq", m_eq}, {"__pow", m_pow}, \
  {"__concat", m_concat}

static const luaL_Reg rat_meta[] = {ARITH_META, {"__tostring", rat_tostring}, {"__lt", m_lt}, {"__le", m_le}, {NULL, NULL}};
static const luaL_Reg poly_meta[] = {ARITH_META, {"__tostring", poly_tostring}, {NULL, NULL}};
static const luaL_Reg real_meta[] = {ARITH_META, {"__tostring", real_tostring}, {"__lt", m_lt}, {"__le", m_le}, {NULL, NULL}};
static const luaL_Reg cmf_meta[] = {{"__gc", m_gc}, {"__close", m_gc}, {"__tostring", cmf_tostring}, {NULL, NULL}};
static const luaL_Reg lim_meta[] = {{"__gc", m_gc}, {"__close", m_gc}, {"__tostring", lim_tostring}, {NULL, NULL}};
static const luaL_Reg pcf_meta[] = {{"__gc", m_gc}, {"__close", m_gc}, {"__tostring", pcf_tostring}, {NULL, NULL}};

static const luaL_Reg rat_methods[] = {
  {"num", rat_num}, {"den", rat_den}, {"tonumber", rat_tonumber}, {"is_integer", rat_is_integer},
  {"sign", rat_sign}, {"bits", rat_bits}, {"close", m_gc}, {NULL, NULL}
};
static const luaL_Reg poly_methods[] = {
  {"subs", poly_subs}, {"shift", poly_shift}, {"eval", poly_eval}, {"vars", poly_vars},
  {"degree", poly_degree}, {"num", poly_num}, {"den", poly_den}, {"is_polynomial", poly_is_polynomial},
  {"close", m_gc}, {NULL, NULL}
};
static const luaL_Reg real_methods[] = {
  {"tostring", real_str}, {"tonumber", real_tonumber}, {"digits", real_digits}, {"close", m_gc}, {NULL, NULL}
};
static const luaL_Reg cmf_methods[] = {
  {"axes", cmf_axes}, {"rank", cmf_rank}, {"dim", cmf_dim}, {"M", cmf_M},
  {"is_conservative", cmf_is_conservative}, {"validate", cmf_validate},
  {"walk", cmf_walk}, {"work", cmf_work}, {"limit", cmf_limit},
  {"trajectory_matrix", cmf_trajectory_matrix}, {"to_pcf", cmf_to_pcf}, {"params", cmf_params},
  {"subs", cmf_subs}, {"dual", cmf_dual}, {"coboundary", cmf_coboundary}, {"close", m_gc}, {NULL, NULL}
};
static const luaL_Reg lim_methods[] = {
  {"pq", lim_pq}, {"rational", lim_rational}, {"precision", lim_precision}, {"value", lim_value},
  {"delta", lim_delta}, {"depth", lim_depth}, {"close", m_gc}, {NULL, NULL}
};
static const luaL_Reg pcf_methods[] = {
  {"limit", pcf_limit}, {"delta", pcf_delta}, {"a", pcf_a}, {"b", pcf_b},
  {"deflate_all", pcf_deflate_all}, {"inflate", pcf_inflate}, {"deflate", pcf_deflate},
  {"precision", pcf_precision}, {"close", m_gc}, {NULL, NULL}
};

static const char *const arith_meta[] = {"__add", "__sub", "__mul", "__div"};

void l_open_cmf(lua_State *L)
{
  l_newclass(L, RAT_MT, rat_meta, rat_methods, NULL);
  l_newclass(L, POLY_MT, poly_meta, poly_methods, NULL);
  l_newclass(L, REAL_MT, real_meta, real_methods, NULL);
  const char *mts[] = {RAT_MT, POLY_MT, REAL_MT};
  for (int t = 0; t < 3; t++) {
    luaL_getmetatable(L, mts[t]);
    for (int k = 0; k < 4; k++) {
      lua_pushinteger(L, k);
      lua_pushcclosure(L, m_arith, 1);
      lua_setfield(L, -2, arith_meta[k]);
    }
    lua_pop(L, 1);
  }
  l_newclass(L, CMF_MT, cmf_meta, cmf_methods, NULL);
  l_newclass(L, LIMIT_MT, lim_meta, lim_methods, NULL);
  l_newclass(L, PCF_MT, pcf_meta, pcf_methods, NULL);
  l_newmodule(L, "poly", poly_fns);
  l_newmodule(L, "cmf", cmf_fns);
  l_newmodule(L, "pcf", pcf_fns);
  l_newmodule(L, "const", const_fns);
  (void)push_poly;
  (void)push_real;
}
