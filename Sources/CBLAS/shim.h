#ifndef METIS_CBLAS_SHIM_H
#define METIS_CBLAS_SHIM_H
// OpenBLAS's CBLAS interface and its runtime queries (core name, threads, config).
#include <cblas.h>
#endif
