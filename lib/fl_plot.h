#ifndef FL_PLOT_H
#define FL_PLOT_H
#include "fl_core.h"
#endif
