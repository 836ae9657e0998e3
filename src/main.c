/* The fieldlab program: options, the protected main, script running and the
 * Ctrl-C hook. Modelled on Lua 5.4's lua.c: everything that touches Lua runs
 * inside one lua_pcall (pmain), every chunk goes through fl_docall (message
 * handler + SIGINT hook), errors are reported as "fieldlab: <message>".
 *
 * Exit status: 0 success; 1 an error (a script, -e chunk, -l module or
 * FIELDLAB_INIT raised, or a script file cannot be opened); 2 a usage error
 * (unknown option, missing or invalid option value). A subcommand
 * ("fieldlab check ...", stdlib/fieldlab/cli/<cmd>.lua) returns its own
 * status: 0 ok, 1 failed run, 2 usage error. */
#include "config.h"

#include <complex.h>
#include <ctype.h>
#include <fftw3.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#include "fl_core.h"
#include "l_util.h"
#include "repl.h"

/* OpenBLAS's cblas.h is not included here (it drags in complex types we do
 * not need); its configuration string is all the program wants. */
extern char *openblas_get_config(void);

#define PROGNAME "fieldlab"
#define EXIT_USAGE 2
#define MAX_THREADS 1024
#define STR_(x) #x
#define STR(x) STR_(x)

#if defined(FL_USE_READLINE)
#define LINE_EDITING "GNU readline"
#elif defined(FL_USE_LIBEDIT)
#define LINE_EDITING "libedit"
#else
#define LINE_EDITING "none"
#endif

/* ------------------------------------------------------------------ usage */

static void print_usage(FILE *f) {
  fprintf(f,
          "usage: " PROGNAME " [options] [script [args]]\n"
          "       " PROGNAME " [options] command [command options]\n"
          "Run a fieldlab Lua script, or start the interactive prompt, or run a\n"
          "command: check, decompose, train, sample, cmf, help ('" PROGNAME " help CMD'\n"
          "shows its manual, '" PROGNAME " CMD --help' its synopsis). A script named\n"
          "like a command runs as ./NAME or after --.\n"
          "\n"
          "Options (processed in order, like lua5.4):\n"
          "  -e stat        execute string 'stat'\n"
          "  -l mod         require library 'mod' into global 'mod'\n"
          "  -l g=mod       require library 'mod' into global 'g'\n"
          "  -i             enter interactive mode after running the script\n"
          "  -v, --version  show version information\n"
          "  -E             ignore environment variables (LUA_PATH, LUA_CPATH,\n"
          "                 FIELDLAB_PATH, FIELDLAB_INIT)\n"
          "  -W             turn warnings on\n"
          "  -h, --help     show this help and exit\n"
          "  --threads N    use N threads (OpenMP loops and OpenBLAS); N >= 1\n"
          "  --seed N       default random seed (non-negative integer)\n"
          "  --quiet        no progress output from long runs\n"
          "  --             stop handling options\n"
          "  -              run stdin as the script and stop handling options\n"
          "\n"
          "The script receives its arguments in the global table 'arg' (arg[0] is\n"
          "the script name, negative indices hold the interpreter and its options)\n"
          "and as '...'. Without a script: the interactive prompt when stdin is a\n"
          "terminal, otherwise stdin is run as the script.\n"
          "\n"
          "Environment:\n"
          "  FIELDLAB_INIT        Lua code run before the script ('@file' runs a file)\n"
          "  FIELDLAB_PATH        directory holding fieldlab/init.lua etc., used\n"
          "                       instead of the built-in modules (development)\n"
          "  FIELDLAB_NOHISTORY   if set, the prompt keeps no ~/.fieldlab_history\n"
          "  LUA_PATH, LUA_CPATH  module search paths, as for lua5.4\n"
          "\n"
          "Exit status: 0 success; 1 an error was raised or a script cannot be\n"
          "opened; 2 usage error (unknown option, missing or invalid value).\n"
          "\n"
          "The prompt (line editing: " LINE_EDITING "): Tab completes names, the\n"
          "history is kept in ~/.fieldlab_history, Ctrl-C interrupts a computation\n"
          "or discards the input line, Ctrl-D on an empty line quits.\n");
}

static int usage_error(const char *fmt, const char *what) {
  fprintf(stderr, PROGNAME ": ");
  fprintf(stderr, fmt, what);
  fprintf(stderr, "\nTry '" PROGNAME " --help' for more information.\n");
  return EXIT_USAGE;
}

