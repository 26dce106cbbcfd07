#!/usr/bin/env python3
"""Helpers of the dicom-parse benchmark (run by it, not by hand).

    dicom_series.py make DIR SLICES        write a synthetic 512x512 16-bit MR series
    dicom_series.py time FILE-LIST REPEAT  time pydicom: dcmread, and stop_before_pixels
"""
import sys
import time

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage


def make(directory, slices):
    rng = np.random.default_rng(7)
    for index in range(slices):
        ds = Dataset()
        ds.SpecificCharacterSet = "ISO_IR 100"
        ds.SOPClassUID = MRImageStorage
        ds.SOPInstanceUID = f"1.2.826.0.1.3680043.8.498.2.{index + 1}"
        ds.StudyInstanceUID = "1.2.826.0.1.3680043.8.498.2000"
        ds.SeriesInstanceUID = "1.2.826.0.1.3680043.8.498.2001"
        ds.Modality = "MR"
        ds.PatientName = "Bench^Série"
        ds.PatientID = "BENCH"
        ds.StudyDate = "20260114"
        ds.SeriesDescription = "T1 MPRAGE gado"
        ds.InstanceNumber = index + 1
        ds.SliceThickness = "1.0"
        ds.PixelSpacing = [0.5, 0.5]
        ds.ImagePositionPatient = [-128.0, -128.0, -75.0 + index * 0.5]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.RescaleSlope = "1"
        ds.RescaleIntercept = "0"
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.Rows = 512
        ds.Columns = 512
        ds.BitsAllocated = 16
        ds.BitsStored = 12
        ds.HighBit = 11
        ds.PixelRepresentation = 0
        ds.PixelData = rng.integers(0, 4096, size=512 * 512, dtype=np.uint16).tobytes()
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = ds.SOPClassUID
        meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta = meta
        ds.save_as(f"{directory}/slice-{index:04d}.dcm", enforce_file_format=True)


def timing(list_file, repeat):
    paths = [line.strip() for line in open(list_file) if line.strip()]
    results = []
    for stop in (True, False):
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            for path in paths:
                pydicom.dcmread(path, stop_before_pixels=stop, force=True)
            best = min(best, time.perf_counter() - start)
        results.append(best)
    print(f"{results[0]} {results[1]}")


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], int(sys.argv[3]))
    else:
        timing(sys.argv[2], int(sys.argv[3]))
