#!/usr/bin/env python3
"""Metis's networks against PyTorch + MONAI on the CPU, same run, same input, same threads.

    pip install torch==2.13.0 monai==1.6.1 einops safetensors numpy   # the CPU wheel
    swift build -c release --product metis
    python3 Benchmarks/Scripts/unetr_vs_pytorch.py --metis .build/release/metis [--network unetr|segresnet|swinunetr] [--threads 2] [--repeat 3]

--network unetr (the default): the BTCV configuration (96³ patches, feature
size 16, hidden 768, MLP 3072, 12 heads, instance norm, residual blocks, 2
classes); --network segresnet: MONAI's brats_mri_segmentation bundle
(SegResNet, init_filters 16, 4 sequences in, 3 channels out, blocks_down
1, 2, 2, 4, group norm of 8, ReLU, trilinear up-sampling), on 96³ windows
here too; --network swinunetr: MONAI's swin_unetr_btcv_segmentation bundle
(SwinUNETR, feature size 48, 7³ windows, 14 classes). Random weights:

1. one 96³ patch forward pass: median of --repeat passes after a warm-up;
2. whole-brain sliding-window inference of a 240×240×155 volume (overlap
   0.5, Gaussian blending, MONAI's `sliding_window_inference`): one run.

Each measure runs in its own process, in ABBA order (PyTorch, Metis, Metis,
PyTorch), so that drift on a noisy machine hits both sides alike; the table
gives each side's best, its peak resident memory (the process's own
maximum resident set size, from GNU time), and GFLOP/s from the FLOPs PyTorch's FlopCounterMode
counts, against OpenBLAS's own sgemm peak (2048², the same threads, the
kernels Metis selects). The logits of both sides are compared too.
"""
import argparse
import ctypes
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchresults  # noqa: E402

import numpy as np

BTCV = {"in_channels": 1, "out_channels": 2, "img_size": [96, 96, 96], "feature_size": 16, "hidden_size": 768,
        "mlp_dim": 3072, "num_heads": 12, "proj_type": "conv", "norm_name": "instance", "conv_block": True,
        "res_block": True, "dropout_rate": 0.0, "spatial_dims": 3, "qkv_bias": False}


BRATS = {"init_filters": 16, "in_channels": 4, "out_channels": 3, "blocks_down": [1, 2, 2, 4], "blocks_up": [1, 1, 1],
         "dropout_prob": 0.2}
SWIN_BTCV = {"in_channels": 1, "out_channels": 14, "feature_size": 48}
NETWORKS = {"unetr": ("UNETR", BTCV), "segresnet": ("SegResNet", BRATS), "swinunetr": ("SwinUNETR", SWIN_BTCV)}


def build(name):
    from monai.networks import nets
    cls, call = NETWORKS[name]
    return getattr(nets, cls)(**call).eval()


def torch_worker(arguments):
    import torch
    from monai.inferers import sliding_window_inference
    from safetensors.torch import load_file
    torch.set_num_threads(arguments.threads)
    network = build(arguments.network)
    network.load_state_dict(load_file(os.path.join(arguments.work, f"{arguments.network}.safetensors")))
    x = torch.from_numpy(np.load(os.path.join(arguments.work, f"{arguments.torch_worker}.npy")))
    with torch.no_grad():
        if arguments.torch_worker == "patch":
            logits = network(x)
            times = []
            for _ in range(arguments.repeat):
                start = time.perf_counter()
                logits = network(x)
                times.append(time.perf_counter() - start)
            seconds = statistics.median(times)
        else:
            start = time.perf_counter()
            logits = sliding_window_inference(x, [96, 96, 96], 1, network, overlap=0.5, mode="gaussian", sigma_scale=0.125)
            seconds = time.perf_counter() - start
    np.save(os.path.join(arguments.work, f"{arguments.torch_worker}.torch.npy"), logits.numpy())
    print(json.dumps({"seconds": seconds}))


