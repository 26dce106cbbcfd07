#!/usr/bin/env python3
"""Layer parity fixtures for the NeuralEngine tests, computed by PyTorch and MONAI.

    pip install torch==2.13.0 monai einops numpy   # the CPU wheel; an unpinned torch pulls CUDA
    python3 Tests/Fixtures/neural/make_layer_fixtures.py

Writes, under Tests/NeuralEngineTests/Fixtures/layers/, one .npy per tensor
(float32, C order) and manifest.json naming each case's layer, its options
and its tensors. Weights and inputs are random and non-trivial (seeded), so
a wrong layout or formula cannot pass.
"""
import json
import os

import numpy as np
import torch

torch.manual_seed(20261125)
out = os.path.join(os.path.dirname(__file__), "..", "..", "NeuralEngineTests", "Fixtures", "layers")
os.makedirs(out, exist_ok=True)
manifest = []


def save(case, name, tensor):
    file = f"{case}.{name}.npy"
    np.save(os.path.join(out, file), tensor.detach().numpy().astype(np.float32))
    return file


def add(case, layer, options, tensors, config=None):
    entry = {"name": case, "layer": layer, "options": options,
             "tensors": {name: save(case, name, value) for name, value in tensors.items() if value is not None}}
    if config is not None:
        entry["config"] = config
    manifest.append(entry)


