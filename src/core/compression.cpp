#include "lambda_bridge/core/compression.hpp"

#include <brotli/encode.h>
#include <zlib.h>

#include <charconv>

#include "lambda_bridge/util/text.hpp"
#include "lambda_bridge/util/text.hpp"

namespace lambda_bridge {
namespace {

using text::trim;
using text::starts_with_ci;

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

// Output is appended a block at a time: the codec writes into the string's spare room, which then keeps what it used.
constexpr std::size_t out_block = 64 * 1024;

z_stream* new_gzip() {
  auto* zs = new z_stream{};
  // windowBits 15 + 16: a gzip wrapper, as Content-Encoding: gzip requires. Level 5: most of level 9's ratio on
  // JSON and HTML at a fraction of the time.
  if (deflateInit2(zs, 5, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    delete zs;
    return nullptr;
  }
  return zs;
}

bool gzip_feed(z_stream& zs, std::string_view in, std::string& out, bool last) {
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  for (;;) {
    const std::size_t used = out.size();
    out.resize(used + out_block);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + used);
    zs.avail_out = static_cast<uInt>(out_block);
    const int rc = deflate(&zs, last ? Z_FINISH : Z_NO_FLUSH);
    out.resize(out.size() - zs.avail_out);
    if (rc == Z_STREAM_END) return true;
    if (rc != Z_OK && rc != Z_BUF_ERROR) return false;
    if (!last && zs.avail_in == 0 && zs.avail_out > 0) return true;
  }
}

BrotliEncoderState* new_brotli() {
  auto* st = BrotliEncoderCreateInstance(nullptr, nullptr, nullptr);
  if (st == nullptr) return nullptr;
  // Quality 5: the usual choice for responses compressed on the fly (11 is for static assets).
  BrotliEncoderSetParameter(st, BROTLI_PARAM_QUALITY, 5);
  BrotliEncoderSetParameter(st, BROTLI_PARAM_LGWIN, BROTLI_DEFAULT_WINDOW);
  return st;
}

bool brotli_feed(BrotliEncoderState* st, std::string_view in, std::string& out, bool last) {
  std::size_t avail_in = in.size();
  const auto* next_in = reinterpret_cast<const uint8_t*>(in.data());
  const auto op = last ? BROTLI_OPERATION_FINISH : BROTLI_OPERATION_PROCESS;
  for (;;) {
    const std::size_t used = out.size();
    out.resize(used + out_block);
    std::size_t avail_out = out_block;
    auto* next_out = reinterpret_cast<uint8_t*>(out.data() + used);
    const bool ok = BrotliEncoderCompressStream(st, op, &avail_in, &next_in, &avail_out, &next_out, nullptr);
    out.resize(out.size() - avail_out);
    if (!ok) return false;
    if (last ? BrotliEncoderIsFinished(st) : avail_in == 0 && !BrotliEncoderHasMoreOutput(st)) return true;
  }
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
    if (text::iequals(name, "br")) br = q;
    else if (text::iequals(name, "gzip") || text::iequals(name, "x-gzip")) gz = q;
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
  return size >= min_compressible_bytes && is_compressible_type(content_type, content_encoding);
}

bool is_compressible_type(std::string_view content_type, std::string_view content_encoding) {
  content_encoding = trim(content_encoding);
  if (!content_encoding.empty() && !text::iequals(content_encoding, "identity")) return false;
  const std::string_view media = trim(content_type.substr(0, content_type.find(';')));
  // Already-compressed formats gain nothing; an event stream must reach the client as it is written.
  if (starts_with_ci(media, "image/")) return text::iequals(media, "image/svg+xml");
  static constexpr std::string_view incompressible[] = {
      "video/", "audio/", "font/woff", "text/event-stream", "application/zip", "application/gzip",
      "application/x-gzip", "application/zstd", "application/x-brotli", "application/pdf", "application/x-7z"};
  for (auto p : incompressible) {
    if (starts_with_ci(media, p)) return false;
  }
  return true;
}

compressor::compressor(content_coding coding) : coding_(coding) {
  if (coding_ == content_coding::gzip) state_ = new_gzip();
  if (coding_ == content_coding::br) state_ = new_brotli();
  failed_ = state_ == nullptr && coding_ != content_coding::identity;
}

compressor::~compressor() {
  if (state_ == nullptr) return;
  if (coding_ == content_coding::gzip) {
    deflateEnd(static_cast<z_stream*>(state_));
    delete static_cast<z_stream*>(state_);
  } else {
    BrotliEncoderDestroyInstance(static_cast<BrotliEncoderState*>(state_));
  }
}

bool compressor::feed(std::string_view in, std::string& out, bool last) {
  if (failed_) return false;
  switch (coding_) {
    case content_coding::gzip: failed_ = !gzip_feed(*static_cast<z_stream*>(state_), in, out, last); break;
    case content_coding::br: failed_ = !brotli_feed(static_cast<BrotliEncoderState*>(state_), in, out, last); break;
    case content_coding::identity: out.append(in); break;
  }
  return !failed_;
}

bool compress(content_coding coding, std::string_view in, std::string& out) {
  out.clear();
  compressor c(coding);
  return c.feed(in, out, true);
}

}  // namespace lambda_bridge
