#!/usr/bin/env python3
"""Makes the compressed-pixel and character-set fixtures in
Tests/DICOMTests/Fixtures/{codecs,charsets}, each encoded by a tool Metis does
not use to decode it, and the reference each Swift test compares against:

- codecs/<name>.dcm: one syntax × bit depth × photometric interpretation ×
  fragmentation, encoded by pydicom's encoders (pyjpegls, pylibjpeg-openjpeg,
  RLE), dcmtk's dcmcjpeg (JPEG baseline, extended, lossless) or OpenJPH's
  ojph_compress (HTJ2K); codecs/<name>.expected.raw: pydicom's decoding of it
  (pylibjpeg / pyjpegls / GDCM plugins; dcmtk's dcmdjpeg for 12-bit JPEG,
  which no pydicom plugin decodes), as little-endian int32 samples, frames ×
  rows × columns × samples, RGB where the decoded image is colour; and
  codecs/index.json: per fixture, the syntax, lossy tolerance and geometry.
- charsets/<name>.dcm: names and descriptions in each Specific Character Set
  (encoded by pydicom), and charsets/index.json: what pydicom decodes.

    pip install pydicom==3.0.1 numpy pylibjpeg pylibjpeg-libjpeg pylibjpeg-openjpeg pyjpegls python-gdcm
    apt-get install dcmtk openjph-tools
    python3 deploy/dicom/make-codec-fixtures.py
"""
import json
import pathlib
import subprocess
import tempfile
import zlib

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate, encapsulate_extended
from pydicom.pixels import pixel_array
from pydicom.uid import (ExplicitVRLittleEndian, JPEG2000, JPEG2000Lossless, JPEGLSLossless, JPEGLSNearLossless,
                         RLELossless, MRImageStorage, SecondaryCaptureImageStorage, UID)

root = pathlib.Path(__file__).resolve().parents[2] / "Tests/DICOMTests/Fixtures"
codecs = root / "codecs"
charsets = root / "charsets"
for folder in (codecs, charsets):
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*"):
        old.unlink()

HTJ2K_LOSSLESS = UID("1.2.840.10008.1.2.4.201")
HTJ2K_LOSSLESS_RPCL = UID("1.2.840.10008.1.2.4.202")
HTJ2K_LOSSY = UID("1.2.840.10008.1.2.4.203")


def image(rows, columns, frames, samples, bits, signed, seed):
    """A deterministic test image: gradients, a disc, and noise, spanning the bit depth."""
    generator = np.random.default_rng(seed)
    y, x = np.mgrid[0:rows, 0:columns]
    low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    planes = []
    for frame in range(frames):
        channels = []
        for sample in range(samples):
            ramp = (x * (sample + 1) + y * (frame + 2)) / (columns * (sample + 1) + rows * (frame + 2))
            disc = ((x - columns / 2) ** 2 + (y - rows / 2) ** 2) < (min(rows, columns) / 3) ** 2
            value = low + (high - low) * (0.15 + 0.6 * ramp + 0.2 * disc)
            value += generator.normal(0, (high - low) * 0.01, size=value.shape)
            channels.append(np.clip(np.rint(value), low, high))
        planes.append(np.stack(channels, axis=-1))
    dtype = {8: np.int8 if signed else np.uint8, 16: np.int16 if signed else np.uint16}[8 if bits <= 8 else 16]
    return np.stack(planes).astype(dtype)


def dataset(name, array, bits, signed, photometric, syntax):
    frames, rows, columns, samples = array.shape
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = syntax
    ds.file_meta.MediaStorageSOPClassUID = MRImageStorage if samples == 1 else SecondaryCaptureImageStorage
    uid_root = "1.2.826.0.1.3680043.8.498.19."
    ds.file_meta.MediaStorageSOPInstanceUID = uid_root + str(zlib.crc32(name.encode()))
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = uid_root + "1"
    ds.SeriesInstanceUID = uid_root + "2"
    ds.Modality = "MR" if samples == 1 else "OT"
    ds.PatientName = "Codec^" + name
    ds.PatientID = "METIS-CODEC"
    ds.Rows, ds.Columns = rows, columns
    ds.SamplesPerPixel = samples
    ds.PhotometricInterpretation = photometric
    if samples > 1:
        ds.PlanarConfiguration = 0
    ds.BitsAllocated = 8 if bits <= 8 else 16
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 1 if signed else 0
    if frames > 1:
        ds.NumberOfFrames = frames
    return ds


