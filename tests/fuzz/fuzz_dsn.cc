// libFuzzer target: the bounce reader (lib/mime/dsn.h): read_bounce on the
// input as a message received at a -bounces address, and the RFC 3464
// field parser and status-code finder on it as text. Checks the bounds
// dsn.h promises: at most kMaxDsnRecipients groups, diagnostics printable
// ASCII of at most kMaxDiagnostic bytes, status codes well formed.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "mime/dsn.h"
#include "mime/mime.h"

namespace {

using namespace tlpmail;

bool printable_ascii(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace

TLPMAIL_FUZZ_INITIALIZE_MIME()

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = tlpmail::fuzz::as_view(data, size);
  for (std::string_view expected : {std::string_view{}, std::string_view{"m1@csirt.example"}}) {
    const mime::Bounce b = mime::read_bounce(in, expected);
    FUZZ_CHECK(b.diagnostic.size() <= mime::kMaxDiagnostic);
    FUZZ_CHECK(printable_ascii(b.diagnostic));
    if (!b.status.empty()) FUZZ_CHECK(mime::is_status_code(b.status));
    (void)mime::to_string(b.kind);
  }
  const mime::DeliveryStatus ds = mime::parse_delivery_status(in);
  FUZZ_CHECK(ds.recipients.size() <= mime::kMaxDsnRecipients);
  for (const auto& r : ds.recipients) {
    FUZZ_CHECK(r.diagnostic.size() <= mime::kMaxDiagnostic);
    FUZZ_CHECK(printable_ascii(r.diagnostic));
    if (!r.status.empty()) FUZZ_CHECK(mime::is_status_code(r.status));
  }
  const std::string code = mime::find_status_code(in);
  if (!code.empty()) FUZZ_CHECK(mime::is_status_code(code));
  return 0;
}
