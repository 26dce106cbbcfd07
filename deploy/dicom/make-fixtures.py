#!/usr/bin/env python3
"""Makes the DICOM test fixtures in Tests/DICOMTests/Fixtures with pydicom
(pip install pydicom numpy), and, for each readable one, `<name>.expected.json`:
every element pydicom reads, as [path, VR, value], the cross-check the Swift
tests compare against. Deterministic: fixed UIDs, no timestamps.

    python3 deploy/dicom/make-fixtures.py
"""
import io
import json
import pathlib
import struct

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import (ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian,
                         DeflatedExplicitVRLittleEndian, RLELossless, MRImageStorage)

out = pathlib.Path(__file__).resolve().parents[2] / "Tests/DICOMTests/Fixtures"
out.mkdir(parents=True, exist_ok=True)
for old in (path for path in out.glob("*") if path.is_file()):
    old.unlink()


def base(charset="ISO_IR 100", name="Dupont^Hélène", rows=16, columns=16, frames=1, bits=16, signed=False):
    ds = Dataset()
    ds.SpecificCharacterSet = charset
    ds.SOPClassUID = MRImageStorage
    ds.SOPInstanceUID = "1.2.826.0.1.3680043.8.498.1001"
    ds.StudyInstanceUID = "1.2.826.0.1.3680043.8.498.1002"
    ds.SeriesInstanceUID = "1.2.826.0.1.3680043.8.498.1003"
    ds.Modality = "MR"
    ds.PatientName = name
    ds.PatientID = "METIS-001"
    ds.PatientBirthDate = "19610512"
    ds.StudyDate = "20260114"
    ds.StudyDescription = "IRM cérébrale"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "M"]
    ds.InstanceNumber = 7
    ds.SliceThickness = "1.5"
    ds.PixelSpacing = [0.9375, 0.9375]
    ds.ImagePositionPatient = [-120.0, -110.5, 42.25]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.RescaleSlope = "1.0"
    ds.RescaleIntercept = "-1024"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = rows
    ds.Columns = columns
    ds.BitsAllocated = bits
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 1 if signed else 0
    if frames > 1:
        ds.NumberOfFrames = frames
    # A nested sequence: procedure code with a modifier sequence inside.
    code = Dataset()
    code.CodeValue = "T-A0100"
    code.CodingSchemeDesignator = "SRT"
    code.CodeMeaning = "Encéphale"
    modifier = Dataset()
    modifier.CodeValue = "G-A101"
    modifier.CodingSchemeDesignator = "SRT"
    modifier.CodeMeaning = "Left"
    code.ModifierCodeSequence = Sequence([modifier])
    ds.AnatomicRegionSequence = Sequence([code])
    # Private tags with their creator.
    block = ds.private_block(0x0029, "METIS TEST", create=True)
    block.add_new(0x10, "LO", "private text")
    block.add_new(0x11, "US", 513)
    # One element of each remaining VR, so every VR is read, written and encoded in JSON.
    block.add_new(0x20, "OF", struct.pack("<2f", 1.5, -2.25))
    block.add_new(0x21, "OD", struct.pack("<d", 3.125))
    block.add_new(0x22, "OL", struct.pack("<2I", 7, 4000000000))
    block.add_new(0x23, "OV", struct.pack("<Q", 2**40 + 5))
    block.add_new(0x24, "UC", "unlimited characters " * 4)
    block.add_new(0x25, "UR", "https://metis.example/reports/1")
    block.add_new(0x26, "UT", "Texte illimité sur plusieurs lignes")
    block.add_new(0x27, "SV", [-(2**40), 12])
    block.add_new(0x28, "UV", [2**41, 3])
    block.add_new(0x29, "AT", [0x00100010, 0x7FE00010])
    block.add_new(0x2A, "FL", [0.5, -1.25])
    block.add_new(0x2B, "FD", [1e-3, 2.5e10])
    block.add_new(0x2C, "SS", [-3, 4])
    block.add_new(0x2D, "SL", [-70000, 70000])
    block.add_new(0x2E, "UL", [4000000000])
    block.add_new(0x2F, "ST", "short text")
    block.add_new(0x30, "LT", "long text\\with a backslash")
    block.add_new(0x31, "AE", "METIS_SCP")
    block.add_new(0x32, "AS", "065Y")
    block.add_new(0x33, "DT", "20260114093000.123456+0100")
    block.add_new(0x34, "TM", "093000.5")
    block.add_new(0x35, "SH", "short")
    dtype = {8: np.uint8, 16: np.uint16}[bits] if not signed else {8: np.int8, 16: np.int16}[bits]
    count = rows * columns * frames
    pixels = (np.arange(count, dtype=np.int64) * 37 % (1 << (bits - 1))).astype(dtype)
    if signed:
        pixels = pixels - (1 << (bits - 2))
        pixels = pixels.astype(dtype)
    ds.PixelData = pixels.tobytes()
    return ds


def save(ds, name, syntax, **kwargs):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = syntax
    meta.ImplementationClassUID = "1.2.826.0.1.3680043.8.498.1"
    meta.ImplementationVersionName = "FIXTURES"
    ds.file_meta = meta
    path = out / name
    ds.save_as(path, enforce_file_format=True, **kwargs)
    return path


