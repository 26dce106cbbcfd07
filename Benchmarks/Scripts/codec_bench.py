#!/usr/bin/env python3
"""Compressed pixel data, Metis against its peers in the same run.

    python3 Benchmarks/Scripts/codec_bench.py [--metis .build/release/metis]
        [--pixel-decode Benchmarks/.build/release/pixel-decode] [--orthanc /usr/sbin/Orthanc] [--record|--compare]

For one 512×512 MR frame (12 bits stored in 16, as scanners write) encoded in
each syntax — by dcmtk's dcmcjpeg (JPEG), pydicom's encoders (JPEG-LS, JPEG
2000, RLE) and OpenJPH (HTJ2K), never by Metis — it measures:

- decode: seconds per frame through Metis's PixelData.frameBytes, against the
  bare library call on the same pre-extracted frame (pixel-decode, one
  process; the limit: target Metis ≤ 1.2× the bare time), and against pydicom
  3 + pylibjpeg/pyjpegls/GDCM decoding the same file (pixel_array);
- rendered: frames per second of `/dicom-web/.../frames/1/rendered` (Accept
  image/jpeg, one keep-alive client, sequential), each of 40 copies of the
  instance (new SOP Instance UIDs) rendered once so that no cache of decoded
  or rendered frames answers, from `metis up` and from
  Orthanc 1.10 with its DICOMweb and GDCM plugins serving the same instances,
  in ABBA order, averaged (target ≥ 1.5× Orthanc for every syntax both render).

Needs: pydicom 3.0.1, numpy, pylibjpeg, pylibjpeg-libjpeg, pylibjpeg-openjpeg,
pyjpegls, python-gdcm; dcmtk; openjph-tools; orthanc, orthanc-dicomweb,
orthanc-gdcm. Decoding uses no BLAS: OPENBLAS_CORETYPE does not matter here.
"""
import argparse
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.pixels import pixel_array
from pydicom.uid import (ExplicitVRLittleEndian, JPEG2000, JPEG2000Lossless, JPEGLSLossless, RLELossless, MRImageStorage,
                         generate_uid)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchresults  # noqa: E402
from dicomweb_vs_orthanc import Client, Server, free_port, start_metis  # noqa: E402

SIZE = 512
STUDY = "1.2.826.0.1.3680043.8.498.1901"
SERIES = STUDY + ".1"


def image(bits):
    """A head-like 512×512 slice: an ellipse of tissue with texture, a brighter ring, noise."""
    generator = np.random.default_rng(19)
    y, x = np.mgrid[0:SIZE, 0:SIZE] - SIZE / 2
    r = np.sqrt((x / 0.8) ** 2 + y ** 2) / (SIZE / 2.4)
    tissue = np.where(r < 1, 0.45 + 0.1 * np.sin(x / 9) * np.cos(y / 13), 0) + np.where((r > 0.92) & (r < 1), 0.35, 0)
    value = (tissue + generator.normal(0, 0.02, size=tissue.shape)).clip(0, 1) * ((1 << bits) - 1)
    return np.rint(value).astype(np.uint16 if bits > 8 else np.uint8)


def dataset(name, pixels, bits):
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = MRImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = f"{SERIES}.{abs(hash(name)) % 10**9}"
    ds.SOPClassUID, ds.SOPInstanceUID = MRImageStorage, ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = STUDY, SERIES
    ds.PatientID, ds.PatientName, ds.Modality, ds.InstanceNumber = "CODEC-BENCH", "Codec^Bench", "MR", len(name)
    ds.Rows = ds.Columns = SIZE
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = (8 if bits <= 8 else 16), bits, bits - 1, 0
    ds.WindowCenter, ds.WindowWidth = (1 << bits) // 3, (1 << bits) // 2
    ds.PixelData = pixels.tobytes()
    return ds