def native(ds, array):
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.PixelData = array.tobytes()
    return ds


index = {}


def save(name, ds, tolerance=0, note=""):
    path = codecs / f"{name}.dcm"
    ds.save_as(path, enforce_file_format=True)
    reread = pydicom.dcmread(path)
    photometric = str(reread.PhotometricInterpretation)
    try:
        reference = pixel_array(reread, as_rgb=photometric.startswith("YBR_FULL"))
    except Exception:  # noqa: BLE001 - no pydicom plugin: dcmtk's decompression, read by pydicom
        with tempfile.TemporaryDirectory() as directory:
            out = pathlib.Path(directory) / "d.dcm"
            subprocess.run(["dcmdjpeg", str(path), str(out)], check=True)
            reference = pixel_array(pydicom.dcmread(out))
    frames = int(reread.get("NumberOfFrames", 1))
    samples = int(reread.SamplesPerPixel)
    reference = np.asarray(reference).reshape(frames, int(reread.Rows), int(reread.Columns), samples)
    reference.astype("<i4").tofile(codecs / f"{name}.expected.raw")
    index[name] = {"syntax": str(reread.file_meta.TransferSyntaxUID), "tolerance": tolerance,
                   "frames": frames, "rows": int(reread.Rows), "columns": int(reread.Columns), "samples": samples,
                   "photometric": photometric, "signed": int(reread.PixelRepresentation) == 1, "note": note}


def pydicom_encoded(name, syntax, bits, signed, photometric="MONOCHROME2", samples=1, frames=1, rows=48, columns=64,
                    tolerance=0, note="", **options):
    array = image(rows, columns, frames, samples, bits, signed, seed=len(index))
    ds = native(dataset(name, array, bits, signed, photometric, ExplicitVRLittleEndian), array)
    ds.compress(syntax, generate_instance_uid=False, **options)
    save(name, ds, tolerance, note)


def dcmtk_encoded(name, arguments, bits, signed=False, photometric="MONOCHROME2", samples=1, frames=1, tolerance=0, note=""):
    array = image(48, 64, frames, samples, bits, signed, seed=len(index))
    ds = native(dataset(name, array, bits, signed, photometric, ExplicitVRLittleEndian), array)
    with tempfile.TemporaryDirectory() as directory:
        source, target = pathlib.Path(directory) / "in.dcm", pathlib.Path(directory) / "out.dcm"
        ds.save_as(source, enforce_file_format=True)
        subprocess.run(["dcmcjpeg", "+un", *arguments, str(source), str(target)], check=True)
        save(name, pydicom.dcmread(target), tolerance, note)


def htj2k_encoded(name, syntax, bits, reversible, samples=1, frames=1, tolerance=0):
    array = image(48, 64, frames, samples, bits, False, seed=len(index))
    streams = []
    with tempfile.TemporaryDirectory() as directory:
        for frame in array:
            suffix = "pgm" if samples == 1 else "ppm"
            source, target = pathlib.Path(directory) / f"in.{suffix}", pathlib.Path(directory) / "out.j2c"
            maximum = (1 << bits) - 1
            header = f"P{5 if samples == 1 else 6}\n{frame.shape[1]} {frame.shape[0]}\n{maximum}\n".encode()
            source.write_bytes(header + frame.astype(">u2" if bits > 8 else "u1").tobytes())
            command = ["ojph_compress", "-i", str(source), "-o", str(target), "-reversible", "true" if reversible else "false"]
            if syntax == HTJ2K_LOSSLESS_RPCL:
                command += ["-prog_order", "RPCL"]
            if not reversible:
                command += ["-qstep", "0.002"]
            subprocess.run(command, check=True, capture_output=True)
            streams.append(target.read_bytes())
    photometric = "MONOCHROME2" if samples == 1 else ("YBR_RCT" if reversible else "YBR_ICT")
    ds = dataset(name, array, bits, False, photometric, syntax)
    ds.PixelData = encapsulate(streams)
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    save(name, ds, tolerance)


