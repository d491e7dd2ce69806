// PNG through libpng: decoding to RGB as PIL's PngImagePlugin and
// convert("RGB") do (image/decode.h lists what that means), and encoding.
#include <png.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <new>
#include <optional>
#include <string_view>
#include <vector>

#include "tformer/core/checked_size.h"
#include "tformer/core/error.h"
#include "tformer/image/codec.h"
#include "tformer/image/exif.h"

namespace tformer::image::detail {

namespace {

// Ancillary chunks (text, ICC profiles, eXIf) larger than this, compressed
// or not, are skipped; as many as kChunkCount text chunks are kept.
constexpr png_alloc_size_t kChunkBytes = 8 << 20;
constexpr png_uint_32 kChunkCount = 1000;
constexpr size_t kMessageBytes = 256;

// libpng's structures and everything its callbacks touch. The guarded steps
// (run_guarded) work on this object, which their caller owns: an error's
// longjmp leaves it intact, and its destructor frees libpng's memory.
struct PngReader {
  const uint8_t* data;
  size_t size;
  size_t pos = 0;
  png_structp png = nullptr;
  png_infop info = nullptr, end = nullptr;
  char message[kMessageBytes] = "";
  bool past_image = false;  // the rows are read: chunks now come after IDAT
  bool out_of_memory = false;
  // PIL's reader keeps the last eXIf it meets (libpng would keep the first).
  std::optional<std::vector<uint8_t>> exif_before, exif_after;

