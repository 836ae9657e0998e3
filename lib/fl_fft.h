#ifndef FL_FFT_H
#define FL_FFT_H
#include "fl_core.h"
#endif
