#!/usr/bin/env python3
"""Segmentation benchmark: the whole job through the gateway, stage by stage,
and the contour + RTSTRUCT stage against rt-utils (PyPI) on the same mask.

    python3 Benchmarks/Scripts/segmentation_bench.py [--metis .build/release/metis] [--runs 3]

Writes a 256x256x150 synthetic brain MR series (1 mm pixels, 1 mm slices;
head, brain, five bright spherical lesions), stores it through `metis up`
(STOW-RS, not timed), then runs POST /segmentation/{study} --runs times with
the classical engine and reports the median of each stage (fetch, volume,
engine, lesions, contours, encode, store), the whole request, and the peak
resident memory of the inference worker and of the gateway (VmHWM).

rt-utils 1.2.7 (the original prototype's writer) then builds an RTSTRUCT for
the lesion mask Metis found (read back from Metis's own RTSTRUCT is not
needed: the phantom's lesions are the mask, which the engine finds with
Dice ~1) on the same files; its add_roi + save time is compared with Metis's
contours + encode stages.
"""
import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchresults  # noqa: E402

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

SIZE, SLICES = 256, 150
LESIONS = [((20, -15, 70), 10), ((-35, 25, 90), 6), ((10, 40, 40), 4), ((-20, -40, 110), 8), ((40, 10, 55), 5)]


def phantom_series(directory):
    """Writes the series; returns (study UID, the lesion mask as [slice][row][column])."""
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    columns = np.arange(SIZE) - (SIZE - 1) / 2
    x, y = np.meshgrid(columns, columns)  # 1 mm pixels, axial, rows along y
    mask = np.zeros((SLICES, SIZE, SIZE), dtype=bool)
    for k in range(SLICES):
        z = 75 - (SLICES - 1) / 2 + k
        head = (x / 85) ** 2 + (y / 100) ** 2 + ((z - 75) / 80) ** 2 <= 1
        brain = (x / 75) ** 2 + (y / 90) ** 2 + ((z - 75) / 70) ** 2 <= 1
        image = np.where(brain, 600 + 20 * np.sin(x / 7) * np.cos(y / 9), np.where(head, 300, 0))
        for (cx, cy, cz), radius in LESIONS:
            inside = (x - cx) ** 2 + (y - cy) ** 2 + (z - cz) ** 2 <= radius ** 2
            image = np.where(inside, 1500, image)
            mask[k] |= inside
        ds = Dataset()
        ds.SpecificCharacterSet = "ISO_IR 192"
        ds.SOPClassUID = MRImageStorage
        ds.SOPInstanceUID = generate_uid()
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
        ds.Modality = "MR"
        ds.PatientName, ds.PatientID = "Bench^Segmentation", "BENCH-SEG"
        ds.StudyDate, ds.SeriesDescription, ds.SeriesNumber, ds.InstanceNumber = "20260310", "T1 MPRAGE gado", 3, k + 1
        ds.StudyTime, ds.StudyID, ds.AccessionNumber, ds.ReferringPhysicianName = "093000", "1", "ACC-SEG", ""
        ds.ImagePositionPatient = [float(columns[0]), float(columns[0]), float(z)]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing, ds.SliceThickness = [1, 1], 1
        ds.Rows = ds.Columns = SIZE
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
        ds.PixelData = image.astype(np.uint16).tobytes()
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = MRImageStorage, ds.SOPInstanceUID
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta = meta
        ds.save_as(os.path.join(directory, f"IM{k:04d}.dcm"), enforce_file_format=True)
    return study, mask


