#ifndef FL_ANALYTIC_H
#define FL_ANALYTIC_H
#include "fl_core.h"
#endif
