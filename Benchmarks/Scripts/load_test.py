#!/usr/bin/env python3
"""Mixed load through the gateway while segmentations run (issue 9's load test).

    python3 Benchmarks/Scripts/load_test.py [--metis .build/release/metis] [--seconds 60] [--clients 4]

Starts `metis up` (release build, loopback, --auth none) on a temporary
directory, stores the 256x256x150 phantom series of segmentation_bench.py,
then for --seconds runs --clients threads of mixed traffic: uploads (a new
small study each time, STOW-RS), QIDO study searches, series metadata,
frames, and follow-up reads (patient list, timeline); meanwhile one thread
segments the big series again and again (UNETR, the default engine).
Reports requests and errors per kind, p50/p99 latencies, and every process's
resident memory (VmRSS) sampled each 5 s: after a warm-up third, the last
sample against the warm-up one. Exits 1 on any error.
"""
import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from segmentation_bench import phantom_series, socket_port, wait_healthy  # noqa: E402

import numpy as np  # noqa: E402
import pydicom  # noqa: E402
from pydicom.dataset import Dataset, FileMetaDataset  # noqa: E402
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid  # noqa: E402


def small_study():
    """A 4-slice 64x64 MR study, as Part 10 bytes."""
    study, series = generate_uid(), generate_uid()
    files = []
    for k in range(4):
        ds = Dataset()
        ds.SOPClassUID, ds.SOPInstanceUID = MRImageStorage, generate_uid()
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, generate_uid()
        ds.Modality, ds.PatientName, ds.PatientID = "MR", "Load^Test", f"LOAD-{random.randint(0, 999)}"
        ds.StudyDate, ds.SeriesNumber, ds.InstanceNumber = "20260101", 1, k + 1
        ds.ImagePositionPatient, ds.ImageOrientationPatient = [0, 0, 2.0 * k], [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing, ds.SliceThickness, ds.Rows, ds.Columns = [1, 1], 2, 64, 64
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
        ds.PixelData = np.random.randint(0, 1000, (64, 64), dtype=np.uint16).tobytes()
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = MRImageStorage, ds.SOPInstanceUID
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta = meta
        from io import BytesIO
        buffer = BytesIO()
        ds.save_as(buffer, enforce_file_format=True)
        files.append(buffer.getvalue())
    return files


def multipart(files):
    boundary = "load-" + uuid.uuid4().hex
    body = b"".join(b"--" + boundary.encode() + b"\r\nContent-Type: application/dicom\r\n\r\n" + f + b"\r\n" for f in files)
    return body + b"--" + boundary.encode() + b"--\r\n", f'multipart/related; type="application/dicom"; boundary={boundary}'


def rss_by_process(pattern):
    rows = {}
    for line in subprocess.run(["pgrep", "-af", pattern], capture_output=True, text=True).stdout.splitlines():
        pid, command = line.split(" ", 1)
        words = command.split()
        if len(words) < 2 or words[1] not in ("storage", "tracking", "inference", "gateway"):
            continue
        name = words[1] + ("-" + words[words.index("--worker") + 1] if "--worker" in words else "")
        try:
            with open(f"/proc/{pid}/status") as status:
                rows[name] = next(int(l.split()[1]) for l in status if l.startswith("VmRSS")) / 1024
        except (OSError, StopIteration):
            pass
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--metis", default=".build/release/metis")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--clients", type=int, default=4)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="metis-load-") as directory:
        series_dir = os.path.join(directory, "series")
        os.mkdir(series_dir)
        study, _ = phantom_series(series_dir)
        files = [open(os.path.join(series_dir, n), "rb").read() for n in sorted(os.listdir(series_dir))]
        with socket_port() as port:
            up = subprocess.Popen([arguments.metis, "up", "--data", os.path.join(directory, "data"), "--port", str(port),
                                   "--log-level", "warning", "--auth", "none"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_healthy(port)

            def call(method, path, body=None, headers=None):
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
                connection.request(method, path, body=body, headers=headers or {})
                response = connection.getresponse()
                data = response.read()
                connection.close()
                return response.status, data

            body, content_type = multipart(files)
            assert call("POST", "/dicom-web/studies", body, {"Content-Type": content_type})[0] == 200
            status, answer = call("POST", f"/segmentation/{study}")
            assert status == 200, answer[:200]
            series = json.loads(call("GET", f"/dicom-web/studies/{study}/series?Modality=MR")[1])[0]["0020000E"]["Value"][0]
            instances = [i["00080018"]["Value"][0] for i in json.loads(call("GET", f"/dicom-web/studies/{study}/series/{series}/instances")[1])]
            uploads = [small_study() for _ in range(20)]

            results, lock, stop = {}, threading.Lock(), time.monotonic() + arguments.seconds

            def record(kind, seconds, ok):
                with lock:
                    latencies, errors = results.setdefault(kind, ([], [0]))
                    latencies.append(seconds)
                    if not ok:
                        errors[0] += 1

            def timed(kind, method, path, body=None, headers=None, expect=(200,)):
                start = time.perf_counter()
                try:
                    status, _ = call(method, path, body, headers)
                    ok = status in expect
                except OSError:
                    ok = False
                record(kind, time.perf_counter() - start, ok)

            def client(seed):
                generator = random.Random(seed)
                while time.monotonic() < stop:
                    kind = generator.choice(["upload", "qido", "metadata", "frames", "frames", "patients", "timeline"])
                    if kind == "upload":
                        body, content_type = multipart(generator.choice(uploads))
                        timed(kind, "POST", "/dicom-web/studies", body, {"Content-Type": content_type})
                    elif kind == "qido":
                        timed(kind, "GET", "/dicom-web/studies?limit=101&includefield=00081030&PatientName=*a*")
                    elif kind == "metadata":
                        timed(kind, "GET", f"/dicom-web/studies/{study}/series/{series}/metadata")
                    elif kind == "frames":
                        timed(kind, "GET", f"/dicom-web/studies/{study}/series/{series}/instances/{generator.choice(instances)}/frames/1",
                              headers={"Accept": 'multipart/related; type="application/octet-stream"; transfer-syntax=*'})
                    elif kind == "patients":
                        timed(kind, "GET", "/api/v1/patients")
                    else:
                        timed(kind, "GET", "/api/v1/patients/BENCH-SEG/timeline")

            def segmenter():
                while time.monotonic() < stop:
                    timed("segmentation", "POST", f"/segmentation/{study}")

            memory = []

            def sampler():
                while time.monotonic() < stop:
                    memory.append(rss_by_process(directory))
                    time.sleep(5)

            threads = [threading.Thread(target=client, args=(i,)) for i in range(arguments.clients)]
            threads += [threading.Thread(target=segmenter), threading.Thread(target=sampler)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            memory.append(rss_by_process(directory))

            failed = 0
            print(f"{arguments.seconds} s, {arguments.clients} clients and one segmentation loop, loopback:")
            print(f"{'request':<14}{'count':>7}{'errors':>8}{'p50 ms':>10}{'p99 ms':>10}")
            for kind in sorted(results):
                latencies, errors = results[kind]
                latencies.sort()
                p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
                print(f"{kind:<14}{len(latencies):>7}{errors[0]:>8}{statistics.median(latencies) * 1000:>10.1f}{p99 * 1000:>10.1f}")
                failed += errors[0]
            warm = memory[len(memory) // 3]
            print(f"\n{'process':<14}{'RSS after warm-up MB':>22}{'RSS at the end MB':>20}")
            for name in sorted(warm):
                print(f"{name:<14}{warm[name]:>22.0f}{memory[-1].get(name, float('nan')):>20.0f}")
            print("\nRSS every 5 s (MB): " + "; ".join(
                f"{name} " + " ".join(f"{sample.get(name, float('nan')):.0f}" for sample in memory) for name in sorted(warm)))
            sys.exit(1 if failed else 0)
        finally:
            up.terminate()
            up.wait()


if __name__ == "__main__":
    main()
