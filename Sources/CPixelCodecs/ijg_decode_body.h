/* The body of one IJG decoder (no include guard: included once per build); included by ijg8.c, ijg12.c and ijg16.c after
   their own jpeglib.h, with METIS_IJG_DECODE naming the function. */
#include <setjmp.h>

typedef struct {
    struct jpeg_error_mgr manager;
    jmp_buf escape;
    char *error;
    size_t error_length;
} failure;

static void fail_exit(j_common_ptr cinfo) {
    failure *f = (failure *)cinfo->err;
    char message[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, message);
    metis_set_error(f->error, f->error_length, "%s", message);
    longjmp(f->escape, 1);
}

static void quiet_message(j_common_ptr cinfo, int level) {
    (void)cinfo;
    (void)level;
}

static void source_init(j_decompress_ptr cinfo) { (void)cinfo; }

static boolean source_fill(j_decompress_ptr cinfo) {
    /* Past the end: feed an EOI marker, as IJG's own memory sources do, so truncated data ends the scan. */
    static const JOCTET end_of_image[2] = {0xff, JPEG_EOI};
    cinfo->src->next_input_byte = end_of_image;
    cinfo->src->bytes_in_buffer = 2;
    return TRUE;
}

static void source_skip(j_decompress_ptr cinfo, long count) {
    if (count <= 0) return;
    if ((size_t)count > cinfo->src->bytes_in_buffer) {
        source_fill(cinfo);
        return;
    }
    cinfo->src->next_input_byte += count;
    cinfo->src->bytes_in_buffer -= (size_t)count;
}

static void source_term(j_decompress_ptr cinfo) { (void)cinfo; }

int METIS_IJG_DECODE(const uint8_t *src, size_t src_length, uint8_t *dst, size_t dst_length, int bytes_per_sample, int to_rgb,
                     metis_codec_info *info, char *error, size_t error_length) {
    memset(info, 0, sizeof *info);
    struct jpeg_decompress_struct cinfo;
    struct jpeg_source_mgr source;
    failure f;
    memset(&cinfo, 0, sizeof cinfo);
    cinfo.err = jpeg_std_error(&f.manager);
    f.manager.error_exit = fail_exit;
    f.manager.emit_message = quiet_message;
    f.error = error;
    f.error_length = error_length;
    volatile int result = METIS_CODEC_ERROR;
    volatile int created = 0;
    JSAMPARRAY rows = NULL;
    if (setjmp(f.escape)) goto done;
    jpeg_create_decompress(&cinfo);
    created = 1;
    source.init_source = source_init;
    source.fill_input_buffer = source_fill;
    source.skip_input_data = source_skip;
    source.resync_to_restart = jpeg_resync_to_restart;
    source.term_source = source_term;
    source.next_input_byte = src;
    source.bytes_in_buffer = src_length;
    cinfo.src = &source;
    jpeg_read_header(&cinfo, TRUE);
    info->width = (int32_t)cinfo.image_width;
    info->height = (int32_t)cinfo.image_height;
    info->components = cinfo.num_components;
    info->precision = cinfo.data_precision;
    info->process = cinfo.process == JPROC_LOSSLESS ? 2 : cinfo.process == JPROC_PROGRESSIVE ? 1 : 0;
    if ((size_t)cinfo.image_width * cinfo.image_height * cinfo.num_components * bytes_per_sample != dst_length ||
        (size_t)bytes_per_sample * 8 < (size_t)(cinfo.data_precision + 7) / 8 * 8) {
        result = METIS_CODEC_SIZE_MISMATCH;
        goto done;
    }
    if (cinfo.num_components == 3 && to_rgb && cinfo.process != JPROC_LOSSLESS) {
        cinfo.out_color_space = JCS_RGB;
    } else {
        /* As coded: no colour conversion (lossless JPEG codes components independently). */
        cinfo.jpeg_color_space = cinfo.num_components == 1 ? JCS_GRAYSCALE : JCS_UNKNOWN;
        cinfo.out_color_space = cinfo.jpeg_color_space;
    }
    jpeg_start_decompress(&cinfo);
    int components = cinfo.output_components;
    size_t width = cinfo.output_width;
    if (components != cinfo.num_components || width != cinfo.image_width) {
        metis_set_error(error, error_length, "decoder output %dx%zu differs from the header", components, width);
        goto done;
    }
    rows = (*cinfo.mem->alloc_sarray)((j_common_ptr)&cinfo, JPOOL_IMAGE, (JDIMENSION)(width * components), 1);
    while (cinfo.output_scanline < cinfo.output_height) {
        size_t line = cinfo.output_scanline;
        jpeg_read_scanlines(&cinfo, rows, 1);
        size_t base = line * width * components;
        for (size_t i = 0; i < width * (size_t)components; i++) metis_put_sample(dst, base + i, bytes_per_sample, (int32_t)rows[0][i]);
    }
    jpeg_finish_decompress(&cinfo);
    result = METIS_CODEC_OK;
done:
    if (created) jpeg_destroy_decompress(&cinfo);
    return result;
}
