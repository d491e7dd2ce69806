# Fixtures for ViT's interpolate_pos_encoding (tests/data/vit/), which
# ../shared/fixtures/vit-tiny does not cover: the same vit-tiny weights run
# by a plain-PyTorch ViTForImageClassification that follows transformers
# 4.43.4's modeling_vit.py (pre-norm layers, [CLS] first, positions added
# after it; interpolate_pos_encoding resizes the patch positions with
# F.interpolate(bicubic, align_corners=False, scale_factor=((h + 0.1) / side,
# (w + 0.1) / side))). The script first checks itself against the shared
# fixture's logits at 32 × 32, then writes random pixel_values at other sizes
# with their logits and last_hidden_state.
#
#   /usr/bin/python3 tools/make_vit_fixtures.py [../shared/fixtures/vit-tiny] [tests/data/vit]
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import safetensors_np  # noqa: E402


def interpolate_pos_encoding(pos, height, width, patch):
    n = pos.shape[1] - 1
    if (height // patch) * (width // patch) == n and height == width:
        return pos
    cls_pos, grid = pos[:, 0], pos[:, 1:]
    dim = pos.shape[-1]
    h0, w0 = height // patch + 0.1, width // patch + 0.1
    side = int(math.sqrt(n))
    grid = grid.reshape(1, side, side, dim).permute(0, 3, 1, 2)
    grid = F.interpolate(grid, scale_factor=(h0 / math.sqrt(n), w0 / math.sqrt(n)), mode="bicubic",
                         align_corners=False)
    assert int(h0) == grid.shape[-2] and int(w0) == grid.shape[-1]
    grid = grid.permute(0, 2, 3, 1).view(1, -1, dim)
    return torch.cat((cls_pos.unsqueeze(0), grid), dim=1)


def vit_forward(w, cfg, pixels, interpolate):
    eps, heads, patch = cfg["layer_norm_eps"], cfg["num_attention_heads"], cfg["patch_size"]
    batch, _, height, width = pixels.shape
    x = F.conv2d(pixels, w["vit.embeddings.patch_embeddings.projection.weight"],
                 w["vit.embeddings.patch_embeddings.projection.bias"], stride=patch)
    x = x.flatten(2).transpose(1, 2)
    x = torch.cat((w["vit.embeddings.cls_token"].expand(batch, -1, -1), x), dim=1)
    pos = w["vit.embeddings.position_embeddings"]
    x = x + (interpolate_pos_encoding(pos, height, width, patch) if interpolate else pos)
    hidden = x.shape[-1]
    d = hidden // heads

    def linear(t, name):
        return F.linear(t, w[name + ".weight"], w[name + ".bias"])

    def norm(t, name):
        return F.layer_norm(t, (hidden,), w[name + ".weight"], w[name + ".bias"], eps)

    for i in range(cfg["num_hidden_layers"]):
        p = f"vit.encoder.layer.{i}."
        h = norm(x, p + "layernorm_before")
        split = lambda t: t.view(batch, -1, heads, d).transpose(1, 2)  # noqa: E731
        q, k, v = (split(linear(h, p + "attention.attention." + n)) for n in ("query", "key", "value"))
        probs = (q @ k.transpose(-1, -2) / math.sqrt(d)).softmax(-1)
        context = (probs @ v).transpose(1, 2).reshape(batch, -1, hidden)
        x = x + linear(context, p + "attention.output.dense")
        h = norm(x, p + "layernorm_after")
        x = x + linear(F.gelu(linear(h, p + "intermediate.dense")), p + "output.dense")
    x = norm(x, "vit.layernorm")
    return linear(x[:, 0], "classifier"), x


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "../shared/fixtures/vit-tiny"
    out = sys.argv[2] if len(sys.argv) > 2 else "tests/data/vit"
    cfg = json.load(open(os.path.join(src, "config.json")))
    w = {k: torch.from_numpy(v) for k, v in safetensors_np.read(os.path.join(src, "model.safetensors"))[0].items()}
    expected, _ = safetensors_np.read(os.path.join(src, "expected.safetensors"))
    with torch.no_grad():
        logits, _ = vit_forward(w, cfg, torch.from_numpy(expected["pixel_values"]), False)
        gap = np.abs(logits.numpy() - expected["logits"]).max()
        assert gap < 1e-5, f"the reference ViT does not reproduce {src}'s logits (max gap {gap})"
        os.makedirs(out, exist_ok=True)
        gen = torch.Generator().manual_seed(0)
        for height, width in ((48, 48), (40, 64), (32, 32)):
            pixels = torch.randn(2, 3, height, width, generator=gen)
            logits, hidden = vit_forward(w, cfg, pixels, True)
            safetensors_np.write(os.path.join(out, f"interpolate_{height}x{width}.safetensors"),
                                 {"pixel_values": pixels.numpy(), "logits": logits.numpy(),
                                  "last_hidden_state": hidden.numpy()},
                                 {"model": "vit-tiny", "torch": torch.__version__})
            print(f"{height}x{width}: logits {logits.numpy().round(6).tolist()}")


if __name__ == "__main__":
    main()
