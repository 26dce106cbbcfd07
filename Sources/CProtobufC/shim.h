#ifndef METIS_CPROTOBUFC_SHIM_H
#define METIS_CPROTOBUFC_SHIM_H
#include <protobuf-c/protobuf-c.h>
#endif
