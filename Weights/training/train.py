#!/usr/bin/env python3
"""Trains the shipped UNETR with MONAI on the CPU, resumably.

    pip install torch==2.13.0 monai==1.6.1 einops safetensors scipy   # the CPU wheel
    python3 Weights/training/train.py --run RUN --steps 6000 [--threads 2] [--minutes 60] \
        [--init Weights/metis-synthetic-unetr.safetensors | --init resume.safetensors --start-step N]

Cases come from `randomised_brain.make_case(seed)` (contrast and acquisition
randomised, SynthSeg-style; `--generator synthetic` for the earlier
`synthetic_brain.py`), seeds below 1,000,000; held-out and validation sets
use seeds from 10,000,000 and 20,000,000, and the MNI generator is never
used. Each case is normalised as the model card says (NormalizeIntensity over
non-zero voxels), then gives `--patches-per-case` patches of `model.json`'s
img_size: a third centred near a lesion, a third near bright tissue that is
no lesion (vessels, dura, choroid plexus, scalp fat, marrow, oedema), the rest
anywhere in the head; random flips. Loss: Dice + cross entropy (MONAI's
DiceCELoss). Optimiser AdamW with a cosine schedule over `--steps` and a 100-step warm-up
from the step the optimiser started at (0, or `--start-step`).

Resumable: RUN/checkpoint.pt holds the network, optimiser, step and random
states; it is rewritten atomically every `--save-every` steps and when
`--minutes` is up, and training goes on from it when started again. To carry a
run to a machine without RUN, `--export W.safetensors` writes its network and
step, and `--init W.safetensors --start-step N` goes on from there (a fresh
optimiser). RUN/log.csv gets one line per `--log-every` steps.
"""
import argparse
import csv
import json
import math
import os
import time

import numpy as np
import torch
from monai.losses import DiceCELoss
from monai.networks.nets import UNETR

import randomised_brain
import synthetic_brain

HERE = os.path.dirname(os.path.abspath(__file__))


def normalise(image):
    """MONAI NormalizeIntensity(nonzero=True, channel_wise=True) on one channel."""
    out = image.copy()
    nonzero = image != 0
    if nonzero.any():
        values = image[nonzero]
        std = values.std()
        out[nonzero] = (values - values.mean()) / (std if std != 0 else 1)
    return out


