// The EXIF orientation, read as PIL 9.4 reads it for ImageOps.exif_transpose,
// and the transpose that undoes it. Only what the orientation needs is
// parsed: the TIFF header and IFD0's entries, each offset and size checked
// against the block (in 64 bits: a count times its type's size may pass 2^32).
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "tformer/image/image.h"

namespace tformer::image {

// What IFD0 says of tag 0x0112 in a TIFF structure (an EXIF block after its
// "Exif\0\0"): nullopt when PIL would find no such tag; else the orientation
// exif_transpose acts on, 2-8, or 1 for any other value or type. As in PIL:
// the last of duplicate entries counts; an entry of an unknown type or of no
// value is skipped; the first entry whose value lies past the block, or an
// entry cut short, ends IFD0 (the tags before it stay); the tag's first value
// counts, of any numeric type (6.0 and 12/2 are 6) but not BYTE, ASCII or
// UNDEFINED (PIL gives bytes or text there, which match no orientation).
// A block that is not a TIFF structure, which PIL refuses or ignores
// depending on the file, has no tag here. Never throws.
std::optional<int> exif_orientation(std::span<const uint8_t> tiff);

// An EXIF block as a JPEG's APP1 or PIL's PNG reader hold it: "Exif\0\0" and
// the TIFF structure, or anything else, taken as the TIFF structure itself
// (so a block without the six bytes is read as is, as PIL does).
std::optional<int> exif_block_orientation(std::span<const uint8_t> block);

// The orientation in an XMP packet, as PIL looks for it when EXIF has none:
// the first tiff:Orientation followed by `="` or `>` and a digit.
std::optional<int> xmp_orientation(std::string_view xmp);

// The EXIF block of a PNG's "Raw profile type exif" text (ImageMagick's
// way): hex digits after the text's third newline, whitespace between bytes
// ignored; nullopt when they are not hex (PIL raises there).
std::optional<std::vector<uint8_t>> raw_profile_exif(std::string_view text);

// The image exif_transpose returns for this orientation (2-8 as in EXIF:
// flips, rotations and transpositions; anything else leaves it as it is).
Image apply_orientation(Image image, int orientation);

}  // namespace tformer::image