def make_data(directory):
    """name → path of each encoded instance."""
    out = {}
    twelve, eight = image(12), image(8)

    def save(name, ds):
        path = os.path.join(directory, f"{name}.dcm")
        ds.save_as(path, enforce_file_format=True)
        out[name] = path

    def dcmtk(name, pixels, bits, options):
        native = os.path.join(directory, f"{name}-native.dcm")
        dataset(name, pixels, bits).save_as(native, enforce_file_format=True)
        target = os.path.join(directory, f"{name}.dcm")
        subprocess.run(["dcmcjpeg", "+un", *options, native, target], check=True)
        out[name] = target

    save("native", dataset("native", twelve, 12))
    dcmtk("jpeg-baseline-8bit", eight, 8, ["+eb"])
    dcmtk("jpeg-extended-12bit", twelve, 12, ["+ee"])
    dcmtk("jpeg-lossless-sv1", twelve, 12, ["+e1"])
    for name, syntax, options in [("jpeg-ls-lossless", JPEGLSLossless, {}), ("j2k-lossless", JPEG2000Lossless, {}),
                                  ("j2k-lossy", JPEG2000, {"j2k_cr": [10]}), ("rle", RLELossless, {})]:
        ds = dataset(name, twelve, 12)
        ds.compress(syntax, generate_instance_uid=False, **options)
        save(name, ds)
    with tempfile.TemporaryDirectory() as scratch:
        pgm, j2c = os.path.join(scratch, "in.pgm"), os.path.join(scratch, "out.j2c")
        with open(pgm, "wb") as f:
            f.write(f"P5\n{SIZE} {SIZE}\n4095\n".encode() + twelve.astype(">u2").tobytes())
        subprocess.run(["ojph_compress", "-i", pgm, "-o", j2c, "-reversible", "true"], check=True, capture_output=True)
        ds = dataset("htj2k-lossless", twelve, 12)
        ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.201"
        ds.PixelData = encapsulate([open(j2c, "rb").read()])
        ds["PixelData"].VR = "OB"
        save("htj2k-lossless", ds)
    return out


def pydicom_seconds(path, budget=1.0):
    ds = pydicom.dcmread(path)
    pixel_array(ds)
    calls, start = 0, time.perf_counter()
    while calls < 3 or time.perf_counter() - start < budget:
        pixel_array(ds)
        calls += 1
    return (time.perf_counter() - start) / calls


def start_orthanc(binary, directory):
    port = free_port()
    plugins = ["/usr/share/orthanc/plugins/libOrthancDicomWeb.so", "/usr/share/orthanc/plugins/libOrthancGdcm.so"]
    config = {"Name": "bench", "StorageDirectory": f"{directory}/db", "IndexDirectory": f"{directory}/db", "HttpPort": port,
              "DicomServerEnabled": False, "RemoteAccessAllowed": False, "AuthenticationEnabled": False,
              "Plugins": [p for p in plugins if os.path.exists(p)], "DicomWeb": {"Enable": True, "Root": "/dicom-web/"}}
    with open(f"{directory}/orthanc.json", "w") as f:
        json.dump(config, f)
    return Server("Orthanc", [binary, f"{directory}/orthanc.json"], port, "/dicom-web", "/system", env=dict(os.environ, TCP_NODELAY="1"))


def copies(path, count):
    """`count` copies of an instance under new SOP Instance UIDs, pixel data untouched: each is rendered once, so that
    neither server answers from a cache of decoded or rendered frames."""
    ds = pydicom.dcmread(path)
    out = []
    for index in range(count):
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = f"{SERIES}.{len(out) + 1}.{abs(hash(path)) % 10**6}{index}"
        buffer = pydicom.filebase.DicomBytesIO()
        ds.save_as(buffer, enforce_file_format=True)
        out.append((ds.SOPInstanceUID, buffer.getvalue()))
    return out


