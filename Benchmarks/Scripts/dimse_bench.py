#!/usr/bin/env python3
"""DIMSE benchmark: Metis's DIMSE edge against Orthanc 1.10 (Debian's, DIMSE on,
TCP_NODELAY=1 in its environment), same files, same machine, same run.

    python3 Benchmarks/Scripts/dimse_bench.py [--metis .build/release/metis] [--load PATH/dimse-load] [--record|--compare]

The load is Metis's own SCU (Benchmarks/Sources/dimse-load), because dcmtk's
storescu and pynetdicom are slower than both servers (../shared/reference/
dimse-codecs-models.md). Its ceiling is measured against dcmtk's storescp in
the same run. Figures:
  * C-STORE of 1,000 MR instances (256x256, 16-bit, about 135 KB) on one
    association and on 4 associations: instances per second;
  * C-FIND, Study Root, STUDY level, every one of 2,000 studies: queries per
    second;
  * C-MOVE of a 64-instance study to a storescp: seconds.
Each server starts empty; each C-STORE run sends instances it has not seen.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchresults  # noqa: E402
from dicomweb_vs_orthanc import ROOT, free_port, instance_bytes  # noqa: E402

ENV = dict(os.environ, TCP_NODELAY="1")


def write_instances(folder, study, count, size, patient, seed):
    os.makedirs(folder, exist_ok=True)
    paths = []
    for index in range(count):
        path = os.path.join(folder, f"{index:05d}.dcm")
        with open(path, "wb") as f:
            f.write(instance_bytes(study, f"{study}.1", f"{study}.1.{index + 1}", patient, size, seed + index, index + 1))
        paths.append(path)
    return paths


def wait_port(port, timeout=120):
    import socket
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {port}")


def load(binary, *arguments):
    output = subprocess.run([binary, *map(str, arguments)], check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--metis", default=".build/release/metis")
    parser.add_argument("--load", default="Benchmarks/.build/release/dimse-load")
    parser.add_argument("--orthanc", default=shutil.which("Orthanc") or "/usr/sbin/Orthanc")
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--studies", type=int, default=2000)
    parser.add_argument("--record", action="store_true")
    parser.add_argument("--compare", action="store_true")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="metis-dimse-bench-") as directory:
        data = {}
        for target in ("sink", "orthanc", "metis"):
            for associations in (1, 4):
                study = f"{ROOT}.{ {'sink': 1, 'orthanc': 2, 'metis': 3}[target] }{associations}"
                data[(target, associations)] = write_instances(
                    f"{directory}/store-{target}-{associations}", study, arguments.instances, 256, 1, 1000 * associations)
        small = []
        for index in range(arguments.studies):
            small.append(write_instances(f"{directory}/find/{index}", f"{ROOT}.9.{index + 1}", 1, 16, index + 2, index)[0])
        move_study = f"{ROOT}.8"
        move_files = write_instances(f"{directory}/move", move_study, 64, 256, 9999, 5)

        sink_port = free_port()
        os.makedirs(f"{directory}/sink", exist_ok=True)
        sink = subprocess.Popen(["/usr/bin/storescp", "-aet", "SINK", "-od", f"{directory}/sink", str(sink_port)], env=ENV,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(sink_port)
        results = {}
        try:
            for associations in (1, 4):
                run = load(arguments.load, "store", "127.0.0.1", sink_port, "SINK", associations, *data[("sink", associations)])
                results[("sink", associations)] = run["instances"] / run["seconds"]

            # Orthanc.
            orthanc_port, orthanc_http = free_port(), free_port()
            config = {"Name": "bench", "StorageDirectory": f"{directory}/orthanc", "IndexDirectory": f"{directory}/orthanc",
                      "HttpPort": orthanc_http, "DicomPort": orthanc_port, "DicomAet": "ORTHANC", "RemoteAccessAllowed": False,
                      "AuthenticationEnabled": False, "Plugins": [],
                      "DicomModalities": {"sink": ["SINK", "127.0.0.1", sink_port], "load": ["DIMSELOAD", "127.0.0.1", 104]}}
            with open(f"{directory}/orthanc.json", "w") as f:
                json.dump(config, f)
            orthanc = subprocess.Popen([arguments.orthanc, f"{directory}/orthanc.json"], env=ENV,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            # Metis.
            metis_port, metis_http = free_port(), free_port()
            metis = subprocess.Popen(
                [arguments.metis, "up", "--data", f"{directory}/metis", "--port", str(metis_http), "--auth", "none", "--model", "none",
                 "--log-level", "warning", "--dicom-port", str(metis_port),
                 "--dicom-peers", f"DIMSELOAD@127.0.0.1:104, SINK@127.0.0.1:{sink_port}/store"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait_port(orthanc_port)
                wait_port(metis_port)
                time.sleep(2)
                for name, port, called in (("orthanc", orthanc_port, "ORTHANC"), ("metis", metis_port, "METIS")):
                    for associations in (1, 4):
                        run = load(arguments.load, "store", "127.0.0.1", port, called, associations, *data[(name, associations)])
                        if run["failed"]:
                            raise RuntimeError(f"{name}: {run['failed']} stores failed")
                        results[(name, associations)] = run["instances"] / run["seconds"]
                    load(arguments.load, "store", "127.0.0.1", port, called, 4, *small)
                    load(arguments.load, "store", "127.0.0.1", port, called, 4, *move_files)
                    find = load(arguments.load, "find", "127.0.0.1", port, called, 5)
                    if find["matches"] < 5 * arguments.studies:
                        raise RuntimeError(f"{name}: C-FIND found {find['matches']}")
                    results[(name, "find")] = find["queries"] / find["seconds"]
                    move = load(arguments.load, "move", "127.0.0.1", port, called, "SINK", move_study)
                    if move["completed"] != 64:
                        raise RuntimeError(f"{name}: C-MOVE completed {move['completed']}")
                    results[(name, "move")] = move["seconds"]
            finally:
                for process in (metis, orthanc):
                    process.terminate()
                    process.wait(60)
        finally:
            sink.kill()
            sink.wait()

    figures = [
        benchresults.figure("C-STORE, 1 association", "instances/s", results[("metis", 1)], results[("orthanc", 1)], "Orthanc 1.10", True),
        benchresults.figure("C-STORE, 4 associations", "instances/s", results[("metis", 4)], results[("orthanc", 4)], "Orthanc 1.10", True),
        benchresults.figure(f"C-FIND STUDY, {arguments.studies} studies", "queries/s", results[("metis", "find")],
                            results[("orthanc", "find")], "Orthanc 1.10", True),
        benchresults.figure("C-MOVE of 64 instances", "s", results[("metis", "move")], results[("orthanc", "move")], "Orthanc 1.10", False),
        benchresults.figure("load generator ceiling (storescp), 1 association", "instances/s", results[("sink", 1)], None, None, True),
        benchresults.figure("load generator ceiling (storescp), 4 associations", "instances/s", results[("sink", 4)], None, None, True),
    ]
    print("| measure | Orthanc 1.10 | Metis | ratio (>1: Metis better) |")
    print("| --- | --- | --- | --- |")
    for entry in figures:
        peer = "—" if entry["peer"] is None else f"{entry['peer']:.1f}"
        ratio = benchresults.ratio(entry)
        print(f"| {entry['name']} ({entry['unit']}) | {peer} | {entry['metis']:.1f} | {'—' if ratio != ratio else f'{ratio:.2f}×'} |")
    run = benchresults.result("dimse_vs_orthanc", {"instances": arguments.instances, "studies": arguments.studies, "size": 256}, figures)
    if arguments.record:
        benchresults.record(run)
    if arguments.compare:
        sys.exit(1 if benchresults.compare(run) else 0)


if __name__ == "__main__":
    main()