def request(port, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    return response.status, response.read()


def peak_memory(pattern):
    pids = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout.split()
    peaks = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as status:
                peaks += [int(line.split()[1]) for line in status if line.startswith("VmHWM")]
        except OSError:
            pass
    return max(peaks) / 1024 if peaks else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--metis", default=".build/release/metis")
    parser.add_argument("--runs", type=int, default=3)
    benchresults.add_arguments(parser)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-seg-") as directory:
        series_dir = os.path.join(directory, "series")
        os.mkdir(series_dir)
        print("writing the series…", file=sys.stderr)
        study, mask = phantom_series(series_dir)
        files = sorted(os.listdir(series_dir))
        with socket_port() as port:
            up = subprocess.Popen([arguments.metis, "up", "--data", os.path.join(directory, "data"), "--port", str(port),
                                   "--log-level", "warning", "--auth", "none", "--max-upload-bytes", str(1 << 30)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_healthy(port)
            boundary = "bench-" + uuid.uuid4().hex
            body = b"".join(b"--" + boundary.encode() + b"\r\nContent-Type: application/dicom\r\n\r\n"
                            + open(os.path.join(series_dir, name), "rb").read() + b"\r\n" for name in files)
            body += b"--" + boundary.encode() + b"--\r\n"
            status, answer = request(port, "POST", "/dicom-web/studies", body,
                                     {"Content-Type": f'multipart/related; type="application/dicom"; boundary={boundary}'})
            assert status == 200, answer[:300]
            runs = []
            for run in range(arguments.runs):
                start = time.perf_counter()
                status, answer = request(port, "POST", f"/segmentation/{study}")
                elapsed = time.perf_counter() - start
                assert status == 200, answer[:300]
                report = json.loads(answer)
                runs.append((elapsed, {t["stage"]: t["seconds"] for t in report["timings"]}, len(report["lesions"])))
                print(f"run {run + 1}: {elapsed:.2f} s, {len(report['lesions'])} lesions", file=sys.stderr)
            inference_peak, gateway_peak = peak_memory("metis inference"), peak_memory("metis gateway")
        finally:
            up.terminate()
            up.wait(30)
        # Every stage the report names, in its order (fetch, volume, engine, intracranial, lesions, contours, encode, store, record).
        stages = list(runs[0][1])
        medians = {stage: statistics.median(r[1].get(stage, 0) for r in runs) for stage in stages}
        whole = statistics.median(r[0] for r in runs)
        metis_rt = medians["contours"] + medians["encode"]

        print("rt-utils on the same mask…", file=sys.stderr)
        from rt_utils import RTStructBuilder
        start = time.perf_counter()
        builder = RTStructBuilder.create_new(dicom_series_path=series_dir)
        load = time.perf_counter() - start
        # rt-utils wants the mask as [row][column][slice] in its own (sorted) slice order.
        from scipy import ndimage
        labels, count = ndimage.label(mask, structure=np.ones((3, 3, 3)))
        start = time.perf_counter()
        for label in range(1, count + 1):
            builder.add_roi(mask=np.transpose(labels == label, (1, 2, 0)), name=f"Lesion {label}")
        builder.save(os.path.join(directory, "rt-utils.dcm"))
        rt_utils = time.perf_counter() - start

    print(f"| stage | Metis (median of {arguments.runs}, s) |")
    print("| --- | --- |")
    for stage in stages:
        print(f"| {stage} | {medians[stage]:.3f} |")
    print(f"| whole request (client side) | {whole:.3f} |")
    print()
    print(f"peak resident memory: inference worker {inference_peak:.0f} MiB, gateway {gateway_peak:.0f} MiB; lesions found: {runs[-1][2]}")
    print()
    print("| contour + RTSTRUCT of the same lesions | rt-utils 1.2.7 | Metis | ratio |")
    print("| --- | --- | --- | --- |")
    print(f"| seconds (rt-utils: add_roi + save; series load {load:.2f} s not counted) | {rt_utils:.3f} | {metis_rt:.3f} | {rt_utils / metis_rt:.1f}× |")
    figures = [benchresults.figure("contour + RTSTRUCT of the same lesions", "s", metis_rt, rt_utils, "rt-utils 1.2.7", False),
               benchresults.figure("whole job through the gateway (target 5 s)", "s", whole, None, None, False),
               benchresults.figure("inference worker peak resident memory", "MiB", inference_peak, None, None, False)]
    figures += [benchresults.figure(f"stage {stage}", "s", medians[stage], None, None, False) for stage in stages]
    benchresults.finish(benchresults.result("segmentation_bench", {"runs": arguments.runs, "engine": "classical"}, figures), arguments)


class socket_port:
    def __enter__(self):
        import socket
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        port = self.socket.getsockname()[1]
        self.socket.close()
        return port

    def __exit__(self, *exc):
        return False


def wait_healthy(port):
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            status, _ = request(port, "GET", "/healthz")
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("metis up did not become healthy")


if __name__ == "__main__":
    main()
