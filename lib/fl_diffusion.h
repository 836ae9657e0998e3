#ifndef FL_DIFFUSION_H
#define FL_DIFFUSION_H
#include "fl_core.h"
#endif
