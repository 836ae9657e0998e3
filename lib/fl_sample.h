#ifndef FL_SAMPLE_H
#define FL_SAMPLE_H
#include "fl_core.h"
#endif
