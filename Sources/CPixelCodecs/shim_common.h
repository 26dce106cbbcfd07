#ifndef METIS_SHIM_COMMON_H
#define METIS_SHIM_COMMON_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static inline void metis_set_error(char *error, size_t length, const char *format, ...) {
    if (!error || length == 0) return;
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(error, length, format, arguments);
    va_end(arguments);
}

/* Writes `value` as a little-endian sample of `bytes` bytes. */
static inline void metis_put_sample(uint8_t *dst, size_t index, int bytes, int32_t value) {
    uint8_t *p = dst + index * (size_t)bytes;
    uint32_t v = (uint32_t)value;
    p[0] = (uint8_t)v;
    if (bytes > 1) p[1] = (uint8_t)(v >> 8);
    if (bytes > 2) { p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24); }
}

static inline int32_t metis_get_sample(const uint8_t *src, size_t index, int bytes, int is_signed) {
    const uint8_t *p = src + index * (size_t)bytes;
    if (bytes == 1) return is_signed ? (int32_t)(int8_t)p[0] : (int32_t)p[0];
    if (bytes == 2) {
        uint16_t v = (uint16_t)(p[0] | (p[1] << 8));
        return is_signed ? (int32_t)(int16_t)v : (int32_t)v;
    }
    return (int32_t)((uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24));
}

#endif
