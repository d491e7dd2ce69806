#!/usr/bin/python3
"""Writes the expected outputs of Pillow's Image.resize and of transformers'
ViTImageProcessor on synthetic images, as references for tformer::image
(tests/test_image_resize.cpp, tests/test_vit_image_processor.cpp):

  tests/data/resize/cases.json               resize: one row per case
  tests/data/resize/vit_image_processor.json ViTImageProcessor: one object per case

Run with Debian's Pillow 9.4 and numpy 1.24: /usr/bin/python3 tools/make_resize_fixtures.py

The images are not stored: each is made from (width, height, channels,
pattern, seed) by image_bytes() below, which the C++ tests repeat. An output
is stored in full (hex) when it is at most FULL_BYTES bytes long, else as its
CRC-32 (zlib's), so the files stay small.

Needs no transformers: ViTImageProcessor.preprocess (4.43) is written out in
vit_pixel_values() with numpy, step for step (uint8 -> PIL resize on uint8 ->
astype(float64) * rescale_factor -> astype(float32) -> (x - mean) / std with
mean and std as float32 arrays -> channels first). When ../shared/fixtures/
vit-tiny is there, the script first checks that this reproduces its
expected pixel_values (made by transformers 4.43.4 itself) bit for bit.
"""
import json
import os
import struct
import zlib

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "tests", "data", "resize")
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
FULL_BYTES = 48
FILTERS = [0, 1, 2, 3, 4, 5]  # PIL's NEAREST, LANCZOS, BILINEAR, BICUBIC, BOX, HAMMING
MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}


def image_bytes(width, height, channels, pattern, seed):
    """The test image, as uint8 HWC. The C++ tests compute the same bytes."""
    count = width * height * channels
    if pattern == "noise":
        # A 32-bit LCG (Numerical Recipes' constants), one byte (its top 8 bits) per step.
        out = bytearray(count)
        state = seed
        for i in range(count):
            state = (state * 1664525 + 1013904223) & 0xFFFFFFFF
            out[i] = state >> 24
        return np.frombuffer(bytes(out), dtype=np.uint8).reshape(height, width, channels)
    y, x, c = np.meshgrid(np.arange(height), np.arange(width), np.arange(channels), indexing="ij")
    if pattern == "checker":
        # 0 and 255 side by side: the worst case for the filters' negative lobes (clipping).
        values = ((x + y + c + seed) % 2) * 255
    elif pattern == "gradient":
        # Smooth ramps that wrap around: long smooth runs with a hard edge where they wrap.
        values = (x * 251 // max(width - 1, 1) * (c + 1) + y * 247 // max(height - 1, 1) + seed) % 256
    else:
        raise ValueError(pattern)
    return values.astype(np.uint8)


def stored(data):
    """How an output is stored: its bytes in hex, or "crc32:<zlib's CRC-32 of them>" when longer."""
    return data.hex() if len(data) <= FULL_BYTES else "crc32:%08x" % zlib.crc32(data)


def pil_resize(pixels, width, height, resample):
    image = Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels, MODES[pixels.shape[2]])
    out = np.asarray(image.resize((width, height), resample))
    return out.reshape(height, width, pixels.shape[2])


