/* 8-bit lossy JPEG (baseline and extended sequential, progressive) through libjpeg-turbo. */
#include "metis_pixel_codecs.h"
#include "shim_common.h"
#include <stdlib.h>
#include <turbojpeg.h>

int metis_jpeg_turbo_decode(const uint8_t *src, size_t src_length, uint8_t *dst, size_t dst_length, int to_rgb,
                            metis_codec_info *info, char *error, size_t error_length) {
    memset(info, 0, sizeof *info);
    tjhandle handle = tjInitDecompress();
    if (!handle) {
        metis_set_error(error, error_length, "%s", tjGetErrorStr());
        return METIS_CODEC_ERROR;
    }
    int result = METIS_CODEC_ERROR;
    int width = 0, height = 0, subsampling = 0, colorspace = 0;
    if (tjDecompressHeader3(handle, src, (unsigned long)src_length, &width, &height, &subsampling, &colorspace) != 0) {
        metis_set_error(error, error_length, "%s", tjGetErrorStr2(handle));
        goto done;
    }
    info->width = width;
    info->height = height;
    info->components = colorspace == TJCS_GRAY ? 1 : colorspace == TJCS_CMYK || colorspace == TJCS_YCCK ? 4 : 3;
    info->precision = 8;
    if ((size_t)width * height * info->components != dst_length || info->components == 4) {
        result = METIS_CODEC_SIZE_MISMATCH;
        goto done;
    }
    if (info->components == 3 && !to_rgb && colorspace == TJCS_YCbCr) {
        /* Components as coded: turbojpeg's planar YUV output would need upsampling here; let the IJG path do it. */
        metis_set_error(error, error_length, "YCbCr output without conversion is not available from libjpeg-turbo");
        goto done;
    }
    int format = info->components == 1 ? TJPF_GRAY : TJPF_RGB;
    if (tjDecompress2(handle, src, (unsigned long)src_length, dst, width, 0, height, format, TJFLAG_ACCURATEDCT) != 0 &&
        tjGetErrorCode(handle) == TJERR_FATAL) {
        metis_set_error(error, error_length, "%s", tjGetErrorStr2(handle));
        goto done;
    }
    result = METIS_CODEC_OK;
done:
    tjDestroy(handle);
    return result;
}

int metis_jpeg_turbo_encode(const uint8_t *pixels, int width, int height, int components, int quality, uint8_t **dst,
                            size_t *dst_length, char *error, size_t error_length) {
    *dst = NULL;
    *dst_length = 0;
    if ((components != 1 && components != 3) || width <= 0 || height <= 0) {
        metis_set_error(error, error_length, "cannot encode %d components of %dx%d", components, width, height);
        return METIS_CODEC_ERROR;
    }
    tjhandle handle = tjInitCompress();
    if (!handle) {
        metis_set_error(error, error_length, "%s", tjGetErrorStr());
        return METIS_CODEC_ERROR;
    }
    unsigned char *buffer = NULL;
    unsigned long length = 0;
    int format = components == 1 ? TJPF_GRAY : TJPF_RGB;
    int subsampling = components == 1 ? TJSAMP_GRAY : TJSAMP_420;
    int status = tjCompress2(handle, pixels, width, 0, height, format, &buffer, &length, subsampling, quality, TJFLAG_ACCURATEDCT);
    if (status != 0) {
        metis_set_error(error, error_length, "%s", tjGetErrorStr2(handle));
        tjFree(buffer);
        tjDestroy(handle);
        return METIS_CODEC_ERROR;
    }
    *dst = malloc(length);
    if (*dst) {
        memcpy(*dst, buffer, length);
        *dst_length = length;
    }
    tjFree(buffer);
    tjDestroy(handle);
    if (!*dst) {
        metis_set_error(error, error_length, "out of memory");
        return METIS_CODEC_ERROR;
    }
    return METIS_CODEC_OK;
}
