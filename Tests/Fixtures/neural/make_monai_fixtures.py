#!/usr/bin/env python3
"""MONAI checkpoints exactly as MONAI writes them, for the drop-in tests.

    pip install torch==2.13.0 monai einops safetensors numpy   # the CPU wheel
    python3 Tests/Fixtures/neural/make_monai_fixtures.py

For each case, under Tests/NeuralEngineTests/Fixtures/monai/: NAME.json, the
constructor call as a user writes it (MONAI's keyword arguments as JSON, plus
"name"; arguments left out take MONAI's defaults), which is also what MONAI
itself is given here, after json round-tripping; NAME.safetensors, the
network's whole state_dict() as MONAI holds it (num_batches_tracked int64
buffers included), written by safetensors.torch; NAME.input.npy and
NAME.output.npy, an input and MONAI's logits in evaluation mode. Weights,
norm parameters and running statistics are random and seeded, so a wrong
layout, default or formula cannot pass.
"""
import json
import os

import numpy as np
import torch
from monai.networks import nets
from safetensors.torch import save_file

torch.manual_seed(20261207)
out = os.path.join(os.path.dirname(__file__), "..", "..", "NeuralEngineTests", "Fixtures", "monai")
os.makedirs(out, exist_ok=True)

small = {"feature_size": 4, "hidden_size": 24, "mlp_dim": 48, "num_heads": 4}
cases = {
    # img_size as an int; spatial_dims, proj_type, norm_name, conv_block, res_block, qkv_bias left to MONAI.
    "unetr-defaults-int-size": {"in_channels": 1, "out_channels": 2, "img_size": 32, **small},
    "unetr-instance-affine": {"in_channels": 1, "out_channels": 2, "img_size": [32, 32, 16], "norm_name": ["instance", {"affine": True}], **small},
    "unetr-instance-upper-eps": {"in_channels": 1, "out_channels": 2, "img_size": [32, 16, 32],
                                 "norm_name": ["INSTANCE", {"affine": True, "eps": 1e-3}], **small},
    "unetr-batch": {"in_channels": 1, "out_channels": 2, "img_size": [32, 32, 16], "norm_name": "batch", **small},
    "unetr-batch-eps-momentum": {"in_channels": 1, "out_channels": 3, "img_size": [16, 32, 32],
                                 "norm_name": ["batch", {"eps": 1e-3, "momentum": 0.2}], **small},
    "unetr-group": {"in_channels": 1, "out_channels": 2, "img_size": [32, 32, 16], "norm_name": ["group", {"num_groups": 4}], **small},
    "unetr-perceptron-qkv-bias": {"in_channels": 1, "out_channels": 2, "img_size": [32, 32, 16], "proj_type": "perceptron",
                                  "qkv_bias": True, "save_attn": True, **small},
    "unetr-basic-blocks": {"in_channels": 1, "out_channels": 2, "img_size": [32, 32, 16], "res_block": False, **small},
    "unetr-no-conv-block": {"in_channels": 1, "out_channels": 2, "img_size": [32, 32, 16], "conv_block": False,
                            "spatial_dims": 3, "dropout_rate": 0.1, **small},
    "unetr-4-sequences": {"in_channels": 4, "out_channels": 3, "img_size": [32, 32, 16], "norm_name": ["instance", {"affine": True}], **small},
    "unetr-sizes-48": {"in_channels": 1, "out_channels": 2, "img_size": [48, 32, 16], **small},
}
# SegResNet (the BraTS bundles' network): MONAI's defaults (init_filters 8, GROUP norm of 8, RELU, trilinear
# up-sampling), its other spellings, and the BraTS shape (4 sequences in, 3 channels out); input sizes only need
# to divide by 2^(levels - 1).
segresnet = {
    "segresnet-defaults": ({"name": "SegResNet", "blocks_down": [1, 1, 1], "blocks_up": [1, 1]}, [16, 24, 16]),
    "segresnet-brats": ({"name": "SegResNet", "in_channels": 4, "out_channels": 3, "blocks_down": [1, 2, 2, 2], "dropout_prob": 0.2},
                        [16, 16, 24]),
    "segresnet-instance-leaky-deconv": ({"name": "SegResNet", "init_filters": 4, "norm": ["instance", {"affine": True}],
                                         "act": ["LEAKYRELU", {"negative_slope": 0.1, "inplace": True}], "upsample_mode": "deconv",
                                         "blocks_down": [1, 1, 1], "blocks_up": [1, 1]}, [16, 16, 16]),
    "segresnet-batch": ({"name": "SegResNet", "init_filters": 4, "norm": "BATCH", "blocks_down": [1, 1, 1], "blocks_up": [1, 1]},
                        [8, 16, 12]),
    "segresnet-legacy-norm-name": ({"name": "SegResNet", "init_filters": 4, "norm_name": "group", "num_groups": 2,
                                    "blocks_down": [1, 1], "blocks_up": [1], "use_conv_final": True}, [8, 8, 8]),
}


