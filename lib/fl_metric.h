#ifndef FL_METRIC_H
#define FL_METRIC_H
#include "fl_core.h"
#endif
