#ifndef FL_DATA_H
#define FL_DATA_H
#include "fl_core.h"
#endif
