// The event side shared by every source: the parsed event's JSON types, and request_builder, which reads an
// event's fields with type checks that name the field and builds the app's request from them. Each source's file
// (events/*.cpp) decides which fields it reads; the builder knows how to read and check them.
#pragma once

#include <rapidjson/document.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lambda_bridge/core/event_scan.hpp"
#include "lambda_bridge/core/result.hpp"
#include "lambda_bridge/core/translate.hpp"

namespace lambda_bridge::events {

using json_allocator = rapidjson::MemoryPoolAllocator<>;
// RapidJSON's parse stacks: the document's and the reader's, made anew for every parse. Up to 16 KB they come from the
// per-thread block cache of util/frame_cache.hpp, so a usual event's two stacks cost no heap allocation (issue 14: two
// per 1 KB invocation). Larger ones live on the C heap and grow by realloc: a parse that copies strings
// (number_as_written's; the event's own is in place) holds each on the stack whole before storing it, and realloc
// (mremap for a large body) spares the copy that allocate-and-copy made of a 1 MB body about twice over.
// RapidJSON's allocator concept has a static Free and gives Realloc the old size; each block keeps its size in front.
struct parse_stack_allocator {
  static const bool kNeedFree = true;
  // The size kept in front of each block: a stack of 8 KB minus this fills an 8 KB block of the cache exactly.
  static constexpr std::size_t header_bytes = alignof(std::max_align_t);
  void* Malloc(std::size_t size);
  void* Realloc(void* original, std::size_t original_size, std::size_t new_size);
  static void Free(void* pointer);
};
using json_document = rapidjson::GenericDocument<rapidjson::UTF8<>, json_allocator, parse_stack_allocator>;
using json_value = json_document::ValueType;

// Real events nest a dozen levels; anything far deeper is an attack on recursive code, not an event.
inline constexpr std::size_t max_json_depth = 128;

inline std::string_view view(const json_value& v) { return {v.GetString(), v.GetStringLength()}; }

// A number as RapidJSON read it: integers exactly, others as the shortest text that reads back as the same double.
void append_number(std::string& out, const json_value& v);

// A member that is present and not JSON null (API Gateway console test events send nulls for absent maps).
const json_value* find(const json_value& obj, std::string_view name);

// Whether `obj` has a string member `name` equal to `text`.
bool has_string(const json_value& obj, std::string_view name, std::string_view text);

// The event's bytes, parsed in place (RapidJSON's kParseInsituFlag): each string is decoded where it lies and
// ended by a NUL, so no string is copied out of the event, and a body goes to the app from these same bytes. The
// text as it arrived is still needed by the pass-through source (it forwards the event unchanged) and, rarely, by
// number_as_written. Without a backslash the decoding moves no byte: each NUL stands where a closing quote stood
// (the event had none of its own: check_event_text refuses it), so turning them back gives the text. With one, the
// decoding moves bytes, so the text is copied before the parse.
//
// An event that is mostly one long plain string (a body with no escape: base64, most text) is parsed without it
// instead: RapidJSON reads a copy of the rest (`aside`, a few KB) with the string emptied, and the string is put back
// into the parsed event as it lies in the bytes (put_back_body). So the parse does not read the body again after the
// scan, and leaves the bytes as they arrived, which then need no copy and no restoring. It is only for a top-level
// "body"; anything else, or a parse error, is parsed again the usual way (parse_in_place), so that every other event
// and every error offset is what RapidJSON gives for the whole text.
class event_text {
 public:
  // `scan`: what scan_event_text found in `bytes`. `aside`: the translator's buffer for the copy, kept across events
  // up to 64 KB: a larger one (an event with a 3 MB header) is let go when this ends, after the document parsed from
  // it, whose strings lie in it.
  event_text(std::string& bytes, const event_scan& scan, std::string& aside);
  ~event_text();
  event_text(const event_text&) = delete;
  event_text& operator=(const event_text&) = delete;
  // Parses the event into `doc` (iterative: no input can exhaust the stack; in place: strings are decoded where they
  // lie, not copied), around its body when it can. Returns whether it did, i.e. whether the bytes are untouched.
  bool parse(json_document& doc);
  std::string& bytes() { return bytes_; }
  // The text as it arrived, consumed: the parsed strings are left without their NULs (their lengths still hold).
  std::string take_original();
  // The text as it arrived, copied when it must be; null once finish_body wrote a body over the bytes.
  const std::string* original();
  // A body moved or decoded over the bytes changed what the restoration cannot give back.
  void mark_changed() { changed_ = true; }
  // How many short escapes the body put back holds when `offset` is where its text lies in the bytes (it is decoded
  // apart, by finish_body), else 0: a string parsed in place is decoded already.
  std::size_t escapes_in_body_at(std::size_t offset) const {
    return aside_mode_ && offset == body_offset_ ? body_escapes_ : 0;
  }

