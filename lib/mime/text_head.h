// The body head handed to label scanning: UTF-8 repair, cutting at a
// character boundary, and a plain reading of HTML (markup and scripts
// dropped, line-breaking elements kept as line breaks, common entities
// decoded). Pure functions, no GMime. Internal to lib/mime.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tlpmail::mime {

// Valid UTF-8 stays as it is; every byte that does not start a valid
// sequence (overlongs, surrogates and values above U+10FFFF included)
// becomes U+FFFD.
std::string sanitize_utf8(std::string_view s);

// Cuts valid UTF-8 to at most `max` bytes without splitting a character.
// Sets *truncated when something was cut.
std::string cut_utf8(std::string s, std::size_t max, bool* truncated);

// The text of an HTML document for label scanning, stopping once the
// output reaches `max` bytes. Not a renderer: no layout, no CSS.
std::string html_to_text(std::string_view html, std::size_t max);

}  // namespace tlpmail::mime
