# PSNR of a ViT-MAE's painted-back patches on held-out photos, against two
# baselines that see the same visible patches:
#   mean colour:   every masked pixel is the mean colour of the visible pixels;
#   interpolation: every masked pixel is the inverse-square-distance weighted
#                  mean of the visible pixels in the 3 × 3 patches around its
#                  own (the mean colour where none of them is visible).
# PSNR is over the masked pixels only, in 8-bit RGB at the model's image
# size (the image as its ViTImageProcessor resized it), peak 255.
#
#   /usr/bin/python3 tools/mae_psnr.py TFORMER MODEL_DIR SEEDS IMAGE...
# runs `TFORMER image generate IMAGE --model MODEL_DIR --seed S --dump F`
# for each image and seed, and prints one JSON line per image and a summary.
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import safetensors_np  # noqa: E402


def to_8bit(chw, processor):
    x = chw.astype(np.float64)
    if processor.get("do_normalize", True):
        x = x * np.array(processor["image_std"])[:, None, None] + np.array(processor["image_mean"])[:, None, None]
    if processor.get("do_rescale", True):
        x = x / processor["rescale_factor"]
    return np.clip(np.rint(x), 0, 255).transpose(1, 2, 0)  # HWC, float


def pixel_mask(mask, side, patch):
    grid = side // patch
    return np.kron(mask.reshape(grid, grid), np.ones((patch, patch))).astype(bool)


def interpolate(image, hidden, patch):
    side = image.shape[0]
    out = image.copy()
    visible = ~hidden
    mean = image[visible].mean(0)
    ys, xs = np.nonzero(hidden)
    for y, x in zip(ys, xs):
        top, left = max(0, (y // patch - 1) * patch), max(0, (x // patch - 1) * patch)
        bottom, right = min(side, (y // patch + 2) * patch), min(side, (x // patch + 2) * patch)
        vy, vx = np.nonzero(visible[top:bottom, left:right])
        if len(vy) == 0:
            out[y, x] = mean
            continue
        w = 1.0 / ((vy + top - y) ** 2 + (vx + left - x) ** 2)
        out[y, x] = (w[:, None] * image[vy + top, vx + left]).sum(0) / w.sum()
    return out


def psnr(a, b, where):
    mse = ((a[where] - b[where]) ** 2).mean()
    return 10 * np.log10(255.0 ** 2 / mse)


def main():
    tformer, model, seeds, images = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    cfg = json.load(open(os.path.join(model, "config.json")))
    processor = json.load(open(os.path.join(model, "preprocessor_config.json")))
    patch = cfg["patch_size"]
    totals = {"model": [], "mean_colour": [], "interpolation": []}
    with tempfile.TemporaryDirectory() as tmp:
        for path in images:
            scores = {k: [] for k in totals}
            for seed in range(seeds):
                dump = os.path.join(tmp, "dump.safetensors")
                subprocess.run([tformer, "image", "generate", path, "--model", model, "--seed", str(seed),
                                "--dump", dump, "-o", os.path.join(tmp, "out.png")], check=True,
                               stderr=subprocess.DEVNULL)
                t, _ = safetensors_np.read(dump)
                original = to_8bit(t["pixel_values"][0], processor)
                side = original.shape[0]
                hidden = pixel_mask(t["mask"][0], side, patch)
                if cfg.get("norm_pix_loss"):
                    sys.exit("norm_pix_loss models predict normalised patches: evaluate a pixel-space model")
                predicted = to_8bit(t["reconstruction"][0], processor)
                filled = original.copy()
                filled[hidden] = original[~hidden].mean(0)
                scores["model"].append(psnr(predicted, original, hidden))
                scores["mean_colour"].append(psnr(filled, original, hidden))
                scores["interpolation"].append(psnr(interpolate(original, hidden, patch), original, hidden))
            row = {k: round(float(np.mean(v)), 2) for k, v in scores.items()}
            for k in totals:
                totals[k] += scores[k]
            print(json.dumps({"image": os.path.basename(path), **row}))
    print(json.dumps({"image": "ALL", "images": len(images), "seeds": seeds,
                      **{k: round(float(np.mean(v)), 2) for k, v in totals.items()}}))


if __name__ == "__main__":
    main()
