#ifndef METIS_CMALLOC_SHIM_H
#define METIS_CMALLOC_SHIM_H
// glibc's malloc tuning (mallopt): how the gateway and storage give large buffers back.
#include <malloc.h>
#endif