def value_of(element):
    if element.VR == "SQ":
        return None
    value = element.value
    if element.VR in ("OB", "OW", "OF", "OD", "OL", "OV", "UN") or isinstance(value, bytes):
        data = value if isinstance(value, bytes) else b""
        return {"length": len(data)}
    if isinstance(value, (pydicom.multival.MultiValue, list, tuple)):
        return [str(v) for v in value]
    return [str(value)] if value != "" else []


def expected(path):
    ds = pydicom.dcmread(path, force=True)
    rows = []

    def walk(dataset, prefix):
        for element in dataset:
            key = prefix + f"{element.tag:08X}"
            rows.append([key, element.VR, value_of(element)])
            if element.VR == "SQ":
                for index, item in enumerate(element.value):
                    walk(item, f"{key}/{index}/")

    walk(ds, "")
    (path.parent / (path.name + ".expected.json")).write_text(json.dumps(rows, ensure_ascii=False, indent=0), encoding="utf-8")
    # The DICOM JSON model (PS3.18 F.2) as pydicom writes it, every binary value inline.
    model = ds.to_json_dict(bulk_data_threshold=1 << 30)
    (path.parent / (path.name + ".dicom.json")).write_text(json.dumps(model, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")


good = []
good.append(save(base(), "explicit-le.dcm", ExplicitVRLittleEndian))
good.append(save(base(), "implicit-le.dcm", ImplicitVRLittleEndian))
good.append(save(base(), "explicit-be.dcm", ExplicitVRBigEndian))
good.append(save(base(), "deflated.dcm", DeflatedExplicitVRLittleEndian))
good.append(save(base(charset="ISO_IR 192", name="Müller^Zoë=山田^太郎"), "utf8.dcm", ExplicitVRLittleEndian))
good.append(save(base(frames=3, bits=8), "multiframe-8bit.dcm", ExplicitVRLittleEndian))
good.append(save(base(signed=True), "signed-16bit.dcm", ExplicitVRLittleEndian))

# Sequences and items of undefined length, nested.
ds = base()
ds["AnatomicRegionSequence"].is_undefined_length = True
for item in ds.AnatomicRegionSequence:
    item.is_undefined_length_sequence_item = True
    item["ModifierCodeSequence"].is_undefined_length = True
    for inner in item.ModifierCodeSequence:
        inner.is_undefined_length_sequence_item = True
good.append(save(ds, "undefined-length-sequences.dcm", ExplicitVRLittleEndian))

# RLE Lossless: encapsulated fragments, one per frame, with an offset table.
ds = base(frames=2)
ds.file_meta = FileMetaDataset()
ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
ds.compress(RLELossless, encoding_plugin="pydicom", generate_instance_uid=False)
good.append(save(ds, "rle.dcm", RLELossless))

# A data set with neither preamble nor meta group (Implicit VR Little Endian).
buffer = io.BytesIO()
plain = base()
writer = pydicom.filebase.DicomFileLike(buffer)
writer.is_implicit_VR = True
writer.is_little_endian = True
pydicom.filewriter.write_dataset(writer, plain)
(out / "no-preamble.dcm").write_bytes(buffer.getvalue())
good.append(out / "no-preamble.dcm")

for path in good:
    expected(path)

# Deliberately broken files (no expected values: the reader must refuse them).
whole = (out / "explicit-le.dcm").read_bytes()
(out / "broken-truncated.dcm").write_bytes(whole[: len(whole) // 2])
(out / "broken-header-cut.dcm").write_bytes(whole[:132 + 6])
(out / "broken-not-dicom.dcm").write_bytes(b"%PDF-1.4 this is not a DICOM file" * 8)


def patch_length(data, tag_bytes, new_length, long=False):
    index = data.index(tag_bytes, 132 + 100)
    if long:
        return data[: index + 8] + struct.pack("<I", new_length) + data[index + 12:]
    return data[: index + 6] + struct.pack("<H", new_length) + data[index + 8:]


# Patient ID (0010,0020) LO claiming 65000 bytes: past the end.
(out / "broken-length-past-end.dcm").write_bytes(patch_length(whole, b"\x10\x00\x20\x00LO", 65000))
# Pixel Data (7FE0,0010) OW claiming 4 GB - 2.
(out / "broken-4gb-value.dcm").write_bytes(patch_length(whole, b"\xe0\x7f\x10\x00OW", 0xFFFFFFFE, long=True))
# A sequence nested 200 deep, each level of undefined length.
nest = b""
for _ in range(200):
    nest += b"\x08\x00\x15\x11SQ\x00\x00\xff\xff\xff\xff" + b"\xfe\xff\x00\xe0\xff\xff\xff\xff"
meta_end = whole.index(b"\x08\x00\x05\x00")
(out / "broken-nesting-bomb.dcm").write_bytes(whole[:meta_end] + nest)
# An explicit VR field that is not a VR.
(out / "broken-bad-vr.dcm").write_bytes(whole.replace(b"\x10\x00\x20\x00LO", b"\x10\x00\x20\x00\x01\x02", 1))
print("fixtures written to", out)
