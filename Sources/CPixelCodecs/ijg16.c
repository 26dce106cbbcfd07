/* JPEG through GDCM's 16-bit IJG build (libgdcmjpeg16). */
#include "metis_pixel_codecs.h"
#include "shim_common.h"
#include <stdio.h>
#include <gdcm-3.0/gdcmjpeg/16/jpeglib.h>

#define METIS_IJG_DECODE metis_ijg16_decode
#include "ijg_decode_body.h"
