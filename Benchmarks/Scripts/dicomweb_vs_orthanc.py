#!/usr/bin/env python3
"""DICOMweb benchmark: Metis against Orthanc (Debian's 1.10 + its DICOMweb
plugin), same run, same workload, both started here on loopback.

    python3 Benchmarks/Scripts/dicomweb_vs_orthanc.py [--metis .build/release/metis] [--orthanc Orthanc]

Measures, for each server:
  * STOW-RS upload throughput, one instance per request (MR 256x256 16-bit,
    ~132 KB), with 1 and 4 clients (processes), and 20 instances per request;
  * QIDO-RS study search p50/p95 with 100 and with 2,000 studies stored: the
    study list OHIF asks for (limit=101, its includefields) and all studies;
  * series metadata latency (WADO-RS .../series/{uid}/metadata, 50 instances);
  * frame retrieval throughput (WADO-RS .../frames/1, 1 and 4 clients);
  * study delete latency (20 studies of 20 instances). Orthanc's DICOMweb
    plugin has no DELETE, so Orthanc deletes through its REST API
    (DELETE /studies/{id}), which is what its users do.
The servers run in ABBA order (Orthanc, Metis, Metis, Orthanc) and each figure
is the mean of a server's two runs. Prints a Markdown table with the ratio
(>1: Metis better); --json FILE also writes every run's figures; --record keeps
them as the last results (Benchmarks/Results/dicomweb_vs_orthanc.json) and
--compare compares this run with those (benchresults.py).
"""
import argparse
import hashlib
import http.client
import io
import json
import multiprocessing
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchresults  # noqa: E402

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage

ROOT = "1.2.826.0.1.3680043.8.498.77"


def instance_bytes(study, series, sop, patient, size, seed, number=1):
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = MRImageStorage
    ds.SOPInstanceUID = sop
    ds.StudyInstanceUID = study
    ds.SeriesInstanceUID = series
    ds.Modality = "MR"
    ds.PatientName = f"Bench^Patient{patient}"
    ds.PatientID = f"BENCH-{patient}"
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "F"
    ds.StudyDate = "20260114"
    ds.StudyTime = "101500"
    ds.StudyDescription = "IRM cérébrale"
    ds.ReferringPhysicianName = "Curie^Marie"
    ds.AccessionNumber = f"ACC{patient}"
    ds.SeriesDescription = "T1 gado"
    ds.SeriesNumber = 1
    ds.InstanceNumber = number
    ds.ImagePositionPatient = [-120, -120, float(number)]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [0.9, 0.9]
    ds.SliceThickness = 1
    ds.FrameOfReferenceUID = study + ".0"
    ds.Rows = size
    ds.Columns = size
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    rng = np.random.default_rng(seed)
    ds.PixelData = rng.integers(0, 4096, size=(size, size), dtype=np.uint16).tobytes()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MRImageStorage
    meta.MediaStorageSOPInstanceUID = sop
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """One keep-alive HTTP connection."""

    def __init__(self, port):
        self.port = port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def request(self, method, path, body=None, headers=None):
        self.connection.request(method, path, body=body, headers=headers or {})
        response = self.connection.getresponse()
        data = response.read()
        return response.status, data


def multipart(instances, boundary="metis-bench-boundary"):
    parts = [b"--" + boundary.encode() + b"\r\nContent-Type: application/dicom\r\n\r\n" + data + b"\r\n" for data in instances]
    body = b"".join(parts) + b"--" + boundary.encode() + b"--\r\n"
    return body, {"Content-Type": f'multipart/related; type="application/dicom"; boundary={boundary}'}


def stow(client, root, instances):
    body, headers = multipart(instances)
    headers["Accept"] = "application/dicom+json"
    status, data = client.request("POST", f"{root}/studies", body, headers)
    if status != 200:
        raise RuntimeError(f"STOW answered {status}: {data[:300]!r}")


