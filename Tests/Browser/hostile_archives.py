#!/usr/bin/env python3
"""Writes the hostile ZIP archives of Tests/IntegrationTests/HostileInputTests.swift.

    hostile_archives.py DICOM_FILE OUTPUT_DIRECTORY

traversal.zip: a valid instance under '../../etc/cron.d/x.dcm' and '/abs/y.dcm';
oversized.zip: an entry whose directory announces 3 GiB (past the 2 GiB limit);
lying.zip: 64 MiB of zeros deflated, announced as 100 bytes (a bomb that lies);
truncated.zip: a valid archive cut in the middle.
"""
import io
import os
import struct
import sys
import zipfile

source, output = sys.argv[1], sys.argv[2]
instance = open(source, "rb").read()


def archive(entries, method=zipfile.ZIP_STORED):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as z:
        for name, data in entries:
            info = zipfile.ZipInfo(name)
            info.compress_type = method
            z.writestr(info, data)
    return bytearray(buffer.getvalue())


def patch_sizes(data, size):
    """Rewrites the uncompressed size in every local header (offset 22) and central directory entry (offset 24)."""
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        position = data.find(signature)
        while position >= 0:
            struct.pack_into("<I", data, position + offset, size)
            position = data.find(signature, position + 4)
    return data


os.makedirs(output, exist_ok=True)
open(os.path.join(output, "traversal.zip"), "wb").write(archive([("../../etc/cron.d/x.dcm", instance), ("/abs/y.dcm", instance)]))
open(os.path.join(output, "oversized.zip"), "wb").write(patch_sizes(archive([("big.dcm", instance)]), 3 << 30))
open(os.path.join(output, "lying.zip"), "wb").write(patch_sizes(archive([("bomb.dcm", bytes(64 << 20))], zipfile.ZIP_DEFLATED), 100))
whole = archive([("a.dcm", instance), ("b.dcm", instance)])
open(os.path.join(output, "truncated.zip"), "wb").write(whole[: len(whole) // 2])
