#ifndef FL_GRID_H
#define FL_GRID_H
#include "fl_core.h"
#endif