def _stow_worker(args):
    port, root, instances = args
    client = Client(port)
    for data in instances:
        stow(client, root, [data])
    return len(instances)


def _frames_worker(args):
    port, paths = args
    client = Client(port)
    accept = {"Accept": 'multipart/related; type="application/octet-stream"; transfer-syntax=*'}
    for path in paths:
        status, data = client.request("GET", path, headers=accept)
        if status != 200:
            raise RuntimeError(f"frames answered {status}")
    return len(paths)


def parallel(worker, jobs):
    with multiprocessing.Pool(len(jobs)) as pool:
        start = time.perf_counter()
        done = sum(pool.map(worker, jobs))
        return done / (time.perf_counter() - start)


def percentiles(samples):
    samples = sorted(samples)
    return {"p50": statistics.median(samples) * 1000, "p95": samples[int(0.95 * (len(samples) - 1))] * 1000}


def timed(client, path, repeat, headers=None):
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        status, data = client.request("GET", path, headers=headers or {})
        samples.append(time.perf_counter() - start)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}: {data[:200]!r}")
    return percentiles(samples)


class Server:
    def __init__(self, name, command, port, root, health, env=None):
        self.name, self.port, self.root = name, port, root
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                status, _ = Client(port).request("GET", health)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{name} did not start")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_orthanc(binary, directory):
    port = free_port()
    config = {
        "Name": "bench", "StorageDirectory": f"{directory}/db", "IndexDirectory": f"{directory}/db", "HttpPort": port,
        "DicomServerEnabled": False, "RemoteAccessAllowed": False, "AuthenticationEnabled": False,
        "Plugins": ["/usr/share/orthanc/plugins/libOrthancDicomWeb.so"], "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
    }
    with open(f"{directory}/orthanc.json", "w") as f:
        json.dump(config, f)
    return Server("Orthanc", [binary, f"{directory}/orthanc.json"], port, "/dicom-web", "/system")


def start_metis(binary, directory):
    port = free_port()
    return Server("Metis", [binary, "up", "--data", f"{directory}/data", "--port", str(port), "--log-level", "warning",
                            "--auth", "none", "--max-upload-bytes", str(2 << 30)], port, "/dicom-web", "/healthz")


def orthanc_study_id(patient_id, study):
    digest = hashlib.sha1(f"{patient_id}|{study}".encode()).hexdigest()
    return "-".join(digest[i:i + 8] for i in range(0, 40, 8))