# JPEG-LS (pyjpegls / CharLS's encoder built into pyjpegls).
pydicom_encoded("jls-lossless-8bit", JPEGLSLossless, 8, False)
pydicom_encoded("jls-lossless-12bit-signed", JPEGLSLossless, 12, True, note="JPEG-LS cannot code sign: sign correction")
pydicom_encoded("jls-lossless-16bit", JPEGLSLossless, 16, False)
pydicom_encoded("jls-lossless-rgb", JPEGLSLossless, 8, False, photometric="RGB", samples=3)
pydicom_encoded("jls-near-16bit", JPEGLSNearLossless, 16, False, tolerance=3, jls_error=3)
pydicom_encoded("jls-lossless-3frames", JPEGLSLossless, 16, False, frames=3)

# JPEG 2000 (pylibjpeg-openjpeg's encoder).
pydicom_encoded("j2k-lossless-16bit", JPEG2000Lossless, 16, False)
pydicom_encoded("j2k-lossless-12bit-signed", JPEG2000Lossless, 12, True)
pydicom_encoded("j2k-lossless-8bit", JPEG2000Lossless, 8, False)
pydicom_encoded("j2k-lossless-rgb-rct", JPEG2000Lossless, 8, False, photometric="RGB", samples=3, use_mct=True)
pydicom_encoded("j2k-lossy-16bit", JPEG2000, 16, False, tolerance=0, j2k_cr=[20])
pydicom_encoded("j2k-lossy-rgb-ict", JPEG2000, 8, False, photometric="RGB", samples=3, tolerance=0, j2k_cr=[10], use_mct=True)
pydicom_encoded("j2k-lossless-4frames", JPEG2000Lossless, 16, False, frames=4)

# RLE (pydicom's own encoder).
pydicom_encoded("rle-16bit-signed-2frames", RLELossless, 16, True, frames=2)

# JPEG through dcmtk: baseline 8-bit (grey, and YBR_FULL_422 colour), extended 12-bit, lossless processes 14 and 14 SV1.
dcmtk_encoded("jpeg-baseline-8bit", ["+eb"], 8, tolerance=2)
dcmtk_encoded("jpeg-baseline-rgb-422", ["+eb", "+cy", "+s2"], 8, photometric="RGB", samples=3, tolerance=2)
dcmtk_encoded("jpeg-extended-12bit", ["+ee"], 12, tolerance=2, note="12-bit lossy: GDCM's IJG 12-bit build; reference by dcmdjpeg")
dcmtk_encoded("jpeg-lossless-sv1-8bit", ["+e1"], 8)
dcmtk_encoded("jpeg-lossless-sv1-16bit", ["+e1"], 16)
dcmtk_encoded("jpeg-lossless-p14-sv6-12bit", ["+el", "+sv", "6"], 12)
dcmtk_encoded("jpeg-lossless-p14-sv3-16bit-signed", ["+el", "+sv", "3"], 16, signed=True)
dcmtk_encoded("jpeg-lossless-sv1-rgb", ["+e1"], 8, photometric="RGB", samples=3)
dcmtk_encoded("jpeg-lossless-sv1-3frames", ["+e1"], 16, frames=3)

# HTJ2K through OpenJPH (pydicom 3.0 has no HTJ2K encoder).
htj2k_encoded("htj2k-lossless-16bit", HTJ2K_LOSSLESS, 16, True)
htj2k_encoded("htj2k-lossless-rpcl-8bit", HTJ2K_LOSSLESS_RPCL, 8, True)
htj2k_encoded("htj2k-lossy-12bit", HTJ2K_LOSSY, 12, False, tolerance=0)
htj2k_encoded("htj2k-lossless-rgb", HTJ2K_LOSSLESS, 8, True, samples=3)


