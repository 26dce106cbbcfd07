#!/usr/bin/env python3
"""Converts a MONAI UNETR, SegResNet or SwinUNETR checkpoint (.pt / .pth) into the files
Metis loads: a .safetensors file under MONAI's own state_dict key names, and a
model card. `metis model import BUNDLE_DIR` runs it on a MONAI bundle's
models/model.pt with the card it made from the bundle's configs.

    pip install torch==2.13.0 monai einops safetensors   # the CPU wheel
    python3 Weights/convert_checkpoint.py CHECKPOINT.pt --config CARD_OR_ARCH.json --out Weights/my-model \\
        [--labels '{"0": "background", "1": "lesion"}'] [--description TEXT] [--version V] [--extra EXTRA.json]

--config holds the constructor call exactly as MONAI takes it, with "name"
("UNETR" when absent, "SegResNet" or "SwinUNETR"): for UNETR in_channels, out_channels,
img_size as an int or a list, and any of feature_size, hidden_size, mlp_dim,
num_heads, proj_type, norm_name as a name or [name, {options}], conv_block,
res_block, dropout_rate, spatial_dims, qkv_bias, save_attn; for SegResNet
its own arguments (init_filters, blocks_down, norm, act, …); MONAI's defaults
otherwise — or a model card whose "architecture" it is; the
card's other fields (name, lesion_labels, preprocessing, inference — see
docs/neural-engine.md) are carried into the output card, and --extra merges
more (training data, evaluation). Without "preprocessing" and "inference"
Metis cannot run the model: say how it was trained. The checkpoint may be a bare state_dict or a dict
holding one under "state_dict", "model" or "network"; a "module." prefix (from
DataParallel) is removed. The conversion is lossless: the weights are loaded
into MONAI's network (which refuses missing or unexpected keys), then written
as float32 with the same names. Writes OUT.safetensors and OUT.json.
"""
import argparse
import json
import sys

import torch
from monai.networks.nets import UNETR, SegResNet, SwinUNETR
from safetensors.torch import save_file

NETWORKS = {"UNETR": UNETR, "SegResNet": SegResNet, "SwinUNETR": SwinUNETR}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint")
    parser.add_argument("--config", required=True, help="JSON file of the network's constructor arguments, with \"name\"")
    parser.add_argument("--out", required=True, help="output path without extension")
    parser.add_argument("--labels", default='{"0": "background", "1": "lesion"}', help="JSON: output channel → meaning")
    parser.add_argument("--description", default=None, help="what the model was trained on, in words")
    parser.add_argument("--version", default=None)
    parser.add_argument("--extra", default=None, help="JSON file of more model card fields")
    arguments = parser.parse_args()

    with open(arguments.config) as f:
        template = json.load(f)
    architecture = template.get("architecture", template)
    checkpoint = torch.load(arguments.checkpoint, map_location="cpu", weights_only=True)
    if isinstance(checkpoint, dict):
        for key in ("state_dict", "model", "network"):
            if key in checkpoint and isinstance(checkpoint[key], dict):
                checkpoint = checkpoint[key]
                break
    state = {key.removeprefix("module."): value for key, value in checkpoint.items()}
    call = dict(architecture)
    name = call.pop("name", "UNETR")
    if name not in NETWORKS:
        sys.exit(f"Metis runs {', '.join(NETWORKS)}; the config names {name}")
    if name == "SwinUNETR":
        call.pop("img_size", None)  # older MONAI's, ignored there and removed since
    network = NETWORKS[name](**call).eval()
    missing, unexpected = network.load_state_dict(state, strict=False)
    if missing or unexpected:
        sys.exit(f"the checkpoint does not fit this architecture: missing {missing}, unexpected {unexpected}")
    tensors = {key: value.detach().float().contiguous() for key, value in network.state_dict().items()
               if not key.endswith("num_batches_tracked")}
    save_file(tensors, arguments.out + ".safetensors", metadata={"format": "metis-" + name.lower(), "architecture": json.dumps(architecture)})
    card = {key: value for key, value in template.items() if key != "architecture"} if "architecture" in template else {}
    card.update({
        "architecture": architecture,
        "labels": template.get("labels", json.loads(arguments.labels)),
        "lesion_labels": template.get("lesion_labels", [1]),
        "weights": arguments.out.split("/")[-1] + ".safetensors",
        "source_checkpoint": arguments.checkpoint.split("/")[-1],
        "converted_with": {"torch": torch.__version__, "monai": __import__("monai").__version__},
    })
    if arguments.description is not None:
        card["description"] = arguments.description
    if arguments.version is not None:
        card["version"] = arguments.version
    if arguments.extra:
        with open(arguments.extra) as f:
            card.update(json.load(f))
    with open(arguments.out + ".json", "w") as f:
        json.dump(card, f, indent=2)
    print(f"wrote {arguments.out}.safetensors ({len(tensors)} tensors) and {arguments.out}.json")


if __name__ == "__main__":
    main()
