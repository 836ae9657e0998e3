#ifndef FL_GMM_H
#define FL_GMM_H
#include "fl_core.h"
#endif
