// Response compression (AWS_LWA_ENABLE_COMPRESSION), buffered mode: gzip (zlib) or br (brotli), chosen by the
// event's Accept-Encoding, for bodies worth it — not images, audio or video, not event streams, not bodies the app
// already encoded, not small ones. Lambda bills and limits the result by its size, so a 5 MB JSON reply that
// compresses to 600 KB fits where it would not have. Pure: bytes in, bytes out.
//
// zlib and brotli are the reference implementations, kept by their authors and shipped by Debian as static
// libraries; writing either codec here would be neither smaller nor faster.
#pragma once

#include <string>
#include <string_view>

namespace lambda_bridge {

enum class content_coding { identity, gzip, br };

std::string_view to_string(content_coding c);

// The coding to use for a client's Accept-Encoding: the acceptable one (q > 0) with the highest weight among br
// and gzip, br on a tie; identity when neither is acceptable.
content_coding choose_coding(std::string_view accept_encoding);

// Bodies below this size are sent as they are: compression would save little and cost a header and CPU.
inline constexpr std::size_t min_compressible_bytes = 1024;

// Whether a reply of this Content-Type and Content-Encoding is worth compressing, known from its head alone.
bool is_compressible_type(std::string_view content_type, std::string_view content_encoding);

// Whether a reply is worth compressing, from its Content-Type, Content-Encoding and size.
bool is_compressible(std::string_view content_type, std::string_view content_encoding, std::size_t size);

// Incremental gzip or br: each piece of a reply is encoded as it arrives, so a reply is never held whole before it
// is compressed and its encoded size is known as it grows (issue 11: a 300 MB reply was held whole first).
class compressor {
 public:
  explicit compressor(content_coding coding);  // gzip or br
  ~compressor();
  compressor(const compressor&) = delete;
  compressor& operator=(const compressor&) = delete;

  // Appends what the codec produces for `in` to `out`; the last call has `last` set and flushes the stream. False
  // on a codec failure.
  bool feed(std::string_view in, std::string& out, bool last = false);

 private:
  content_coding coding_;
  void* state_ = nullptr;  // z_stream or BrotliEncoderState, kept out of this header
  bool failed_ = false;
};

// Compresses `in` into `out` (replaced). False on a codec failure (out unspecified).
bool compress(content_coding coding, std::string_view in, std::string& out);

}  // namespace lambda_bridge
