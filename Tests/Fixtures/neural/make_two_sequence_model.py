#!/usr/bin/env python3
"""The small two-sequence model the integration tests segment with: a MONAI
SegResNet reading post-contrast T1 (channel 1) and FLAIR (channel 2),
trained here, on synthetic heads, to mark what is bright on both (label 1,
the lesions) and what is bright on FLAIR only (label 2, like oedema).

    pip install torch==2.13.0 monai==1.6.1 safetensors numpy   # the CPU wheel
    python3 Tests/Fixtures/neural/make_two_sequence_model.py   # about 8 minutes on 2 cores

It is a test fixture, not a clinical model: its one job is to make the
result depend on both channels and on their alignment, so that a study
whose FLAIR lacks one of the enhancing lesions gets that lesion dropped, and
bright FLAIR without enhancement is a label of its own, not a lesion. Each synthetic head (2 mm
voxels, the card's spacing) has random brain, scalp and lesion intensities
and Gaussian noise; lesions are enhancing and FLAIR-bright (the label),
enhancing only (background), or FLAIR-bright only (label 2). Inputs are normalised as the card says
(NormalizeIntensity, nonzero, channel-wise) over the whole head, then 48³
windows are cut for training. Writes the model card and its safetensors
under Tests/IntegrationTests/Fixtures/two-sequence/ and prints the Dice on
heads it never trained on.
"""
import json
import os

import numpy as np
import torch
from monai.networks.nets import SegResNet
from safetensors.torch import save_file

torch.manual_seed(20261208)
torch.set_num_threads(max(1, os.cpu_count() or 1))
rng = np.random.default_rng(20261208)
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "IntegrationTests", "Fixtures", "two-sequence")
os.makedirs(out, exist_ok=True)

SHAPE = (96, 104, 80)  # 2 mm voxels: 192 × 208 × 160 mm
WINDOW = 48
architecture = {"name": "SegResNet", "spatial_dims": 3, "in_channels": 2, "out_channels": 3, "init_filters": 8,
                "blocks_down": [1, 2], "blocks_up": [1], "norm": ["group", {"num_groups": 4}]}


def head():
    """Two channels (T1c, FLAIR) and the label, on SHAPE."""
    x, y, z = np.meshgrid(*[(np.arange(n) - n / 2 + 0.5) * 2.0 for n in SHAPE], indexing="ij")
    a, b, c = rng.uniform(70, 80), rng.uniform(85, 95), rng.uniform(62, 72)
    brain = (x / a) ** 2 + (y / b) ** 2 + (z / c) ** 2 <= 1
    scalp = ((x / (a + 10)) ** 2 + (y / (b + 10)) ** 2 + (z / (c + 10)) ** 2 <= 1) & ~brain
    channels, label = [], np.zeros(SHAPE, np.int64)
    level = [rng.uniform(400, 800), rng.uniform(350, 750)]
    for channel in range(2):
        image = np.zeros(SHAPE)
        image[scalp] = level[channel] * rng.uniform(0.3, 0.7)
        image[brain] = level[channel] * (1 + 0.04 * np.sin(x[brain] / 7) * np.cos(y[brain] / 9))
        channels.append(image)
    for _ in range(rng.integers(4, 9)):
        kind = rng.choice(["both", "both", "t1c", "flair"])
        radius = rng.uniform(3, 11)
        centre = [rng.uniform(-0.6, 0.6) * s for s in (a, b, c)]
        sphere = ((x - centre[0]) ** 2 + (y - centre[1]) ** 2 + (z - centre[2]) ** 2 <= radius ** 2) & brain
        if kind in ("both", "t1c"):
            channels[0][sphere] = level[0] * rng.uniform(1.8, 3.0)
        if kind in ("both", "flair"):
            channels[1][sphere] = level[1] * rng.uniform(1.8, 3.0)
        label[sphere] = {"both": 1, "t1c": 0, "flair": 2}[kind]
    inputs = []
    for image in channels:
        image = image + (image > 0) * rng.normal(0, 0.03 * level[0], SHAPE)
        nonzero = image != 0
        mean, std = image[nonzero].mean(), image[nonzero].std()
        inputs.append(np.where(nonzero, (image - mean) / (std or 1), 0))
    return np.stack(inputs).astype(np.float32), label


def windows(images, label, count):
    for _ in range(count):
        start = [rng.integers(0, n - WINDOW + 1) for n in SHAPE]
        box = tuple(slice(s, s + WINDOW) for s in start)
        yield images[(slice(None),) + box], label[box]


network = SegResNet(**{k: v for k, v in architecture.items() if k != "name"} | {"norm": ("group", {"num_groups": 4})})
EPOCHS = 40
optimiser = torch.optim.Adam(network.parameters(), lr=3e-3)
schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=EPOCHS)
weights = torch.tensor([1.0, 2.0, 2.0])
step = 0
for epoch in range(EPOCHS):
    images, label = head()
    for image, target in windows(images, label, 24):
        logits = network(torch.from_numpy(image)[None])
        loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(target)[None], weight=weights)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        step += 1
    schedule.step()
    print(f"epoch {epoch}: loss {loss.item():.4f}", flush=True)

network.eval()
dice = {1: [], 2: []}
with torch.no_grad():
    for _ in range(3):
        images, label = head()
        prediction = network(torch.from_numpy(images)[None]).argmax(1)[0].numpy()
        for value in dice:
            both = ((prediction == value) & (label == value)).sum()
            dice[value].append(round(float(2 * both / max(1, (prediction == value).sum() + (label == value).sum())), 4))
print("Dice on unseen heads (whole-head forward pass), label 1 and label 2:", dice[1], dice[2])

save_file({k: v.detach().float().contiguous() for k, v in network.state_dict().items()},
          os.path.join(out, "two-sequence.safetensors"))
card = {
    "name": "metis-test-two-sequence",
    "version": "fixture-1",
    "description": "Test fixture made by Tests/Fixtures/neural/make_two_sequence_model.py: marks what is bright on both "
                   "post-contrast T1 and FLAIR in synthetic heads. Not a clinical model.",
    "notice": "automatic, test fixture, not a clinical model",
    "architecture": architecture,
    "sequences": [["t1c"], ["flair"]],
    "labels": {"0": "background", "1": "enhancing and FLAIR-bright", "2": "FLAIR-bright without enhancement"},
    "lesion_labels": [1],
    "label_colors": {"2": [0, 200, 255]},
    "weights": "two-sequence.safetensors",
    "preprocessing": {"orientation": "RAS", "spacing": [2.0, 2.0, 2.0],
                      "intensity": {"transform": "NormalizeIntensity", "nonzero": True, "channel_wise": True},
                      "crop_foreground": {"threshold": 0.0, "margin": 0}},
    "inference": {"roi_size": [WINDOW] * 3, "sw_batch_size": 1, "overlap": 0.25, "mode": "gaussian", "sigma_scale": 0.125,
                  "padding_mode": "constant", "cval": 0.0},
    "postprocessing": {"remove_small_objects": {"min_size": 8, "connectivity": 3}},
    "evaluation_on_unseen_synthetic_heads": {"dice_label_1": dice[1], "dice_label_2": dice[2]},
}
with open(os.path.join(out, "two-sequence.json"), "w") as f:
    json.dump(card, f, indent=2)
    f.write("\n")
