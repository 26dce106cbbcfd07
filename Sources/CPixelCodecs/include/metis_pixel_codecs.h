#ifndef METIS_PIXEL_CODECS_H
#define METIS_PIXEL_CODECS_H

/*
 * Thin C shims over the field's decoders: OpenJPEG (JPEG 2000, HTJ2K),
 * CharLS (JPEG-LS), libjpeg-turbo (8-bit lossy JPEG) and GDCM's IJG builds
 * (lossless JPEG and 12-bit lossy JPEG). Each decodes one frame into a
 * caller-owned buffer: samples interleaved (colour-by-pixel), each sample
 * `bytes_per_sample` bytes (1, 2 or 4) in little-endian order.
 *
 * Each function reads the stream's header first and returns
 * METIS_CODEC_SIZE_MISMATCH, with `info` filled, before any decoding when the
 * stream's width × height × components × bytes_per_sample is not dst_length:
 * the caller sizes dst from the DICOM header, bounded, so a stream cannot make
 * the library allocate more than the frame the data set declares.
 */

#include <stddef.h>
#include <stdint.h>

#define METIS_CODEC_OK 0
#define METIS_CODEC_ERROR 1
#define METIS_CODEC_SIZE_MISMATCH 2

/* What the stream says about itself. */
typedef struct metis_codec_info {
    int32_t width;
    int32_t height;
    int32_t components;
    int32_t precision;
    /* JPEG 2000 only: whether the codestream's components are signed. */
    int32_t is_signed;
    /* JPEG: the SOF process (0 sequential DCT, 1 progressive, 2 lossless); JPEG-LS: the NEAR parameter. */
    int32_t process;
} metis_codec_info;

/* JPEG 2000 / HTJ2K (a J2K codestream or a JP2 file). `reduce` is 0. */
int metis_j2k_decode(const uint8_t *src, size_t src_length, uint8_t *dst, size_t dst_length, int bytes_per_sample,
                     metis_codec_info *info, char *error, size_t error_length);

/* JPEG-LS, lossless and near-lossless. */
int metis_jls_decode(const uint8_t *src, size_t src_length, uint8_t *dst, size_t dst_length, int bytes_per_sample,
                     metis_codec_info *info, char *error, size_t error_length);

/* 8-bit lossy JPEG through libjpeg-turbo; colour streams are converted to RGB
   when `to_rgb` is non-zero, otherwise their components are returned as coded. */
int metis_jpeg_turbo_decode(const uint8_t *src, size_t src_length, uint8_t *dst, size_t dst_length, int to_rgb,
                            metis_codec_info *info, char *error, size_t error_length);

/* Any JPEG process through GDCM's IJG builds, by sample precision: 8, 12 or 16
   (lossless only) bits. YCbCr lossy colour is converted to RGB when `to_rgb`. */
int metis_ijg8_decode(const uint8_t *src, size_t src_length, uint8_t *dst, size_t dst_length, int bytes_per_sample,
                      int to_rgb, metis_codec_info *info, char *error, size_t error_length);
int metis_ijg12_decode(const uint8_t *src, size_t src_length, uint8_t *dst, size_t dst_length, int bytes_per_sample,
                       int to_rgb, metis_codec_info *info, char *error, size_t error_length);
int metis_ijg16_decode(const uint8_t *src, size_t src_length, uint8_t *dst, size_t dst_length, int bytes_per_sample,
                       int to_rgb, metis_codec_info *info, char *error, size_t error_length);

/* Encoders, for transcoding to a lossless syntax a client asks for. Each
   writes a complete stream into a buffer the codec allocates with malloc;
   the caller frees it with free(). Samples as for the decoders. */
int metis_jls_encode_lossless(const uint8_t *src, int width, int height, int components, int precision,
                              int bytes_per_sample, uint8_t **dst, size_t *dst_length, char *error, size_t error_length);


/* An 8-bit greyscale (1 component) or RGB (3) image as a baseline JFIF JPEG of
   `quality` (1-100), for rendered images and thumbnails (not for DICOM). */
int metis_jpeg_turbo_encode(const uint8_t *pixels, int width, int height, int components, int quality, uint8_t **dst,
                            size_t *dst_length, char *error, size_t error_length);

#endif
