#ifndef METIS_CMALLOC_SHIM_H
#define METIS_CMALLOC_SHIM_H
// glibc's malloc tuning (mallopt, malloc_trim): the gateway and storage give large
// buffers back at once; the neural engine keeps them for reuse during a job.
#include <malloc.h>
#endif
