#include "lambda_bridge/compression.hpp"

#include <brotli/encode.h>
#include <zlib.h>

#include <charconv>

#include "lambda_bridge/uri.hpp"

namespace lambda_bridge {
namespace {

using uri::trim;
using uri::starts_with_ci;

// The weight of one Accept-Encoding entry ("gzip;q=0.5" → 0.5); a malformed weight counts as 0 (not acceptable).
double weight(std::string_view params) {
  while (!params.empty()) {
    const auto semi = params.find(';');
    std::string_view p = trim(params.substr(0, semi));
    if (p.size() > 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
      p.remove_prefix(2);
      double q = 0;
      const auto r = std::from_chars(p.data(), p.data() + p.size(), q);
      if (r.ec != std::errc{} || r.ptr != p.data() + p.size() || q < 0 || q > 1) return 0;
      return q;
    }
    if (semi == std::string_view::npos) break;
    params.remove_prefix(semi + 1);
  }
  return 1;
}

bool gzip(std::string_view in, std::string& out) {
  z_stream zs{};
  // windowBits 15 + 16: a gzip wrapper, as Content-Encoding: gzip requires. Level 5: most of level 9's ratio on
  // JSON and HTML at a fraction of the time.
  if (deflateInit2(&zs, 5, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return false;
  out.resize(deflateBound(&zs, static_cast<uLong>(in.size())));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return rc == Z_STREAM_END;
}

bool brotli(std::string_view in, std::string& out) {
  std::size_t size = BrotliEncoderMaxCompressedSize(in.size());
  if (size == 0) size = in.size() + 1024;
  out.resize(size);
  // Quality 5: the usual choice for responses compressed on the fly (11 is for static assets).
  if (!BrotliEncoderCompress(5, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, in.size(),
                             reinterpret_cast<const uint8_t*>(in.data()), &size, reinterpret_cast<uint8_t*>(out.data()))) {
    return false;
  }
  out.resize(size);
  return true;
}

}  // namespace

std::string_view to_string(content_coding c) {
  switch (c) {
    case content_coding::gzip: return "gzip";
    case content_coding::br: return "br";
    case content_coding::identity: return "identity";
  }
  return "identity";
}

content_coding choose_coding(std::string_view accept_encoding) {
  double br = -1, gz = -1, any = -1;
  while (!accept_encoding.empty()) {
    const auto comma = accept_encoding.find(',');
    const std::string_view entry = trim(accept_encoding.substr(0, comma));
    const auto semi = entry.find(';');
    const std::string_view name = trim(entry.substr(0, semi));
    const double q = semi == std::string_view::npos ? 1.0 : weight(entry.substr(semi + 1));
    if (uri::iequals(name, "br")) br = q;
    else if (uri::iequals(name, "gzip") || uri::iequals(name, "x-gzip")) gz = q;
    else if (name == "*") any = q;
    if (comma == std::string_view::npos) break;
    accept_encoding.remove_prefix(comma + 1);
  }
  // "*" stands for every coding the client did not name.
  if (br < 0) br = any;
  if (gz < 0) gz = any;
  if (br > 0 && br >= gz) return content_coding::br;
  if (gz > 0) return content_coding::gzip;
  return content_coding::identity;
}

bool is_compressible(std::string_view content_type, std::string_view content_encoding, std::size_t size) {
  if (size < min_compressible_bytes) return false;
  content_encoding = trim(content_encoding);
  if (!content_encoding.empty() && !uri::iequals(content_encoding, "identity")) return false;
  const std::string_view media = trim(content_type.substr(0, content_type.find(';')));
  // Already-compressed formats gain nothing; an event stream must reach the client as it is written.
  if (starts_with_ci(media, "image/")) return uri::iequals(media, "image/svg+xml");
  static constexpr std::string_view incompressible[] = {
      "video/", "audio/", "font/woff", "text/event-stream", "application/zip", "application/gzip",
      "application/x-gzip", "application/zstd", "application/x-brotli", "application/pdf", "application/x-7z"};
  for (auto p : incompressible) {
    if (starts_with_ci(media, p)) return false;
  }
  return true;
}

bool compress(content_coding coding, std::string_view in, std::string& out) {
  switch (coding) {
    case content_coding::gzip: return gzip(in, out);
    case content_coding::br: return brotli(in, out);
    case content_coding::identity: out.assign(in); return true;
  }
  return false;
}

}  // namespace lambda_bridge
