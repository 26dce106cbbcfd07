#!/usr/bin/env python3
"""Writes `metis evaluate --out` results into a model card's `evaluation`, the figures Metis's default-engine rule reads.

    python3 Weights/training/card_evaluation.py --card Weights/metis-synthetic-unetr.json --held-out mni \\
        --unetr unetr.json --classical classical.json [--note TEXT]

Each --unetr / --classical file is one `metis evaluate --out` run over the
held-out sets of every generator; its per-generator summaries become
`evaluation.generators[GENERATOR][ENGINE]`. `held_out_generator` names the
generator never used for training or tuning. The card keeps every other field.
"""
import argparse
import json


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--card", required=True)
    parser.add_argument("--held-out", required=True)
    parser.add_argument("--unetr", required=True)
    parser.add_argument("--classical", required=True)
    parser.add_argument("--note", default=None, help="how the figures were made (machine, date, sets)")
    arguments = parser.parse_args()
    with open(arguments.card) as f:
        card = json.load(f)
    generators = {}
    for engine, path in (("unetr", arguments.unetr), ("classical", arguments.classical)):
        with open(path) as f:
            report = json.load(f)
        for generator, summary in report["by_generator"].items():
            generators.setdefault(generator, {})[engine] = summary
    card["evaluation"] = {"held_out_generator": arguments.held_out, "generators": generators, "script": "metis evaluate (Weights/training/card_evaluation.py)"}
    if arguments.note:
        card["evaluation"]["note"] = arguments.note
    with open(arguments.card, "w") as f:
        json.dump(card, f, indent=2, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
