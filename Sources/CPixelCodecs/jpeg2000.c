/* JPEG 2000 and High-Throughput JPEG 2000 through OpenJPEG 2.5. */
#include "metis_pixel_codecs.h"
#include "shim_common.h"
#include <openjpeg-2.5/openjpeg.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>

typedef struct {
    const uint8_t *data;
    OPJ_SIZE_T length;
    OPJ_SIZE_T position;
} memory_stream;

static OPJ_SIZE_T stream_read(void *buffer, OPJ_SIZE_T count, void *user) {
    memory_stream *s = user;
    if (s->position >= s->length) return (OPJ_SIZE_T)-1;
    OPJ_SIZE_T n = s->length - s->position < count ? s->length - s->position : count;
    memcpy(buffer, s->data + s->position, n);
    s->position += n;
    return n;
}

static OPJ_OFF_T stream_skip(OPJ_OFF_T count, void *user) {
    memory_stream *s = user;
    if (count < 0) {
        if ((OPJ_SIZE_T)(-count) > s->position) count = -(OPJ_OFF_T)s->position;
    } else if ((OPJ_SIZE_T)count > s->length - s->position) {
        count = (OPJ_OFF_T)(s->length - s->position);
    }
    s->position += count;
    return count;
}

static OPJ_BOOL stream_seek(OPJ_OFF_T position, void *user) {
    memory_stream *s = user;
    if (position < 0 || (OPJ_SIZE_T)position > s->length) return OPJ_FALSE;
    s->position = (OPJ_SIZE_T)position;
    return OPJ_TRUE;
}

typedef struct {
    char *error;
    size_t length;
} error_sink;

static void on_error(const char *message, void *user) {
    error_sink *sink = user;
    if (sink->error && sink->error[0] == 0) {
        metis_set_error(sink->error, sink->length, "%s", message);
        size_t n = strlen(sink->error);
        if (n > 0 && sink->error[n - 1] == '\n') sink->error[n - 1] = 0;
    }
}

static void on_quiet(const char *message, void *user) {
    (void)message;
    (void)user;
}

/* Debian builds OpenJPEG with assert() on, and its HTJ2K decoder (new in 2.5.0) asserts on some malformed
 * code-blocks (ht_dec.c mel_init, found by fuzz-dicom): abort() would take the whole process down. While a
 * decode runs on this thread, SIGABRT jumps back to it instead (POSIX lets a SIGABRT handler not return);
 * the assertions check input before using it, so the codec is then destroyed as after any error (ASan in
 * fuzz-dicom checks that this frees everything once). Any other SIGABRT goes to the
 * handler that was there before. Only the calling thread is guarded, so HT codestreams (and JP2 files,
 * whose codestream is not inspected) decode on it alone; classic codestreams keep one thread per core. */
static _Thread_local sigjmp_buf *abort_target;
static struct sigaction previous_abort;
static pthread_once_t abort_guard_once = PTHREAD_ONCE_INIT;

static void on_abort(int signal_number) {
    sigjmp_buf *target = abort_target;
    if (target) {
        abort_target = NULL;
        siglongjmp(*target, 1);
    }
    /* Not ours: the previous disposition takes the signal when this handler returns (SIGABRT is blocked until then). */
    sigaction(SIGABRT, &previous_abort, NULL);
    raise(signal_number);
}

static void install_abort_guard(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_abort;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_ONSTACK;
    sigaction(SIGABRT, &action, &previous_abort);
}

/* Whether a raw codestream's main header (before the first SOT) has a CAP marker: Part 15, HTJ2K. */
static int has_capabilities_marker(const uint8_t *src, size_t length) {
    size_t position = 2;
    while (position + 4 <= length) {
        if (src[position] != 0xff) return 1;
        uint8_t marker = src[position + 1];
        if (marker == 0x50) return 1;
        if (marker == 0x90 || marker == 0x93) return 0;
        position += 2 + (size_t)((src[position + 2] << 8) | src[position + 3]);
    }
    return 1;
}

