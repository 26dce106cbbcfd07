/* JPEG through GDCM's 8-bit IJG build (libgdcmjpeg8). */
#include "metis_pixel_codecs.h"
#include "shim_common.h"
#include <stdio.h>
#include <gdcm-3.0/gdcmjpeg/8/jpeglib.h>

#define METIS_IJG_DECODE metis_ijg8_decode
#include "ijg_decode_body.h"
