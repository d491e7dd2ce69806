// PNG and JPEG files to RGB images, as transformers' image processors see
// them: image_utils.load_image opens a file with PIL, applies its EXIF
// orientation (ImageOps.exif_transpose) and converts it to RGB. These give
// the same bytes as np.asarray(exif_transpose(Image.open(f)).convert("RGB"))
// with PIL 9.4 (tests/test_image_io.cpp checks it on every case below):
//
//   - grey: replicated; grey + alpha, RGBA: the alpha dropped (convert("RGB")
//     drops it, it composites nothing); palette: the palette's colours, an
//     index past the palette the grey of its value (PIL's default palette);
//     tRNS ignored.
//   - 16-bit PNG: the high byte of each sample, except 16-bit grey without
//     alpha, which PIL opens as 32-bit integers ("I") and clips to 255.
//   - 1-, 2- and 4-bit PNG scaled to 0..255; Adam7 interlacing.
//   - JPEG through libjpeg's defaults (islow IDCT, fancy upsampling), as PIL
//     uses the same library: grey, YCbCr, RGB, CMYK and YCCK, baseline or
//     progressive. CMYK is read inverted (Adobe's convention: PIL assumes it
//     for every CMYK JPEG) and converted as PIL's cmyk2rgb does.
//   - EXIF orientations 2-8 from a JPEG's first APP1 "Exif" segment, a PNG's
//     eXIf chunk (the last one before the image data, else the last after
//     it), its "Raw profile type exif" text, or else its XMP text's
//     tiff:Orientation, as PIL's getexif looks for them (image/exif.h).
//
// Where PIL refuses a file these refuse it too: a file cut short (PIL's
// "image file is truncated": a JPEG's rows or a progressive JPEG's scans, a
// PNG's image data; a baseline JPEG that lacks only its EOI marker decodes
// when libjpeg has every row without it, as in PIL), a CRC error in a PNG
// chunk before the image data, an image of more than kMaxImagePixels. After
// the image data PIL checks nothing, and neither do these: a PNG's later
// chunks may be damaged or missing. They are more lenient than PIL on EXIF
// that is not a TIFF structure (ignored; PIL ignores it or raises, depending
// on other markers), and stricter in three places: an IDAT CRC error (PIL
// does not check it), an unknown critical PNG chunk (PIL skips it), and a
// JPEG of more than kMaxJpegScans scans (PIL has no limit).
//
// Every error is a tformer::Error whose message starts with the file's name.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "tformer/image/image.h"

namespace tformer::image {

// Scans a progressive JPEG may have: a real file has about ten; each scan
// revisits the whole image, so thousands of empty ones from a few bytes are
// a denial of service (libjpeg-turbo's own fuzzers stop at 500).
inline constexpr int kMaxJpegScans = 1000;

// Decodes a PNG or JPEG (told apart by their signatures) held in memory;
// `name` is the file's name for messages. `max_pixels` lowers the limit
// (the fuzz targets use it to stay fast).
Image decode_image(const uint8_t* data, size_t size, const std::string& name,
                   int64_t max_pixels = kMaxImagePixels);

// Decodes the file at `path` (memory-mapped).
Image load_image(const std::filesystem::path& path, int64_t max_pixels = kMaxImagePixels);

}  // namespace tformer::image
