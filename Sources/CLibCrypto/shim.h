#ifndef METIS_CLIBCRYPTO_SHIM_H
#define METIS_CLIBCRYPTO_SHIM_H
// OpenSSL's libcrypto: SHA-256 of stored blobs.
#include <openssl/evp.h>
#endif
