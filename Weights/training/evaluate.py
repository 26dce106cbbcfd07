#!/usr/bin/env python3
"""Held-out evaluation of Metis's engines on synthetic cases, through `metis segment`.

    pip install numpy scipy pydicom==3.0.1
    python3 Weights/training/evaluate.py --metis .build/release/metis --cases 20 [--out results.json]

Cases are `synthetic_brain.make_case(seed)` for seeds from 10_000_000 (never
used in training, which takes seeds below 1_000_000), written as axial MR
series (LPS, 1.5 mm pixels, 1.5 mm slices, uint16 with a rescale slope) and
segmented by each engine exactly as a user's series would be, with the
engine's voxel mask written by `metis segment --mask`. Per engine:

- Dice over all voxels of all cases (and the mean per-case Dice over cases with lesions);
- lesion-detection sensitivity: a truth lesion (26-connected component) is
  found when a predicted voxel overlaps it; overall and by diameter
  (< 5 mm, 5–10 mm, ≥ 10 mm);
- false positives per case: predicted components touching no truth lesion.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import pydicom
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
from scipy import ndimage

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import synthetic_brain  # noqa: E402

FIRST_SEED = 10_000_000


def write_series(image, folder, seed):
    """image[i, j, k] on a RAS grid → axial LPS slices: column index along -i (R→L is +x), row index along -j."""
    os.makedirs(folder, exist_ok=True)
    spacing = synthetic_brain.SPACING
    lps = image[::-1, ::-1, :]  # index i now grows towards the left (+x), j towards posterior (+y)
    slope = float(lps.max()) / 4000 if lps.max() > 0 else 1.0
    stored = np.clip(np.round(lps / slope), 0, 65535).astype(np.uint16)
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    nx, ny, nz = lps.shape
    for k in range(nz):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.4"
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID = meta.MediaStorageSOPClassUID
        ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
        ds.PatientID, ds.PatientName = f"SYN-{seed}", "Synthetic^Case"
        ds.Modality, ds.SeriesDescription, ds.SeriesNumber = "MR", "T1 post-contrast (synthetic)", 1
        ds.StudyDate, ds.StudyTime = "20260101", "120000"
        ds.InstanceNumber = k + 1
        ds.ImagePositionPatient = [-(nx - 1) / 2 * spacing, -(ny - 1) / 2 * spacing, (k - (nz - 1) / 2) * spacing]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing = [spacing, spacing]
        ds.SliceThickness = spacing
        ds.Rows, ds.Columns = ny, nx
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
        ds.RescaleSlope, ds.RescaleIntercept = f"{slope:.6g}", "0"
        ds.PixelData = np.ascontiguousarray(stored[:, :, k].T).tobytes()  # rows (j) then columns (i)
        ds.save_as(os.path.join(folder, f"{k:04d}.dcm"), enforce_file_format=True)


def components(mask):
    return ndimage.label(mask, structure=np.ones((3, 3, 3)))


def evaluate(truth, predicted, spacing):
    labels, count = components(truth)
    found = []
    for lesion in range(1, count + 1):
        voxels = labels == lesion
        diameter = 2 * (voxels.sum() * spacing ** 3 * 3 / (4 * np.pi)) ** (1 / 3)
        found.append((diameter, bool(predicted[voxels].any())))
    predicted_labels, predicted_count = components(predicted)
    false_positives = sum(1 for p in range(1, predicted_count + 1) if not truth[predicted_labels == p].any())
    intersection = int((truth & predicted).sum())
    return {"found": found, "false_positives": false_positives, "intersection": intersection,
            "truth_voxels": int(truth.sum()), "predicted_voxels": int(predicted.sum())}


def summarise(rows):
    intersection = sum(r["intersection"] for r in rows)
    total = sum(r["truth_voxels"] + r["predicted_voxels"] for r in rows)
    per_case = [2 * r["intersection"] / (r["truth_voxels"] + r["predicted_voxels"]) for r in rows if r["truth_voxels"] > 0]
    lesions = [f for r in rows for f in r["found"]]
    def sensitivity(low, high):
        chosen = [hit for d, hit in lesions if low <= d < high]
        return (sum(chosen) / len(chosen) if chosen else None, len(chosen))
    return {
        "dice_all_voxels": 2 * intersection / total if total else None,
        "dice_mean_per_case": float(np.mean(per_case)) if per_case else None,
        "sensitivity": sensitivity(0, 1e9), "sensitivity_under_5mm": sensitivity(0, 5),
        "sensitivity_5_to_10mm": sensitivity(5, 10), "sensitivity_10mm_and_more": sensitivity(10, 1e9),
        "false_positives_per_case": sum(r["false_positives"] for r in rows) / len(rows),
        "cases": len(rows), "lesions": len(lesions),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--metis", default=".build/release/metis")
    parser.add_argument("--cases", type=int, default=20)
    parser.add_argument("--engines", default="unetr,classical")
    parser.add_argument("--first-seed", type=int, default=FIRST_SEED,
                        help=f"first case seed (default {FIRST_SEED}, the held-out set; 20000000 is the validation set used to choose post-processing)")
    parser.add_argument("--model", default=None, help="model card for the unetr engine (default: the shipped one)")
    parser.add_argument("--out", default=None, help="write the summary as JSON here")
    parser.add_argument("--card-extra", default=None,
                        help="write model card fields (training data, this evaluation) for convert_checkpoint.py --extra")
    parser.add_argument("--run", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "run"),
                        help="the training run, for the card's training summary")
    arguments = parser.parse_args()
    work = tempfile.mkdtemp(prefix="metis-eval-")
    print(f"cases and masks in {work}", flush=True)
    rows = {engine: [] for engine in arguments.engines.split(",")}
    for index in range(arguments.cases):
        seed = arguments.first_seed + index
        image, truth, _ = synthetic_brain.make_case(seed)
        folder = os.path.join(work, f"case-{index}")
        write_series(image, folder, seed)
        truth_lps = truth[::-1, ::-1, :].astype(bool)
        for engine in rows:
            mask_file = os.path.join(work, f"case-{index}.{engine}.npy")
            command = [arguments.metis, "segment", folder, "--out", os.path.join(work, f"case-{index}.{engine}.dcm"),
                       "--engine", engine, "--mask", mask_file, "--json"]
            if engine == "unetr" and arguments.model:
                command += ["--model", arguments.model]
            subprocess.run(command, check=True, capture_output=True, text=True)
            predicted = np.load(mask_file).transpose(2, 1, 0) > 0  # [slices, rows, columns] → [i, j, k]
            rows[engine].append(evaluate(truth_lps, predicted, synthetic_brain.SPACING))
        print(f"case {index}: " + ", ".join(
            f"{engine} dice {2 * r[-1]['intersection'] / max(1, r[-1]['truth_voxels'] + r[-1]['predicted_voxels']):.2f} "
            f"fp {r[-1]['false_positives']}" for engine, r in rows.items()), flush=True)
    summary = {engine: summarise(r) for engine, r in rows.items()}
    summary["seeds"] = [arguments.first_seed, arguments.first_seed + arguments.cases - 1]
    print(json.dumps(summary, indent=2))
    if arguments.out:
        with open(arguments.out, "w") as f:
            json.dump(summary, f, indent=2)
    if arguments.card_extra:
        with open(os.path.join(arguments.run, "log.csv")) as f:
            last = f.read().strip().splitlines()[-1].split(",")
        steps, loss, cases = int(last[0]), float(last[1]), int(last[3])
        extra = {
            "description": (
                "A small UNETR trained by Metis's own scripts (Weights/training) on synthetic contrast-enhanced T1 brain MR "
                "with metastasis-like lesions (solid and ring-enhancing, 2-30 mm, 0-6 per brain, noise, bias field, thick "
                "slices). NOT A CLINICAL MODEL: it has never seen a real examination. It shows that the whole path works "
                "with a trained network; for clinical use, convert a checkpoint trained on real annotated examinations."),
            "intended_use": "demonstration and testing; not for diagnosis",
            "training": {
                "data": "Weights/training/synthetic_brain.py, seeds below 1,000,000 (one new case per two steps)",
                "steps": steps, "batch": 2, "patch": [64, 64, 64], "cases_seen": cases, "final_loss_dice_ce": loss,
                "loss": "MONAI DiceCELoss", "optimiser": "AdamW, lr 4e-4, warm-up and cosine decay",
                "hardware": "2-core CPU (no GPU), PyTorch 2.13.0 + MONAI 1.6.1",
            },
            "evaluation": {
                "set": f"{summary[next(iter(rows))]['cases']} held-out synthetic cases (seeds {arguments.first_seed}..{arguments.first_seed + arguments.cases - 1}), "
                       "segmented through `metis segment` as axial DICOM series",
                "script": "Weights/training/evaluate.py",
                "results": {engine: summary[engine] for engine in rows},
            },
        }
        with open(arguments.card_extra, "w") as f:
            json.dump(extra, f, indent=2)


if __name__ == "__main__":
    main()
