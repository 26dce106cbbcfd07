// metis-probe: calls a Metis service over its Unix socket (or TCP, with
// mutual TLS through OpenSSL) with libprotobuf-c. See README.md.
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "metis/v1/health.pb-c.h"
#include "metis/v1/rpc.pb-c.h"
#include "metis/v1/storage.pb-c.h"

#define MAX_FRAME_BYTES (64u * 1024u * 1024u)

static const char *status_name(int code) {
    static const char *names[] = {
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
        "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
        "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
        "UNAUTHENTICATED"};
    return code >= 0 && code <= 16 ? names[code] : "UNKNOWN";
}

static int connect_unix(const char *path) {
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(address.sun_path)) {
        fprintf(stderr, "socket path too long: %s\n", path);
        return -1;
    }
    strcpy(address.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr *)&address, sizeof(address)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

// The host part of HOST:PORT or [HOST]:PORT, into host (size bytes).
static int host_of(const char *host_port, char *host, size_t size) {
    const char *colon = strrchr(host_port, ':');
    if (!colon) return -1;
    const char *start = host_port, *end = colon;
    if (*start == '[' && end > start && end[-1] == ']') start++, end--;
    if ((size_t)(end - start) >= size) return -1;
    memcpy(host, start, (size_t)(end - start));
    host[end - start] = '\0';
    return 0;
}

static int connect_tcp(const char *host, const char *port) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *results;
    if (getaddrinfo(host, port, &hints, &results) != 0) return -1;
    int fd = -1;
    for (struct addrinfo *r = results; r; r = r->ai_next) {
        fd = socket(r->ai_family, r->ai_socktype, r->ai_protocol);
        if (fd < 0) continue;
        if (connect(fd, r->ai_addr, r->ai_addrlen) == 0) break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(results);
    return fd;
}

// A connected socket, with its TLS session when the transport is TLS.
struct connection {
    int fd;
    SSL *ssl;
};

static int write_all(struct connection *c, const uint8_t *bytes, size_t length) {
    while (length > 0) {
        ssize_t written = c->ssl ? SSL_write(c->ssl, bytes, (int)length) : write(c->fd, bytes, length);
        if (written < 0 && !c->ssl && errno == EINTR) continue;
        if (written <= 0) return -1;
        bytes += written;
        length -= (size_t)written;
    }
    return 0;
}

static int read_all(struct connection *c, uint8_t *bytes, size_t length) {
    while (length > 0) {
        ssize_t got = c->ssl ? SSL_read(c->ssl, bytes, (int)length) : read(c->fd, bytes, length);
        if (got < 0 && !c->ssl && errno == EINTR) continue;
        if (got <= 0) return -1;
        bytes += got;
        length -= (size_t)got;
    }
    return 0;
}

static void print_tls_error(const char *address, const char *what) {
    unsigned long code = ERR_get_error();
    char reason[256] = "no detail";
    if (code) ERR_error_string_n(code, reason, sizeof(reason));
    printf("%s: UNAVAILABLE: %s: %s\n", address, what, reason);
}

// Mutual TLS over an open TCP socket: presents certificate/key, accepts the
// server only if its certificate chains to trust and names host. 0 on success.
static int start_tls(struct connection *c, const char *address, const char *host, const char *certificate,
                     const char *key, const char *trust) {
    SSL_CTX *context = SSL_CTX_new(TLS_client_method());
    if (!context) return print_tls_error(address, "no TLS context"), -1;
    SSL_CTX_set_min_proto_version(context, TLS1_3_VERSION);
    if (SSL_CTX_use_certificate_chain_file(context, certificate) != 1) {
        print_tls_error(address, "cannot use the TLS certificate");
        SSL_CTX_free(context);
        return -1;
    }
    if (SSL_CTX_use_PrivateKey_file(context, key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(context) != 1) {
        print_tls_error(address, "cannot use the TLS key");
        SSL_CTX_free(context);
        return -1;
    }
    if (SSL_CTX_load_verify_locations(context, trust, NULL) != 1) {
        print_tls_error(address, "cannot read the TLS trust file");
        SSL_CTX_free(context);
        return -1;
    }
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER, NULL);
    c->ssl = SSL_new(context);
    SSL_CTX_free(context);  // the session keeps its own reference
    if (!c->ssl) return print_tls_error(address, "no TLS session"), -1;
    X509_VERIFY_PARAM *parameters = SSL_get0_param(c->ssl);
    unsigned char ip[16];
    if (inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1) {
        X509_VERIFY_PARAM_set1_ip_asc(parameters, host);
    } else {
        X509_VERIFY_PARAM_set1_host(parameters, host, 0);
        SSL_set_tlsext_host_name(c->ssl, host);
    }
    SSL_set_fd(c->ssl, c->fd);
    if (SSL_connect(c->ssl) != 1) {
        long verdict = SSL_get_verify_result(c->ssl);
        if (verdict != X509_V_OK) {
            printf("%s: UNAVAILABLE: TLS: server certificate refused: %s\n", address, X509_verify_cert_error_string(verdict));
        } else {
            print_tls_error(address, "TLS handshake failed");
        }
        return -1;
    }
    return 0;
}

