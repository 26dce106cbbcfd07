"""Labelled evaluation cases on disk, the format `metis evaluate --cases DIR` reads.

One case is a folder:

    CASE/series/0000.dcm …   the MR series, one Part 10 file per slice
    CASE/truth.npy           uint8 [slices, rows, columns] on the series' own grid,
                             slices in the order of their position along the normal
                             (row direction × column direction): 0 outside the head,
                             1 head outside the intracranial volume, 2 intracranial,
                             3 + n lesion n (n = 0, 1, …)
    CASE/case.json           generator, seed, contrast, acquisition, lesions

The intracranial volume and the lesions are the generator's own truth,
never Metis's estimate of them.
"""
import json
import os

import numpy as np
import pydicom
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

OUTSIDE, HEAD, INTRACRANIAL, FIRST_LESION = 0, 1, 2, 3
MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"


def truth_codes(head, intracranial, lesions):
    """Truth codes from boolean head and intracranial masks and a lesion instance map (0 none, n ≥ 1 lesion n)."""
    codes = np.where(head, HEAD, OUTSIDE).astype(np.uint8)
    codes[intracranial] = INTRACRANIAL
    codes[lesions > 0] = FIRST_LESION - 1 + lesions[lesions > 0]
    return codes


def write_case(folder, slices, truth, geometry, attributes, info):
    """Writes one case. `slices`: float32 [slices, rows, columns] (ascending along the
    normal); `geometry`: origin (LPS mm of slice 0's first pixel), row and column
    directions, pixel spacing (mm), slice spacing and thickness (mm); `attributes`:
    DICOM keywords to set on every image (description, sequence parameters)."""
    series_folder = os.path.join(folder, "series")
    os.makedirs(series_folder, exist_ok=True)
    slices = np.asarray(slices, np.float32)
    rng = np.random.default_rng(info.get("seed", 0))
    rescaled = rng.uniform() < 0.5
    peak = float(slices.max()) if slices.max() > 0 else 1.0
    slope = peak / 4000 if rescaled else max(peak / 4000, 1.0) if peak > 4095 else 1.0
    stored = np.clip(np.round(slices / slope), 0, 4095).astype(np.uint16)
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    origin = np.asarray(geometry["origin"], float)
    row, column = np.asarray(geometry["row"], float), np.asarray(geometry["column"], float)
    normal = np.cross(row, column)
    for k in range(stored.shape[0]):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = MR_IMAGE_STORAGE
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SpecificCharacterSet = "ISO_IR 100"
        ds.SOPClassUID = meta.MediaStorageSOPClassUID
        ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
        ds.PatientID, ds.PatientName = f"{info['generator'].upper()}-{info['seed']}", "Phantom^Case"
        ds.PatientBirthDate, ds.PatientSex = "19600101", "O"
        ds.StudyDate, ds.StudyTime, ds.SeriesDate = "20260101", "120000", "20260101"
        ds.AccessionNumber, ds.StudyID = "", "1"
        ds.Modality, ds.SeriesNumber, ds.InstanceNumber = "MR", 3, k + 1
        ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "NONE"]
        ds.Manufacturer = "Metis phantom"
        for keyword, value in attributes.items():
            setattr(ds, keyword, value)
        position = origin + k * geometry["slice_spacing"] * normal
        ds.ImagePositionPatient = [f"{v:.4f}" for v in position]
        ds.ImageOrientationPatient = [f"{v:.6f}" for v in np.concatenate([row, column])]
        ds.PixelSpacing = [f"{geometry['pixel']:.4f}"] * 2
        ds.SliceThickness = f"{geometry['thickness']:.3f}"
        ds.SpacingBetweenSlices = f"{geometry['slice_spacing']:.3f}"
        ds.SliceLocation = f"{float(position @ normal):.3f}"
        ds.Rows, ds.Columns = stored.shape[1], stored.shape[2]
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        if slope != 1.0:
            ds.RescaleSlope, ds.RescaleIntercept, ds.RescaleType = f"{slope:.6g}", "0", "US"
        ds.PixelData = np.ascontiguousarray(stored[k]).tobytes()
        ds.save_as(os.path.join(series_folder, f"{k:04d}.dcm"), enforce_file_format=True)
    np.save(os.path.join(folder, "truth.npy"), np.ascontiguousarray(truth.astype(np.uint8)))
    with open(os.path.join(folder, "case.json"), "w") as f:
        json.dump(info, f, indent=2)


def write_ras_case(folder, image, codes, spacing, attributes, info):
    """A case from a volume on a RAS grid of `spacing` mm (synthetic_brain, randomised_brain):
    an axial series, columns towards the patient's left, rows towards posterior."""
    lps = image[::-1, ::-1, :]
    truth = codes[::-1, ::-1, :]
    nx, ny, nz = lps.shape
    geometry = {"origin": [-(nx - 1) / 2 * spacing, -(ny - 1) / 2 * spacing, -(nz - 1) / 2 * spacing],
                "row": [1, 0, 0], "column": [0, 1, 0], "pixel": spacing, "slice_spacing": spacing, "thickness": spacing}
    write_case(folder, lps.transpose(2, 1, 0), truth.transpose(2, 1, 0), geometry, attributes, info)


def read_truth(folder):
    return np.load(os.path.join(folder, "truth.npy"))


def check_readable(folder):
    """The series as pydicom reads it back, for a self-check."""
    files = sorted(os.listdir(os.path.join(folder, "series")))
    return [pydicom.dcmread(os.path.join(folder, "series", name)) for name in files]
