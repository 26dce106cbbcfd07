#!/usr/bin/env python3
"""Compares the decoded text of DICOM files read by Metis (`metis dump --json`)
with pydicom's reading (`Dataset.to_json_dict`), value by value.

usage: charset_check.py METIS FILE...
Prints one JSON object per file: {"file", "charset", "status", "differences"};
status is "match" or "differs" (differences lists tag paths and both texts);
private elements that only pydicom's private dictionary reads as text are left out.
"""
import json
import subprocess
import sys
import warnings

import pydicom

TEXT_VRS = {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UI", "UR", "UT"}


def texts(model, prefix=""):
    """(path, text) for every text value of a DICOM JSON object."""
    for tag, element in sorted(model.items()):
        vr = element.get("vr")
        for index, value in enumerate(element.get("Value", [])):
            path = f"{prefix}{tag}[{index}]"
            if vr == "SQ" and isinstance(value, dict):
                yield from texts(value, path + "/")
            elif vr == "PN" and isinstance(value, dict):
                for group in ("Alphabetic", "Ideographic", "Phonetic"):
                    if value.get(group):
                        yield f"{path}.{group}", value[group]
            elif vr in TEXT_VRS and isinstance(value, str):
                yield path, value


def main():
    metis, files = sys.argv[1], sys.argv[2:]
    for path in files:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path, force=True)
            theirs = dict(texts(ds.to_json_dict(bulk_data_threshold=1 << 30, bulk_data_element_handler=lambda _: "")))
        run = subprocess.run([metis, "dump", "--json", "--stop-before-pixels", path], capture_output=True, text=True)
        if run.returncode != 0:
            print(json.dumps({"file": path, "status": "metis-failed", "error": run.stderr.strip()[-300:]}))
            continue
        mine = dict(texts(json.loads(run.stdout)))
        differences = [
            {"path": key, "metis": mine.get(key), "pydicom": theirs.get(key)}
            for key in sorted(set(mine) | set(theirs))
            if (mine.get(key) or "").rstrip() != (theirs.get(key) or "").rstrip()
            # A private element pydicom reads as text by its private dictionary and Metis keeps as bytes.
            and not (key not in mine and int(key[:4], 16) % 2 == 1)
        ]
        print(json.dumps({"file": path, "charset": str(ds.get("SpecificCharacterSet", "")),
                          "status": "differs" if differences else "match", "differences": differences[:5]},
                         ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