def targets(width, height):
    """Sizes to resize a width x height image to: identity, 1-pixel sides, up, down (by integer, odd and
    large factors), a swapped aspect ratio."""
    sizes = [
        (width, height), (1, 1), (1, height), (width, 1), (width * 2 + 1, height * 3), (width + 1, height + 1),
        (max(1, width // 2), max(1, height // 3)), (max(1, round(width / 2.7)), max(1, round(height / 1.3))),
        (height, width), (width, height * 2),
    ]
    if width > 100:
        sizes += [(32, 32), (224, 224), (7, 5), (500, 17)]
    unique = []
    for size in sizes:
        if size not in unique:
            unique.append(size)
    return unique


def resize_cases():
    rows = []
    for width, height in [(1, 1), (2, 3), (7, 5), (37, 23), (451, 300)]:
        sources = [(channels, "noise", 1000 + channels) for channels in (1, 2, 3, 4)]
        sources += [(3, "checker", 0), (4, "gradient", 7)]
        for channels, pattern, seed in sources:
            pixels = image_bytes(width, height, channels, pattern, seed)
            for out_width, out_height in targets(width, height):
                for resample in FILTERS:
                    out = pil_resize(pixels, out_width, out_height, resample)
                    rows.append([width, height, channels, pattern, seed, resample, out_width, out_height,
                                 stored(out.tobytes())])
    # A photo-sized source shrunk by large factors (a filter support of hundreds of pixels).
    pixels = image_bytes(1203, 901, 3, "noise", 99)
    for out_width, out_height in [(224, 224), (32, 24), (1, 1), (97, 1)]:
        for resample in FILTERS:
            out = pil_resize(pixels, out_width, out_height, resample)
            rows.append([1203, 901, 3, "noise", 99, resample, out_width, out_height, stored(out.tobytes())])
    return rows


def vit_pixel_values(images, config):
    """transformers 4.43 ViTImageProcessor.preprocess on uint8 RGB arrays, numpy step for step."""
    size = config.get("size", {"height": 224, "width": 224})
    if isinstance(size, int):
        size = {"height": size, "width": size}
    elif isinstance(size, list):
        size = {"height": size[0], "width": size[1]}
    resample = config.get("resample", 2)
    factor = config.get("rescale_factor", 1 / 255)
    mean = config.get("image_mean", [0.5, 0.5, 0.5])
    std = config.get("image_std", [0.5, 0.5, 0.5])
    out = []
    for image in images:
        if config.get("do_resize", True):
            image = np.array(Image.fromarray(image).resize((size["width"], size["height"]), resample))
        if config.get("do_rescale", True):
            image = (image.astype(np.float64) * factor).astype(np.float32)
        if config.get("do_normalize", True):
            if image.dtype != np.float32:
                image = image.astype(np.float32)
            mean_array = np.array(mean if isinstance(mean, list) else [mean] * 3, dtype=image.dtype)
            std_array = np.array(std if isinstance(std, list) else [std] * 3, dtype=image.dtype)
            image = (image - mean_array) / std_array
        out.append(image.transpose(2, 0, 1))
    return np.stack(out).astype(np.float32)


def read_safetensors(path):
    with open(path, "rb") as f:
        header_size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(header_size))
        data = f.read()
    return {name: np.frombuffer(data[entry["data_offsets"][0]:entry["data_offsets"][1]], dtype=np.float32)
            .reshape(entry["shape"]) for name, entry in header.items() if name != "__metadata__"}


def check_against_transformers():
    """vit_pixel_values() against what transformers itself computed for the shared vit-tiny fixtures."""
    directory = os.path.join(SHARED, "fixtures", "vit-tiny")
    if not os.path.isdir(directory):
        print("no", directory, "- vit_pixel_values() not checked against transformers")
        return
    images = [np.array(Image.open(os.path.join(SHARED, "images", name)).convert("RGB"))
              for name in ("chelsea.png", "rocket.jpg")]
    for config_name, expected_name in [("preprocessor_config.json", "expected.safetensors"),
                                       ("preprocessor_config_224.json", "expected_224.safetensors")]:
        with open(os.path.join(directory, config_name)) as f:
            config = json.load(f)
        expected = read_safetensors(os.path.join(directory, expected_name))["pixel_values"]
        actual = vit_pixel_values(images, config)
        assert actual.shape == expected.shape and np.array_equal(actual, expected), config_name
        print("vit_pixel_values() matches transformers on", config_name)


# (config, images as (width, height, pattern, seed)). Heights of 1 or 3 are avoided: transformers would
# take such an array for channels-first.
VIT_CASES = [
    ("vit-tiny's config", {"image_processor_type": "ViTImageProcessor", "do_resize": True, "do_rescale": True,
                           "do_normalize": True, "size": {"height": 32, "width": 32}, "resample": 2,
                           "rescale_factor": 0.00392156862745098, "image_mean": [0.5, 0.5, 0.5],
                           "image_std": [0.5, 0.5, 0.5]},
     [(37, 23, "noise", 1), (451, 300, "gradient", 3)]),
    ("defaults: 224x224, bilinear, 1/255, mean = std = 0.5", {"image_processor_type": "ViTImageProcessor"},
     [(64, 48, "noise", 2)]),
    ("ImageNet mean and std, bicubic, not square", {"feature_extractor_type": "ViTFeatureExtractor",
                                                    "size": {"height": 20, "width": 24}, "resample": 3,
                                                    "image_mean": [0.485, 0.456, 0.406],
                                                    "image_std": [0.229, 0.224, 0.225]},
     [(64, 48, "noise", 4), (7, 5, "checker", 0)]),
    ("no rescale, one number for mean and std, nearest, size as an int",
     {"do_rescale": False, "image_mean": 127.5, "image_std": 64, "resample": 0, "size": 8},
     [(37, 23, "noise", 5)]),
    ("size as [height, width], lanczos, rescale 0.1, uneven mean and std",
     {"size": [10, 12], "resample": 1, "rescale_factor": 0.1, "image_mean": [0.1, 0.2, 0.3],
      "image_std": [0.3, 0.2, 0.1]},
     [(9, 7, "gradient", 1)]),
    ("no resize, no normalize", {"do_resize": False, "do_normalize": False}, [(9, 7, "noise", 6), (9, 7, "noise", 7)]),
    ("nothing but channels first", {"do_resize": False, "do_rescale": False, "do_normalize": False},
     [(5, 4, "noise", 8)]),
]


def vit_cases():
    cases = []
    for name, config, specs in VIT_CASES:
        images = [image_bytes(width, height, 3, pattern, seed) for width, height, pattern, seed in specs]
        values = vit_pixel_values(images, config)
        cases.append({"name": name, "config": config, "images": [list(spec) for spec in specs],
                      "shape": list(values.shape), "pixel_values": stored(values.astype("<f4").tobytes()),
                      "first_values": [float(v) for v in values.reshape(-1)[:8]]})
    return cases


def main():
    check_against_transformers()
    os.makedirs(OUT_DIR, exist_ok=True)
    rows = resize_cases()
    with open(os.path.join(OUT_DIR, "cases.json"), "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(row) for row in rows) + "\n]\n")
    with open(os.path.join(OUT_DIR, "vit_image_processor.json"), "w") as f:
        json.dump(vit_cases(), f, indent=1)
        f.write("\n")
    print(len(rows), "resize cases,", len(VIT_CASES), "ViTImageProcessor cases in", OUT_DIR)


if __name__ == "__main__":
    main()
