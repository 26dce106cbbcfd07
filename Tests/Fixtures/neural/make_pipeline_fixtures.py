#!/usr/bin/env python3
"""Pipeline parity fixtures for the ModelInference tests, computed by MONAI.

    pip install torch==2.13.0 monai==1.6.1 einops safetensors nibabel numpy   # the CPU wheel
    python3 Tests/Fixtures/neural/make_pipeline_fixtures.py

Each case is a scalar volume on a DICOM geometry (axial LPS, oblique,
sagittal; anisotropic spacing), put through MONAI's own transforms and
inferer exactly as a Metis model card describes them:

    Orientationd(RAS) → Spacingd(pixdim, bilinear) → CropForegroundd(x > 1)
    → NormalizeIntensityd(nonzero, channel_wise) or ScaleIntensityRanged(clip)
    → sliding_window_inference(roi, overlap, gaussian σ = 0.125·roi, constant padding)
    → argmax → Invertd(nearest) back to the DICOM grid.

A small UNETR with random weights (seeded) is the network; its weights are
written as safetensors under MONAI's key names with a model card. Writes,
under Tests/ModelInferenceTests/Fixtures/pipeline/: per case the input
volume (slice, row, column order, as Metis's Volume holds voxels), its
geometry, the preprocessed image and the logits (channel, then MONAI's
spatial axes reversed, so axis 0 varies fastest as in Metis's Grid), and the
final label mask; manifest.json lists them.
"""
import json
import os

import numpy as np
import torch
from monai.inferers import sliding_window_inference
from monai.networks.nets import UNETR
from monai.transforms import (Compose, CropForegroundd, Invertd, NormalizeIntensityd, Orientationd,
                              ScaleIntensityRanged, Spacingd)
from monai.data import MetaTensor
from safetensors.torch import save_file

torch.manual_seed(20261125)
rng = np.random.default_rng(20261125)
out = os.path.join(os.path.dirname(__file__), "..", "..", "ModelInferenceTests", "Fixtures", "pipeline")
os.makedirs(out, exist_ok=True)

architecture = {"in_channels": 1, "out_channels": 2, "img_size": [32, 32, 32], "feature_size": 4, "hidden_size": 32,
                "mlp_dim": 64, "num_heads": 4, "proj_type": "conv", "norm_name": "instance", "conv_block": True,
                "res_block": True, "dropout_rate": 0.0, "spatial_dims": 3, "qkv_bias": False}
network = UNETR(**architecture).eval()
with torch.no_grad():
    for name, parameter in network.named_parameters():
        if name.endswith("bias"):
            parameter.normal_(0, 0.1)
save_file({k: v.detach().float().contiguous() for k, v in network.state_dict().items()},
          os.path.join(out, "model.safetensors"))


# Not 0: MONAI resamples through float64 affine products, which leave values
# around 1e-13 where exact trilinear interpolation between a zero slice and
# its neighbour gives 0, so a threshold of exactly 0 would compare rounding noise.
CROP_THRESHOLD = 1.0


def card(intensity, spacing):
    return {
        "name": "pipeline-fixture",
        "architecture": architecture,
        "labels": {"0": "background", "1": "lesion"},
        "lesion_labels": [1],
        "weights": "model.safetensors",
        "preprocessing": {"orientation": "RAS", "spacing": spacing, "intensity": intensity,
                          "crop_foreground": {"threshold": CROP_THRESHOLD, "margin": 0}},
        "inference": {"roi_size": [32, 32, 32], "sw_batch_size": 1, "overlap": 0.5, "mode": "gaussian",
                      "sigma_scale": 0.125, "padding_mode": "constant", "cval": 0.0},
    }


def unit(v):
    v = np.asarray(v, float)
    return v / np.linalg.norm(v)


def rotation(ax, ay, az):
    ax, ay, az = np.deg2rad([ax, ay, az])
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    return rz @ ry @ rx


# Spacings are chosen so that no sample of the DICOM grid falls exactly halfway between two
# model-grid samples along an oblique axis: there MONAI's nearest-neighbour inverse is decided by
# float rounding in its affine products. On axis-aligned grids ties are exact, and both MONAI
# (through PyTorch's round-half-to-even) and Metis send them to the even sample — the axial case has them.
cases = [
    # name, (columns, rows, slices), row direction, column direction, (row spacing, column spacing), slice gap, spacing, intensity
    ("axial-lps", (44, 38, 17), [1, 0, 0], [0, 1, 0], (0.93, 1.21), 2.7, [1.0, 1.0, 1.0],
     {"transform": "NormalizeIntensity", "nonzero": True, "channel_wise": True}),
    ("oblique", (40, 42, 20), rotation(14, -9, 11) @ [1, 0, 0], rotation(14, -9, 11) @ [0, 1, 0], (1.13, 1.13), 2.33,
     [1.2, 1.2, 1.2], {"transform": "NormalizeIntensity", "nonzero": True, "channel_wise": True}),
    ("sagittal", (36, 30, 26), [0, 1, 0], [0, 0, -1], (1.37, 1.07), 1.9, [1.1, 1.3, 1.0],
     {"transform": "ScaleIntensityRange", "a_min": 50.0, "a_max": 900.0, "b_min": 0.0, "b_max": 1.0, "clip": True}),
]

