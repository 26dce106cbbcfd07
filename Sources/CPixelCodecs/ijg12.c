/* JPEG through GDCM's 12-bit IJG build (libgdcmjpeg12). */
#include "metis_pixel_codecs.h"
#include "shim_common.h"
#include <stdio.h>
#include <gdcm-3.0/gdcmjpeg/12/jpeglib.h>

#define METIS_IJG_DECODE metis_ijg12_decode
#include "ijg_decode_body.h"
