#!/usr/bin/python3
"""Writes the fixtures of tests/test_image_io.cpp into tests/data/images/.

Run from the checkout with Debian's Python (PIL 9.4, numpy):
    /usr/bin/python3 tools/make_image_fixtures.py

What the decoders must match is what transformers' image_utils.load_image
gives: np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB")).
This script asks PIL for that and writes:

- expected.json: for each photo of ../shared/images/ its size, the FNV-1a
  64-bit hash of its RGB bytes and a few pixels; for each small generated
  image (png/, jpeg/) its size and what it covers; for each input PIL refuses
  (refused/) PIL's message; and EXIF blocks (TIFF structures) with the
  orientation PIL reads from each.
- png/*.png, jpeg/*.jpg, refused/*: the generated images, made with PIL where
  it can write them and by hand (write_png below) where it cannot (16-bit
  colour, 1/2/4-bit grey, Adam7 interlacing, chunks in odd places).
- expected/<name>.rgb: PIL's RGB bytes of each generated image.

Everything is small (under 300 KB in all); the tests need no Python.
"""
import glob
import io
import json
import os
import shutil
import struct
import warnings
import zlib

import numpy as np
import PIL
from PIL import Image, ImageOps, PngImagePlugin

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "images")
OUT = os.path.join(ROOT, "tests", "data", "images")

# exif_transpose's table: orientation -> the transpose PIL applies.
TRANSPOSES = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
              4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
              6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_90}


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    return "%016x" % h


