/* The interactive loop of the fieldlab program, after lua.c's doREPL: each
 * line is tried as "return <line>;" first so expressions print their values,
 * then as a statement; input continues while the syntax error ends in
 * "<eof>"; results go through the global print; prompts come from _PROMPT and
 * _PROMPT2.
 *
 * On a terminal, with GNU readline or libedit built in: line editing, a
 * history kept in ~/.fieldlab_history (unless FIELDLAB_NOHISTORY is set) and
 * tab completion (stdlib/fieldlab/complete.lua). Readline runs through its
 * callback interface under pselect, so Ctrl-C at the prompt discards the input
 * and shows a fresh prompt instead of killing the program. Without a terminal
 * (or a line-editing library), lines are read from stdin with prompts printed
 * as lua5.4 does; Ctrl-C there also discards the input. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

#include <lua.h>
#include <lauxlib.h>

#if defined(FL_USE_READLINE)
#include <readline/readline.h>
#include <readline/history.h>
#define FL_LINE_EDITING 1
#elif defined(FL_USE_LIBEDIT)
#include <editline/readline.h>
#define FL_LINE_EDITING 1
#endif

#include "repl.h"

#define BANNER PACKAGE_NAME " " PACKAGE_VERSION " \xe2\x80\x94 type help() for help, Ctrl-D to quit"
#define PROMPT1 "> "
#define PROMPT2 ">> "
#define EOFMARK "<eof>"
#define CHUNKNAME "=stdin"

/* What reading a line gave. */
enum { LINE_OK, LINE_EOF, LINE_INTR };
/* loadline's results besides lua_load statuses. */
#define LOAD_EOF (-1)
#define LOAD_INTR (-2)

static volatile sig_atomic_t got_sigint = 0;

static void on_sigint(int sig) {
  (void)sig;
  got_sigint = 1;
}

/* Install handler for sig without SA_RESTART, so blocking reads return EINTR. */
static void catch_signal(int sig, void (*handler)(int), struct sigaction *old) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, old);
}

/* ------------------------------------------------------- plain reading */

static int plain_readline(const char *prompt, char **line) {
  struct sigaction old;
  char *buf = NULL;
  size_t cap = 0;
  ssize_t n;
  fputs(prompt, stdout);
  fflush(stdout);
  got_sigint = 0;
  catch_signal(SIGINT, on_sigint, &old);
  n = getline(&buf, &cap, stdin);
  sigaction(SIGINT, &old, NULL);
  if (n < 0) {
    free(buf);
    if (got_sigint) {
      clearerr(stdin);
      fputc('\n', stdout);
      return LINE_INTR;
    }
    return LINE_EOF;
  }
  if (n > 0 && buf[n - 1] == '\n') buf[--n] = '\0';
  if (n > 0 && buf[n - 1] == '\r') buf[--n] = '\0';
  *line = buf;
  return LINE_OK;
}

#ifdef FL_LINE_EDITING

/* ------------------------------------------------------------- history */

#define HISTORY_FILE ".fieldlab_history"
#define HISTORY_MAX 1000

static char *history_path = NULL;  /* NULL: no history file */
static int history_added = 0;      /* entries added in this session */
static char *history_last = NULL;  /* the last entry added, to skip repeats */

static void history_save(void) {
  if (history_path == NULL) return;
  if (history_added > 0) {
#ifdef FL_USE_READLINE
    /* append this session's lines (other sessions may have written since) */
    int n = history_added < history_length ? history_added : history_length;
    if (append_history(n, history_path) != 0) write_history(history_path);
    history_truncate_file(history_path, HISTORY_MAX);
#else
    write_history(history_path);
#endif
  }
  free(history_path);
  history_path = NULL;
  free(history_last);
  history_last = NULL;
}

static void history_open(void) {
  const char *home = getenv("HOME");
  size_t len;
  stifle_history(HISTORY_MAX);
  if (getenv("FIELDLAB_NOHISTORY") != NULL || home == NULL || *home == '\0') return;
  len = strlen(home) + sizeof "/" HISTORY_FILE;
  history_path = malloc(len);
  if (history_path == NULL) return;
  snprintf(history_path, len, "%s/" HISTORY_FILE, home);
  read_history(history_path);  /* fails harmlessly when there is none yet */
  atexit(history_save);        /* also on os.exit() */
}

static void history_add(const char *line) {
  const char *p = line;
  while (*p == ' ' || *p == '\t') p++;
  if (*p == '\0' || (history_last != NULL && strcmp(line, history_last) == 0)) return;
  add_history(line);
  history_added++;
  free(history_last);
  history_last = strdup(line);
}

/* ---------------------------------------------------------- completion */

static lua_State *complete_L = NULL;
static char **cands = NULL;  /* this attempt's candidates, owned until handed out */
static size_t ncands = 0, icand = 0;

static void free_cands(void) {
  for (size_t i = icand; i < ncands; i++) free(cands[i]);
  free(cands);
  cands = NULL;
  ncands = icand = 0;
}