  PngReader(const uint8_t* d, size_t n) : data(d), size(n) {}
  ~PngReader() { png_destroy_read_struct(&png, &info, &end); }
};

struct PngWriter {
  std::vector<uint8_t> bytes;
  png_structp png = nullptr;
  png_infop info = nullptr;
  char message[kMessageBytes] = "";
  bool out_of_memory = false;
  ~PngWriter() { png_destroy_write_struct(&png, &info); }
};

// The error pointer of both structs is the `message` buffer.
void on_error(png_structp png, png_const_charp message) {
  char* buffer = static_cast<char*>(png_get_error_ptr(png));
  std::snprintf(buffer, kMessageBytes, "%s", message);
  png_longjmp(png, 1);
}

// libpng warns about damaged ancillary chunks it then skips, as PIL would.
void on_warning(png_structp, png_const_charp) {}

void read_bytes(png_structp png, png_bytep out, size_t n) {
  auto* r = static_cast<PngReader*>(png_get_io_ptr(png));
  if (n > r->size - r->pos) png_error(png, "the file is truncated (it ends inside a chunk)");
  std::memcpy(out, r->data + r->pos, n);
  r->pos += n;
}

// Sees every eXIf chunk (registered as unknown to libpng, which would keep
// only the first and only if its byte order looks right).
int read_exif_chunk(png_structp png, png_unknown_chunkp chunk) {
  if (std::memcmp(chunk->name, "eXIf", 4) != 0) return 0;  // libpng handles the rest
  auto* r = static_cast<PngReader*>(png_get_user_chunk_ptr(png));
  try {
    (r->past_image ? r->exif_after : r->exif_before).emplace(chunk->data, chunk->data + chunk->size);
  } catch (const std::bad_alloc&) {
    r->out_of_memory = true;
  }
  return r->out_of_memory ? -1 : 1;
}

void read_header(PngReader& r) {
  png_set_read_fn(r.png, &r, read_bytes);
  // PIL refuses a bad CRC in any chunk before the image data ...
  png_set_crc_action(r.png, PNG_CRC_DEFAULT, PNG_CRC_ERROR_QUIT);
  // ... and checks sizes against its pixel limit only (allocate_image).
  png_set_user_limits(r.png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
  png_set_chunk_malloc_max(r.png, kChunkBytes);
  png_set_chunk_cache_max(r.png, kChunkCount);
  png_set_benign_errors(r.png, 1);  // damaged ancillary chunks are warnings: skipped
  // zlib as PIL runs it: a 32 KiB window whatever the stream's header claims.
  png_set_option(r.png, PNG_MAXIMUM_INFLATE_WINDOW, PNG_OPTION_ON);
  static constexpr png_byte kExif[] = {'e', 'X', 'I', 'f', 0};
  png_set_keep_unknown_chunks(r.png, PNG_HANDLE_CHUNK_ALWAYS, kExif, 1);
  png_set_read_user_chunk_fn(r.png, &r, read_exif_chunk);
  png_read_info(r.png, r.info);
  // From the image data on PIL checks no CRC (zlib still checks its Adler-32).
  png_set_crc_action(r.png, PNG_CRC_QUIET_USE, PNG_CRC_QUIET_USE);
}

// How the rows reach PIL's RGB: libpng's transforms give RGB directly,
// except for palettes (PIL's lookup differs past the palette's end) and
// 16-bit grey (PIL clips it instead of taking the high byte).
enum class Layout { Rgb, PaletteIndex, Grey16 };

Layout layout_of(int color_type, int bit_depth) {
  if (color_type == PNG_COLOR_TYPE_PALETTE) return Layout::PaletteIndex;
  if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth == 16) return Layout::Grey16;
  return Layout::Rgb;
}

int bytes_per_pixel(Layout layout) { return layout == Layout::Rgb ? 3 : layout == Layout::Grey16 ? 2 : 1; }

// Sets libpng's transforms; returns its number of interlace passes.
int set_transforms(png_structp png, int color_type, int bit_depth) {
  const Layout layout = layout_of(color_type, bit_depth);
  if (layout == Layout::PaletteIndex) png_set_packing(png);  // one index a byte
  if (layout == Layout::Rgb) {
    if (bit_depth == 16) png_set_strip_16(png);  // the high byte, as PIL's RGB;16B
    if (bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (color_type & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(png);
    if (!(color_type & PNG_COLOR_MASK_COLOR)) png_set_gray_to_rgb(png);
  }
  return png_set_interlace_handling(png);
}

void read_rows(PngReader& r, uint8_t* rows, size_t row_bytes, png_uint_32 height, int passes) {
  for (int pass = 0; pass < passes; ++pass)
    for (png_uint_32 y = 0; y < height; ++y) png_read_row(r.png, rows + y * row_bytes, nullptr);
  r.past_image = true;
}

void to_rgb(const PngReader& r, Layout layout, const std::vector<uint8_t>& samples, Image& out) {
  const size_t pixels = static_cast<size_t>(out.width * out.height);
  uint8_t* dst = out.pixels.data();
  if (layout == Layout::Grey16) {  // PIL's mode "I" to RGB: clipped to 0..255
    for (size_t i = 0; i < pixels; ++i, dst += 3)
      dst[0] = dst[1] = dst[2] = samples[2 * i] ? 255 : samples[2 * i + 1];
    return;
  }
  // PIL's palette: its default grey ramp, overwritten by the PLTE entries.
  std::array<png_color, 256> palette;
  for (int i = 0; i < 256; ++i) palette[i] = {png_byte(i), png_byte(i), png_byte(i)};
  png_colorp plte = nullptr;
  int entries = 0;
  if (png_get_PLTE(r.png, r.info, &plte, &entries) != 0)
    std::memcpy(palette.data(), plte, sizeof(png_color) * std::min(entries, 256));
  for (size_t i = 0; i < pixels; ++i, dst += 3) {
    const png_color& c = palette[samples[i]];
    dst[0] = c.red, dst[1] = c.green, dst[2] = c.blue;
  }
}

// The text chunks PIL's getexif consults, the last of each key.
struct PngText {
  std::optional<std::string_view> raw_profile_exif, xmp;
};

PngText find_text(const PngReader& r, bool after_image_too) {
  PngText found;
  for (png_infop where : {r.info, after_image_too ? r.end : nullptr}) {
    png_textp text = nullptr;
    int n = 0;
    if (where == nullptr || png_get_text(r.png, where, &text, &n) == 0) continue;
    for (int i = 0; i < n; ++i) {
      const std::string_view key = text[i].key;
      const size_t length = text[i].compression >= PNG_ITXT_COMPRESSION_NONE ? text[i].itxt_length
                                                                             : text[i].text_length;
      if (key == "Raw profile type exif") found.raw_profile_exif.emplace(text[i].text, length);
      if (key == "XML:com.adobe.xmp") found.xmp.emplace(text[i].text, length);
    }
  }
  return found;
}

// PIL's getexif on a PNG: the eXIf before the image data; without one it
// reads the file to its end first, so the last eXIf after it, else the
// "Raw profile type exif" text; failing a tag there, XMP's tiff:Orientation.
int orientation_of(const PngReader& r) {
  const bool read_to_end = !r.exif_before;
  const PngText text = find_text(r, read_to_end);
  std::optional<int> orientation;
  if (const auto& exif = r.exif_before ? r.exif_before : r.exif_after) {
    orientation = exif_orientation(*exif);  // PIL puts "Exif\0\0" before the chunk, then takes it off
  } else if (text.raw_profile_exif) {
    if (auto block = raw_profile_exif(*text.raw_profile_exif)) orientation = exif_block_orientation(*block);
  }
  if (!orientation && text.xmp) orientation = xmp_orientation(*text.xmp);
  return orientation.value_or(1);
}

void write_bytes(png_structp png, png_bytep data, size_t n) {
  auto* w = static_cast<PngWriter*>(png_get_io_ptr(png));
  try {
    w->bytes.insert(w->bytes.end(), data, data + n);
  } catch (const std::bad_alloc&) {
    w->out_of_memory = true;
  }
  if (w->out_of_memory) png_error(png, "out of memory");
}

// The bytes of the file libpng may read. It trusts a chunk's length and
// allocates that much before reading (a 700-byte file's zTXt claiming 1.7 GB
// was allocated so), so every chunk must lie within the file: one before the
// image data that runs past the end is a file cut short, which PIL refuses
// too; one after the image data (where PIL checks nothing) ends what libpng
// is shown, as if the file stopped there.
size_t readable_bytes(const uint8_t* data, size_t size, const std::string& name) {
  bool image_seen = false;
  for (size_t at = 8; at + 8 <= size;) {
    const uint32_t length = uint32_t(data[at]) << 24 | uint32_t(data[at + 1]) << 16 | uint32_t(data[at + 2]) << 8 |
                            uint32_t(data[at + 3]);
    const std::string type(reinterpret_cast<const char*>(data + at + 4), 4);
    image_seen = image_seen || type == "IDAT";
    if (length > size - at - 8 || size - at - 8 - length < 4) {
      TF_CHECK(image_seen, name << ": PNG chunk '" << type << "' at byte " << at << " claims " << length
                                << " bytes, past the end of the file (" << size << " bytes): truncated or corrupt");
      return type == "IDAT" ? size : at;  // image data cut short: libpng reports it
    }
    if (type == "IEND") break;
    at += 12 + size_t(length);
  }
  return size;
}

}  // namespace

Decoded decode_png(const uint8_t* data, size_t size, const std::string& name, int64_t max_pixels) {
  PngReader r(data, readable_bytes(data, size, name));
  r.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, r.message, on_error, on_warning);
  TF_CHECK(r.png != nullptr, name << ": cannot set up libpng");
  r.info = png_create_info_struct(r.png);
  r.end = png_create_info_struct(r.png);
  TF_CHECK(r.info != nullptr && r.end != nullptr, name << ": cannot set up libpng");
  auto fail = [&] { TF_FAIL(name << ": PNG: " << (r.out_of_memory ? "out of memory" : r.message)); };

  if (!run_guarded(png_jmpbuf(r.png), [&] { read_header(r); })) fail();
  png_uint_32 width = 0, height = 0;
  int bit_depth = 0, color_type = 0;
  png_get_IHDR(r.png, r.info, &width, &height, &bit_depth, &color_type, nullptr, nullptr, nullptr);
  Decoded decoded{allocate_image(width, height, 3, max_pixels, name + ": IHDR"), 1};

  int passes = 0;
  if (!run_guarded(png_jmpbuf(r.png), [&] {
        passes = set_transforms(r.png, color_type, bit_depth);
        png_read_update_info(r.png, r.info);
      }))
    fail();
  const Layout layout = layout_of(color_type, bit_depth);
  const size_t row_bytes = static_cast<size_t>(width) * bytes_per_pixel(layout);
  TF_CHECK(png_get_rowbytes(r.png, r.info) == row_bytes,
           name << ": PNG: libpng gives rows of " << png_get_rowbytes(r.png, r.info) << " bytes, not " << row_bytes);
  std::vector<uint8_t> samples;  // what libpng gives when it is not RGB yet
  if (layout != Layout::Rgb) samples.resize(checked_nbytes(height, row_bytes, name));
  uint8_t* rows = layout == Layout::Rgb ? decoded.image.pixels.data() : samples.data();
  if (!run_guarded(png_jmpbuf(r.png), [&] { read_rows(r, rows, row_bytes, height, passes); })) fail();
  // What follows the image data may be damaged or missing: PIL stops there
  // and keeps what it has read, and so does this.
  (void)run_guarded(png_jmpbuf(r.png), [&] { png_read_end(r.png, r.end); });

  if (layout != Layout::Rgb) to_rgb(r, layout, samples, decoded.image);
  decoded.orientation = orientation_of(r);
  return decoded;
}

std::vector<uint8_t> encode_png(const Image& image, const std::string& name) {
  static constexpr int kColorTypes[] = {0, PNG_COLOR_TYPE_GRAY, 0, PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
  PngWriter w;
  w.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, w.message, on_error, on_warning);
  TF_CHECK(w.png != nullptr, name << ": cannot set up libpng");
  w.info = png_create_info_struct(w.png);
  TF_CHECK(w.info != nullptr, name << ": cannot set up libpng");
  const bool ok = run_guarded(png_jmpbuf(w.png), [&] {
    png_set_write_fn(w.png, &w, write_bytes, nullptr);
    png_set_IHDR(w.png, w.info, static_cast<png_uint_32>(image.width), static_cast<png_uint_32>(image.height), 8,
                 kColorTypes[image.channels], PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(w.png, w.info);
    for (int64_t y = 0; y < image.height; ++y) png_write_row(w.png, image.row(y));
    png_write_end(w.png, nullptr);
  });
  TF_CHECK(ok, name << ": PNG: " << w.message);
  return std::move(w.bytes);
}

}  // namespace tformer::image::detail
