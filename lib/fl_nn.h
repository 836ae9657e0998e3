#ifndef FL_NN_H
#define FL_NN_H
#include "fl_core.h"
#endif
