// Test helpers for lib/compose: CRLF text, the facts of a typical copy,
// splitting a multipart entity we wrote into its parts, and a throwaway
// GnuPG home from lib/mime's test helpers. Test-only.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "compose/compose.h"
#include "mime/mime_test_util.h"

namespace tlpmail::compose::testing {

// CRLF text, gpg runs and the throwaway GnuPG home are lib/mime's test
// helpers.
using mime::testing::crlf;
using mime::testing::GpgHome;
using mime::testing::lf_only;
using mime::testing::RunResult;

inline constexpr std::time_t kDate = 1763837467;  // Sat, 22 Nov 2025 18:51:07 +0000

inline CopyFacts base_facts() {
  CopyFacts f;
  f.list.address = "csirt-ops@lists.example.org";
  f.list.description = "CSIRT Network operational exchange";
  f.list.subject_prefix = "[csirt-ops]";
  f.sender = {"Alice Example", "CSIRT-A", "alice@csirt-a.example",
              "0123456789ABCDEF0123456789ABCDEF01234567"};
  f.label = policy::Tlp::amber;
  f.banner_lines = {"TLP:AMBER: " + std::string(policy::sharing_rule(policy::Tlp::amber))};
  f.subject = "[TLP:AMBER] Phishing wave against energy sector";
  f.message_id = "20251122185107.q1a2b3@lists.example.org";
  f.date = kDate;
  return f;
}

// The value of `param` in the first header field of `entity` named `field`
// (unfolded; quotes removed). "" when absent.
inline std::string header_param(std::string_view entity, std::string_view param) {
  const std::size_t end = entity.find("\r\n\r\n");
  const std::string head(entity.substr(0, end));
  const std::string key = std::string(param) + "=\"";
  const std::size_t p = head.find(key);
  if (p == std::string::npos) return "";
  const std::size_t q = head.find('"', p + key.size());
  return head.substr(p + key.size(), q - p - key.size());
}

// The parts of a multipart entity written by lib/compose (boundary from
// its header): the bytes between "--b\r\n" and the "\r\n" before the next
// delimiter line. Empty when the structure is not as expected.
inline std::vector<std::string> split_parts(std::string_view entity) {
  const std::string b = header_param(entity, "boundary");
  if (b.empty()) return {};
  const std::string delim = "\r\n--" + b;
  std::vector<std::string> parts;
  std::size_t p = entity.find("\r\n\r\n");
  if (p == std::string_view::npos) return {};
  p += 2;  // the CRLF before the first delimiter
  p = entity.find(delim, p);
  while (p != std::string_view::npos) {
    const std::size_t after = p + delim.size();
    if (entity.substr(after, 2) == "--") return parts;  // close delimiter
    if (entity.substr(after, 2) != "\r\n") return {};
    const std::size_t begin = after + 2;
    const std::size_t next = entity.find(delim, begin);
    if (next == std::string_view::npos) return {};
    parts.emplace_back(entity.substr(begin, next - begin));
    p = next;
  }
  return {};
}

// The header block of an entity or message (up to and including the CRLF
// of the last field).
inline std::string head_of(std::string_view entity) {
  const std::size_t end = entity.find("\r\n\r\n");
  return std::string(entity.substr(0, end == std::string_view::npos ? 0 : end + 2));
}

}  // namespace tlpmail::compose::testing