def randomise(network):
    with torch.no_grad():
        for name, parameter in network.named_parameters():
            if "norm" in name or name.endswith("position_embeddings") or name.startswith("conv_final.0"):
                parameter.normal_(1 if name.endswith("weight") else 0, 0.3)
        for name, buffer in network.named_buffers():
            if name.endswith("running_mean"):
                buffer.normal_(0, 0.3)
            elif name.endswith("running_var"):
                buffer.uniform_(0.5, 2.0)
            elif name.endswith("num_batches_tracked"):
                buffer.fill_(1234)
    return network


manifest = []


def write_case(name, call, network, x, y):
    """The constructor call, the whole state_dict, an input and MONAI's logits for it."""
    with open(os.path.join(out, f"{name}.json"), "w") as f:
        json.dump(call, f, indent=1)
    save_file({key: value.contiguous() for key, value in network.state_dict().items()}, os.path.join(out, f"{name}.safetensors"))
    np.save(os.path.join(out, f"{name}.input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(out, f"{name}.output.npy"), y.numpy().astype(np.float32))
    manifest.append(name)


calls = {name: ({"name": "UNETR", **call}, call["img_size"] if isinstance(call["img_size"], list) else [call["img_size"]] * 3)
         for name, call in cases.items()}
calls.update(segresnet)
for name, (call, size) in calls.items():
    # What MONAI is given is the JSON a user would write: lists, not tuples.
    arguments = json.loads(json.dumps(call))
    network = randomise(getattr(nets, arguments.pop("name"))(**arguments)).eval()
    x = torch.randn(1, call.get("in_channels", 1), *size)
    with torch.no_grad():
        y = network(x)
    write_case(name, call, network, x, y)

# MONAI's sliding_window_inference with a 2-channel SegResNet over an input no window size divides (padding,
# pushed-back last windows, Gaussian blending): NAME.json is a model card (architecture + inference).
from monai.inferers import sliding_window_inference
sliding = "sliding-segresnet-2ch"
call = {"name": "SegResNet", "init_filters": 4, "in_channels": 2, "out_channels": 2, "blocks_down": [1, 1, 1], "blocks_up": [1, 1],
        "norm": ["group", {"num_groups": 2}]}
inference = {"roi_size": [16, 16, 16], "overlap": 0.5, "mode": "gaussian", "sigma_scale": 0.125}
arguments = dict(call)
network = randomise(getattr(nets, arguments.pop("name"))(**arguments)).eval()
x = torch.randn(1, 2, 20, 28, 12)
with torch.no_grad():
    y = sliding_window_inference(x, inference["roi_size"], 1, network, overlap=inference["overlap"], mode=inference["mode"],
                                 sigma_scale=inference["sigma_scale"])
with open(os.path.join(out, f"{sliding}.json"), "w") as f:
    json.dump({"architecture": call, "inference": inference}, f, indent=1)
save_file({key: value.contiguous() for key, value in network.state_dict().items()}, os.path.join(out, f"{sliding}.safetensors"))
np.save(os.path.join(out, f"{sliding}.input.npy"), x.numpy().astype(np.float32))
np.save(os.path.join(out, f"{sliding}.output.npy"), y.numpy().astype(np.float32))

# SwinUNETR: MONAI's defaults but a small feature size (7³ windows: padded and shifted on the 32³, 16³ and 8³ stages,
# shrunk to the whole stage on the 4³ one; instance norm needs more than one voxel at 1/32), then v2 stages, PatchMergingV2, patch norm, batch norm, no qkv
# bias, an anisotropic window, uneven sizes, a smaller MLP and without the output normalisation. Two cases only: with
# MONAI's smallest feature size a SwinUNETR's decoder still holds some 15 MB of weights.
swin = {
    "swinunetr-defaults": ({"name": "SwinUNETR", "in_channels": 1, "out_channels": 2, "feature_size": 12}, [64, 64, 64]),
    "swinunetr-v2-merging2-batch": ({"name": "SwinUNETR", "in_channels": 2, "out_channels": 3, "feature_size": 12,
                                     "depths": [1, 1, 2, 1], "num_heads": [2, 2, 4, 4], "window_size": [4, 4, 2],
                                     "qkv_bias": False, "patch_norm": True, "downsample": "mergingv2", "use_v2": True,
                                     "norm_name": "batch", "drop_rate": 0.1, "use_checkpoint": True, "mlp_ratio": 2.0,
                                     "normalize": False}, [32, 64, 32]),
}
for name, (call, size) in swin.items():
    arguments = json.loads(json.dumps(call))
    network = randomise(getattr(nets, arguments.pop("name"))(**arguments)).eval()
    with torch.no_grad():
        for parameter_name, parameter in network.named_parameters():
            if parameter_name.endswith("relative_position_bias_table"):
                parameter.normal_(0, 0.5)
    x = torch.randn(1, call["in_channels"], *size)
    with torch.no_grad():
        y = network(x)
    write_case(name, call, network, x, y)

with open(os.path.join(out, "manifest.json"), "w") as f:
    import monai
    json.dump({"generator": "Tests/Fixtures/neural/make_monai_fixtures.py", "torch": torch.__version__, "monai": monai.__version__,
               "cases": manifest, "sliding": [sliding]}, f, indent=1)
print(f"{len(manifest)} cases in {os.path.normpath(out)}")
