#!/usr/bin/env python3
"""Reads an RT Structure Set with pydicom, an independent reader, and
re-rasterises its contours on the images they reference.

    rtstruct_rasterise.py RTSTRUCT SERIES_DIR MASK

SERIES_DIR holds the source images; MASK is the expected lesion mask: one byte
per pixel (0 or 1), slice after slice in the order of the SOP Instance UIDs
listed one per line in MASK.uids, row after row. Each contour is mapped into
its referenced image through that image's own ImagePositionPatient,
ImageOrientationPatient and PixelSpacing, filled even-odd at pixel centres,
and the union over ROIs compared with MASK. Prints "dice=<value>".
"""
import os
import sys

import numpy as np
import pydicom


def main(rtstruct_path, series_dir, mask_path):
    images = {}
    for name in os.listdir(series_dir):
        ds = pydicom.dcmread(os.path.join(series_dir, name), stop_before_pixels=True)
        images[ds.SOPInstanceUID] = ds
    uids = open(mask_path + ".uids").read().split()
    first = images[uids[0]]
    rows, columns = int(first.Rows), int(first.Columns)
    expected = np.fromfile(mask_path, dtype=np.uint8).reshape(len(uids), rows, columns).astype(bool)
    found = np.zeros_like(expected)
    slice_of = {uid: index for index, uid in enumerate(uids)}
    rt = pydicom.dcmread(rtstruct_path)
    ys, xs = np.mgrid[0:rows, 0:columns]
    for roi in rt.ROIContourSequence:
        for contour in getattr(roi, "ContourSequence", []):
            uid = contour.ContourImageSequence[0].ReferencedSOPInstanceUID
            image = images[uid]
            origin = np.array(image.ImagePositionPatient, dtype=float)
            orientation = np.array(image.ImageOrientationPatient, dtype=float)
            row_direction, column_direction = orientation[:3], orientation[3:]
            row_spacing, column_spacing = (float(v) for v in image.PixelSpacing)
            points = np.array(contour.ContourData, dtype=float).reshape(-1, 3) - origin
            px = points @ row_direction / column_spacing  # column index
            py = points @ column_direction / row_spacing  # row index
            inside = np.zeros((rows, columns), dtype=bool)
            for a in range(len(px)):
                b = a - 1
                crosses = (py[a] > ys) != (py[b] > ys)
                with np.errstate(divide="ignore", invalid="ignore"):
                    x_cross = (px[b] - px[a]) * (ys - py[a]) / (py[b] - py[a]) + px[a]
                inside ^= crosses & (xs < x_cross)
            found[slice_of[uid]] ^= inside
    overlap = np.logical_and(found, expected).sum()
    dice = 2 * overlap / (found.sum() + expected.sum())
    print(f"dice={dice:.6f}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
