// JPEG through libjpeg-turbo, the library PIL's JpegImagePlugin runs, with
// the settings it runs it with: decoding to RGB (image/decode.h), encoding.
#include <cstdio>  // before jpeglib.h, which uses FILE
#include <cstdlib>
#include <cstring>

#include <jerror.h>
#include <jpeglib.h>

#include "tformer/core/checked_size.h"
#include "tformer/core/error.h"
#include "tformer/image/codec.h"
#include "tformer/image/decode.h"
#include "tformer/image/exif.h"

namespace tformer::image::detail {

namespace {

// What libjpeg's callbacks reach through client_data: where to jump on an
// error and its message (libjpeg's default error handler exits the process).
struct JpegErrors {
  jpeg_error_mgr manager{};
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX + 64] = "";
  // Until every row is out, the file ending is an error, as PIL's "image
  // file is truncated"; after it, when only the EOI marker is missing, PIL
  // keeps the image and so does this.
  bool eof_is_error = true;
};

[[noreturn]] void jump_with(JpegErrors& errors) { std::longjmp(errors.jump, 1); }

void on_error(j_common_ptr cinfo) {
  auto* errors = static_cast<JpegErrors*>(cinfo->client_data);
  (*cinfo->err->format_message)(cinfo, errors->message);
  jump_with(*errors);
}

// Warnings are about damaged data libjpeg works around (PIL silences them):
// all but the one that the data ran out are ignored.
void on_message(j_common_ptr cinfo, int level) {
  auto* errors = static_cast<JpegErrors*>(cinfo->client_data);
  if (level != -1 || cinfo->err->msg_code != JWRN_JPEG_EOF || !errors->eof_is_error) return;
  std::snprintf(errors->message, sizeof errors->message, "the file is truncated (libjpeg: premature end of data)");
  jump_with(*errors);
}

void on_progress(j_common_ptr cinfo) {
  auto* errors = static_cast<JpegErrors*>(cinfo->client_data);
  if (reinterpret_cast<j_decompress_ptr>(cinfo)->input_scan_number <= kMaxJpegScans) return;
  std::snprintf(errors->message, sizeof errors->message, "more than %d scans (kMaxJpegScans)", kMaxJpegScans);
  jump_with(*errors);
}

template <class Cinfo>  // jpeg_decompress_struct or jpeg_compress_struct
void set_up_errors(Cinfo& cinfo, JpegErrors& errors) {
  cinfo.err = jpeg_std_error(&errors.manager);
  errors.manager.error_exit = on_error;
  errors.manager.emit_message = on_message;
  cinfo.client_data = &errors;
}

struct JpegReader {
  jpeg_decompress_struct cinfo{};
  JpegErrors errors;
  jpeg_progress_mgr progress{};
  bool created = false;
  ~JpegReader() {
    if (created) jpeg_destroy_decompress(&cinfo);
  }
};

struct JpegWriter {
  jpeg_compress_struct cinfo{};
  JpegErrors errors;
  unsigned char* bytes = nullptr;  // jpeg_mem_dest's buffer, from malloc
  unsigned long size = 0;
  bool created = false;
  ~JpegWriter() {
    if (created) jpeg_destroy_compress(&cinfo);
    std::free(bytes);
  }
};

// PIL reads a file's first APP1 segment that starts "Exif\0" (its EXIF
// block), and only those before the first scan: all that jpeg_read_header
// has saved.
int exif_orientation_of(const jpeg_decompress_struct& cinfo) {
  for (jpeg_saved_marker_ptr m = cinfo.marker_list; m != nullptr; m = m->next) {
    if (m->marker != JPEG_APP0 + 1 || m->data_length < 5 || std::memcmp(m->data, "Exif\0", 5) != 0) continue;
    return exif_block_orientation({m->data, m->data_length}).value_or(1);
  }
  return 1;
}

// PIL reads every CMYK JPEG as Adobe's inverted CMYK (raw mode "CMYK;I")
// and converts it as cmyk2rgb does: each channel (255 - k) - (255 - k)·c/255
// with its rounding (MULDIV255). Inverted, 255 - k is the stored K.
void cmyk_to_rgb(const uint8_t* cmyk, uint8_t* rgb, int64_t width) {
  for (int64_t x = 0; x < width; ++x, cmyk += 4, rgb += 3) {
    const int not_k = cmyk[3];
    for (int c = 0; c < 3; ++c) {
      const int t = (255 - cmyk[c]) * not_k + 128;
      rgb[c] = static_cast<uint8_t>(not_k - (((t >> 8) + t) >> 8));
    }
  }
}

// jpeg_read_header's work: the markers up to the first scan.
void read_header(JpegReader& r, const uint8_t* data, size_t size) {
  jpeg_create_decompress(&r.cinfo);
  r.created = true;
  jpeg_mem_src(&r.cinfo, data, static_cast<unsigned long>(size));
  jpeg_save_markers(&r.cinfo, JPEG_APP0 + 1, 0xFFFF);
  jpeg_read_header(&r.cinfo, TRUE);
}

// Decodes every row into `out`; CMYK rows pass through `cmyk` (4 bytes a
// pixel). Returns having read all rows, or early when libjpeg gives none.
void read_rows(JpegReader& r, Image& out, uint8_t* cmyk) {
  jpeg_start_decompress(&r.cinfo);
  if (r.cinfo.output_width != out.width || r.cinfo.output_height != out.height ||
      r.cinfo.output_components != (cmyk ? 4 : 3))
    return;
  while (r.cinfo.output_scanline < r.cinfo.output_height) {
    const JDIMENSION y = r.cinfo.output_scanline;
    JSAMPROW row = cmyk ? cmyk : out.row(y);
    if (jpeg_read_scanlines(&r.cinfo, &row, 1) != 1) return;
    if (cmyk) cmyk_to_rgb(cmyk, out.row(y), out.width);
  }
  r.errors.eof_is_error = false;
  jpeg_finish_decompress(&r.cinfo);
}

}  // namespace