def run(server, data):
    results = {}
    client = Client(server.port)
    root = server.root

    # STOW-RS, 1 client: one instance per request.
    start = time.perf_counter()
    for instance in data["stow1"]:
        stow(client, root, [instance])
    results["stow_1"] = len(data["stow1"]) / (time.perf_counter() - start)
    # STOW-RS, 4 clients.
    chunks = [data["stow4"][i::4] for i in range(4)]
    results["stow_4"] = parallel(_stow_worker, [(server.port, root, chunk) for chunk in chunks])
    # STOW-RS, 1 client, 20 instances per request (as dicomweb-client and PACS exports send them).
    start = time.perf_counter()
    for i in range(0, len(data["stow_batch"]), 20):
        stow(client, root, data["stow_batch"][i:i + 20])
    results["stow_batch"] = len(data["stow_batch"]) / (time.perf_counter() - start)

    # Series metadata of 50 instances.
    series = f"{ROOT}.1.1"
    results["metadata"] = timed(client, f"{root}/studies/{ROOT}.1/series/{series}/metadata", 30, {"Accept": "application/dicom+json"})

    # Frames: frame 1 of each uploaded instance.
    frame_paths = [f"{root}/studies/{ROOT}.1/series/{ROOT}.1.{s}/instances/{ROOT}.1.{s}.{n}/frames/1"
                   for s in range(1, 5) for n in range(1, 51)]
    results["frames_1"] = parallel(_frames_worker, [(server.port, frame_paths)])
    results["frames_4"] = parallel(_frames_worker, [(server.port, frame_paths[i::4]) for i in range(4)])

    # QIDO with 100 then 2,000 studies (the STOW studies count too).
    ohif = f"{root}/studies?limit=101&offset=0&includefield=00081030%2C00080060%2C00080090%2C00100030"
    everything = f"{root}/studies?includefield=00081030%2C00080090%2C00100030"
    json_accept = {"Accept": "application/dicom+json"}
    stored = 3  # the three STOW studies
    for target in (100, 2000):
        batch = data["population"][stored - 3:target - 3]
        for i in range(0, len(batch), 50):
            stow(client, root, batch[i:i + 50])
        stored = target
        status, body = client.request("GET", f"{root}/studies?includefield=00081030", headers=json_accept)
        count = len(json.loads(body))
        if count != target:
            raise RuntimeError(f"{server.name} lists {count} studies, expected {target}")
        results[f"qido_ohif_{target}"] = timed(client, ohif, 30, json_accept)
        results[f"qido_all_{target}"] = timed(client, everything, 10 if target > 100 else 30, json_accept)

    # Delete 20 studies of 20 instances.
    for study in data["delete"]:
        stow(client, root, study["instances"])
    samples = []
    for study in data["delete"]:
        if server.name == "Orthanc":
            path = f"/studies/{orthanc_study_id(study['patient'], study['uid'])}"
        else:
            path = f"{root}/studies/{study['uid']}"
        start = time.perf_counter()
        status, body = client.request("DELETE", path)
        samples.append(time.perf_counter() - start)
        if status != 200:
            raise RuntimeError(f"{server.name} delete answered {status}: {body[:200]!r}")
    results["delete"] = percentiles(samples)
    return results


def make_data():
    data = {}
    # 200 instances of study .1 in 4 series of 50 (1 client), 200 of study .2 (4 clients).
    data["stow1"] = [instance_bytes(f"{ROOT}.1", f"{ROOT}.1.{s}", f"{ROOT}.1.{s}.{n}", 1, 256, s * 100 + n, n)
                     for s in range(1, 5) for n in range(1, 51)]
    data["stow4"] = [instance_bytes(f"{ROOT}.2", f"{ROOT}.2.{s}", f"{ROOT}.2.{s}.{n}", 2, 256, 1000 + s * 100 + n, n)
                     for s in range(1, 5) for n in range(1, 51)]
    data["stow_batch"] = [instance_bytes(f"{ROOT}.5", f"{ROOT}.5.{s}", f"{ROOT}.5.{s}.{n}", 3, 256, 3000 + s * 100 + n, n)
                          for s in range(1, 5) for n in range(1, 51)]
    data["population"] = [instance_bytes(f"{ROOT}.3.{i}", f"{ROOT}.3.{i}.1", f"{ROOT}.3.{i}.1.1", 1000 + i, 16, i)
                          for i in range(1997)]
    data["delete"] = [{"uid": f"{ROOT}.4.{i}", "patient": f"BENCH-{5000 + i}",
                       "instances": [instance_bytes(f"{ROOT}.4.{i}", f"{ROOT}.4.{i}.1", f"{ROOT}.4.{i}.1.{n}", 5000 + i, 64, n, n)
                                     for n in range(1, 21)]} for i in range(20)]
    return data


