#!/usr/bin/env python3
"""Makes the labelled phantom cases the tests read (the format of
Weights/training/cases.py), small enough to commit:

    pip install numpy scipy pydicom==3.0.1 nilearn
    python3 Tests/Fixtures/phantoms/make_phantoms.py

- mni-t1c: the held-out MNI generator, post-contrast T1, axial 3 mm, lesions
  (one on the dura, one touching the cortex, both kept by the seed below);
- mni-flair: FLAIR, sagittal 5 mm, lesions;
- mni-healthy: a healthy head, post-contrast T1, oblique 4 mm;
- synthetic: synthetic_brain.py, axial 3 mm (every other 1.5 mm slice);
- randomised: randomised_brain.py (the training generator's held-out seeds), 3 mm.

Held-out seeds only (never used in training). Each case: series/*.dcm,
truth.npy, case.json.
"""
import os
import shutil
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "..", "Weights", "training"))
import cases  # noqa: E402
import make_cases  # noqa: E402
import mni_brain  # noqa: E402
import numpy as np  # noqa: E402
import pydicom  # noqa: E402


def thin_out(folder):
    """Keeps every other slice of a RAS case (1.5 → 3 mm) and its truth."""
    series = os.path.join(folder, "series")
    names = sorted(os.listdir(series))
    for index, name in enumerate(names):
        path = os.path.join(series, name)
        if index % 2:
            os.remove(path)
        else:
            ds = pydicom.dcmread(path)
            ds.SliceThickness, ds.SpacingBetweenSlices, ds.InstanceNumber = "3", "3", index // 2 + 1
            ds.save_as(path, enforce_file_format=True)
    truth = np.load(os.path.join(folder, "truth.npy"))
    np.save(os.path.join(folder, "truth.npy"), np.ascontiguousarray(truth[::2]))


def main():
    for name, call in [
        ("mni-t1c", lambda f: mni_brain.write(30_100_010, f, contrast="t1c", orientation="axial", thickness=3.0, healthy=False, pixel=1.5)),
        ("mni-flair", lambda f: mni_brain.write(30_100_001, f, contrast="flair", orientation="sagittal", thickness=5.0, healthy=False, pixel=1.5)),
        ("mni-healthy", lambda f: mni_brain.write(30_100_002, f, contrast="t1c", orientation="oblique", thickness=4.0, healthy=True, pixel=1.5)),
        ("synthetic", lambda f: make_cases.write_grid_case("synthetic", 10_000_003, f)),
        ("randomised", lambda f: make_cases.write_grid_case("randomised", 10_000_005, f, "flair")),
    ]:
        folder = os.path.join(here, name)
        shutil.rmtree(folder, ignore_errors=True)
        info = call(folder)
        if name in ("synthetic", "randomised"):
            thin_out(folder)
        print(name, info["contrast"], len(info["lesions"]), "lesions", [l.get("where") for l in info["lesions"]])


if __name__ == "__main__":
    main()
