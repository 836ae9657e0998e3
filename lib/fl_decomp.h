#ifndef FL_DECOMP_H
#define FL_DECOMP_H
#include "fl_core.h"
#endif
