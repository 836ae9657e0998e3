#ifndef FL_ODE_H
#define FL_ODE_H
#include "fl_core.h"
#endif
