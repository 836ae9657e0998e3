#ifndef FL_CHECK_H
#define FL_CHECK_H
#include "fl_core.h"
#endif
