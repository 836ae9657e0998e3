#include "config.h"
#include "fl_fft.h"
