// Growing a byte buffer that is about to be written whole: the app's reply body read into the result, a body
// converted where it lies. std::string::resize zero-fills what it adds, and for a 5 MB reply that memset was the
// largest cost in user space (perf: `rep stos` 10 % of the bridge's samples in reply-5m, above the escaping scan).
#pragma once

#include <cstddef>
#include <string>

namespace lambda_bridge {

// Makes `s` `n` bytes long, keeping its first min(size, n) bytes; the bytes added are left unwritten (C++23's
// resize_and_overwrite), so the caller must write them all before they are read.
void resize_uninitialized(std::string& s, std::size_t n);

}  // namespace lambda_bridge