def measure(command, environment=None):
    """Runs a command; returns its standard output and its peak resident memory (MiB, GNU time's %M)."""
    process = subprocess.run(["/usr/bin/time", "-f", "metis-maxrss %M"] + command, capture_output=True, text=True, env=environment)
    if process.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{process.stdout}\n{process.stderr}")
    rss = [line for line in process.stderr.splitlines() if line.startswith("metis-maxrss ")][-1]
    return process.stdout, int(rss.split()[1]) / 1024


def sgemm_peak(threads, coretype):
    """GFLOP/s of Debian's OpenBLAS cblas_sgemm on 2048² matrices, in a child with Metis's kernel choice."""
    code = f"""
import ctypes, time, numpy as np
blas = ctypes.CDLL("libopenblas.so.0")
blas.openblas_set_num_threads({threads})
n = 2048
a = np.random.rand(n, n).astype(np.float32); b = np.random.rand(n, n).astype(np.float32); c = np.zeros((n, n), np.float32)
p = lambda m: m.ctypes.data_as(ctypes.c_void_p)
f = ctypes.c_float
best = 1e9
for _ in range(5):
    t = time.perf_counter()
    blas.cblas_sgemm(101, 111, 111, n, n, n, f(1.0), p(a), n, p(b), n, f(0.0), p(c), n)
    best = min(best, time.perf_counter() - t)
print(2 * n ** 3 / best / 1e9)
"""
    environment = dict(os.environ)
    if coretype:
        environment["OPENBLAS_CORETYPE"] = coretype
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, check=True).stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--metis", default=".build/release/metis")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--network", choices=sorted(NETWORKS), default="unetr")
    parser.add_argument("--work", default=None)
    parser.add_argument("--torch-worker", choices=["patch", "brain"], help=argparse.SUPPRESS)
    parser.add_argument("--skip-brain", action="store_true", help="only the 96³ patch")
    benchresults.add_arguments(parser)
    arguments = parser.parse_args()
    if arguments.torch_worker:
        return torch_worker(arguments)

    import torch
    from safetensors.torch import save_file
    from torch.utils.flop_counter import FlopCounterMode

    work = arguments.work or tempfile.mkdtemp(prefix="metis-unetr-bench-")
    os.makedirs(work, exist_ok=True)
    torch.manual_seed(0)
    name = arguments.network
    network = build(name)
    channels = NETWORKS[name][1]["in_channels"]
    save_file({k: v.contiguous() for k, v in network.state_dict().items()}, os.path.join(work, f"{name}.safetensors"))
    with open(os.path.join(work, f"{name}.json"), "w") as f:
        json.dump({"architecture": {"name": NETWORKS[name][0], **NETWORKS[name][1]},
                   "inference": {"roi_size": [96, 96, 96], "overlap": 0.5, "mode": "gaussian", "sigma_scale": 0.125}}, f)
    rng = np.random.default_rng(0)
    np.save(os.path.join(work, "patch.npy"), rng.standard_normal((1, channels, 96, 96, 96)).astype(np.float32))
    if not arguments.skip_brain:
        np.save(os.path.join(work, "brain.npy"), rng.standard_normal((1, channels, 240, 240, 155)).astype(np.float32))
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        network(torch.zeros(1, channels, 96, 96, 96))
    patch_flops = counter.get_total_flops()
    windows = 4 * 4 * 3  # MONAI's dense_patch_slices for 240, 240, 155 with roi 96, interval 48
    del network

    # Metis's workers get their kernels from `metis up`; here the same choice is made explicitly.
    cpu = open("/proc/cpuinfo").read()
    coretype = "SkylakeX" if " avx512f " in cpu and " avx512bw " in cpu else ("Haswell" if " avx2 " in cpu else None)
    environment = dict(os.environ)
    if coretype and "OPENBLAS_CORETYPE" not in environment:
        environment["OPENBLAS_CORETYPE"] = coretype
    peak = sgemm_peak(arguments.threads, environment.get("OPENBLAS_CORETYPE"))

    results = {}
    kinds = ["patch"] + ([] if arguments.skip_brain else ["brain"])
    for kind in kinds:
        runs = {"pytorch": [], "metis": []}
        for side in ["pytorch", "metis", "metis", "pytorch"]:
            if side == "pytorch":
                output, rss = measure([sys.executable, __file__, "--torch-worker", kind, "--network", name, "--work", work, "--threads",
                                       str(arguments.threads), "--repeat", str(arguments.repeat)])
                seconds = json.loads(output.strip().splitlines()[-1])["seconds"]
            else:
                command = [arguments.metis, "model", "run", "--weights", os.path.join(work, f"{name}.safetensors"),
                           "--config", os.path.join(work, f"{name}.json"), "--input", os.path.join(work, f"{kind}.npy"),
                           "--output", os.path.join(work, f"{kind}.metis.npy"), "--threads", str(arguments.threads)]
                command += ["--repeat", str(arguments.repeat)] if kind == "patch" else ["--sliding-window"]
                output, rss = measure(command, environment)
                seconds = float(output.strip().splitlines()[-1].split()[-2])
            runs[side].append((seconds, rss))
            print(f"{kind} {side}: {seconds:.3f} s, peak RSS {rss:.0f} MiB", flush=True)
        ours = np.load(os.path.join(work, f"{kind}.metis.npy"))
        theirs = np.load(os.path.join(work, f"{kind}.torch.npy"))
        difference = float(np.abs(ours - theirs).max() / np.abs(theirs).max())
        flops = patch_flops * (1 if kind == "patch" else windows)
        results[kind] = {side: {"seconds": min(r[0] for r in runs[side]), "rss_mib": max(r[1] for r in runs[side])} for side in runs}
        results[kind]["max_relative_difference"] = difference
        results[kind]["gflops"] = flops / 1e9
    print()
    print(f"threads {arguments.threads}, OpenBLAS sgemm 2048² peak {peak:.0f} GFLOP/s (OPENBLAS_CORETYPE={environment.get('OPENBLAS_CORETYPE')})")
    print("| measure | PyTorch s | Metis s | speed ratio (PyTorch / Metis) | PyTorch peak RSS MiB | Metis peak RSS MiB | memory ratio (Metis / PyTorch) | Metis GFLOP/s (% of sgemm peak) | max |Δ| / max |logit| |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for kind in kinds:
        r = results[kind]
        t, m = r["pytorch"], r["metis"]
        rate = r["gflops"] / m["seconds"]
        label = "96³ patch forward" if kind == "patch" else "240×240×155 sliding window (48 windows)"
        print(f"| {label} | {t['seconds']:.2f} | {m['seconds']:.2f} | {t['seconds'] / m['seconds']:.2f} | {t['rss_mib']:.0f} | "
              f"{m['rss_mib']:.0f} | {m['rss_mib'] / t['rss_mib']:.2f} | {rate:.0f} ({100 * rate / peak:.0f} %) | {r['max_relative_difference']:.1e} |")
    print(f"\nFLOPs per 96³ forward (FlopCounterMode): {patch_flops / 1e9:.1f} GFLOP")
    figures = []
    for kind in kinds:
        r = results[kind]
        label = "96³ patch forward" if kind == "patch" else "240×240×155 sliding window"
        figures.append(benchresults.figure(f"{label}: time", "s", r["metis"]["seconds"], r["pytorch"]["seconds"], "PyTorch 2.13 + MONAI 1.6.1", False))
        figures.append(benchresults.figure(f"{label}: peak RSS", "MiB", r["metis"]["rss_mib"], r["pytorch"]["rss_mib"], "PyTorch 2.13 + MONAI 1.6.1", False))
    settings = {"network": name, "threads": arguments.threads, "repeat": arguments.repeat, "skip_brain": arguments.skip_brain,
                "openblas_coretype": environment.get("OPENBLAS_CORETYPE")}
    benchmark = "unetr_vs_pytorch" if name == "unetr" else f"{name}_vs_pytorch"
    benchresults.finish(benchresults.result(benchmark, settings, figures), arguments)


if __name__ == "__main__":
    main()