manifest = []
with torch.no_grad():
    for name, (columns, rows, slices), row_direction, column_direction, (row_spacing, column_spacing), gap, spacing, intensity in cases:
        row_direction, column_direction = unit(row_direction), unit(column_direction)
        normal = np.cross(row_direction, column_direction)
        origin = rng.uniform(-30, 30, 3)
        # volume[i, j, k]: i along the row direction (column index), j along the column direction, k along the normal.
        i, j, k = np.meshgrid(np.arange(columns), np.arange(rows), np.arange(slices), indexing="ij")
        centre = np.array([columns, rows, slices]) / 2
        body = ((i - centre[0]) / (columns * 0.42)) ** 2 + ((j - centre[1]) / (rows * 0.4)) ** 2 + ((k - centre[2]) / (slices * 0.45)) ** 2
        volume = np.where(body <= 1, 400 + 150 * np.sin(i / 3.1) * np.cos(j / 4.3) + 10 * k, 0).astype(np.float32)
        blob = ((i - centre[0] - 5) ** 2 + (j - centre[1] + 3) ** 2 + ((k - centre[2]) * 2) ** 2) <= 30
        volume[blob] = 1100
        volume[body <= 1] += rng.normal(0, 20, int((body <= 1).sum())).astype(np.float32)
        # Background noise (below the crop threshold, never exactly 0): MONAI's float64 resampling
        # turns some exact zeros next to the head into ~1e-13, which NormalizeIntensity(nonzero)
        # would then count, so exact zeros would compare rounding noise, not the transform.
        volume[body > 1] = rng.uniform(0.2, 0.8, int((body > 1).sum())).astype(np.float32)
        lps = np.eye(4)
        lps[:3, 0] = row_direction * column_spacing
        lps[:3, 1] = column_direction * row_spacing
        lps[:3, 2] = normal * gap
        lps[:3, 3] = origin
        ras = np.diag([-1.0, -1.0, 1.0, 1.0]) @ lps
        image = MetaTensor(torch.from_numpy(volume[None].copy()), affine=torch.from_numpy(ras))
        if intensity["transform"] == "NormalizeIntensity":
            scale = NormalizeIntensityd("image", nonzero=True, channel_wise=True)
        else:
            scale = ScaleIntensityRanged("image", a_min=intensity["a_min"], a_max=intensity["a_max"],
                                         b_min=intensity["b_min"], b_max=intensity["b_max"], clip=intensity["clip"])
        pre = Compose([
            Orientationd("image", axcodes="RAS"),
            Spacingd("image", pixdim=spacing, mode="bilinear"),
            CropForegroundd("image", source_key="image", select_fn=lambda x: x > CROP_THRESHOLD, margin=0),
            scale,
        ])
        data = pre({"image": image})
        prepared = data["image"]
        logits = sliding_window_inference(prepared[None], [32, 32, 32], 1, network, overlap=0.5, mode="gaussian",
                                          sigma_scale=0.125, padding_mode="constant", cval=0.0)
        labels = torch.argmax(logits, dim=1, keepdim=True)[0].float()
        data["pred"] = MetaTensor(labels, meta=prepared.meta, applied_operations=prepared.applied_operations)
        inverted = Invertd("pred", transform=pre, orig_keys="image", nearest_interp=True)(data)["pred"]
        mask = inverted[0].numpy().astype(np.float32)
        assert mask.shape == volume.shape, (mask.shape, volume.shape)

        def reversed_axes(a):
            return np.ascontiguousarray(np.transpose(a, tuple(range(a.ndim - 3)) + (a.ndim - 1, a.ndim - 2, a.ndim - 3)))

        files = {
            "input": reversed_axes(volume),
            "prepared": reversed_axes(prepared[0].numpy()),
            "logits": reversed_axes(logits[0].numpy()),
            "mask": reversed_axes(mask),
        }
        for key, value in files.items():
            np.save(os.path.join(out, f"{name}.{key}.npy"), value.astype(np.float32))
        card_file = f"{name}.card.json"
        with open(os.path.join(out, card_file), "w") as f:
            json.dump(card(intensity, spacing), f, indent=2)
        manifest.append({
            "name": name, "card": card_file,
            "geometry": {"columns": columns, "rows": rows, "row_direction": row_direction.tolist(),
                         "column_direction": column_direction.tolist(), "row_spacing": row_spacing,
                         "column_spacing": column_spacing,
                         "slice_positions": [(origin + normal * gap * s).tolist() for s in range(slices)]},
            "prepared_shape": list(prepared.shape[1:]),
            "tensors": {key: f"{name}.{key}.npy" for key in files},
            "lesion_voxels": int((mask > 0).sum()),
        })
        print(name, volume.shape, "→", tuple(prepared.shape[1:]), "lesion voxels", int((mask > 0).sum()))

with open(os.path.join(out, "manifest.json"), "w") as f:
    json.dump(manifest, f, indent=2)
