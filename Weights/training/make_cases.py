#!/usr/bin/env python3
"""Writes labelled evaluation cases (the format of `cases.py`) from any of the three generators.

    python3 Weights/training/make_cases.py --generator mni --seeds 30000000:30000020 --contrasts t1c,flair --out DIR
    python3 Weights/training/make_cases.py --generator synthetic --seeds 10000000:10000020 --out DIR
    python3 Weights/training/make_cases.py --generator randomised --seeds 10000000:10000020 --out DIR

The held-out sets (`docs/segmentation.md`) are these seed ranges: training
uses seeds below 1,000,000 of `randomised_brain.py` (and, for the earlier
model, of `synthetic_brain.py`); seeds from 20,000,000 are the validation
sets of the training generators, where settings may be chosen; `mni_brain.py`
is never used for training or for choosing anything.
"""
import argparse
import os
import sys
import time

import numpy as np
from scipy import ndimage

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases  # noqa: E402


def write_grid_case(generator, seed, folder, contrast=None):
    if generator == "synthetic":
        import synthetic_brain as module
        image, mask, info = module.make_case(seed)
        instances, _ = ndimage.label(mask, structure=np.ones((3, 3, 3)))
        contrast = "t1c"
        description = "T1 post-contrast (synthetic)"
    else:
        import randomised_brain as module
        image, mask, info = module.make_case(seed, contrast=contrast)
        instances = info.pop("instances")
        contrast = info["contrast"]
        description = f"{contrast} (randomised phantom)"
    codes = cases.truth_codes(info.pop("head"), info.pop("intracranial"), instances.astype(np.uint8))
    info.pop("labels", None)
    record = {"generator": generator, "seed": seed, "contrast": contrast, "lesions": info["lesions"],
              "acquisition": {"orientation": "axial", "thickness_mm": module.SPACING, "pixel_mm": module.SPACING}}
    cases.write_ras_case(folder, image, codes, module.SPACING, {"SeriesDescription": description}, record)
    return record


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--generator", required=True, choices=["mni", "synthetic", "randomised"])
    parser.add_argument("--seeds", required=True, help="FIRST:END (end excluded)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--contrasts", default=None,
                        help="mni: contrasts to cycle through (default: the generator's mix); randomised: t1c, flair or random")
    parser.add_argument("--orientation", default=None, help="mni: one orientation for every case")
    parser.add_argument("--thickness", type=float, default=None, help="mni: one slice thickness for every case")
    parser.add_argument("--healthy", action="store_true", help="mni: no lesion in any case")
    arguments = parser.parse_args()
    first, end = (int(v) for v in arguments.seeds.split(":"))
    contrasts = arguments.contrasts.split(",") if arguments.contrasts else None
    for seed in range(first, end):
        started = time.time()
        folder = os.path.join(arguments.out, f"{arguments.generator}-{seed}")
        if arguments.generator == "mni":
            import mni_brain
            info = mni_brain.write(seed, folder, contrast=contrasts[(seed - first) % len(contrasts)] if contrasts else None,
                                   orientation=arguments.orientation, thickness=arguments.thickness,
                                   healthy=True if arguments.healthy else None)
        else:
            contrast = contrasts[(seed - first) % len(contrasts)] if contrasts and arguments.generator == "randomised" else None
            info = write_grid_case(arguments.generator, seed, folder, contrast)
        print(f"{folder}: {info['contrast']}, {len(info['lesions'])} lesions ({time.time() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