static void print_version(void) {
  const char *fv = fftw_version;
  const char *ob = openblas_get_config();
  size_t oblen = strlen(ob);
  if (strncmp(fv, "fftw-", 5) == 0) fv += 5;
  while (oblen > 0 && ob[oblen - 1] == ' ') oblen--;
  printf("%s %s (%s, %.*s, FFTW %s)\n", PACKAGE_NAME, PACKAGE_VERSION, LUA_RELEASE, (int)oblen, ob,
         fv);
  fflush(stdout);
}

/* ---------------------------------------------------------------- options */

enum { HAS_I = 1, HAS_V = 2, HAS_E = 4, HAS_NOENV = 8, HAS_H = 16 };

/* An option that runs something, kept in command-line order: -e, -l, -W. */
typedef struct cli_action { char opt; const char *val; } cli_action;

typedef struct cli {
  int argc;
  char **argv;
  int flags;
  int script;          /* index of the script in argv; argc when none */
  int threads;         /* 0: not given */
  int seed_set;
  lua_Integer seed;
  int quiet;
  int exitcode;        /* the status a subcommand returned */
  int nactions;
  cli_action *actions; /* argc entries */
} cli;

/* A decimal integer in [lo, hi] (lo >= 0), nothing else: no sign, no spaces. */
static int parse_int(const char *s, long long lo, long long hi, long long *out) {
  char *end;
  long long v;
  if (!isdigit((unsigned char)s[0])) return 0;
  v = strtoll(s, &end, 10);
  if (*end != '\0' || v < lo || v > hi) return 0;
  /* strtoll saturates on overflow; LLONG_MAX itself is never a valid value */
  if (v == LLONG_MAX || v == LLONG_MIN) return 0;
  *out = v;
  return 1;
}

/* A long option "--name" or "--name=value". Returns 0 or EXIT_USAGE. */
static int long_option(cli *c, int *pi) {
  char *arg = c->argv[*pi] + 2;
  char *eq = strchr(arg, '=');
  size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
  const char *val = NULL;
  long long v;
  static const char *const noval[] = {"version", "help", "quiet", NULL};
  int takes_value = (nlen == 7 && strncmp(arg, "threads", 7) == 0) ||
                    (nlen == 4 && strncmp(arg, "seed", 4) == 0);
  if (takes_value) {
    if (eq) val = eq + 1;
    else if (*pi + 1 < c->argc) val = c->argv[++*pi];
    else return usage_error("option '%s' needs an argument", c->argv[*pi]);
    if (arg[0] == 't') {
      if (!parse_int(val, 1, MAX_THREADS, &v))
        return usage_error("--threads needs an integer from 1 to " STR(MAX_THREADS) ", got '%s'", val);
      c->threads = (int)v;
    } else {
      if (!parse_int(val, 0, LLONG_MAX, &v))
        return usage_error("--seed needs a non-negative integer, got '%s'", val);
      c->seed = (lua_Integer)v;
      c->seed_set = 1;
    }
    return 0;
  }
  for (int k = 0; noval[k]; k++) {
    if (strlen(noval[k]) == nlen && strncmp(arg, noval[k], nlen) == 0) {
      if (eq) return usage_error("option '--%s' takes no argument", noval[k]);
      switch (arg[0]) {
        case 'v': c->flags |= HAS_V; break;
        case 'h': c->flags |= HAS_H; break;
        default: c->quiet = 1; break;
      }
      return 0;
    }
  }
  return usage_error("unrecognized option '%s'", c->argv[*pi]);
}

/* Scan the options (everything before the script name). Returns 0 or
 * EXIT_USAGE after printing the problem. */
static int collectargs(cli *c) {
  char **argv = c->argv;
  int i;
  for (i = 1; i < c->argc; i++) {
    char *a = argv[i];
    c->script = i;
    if (a[0] != '-') return 0;          /* the script */
    if (a[1] == '\0') return 0;         /* "-": stdin is the script */
    if (a[1] == '-') {
      if (a[2] == '\0') { c->script = i + 1; return 0; }  /* "--" */
      int st = long_option(c, &i);
      if (st) return st;
      continue;
    }
    switch (a[1]) {
      case 'i': case 'v': case 'E': case 'W': case 'h':
        if (a[2] != '\0') return usage_error("unrecognized option '%s'", a);
        if (a[1] == 'i') c->flags |= HAS_I;
        else if (a[1] == 'v') c->flags |= HAS_V;
        else if (a[1] == 'E') c->flags |= HAS_NOENV;
        else if (a[1] == 'h') c->flags |= HAS_H;
        else c->actions[c->nactions++] = (cli_action){'W', NULL};
        break;
      case 'e': case 'l': {
        const char *val = a + 2;
        if (*val == '\0') {
          if (i + 1 >= c->argc || argv[i + 1][0] == '-')
            return usage_error("option '%s' needs an argument", a);
          val = argv[++i];
        }
        if (a[1] == 'e') c->flags |= HAS_E;
        c->actions[c->nactions++] = (cli_action){a[1], val};
        break;
      }
      default:
        return usage_error("unrecognized option '%s'", a);
    }
  }
  c->script = c->argc;
  return 0;
}

