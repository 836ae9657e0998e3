#ifndef FL_AD_H
#define FL_AD_H
#include "fl_core.h"
#endif
