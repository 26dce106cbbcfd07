#ifndef METIS_CLIBCRYPTO_SHIM_H
#define METIS_CLIBCRYPTO_SHIM_H
// OpenSSL's libcrypto: SHA-256 of stored blobs and access tokens, random bytes
// for new tokens, and self-signed certificates for `metis cert self-signed`.
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>
#include <openssl/bio.h>
#endif