/* ------------------------------------------------------------ Ctrl-C hook */

static lua_State *globalL = NULL;

/* Hook set by the signal handler: stop the interpreter at the next event. */
static void lstop(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  luaL_error(L, "interrupted!");
}

/* SIGINT during a call: ask Lua code (through the hook) and C loops (through
 * the lib flag) to stop. A second Ctrl-C before that happens terminates the
 * program, as in lua5.4 (for C code that does not poll the flag). */
static void laction(int sig) {
  int flag = LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT;
  signal(sig, SIG_DFL);
  fl_interrupt();
  lua_sethook(globalL, lstop, flag, 1);
}

/* Error objects that are not strings: __tostring, else their type. The
 * message gets a traceback. */
static int msghandler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
    msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

int fl_docall(lua_State *L, int narg, int nres) {
  int status;
  int base = lua_gettop(L) - narg;
  struct sigaction sa, old;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  globalL = L;
  fl_interrupt_clear();
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = laction;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old);
  status = lua_pcall(L, narg, nres, base);
  sigaction(SIGINT, &old, NULL);
  /* a Ctrl-C that came too late to be seen must not hit the next call */
  if (lua_gethook(L) == lstop) lua_sethook(L, NULL, 0, 0);
  fl_interrupt_clear();
  lua_remove(L, base);
  return status;
}

int fl_report(lua_State *L, int status) {
  if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    if (msg == NULL) msg = "(error object is not a string)";
    fprintf(stderr, PROGNAME ": %s\n", msg);
    fflush(stderr);
    lua_pop(L, 1);
  }
  return status;
}

/* ------------------------------------------------------- running chunks */

static int dochunk(lua_State *L, int status) {
  if (status == LUA_OK) status = fl_docall(L, 0, 0);
  return fl_report(L, status);
}

static int dofile(lua_State *L, const char *name) {
  return dochunk(L, luaL_loadfile(L, name));
}

static int dostring(lua_State *L, const char *s, const char *name) {
  return dochunk(L, luaL_loadbuffer(L, s, strlen(s), name));
}

/* -l mod or -l g=mod: g = require(mod). */
static int dolibrary(lua_State *L, const char *spec) {
  const char *eq = strchr(spec, '=');
  int status;
  lua_getglobal(L, "require");
  lua_pushstring(L, eq ? eq + 1 : spec);
  status = fl_docall(L, 1, 1);
  if (status == LUA_OK) {
    lua_pushglobaltable(L);
    lua_pushlstring(L, spec, eq ? (size_t)(eq - spec) : strlen(spec));
    lua_pushvalue(L, -3);
    lua_settable(L, -3);
    lua_pop(L, 2);
  }
  return fl_report(L, status);
}

static int runargs(lua_State *L, const cli *c) {
  for (int k = 0; k < c->nactions; k++) {
    const cli_action *a = &c->actions[k];
    int status = LUA_OK;
    switch (a->opt) {
      case 'e': status = dostring(L, a->val, "=(command line)"); break;
      case 'l': status = dolibrary(L, a->val); break;
      default: lua_warning(L, "@on", 0); break;
    }
    if (status != LUA_OK) return 0;
  }
  return 1;
}

