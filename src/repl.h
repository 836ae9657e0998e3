/* The interactive loop of the fieldlab program. */
#ifndef FL_REPL_H
#define FL_REPL_H

#include <lua.h>

/* Provided by main.c: run the function on the stack (below its narg arguments)
 * under the message handler and the SIGINT hook; returns a lua_pcall status. */
int fl_docall(lua_State *L, int narg, int nres);
/* Provided by main.c: print the error on the stack top (if status != LUA_OK) as
 * "fieldlab: <message>" on stderr and pop it; returns status. */
int fl_report(lua_State *L, int status);

/* Provided by repl.c: read-eval-print until end of input. Line editing, history
 * and completion when stdin is a terminal and a line-editing library was built in. */
void fl_repl(lua_State *L);

#endif
