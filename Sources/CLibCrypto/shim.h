#ifndef METIS_CLIBCRYPTO_SHIM_H
#define METIS_CLIBCRYPTO_SHIM_H
// OpenSSL's libcrypto: SHA-256 of stored blobs and access tokens, random bytes for new tokens.
#include <openssl/evp.h>
#include <openssl/rand.h>
#endif