int metis_j2k_decode(const uint8_t *src, size_t src_length, uint8_t *dst, size_t dst_length, int bytes_per_sample,
                     metis_codec_info *info, char *error, size_t error_length) {
    memset(info, 0, sizeof *info);
    if (error && error_length) error[0] = 0;
    static const uint8_t jp2_signature[12] = {0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a};
    OPJ_CODEC_FORMAT format;
    if (src_length >= 12 && memcmp(src, jp2_signature, 12) == 0) {
        format = OPJ_CODEC_JP2;
    } else if (src_length >= 2 && src[0] == 0xff && src[1] == 0x4f) {
        format = OPJ_CODEC_J2K;
    } else {
        metis_set_error(error, error_length, "neither a JPEG 2000 codestream (FF4F) nor a JP2 file");
        return METIS_CODEC_ERROR;
    }
    pthread_once(&abort_guard_once, install_abort_guard);
    int threads = format == OPJ_CODEC_J2K && !has_capabilities_marker(src, src_length) ? opj_get_num_cpus() : 0;
    memory_stream memory = {src, src_length, 0};
    opj_stream_t *stream = opj_stream_create(1 << 16, OPJ_TRUE);
    opj_stream_set_user_data(stream, &memory, NULL);
    opj_stream_set_user_data_length(stream, src_length);
    opj_stream_set_read_function(stream, stream_read);
    opj_stream_set_skip_function(stream, stream_skip);
    opj_stream_set_seek_function(stream, stream_seek);

    opj_codec_t *codec = opj_create_decompress(format);
    error_sink sink = {error, error_length};
    opj_set_error_handler(codec, on_error, &sink);
    opj_set_warning_handler(codec, on_quiet, NULL);
    opj_set_info_handler(codec, on_quiet, NULL);
    opj_dparameters_t parameters;
    opj_set_default_decoder_parameters(&parameters);
    /* volatile: set after sigsetjmp and read after a jump back. */
    opj_image_t *volatile image = NULL;
    int result = METIS_CODEC_ERROR;
    sigjmp_buf recovery;
    if (sigsetjmp(recovery, 1)) {
        metis_set_error(error, error_length, "malformed JPEG 2000 codestream: OpenJPEG stopped on an internal assertion");
        goto done;
    }
    abort_target = &recovery;

    /* Code-block-parallel decoding on every core where it is safe: one frame's latency is what a viewer waits for. */
    if (!opj_setup_decoder(codec, &parameters) || !opj_codec_set_threads(codec, threads) ||
        !opj_read_header(stream, codec, (opj_image_t **)&image) || !image) {
        if (error && !error[0]) metis_set_error(error, error_length, "unreadable JPEG 2000 header");
        goto done;
    }
    info->width = (int32_t)(image->x1 - image->x0);
    info->height = (int32_t)(image->y1 - image->y0);
    info->components = (int32_t)image->numcomps;
    if (image->numcomps > 0) {
        info->precision = (int32_t)image->comps[0].prec;
        info->is_signed = (int32_t)image->comps[0].sgnd;
    }
    if (image->numcomps == 0 || (size_t)info->width * info->height * info->components * bytes_per_sample != dst_length) {
        result = METIS_CODEC_SIZE_MISMATCH;
        goto done;
    }
    for (OPJ_UINT32 c = 0; c < image->numcomps; c++) {
        if (image->comps[c].dx != 1 || image->comps[c].dy != 1) {
            metis_set_error(error, error_length, "component %u is subsampled (%ux%u)", c, image->comps[c].dx, image->comps[c].dy);
            goto done;
        }
    }
    if (!opj_decode(codec, stream, image) || !opj_end_decompress(codec, stream)) {
        if (error && !error[0]) metis_set_error(error, error_length, "JPEG 2000 decoding failed");
        goto done;
    }
    size_t pixels = (size_t)info->width * info->height;
    int components = info->components;
    for (int c = 0; c < components; c++) {
        const opj_image_comp_t *component = &image->comps[c];
        if (!component->data || component->w * component->h != pixels) {
            metis_set_error(error, error_length, "component %d decoded to %ux%u", c, component->w, component->h);
            goto done;
        }
        const OPJ_INT32 *data = component->data;
        for (size_t i = 0; i < pixels; i++) metis_put_sample(dst, i * components + c, bytes_per_sample, data[i]);
    }
    result = METIS_CODEC_OK;
done:
    abort_target = NULL;
    if (image) opj_image_destroy(image);
    opj_destroy_codec(codec);
    opj_stream_destroy(stream);
    return result;
}
