#ifndef FL_OPTIM_H
#define FL_OPTIM_H
#include "fl_core.h"
#endif