def load_like_transformers(data):
    """What transformers.image_utils.load_image returns, as an HWC uint8 array."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        image = Image.open(io.BytesIO(data))
        return np.asarray(ImageOps.exif_transpose(image).convert("RGB"))


# ------------------------------------------------------------ a PNG writer

def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def pack_rows(samples, bit_depth):
    """samples: H x W x C integers; one scanline (filter 0) per row."""
    rows = []
    for row in samples:
        flat = row.reshape(-1)
        if bit_depth == 16:
            data = flat.astype(">u2").tobytes()
        elif bit_depth == 8:
            data = flat.astype(np.uint8).tobytes()
        else:
            per_byte = 8 // bit_depth
            padded = np.zeros(-(-len(flat) // per_byte) * per_byte, dtype=np.uint8)
            padded[:len(flat)] = flat
            shifts = np.arange(per_byte - 1, -1, -1) * bit_depth
            data = (padded.reshape(-1, per_byte) << shifts).sum(axis=1).astype(np.uint8).tobytes()
        rows.append(b"\0" + data)
    return b"".join(rows)


def write_png(samples, bit_depth, color_type, interlace=False, before=b"", after=b"", plte=None, trns=None):
    """A PNG of these samples (H x W x C), chunks `before` and `after` the IDAT."""
    samples = np.asarray(samples)
    if samples.ndim == 2:
        samples = samples[:, :, None]
    h, w = samples.shape[:2]
    if interlace:
        raw = b"".join(pack_rows(samples[y0::dy, x0::dx], bit_depth)
                       for x0, y0, dx, dy in ADAM7 if x0 < w and y0 < h)
    else:
        raw = pack_rows(samples, bit_depth)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0,
                                                            int(interlace)))
    if plte is not None:
        out += chunk(b"PLTE", bytes(plte))
    if trns is not None:
        out += chunk(b"tRNS", bytes(trns))
    return out + before + chunk(b"IDAT", zlib.compress(raw)) + after + chunk(b"IEND", b"")


def pil_bytes(image, fmt, **options):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


# ------------------------------------------------------------ the images

def pattern(h, w, c, seed, top=255):
    """Gradients plus noise: every sample differs, edges are not flat."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([(x * 37 + y * 11 + k * 71) % (top + 1) for k in range(c)], axis=-1)
    noise = rng.integers(0, top // 8 + 1, size=(h, w, c))
    return np.clip(base + noise, 0, top).astype(np.uint16 if top > 255 else np.uint8)


def photo(w, h):
    """A small natural image: chelsea.png (a cat) cropped and reduced."""
    cat = Image.open(os.path.join(SHARED, "chelsea.png")).convert("RGB")
    return cat.crop((120, 40, 120 + 8 * w, 40 + 8 * h)).resize((w, h), Image.Resampling.BOX)


def exif_block(orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "tformer"  # Make: an entry stored outside the IFD, as cameras write
    return exif.tobytes(8)


def raw_profile_exif(tiff_with_header):
    """ImageMagick's way of storing EXIF in a PNG text chunk."""
    hexed = tiff_with_header.hex()
    lines = [hexed[i:i + 72] for i in range(0, len(hexed), 72)]
    return "\nexif\n%8d\n%s\n" % (len(tiff_with_header), "\n".join(lines))


def png_images():
    rgb, rgba = pattern(11, 19, 3, 1), pattern(11, 19, 4, 2)
    grey, grey16 = pattern(11, 19, 1, 3), pattern(11, 19, 1, 4, top=700)
    rgb16, rgba16, la16 = pattern(11, 19, 3, 5, 65535), pattern(11, 19, 4, 6, 65535), pattern(11, 19, 2, 7, 65535)
    rng = np.random.default_rng(8)
    palette = rng.integers(0, 256, size=(256, 3)).astype(np.uint8).tobytes()
    index = lambda top: rng.integers(0, top, size=(11, 19))  # noqa: E731
    yield "rgb8.png", "8-bit RGB (PIL)", pil_bytes(Image.fromarray(rgb), "PNG")
    yield "rgba8.png", "8-bit RGBA: alpha dropped (PIL)", pil_bytes(Image.fromarray(rgba), "PNG")
    yield "grey8.png", "8-bit grey (PIL)", pil_bytes(Image.fromarray(grey[:, :, 0]), "PNG")
    yield "grey_alpha8.png", "8-bit grey + alpha (PIL)", pil_bytes(Image.fromarray(pattern(11, 19, 2, 9), "LA"),
                                                                   "PNG")
    p = Image.fromarray(index(256).astype(np.uint8), "P")
    p.putpalette(palette)
    yield "palette8.png", "8-bit palette (PIL)", pil_bytes(p, "PNG")
    yield "palette_trns.png", "palette with tRNS (PIL)", pil_bytes(p, "PNG", transparency=bytes(range(0, 256, 2)))
    yield "palette_short.png", "indices past a 3-entry PLTE: PIL's grey ramp", write_png(
        index(8), 8, 3, plte=palette[:9])
    for bits in (1, 2, 4):
        yield "palette%d.png" % bits, "%d-bit palette" % bits, write_png(index(1 << bits), bits, 3,
                                                                         plte=palette[:3 << bits])
        yield "grey%d.png" % bits, "%d-bit grey" % bits, write_png(index(1 << bits), bits, 0)
    yield "grey16.png", "16-bit grey: PIL's mode I, clipped to 255", write_png(grey16, 16, 0)
    yield "rgb16.png", "16-bit RGB: high bytes", write_png(rgb16, 16, 2)
    yield "rgba16.png", "16-bit RGBA", write_png(rgba16, 16, 6)
    yield "grey_alpha16.png", "16-bit grey + alpha", write_png(la16, 16, 4)
    yield "grey_trns.png", "grey with tRNS (ignored)", write_png(grey, 8, 0, trns=b"\0\x40")
    yield "rgb_trns.png", "RGB with tRNS (ignored)", write_png(rgb, 8, 2, trns=b"\0\x10\0\x20\0\x30")
    yield "interlaced_rgb8.png", "Adam7, 8-bit RGB", write_png(rgb, 8, 2, interlace=True)
    yield "interlaced_palette4.png", "Adam7, 4-bit palette", write_png(index(16), 4, 3, interlace=True,
                                                                        plte=palette[:48])
    yield "interlaced_grey1.png", "Adam7, 1-bit grey", write_png(index(2), 1, 0, interlace=True)
    yield "interlaced_grey16.png", "Adam7, 16-bit grey", write_png(grey16, 16, 0, interlace=True)
    yield "interlaced_rgba16.png", "Adam7, 16-bit RGBA", write_png(rgba16, 16, 6, interlace=True)
    yield "interlaced_tiny.png", "Adam7, 3 x 2: passes left empty", write_png(rgb[:2, :3], 8, 2, interlace=True)
    yield "one_pixel.png", "1 x 1", write_png(rgb[:1, :1], 8, 2)
    image = Image.fromarray(rgb)
    for orientation in range(1, 9):
        yield "exif%d.png" % orientation, "eXIf orientation %d (PIL)" % orientation, pil_bytes(
            image, "PNG", exif=exif_block(orientation))
    tiff = exif_block(6)[6:]
    yield "exif_after_idat.png", "eXIf after IDAT: PIL reads it on load", write_png(rgb, 8, 2, after=chunk(
        b"eXIf", tiff))
    yield "exif_twice.png", "two eXIf chunks: PIL keeps the last", write_png(
        rgb, 8, 2, before=chunk(b"eXIf", exif_block(3)[6:]) + chunk(b"eXIf", exif_block(8)[6:]))
    yield "exif_before_and_after.png", "eXIf before IDAT wins over one after", write_png(
        rgb, 8, 2, before=chunk(b"eXIf", exif_block(2)[6:]), after=chunk(b"eXIf", exif_block(5)[6:]))
    info = PngImagePlugin.PngInfo()
    info.add_text("Raw profile type exif", raw_profile_exif(exif_block(7)), zip=True)
    yield "raw_profile_exif.png", "ImageMagick's zTXt 'Raw profile type exif'", pil_bytes(image, "PNG", pnginfo=info)
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", '<x:xmpmeta><rdf:Description tiff:Orientation="6"/></x:xmpmeta>')
    yield "xmp_attribute.png", "iTXt XMP tiff:Orientation=\"6\"", pil_bytes(image, "PNG", pnginfo=info)
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", "<x><tiff:Orientation>8</tiff:Orientation></x>", zip=True)
    yield "xmp_element.png", "compressed iTXt XMP <tiff:Orientation>8<", pil_bytes(image, "PNG", pnginfo=info)
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", '<x tiff:Orientation="3"/>')
    yield "xmp_and_exif.png", "EXIF orientation 1 hides XMP's 3", pil_bytes(image, "PNG", pnginfo=info,
                                                                           exif=exif_block(1))
    good = write_png(rgb, 8, 2)
    idat = good.index(b"IDAT")
    (n,) = struct.unpack(">I", good[idat - 4:idat])
    bad = bytearray(good)
    bad[idat + 4 + n] ^= 1
    yield "idat_bad_crc.png", "bad IDAT CRC: PIL does not check it", bytes(bad)
    yield "no_iend.png", "no IEND: PIL stops at the image data", good[:-12]


def jpeg_images():
    cat = photo(35, 21)
    yield "baseline420.jpg", "baseline, 4:2:0, q90 (PIL)", pil_bytes(cat, "JPEG", quality=90)
    yield "baseline422.jpg", "baseline, 4:2:2", pil_bytes(cat, "JPEG", quality=90, subsampling=1)
    yield "baseline444.jpg", "baseline, 4:4:4, optimized Huffman", pil_bytes(cat, "JPEG", quality=95, subsampling=0,
                                                                             optimize=True)
    yield "grey.jpg", "greyscale", pil_bytes(cat.convert("L"), "JPEG", quality=90)
    yield "progressive.jpg", "progressive, 4:2:0", pil_bytes(cat, "JPEG", quality=90, progressive=True)
    yield "progressive_grey.jpg", "progressive greyscale", pil_bytes(cat.convert("L"), "JPEG", progressive=True)
    cmyk = pil_bytes(cat.convert("CMYK"), "JPEG", quality=90)
    yield "cmyk.jpg", "Adobe CMYK (stored inverted): PIL's CMYK;I then convert", cmyk
    adobe = cmyk.index(b"Adobe")
    ycck = bytearray(cmyk)
    ycck[adobe + 11] = 2  # the Adobe segment's transform: YCCK
    yield "ycck.jpg", "YCCK (Adobe transform 2): libjpeg to CMYK, then as cmyk.jpg", bytes(ycck)
    plain = pil_bytes(cat, "JPEG", quality=90, subsampling=0)
    adobe_rgb = b"\xff\xee\x00\x0eAdobe\x00\x64\x00\x00\x00\x00\x00"  # transform 0: the components are R, G, B
    jfif_end = 4 + struct.unpack(">H", plain[4:6])[0]  # libjpeg reads JFIF as YCbCr whatever Adobe says
    yield "adobe_rgb.jpg", "3 components, Adobe transform 0: R, G, B", plain[:2] + adobe_rgb + plain[jfif_end:]
    # Without EOI PIL decodes a file only when libjpeg needs no byte past the
    # scan's last to give every row: so with this one, not with the cat's.
    noise = (np.random.default_rng(0).random((37, 29, 3)) * 255).astype(np.uint8)
    yield "no_eoi_noise.jpg", "baseline without EOI, every row there: PIL decodes it", pil_bytes(
        Image.fromarray(noise), "JPEG", quality=90)[:-2]
    for orientation in range(1, 9):
        yield "exif%d.jpg" % orientation, "APP1 Exif orientation %d" % orientation, pil_bytes(
            cat, "JPEG", quality=90, exif=exif_block(orientation))
    yield "exif_big_endian.jpg", "Motorola-order EXIF, orientation 5", plain[:2] + app1(big_endian_tiff(5)) + plain[2:]
    yield "exif_second_app1.jpg", "two APP1 Exif: PIL reads the first (6)", (
        plain[:2] + app1(big_endian_tiff(6)) + app1(big_endian_tiff(8)) + plain[2:])
    yield "exif_ifd_outside.jpg", "EXIF whose IFD offset lies outside: no orientation", (
        plain[:2] + app1(b"MM\0\x2a\x7f\xff\xff\xf0") + plain[2:])
    yield "exif_not_tiff.jpg", "APP1 'Exif' that is not TIFF: no orientation", plain[:2] + app1(b"garbage!") + plain[2:]


def app1(tiff):
    data = b"Exif\0\0" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(data) + 2) + data


def ifd(entries, byte_order=">", ifd_offset=8, extra=b""):
    """A TIFF structure: header, IFD0 of (tag, type, count, 4 value bytes), `extra` after it."""
    head = (b"MM\0\x2a" if byte_order == ">" else b"II\x2a\0") + struct.pack(byte_order + "I", ifd_offset)
    body = struct.pack(byte_order + "H", len(entries))
    for tag, kind, count, value in entries:
        body += struct.pack(byte_order + "HHI", tag, kind, count) + value
    return head + b"\0" * (ifd_offset - 8) + body + struct.pack(byte_order + "I", 0) + extra


def big_endian_tiff(orientation):
    return ifd([(0x0112, 3, 1, struct.pack(">HH", orientation, 0))])


def refused_images():
    """Inputs PIL refuses; the decoders must refuse them too."""
    cat = photo(35, 21)
    baseline, progressive = pil_bytes(cat, "JPEG", quality=90), pil_bytes(cat, "JPEG", quality=90, progressive=True)
    png = pil_bytes(cat, "PNG")
    yield "truncated_baseline.jpg", baseline[:len(baseline) // 2]
    yield "truncated_progressive.jpg", progressive[:len(progressive) * 3 // 4]
    yield "progressive_no_eoi.jpg", progressive[:-2]
    yield "no_eoi.jpg", baseline[:-2]  # libjpeg reads past the scan's end for the last row
    yield "truncated.png", png[:len(png) // 2]
    bad = bytearray(png)
    bad[29] ^= 1  # IHDR's CRC
    yield "ihdr_bad_crc.png", bytes(bad)
    idat = png.index(b"IDAT")
    text = chunk(b"tEXt", b"Comment\0tformer")
    yield "text_bad_crc.png", png[:idat - 4] + text[:-1] + bytes([text[-1] ^ 1]) + png[idat - 4:]
    bad = bytearray(png)
    bad[idat + 9] ^= 0x55
    yield "idat_corrupt.png", bytes(bad)


# ------------------------------------------------------------ EXIF blocks

def pil_orientation(tiff):
    """What exif_transpose makes of this TIFF structure in an EXIF block."""
    exif = Image.Exif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exif.load(b"Exif\0\0" + tiff)
            present = 0x0112 in exif
            transpose = TRANSPOSES.get(exif.get(0x0112))
    except Exception as e:  # PIL raises: the decoders ignore such a block
        return {"present": False, "orientation": 1, "pil_raises": type(e).__name__}
    return {"present": present, "orientation": [k for k, v in TRANSPOSES.items() if v == transpose][0]
            if transpose is not None else 1}


def exif_cases():
    s = lambda v, o=">": struct.pack(o + "HH", v, 0)  # noqa: E731  a SHORT, padded
    cases = [("empty", b""), ("shorter than a header", b"MM\0\x2a\0\0"), ("not TIFF", b"JFIF\0\0\0\x08"),
             ("BigTIFF header", b"II\x2b\0\x08\0\0\0"), ("MM*\\0 prefix", b"MM\x2a\0\0\0\0\x08\0\x01" +
                                                          struct.pack(">HHI", 0x0112, 3, 1) + s(6) + b"\0" * 4)]
    for o in range(0, 10):
        cases.append(("SHORT %d" % o, ifd([(0x0112, 3, 1, s(o))])))
    cases.append(("little-endian SHORT 6", ifd([(0x0112, 3, 1, s(6, "<"))], "<")))
    cases.append(("II\\0* prefix", b"II\0\x2a" + ifd([(0x0112, 3, 1, s(6, "<"))], "<")[4:]))
    cases.append(("MM\\0+ prefix", b"MM\0\x2b" + ifd([(0x0112, 3, 1, s(6))])[4:]))
    typed = [("LONG", 4, 1, struct.pack(">I", 6)), ("SSHORT", 8, 1, s(8)), ("SLONG -6", 9, 1, struct.pack(">i", -6)),
             ("SBYTE", 6, 1, b"\x03\0\0\0"), ("BYTE", 1, 1, b"\x06\0\0\0"), ("ASCII", 2, 2, b"6\0\0\0"),
             ("UNDEFINED", 7, 1, b"\x06\0\0\0"), ("FLOAT 6.0", 11, 1, struct.pack(">f", 6.0)),
             ("FLOAT 6.5", 11, 1, struct.pack(">f", 6.5)), ("IFD", 13, 1, struct.pack(">I", 2)),
             ("unknown type", 99, 1, s(6)), ("type 0", 0, 1, s(6)), ("count 0", 3, 0, s(6)),
             ("count 2: the first", 3, 2, s(3)[:2] + s(8)[:2])]
    for name, kind, count, value in typed:
        cases.append((name, ifd([(0x0112, kind, count, value)])))
    out_of_line = lambda kind, data: ifd([(0x0112, kind, len(data) // {5: 8, 10: 8, 12: 8, 16: 8, 3: 2}[kind],  # noqa
                                           struct.pack(">I", 26))], extra=data)
    cases += [("RATIONAL 6/1", out_of_line(5, struct.pack(">II", 6, 1))),
              ("RATIONAL 12/2", out_of_line(5, struct.pack(">II", 12, 2))),
              ("RATIONAL 6/0", out_of_line(5, struct.pack(">II", 6, 0))),
              ("RATIONAL 13/2", out_of_line(5, struct.pack(">II", 13, 2))),
              ("SRATIONAL -8/-1", out_of_line(10, struct.pack(">ii", -8, -1))),
              ("DOUBLE 7.0", out_of_line(12, struct.pack(">d", 7.0))),
              ("LONG8 4", out_of_line(16, struct.pack(">Q", 4))),
              ("3 SHORTs stored outside", out_of_line(3, s(5)[:2] + s(1)[:2] + s(1)[:2])),
              ("outside value past the end", ifd([(0x0112, 5, 1, struct.pack(">I", 4000))])),
              ("IFD offset past the end", ifd([(0x0112, 3, 1, s(6))])[:4] + struct.pack(">I", 1 << 31) +
               ifd([(0x0112, 3, 1, s(6))])[8:]),
              ("IFD offset 0: the header read as a count", ifd([(0x0112, 3, 1, s(6))], ifd_offset=8)[:4] +
               b"\0\0\0\0" + ifd([(0x0112, 3, 1, s(6))])[8:]),
              ("IFD after padding", ifd([(0x0112, 3, 1, s(2))], ifd_offset=20)),
              ("duplicate: the last", ifd([(0x0112, 3, 1, s(3)), (0x0112, 3, 1, s(4))])),
              ("duplicate with count 0 keeps the first", ifd([(0x0112, 3, 1, s(3)), (0x0112, 3, 0, s(4))])),
              ("a bad entry before it stops the IFD", ifd([(0x010F, 2, 20, struct.pack(">I", 9000)),
                                                          (0x0112, 3, 1, s(6))])),
              ("a bad entry after it", ifd([(0x0112, 3, 1, s(6)), (0x010F, 2, 20, struct.pack(">I", 9000))])),
              ("more entries counted than present", ifd([(0x0112, 3, 1, s(7))])[:8] + b"\0\x09" +
               ifd([(0x0112, 3, 1, s(7))])[10:22]),
              ("entry cut short", ifd([(0x0112, 3, 1, s(7))])[:18]),
              ("count whose size wraps 32 bits", ifd([(0x010F, 4, 0x40000001, struct.pack(">I", 8)),
                                                     (0x0112, 3, 1, s(6))]))]
    rng = np.random.default_rng(12)
    seeds = [c[1] for c in cases if len(c[1]) >= 8]
    for i in range(120):  # mutations, so that the parser's every branch meets PIL's answer
        blob = bytearray(seeds[rng.integers(len(seeds))])
        for _ in range(rng.integers(1, 4)):
            at = rng.integers(len(blob)) if rng.random() < 0.1 else rng.integers(4, len(blob))  # mostly past the magic
            blob[at] = rng.integers(256) if rng.random() < 0.7 else rng.choice([0, 1, 0xff])
        if rng.random() < 0.2:
            blob = blob[:rng.integers(len(blob) + 1)]
        cases.append(("mutation %d" % i, bytes(blob)))
    return [dict(name=name, tiff=tiff.hex(), **pil_orientation(tiff)) for name, tiff in cases]


# ------------------------------------------------------------ writing

def main():
    shutil.rmtree(OUT, ignore_errors=True)
    for folder in ("png", "jpeg", "refused", "expected"):
        os.makedirs(os.path.join(OUT, folder))
    expected = {"made_with": "PIL %s, numpy %s: tools/make_image_fixtures.py" % (PIL.__version__, np.__version__),
                "shared": [], "generated": [], "refused": [], "exif": exif_cases()}
    for path in sorted(glob.glob(os.path.join(SHARED, "*"))):
        rgb = load_like_transformers(open(path, "rb").read())
        h, w = rgb.shape[:2]
        points = [(0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1), (w // 2, h // 2), (w // 3, h // 5), (w // 7, h // 2)]
        expected["shared"].append({"file": os.path.basename(path), "width": w, "height": h,
                                   "fnv1a64": fnv1a64(rgb.tobytes()),
                                   "pixels": [[x, y] + rgb[y, x].tolist() for x, y in points]})
    for folder, images in (("png", png_images()), ("jpeg", jpeg_images())):
        for name, what, data in images:
            try:
                rgb = load_like_transformers(data)
            except Exception as e:
                raise SystemExit("PIL refuses %s/%s: %s" % (folder, name, e))
            with open(os.path.join(OUT, folder, name), "wb") as f:
                f.write(data)
            with open(os.path.join(OUT, "expected", name + ".rgb"), "wb") as f:
                f.write(rgb.tobytes())
            expected["generated"].append({"file": folder + "/" + name, "what": what,
                                          "width": rgb.shape[1], "height": rgb.shape[0]})
    for name, data in refused_images():
        try:
            load_like_transformers(data)
            raise SystemExit("PIL decodes refused/" + name)
        except (OSError, SyntaxError) as e:
            message = "%s: %s" % (type(e).__name__, str(e).split(" <")[0])
        with open(os.path.join(OUT, "refused", name), "wb") as f:
            f.write(data)
        expected["refused"].append({"file": "refused/" + name, "pil": message})
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
