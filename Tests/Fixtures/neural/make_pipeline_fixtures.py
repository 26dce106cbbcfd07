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
written as safetensors under MONAI's key names with a model card. Two more
cases feed two channels on one grid to a small SegResNet: softmax with
statistics over both channels, and sigmoid + threshold with three
overlapping labels (kept as bit k of one label map) and per-channel statistics. Writes,
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
from monai.networks.nets import UNETR, SegResNet
from monai.transforms import (Activations, AsDiscrete, Compose, KeepLargestConnectedComponent, CropForegroundd, Invertd, NormalizeIntensityd, Orientationd,
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


def body_volume(columns, rows, slices, scale=(0.42, 0.4, 0.45), blob_shift=(5, -3, 0), level=400):
    """A noisy ellipsoid with a bright blob; background noise below the crop threshold."""
    i, j, k = np.meshgrid(np.arange(columns), np.arange(rows), np.arange(slices), indexing="ij")
    centre = np.array([columns, rows, slices]) / 2
    body = (((i - centre[0]) / (columns * scale[0])) ** 2 + ((j - centre[1]) / (rows * scale[1])) ** 2
            + ((k - centre[2]) / (slices * scale[2])) ** 2)
    volume = np.where(body <= 1, level + 150 * np.sin(i / 3.1) * np.cos(j / 4.3) + 10 * k, 0).astype(np.float32)
    blob = ((i - centre[0] - blob_shift[0]) ** 2 + (j - centre[1] - blob_shift[1]) ** 2
            + ((k - centre[2] - blob_shift[2]) * 2) ** 2) <= 30
    volume[blob] = 1100
    volume[body <= 1] += rng.normal(0, 20, int((body <= 1).sum())).astype(np.float32)
    # Background noise (below the crop threshold, never exactly 0): MONAI's float64 resampling
    # turns some exact zeros next to the head into ~1e-13, which NormalizeIntensity(nonzero)
    # would then count, so exact zeros would compare rounding noise, not the transform.
    volume[body > 1] = rng.uniform(0.2, 0.8, int((body > 1).sum())).astype(np.float32)
    return volume


def reversed_axes(a):
    return np.ascontiguousarray(np.transpose(a, tuple(range(a.ndim - 3)) + (a.ndim - 1, a.ndim - 2, a.ndim - 3)))


def run_case(name, geometry, volumes, intensity, spacing, model, card_object, activation="softmax", nearest=True, keep=False):
    """MONAI's pipeline on the channels `volumes` (one grid), written as a fixture."""
    (columns, rows, slices), row_direction, column_direction, (row_spacing, column_spacing), gap = geometry
    row_direction, column_direction = unit(row_direction), unit(column_direction)
    normal = np.cross(row_direction, column_direction)
    origin = rng.uniform(-30, 30, 3)
    lps = np.eye(4)
    lps[:3, 0] = row_direction * column_spacing
    lps[:3, 1] = column_direction * row_spacing
    lps[:3, 2] = normal * gap
    lps[:3, 3] = origin
    ras = np.diag([-1.0, -1.0, 1.0, 1.0]) @ lps
    image = MetaTensor(torch.from_numpy(np.stack(volumes).copy()), affine=torch.from_numpy(ras))
    if intensity["transform"] == "NormalizeIntensity":
        scale = NormalizeIntensityd("image", nonzero=True, channel_wise=intensity.get("channel_wise", False))
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
    roi = card_object["inference"]["roi_size"]
    logits = sliding_window_inference(prepared[None], roi, 1, model, overlap=0.5, mode="gaussian",
                                      sigma_scale=0.125, padding_mode="constant", cval=0.0)
    def discrete(prediction):
        if activation == "softmax":
            return torch.argmax(prediction, dim=0, keepdim=True).float()
        # AsDiscrete(threshold=0.5) on the sigmoid, each channel its own label, kept as bit k of one map.
        binary = AsDiscrete(threshold=0.5)(prediction)
        return sum(binary[c:c + 1] * (2 ** c) for c in range(binary.shape[0])).float()

    if nearest:
        labels = discrete(logits[0]) if activation == "softmax" else discrete(Activations(sigmoid=True)(logits[0]))
        if keep:
            # KeepLargestConnectedComponent(applied_labels=[1], independent, full connectivity), before the inversion.
            labels = KeepLargestConnectedComponent(applied_labels=[1], independent=True, connectivity=None)(labels)
        data["pred"] = MetaTensor(labels, meta=prepared.meta, applied_operations=prepared.applied_operations)
        inverted = Invertd("pred", transform=pre, orig_keys="image", nearest_interp=True)(data)["pred"]
    else:
        # As MONAI's bundles: Activations → Invertd(nearest_interp=False) → AsDiscrete, on the DICOM grid.
        probabilities = Activations(softmax=activation == "softmax", sigmoid=activation == "sigmoid")(logits[0])
        data["pred"] = MetaTensor(probabilities, meta=prepared.meta, applied_operations=prepared.applied_operations)
        inverted = discrete(Invertd("pred", transform=pre, orig_keys="image", nearest_interp=False)(data)["pred"])
    mask = inverted[0].numpy().astype(np.float32)
    assert mask.shape == volumes[0].shape, (mask.shape, volumes[0].shape)
    files = {
        "prepared": reversed_axes(prepared.numpy()),
        "logits": reversed_axes(logits[0].numpy()),
        "mask": reversed_axes(mask),
    }
    inputs = [f"{name}.input.npy"] + [f"{name}.input{c + 1}.npy" for c in range(1, len(volumes))]
    for file, volume in zip(inputs, volumes):
        np.save(os.path.join(out, file), reversed_axes(volume).astype(np.float32))
    for key, value in files.items():
        np.save(os.path.join(out, f"{name}.{key}.npy"), value.astype(np.float32))
    card_file = f"{name}.card.json"
    with open(os.path.join(out, card_file), "w") as f:
        json.dump(card_object, f, indent=2)
    tensors = {key: f"{name}.{key}.npy" for key in files} | {"input": inputs[0]}
    entry = {
        "name": name, "card": card_file,
        "geometry": {"columns": columns, "rows": rows, "row_direction": row_direction.tolist(),
                     "column_direction": column_direction.tolist(), "row_spacing": row_spacing,
                     "column_spacing": column_spacing,
                     "slice_positions": [(origin + normal * gap * s).tolist() for s in range(slices)]},
        "prepared_shape": list(prepared.shape[1:]),
        "tensors": tensors,
        "lesion_voxels": int((mask > 0).sum()),
    }
    if len(volumes) > 1:
        entry["channel_inputs"] = inputs
    manifest.append(entry)
    print(name, volumes[0].shape, "→", tuple(prepared.shape), "lesion voxels", int((mask > 0).sum()))


with torch.no_grad():
    for name, (columns, rows, slices), row_direction, column_direction, (row_spacing, column_spacing), gap, spacing, intensity in cases:
        volume = body_volume(columns, rows, slices)
        run_case(name, ((columns, rows, slices), row_direction, column_direction, (row_spacing, column_spacing), gap),
                 [volume], intensity, spacing, network, card(intensity, spacing))

    # Two channels on one grid (as Metis brings a second series onto the first's), through SegResNet: the second
    # channel's body is larger, so the foreground crop is the union of both; softmax with statistics over both
    # channels at once, and sigmoid heads (3 overlapping labels) with statistics per channel.
    # The last inverts probabilities trilinearly and decides labels on the DICOM grid, as MONAI's bundles do.
    for name, intensity, activation, outputs, nearest, *keep in [
        ("two-channel-softmax", {"transform": "NormalizeIntensity", "nonzero": True, "channel_wise": False}, "softmax", 2, True),
        ("two-channel-sigmoid", {"transform": "NormalizeIntensity", "nonzero": True, "channel_wise": True}, "sigmoid", 3, True),
        ("two-channel-sigmoid-linear", {"transform": "NormalizeIntensity", "nonzero": True, "channel_wise": True}, "sigmoid", 3,
         False),
        # KeepLargestConnectedComponent on the lesion label.
        ("two-channel-largest", {"transform": "NormalizeIntensity", "nonzero": True, "channel_wise": False}, "softmax", 2, True,
         True),
    ]:
        architecture_2 = {"name": "SegResNet", "in_channels": 2, "out_channels": outputs, "init_filters": 4,
                          "blocks_down": [1, 1, 1], "blocks_up": [1, 1], "norm": ["group", {"num_groups": 2}]}
        segresnet = SegResNet(**{k: v for k, v in architecture_2.items() if k not in ("name", "norm")},
                              norm=("group", {"num_groups": 2})).eval()
        for parameter_name, parameter in segresnet.named_parameters():
            if parameter_name.endswith("bias"):
                parameter.normal_(0, 0.1)
        first = body_volume(40, 36, 18, scale=(0.36, 0.35, 0.38))
        second = body_volume(40, 36, 18, scale=(0.45, 0.44, 0.47), blob_shift=(-6, 4, 1), level=250)
        save_file({k: v.detach().float().contiguous() for k, v in segresnet.state_dict().items()},
                  os.path.join(out, f"{name}.safetensors"))
        # No DICOM sample halfway between two model samples before index 60 on any axis (see above).
        geometry = ((40, 36, 18), rotation(0, 0, 7) @ [1, 0, 0], rotation(0, 0, 7) @ [0, 1, 0], (1.13, 1.13), 2.33)
        spacing = [1.2, 1.2, 1.2]
        card_2 = card(intensity, spacing) | {
            "architecture": architecture_2, "weights": f"{name}.safetensors", "sequences": [["t1c"], ["flair"]],
            "inference": card(intensity, spacing)["inference"] | {"roi_size": [24, 24, 24]},
        }
        if activation == "sigmoid":
            card_2 |= {"labels": {"0": "whole", "1": "core", "2": "enhancing"}, "lesion_labels": [1, 2],
                       "postprocessing": {"activation": "sigmoid", "threshold": 0.5}}
        if not nearest:
            card_2["postprocessing"]["nearest_interp"] = False
        if keep:
            card_2["postprocessing"] = {"keep_largest_connected_component": {"applied_labels": [1], "connectivity": 3}}
        if keep:
            # Label 1 made sparse, so that it falls into several components and the transform has some to remove: a first
            # run gives the logits on the prepared image, and the background's bias is raised to the 80th percentile of
            # their difference (the prepared image does not depend on the random origin the run draws).
            save_file({k: v.detach().float().contiguous() for k, v in segresnet.state_dict().items()},
                      os.path.join(out, f"{name}.safetensors"))
            run_case(name, geometry, [first, second], intensity, spacing, segresnet, card_2, activation, nearest, True)
            manifest.pop()
            trial = np.load(os.path.join(out, f"{name}.logits.npy"))
            bias = [p for n, p in segresnet.named_parameters() if n.startswith("conv_final") and n.endswith("conv.bias")][0]
            bias[0] += float(np.quantile(trial[1] - trial[0], 0.8))
            save_file({k: v.detach().float().contiguous() for k, v in segresnet.state_dict().items()},
                      os.path.join(out, f"{name}.safetensors"))
        run_case(name, geometry, [first, second], intensity, spacing, segresnet, card_2, activation, nearest, bool(keep))

with open(os.path.join(out, "manifest.json"), "w") as f:
    json.dump(manifest, f, indent=2)