// Sends one request frame and returns the response frame (caller frees), or NULL.
static Metis__V1__Frame *call(struct connection *c, const char *method, const ProtobufCMessage *request, uint64_t timeout_micros) {
    size_t request_size = protobuf_c_message_get_packed_size(request);
    uint8_t *payload = malloc(request_size ? request_size : 1);
    protobuf_c_message_pack(request, payload);

    Metis__V1__Frame frame = METIS__V1__FRAME__INIT;
    frame.request_id = 1;
    frame.kind = METIS__V1__FRAME_KIND__FRAME_KIND_REQUEST;
    frame.method = (char *)method;
    frame.payload.data = payload;
    frame.payload.len = request_size;
    frame.timeout_micros = timeout_micros;
    Metis__V1__Frame__MetadataEntry caller = METIS__V1__FRAME__METADATA_ENTRY__INIT;
    caller.key = "caller";
    caller.value = "metis-probe";
    Metis__V1__Frame__MetadataEntry *entries[] = {&caller};
    frame.metadata = entries;
    frame.n_metadata = 1;

    size_t frame_size = metis__v1__frame__get_packed_size(&frame);
    uint8_t *message = malloc(4 + frame_size);
    uint32_t length = htonl((uint32_t)frame_size);
    memcpy(message, &length, 4);
    metis__v1__frame__pack(&frame, message + 4);
    int sent = write_all(c, message, 4 + frame_size);
    free(message);
    free(payload);
    if (sent != 0) {
        fprintf(stderr, "error: cannot send request: %s\n", strerror(errno));
        return NULL;
    }

    for (;;) {
        uint32_t prefix;
        if (read_all(c, (uint8_t *)&prefix, 4) != 0) {
            fprintf(stderr, "error: no response: %s\n", errno ? strerror(errno) : "connection closed");
            return NULL;
        }
        uint32_t size = ntohl(prefix);
        if (size > MAX_FRAME_BYTES) {
            fprintf(stderr, "error: response frame of %u bytes exceeds %u\n", size, MAX_FRAME_BYTES);
            return NULL;
        }
        uint8_t *body = malloc(size ? size : 1);
        if (read_all(c, body, size) != 0) {
            free(body);
            fprintf(stderr, "error: truncated response\n");
            return NULL;
        }
        Metis__V1__Frame *response = metis__v1__frame__unpack(NULL, size, body);
        free(body);
        if (!response) {
            fprintf(stderr, "error: response is not a metis.v1.Frame\n");
            return NULL;
        }
        if (response->request_id == 1 || response->request_id == 0) return response;
        metis__v1__frame__free_unpacked(response, NULL);  // not ours: keep reading
    }
}

static int usage(void) {
    fprintf(stderr,
            "usage: metis-probe SOCKET|tcp://HOST:PORT health|stats [--timeout SECONDS]\n"
            "                   [--tls-certificate PEM --tls-key PEM --tls-trust PEM]\n");
    return 2;
}

