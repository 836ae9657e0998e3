#ifndef FL_WDECOMP_H
#define FL_WDECOMP_H
#include "fl_core.h"
#endif
