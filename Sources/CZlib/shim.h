#ifndef METIS_CZLIB_SHIM_H
#define METIS_CZLIB_SHIM_H
#include <zlib.h>
#endif