/* (text) -> require("fieldlab.complete").complete(text) */
static int lua_candidates(lua_State *L) {
  lua_getglobal(L, "require");
  lua_pushliteral(L, "fieldlab.complete");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "complete");
  lua_pushvalue(L, 1);
  lua_call(L, 1, 1);
  return 1;
}

static void get_cands(lua_State *L, const char *text) {
  int top = lua_gettop(L);
  free_cands();
  lua_pushcfunction(L, lua_candidates);
  lua_pushstring(L, text);
  if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_type(L, -1) == LUA_TTABLE) {
    size_t n = (size_t)lua_rawlen(L, -1);
    cands = n > 0 ? calloc(n, sizeof *cands) : NULL;
    for (size_t i = 1; cands != NULL && i <= n; i++) {
      if (lua_rawgeti(L, -1, (lua_Integer)i) == LUA_TSTRING) {
        char *s = strdup(lua_tostring(L, -1));
        if (s != NULL) cands[ncands++] = s;
      }
      lua_pop(L, 1);
    }
  }
  lua_settop(L, top);
}

static char *cand_generator(const char *text, int state) {
  (void)text;
  (void)state;
  return icand < ncands ? cands[icand++] : NULL;  /* readline frees it */
}

static char **attempt_completion(const char *text, int start, int end) {
  char **matches = NULL;
  (void)start;
  (void)end;
  rl_attempted_completion_over = 1;  /* never fall back to file names */
  rl_completion_append_character = '\0';
  rl_completion_suppress_append = 1;
  if (complete_L == NULL) return NULL;
  get_cands(complete_L, text);
  if (ncands > 0) matches = rl_completion_matches(text, cand_generator);
  free_cands();
  return matches;
}

/* ---------------------------------------------------------- line editing */

static volatile sig_atomic_t got_sigwinch = 0;
static char *edit_line = NULL;
static int edit_done = 0;

static void on_sigwinch(int sig) {
  (void)sig;
  got_sigwinch = 1;
}

static void on_line(char *line) {
  edit_line = line;
  edit_done = 1;
  rl_callback_handler_remove();
}

/* Ctrl-C at the prompt: drop the input, restore the terminal, new line. */
static void discard_input(void) {
  rl_delete_text(0, rl_end);
  rl_point = rl_end = 0;
#ifdef FL_USE_READLINE
  rl_free_line_state();
#if RL_READLINE_VERSION >= 0x0700
  rl_callback_sigcleanup();
#endif
  rl_cleanup_after_signal();
#endif
  rl_callback_handler_remove();
  using_history();
  fputc('\n', rl_outstream ? rl_outstream : stdout);
  fflush(rl_outstream ? rl_outstream : stdout);
}

static int edit_readline(const char *prompt, char **line) {
  sigset_t block, orig;
  struct sigaction oldint, oldwinch;
  int fd = fileno(rl_instream ? rl_instream : stdin);
  int status = LINE_OK;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGWINCH);
  sigprocmask(SIG_BLOCK, &block, &orig);  /* delivered only inside pselect */
  got_sigint = got_sigwinch = 0;
  catch_signal(SIGINT, on_sigint, &oldint);
  catch_signal(SIGWINCH, on_sigwinch, &oldwinch);
  edit_line = NULL;
  edit_done = 0;
  rl_callback_handler_install(prompt, on_line);
  while (!edit_done) {
    fd_set fds;
    int r;
    FD_ZERO(&fds);
    FD_SET(fd, &fds);
    r = pselect(fd + 1, &fds, NULL, NULL, NULL, &orig);
    if (got_sigint) {
      discard_input();
      status = LINE_INTR;
      break;
    }
    if (got_sigwinch) {
      got_sigwinch = 0;
      rl_resize_terminal();
    }
    if (r > 0) rl_callback_read_char();
    else if (r < 0 && errno != EINTR) {
      rl_callback_handler_remove();
      status = LINE_EOF;
      break;
    }
  }
  sigaction(SIGINT, &oldint, NULL);
  sigaction(SIGWINCH, &oldwinch, NULL);
  sigprocmask(SIG_SETMASK, &orig, NULL);
  if (status == LINE_OK) {
    if (edit_line == NULL) {
      fputc('\n', rl_outstream ? rl_outstream : stdout);  /* Ctrl-D */
      status = LINE_EOF;
    } else {
      history_add(edit_line);
      *line = edit_line;
    }
  } else {
    free(edit_line);
  }
  return status;
}

static void editing_init(lua_State *L) {
  complete_L = L;
  rl_readline_name = "fieldlab";
  rl_catch_signals = 0;
  rl_catch_sigwinch = 0;
  rl_basic_word_break_characters = " \t\n\"\\'`@$><=;|&{}()[],+-*/%^~#";
  rl_attempted_completion_function = attempt_completion;
  history_open();
}

