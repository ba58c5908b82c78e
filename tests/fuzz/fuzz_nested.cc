// libFuzzer target: the nested-ciphertext detector on one part's content
// (lib/mime/nested.h: armor markers in any spelling, encrypted armor under
// any label, binary OpenPGP, DER S/MIME; mime::parse_text on a bare text;
// openpgp::scan_for_encryption). Checks that MarkerScanner gives the same
// count whatever the pieces it is fed (it promises a stream), and that
// count_armor_markers is the most of both modes.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_util.h"
#include "mime/mime.h"
#include "mime/nested.h"
#include "openpgp/packets.h"

namespace {

using namespace tlpmail;

int scan_in_pieces(std::string_view text, bool markup, bool skip_dash, std::size_t step) {
  mime::MarkerScanner s(markup, skip_dash);
  while (!text.empty()) {
    const std::size_t n = std::min(step, text.size());
    s.feed(text.substr(0, n));
    text.remove_prefix(n);
  }
  return s.count();
}

}  // namespace

TLPMAIL_FUZZ_INITIALIZE_MIME()

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  // Byte 0 chooses the piece size of the streaming check; the rest is the part.
  const std::size_t step = 1 + data[0] % 17;
  const std::string_view text = tlpmail::fuzz::as_view(data + 1, size - 1);
  for (bool skip_dash : {false, true}) {
    int most = 0;
    for (bool markup : {false, true}) {
      const int whole = scan_in_pieces(text, markup, skip_dash, text.size() + 1);
      FUZZ_CHECK(whole >= 0 && whole <= 2);
      FUZZ_CHECK(scan_in_pieces(text, markup, skip_dash, step) == whole);
      most = std::max(most, whole);
    }
    FUZZ_CHECK(mime::count_armor_markers(text, skip_dash) == most);
  }
  (void)mime::has_encrypted_armor(text);
  (void)mime::looks_like_smime_enveloped(text);
  (void)openpgp::scan_for_encryption(text);
  const mime::Entity e = mime::parse_text(text);
  FUZZ_CHECK(e.body_head.size() <= mime::kBodyHeadMax);
  // parse_text counts every armored PGP MESSAGE as nested ciphertext (in a
  // clearsigned text, not the dash-escaped lines: nested.h).
  const bool clearsigned = e.kind() == mime::ShapeKind::inline_clearsigned;
  if (mime::count_armor_markers(text, clearsigned) > 0) FUZZ_CHECK(e.has_nested_ciphertext());
  return 0;
}