 private:
  std::string& bytes_;
  std::string& aside_;
  std::size_t body_offset_ = 0, body_size_ = 0, body_escapes_ = 0;
  bool aside_mode_ = false;
  bool has_backslash_;
  // After a parse of the copy: whether its top-level "body" is the emptied string, then given the bytes' text.
  bool put_back_body(json_value& event);
  // For parsing the bytes themselves after all (the parse of the copy failed, or emptied something else).
  void parse_in_place();
  // NUL-terminated, for ParseInsitu: the copy without the body, or the bytes themselves.
  char* parse_buffer() { return aside_mode_ ? aside_.data() : bytes_.data(); }
  std::string original_;
  bool has_original_ = false;
  bool changed_ = false;
};

// What the translator keeps from one invocation to the next, so that a steady stream of similar events translates
// without allocating: the string the JSON header values are composed in, and the strings of the last requests'
// headers (translator::recycle), assigned again instead of allocated anew.
struct builder_scratch {
  std::string json;
  std::vector<header> spare_headers;
};

class request_builder {
 public:
  // `text` holds the event `event` was parsed from (in place, or from a copy without its body: event_text); a
  // pass-through source moves it into the request body. `scratch` is the translator's (builder_scratch).
  request_builder(const json_value& event, event_text& text, const translate_options& opts, translation& out,
                  builder_scratch& scratch)
      : event_(event), text_(text), opts_(opts), out_(out), req_(out.request), scratch_(scratch) {}

  const json_value& event() const { return event_; }
  const translate_options& options() const { return opts_; }
  translation& out() { return out_; }
  backend_request& request() { return req_; }
  // The event's text, for the source that forwards it whole; the parsed event's strings stay valid (by length).
  std::string take_raw_event() { return text_.take_original(); }

  // The event's requestContext (forwarded as x-amzn-request-context) and its domainName (the Host when the event
  // has none), read for every HTTP source by read_request_context.
  const json_value* request_context = nullptr;
  std::string_view domain_name;
  void read_request_context();

  // The first type error, which fails the translation.
  std::optional<failure> error;
  void type_error(std::string_view field, std::string_view expected);
  void invalid(std::string message);

  // Optional members: absent or null gives nullopt (nullptr, false); another type is an error naming the field.
  std::optional<std::string_view> string_member(const json_value& obj, std::string_view name,
                                                std::string_view field);
  std::optional<std::string_view> string_member(std::string_view name) {
    return string_member(event_, name, name);
  }
  const json_value* object_member(const json_value& obj, std::string_view name, std::string_view field);
  const json_value* object_member(std::string_view name) { return object_member(event_, name, name); }
  bool bool_member(const json_value& obj, std::string_view name, std::string_view field);

  // Calls f(name, value) for each value of a map whose values are strings, or arrays of strings — a plain string
  // where an array belongs counts as a one-element array (hand-written events do it), and a number or boolean
  // counts as its text (value_text). `map` is the event's top-level member `field`. The value passed to f is valid
  // until f returns.
  template <class F>
  void for_each_value(const json_value* map, std::string_view field, F&& f);

  // Where a value stands in the event: member number `member` of the top-level map `field`, item number `item` of
  // it when that member is an array.
  struct value_position {
    static constexpr std::size_t no_item = static_cast<std::size_t>(-1);
    std::string_view field;
    std::size_t member;
    std::size_t item = no_item;
  };
  // The text of a value where a header or query string belongs: a string as it is; a number exactly as the event
  // wrote it (13, 1.50, 1e3) and a boolean as true or false, since published test events write
  // "Content-Length": 13; nullopt for null, an object or an array. Valid until the next call.
  std::optional<std::string_view> value_text(const json_value& v, const value_position& at) {
    if (v.IsString()) return view(v);
    return scalar_text(v, at);
  }