def rendered_per_second(server, files, count):
    """Frames per second rendering each of `count` copies of each instance once; None where the server cannot render it."""
    client = Client(server.port)
    rates = {}
    for name, path in files.items():
        instances = copies(path, count)
        boundary = "codec-bench"
        body = b"".join(f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode() + data + b"\r\n" for _, data in instances)
        body += f"--{boundary}--\r\n".encode()
        status, answer = client.request("POST", "/dicom-web/studies", body,
                                           {"Content-Type": f'multipart/related; type="application/dicom"; boundary={boundary}'})
        if status not in (200, 202):
            raise RuntimeError(f"{server.name} STOW answered {status}: {answer[:300]!r}")
        urls = [f"/dicom-web/studies/{STUDY}/series/{SERIES}/instances/{sop}/frames/1/rendered" for sop, _ in instances]
        status, data = client.request("GET", urls[0], headers={"Accept": "image/jpeg"})
        if status != 200 or not data.startswith(b"\xff\xd8"):
            rates[name] = None
            continue
        start = time.perf_counter()
        for url in urls[1:]:
            status, data = client.request("GET", url, headers={"Accept": "image/jpeg"})
            if status != 200:
                raise RuntimeError(f"{server.name} {url} answered {status}")
        rates[name] = (len(urls) - 1) / (time.perf_counter() - start)
    return rates


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--metis", default=".build/release/metis")
    parser.add_argument("--pixel-decode", default="Benchmarks/.build/release/pixel-decode")
    parser.add_argument("--orthanc", default=shutil.which("Orthanc") or "/usr/sbin/Orthanc")
    parser.add_argument("--seconds", type=float, default=1.0, help="time per decode measurement")
    parser.add_argument("--copies", type=int, default=41, help="instances rendered once each, per syntax (the first is a warm-up)")
    benchresults.add_arguments(parser)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="codec-bench-") as directory:
        print("encoding the frame in each syntax…", file=sys.stderr)
        files = make_data(directory)
        compressed = {name: path for name, path in files.items() if name != "native"}
        print("decoding (Metis, bare library, pydicom)…", file=sys.stderr)
        run = subprocess.run([arguments.pixel_decode, "--seconds", str(arguments.seconds), *compressed.values()],
                             capture_output=True, text=True, check=True)
        decode = {pathlib.Path(row["file"]).stem: row for row in map(json.loads, run.stdout.splitlines())}
        peers = {name: pydicom_seconds(path, arguments.seconds) for name, path in compressed.items()}
        # ABBA order, each server's rates averaged over its two runs.
        runs = {"Orthanc": [], "Metis": []}
        servers = {"Orthanc": (start_orthanc, arguments.orthanc), "Metis": (start_metis, arguments.metis)}
        for name in ("Orthanc", "Metis", "Metis", "Orthanc"):
            starter, binary = servers[name]
            with tempfile.TemporaryDirectory(prefix=f"codec-bench-{name.lower()}-") as data:
                print(f"rendering with {name}…", file=sys.stderr)
                server = starter(binary, data)
                try:
                    runs[name].append(rendered_per_second(server, files, arguments.copies))
                finally:
                    server.stop()
        rendered = {name: {syntax: (statistics.mean(r[syntax] for r in results) if all(r[syntax] for r in results) else None)
                           for syntax in files} for name, results in runs.items()}
    figures = []
    print("| syntax | Metis decode (ms) | bare library (ms) | Metis / bare | pydicom + plugins (ms) | pydicom / Metis "
          "| Metis rendered (frames/s) | Orthanc rendered (frames/s) | Metis / Orthanc |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name in files:
        metis_rate, orthanc_rate = rendered["Metis"].get(name), rendered["Orthanc"].get(name)
        cells = [name]
        if name in decode:
            metis_ms = decode[name]["metis_seconds"] * 1e3
            bare_ms = decode[name].get("bare_seconds", float("nan")) * 1e3
            peer_ms = peers[name] * 1e3
            cells += [f"{metis_ms:.2f}", f"{bare_ms:.2f}", f"{metis_ms / bare_ms:.2f}×", f"{peer_ms:.2f}", f"{peer_ms / metis_ms:.2f}×"]
            figures.append(benchresults.figure(f"{name} decode vs bare library", "ms", metis_ms, bare_ms, "bare library call", False))
            figures.append(benchresults.figure(f"{name} decode vs pydicom", "ms", metis_ms, peer_ms, "pydicom 3.0.1 + plugins", False))
        else:
            cells += ["—"] * 5
        render = lambda rate: f"{rate:.1f}" if rate else "cannot"  # noqa: E731
        cells += [render(metis_rate), render(orthanc_rate),
                  f"{metis_rate / orthanc_rate:.2f}×" if metis_rate and orthanc_rate else "—"]
        if metis_rate and orthanc_rate:
            figures.append(benchresults.figure(f"{name} rendered", "frames/s", metis_rate, orthanc_rate, "Orthanc 1.10 + DICOMweb + GDCM",
                                               True))
        print("| " + " | ".join(cells) + " |")
    benchresults.finish(benchresults.result("codec_bench", {"frame": "512x512, 12 bits stored", "seconds": arguments.seconds,
                                                            "copies": arguments.copies},
                                            figures), arguments)


if __name__ == "__main__":
    main()