# Fragmentation: two fragments per frame without an offset table, and the Extended Offset Table.
def refragmented(name, source_name, layout):
    ds = pydicom.dcmread(codecs / f"{source_name}.dcm")
    frames = [bytes(frame) for frame in pydicom.encaps.generate_frames(ds.PixelData, number_of_frames=int(ds.NumberOfFrames))]
    if layout == "no-offset-table-2-fragments":
        ds.PixelData = encapsulate(frames, fragments_per_frame=2, has_bot=False)
    elif layout == "basic-offset-table-2-fragments":
        ds.PixelData = encapsulate(frames, fragments_per_frame=2, has_bot=True)
    elif layout == "extended-offset-table":
        ds.PixelData, ds.ExtendedOffsetTable, ds.ExtendedOffsetTableLengths = encapsulate_extended(frames)
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID + ".9" + str(len(index))
    save(name, ds, index[source_name]["tolerance"], note=layout)


refragmented("j2k-4frames-no-bot-2-fragments", "j2k-lossless-4frames", "no-offset-table-2-fragments")
refragmented("j2k-4frames-bot-2-fragments", "j2k-lossless-4frames", "basic-offset-table-2-fragments")
refragmented("jls-3frames-extended-offsets", "jls-lossless-3frames", "extended-offset-table")
refragmented("jpeg-3frames-no-bot-2-fragments", "jpeg-lossless-sv1-3frames", "no-offset-table-2-fragments")



