// metis-probe: calls a Metis service over its Unix socket (or TCP) with
// libprotobuf-c. See README.md.
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

static int connect_tcp(const char *host_port) {
    char host[256];
    const char *colon = strrchr(host_port, ':');
    if (!colon || (size_t)(colon - host_port) >= sizeof(host)) return -1;
    memcpy(host, host_port, (size_t)(colon - host_port));
    host[colon - host_port] = '\0';
    char *unbracketed = host;
    if (host[0] == '[') {
        unbracketed = host + 1;
        char *end = strchr(unbracketed, ']');
        if (end) *end = '\0';
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *results;
    if (getaddrinfo(unbracketed, colon + 1, &hints, &results) != 0) return -1;
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

static int write_all(int fd, const uint8_t *bytes, size_t length) {
    while (length > 0) {
        ssize_t written = write(fd, bytes, length);
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) return -1;
        bytes += written;
        length -= (size_t)written;
    }
    return 0;
}

static int read_all(int fd, uint8_t *bytes, size_t length) {
    while (length > 0) {
        ssize_t got = read(fd, bytes, length);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return -1;
        bytes += got;
        length -= (size_t)got;
    }
    return 0;
}

// Sends one request frame and returns the response frame (caller frees), or NULL.
static Metis__V1__Frame *call(int fd, const char *method, const ProtobufCMessage *request, uint64_t timeout_micros) {
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
    int sent = write_all(fd, message, 4 + frame_size);
    free(message);
    free(payload);
    if (sent != 0) {
        fprintf(stderr, "error: cannot send request: %s\n", strerror(errno));
        return NULL;
    }

    for (;;) {
        uint32_t prefix;
        if (read_all(fd, (uint8_t *)&prefix, 4) != 0) {
            fprintf(stderr, "error: no response: %s\n", errno ? strerror(errno) : "connection closed");
            return NULL;
        }
        uint32_t size = ntohl(prefix);
        if (size > MAX_FRAME_BYTES) {
            fprintf(stderr, "error: response frame of %u bytes exceeds %u\n", size, MAX_FRAME_BYTES);
            return NULL;
        }
        uint8_t *body = malloc(size ? size : 1);
        if (read_all(fd, body, size) != 0) {
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
    fprintf(stderr, "usage: metis-probe SOCKET|tcp://HOST:PORT health|stats [--timeout SECONDS]\n");
    return 2;
}

int main(int argc, char **argv) {
    if (argc != 3 && argc != 5) return usage();
    const char *address = argv[1], *command = argv[2];
    double timeout = 5;
    if (argc == 5) {
        if (strcmp(argv[3], "--timeout") != 0) return usage();
        char *end;
        timeout = strtod(argv[4], &end);
        if (*end != '\0' || timeout <= 0) return usage();
    }
    int is_health = strcmp(command, "health") == 0, is_stats = strcmp(command, "stats") == 0;
    if (!is_health && !is_stats) return usage();

    int fd;
    if (strncmp(address, "tcp://", 6) == 0) {
        fd = connect_tcp(address + 6);
    } else {
        fd = connect_unix(strncmp(address, "unix:", 5) == 0 ? address + 5 : address);
    }
    if (fd < 0) {
        printf("%s: UNAVAILABLE: cannot connect: %s\n", address, strerror(errno));
        return 1;
    }
    struct timeval tv = {.tv_sec = (time_t)timeout, .tv_usec = (suseconds_t)((timeout - (time_t)timeout) * 1e6)};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));

    Metis__V1__Frame *response;
    if (is_health) {
        Metis__V1__HealthCheckRequest request = METIS__V1__HEALTH_CHECK_REQUEST__INIT;
        response = call(fd, "metis.v1.Health/Check", &request.base, (uint64_t)(timeout * 1e6));
    } else {
        Metis__V1__GetStorageStatisticsRequest request = METIS__V1__GET_STORAGE_STATISTICS_REQUEST__INIT;
        response = call(fd, "metis.v1.Storage/GetStatistics", &request.base, (uint64_t)(timeout * 1e6));
    }
    close(fd);
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
