#include "request_builder.hpp"

#include <rapidjson/internal/dtoa.h>

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>

#include "lambda_bridge/core/error_types.hpp"
#include "lambda_bridge/util/base64.hpp"
#include "lambda_bridge/util/frame_cache.hpp"
#include "lambda_bridge/util/json_text.hpp"
#include "lambda_bridge/util/text.hpp"
#include "lambda_bridge/util/uri.hpp"

namespace lambda_bridge::events {

namespace {

// In front of each parse-stack block: its size (what the caller asked for), so that Free knows where it came from.
constexpr std::size_t stack_header = parse_stack_allocator::header_bytes;
bool from_cache(std::size_t size) { return size + stack_header <= frame_cache::largest_class; }
std::size_t& stored_size(void* pointer) {
  return *reinterpret_cast<std::size_t*>(static_cast<char*>(pointer) - stack_header);
}

}  // namespace

void* parse_stack_allocator::Malloc(std::size_t size) {
  if (size == 0) return nullptr;
  void* base = from_cache(size) ? frame_cache::allocate(size + stack_header) : std::malloc(size + stack_header);
  if (base == nullptr) throw std::bad_alloc();
  void* pointer = static_cast<char*>(base) + stack_header;
  stored_size(pointer) = size;
  return pointer;
}

void* parse_stack_allocator::Realloc(void* original, std::size_t original_size, std::size_t new_size) {
  if (original == nullptr) return Malloc(new_size);
  if (new_size == 0) {
    Free(original);
    return nullptr;
  }
  const std::size_t size = stored_size(original);
  if (new_size <= size) return original;  // a stack shrinking to fit keeps its block
  if (!from_cache(size) && !from_cache(new_size)) {
    void* base = std::realloc(static_cast<char*>(original) - stack_header, new_size + stack_header);
    if (base == nullptr) throw std::bad_alloc();
    void* pointer = static_cast<char*>(base) + stack_header;
    stored_size(pointer) = new_size;
    return pointer;
  }
  void* moved = Malloc(new_size);
  std::memcpy(moved, original, std::min(original_size, size));
  Free(original);
  return moved;
}

void parse_stack_allocator::Free(void* pointer) {
  if (pointer == nullptr) return;
  const std::size_t size = stored_size(pointer);
  void* base = static_cast<char*>(pointer) - stack_header;
  if (from_cache(size)) {
    frame_cache::deallocate(base, size + stack_header);
  } else {
    std::free(base);
  }
}

namespace {

// The shortest body parsed around: a chosen bound, a few times an event's usual other fields, so that what the parse
// skips outweighs the copy of the rest (which the half-the-event rule also bounds).
constexpr std::size_t min_body_parsed_aside = 4096;
// The largest copy kept for the next event (event_text::~event_text).
constexpr std::size_t max_aside_kept = 64 * 1024;
// Where the short escapes are decoded without vector steps (arm64), a body is parsed around only when they are few,
// one in 64 bytes or fewer: a JSON document's escaped quotes, every few bytes, decode faster in RapidJSON's parse
// (docs/performance.md, "Escaped bodies").
constexpr std::size_t min_bytes_per_escape_found_alone = 64;
// The member whose string may be left out: the body of every HTTP source (their set_body).
constexpr std::string_view body_member = "body";

}  // namespace

event_text::event_text(std::string& bytes, const event_scan& scan, std::string& aside)
    : bytes_(bytes), aside_(aside), has_backslash_(scan.has_backslash) {
  const std::size_t size = scan.plain_string_size;
  const bool escapes_too_dense = !json_text::decode_short_escapes_in_steps() &&
                                 scan.plain_string_escapes > size / min_bytes_per_escape_found_alone;
  if (size < min_body_parsed_aside || size * 2 < bytes_.size() || escapes_too_dense) {
    parse_in_place();
    return;
  }
  body_offset_ = scan.plain_string_offset;
  body_size_ = size;
  body_escapes_ = scan.plain_string_escapes;
  aside_.assign(bytes_, 0, body_offset_);
  aside_.append(bytes_, body_offset_ + body_size_);
  aside_mode_ = true;
}

event_text::~event_text() {
  if (aside_.capacity() > max_aside_kept) std::string().swap(aside_);
}

bool event_text::parse(json_document& doc) {
  doc.ParseInsitu<rapidjson::kParseIterativeFlag>(parse_buffer());
  if (aside_mode_ && !doc.HasParseError() && put_back_body(doc)) return true;
  if (aside_mode_) {
    // The long string was not the body, or the rest is not JSON: the whole event is parsed where it lies, so that
    // RapidJSON reads it, and reports an error, as it would have without the copy.
    parse_in_place();
    doc.ParseInsitu<rapidjson::kParseIterativeFlag>(parse_buffer());
  }
  return false;
}

void event_text::parse_in_place() {
  aside_mode_ = false;
  if (has_backslash_ && !has_original_) {
    original_ = bytes_;
    has_original_ = true;
  }
}

bool event_text::put_back_body(json_value& event) {
  if (!aside_mode_ || !event.IsObject()) return false;
  const auto it = event.FindMember(rapidjson::StringRef(body_member.data(), body_member.size()));
  // The emptied string is the one whose text begins where the body's did: RapidJSON points an in-place string at
  // its first byte. The first "body" only, as the sources read it.
  if (it == event.MemberEnd() || !it->value.IsString() || it->value.GetStringLength() != 0 ||
      it->value.GetString() != aside_.data() + body_offset_) {
    return false;
  }
  // A body with escapes is decoded by finish_body, as text; one that the event calls base64 is parsed in place, so
  // that base64 is read from the decoded text, as before.
  if (body_escapes_ != 0) {
    for (const std::string_view flag : {std::string_view("isBase64Encoded"), std::string_view("is_base64_encoded")}) {
      const auto f = event.FindMember(rapidjson::StringRef(flag.data(), flag.size()));
      if (f != event.MemberEnd() && f->value.IsTrue()) return false;
    }
  }
  it->value.SetString(rapidjson::StringRef(bytes_.data() + body_offset_, static_cast<rapidjson::SizeType>(body_size_)));
  return true;
}

namespace {

void restore_quotes(std::string& s) {
  char* p = s.data();
  char* const end = p + s.size();
  while ((p = static_cast<char*>(std::memchr(p, '\0', static_cast<std::size_t>(end - p)))) != nullptr) *p++ = '"';
}

}  // namespace

std::string event_text::take_original() {
  if (aside_mode_) return std::move(bytes_);  // the parse read the copy: the bytes are as they arrived
  if (has_original_) return std::move(original_);
  restore_quotes(bytes_);
  return std::move(bytes_);
}

const std::string* event_text::original() {
  if (aside_mode_) return changed_ ? nullptr : &bytes_;
  if (!has_original_) {
    if (changed_) return nullptr;
    original_ = bytes_;
    restore_quotes(original_);
    has_original_ = true;
  }
  return &original_;
}

const json_value* find(const json_value& obj, std::string_view name) {
  if (!obj.IsObject()) return nullptr;
  const auto it = obj.FindMember(rapidjson::StringRef(name.data(), name.size()));
  if (it == obj.MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

bool has_string(const json_value& obj, std::string_view name, std::string_view text) {
  const json_value* v = find(obj, name);
  return v != nullptr && v->IsString() && view(*v) == text;
}

void append_number(std::string& out, const json_value& v) {
  char buf[32];
  // Doubles through RapidJSON's Grisu2 (shortest round trip), as its Writer does: std::to_chars for double pulls
  // about 160 KB of tables into the static binary.
  const char* end = v.IsUint64()  ? std::to_chars(buf, buf + sizeof buf, v.GetUint64()).ptr
                    : v.IsInt64() ? std::to_chars(buf, buf + sizeof buf, v.GetInt64()).ptr
                                  : rapidjson::internal::dtoa(v.GetDouble(), buf);
  out.append(buf, static_cast<std::size_t>(end - buf));
}

std::optional<std::string_view> request_builder::scalar_text(const json_value& v, const value_position& at) {
  if (v.IsNumber()) return number_as_written(v, at);
  if (v.IsTrue()) return "true";
  if (v.IsFalse()) return "false";
  return std::nullopt;
}

// The parsed event keeps a number's value, not its text, and re-serialising changes what was written (1.50 is read
// as 1.5, 1e3 as 1000.0, a 25-digit id loses digits). RapidJSON's kParseNumbersAsStringsFlag keeps the text, but
// on the main parse it would make every number a string: requestContext's numbers would reach the app quoted, and
// a number where httpMethod belongs would pass for a method. So the event is parsed a second time with that flag,
// only when a number stands where a string belongs, and the same position is read there.
std::string_view request_builder::number_as_written(const json_value& v, const value_position& at) {
  if (!numbers_as_written_) {
    numbers_as_written_ = std::make_unique<json_document>();
    // The original is copied (the main parse holds the event's bytes), and only ever here.
    if (const std::string* original = text_.original()) {
      numbers_as_written_->Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseNumbersAsStringsFlag>(
          original->c_str());
    }
  }
  const json_document& doc = *numbers_as_written_;
  const json_value* map = doc.HasParseError() || !doc.IsObject() ? nullptr : find(doc, at.field);
  if (map != nullptr && map->IsObject() && at.member < map->MemberCount()) {
    const json_value* written = &(map->MemberBegin() + static_cast<std::ptrdiff_t>(at.member))->value;
    if (at.item != value_position::no_item) {
      written = written->IsArray() && at.item < written->Size()
                    ? &(*written)[static_cast<rapidjson::SizeType>(at.item)]
                    : nullptr;
    }
    if (written != nullptr && written->IsString()) return view(*written);
  }
  // Never expected (the same text, parsed the same way): the number as the main parse read it.
  number_text_.clear();
  append_number(number_text_, v);
  return number_text_;
}

void request_builder::type_error(std::string_view field, std::string_view expected) {
  invalid("event field '" + std::string(field) + "' must be " + std::string(expected));
}

void request_builder::invalid(std::string message) {
  if (!error) error = failure{error_types::invalid_event, std::move(message)};
}

std::optional<std::string_view> request_builder::string_member(const json_value& obj, std::string_view name,
                                                               std::string_view field) {
  const json_value* v = find(obj, name);
  if (v == nullptr) return std::nullopt;
  if (!v->IsString()) {
    type_error(field, "a string");
    return std::nullopt;
  }
  return view(*v);
}

const json_value* request_builder::object_member(const json_value& obj, std::string_view name,
                                                 std::string_view field) {
  const json_value* v = find(obj, name);
  if (v != nullptr && !v->IsObject()) {
    type_error(field, "an object");
    return nullptr;
  }
  return v;
}

bool request_builder::bool_member(const json_value& obj, std::string_view name, std::string_view field) {
  const json_value* v = find(obj, name);
  if (v == nullptr) return false;
  if (v->IsBool()) return v->GetBool();
  // Hand-written events sometimes quote it.
  if (v->IsString() && (view(*v) == "true" || view(*v) == "false")) return view(*v) == "true";
  type_error(field, "a boolean");
  return false;
}

void request_builder::set_method(std::optional<std::string_view> method, std::string_view field) {
  if (!method) {
    type_error(field, "a string (the HTTP method)");
    return;
  }
  if (!uri::is_token(*method)) {
    invalid("event field '" + std::string(field) + "' is not a valid HTTP method (an RFC 9110 token)");
    return;
  }
  req_.method.assign(*method);
  out_.shape.head = *method == "HEAD";
}

void request_builder::set_path(std::string_view path) {
  if (path.empty()) path = "/";
  path = uri::strip_prefix_segment(path, opts_.remove_base_path);
  req_.target.clear();
  if (path.front() != '/') req_.target.push_back('/');
  uri::append_path(req_.target, path);
}

// Query separators: '?' before the first pair, '&' between pairs.
void request_builder::begin_pair() {
  req_.target.push_back(query_started_ ? '&' : '?');
  query_started_ = true;
}

void request_builder::add_pairs(const json_value* map, std::string_view field, query_encoding encoding) {
  const auto append = encoding == query_encoding::as_sent ? uri::append_raw_query : uri::append_query_component;
  for_each_value(map, field, [&](std::string_view k, std::string_view v) {
    begin_pair();
    append(req_.target, k);
    req_.target.push_back('=');
    append(req_.target, v);
  });
}

void request_builder::add_raw_query(std::string_view query) {
  if (query.empty()) return;
  begin_pair();
  uri::append_raw_query(req_.target, query);
}

header request_builder::make_header(std::string_view name, std::string_view v) {
  auto& spare = scratch_.spare_headers;
  if (spare.empty()) return {std::string(name), std::string(v)};
  header h = std::move(spare.back());
  spare.pop_back();
  h.name.assign(name);
  h.value.assign(v);
  return h;
}

void request_builder::add_headers(const json_value* map, std::string_view field) {
  for_each_value(map, field, [&](std::string_view n, std::string_view v) { add_header(n, v); });
}

void request_builder::set_body(std::string_view body_field, std::string_view base64_field) {
  const auto body = string_member(body_field);
  const bool encoded = bool_member(event_, base64_field, base64_field);
  if (!body) return;
  body_field_ = body_field;
  base64_field_ = base64_field;
  // Parsed in place, the body lies in the event's bytes.
  const auto offset = static_cast<std::size_t>(body->data() - text_.bytes().data());
  if (!encoded) {
    // A body put back by event_text still holds its escapes: each short one decodes to one byte.
    const std::size_t escapes = text_.escapes_in_body_at(offset);
    body_in_event_ = slice{offset, body->size(), body->size() - escapes,
                           escapes != 0 ? body_form::escaped_text : body_form::text};
  } else if (const auto size = base64::decoded_size(*body)) {
    // Decoded by finish_body, once the event's other strings are no longer needed.
    body_in_event_ = slice{offset, body->size(), *size, body_form::base64};
  } else {
    invalid_base64();
  }
}

void request_builder::invalid_base64() {
  invalid("event field '" + std::string(body_field_) + "' is not valid base64 although '" +
          std::string(base64_field_) + "' is true");
}

void request_builder::finish_body() {
  if (!body_in_event_) return;
  const slice body = *body_in_event_;
  body_in_event_.reset();
  std::string& bytes = text_.bytes();
  const std::string_view in(bytes.data() + body.offset, body.size);
  if (body.decoded_size * 2 < bytes.size()) {
    // A small body in a large event: copied out, so the request does not pin the event's memory.
    if (body.form != body_form::base64) {
      req_.body.assign(in);
      if (body.form == body_form::escaped_text) {
        req_.body.resize(json_text::decode_short_escapes(req_.body.data(), req_.body.size()));
      }
    } else if (!base64::append_decoded(req_.body, in)) {
      invalid_base64();
    }
    check_decoded_size(body);
    return;
  }
  // The event's memory becomes the request's. A text body is sent from where it lies (backend_request::body_offset);
  // a base64 one is decoded to the front (the output never overtakes the input). What follows the body is cut off.
  text_.mark_changed();
  std::size_t offset = 0, size = body.size;
  if (body.form == body_form::text) {
    offset = body.offset;
  } else if (body.form == body_form::escaped_text) {
    offset = body.offset;
    size = json_text::decode_short_escapes(bytes.data() + body.offset, body.size);
  } else if (const auto decoded = base64::decode_into(in, bytes.data())) {
    size = *decoded;
  } else {
    invalid_base64();
    return;
  }
  req_.body = std::move(bytes);
  req_.body.resize(offset + size);
  req_.body_offset = offset;
  check_decoded_size(body);
}

// Content-Length went out with the size foretold (body_size); a body that decoded to another would put bytes on
// the wire that the length does not cover. The scan counts the escapes that the decoding meets, so never expected.
void request_builder::check_decoded_size(const slice& body) {
  if (!error && req_.payload().size() != body.decoded_size) {
    invalid("event field '" + std::string(body_field_) + "' decoded to " + std::to_string(req_.payload().size()) +
            " bytes, not the " + std::to_string(body.decoded_size) + " its text foretold");
  }
}

request_builder::v1_query request_builder::read_v1_request_line() {
  set_method(string_member("httpMethod"), "httpMethod");
  set_path(string_member("path").value_or("/"));
  const json_value* multi = object_member("multiValueQueryStringParameters");
  const json_value* single = object_member("queryStringParameters");
  if (multi != nullptr && multi->MemberCount() > 0) return {multi, "multiValueQueryStringParameters", true};
  return {single, "queryStringParameters", multi != nullptr};
}

// API Gateway sends both maps; multiValueHeaders is the truth.
void request_builder::add_v1_headers() {
  const json_value* multi = object_member("multiValueHeaders");
  const json_value* single = object_member("headers");
  add_headers(multi, "multiValueHeaders");
  if (single == nullptr) return;
  std::size_t member = 0;
  for (auto it = single->MemberBegin(); it != single->MemberEnd(); ++it, ++member) {
    const std::string_view name = view(it->name);
    bool in_multi = false;
    if (multi != nullptr) {
      for (auto m = multi->MemberBegin(); m != multi->MemberEnd() && !in_multi; ++m) {
        in_multi = text::iequals(view(m->name), name);
      }
    }
    if (in_multi) continue;
    if (const auto text = value_text(it->value, {"headers", member})) {
      add_header(name, *text);
    } else if (!it->value.IsNull()) {
      type_error("headers." + std::string(name), "a string, number or boolean");
    }
  }
}

void request_builder::read_request_context() {
  request_context = object_member("requestContext");
  if (request_context != nullptr) {
    domain_name = string_member(*request_context, "domainName", "requestContext.domainName").value_or("");
  }
}

}  // namespace lambda_bridge::events