int main(int argc, char **argv) {
    if (argc < 3) return usage();
    const char *address = argv[1], *command = argv[2];
    const char *certificate = NULL, *key = NULL, *trust = NULL;
    double timeout = 5;
    for (int i = 3; i < argc; i += 2) {
        if (i + 1 >= argc) return usage();
        if (strcmp(argv[i], "--timeout") == 0) {
            char *end;
            timeout = strtod(argv[i + 1], &end);
            if (*end != '\0' || timeout <= 0) return usage();
        } else if (strcmp(argv[i], "--tls-certificate") == 0) {
            certificate = argv[i + 1];
        } else if (strcmp(argv[i], "--tls-key") == 0) {
            key = argv[i + 1];
        } else if (strcmp(argv[i], "--tls-trust") == 0) {
            trust = argv[i + 1];
        } else {
            return usage();
        }
    }
    int tls_given = (certificate != NULL) + (key != NULL) + (trust != NULL);
    if (tls_given != 0 && tls_given != 3) {
        fprintf(stderr, "TLS needs all of --tls-certificate, --tls-key and --tls-trust\n");
        return 2;
    }
    int is_health = strcmp(command, "health") == 0, is_stats = strcmp(command, "stats") == 0;
    if (!is_health && !is_stats) return usage();
    int is_tcp = strncmp(address, "tcp://", 6) == 0;
    if (tls_given && !is_tcp) {
        fprintf(stderr, "TLS is for tcp:// addresses; a Unix socket checks its peer's user instead\n");
        return 2;
    }

    char host[256];
    struct connection c = {.fd = -1, .ssl = NULL};
    if (is_tcp) {
        if (host_of(address + 6, host, sizeof(host)) == 0) c.fd = connect_tcp(host, strrchr(address, ':') + 1);
    } else {
        c.fd = connect_unix(strncmp(address, "unix:", 5) == 0 ? address + 5 : address);
    }
    if (c.fd < 0) {
        printf("%s: UNAVAILABLE: cannot connect: %s\n", address, strerror(errno));
        return 1;
    }
    struct timeval tv = {.tv_sec = (time_t)timeout, .tv_usec = (suseconds_t)((timeout - (time_t)timeout) * 1e6)};
    setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(c.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (tls_given) {
        if (start_tls(&c, address, host, certificate, key, trust) != 0) {
            if (c.ssl) SSL_free(c.ssl);
            close(c.fd);
            return 1;
        }
    }

    Metis__V1__Frame *response;
    if (is_health) {
        Metis__V1__HealthCheckRequest request = METIS__V1__HEALTH_CHECK_REQUEST__INIT;
        response = call(&c, "metis.v1.Health/Check", &request.base, (uint64_t)(timeout * 1e6));
    } else {
        Metis__V1__GetStorageStatisticsRequest request = METIS__V1__GET_STORAGE_STATISTICS_REQUEST__INIT;
        response = call(&c, "metis.v1.Storage/GetStatistics", &request.base, (uint64_t)(timeout * 1e6));
    }
    if (c.ssl) {
        SSL_shutdown(c.ssl);
        SSL_free(c.ssl);
    }
    close(c.fd);
    if (!response) {
        printf("%s: UNAVAILABLE: no valid response\n", address);
        return 1;
    }
    int exit_code = 1;
    if (response->status && response->status->code != METIS__V1__STATUS_CODE__OK) {
        printf("%s: %s: %s\n", address, status_name(response->status->code), response->status->message);
    } else if (is_health) {
        Metis__V1__HealthCheckResponse *health =
            metis__v1__health_check_response__unpack(NULL, response->payload.len, response->payload.data);
        if (!health) {
            printf("%s: INTERNAL: response is not a HealthCheckResponse\n", address);
        } else {
            int serving = health->status == METIS__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
            printf("%s %s pid %u: %s\n", health->component, health->version, health->process_id,
                   serving ? "SERVING" : "NOT_SERVING");
            for (size_t i = 0; i < health->n_details; i++) {
                printf("  %s=%s\n", health->details[i]->key, health->details[i]->value);
            }
            exit_code = serving ? 0 : 1;
            metis__v1__health_check_response__free_unpacked(health, NULL);
        }
    } else {
        Metis__V1__StorageStatistics *stats =
            metis__v1__storage_statistics__unpack(NULL, response->payload.len, response->payload.data);
        if (!stats) {
            printf("%s: INTERNAL: response is not StorageStatistics\n", address);
        } else {
            printf("patients=%llu studies=%llu series=%llu instances=%llu stored_bytes=%llu disk_bytes=%llu schema=%u\n",
                   (unsigned long long)stats->patients, (unsigned long long)stats->studies,
                   (unsigned long long)stats->series, (unsigned long long)stats->instances,
                   (unsigned long long)stats->stored_bytes, (unsigned long long)stats->disk_bytes,
                   stats->index_schema_version);
            exit_code = 0;
            metis__v1__storage_statistics__free_unpacked(stats, NULL);
        }
    }
    metis__v1__frame__free_unpacked(response, NULL);
    return exit_code;
}