/* arg[0] = script, arg[1..] = its arguments, arg[-k] = what came before. */
static void createargtable(lua_State *L, char **argv, int argc, int script) {
  if (script == argc) script = 0;  /* no script: arg[0] is the program */
  lua_createtable(L, argc - (script + 1), script + 1);
  for (int i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

static int pushargs(lua_State *L) {
  int n;
  if (lua_getglobal(L, "arg") != LUA_TTABLE) luaL_error(L, "'arg' is not a table");
  n = (int)luaL_len(L, -1);
  luaL_checkstack(L, n + 3, "too many arguments to script");
  for (int i = 1; i <= n; i++) lua_rawgeti(L, -i, i);
  lua_remove(L, -(n + 1));
  return n;
}

static int handle_script(lua_State *L, char **argv) {
  const char *fname = argv[0];
  int status;
  if (strcmp(fname, "-") == 0 && strcmp(argv[-1], "--") != 0) fname = NULL;  /* stdin */
  status = luaL_loadfile(L, fname);
  if (status == LUA_OK) {
    int n = pushargs(L);
    status = fl_docall(L, n, LUA_MULTRET);
  }
  return fl_report(L, status);
}

static int handle_init(lua_State *L) {
  const char *init = getenv("FIELDLAB_INIT");
  if (init == NULL) return LUA_OK;
  if (init[0] == '@') return dofile(L, init + 1);
  return dostring(L, init, "=FIELDLAB_INIT");
}

/* -------------------------------------------------------- the libraries */

/* package.preload loader for an embedded module; upvalue: its fl_embedded index. */
static int load_embedded(lua_State *L) {
  const fl_embedded_file *f = &fl_embedded[lua_tointeger(L, lua_upvalueindex(1))];
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addstring(&b, "@stdlib/");
  for (const char *p = f->name; *p; p++) luaL_addchar(&b, *p == '.' ? '/' : *p);
  luaL_addstring(&b, strchr(f->name, '.') ? ".lua" : "/init.lua");
  luaL_pushresult(&b);
  if (luaL_loadbufferx(L, f->data, f->len, lua_tostring(L, -1), "t") != LUA_OK)
    return lua_error(L);
  lua_pushvalue(L, 1);  /* module name */
  lua_pushvalue(L, 2);  /* loader data (":preload:") */
  lua_call(L, 2, 1);
  return 1;
}

static void open_modules(lua_State *L, int noenv) {
  const char *dir = noenv ? NULL : getenv("FIELDLAB_PATH");
  lua_getglobal(L, "package");
  if (dir != NULL && *dir != '\0') {
    lua_getfield(L, -1, "path");
    lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;%s", dir, dir, lua_tostring(L, -1));
    lua_setfield(L, -3, "path");
    lua_pop(L, 1);
  } else {
    lua_getfield(L, -1, "preload");
    for (int i = 0; fl_embedded[i].name != NULL; i++) {
      if (strncmp(fl_embedded[i].name, "doc/", 4) == 0) continue;
      lua_pushinteger(L, i);
      lua_pushcclosure(L, load_embedded, 1);
      lua_setfield(L, -2, fl_embedded[i].name);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

/* local M = require "fieldlab"; M.export(_G) */
static int export_fieldlab(lua_State *L) {
  lua_getglobal(L, "require");
  lua_pushliteral(L, "fieldlab");
  lua_call(L, 1, 1);
  if (lua_getfield(L, -1, "export") != LUA_TFUNCTION)
    return luaL_error(L, "module 'fieldlab' has no function 'export'");
  lua_pushglobaltable(L);
  lua_call(L, 1, 0);
  return 0;
}

/* ----------------------------------------------------------- subcommands */

/* "fieldlab CMD args": the first operand names a subcommand when it is the
 * name of an embedded module fieldlab.cli.CMD (not fieldlab.cli itself) and
 * was not preceded by "--". A script file of that name still runs as
 * "fieldlab ./check" or "fieldlab -- check". */
static int is_subcommand(const cli *c) {
  static const char prefix[] = "fieldlab.cli.";
  const char *name = c->argv[c->script];
  if (c->script > 1 && strcmp(c->argv[c->script - 1], "--") == 0) return 0;
  if (name[0] == '\0' || strchr(name, '/') != NULL || strchr(name, '.') != NULL) return 0;
  for (int i = 0; fl_embedded[i].name != NULL; i++) {
    const char *m = fl_embedded[i].name;
    if (strncmp(m, prefix, sizeof prefix - 1) == 0 && strcmp(m + sizeof prefix - 1, name) == 0)
      return 1;
  }
  return 0;
}

/* require("fieldlab.cli").main(CMD, {args...}) returns the exit status. */
static int run_subcommand(lua_State *L, const cli *c) {
  int status, code;
  lua_getglobal(L, "require");
  lua_pushliteral(L, "fieldlab.cli");
  status = fl_docall(L, 1, 1);
  if (status == LUA_OK) {
    lua_getfield(L, -1, "main");
    lua_remove(L, -2);
    lua_pushstring(L, c->argv[c->script]);
    lua_createtable(L, c->argc - c->script - 1, 0);
    for (int i = c->script + 1; i < c->argc; i++) {
      lua_pushstring(L, c->argv[i]);
      lua_rawseti(L, -2, i - c->script);
    }
    status = fl_docall(L, 2, 1);
  }
  if (fl_report(L, status) != LUA_OK) return EXIT_FAILURE;
  code = lua_isinteger(L, -1) ? (int)lua_tointeger(L, -1) : EXIT_FAILURE;
  lua_pop(L, 1);
  return code;
}

/* ------------------------------------------------------------------ main */

static int pmain(lua_State *L) {
  cli *c = lua_touserdata(L, 1);
  int noenv = (c->flags & HAS_NOENV) != 0;
  luaL_checkversion(L);
  if (c->flags & HAS_V) print_version();
  if (noenv) {  /* tell the package library to ignore LUA_PATH etc. */
    lua_pushboolean(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
  }
  luaL_openlibs(L);
  luaL_requiref(L, "fieldlab.core", fl_lua_open_core, 0);
  lua_pop(L, 1);
  if (c->seed_set) l_set_default_seed(L, c->seed);
  if (c->threads > 0) fl_set_threads(c->threads);
  if (c->quiet) l_set_quiet(L, 1);
  open_modules(L, noenv);
  lua_pushcfunction(L, export_fieldlab);
  if (fl_report(L, fl_docall(L, 0, 0)) != LUA_OK) return 0;
  createargtable(L, c->argv, c->argc, c->script);
  if (!noenv && handle_init(L) != LUA_OK) return 0;
  if (!runargs(L, c)) return 0;
  if (c->script < c->argc && is_subcommand(c)) {
    c->exitcode = run_subcommand(L, c);
    lua_pushboolean(L, 1);
    return 1;
  }
  if (c->script < c->argc && handle_script(L, c->argv + c->script) != LUA_OK) return 0;
  if (c->flags & HAS_I) {
    fl_repl(L);
  } else if (c->script == c->argc && !(c->flags & (HAS_E | HAS_V))) {
    if (isatty(STDIN_FILENO)) fl_repl(L);
    else if (dofile(L, NULL) != LUA_OK) return 0;
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* OpenMP threads that spin while waiting (libgomp's default) fight
   OpenBLAS's own pthreads for the cores: on a busy 2-core machine a small
   network's training step ran 10 times slower with 2 threads than with 1.
   libgomp reads OMP_WAIT_POLICY once, when the library is loaded, before
   main; so when the user has not chosen a policy, set PASSIVE and run the
   program again once with it (if the re-exec fails, go on as we are). */
static void passive_openmp(char **argv) {
#if defined(_OPENMP) && defined(__linux__)
  if (getenv("OMP_WAIT_POLICY") != NULL) return;
  if (setenv("OMP_WAIT_POLICY", "PASSIVE", 1) != 0) return;
  execv("/proc/self/exe", argv);
#else
  (void)argv;
#endif
}

int main(int argc, char **argv) {
  cli c;
  int status, result;
  lua_State *L;
  if (argc >= 1 && argv[0] != NULL) passive_openmp(argv);
  memset(&c, 0, sizeof c);
  c.argc = argc;
  c.argv = argv;
  c.actions = calloc((size_t)argc + 1, sizeof *c.actions);
  if (c.actions == NULL) {
    fprintf(stderr, PROGNAME ": not enough memory\n");
    return EXIT_FAILURE;
  }
  if (argc < 1 || argv[0] == NULL) c.script = 0;
  else if ((status = collectargs(&c)) != 0) {
    free(c.actions);
    return status;
  }
  if (c.flags & HAS_H) {
    print_usage(stdout);
    free(c.actions);
    return EXIT_SUCCESS;
  }
  L = luaL_newstate();
  if (L == NULL) {
    fprintf(stderr, PROGNAME ": cannot create state: not enough memory\n");
    free(c.actions);
    return EXIT_FAILURE;
  }
  lua_pushcfunction(L, pmain);
  lua_pushlightuserdata(L, &c);
  status = lua_pcall(L, 1, 1, 0);
  result = lua_toboolean(L, -1);
  fl_report(L, status);
  lua_close(L);
  free(c.actions);
  return (result && status == LUA_OK) ? c.exitcode : EXIT_FAILURE;
}
