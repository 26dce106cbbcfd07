#!/usr/bin/env python3
"""A MONAI bundle laid out as MONAI's own `brats_mri_segmentation` (configs/
inference.json with its `_target_` components, `@` references, `$`
expressions and BraTS's label-merging Lambdad; configs/metadata.json;
models/model.pt written by torch.save), with a small SegResNet of random
weights (4 sequences in, 3 sigmoid channels out), for the test of
`metis model import`. Also writes an input and MONAI's logits for it,
computed by the bundle's own inferer instantiated through
monai.bundle.ConfigParser, so the test compares Metis's sliding window with
what the bundle itself runs.

    pip install torch==2.13.0 monai==1.6.1 numpy   # the CPU wheel
    python3 Tests/Fixtures/neural/make_bundle_fixture.py

Writes Tests/IntegrationTests/Fixtures/bundle-brats/ (the bundle) and
bundle-brats.input.npy / bundle-brats.logits.npy beside it.
"""
import json
import os

import numpy as np
import torch
from monai.bundle import ConfigParser

torch.manual_seed(20261208)
rng = np.random.default_rng(20261208)
fixtures = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "IntegrationTests", "Fixtures")
bundle = os.path.join(fixtures, "bundle-brats")
os.makedirs(os.path.join(bundle, "configs"), exist_ok=True)
os.makedirs(os.path.join(bundle, "models"), exist_ok=True)

inference = {
    "imports": ["$import glob", "$import os"],
    "bundle_root": ".",
    "ckpt_dir": "$@bundle_root + '/models'",
    "output_dir": "$@bundle_root + '/eval'",
    "data_list_file_path": "$@bundle_root + '/configs/datalist.json'",
    "dataset_dir": "/workspace/data/medical/brats2018challenge",
    "test_datalist": "$monai.data.load_decathlon_datalist(@data_list_file_path, data_list_key='testing', base_dir=@dataset_dir)",
    "device": "$torch.device('cuda:0' if torch.cuda.is_available() else 'cpu')",
    "amp": True,
    "num_classes": 3,
    "network_def": {"_target_": "SegResNet", "blocks_down": [1, 2], "blocks_up": [1], "init_filters": 8, "in_channels": 4,
                    "out_channels": "@num_classes", "dropout_prob": 0.2},
    "network": "$@network_def.to(@device)",
    "preprocessing": {"_target_": "Compose", "transforms": [
        {"_target_": "LoadImaged", "keys": "image"},
        {"_target_": "NormalizeIntensityd", "keys": "image", "nonzero": True, "channel_wise": True}]},
    "dataset": {"_target_": "Dataset", "data": "@test_datalist", "transform": "@preprocessing"},
    "dataloader": {"_target_": "DataLoader", "dataset": "@dataset", "batch_size": 1, "shuffle": True, "num_workers": 4},
    "inferer": {"_target_": "SlidingWindowInferer", "roi_size": [24, 24, 16], "sw_batch_size": 1, "overlap": 0.5},
    "postprocessing": {"_target_": "Compose", "transforms": [
        {"_target_": "Activationsd", "keys": "pred", "sigmoid": True},
        {"_target_": "Invertd", "keys": "pred", "transform": "@preprocessing", "orig_keys": "image",
         "meta_keys": "pred_meta_dict", "nearest_interp": False, "to_tensor": True},
        {"_target_": "AsDiscreted", "keys": "pred", "threshold": 0.5},
        {"_target_": "Lambdad", "keys": "pred",
         "func": "$lambda x: torch.where(x[[2]] > 0, 4, torch.where(x[[0]] > 0, 1, torch.where(x[[1]] > 0, 2, 0)))"},
        {"_target_": "SaveImaged", "keys": "pred", "meta_keys": "pred_meta_dict", "output_dir": "@output_dir",
         "output_postfix": "seg", "output_dtype": "uint8", "resample": False, "squeeze_end_dims": True}]},
    "handlers": [{"_target_": "CheckpointLoader", "load_path": "$@bundle_root + '/models/model.pt'",
                  "load_dict": {"model": "@network"}},
                 {"_target_": "StatsHandler", "iteration_log": False}],
    "evaluator": {"_target_": "SupervisedEvaluator", "device": "@device", "val_data_loader": "@dataloader",
                  "network": "@network", "inferer": "@inferer", "postprocessing": "@postprocessing",
                  "val_handlers": "@handlers", "amp": True},
    "evaluating": ["$setattr(torch.backends.cudnn, 'benchmark', True)", "$@evaluator.run()"],
}
metadata = {
    "schema": "https://github.com/Project-MONAI/MONAI-extra-test-data/releases/download/0.8.1/meta_schema_20220324.json",
    "version": "0.1.0-fixture",
    "name": "BraTS MRI segmentation (Metis test fixture)",
    "description": "Random weights in the layout of MONAI's brats_mri_segmentation bundle; a test fixture, not a model.",
    "network_data_format": {
        "inputs": {"image": {"type": "magnetic resonance imaging", "num_channels": 4, "spatial_shape": [24, 24, 16]}},
        "outputs": {"pred": {"type": "image", "num_channels": 3,
                             "channel_def": {"0": "tumor core", "1": "whole tumor", "2": "enhancing tumor"}}},
    },
}
with open(os.path.join(bundle, "configs", "inference.json"), "w") as f:
    json.dump(inference, f, indent=4)
    f.write("\n")
with open(os.path.join(bundle, "configs", "metadata.json"), "w") as f:
    json.dump(metadata, f, indent=4)
    f.write("\n")

parser = ConfigParser(inference)
network = parser.get_parsed_content("network_def").eval()
with torch.no_grad():
    for name, parameter in network.named_parameters():
        if name.endswith("bias"):
            parameter.normal_(0, 0.1)
torch.save(network.state_dict(), os.path.join(bundle, "models", "model.pt"))

# An input no window size divides, and the logits of the bundle's own inferer on it.
image = torch.from_numpy(rng.normal(0, 1, (1, 4, 40, 33, 27)).astype(np.float32))
inferer = parser.get_parsed_content("inferer")
with torch.no_grad():
    logits = inferer(image, network)
np.save(os.path.join(fixtures, "bundle-brats.input.npy"), image.numpy())
np.save(os.path.join(fixtures, "bundle-brats.logits.npy"), logits.numpy())
print("bundle written; logits", tuple(logits.shape), "max |logit|", float(logits.abs().max()))
