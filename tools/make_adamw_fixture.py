#!/usr/bin/python3
"""Writes tests/data/train/adamw_fixture.safetensors: five steps of
torch.optim.AdamW under transformers' get_linear_schedule_with_warmup, with
gradients clipped by torch.nn.utils.clip_grad_norm_, as a reference for
tformer::train (tests/test_train_adamw.cpp).

Run with Debian's torch (python3-torch, 1.13): /usr/bin/python3 tools/make_adamw_fixture.py
Needs no transformers: the schedule is its LambdaLR, written out below.

Tensors (all float32):
  initial.<param>                    parameter values before step 0
  grad.<k>.<param>                   raw gradient given at step k (before clipping)
  step.<k>.param.<param>             parameter after step k
  step.<k>.exp_avg.<param>           AdamW's first moment after step k
  step.<k>.exp_avg_sq.<param>        AdamW's second moment after step k
  lr                                 [steps] learning rate used by step k
  total_norm                         [steps] clip_grad_norm_'s return at step k
Metadata: "config" (JSON: hyper-parameters, the parameters in order with
their weight-decay flags).
"""
import json
import os
import struct

import torch

SEED = 1234
STEPS = 5
PEAK_LR = 1e-3
WARMUP_STEPS = 2
WEIGHT_DECAY = 0.01
MAX_GRAD_NORM = 1.0
# Gradient scale per step: the total norm of 28 N(0, 1) numbers is about 5.3,
# so steps 0, 2 and 4 are clipped and steps 1 and 3 are not.
GRAD_SCALES = [0.5, 0.05, 1.0, 0.1, 0.3]
# (name, shape, weight_decay) as the trainer groups BERT's parameters.
PARAMETERS = [
    ("encoder.weight", (4, 3), True),
    ("encoder.bias", (3,), False),
    ("classifier.weight", (2, 4), True),
    ("LayerNorm.weight", (5,), False),
]


def linear_schedule_with_warmup(optimizer, warmup_steps, total_steps):
    """transformers.get_linear_schedule_with_warmup (optimization.py)."""

    def lr_lambda(current_step):
        if current_step < warmup_steps:
            return float(current_step) / float(max(1, warmup_steps))
        return max(0.0, float(total_steps - current_step) / float(max(1, total_steps - warmup_steps)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)


def save_safetensors(path, tensors, metadata):
    header = {"__metadata__": metadata}
    offset = 0
    blobs = []
    for name in sorted(tensors):
        data = tensors[name].contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header_bytes = json.dumps(header, separators=(",", ":")).encode()
    header_bytes += b" " * (-len(header_bytes) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header_bytes)))
        f.write(header_bytes)
        for blob in blobs:
            f.write(blob)


def main():
    torch.manual_seed(SEED)
    params = [torch.nn.Parameter(torch.randn(shape)) for _, shape, _ in PARAMETERS]
    grads = [[torch.randn(shape) * scale for _, shape, _ in PARAMETERS] for scale in GRAD_SCALES]

    out = {}
    for (name, _, _), p in zip(PARAMETERS, params):
        out[f"initial.{name}"] = p.detach().clone()
    optimizer = torch.optim.AdamW(
        [{"params": [p for p, (_, _, wd) in zip(params, PARAMETERS) if wd], "weight_decay": WEIGHT_DECAY},
         {"params": [p for p, (_, _, wd) in zip(params, PARAMETERS) if not wd], "weight_decay": 0.0}],
        lr=PEAK_LR, betas=(0.9, 0.999), eps=1e-8, foreach=False)
    scheduler = linear_schedule_with_warmup(optimizer, WARMUP_STEPS, STEPS)

    lrs, norms = [], []
    for step in range(STEPS):
        for (name, _, _), p, g in zip(PARAMETERS, params, grads[step]):
            out[f"grad.{step}.{name}"] = g.clone()
            p.grad = g.clone()
        norms.append(float(torch.nn.utils.clip_grad_norm_(params, MAX_GRAD_NORM)))
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
        for (name, _, _), p in zip(PARAMETERS, params):
            state = optimizer.state[p]
            out[f"step.{step}.param.{name}"] = p.detach().clone()
            out[f"step.{step}.exp_avg.{name}"] = state["exp_avg"].clone()
            out[f"step.{step}.exp_avg_sq.{name}"] = state["exp_avg_sq"].clone()
    out["lr"] = torch.tensor(lrs, dtype=torch.float32)
    out["total_norm"] = torch.tensor(norms, dtype=torch.float32)

    config = {
        "torch_version": torch.__version__, "seed": SEED, "steps": STEPS, "peak_lr": PEAK_LR,
        "warmup_steps": WARMUP_STEPS, "weight_decay": WEIGHT_DECAY, "max_grad_norm": MAX_GRAD_NORM,
        "betas": [0.9, 0.999], "eps": 1e-8,
        "parameters": [{"name": n, "shape": list(s), "weight_decay": wd} for n, s, wd in PARAMETERS],
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "train",
                        "adamw_fixture.safetensors")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    save_safetensors(path, out, {"config": json.dumps(config)})
    print(f"wrote {os.path.normpath(path)}: lr {lrs}, total_norm {norms}")


if __name__ == "__main__":
    main()