# Palette colour (RLE, 8-bit indices into 16-bit tables) and its display RGB by pydicom's apply_color_lut.
def palette_fixture():
    indices = image(48, 64, 1, 1, 8, False, seed=99)
    ds = native(dataset("rle-palette-8bit", indices, 8, False, "PALETTE COLOR", ExplicitVRLittleEndian), indices)
    ramp = np.arange(256, dtype=np.uint16)
    for color, table in (("Red", ramp * 257), ("Green", (255 - ramp) * 257), ("Blue", (ramp // 2) * 257)):
        setattr(ds, f"{color}PaletteColorLookupTableDescriptor", [256, 0, 16])
        ds[f"{color}PaletteColorLookupTableDescriptor"].VR = "US"
        setattr(ds, f"{color}PaletteColorLookupTableData", table.astype("<u2").tobytes())
    ds.compress(RLELossless, generate_instance_uid=False)
    save("rle-palette-8bit", ds)
    reread = pydicom.dcmread(codecs / "rle-palette-8bit.dcm")
    rgb = pydicom.pixels.apply_color_lut(pixel_array(reread), reread)
    (np.asarray(rgb) >> 8).astype("<i4").tofile(codecs / "rle-palette-8bit.display-rgb.raw")


palette_fixture()
(codecs / "index.json").write_text(json.dumps(index, indent=1, sort_keys=True) + "\n")

# Character sets: one file per Specific Character Set, encoded by pydicom.
names = {
    "latin1": ("ISO_IR 100", "Dupont^Hélène", "IRM cérébrale"),
    "latin2": ("ISO_IR 101", "Dvořák^Antonín", "MR mozku"),
    "latin3": ("ISO_IR 109", "Ħaġar^Ġużeppi", "MR"),
    "latin4": ("ISO_IR 110", "Ķēniņš^Jānis", "MR"),
    "greek": ("ISO_IR 126", "Διονυσιος^Παπαδόπουλος", "Μαγνητική"),
    "arabic": ("ISO_IR 127", "قباني^لنزار", "رنين"),
    "hebrew": ("ISO_IR 138", "שרון^דבורה", "תהודה"),
    "cyrillic": ("ISO_IR 144", "Люксембург^Роза", "МРТ головного мозга"),
    "latin5": ("ISO_IR 148", "Öztürk^Şükrü", "Beyin MR"),
    "thai": ("ISO_IR 166", "สมชาย^ใจดี", "เอ็มอาร์ไอ"),
    "latin9": ("ISO_IR 203", "Œuvray^Zoë", "IRM € cérébrale"),
    "utf8": ("ISO_IR 192", "Wang^XiaoDong=王^小東", "脑部磁共振"),
    "gb18030": ("GB18030", "Wang^XiaoDong=王^小东", "脑部磁共振"),
    "gbk": ("GBK", "Wang^XiaoDong=王^小东", "脑部"),
    "japanese-ir87": (["", "ISO 2022 IR 87"], "Yamada^Tarou=山田^太郎=やまだ^たろう", "頭部"),
    "japanese-ir13-ir87": (["ISO 2022 IR 13", "ISO 2022 IR 87"], "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう", "ﾄｳﾌﾞ"),
    "japanese-ir159": (["", "ISO 2022 IR 87", "ISO 2022 IR 159"], "Yamada^Tarou=山田^太郎", "頭部"),
    "korean-ir149": (["", "ISO 2022 IR 149"], "Hong^Gildong=洪^吉洞=홍^길동", "뇌"),
    "chinese-ir58": (["", "ISO 2022 IR 58"], "Zhang^SanFeng=张^三丰", "脑"),
    "latin1-ir100-extension": (["", "ISO 2022 IR 100"], "Buc^Jérôme", "Tête"),
}


def gb2312_extension(text):
    """ASCII as is; each run of Chinese characters designated into G1 by ESC $ ) A (PS3.5 Annex K)."""
    out, run = b"", ""
    for character in text + "\0":
        if character != "\0" and ord(character) > 0x7F:
            run += character
            continue
        if run:
            out += b"\x1b$)A" + run.encode("gb2312")
            run = ""
        if character != "\0":
            out += character.encode("ascii")
    return out


hand_encoded = {
    "latin9": (lambda text: text.encode("iso8859_15"), "pydicom 3.0.1 lacks ISO_IR 203: encoded with Python's iso8859_15"),
    "chinese-ir58": (gb2312_extension, "pydicom 3.0.1 does not round-trip IR 58: encoded with Python's gb2312 per Annex K"),
}
expected = {}
for name, (charset, patient, description) in names.items():
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = MRImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = "1.2.826.0.1.3680043.8.498.19.3." + str(len(expected) + 1)
    ds.SpecificCharacterSet = charset
    ds.SOPClassUID = MRImageStorage
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    # A study and series of its own for each: each file is another patient.
    ds.StudyInstanceUID = f"1.2.826.0.1.3680043.8.498.19.4.{len(expected) + 1}"
    ds.SeriesInstanceUID = f"1.2.826.0.1.3680043.8.498.19.5.{len(expected) + 1}"
    ds.Modality = "MR"
    ds.PatientName = patient
    ds.PatientID = "METIS-" + name.upper()
    path = charsets / f"{name}.dcm"
    if name in hand_encoded:
        # Sets pydicom 3.0.1 does not decode (Latin-9) or does not round-trip (IR 58): encoded here with Python's
        # own codecs, component by component as PS3.5 §6.1.2.5 and Annex K show.
        encode, note = hand_encoded[name]
        ds.add_new("PatientName", "PN", encode(patient))
        ds.add_new("StudyDescription", "LO", encode(description))
        ds.add_new("InstitutionName", "LO", encode(description))
        ds.save_as(path, enforce_file_format=True)
        groups = (patient.split("=") + ["", ""])[:3]
        expected[name] = {"charset": charset, "PatientName": patient, "StudyDescription": description,
                          "alphabetic": groups[0], "ideographic": groups[1], "phonetic": groups[2], "note": note}
        continue
    ds.StudyDescription = description
    ds.InstitutionName = description
    ds.save_as(path, enforce_file_format=True)
    reread = pydicom.dcmread(path)
    groups = reread.PatientName
    expected[name] = {"charset": charset, "PatientName": str(groups), "StudyDescription": str(reread.StudyDescription),
                      "alphabetic": groups.alphabetic, "ideographic": groups.ideographic, "phonetic": groups.phonetic}
    assert str(groups) == patient and str(reread.StudyDescription) == description, (name, str(groups), patient)
(charsets / "index.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
print(f"{len(index)} codec fixtures, {len(expected)} character-set fixtures")