static void editing_done(void) {
  history_save();
  complete_L = NULL;
}

#endif /* FL_LINE_EDITING */

/* --------------------------------------------------------------- the loop */

static int use_editing = 0;

static int read_line(const char *prompt, char **line) {
#ifdef FL_LINE_EDITING
  if (use_editing) return edit_readline(prompt, line);
#endif
  return plain_readline(prompt, line);
}

/* Push the prompt (left on the stack while reading, as lua.c does). */
static const char *get_prompt(lua_State *L, int firstline) {
  if (lua_getglobal(L, firstline ? "_PROMPT" : "_PROMPT2") == LUA_TNIL)
    return firstline ? PROMPT1 : PROMPT2;
  const char *p = luaL_tolstring(L, -1, NULL);
  lua_remove(L, -2);
  return p;
}

/* Read a line and push it (a first line "=x" becomes "return x"). */
static int pushline(lua_State *L, int firstline) {
  char *line = NULL;
  int st = read_line(get_prompt(L, firstline), &line);
  lua_pop(L, 1);  /* the prompt */
  if (st != LINE_OK) return st;
  if (firstline && line[0] == '=') lua_pushfstring(L, "return %s", line + 1);
  else lua_pushstring(L, line);
  free(line);
  return LINE_OK;
}

static int incomplete(lua_State *L, int status) {
  if (status == LUA_ERRSYNTAX) {
    size_t lmsg;
    const char *msg = lua_tolstring(L, -1, &lmsg);
    size_t marklen = sizeof(EOFMARK) - 1;
    if (lmsg >= marklen && strcmp(msg + lmsg - marklen, EOFMARK) == 0) {
      lua_pop(L, 1);
      return 1;
    }
  }
  return 0;
}

/* Try "return <line>;": the line on the stack is replaced by the chunk. */
static int addreturn(lua_State *L) {
  const char *line = lua_tostring(L, -1);
  const char *retline = lua_pushfstring(L, "return %s;", line);
  int status = luaL_loadbuffer(L, retline, strlen(retline), CHUNKNAME);
  if (status == LUA_OK) lua_remove(L, -2);  /* keep the chunk over the line */
  else lua_pop(L, 2);
  return status;
}

/* The line at index 1 as a statement, reading more lines while incomplete. */
static int multiline(lua_State *L) {
  for (;;) {
    size_t len;
    const char *code = lua_tolstring(L, 1, &len);
    int status = luaL_loadbuffer(L, code, len, CHUNKNAME);
    int st;
    if (!incomplete(L, status)) return status;
    st = pushline(L, 0);
    if (st == LINE_INTR) return LOAD_INTR;
    if (st == LINE_EOF)  /* the statement stays incomplete: report that */
      return luaL_loadbuffer(L, code, len, CHUNKNAME);
    lua_pushliteral(L, "\n");
    lua_insert(L, -2);
    lua_concat(L, 3);
  }
}

/* Read a chunk and leave it (or an error message) on the stack. */
static int loadline(lua_State *L) {
  int status;
  lua_settop(L, 0);
  switch (pushline(L, 1)) {
    case LINE_EOF: return LOAD_EOF;
    case LINE_INTR: return LOAD_INTR;
    default: break;
  }
  if ((status = addreturn(L)) != LUA_OK) status = multiline(L);
  if (status != LOAD_INTR) lua_remove(L, 1);  /* the source line */
  return status;
}

/* Print the values on the stack through the global print. */
static void print_results(lua_State *L) {
  int n = lua_gettop(L);
  if (n > 0) {
    luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
    lua_getglobal(L, "print");
    lua_insert(L, 1);
    if (lua_pcall(L, n, 0, 0) != LUA_OK) {
      lua_pushfstring(L, "error calling 'print' (%s)", lua_tostring(L, -1));
      fl_report(L, LUA_ERRRUN);
    }
  }
}

void fl_repl(lua_State *L) {
  int status;
  int tty = isatty(STDIN_FILENO);
  struct sigaction oldint;
  /* Ctrl-C between reading and running a line must not kill the session:
   * fl_docall replaces this during each call, the readers while reading. */
  catch_signal(SIGINT, on_sigint, &oldint);
  if (tty) {
    puts(BANNER);
    fflush(stdout);
  }
#ifdef FL_LINE_EDITING
  use_editing = tty;
  if (use_editing) editing_init(L);
#endif
  while ((status = loadline(L)) != LOAD_EOF) {
    if (status == LOAD_INTR) continue;
    if (status == LUA_OK) status = fl_docall(L, 0, LUA_MULTRET);
    if (status == LUA_OK) print_results(L);
    else fl_report(L, status);
  }
  lua_settop(L, 0);
#ifdef FL_LINE_EDITING
  if (use_editing) editing_done();
#endif
  if (!use_editing) fputc('\n', stdout);
  fflush(stdout);
  sigaction(SIGINT, &oldint, NULL);
}