  // The request line.
  void set_method(std::optional<std::string_view> method, std::string_view field);
  void set_path(std::string_view path);
  // A query map's key=value pairs: `decoded` ones are encoded here, `as_sent` ones kept as the client encoded them
  // (re-encoding would turn %3A into %253A).
  enum class query_encoding { decoded, as_sent };
  void add_pairs(const json_value* map, std::string_view field, query_encoding encoding);
  void add_raw_query(std::string_view query);

  // Headers and body.
  void add_header(std::string_view name, std::string_view v) { req_.headers.push_back(make_header(name, v)); }
  // A header in strings of an earlier request when there are any (builder_scratch).
  header make_header(std::string_view name, std::string_view v);
  void add_headers(const json_value* map, std::string_view field);
  // A header the gateway always sends, for the events written without it (by hand, or by a test tool).
  void add_header_if_absent(std::string_view name, std::string_view v) {
    if (!has_header(name)) add_header(name, v);
  }
  // The body stays in the event's bytes until finish_body gives them to the request (a text body where it lies, a
  // base64 one decoded to their front): no copy of it is made. Its size is known before (body_size).
  void set_body(std::string_view body_field, std::string_view base64_field);
  std::size_t body_size() const { return body_in_event_ ? body_in_event_->decoded_size : req_.payload().size(); }
  // Gives a body left in the event's bytes to the request, decoding base64 (which may fail the translation: the
  // caller looks at `error` again). Last: the parsed event's strings that lie in those bytes die with them.
  void finish_body();

  // Payload 1.0 (REST and ALB): the query map to read (multiValueQueryStringParameters when it has entries, else
  // queryStringParameters), and multiValueHeaders as the truth with `headers` adding only the names it lacks.
  struct v1_query {
    const json_value* map = nullptr;
    std::string_view field;
    bool multi_value_present = false;  // multiValueQueryStringParameters is in the event, even empty
  };
  // Sets the method (httpMethod) and path, and returns the query map to read.
  v1_query read_v1_request_line();
  void add_v1_headers();

  // The final header pass (request_headers.cpp): drops what may not reach the app, applies the authorization
  // source, then adds Host, Content-Length and the context headers.
  void finish_headers(const invocation_context& ctx);

 private:
  void begin_pair();
  bool has_header(std::string_view name) const;
  // Composes the x-amzn-lambda-context value in scratch_.json.
  void compose_lambda_context(const invocation_context& ctx);
  std::optional<std::string_view> scalar_text(const json_value& v, const value_position& at);
  std::string_view number_as_written(const json_value& v, const value_position& at);

  const json_value& event_;
  event_text& text_;
  const translate_options& opts_;
  translation& out_;
  backend_request& req_;
  builder_scratch& scratch_;
  bool query_started_ = false;
  // The event parsed again with every number kept as its text, on the first number where a string belongs: only
  // hand-written events have one, so real events pay nothing (see number_as_written).
  std::unique_ptr<json_document> numbers_as_written_;
  // The body as it lies in the event's bytes: text as it is, text with short escapes (a body parsed around:
  // event_text), or base64.
  enum class body_form { text, escaped_text, base64 };
  struct slice {
    std::size_t offset, size, decoded_size;
    body_form form;
  };
  std::optional<slice> body_in_event_;
  std::string_view body_field_, base64_field_;
  void invalid_base64();
  void check_decoded_size(const slice& body);
  std::string number_text_;
};

template <class F>
void request_builder::for_each_value(const json_value* map, std::string_view field, F&& f) {
  if (map == nullptr) return;
  std::size_t member = 0;
  for (auto it = map->MemberBegin(); it != map->MemberEnd(); ++it, ++member) {
    const std::string_view name = view(it->name);
    const json_value& v = it->value;
    if (v.IsArray()) {
      std::size_t item = 0;
      for (const auto& entry : v.GetArray()) {
        if (const auto text = value_text(entry, {field, member, item++})) {
          f(name, *text);
        } else if (!entry.IsNull()) {
          type_error(std::string(field) + "." + std::string(name), "an array of strings, numbers or booleans");
          return;
        }
      }
    } else if (const auto text = value_text(v, {field, member})) {
      f(name, *text);
    } else if (!v.IsNull()) {
      type_error(std::string(field) + "." + std::string(name),
                 "a string, number or boolean, or an array of them");
      return;
    }
  }
}

}  // namespace lambda_bridge::events