ROWS = [
    ("STOW-RS upload, 1 client (instances/s)", "stow_1", None, True),
    ("STOW-RS upload, 4 clients (instances/s)", "stow_4", None, True),
    ("STOW-RS upload, 1 client, 20 instances per request (instances/s)", "stow_batch", None, True),
    ("QIDO studies (OHIF list, limit=101), 100 studies: p50 ms", "qido_ohif_100", "p50", False),
    ("QIDO studies (OHIF list, limit=101), 100 studies: p95 ms", "qido_ohif_100", "p95", False),
    ("QIDO all studies, 100 studies: p50 ms", "qido_all_100", "p50", False),
    ("QIDO all studies, 100 studies: p95 ms", "qido_all_100", "p95", False),
    ("QIDO studies (OHIF list, limit=101), 2,000 studies: p50 ms", "qido_ohif_2000", "p50", False),
    ("QIDO studies (OHIF list, limit=101), 2,000 studies: p95 ms", "qido_ohif_2000", "p95", False),
    ("QIDO all studies, 2,000 studies: p50 ms", "qido_all_2000", "p50", False),
    ("QIDO all studies, 2,000 studies: p95 ms", "qido_all_2000", "p95", False),
    ("series metadata, 50 instances: p50 ms", "metadata", "p50", False),
    ("series metadata, 50 instances: p95 ms", "metadata", "p95", False),
    ("frame retrieval, 1 client (frames/s)", "frames_1", None, True),
    ("frame retrieval, 4 clients (frames/s)", "frames_4", None, True),
    ("study delete (20 instances): p50 ms", "delete", "p50", False),
    ("study delete (20 instances): p95 ms", "delete", "p95", False),
]


def mean(runs):
    """The figures of several runs averaged, key by key (percentiles too)."""
    merged = {}
    for key, value in runs[0].items():
        if isinstance(value, dict):
            merged[key] = {p: statistics.mean(run[key][p] for run in runs) for p in value}
        else:
            merged[key] = statistics.mean(run[key] for run in runs)
    return merged


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--metis", default=".build/release/metis")
    parser.add_argument("--orthanc", default=shutil.which("Orthanc") or "/usr/sbin/Orthanc")
    parser.add_argument("--json")
    parser.add_argument("--rounds", type=int, choices=[1, 2], default=2, help="2: ABBA order, figures averaged")
    benchresults.add_arguments(parser)
    arguments = parser.parse_args()
    print("generating instances…", file=sys.stderr)
    data = make_data()
    servers = {"Orthanc": (start_orthanc, arguments.orthanc), "Metis": (start_metis, arguments.metis)}
    # ABBA order: whichever runs right after the other's data is deleted pays for the
    # file system's recently freed inodes, so each server runs once in each position.
    rounds = {"Orthanc": [], "Metis": []}
    for name in ("Orthanc", "Metis", "Metis", "Orthanc")[: 4 if arguments.rounds == 2 else 2]:
        starter, binary = servers[name]
        with tempfile.TemporaryDirectory(prefix=f"bench-{name.lower()}-") as directory:
            print(f"running {name}…", file=sys.stderr)
            server = starter(binary, directory)
            try:
                rounds[name].append(run(server, data))
            finally:
                server.stop()
    results = {name: mean(runs) for name, runs in rounds.items()}
    print("| measure | Orthanc 1.10 + DICOMweb | Metis | ratio (>1: Metis better) |")
    print("| --- | --- | --- | --- |")
    figures = []
    for label, key, percentile, higher_is_better in ROWS:
        orthanc, metis = results["Orthanc"][key], results["Metis"][key]
        if percentile:
            orthanc, metis = orthanc[percentile], metis[percentile]
        ratio = metis / orthanc if higher_is_better else orthanc / metis
        print(f"| {label} | {orthanc:.1f} | {metis:.1f} | {ratio:.2f}× |")
        unit = label.rsplit("(", 1)[1].rstrip(")") if higher_is_better else "ms"
        figures.append(benchresults.figure(label, unit, metis, orthanc, "Orthanc 1.10 + DICOMweb", higher_is_better))
    if arguments.json:
        with open(arguments.json, "w") as f:
            json.dump({"rounds": rounds, "mean": results}, f, indent=2)
    benchresults.finish(benchresults.result("dicomweb_vs_orthanc", {"rounds": arguments.rounds}, figures), arguments)


if __name__ == "__main__":
    main()