with torch.no_grad():
    for bias in (True, False):
        linear = torch.nn.Linear(24, 16, bias=bias)
        x = torch.randn(2, 5, 24)
        add(f"linear-{'bias' if bias else 'nobias'}", "Linear", {},
            {"input": x, "weight": linear.weight, "bias": linear.bias if bias else None, "output": linear(x)})
    norm = torch.nn.LayerNorm(24)
    norm.weight.normal_(1, 0.3)
    norm.bias.normal_(0, 0.3)
    x = torch.randn(2, 5, 24) * 3 + 1
    add("layernorm", "LayerNorm", {}, {"input": x, "weight": norm.weight, "bias": norm.bias, "output": norm(x)})
    x = torch.randn(3, 40) * 3
    add("gelu", "GELU", {}, {"input": x, "output": torch.nn.GELU()(x)})
    add("leakyrelu", "LeakyReLU", {"slope": 0.01}, {"input": x, "output": torch.nn.LeakyReLU(0.01)(x)})
    for name, (cin, cout, k, stride, padding, bias, shape) in {
        "conv3d-k3-p1-bias": (3, 4, 3, 1, 1, True, (1, 3, 6, 7, 5)),
        "conv3d-k3-p0-nobias": (2, 3, 3, 1, 0, False, (2, 2, 5, 6, 7)),
        "conv3d-k1-nobias": (4, 2, 1, 1, 0, False, (1, 4, 5, 5, 5)),
        "conv3d-patch16": (1, 8, 16, 16, 0, True, (1, 1, 32, 32, 48)),
    }.items():
        conv = torch.nn.Conv3d(cin, cout, k, stride=stride, padding=padding, bias=bias)
        x = torch.randn(*shape)
        add(name, "Conv3d", {"stride": stride, "padding": padding},
            {"input": x, "weight": conv.weight, "bias": conv.bias if bias else None, "output": conv(x)})
    for affine in (True, False):
        norm = torch.nn.InstanceNorm3d(3, affine=affine)
        if affine:
            norm.weight.normal_(1, 0.3)
            norm.bias.normal_(0, 0.3)
        x = torch.randn(2, 3, 4, 5, 6) * 2 + 0.5
        add(f"instancenorm-{'affine' if affine else 'plain'}", "InstanceNorm3d", {},
            {"input": x, "weight": norm.weight if affine else None, "bias": norm.bias if affine else None, "output": norm(x)})

    for bias in (True, False):
        up = torch.nn.ConvTranspose3d(5, 3, kernel_size=2, stride=2, bias=bias)
        x = torch.randn(2, 5, 3, 4, 2)
        add(f"convtranspose3d-k2-{'bias' if bias else 'nobias'}", "ConvTranspose3d", {},
            {"input": x, "weight": up.weight, "bias": up.bias if bias else None, "output": up(x)})
    batch = torch.nn.BatchNorm3d(4).eval()
    batch.weight.normal_(1, 0.3)
    batch.bias.normal_(0, 0.3)
    batch.running_mean.normal_(0, 1)
    batch.running_var.uniform_(0.5, 2)
    x = torch.randn(2, 4, 3, 5, 4)
    add("batchnorm3d-eval", "BatchNorm3d", {},
        {"input": x, "weight": batch.weight, "bias": batch.bias, "running_mean": batch.running_mean,
         "running_var": batch.running_var, "output": batch(x)})

    from monai.networks.blocks.selfattention import SABlock
    for qkv_bias in (False, True):
        block = SABlock(hidden_size=32, num_heads=4, dropout_rate=0.0, qkv_bias=qkv_bias).eval()
        x = torch.randn(2, 10, 32)
        state = block.state_dict()
        tensors = {"input": x, "output": block(x)}
        for key in ("qkv.weight", "qkv.bias", "out_proj.weight", "out_proj.bias"):
            if key in state:
                tensors[key] = state[key]
        add(f"sablock-{'qkvbias' if qkv_bias else 'default'}", "SABlock", {"heads": 4}, tensors)

    from monai.networks.blocks.mlp import MLPBlock
    from monai.networks.blocks.patchembedding import PatchEmbeddingBlock
    mlp = MLPBlock(hidden_size=24, mlp_dim=48, dropout_rate=0.0).eval()
    x = torch.randn(2, 7, 24)
    add("mlpblock", "MLPBlock", {}, {"input": x, "output": mlp(x), **{k: v for k, v in mlp.state_dict().items()}})
    for proj_type in ("perceptron", "conv"):
        block = PatchEmbeddingBlock(in_channels=2, img_size=(16, 16, 24), patch_size=(8, 8, 8), hidden_size=24, num_heads=4,
                                    proj_type=proj_type, pos_embed_type="learnable", dropout_rate=0.0).eval()
        block.position_embeddings.normal_(0, 0.5)
        x = torch.randn(2, 2, 16, 16, 24)
        add(f"patchembedding-{proj_type}", "PatchEmbeddingBlock", {"patch": 8},
            {"input": x, "output": block(x), **{k: v for k, v in block.state_dict().items()}})

    from monai.networks.blocks.transformerblock import TransformerBlock
    block = TransformerBlock(hidden_size=24, mlp_dim=40, num_heads=4, dropout_rate=0.0, qkv_bias=False).eval()
    for name, parameter in block.named_parameters():
        if "norm" in name:
            parameter.normal_(1 if name.endswith("weight") else 0, 0.3)
    x = torch.randn(2, 9, 24)
    add("transformerblock", "TransformerBlock", {"heads": 4}, {"input": x, "output": block(x), **dict(block.state_dict())})

    from monai.networks.blocks.dynunet_block import UnetBasicBlock, UnetOutBlock, UnetResBlock

    def randomise_norms(block):
        for name, module in block.named_modules():
            if isinstance(module, torch.nn.BatchNorm3d):
                module.weight.normal_(1, 0.3)
                module.bias.normal_(0, 0.3)
                module.running_mean.normal_(0, 0.5)
                module.running_var.uniform_(0.5, 2)
        return block.eval()

    def state(block):
        return {k: v for k, v in block.state_dict().items() if not k.endswith("num_batches_tracked")}

    for name, block, shape in (
        ("unetresblock-instance-down", UnetResBlock(3, 4, 6, kernel_size=3, stride=1, norm_name="instance"), (1, 4, 6, 5, 7)),
        ("unetresblock-batch", UnetResBlock(3, 5, 5, kernel_size=3, stride=1, norm_name="batch"), (2, 5, 4, 4, 5)),
        ("unetbasicblock-instance", UnetBasicBlock(3, 3, 4, kernel_size=3, stride=1, norm_name="instance"), (1, 3, 5, 6, 4)),
        ("unetoutblock", UnetOutBlock(3, 4, 2), (1, 4, 5, 5, 5)),
    ):
        block = randomise_norms(block)
        x = torch.randn(*shape)
        add(name, type(block).__name__, {}, {"input": x, "output": block(x), **state(block)})

    from monai.networks.blocks.unetr_block import UnetrPrUpBlock, UnetrUpBlock
    for res_block in (True, False):
        block = randomise_norms(UnetrUpBlock(3, 6, 4, kernel_size=3, upsample_kernel_size=2, norm_name="instance" if res_block else "batch",
                                             res_block=res_block))
        x, skip = torch.randn(1, 6, 3, 2, 3), torch.randn(1, 4, 6, 4, 6)
        add(f"unetrupblock-{'res' if res_block else 'basic-batch'}", "UnetrUpBlock", {"residual": int(res_block)},
            {"input": x, "skip": skip, "output": block(x, skip), **state(block)})
    for conv_block in (True, False):
        block = randomise_norms(UnetrPrUpBlock(3, 8, 4, num_layer=2, kernel_size=3, stride=1, upsample_kernel_size=2, norm_name="instance",
                                               conv_block=conv_block, res_block=True))
        x = torch.randn(1, 8, 2, 2, 1)
        add(f"unetrprupblock-{'conv' if conv_block else 'plain'}", "UnetrPrUpBlock", {"layers": 2, "convBlock": int(conv_block), "residual": 1},
            {"input": x, "output": block(x), **state(block)})

    from monai.networks.nets import UNETR
    for proj_type, norm_name in (("conv", "instance"), ("perceptron", "batch")):
        config = dict(in_channels=1, out_channels=2, img_size=[32, 32, 16], feature_size=8, hidden_size=32, mlp_dim=64, num_heads=4,
                      proj_type=proj_type, norm_name=norm_name, conv_block=True, res_block=True, dropout_rate=0.0, spatial_dims=3,
                      qkv_bias=False)
        net = randomise_norms(UNETR(**config))
        with torch.no_grad():
            net.vit.patch_embedding.position_embeddings.normal_(0, 0.5)
            for name, parameter in net.named_parameters():
                if "norm" in name and "vit" in name:
                    parameter.normal_(1 if name.endswith("weight") else 0, 0.2)
        x = torch.randn(1, 1, 32, 32, 16)
        add(f"unetr-{proj_type}-{norm_name}", "UNETR", {}, {"input": x, "output": net(x), **state(net)}, config=config)

    # A small safetensors file with every dtype the reader widens, and its tensors as .npy for comparison.
    from safetensors.torch import save_file
    sample = {"a.weight": torch.randn(3, 4), "b.bias": torch.randn(5), "c.half": torch.randn(2, 3).half(), "d.bfloat": torch.randn(4).bfloat16()}
    save_file(sample, os.path.join(out, "sample.safetensors"), metadata={"architecture": "test"})
    for key, value in sample.items():
        np.save(os.path.join(out, f"sample.{key}.npy"), value.float().numpy().astype(np.float32))

with open(os.path.join(out, "manifest.json"), "w") as f:
    import monai
    json.dump({"generator": "Tests/Fixtures/neural/make_layer_fixtures.py", "torch": torch.__version__, "monai": monai.__version__,
               "cases": manifest}, f, indent=1)
print(f"{len(manifest)} cases in {os.path.normpath(out)}")