def patches(rng, image, mask, size, count, hard=None):
    """`count` patches: a third centred near a lesion voxel, a third near a
    `hard` voxel (bright non-lesion tissue: vessels, dura, scalp fat, marrow)
    when given, the rest anywhere in the head; random flips."""
    shape = np.array(image.shape)
    lesion_voxels = np.argwhere(mask > 0)
    hard_voxels = np.argwhere(hard) if hard is not None else np.empty((0, 3), int)
    head_voxels = None
    result = []
    for k in range(count):
        if len(lesion_voxels) and k % 3 == 0:
            centre = lesion_voxels[rng.integers(len(lesion_voxels))]
        elif len(hard_voxels) and k % 3 == 1:
            centre = hard_voxels[rng.integers(len(hard_voxels))]
        else:
            if head_voxels is None:
                head_voxels = np.argwhere(image > np.percentile(image, 40))
            centre = head_voxels[rng.integers(len(head_voxels))]
        centre = centre + rng.integers(-size // 4, size // 4 + 1, 3)
        start = np.clip(centre - size // 2, 0, shape - size)
        sl = tuple(slice(s, s + size) for s in start)
        x, y = image[sl], mask[sl]
        for axis in range(3):
            if rng.uniform() < 0.5:
                x, y = np.flip(x, axis), np.flip(y, axis)
        result.append((np.ascontiguousarray(x), np.ascontiguousarray(y)))
    return result


def training_case(generator, seed):
    """(image, mask, hard-negative voxels or None) of one training case."""
    if generator == "randomised":
        image, mask, info = randomised_brain.make_case(seed)
        labels = info["labels"]
        r = randomised_brain
        hard = np.isin(labels, [r.VESSEL, r.DURA, r.CHOROID, r.FAT, r.MARROW, r.OEDEMA])
        return image, mask, hard
    image, mask, _ = synthetic_brain.make_case(seed)
    return image, mask, None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", default=os.path.join(HERE, "run"))
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--lr", type=float, default=4e-4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--minutes", type=float, default=0, help="stop (after saving) when this many minutes have passed; 0: no limit")
    parser.add_argument("--save-every", type=int, default=50)
    parser.add_argument("--log-every", type=int, default=10)
    parser.add_argument("--generator", choices=["randomised", "synthetic"], default="randomised",
                        help="randomised_brain.py (contrast-randomised, the default) or the older synthetic_brain.py")
    parser.add_argument("--init", default=None, help="start a new run from these weights (.safetensors under MONAI's names)")
    parser.add_argument("--patches-per-case", type=int, default=6)
    parser.add_argument("--export", default=None,
                        help="write RUN's network as safetensors here (and RUN's step beside it, PATH.json), then stop: to carry a run to another machine")
    parser.add_argument("--start-step", type=int, default=0,
                        help="with --init: the step the weights were saved at, so that the schedule and case seeds go on from there")
    arguments = parser.parse_args()

    torch.set_num_threads(arguments.threads)
    with open(os.path.join(HERE, "model.json")) as f:
        card = json.load(f)
    architecture = card["architecture"]
    size = architecture["img_size"][0] if isinstance(architecture["img_size"], list) else architecture["img_size"]
    os.makedirs(arguments.run, exist_ok=True)
    checkpoint_path = os.path.join(arguments.run, "checkpoint.pt")

    torch.manual_seed(0)
    network = UNETR(**architecture)
    optimiser = torch.optim.AdamW(network.parameters(), lr=arguments.lr, weight_decay=1e-5)
    step, case_seed, warm_from = 0, 0, 0
    rng = np.random.default_rng(12345 + arguments.start_step)
    if arguments.init and not os.path.exists(checkpoint_path):
        from safetensors.torch import load_file
        network.load_state_dict(load_file(arguments.init))
        step, case_seed = arguments.start_step, arguments.start_step * 10
        warm_from = step
        print(f"initialised from {arguments.init} at step {step}", flush=True)
    if os.path.exists(checkpoint_path):
        state = torch.load(checkpoint_path, map_location="cpu", weights_only=False)
        network.load_state_dict(state["network"])
        optimiser.load_state_dict(state["optimiser"])
        step, case_seed = state["step"], state["case_seed"]
        warm_from = state.get("warm_from", 0)
        rng.bit_generator.state = state["numpy_rng"]
        torch.set_rng_state(state["torch_rng"])
        print(f"resumed at step {step}", flush=True)

    if arguments.export:
        from safetensors.torch import save_file
        save_file({k: v.contiguous() for k, v in network.state_dict().items()}, arguments.export)
        with open(arguments.export + ".json", "w") as f:
            json.dump({"step": step, "case_seed": case_seed, "steps": arguments.steps, "generator": arguments.generator}, f)
        print(f"exported step {step} to {arguments.export}", flush=True)
        return

    def save():
        temporary = checkpoint_path + ".tmp"
        torch.save({"network": network.state_dict(), "optimiser": optimiser.state_dict(), "step": step, "case_seed": case_seed, "warm_from": warm_from,
                    "numpy_rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state(), "architecture": architecture}, temporary)
        os.replace(temporary, checkpoint_path)

    loss_function = DiceCELoss(to_onehot_y=True, softmax=True)
    log = open(os.path.join(arguments.run, "log.csv"), "a", newline="")
    writer = csv.writer(log)
    started = time.time()
    queue = []
    running = []
    network.train()
    while step < arguments.steps:
        while len(queue) < arguments.batch:
            image, mask, hard = training_case(arguments.generator, case_seed)
            case_seed += 1
            queue.extend(patches(rng, normalise(image), mask, size, arguments.patches_per_case, hard))
        batch, queue = queue[:arguments.batch], queue[arguments.batch:]
        x = torch.from_numpy(np.stack([b[0] for b in batch])[:, None])
        y = torch.from_numpy(np.stack([b[1] for b in batch])[:, None].astype(np.int64))
        for group in optimiser.param_groups:
            group["lr"] = arguments.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * step / arguments.steps))) * min(1, (step - warm_from + 1) / 100)
        optimiser.zero_grad()
        loss = loss_function(network(x), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(network.parameters(), 1.0)
        optimiser.step()
        step += 1
        running.append(loss.item())
        if step % arguments.log_every == 0:
            elapsed = time.time() - started
            writer.writerow([step, f"{np.mean(running):.4f}", f"{optimiser.param_groups[0]['lr']:.2e}", case_seed, f"{elapsed:.0f}"])
            log.flush()
            print(f"step {step} loss {np.mean(running):.4f} cases {case_seed} {elapsed:.0f} s", flush=True)
            running = []
        if step % arguments.save_every == 0:
            save()
        if arguments.minutes and time.time() - started > arguments.minutes * 60:
            break
    save()
    print(f"saved at step {step}", flush=True)


if __name__ == "__main__":
    main()
