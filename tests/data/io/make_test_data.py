"""Generates the small torch.save files that tests/test_io_pytorch.cpp reads.

Run from this directory with PyTorch (1.13 was used): python3 make_test_data.py
The tests themselves need no Python; the outputs are committed.
"""
import io
import pickle
import zipfile

import torch

torch.manual_seed(0)

# Values the C++ test recomputes: x[i][j] = 4*i + j.
x = torch.arange(12, dtype=torch.float32).reshape(3, 4)
base = torch.arange(10, dtype=torch.float32)
state = {
    "contiguous": x,
    "transposed": x.t(),                     # strides (1, 4)
    "column": x[:, 1],                       # stride 4, storage offset 1
    "base": base,
    "slice": base[2:5],                      # shares base's storage, offset 2
    "half": torch.tensor([0.5, -1.25, 3.0], dtype=torch.float16),
    "bfloat": torch.tensor([0.5, -1.25, 3.0], dtype=torch.bfloat16),
    "long": torch.tensor([1, -2, 1 << 40], dtype=torch.int64),
    "param": torch.nn.Parameter(torch.tensor([7.0, 8.0])),
    "empty": torch.zeros(0, 3),
    "scalar": torch.tensor(3.5),
    "LayerNorm.gamma": torch.tensor([1.0, 2.0]),
    "LayerNorm.beta": torch.tensor([0.25, 0.5]),
}
torch.save(state, "strided.bin")

# Same content, every entry deflate-compressed (torch itself stores them).
with zipfile.ZipFile("strided.bin") as src, zipfile.ZipFile("deflated.bin", "w", zipfile.ZIP_DEFLATED) as dst:
    for info in src.infolist():
        dst.writestr(info.filename, src.read(info.filename))

# The pre-1.6 format, which tformer refuses with a hint to re-save.
torch.save({"w": torch.ones(2)}, "legacy.bin", _use_new_zipfile_serialization=False)


class EvaluatesCode:
    def __reduce__(self):
        return (eval, ("1+1",))


def torch_like_zip(path, pickled):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pickled)
        z.writestr("archive/version", "3\n")


# Written by hand: Python's pickle would name os.system by its real module, posix.
# {"w": os.system("echo ...")} in protocol 2 (GLOBAL, REDUCE, SETITEM).
os_system_call = (b"\x80\x02}q\x00X\x01\x00\x00\x00wcos\nsystem\nq\x01"
                  b"X\"\x00\x00\x00echo tformer-test-should-never-run\x85q\x02Rq\x03s.")
torch_like_zip("malicious_os_system.bin", os_system_call)
torch_like_zip("malicious_eval.bin", pickle.dumps({"w": EvaluatesCode()}, protocol=4))

# A valid pickle whose storage entry is missing from the archive.
buffer = io.BytesIO()
torch.save({"w": torch.ones(2)}, buffer)
buffer.seek(0)
with zipfile.ZipFile(buffer) as src, zipfile.ZipFile("missing_storage.bin", "w") as dst:
    for info in src.infolist():
        if "/data/" not in info.filename:
            dst.writestr(info.filename, src.read(info.filename))
