#!/usr/bin/env python3
"""Writes the tensors of a PyTorch checkpoint (`torch.save`, the zip format of
PyTorch 1.6 and later: MONAI bundles' models/model.pt) as a .safetensors file,
with the Python standard library only: no torch, so `metis model import`
works on a machine that has none.

    python3 Weights/torch_to_safetensors.py CHECKPOINT.pt OUT.safetensors

The checkpoint may be a bare state_dict or a dict holding one under
"state_dict", "model" or "network"; a "module." prefix (from DataParallel)
is removed. Only what a state_dict holds is unpickled — ordered dicts,
tensors and their storages — and any other object is refused by name, so a
checkpoint cannot run code here. Tensors keep their values exactly: float32,
float16, bfloat16 and integer tensors are written as they are (float64 as
float32, which Metis computes in), laid out contiguously from their strides.
Prints one line per tensor count and dtype.
"""
import collections
import json
import pickle
import struct
import sys
import zipfile

# torch storage type → (safetensors dtype, bytes per element, struct format for float64 narrowing)
STORAGES = {
    "FloatStorage": ("F32", 4), "HalfStorage": ("F16", 2), "BFloat16Storage": ("BF16", 2), "DoubleStorage": ("F64", 8),
    "LongStorage": ("I64", 8), "IntStorage": ("I32", 4), "ShortStorage": ("I16", 2), "CharStorage": ("I8", 1),
    "ByteStorage": ("U8", 1), "BoolStorage": ("BOOL", 1),
}


class Storage:
    def __init__(self, kind, data):
        self.dtype, self.size = STORAGES[kind]
        self.data = data


class Tensor:
    def __init__(self, storage, offset, shape, stride):
        self.storage, self.offset, self.shape, self.stride = storage, offset, tuple(shape), tuple(stride)

    def contiguous_bytes(self):
        size, data = self.storage.size, self.storage.data
        count = 1
        for n in self.shape:
            count *= n
        expected, running = [], 1
        for n in reversed(self.shape):
            expected.insert(0, running)
            running *= n
        if count == 0:
            return b""
        if tuple(expected) == self.stride or count == 1:
            start = self.offset * size
            return data[start:start + count * size]
        out = bytearray()
        index = [0] * len(self.shape)
        for _ in range(count):
            position = self.offset + sum(i * s for i, s in zip(index, self.stride))
            out += data[position * size:(position + 1) * size]
            for axis in reversed(range(len(index))):
                index[axis] += 1
                if index[axis] < self.shape[axis]:
                    break
                index[axis] = 0
        return bytes(out)


def rebuild_tensor(storage, offset, shape, stride, *rest):
    return Tensor(storage, offset, shape, stride)


class Unpickler(pickle.Unpickler):
    def __init__(self, file, archive, prefix):
        super().__init__(file)
        self.archive, self.prefix = archive, prefix

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return rebuild_tensor
        if module == "torch" and name in STORAGES:
            return name
        raise pickle.UnpicklingError(f"the checkpoint holds {module}.{name}, not only tensors; refused")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unknown persistent object {pid!r}")
        _, kind, key, _location, _count = pid
        if kind not in STORAGES:
            raise pickle.UnpicklingError(f"storage type {kind} is not supported")
        return Storage(kind, self.archive.read(f"{self.prefix}/data/{key}"))


def load(path):
    if not zipfile.is_zipfile(path):
        sys.exit(f"{path} is not a PyTorch zip checkpoint (saved by PyTorch 1.6 or later); re-save it with torch.save")
    with zipfile.ZipFile(path) as archive:
        pickles = [name for name in archive.namelist() if name.endswith("/data.pkl")]
        if len(pickles) != 1:
            sys.exit(f"{path} holds {len(pickles)} data.pkl entries, expected one")
        prefix = pickles[0][: -len("/data.pkl")]
        byteorder = f"{prefix}/byteorder"
        if byteorder in archive.namelist() and archive.read(byteorder).strip() != b"little":
            sys.exit(f"{path} was saved big-endian; only little-endian checkpoints are read")
        with archive.open(pickles[0]) as file:
            try:
                return Unpickler(file, archive, prefix).load()
            except pickle.UnpicklingError as error:
                sys.exit(f"{path}: {error}")


def state_dict(checkpoint):
    if isinstance(checkpoint, dict):
        for key in ("state_dict", "model", "network"):
            if key in checkpoint and isinstance(checkpoint[key], dict):
                checkpoint = checkpoint[key]
                break
    if not isinstance(checkpoint, dict) or not all(isinstance(v, Tensor) for v in checkpoint.values()):
        sys.exit("the checkpoint is not a state_dict of tensors (nor holds one under state_dict, model or network)")
    return {key.removeprefix("module."): value for key, value in checkpoint.items()}


def write(tensors, path):
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        tensor = tensors[name]
        data, dtype = tensor.contiguous_bytes(), tensor.storage.dtype
        if dtype == "F64":
            values = struct.unpack(f"<{len(data) // 8}d", data)
            data, dtype = struct.pack(f"<{len(values)}f", *values), "F32"
        header[name] = {"dtype": dtype, "shape": list(tensor.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    header["__metadata__"] = {"format": "pt", "converted_by": "Weights/torch_to_safetensors.py"}
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for chunk in chunks:
            f.write(chunk)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    tensors = state_dict(load(sys.argv[1]))
    write(tensors, sys.argv[2])
    kinds = collections.Counter(t.storage.dtype for t in tensors.values())
    print(f"wrote {sys.argv[2]}: {len(tensors)} tensors ({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))})")


if __name__ == "__main__":
    main()