Decoded decode_jpeg(const uint8_t* data, size_t size, const std::string& name, int64_t max_pixels) {
  JpegReader r;
  set_up_errors(r.cinfo, r.errors);
  auto fail = [&] { TF_FAIL(name << ": JPEG: " << r.errors.message); };
  if (!run_guarded(r.errors.jump, [&] { read_header(r, data, size); })) fail();

  // PIL opens 1 component as "L", 3 as "RGB" (libjpeg converts YCbCr, or
  // takes RGB as it is), 4 as "CMYK" (libjpeg converts YCCK to CMYK first).
  const int components = r.cinfo.num_components;
  TF_CHECK(components == 1 || components == 3 || components == 4,
           name << ": JPEG: SOF: " << components << " components (PIL reads 1, 3 or 4)");
  Decoded decoded{allocate_image(r.cinfo.image_width, r.cinfo.image_height, 3, max_pixels, name + ": JPEG: SOF"),
                  exif_orientation_of(r.cinfo)};
  const bool cmyk = components == 4;
  r.cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
  r.progress.progress_monitor = on_progress;
  r.cinfo.progress = &r.progress;
  std::vector<uint8_t> cmyk_row(cmyk ? checked_nbytes(decoded.image.width, 4, name) : 0);

  if (!run_guarded(r.errors.jump, [&] { read_rows(r, decoded.image, cmyk ? cmyk_row.data() : nullptr); })) fail();
  TF_CHECK(r.cinfo.output_scanline == r.cinfo.output_height && r.cinfo.output_height == decoded.image.height,
           name << ": JPEG: libjpeg gave " << r.cinfo.output_scanline << " of " << decoded.image.height << " rows");
  return decoded;
}

std::vector<uint8_t> encode_jpeg(const Image& image, int quality, const std::string& name) {
  JpegWriter w;
  set_up_errors(w.cinfo, w.errors);
  const bool ok = run_guarded(w.errors.jump, [&] {
    jpeg_create_compress(&w.cinfo);
    w.created = true;
    jpeg_mem_dest(&w.cinfo, &w.bytes, &w.size);
    w.cinfo.image_width = static_cast<JDIMENSION>(image.width);
    w.cinfo.image_height = static_cast<JDIMENSION>(image.height);
    w.cinfo.input_components = image.channels;
    w.cinfo.in_color_space = image.channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&w.cinfo);  // 4:2:0 for colour, as PIL's default
    jpeg_set_quality(&w.cinfo, quality, TRUE);
    jpeg_start_compress(&w.cinfo, TRUE);
    for (int64_t y = 0; y < image.height; ++y) {
      JSAMPROW row = const_cast<uint8_t*>(image.row(y));  // libjpeg's API is not const; it only reads
      jpeg_write_scanlines(&w.cinfo, &row, 1);
    }
    jpeg_finish_compress(&w.cinfo);
  });
  TF_CHECK(ok, name << ": JPEG: " << w.errors.message);
  return std::vector<uint8_t>(w.bytes, w.bytes + w.size);
}

}  // namespace tformer::image::detail
