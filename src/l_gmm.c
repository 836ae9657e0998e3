#include "config.h"
#include "l_util.h"

void l_open_gmm(lua_State *L)
{
  (void)L;
}
