"""The last results of each benchmark, kept next to it, and a run compared with them.

Every benchmark script that measures Metis against a peer in the same run
can write its figures with `--record` (into Benchmarks/Results/NAME.json,
replacing the last results) or `--compare` (against them, without writing):

    {"benchmark": NAME, "date": ..., "machine": {cpu, cores, memory_gib, kernel, openblas_coretype, openblas_l2_size},
     "settings": {...}, "figures": [{"name", "unit", "metis", "peer", "peer_name", "higher_is_better"}]}

A comparison is made on the ratio to the peer measured in the same run
(> 1: Metis better), which holds across machines; absolute figures are
compared only when the CPU model is the same, since machines of one kind
here differ (Intel and AMD have both been seen). A ratio that fell by more
than the tolerance is a regression: the comparison then exits 1.
"""
import datetime
import json
import os
import platform
import sys

RESULTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Results")


def machine():
    """What the figures depend on: CPU model, cores, memory, kernel, OpenBLAS kernel settings."""
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = 0.0
    try:
        with open("/proc/meminfo") as f:
            memory = int(f.readline().split()[1]) / (1 << 20)
    except (OSError, ValueError, IndexError):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(memory, 1), "kernel": platform.release(),
            "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"), "openblas_l2_size": os.environ.get("OPENBLAS_L2_SIZE")}


def figure(name, unit, metis, peer, peer_name, higher_is_better):
    return {"name": name, "unit": unit, "metis": metis, "peer": peer, "peer_name": peer_name, "higher_is_better": higher_is_better}


def ratio(entry):
    """Metis against the peer, > 1 when Metis is better; NaN for a figure without a peer (a target, not a race)."""
    if entry.get("peer") is None or entry["metis"] == 0 or entry["peer"] == 0:
        return float("nan")
    return entry["metis"] / entry["peer"] if entry["higher_is_better"] else entry["peer"] / entry["metis"]


def result(benchmark, settings, figures):
    return {"benchmark": benchmark, "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "machine": machine(), "settings": settings, "figures": figures}


def path(benchmark):
    return os.path.join(RESULTS, f"{benchmark}.json")


def _without_nan(value):
    """NaN (a figure not measured) as null: the results are JSON that any reader accepts."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {key: _without_nan(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_nan(item) for item in value]
    return value


def record(run):
    """Writes `run` as the benchmark's last results."""
    os.makedirs(RESULTS, exist_ok=True)
    with open(path(run["benchmark"]), "w") as f:
        json.dump(_without_nan(run), f, indent=2, allow_nan=False)
        f.write("\n")
    print(f"recorded {os.path.relpath(path(run['benchmark']))}", file=sys.stderr)


def compare(run, last=None, tolerance=0.15, out=sys.stdout):
    """Prints `run` against the last results (or `last`); returns the names of the figures whose ratio fell by more than `tolerance`."""
    if last is None:
        try:
            with open(path(run["benchmark"])) as f:
                last = json.load(f)
        except FileNotFoundError:
            print(f"{run['benchmark']}: no last results to compare with (record some with --record)", file=out)
            return []
    same_cpu = last["machine"].get("cpu") == run["machine"].get("cpu")
    print(f"{run['benchmark']}: this run ({run['machine']['cpu']}) against {last['date']} ({last['machine'].get('cpu')})", file=out)
    if last.get("note"):
        print(f"  the last results were measured with: {last['note']}", file=out)
    if last.get("settings") != run.get("settings"):
        print(f"  settings differ: then {last.get('settings')}, now {run.get('settings')}", file=out)
    if not same_cpu:
        print("  another CPU model: ratios to the peer are compared, absolute figures are not", file=out)
    before = {entry["name"]: entry for entry in last["figures"]}
    regressions = []
    for entry in run["figures"]:
        old = before.get(entry["name"])
        now = ratio(entry)
        if old is None:
            print(f"  {entry['name']}: ratio {now:.2f} (new figure)", file=out)
            continue
        then = ratio(old)
        if entry.get("peer") is None:
            # No peer: only an absolute figure, comparable on the same CPU model only.
            if not same_cpu:
                print(f"  {entry['name']}: {entry['metis']:.4g} {entry['unit']} (no peer; another CPU model: not compared)", file=out)
                continue
            better = entry["metis"] / old["metis"] if entry["higher_is_better"] else old["metis"] / entry["metis"]
            change = better - 1
            line = f"  {entry['name']}: Metis {old['metis']:.4g} → {entry['metis']:.4g} {entry['unit']} ({change:+.0%})"
        else:
            change = now / then - 1 if then == then and then != 0 else float("nan")
            line = f"  {entry['name']}: ratio {then:.2f} → {now:.2f} ({change:+.0%})"
            if same_cpu:
                line += f"; Metis {old['metis']:.4g} → {entry['metis']:.4g} {entry['unit']}"
        if change < -tolerance:
            line += "  REGRESSION"
            regressions.append(entry["name"])
        print(line, file=out)
    return regressions


def finish(run, arguments):
    """Handles --record / --compare for a script: records, or compares and exits 1 on a regression."""
    if getattr(arguments, "note", ""):
        run["note"] = arguments.note
    if getattr(arguments, "json_result", None):
        with open(arguments.json_result, "w") as f:
            json.dump(run, f, indent=2)
    if getattr(arguments, "record", False):
        record(run)
    if getattr(arguments, "compare", False):
        if compare(run, tolerance=arguments.tolerance):
            sys.exit(1)


def add_arguments(parser):
    parser.add_argument("--record", action="store_true", help="keep this run as the benchmark's last results (Benchmarks/Results/)")
    parser.add_argument("--compare", action="store_true", help="compare this run with the last results; exit 1 on a regression")
    parser.add_argument("--tolerance", type=float, default=0.15, help="with --compare: how far a ratio may fall (default 0.15)")
    parser.add_argument("--json-result", help="also write this run's figures in the results format (for Benchmarks/compare)")
    parser.add_argument("--note", default="", help="what else ran on the machine, kept with the results")
