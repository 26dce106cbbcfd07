#!/usr/bin/env python3
"""Writes a compressed twin of a native DICOM series, with tools Metis does not
use to decode it: JPEG 2000 Lossless by pydicom + pylibjpeg-openjpeg, JPEG
Lossless SV1 by dcmtk's dcmcjpeg. Every UID gets the suffix, so the twin is a
study of its own (a suffix of "-" keeps the UIDs).

usage: compress_series.py j2k|jpeg-lossless SUFFIX OUTDIR FILE...
"""
import pathlib
import subprocess
import sys
import tempfile

import pydicom
from pydicom.uid import JPEG2000Lossless


def main():
    kind, suffix, out, files = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3]), sys.argv[4:]
    out.mkdir(parents=True, exist_ok=True)
    for index, path in enumerate(files):
        ds = pydicom.dcmread(path)
        for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"):
            if suffix != "-":
                setattr(ds, keyword, f"{getattr(ds, keyword)}.{suffix}")
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        target = out / f"{index:04d}.dcm"
        if kind == "j2k":
            ds.compress(JPEG2000Lossless, generate_instance_uid=False)
            ds.save_as(target, enforce_file_format=True)
        elif kind == "jpeg-lossless":
            with tempfile.TemporaryDirectory() as directory:
                native = pathlib.Path(directory) / "native.dcm"
                ds.save_as(native, enforce_file_format=True)
                subprocess.run(["dcmcjpeg", "+e1", str(native), str(target)], check=True)
        else:
            raise SystemExit(f"unknown kind {kind}")


if __name__ == "__main__":
    main()
