/* JPEG-LS lossless and near-lossless through CharLS 2.4's C API. */
#include "metis_pixel_codecs.h"
#include "shim_common.h"
#include <charls/charls.h>
#include <stdlib.h>

int metis_jls_decode(const uint8_t *src, size_t src_length, uint8_t *dst, size_t dst_length, int bytes_per_sample,
                     metis_codec_info *info, char *error, size_t error_length) {
    memset(info, 0, sizeof *info);
    charls_jpegls_decoder *decoder = charls_jpegls_decoder_create();
    if (!decoder) {
        metis_set_error(error, error_length, "out of memory");
        return METIS_CODEC_ERROR;
    }
    int result = METIS_CODEC_ERROR;
    uint8_t *planar = NULL;
    charls_jpegls_errc status = charls_jpegls_decoder_set_source_buffer(decoder, src, src_length);
    if (status == CHARLS_JPEGLS_ERRC_SUCCESS) status = charls_jpegls_decoder_read_header(decoder);
    charls_frame_info frame;
    if (status == CHARLS_JPEGLS_ERRC_SUCCESS) status = charls_jpegls_decoder_get_frame_info(decoder, &frame);
    int32_t near = 0;
    if (status == CHARLS_JPEGLS_ERRC_SUCCESS) status = charls_jpegls_decoder_get_near_lossless(decoder, 0, &near);
    charls_interleave_mode mode = CHARLS_INTERLEAVE_MODE_NONE;
    if (status == CHARLS_JPEGLS_ERRC_SUCCESS) status = charls_jpegls_decoder_get_interleave_mode(decoder, &mode);
    if (status != CHARLS_JPEGLS_ERRC_SUCCESS) {
        metis_set_error(error, error_length, "%s", charls_get_error_message(status));
        goto done;
    }
    info->width = (int32_t)frame.width;
    info->height = (int32_t)frame.height;
    info->components = frame.component_count;
    info->precision = frame.bits_per_sample;
    info->process = near;
    int native_bytes = frame.bits_per_sample <= 8 ? 1 : 2;
    size_t pixels = (size_t)frame.width * frame.height;
    if (pixels * frame.component_count * bytes_per_sample != dst_length || bytes_per_sample < native_bytes) {
        result = METIS_CODEC_SIZE_MISMATCH;
        goto done;
    }
    size_t size = 0;
    status = charls_jpegls_decoder_get_destination_size(decoder, 0, &size);
    if (status != CHARLS_JPEGLS_ERRC_SUCCESS || size != pixels * frame.component_count * native_bytes) {
        metis_set_error(error, error_length, "%s", status ? charls_get_error_message(status) : "unexpected destination size");
        goto done;
    }
    int interleaved = mode != CHARLS_INTERLEAVE_MODE_NONE || frame.component_count == 1;
    int direct = interleaved && native_bytes == bytes_per_sample;
    uint8_t *target = direct ? dst : (planar = malloc(size));
    if (!target) {
        metis_set_error(error, error_length, "out of memory");
        goto done;
    }
    status = charls_jpegls_decoder_decode_to_buffer(decoder, target, size, 0);
    if (status != CHARLS_JPEGLS_ERRC_SUCCESS) {
        metis_set_error(error, error_length, "%s", charls_get_error_message(status));
        goto done;
    }
    if (!direct) {
        int components = frame.component_count;
        for (int c = 0; c < components; c++) {
            for (size_t i = 0; i < pixels; i++) {
                size_t from = interleaved ? i * components + c : (size_t)c * pixels + i;
                metis_put_sample(dst, i * components + c, bytes_per_sample, metis_get_sample(planar, from, native_bytes, 0));
            }
        }
    }
    result = METIS_CODEC_OK;
done:
    free(planar);
    charls_jpegls_decoder_destroy(decoder);
    return result;
}

int metis_jls_encode_lossless(const uint8_t *src, int width, int height, int components, int precision,
                              int bytes_per_sample, uint8_t **dst, size_t *dst_length, char *error, size_t error_length) {
    *dst = NULL;
    *dst_length = 0;
    if (width <= 0 || height <= 0 || components <= 0 || precision < 2 || precision > 16 ||
        bytes_per_sample != (precision <= 8 ? 1 : 2)) {
        metis_set_error(error, error_length, "JPEG-LS cannot hold %d-bit samples in %d bytes", precision, bytes_per_sample);
        return METIS_CODEC_ERROR;
    }
    charls_jpegls_encoder *encoder = charls_jpegls_encoder_create();
    if (!encoder) {
        metis_set_error(error, error_length, "out of memory");
        return METIS_CODEC_ERROR;
    }
    int result = METIS_CODEC_ERROR;
    uint8_t *buffer = NULL;
    charls_frame_info frame = {(uint32_t)width, (uint32_t)height, precision, components};
    charls_jpegls_errc status = charls_jpegls_encoder_set_frame_info(encoder, &frame);
    if (status == CHARLS_JPEGLS_ERRC_SUCCESS && components > 1)
        status = charls_jpegls_encoder_set_interleave_mode(encoder, CHARLS_INTERLEAVE_MODE_SAMPLE);
    size_t capacity = 0;
    if (status == CHARLS_JPEGLS_ERRC_SUCCESS) status = charls_jpegls_encoder_get_estimated_destination_size(encoder, &capacity);
    if (status == CHARLS_JPEGLS_ERRC_SUCCESS && !(buffer = malloc(capacity))) {
        metis_set_error(error, error_length, "out of memory");
        goto done;
    }
    if (status == CHARLS_JPEGLS_ERRC_SUCCESS) status = charls_jpegls_encoder_set_destination_buffer(encoder, buffer, capacity);
    size_t source_size = (size_t)width * height * components * bytes_per_sample;
    if (status == CHARLS_JPEGLS_ERRC_SUCCESS) status = charls_jpegls_encoder_encode_from_buffer(encoder, src, source_size, 0);
    size_t written = 0;
    if (status == CHARLS_JPEGLS_ERRC_SUCCESS) status = charls_jpegls_encoder_get_bytes_written(encoder, &written);
    if (status != CHARLS_JPEGLS_ERRC_SUCCESS) {
        metis_set_error(error, error_length, "%s", charls_get_error_message(status));
        goto done;
    }
    *dst = buffer;
    *dst_length = written;
    buffer = NULL;
    result = METIS_CODEC_OK;
done:
    free(buffer);
    charls_jpegls_encoder_destroy(encoder);
    return result;
}
