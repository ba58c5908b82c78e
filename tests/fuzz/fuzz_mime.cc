// libFuzzer target: MIME parsing and PGP/MIME structure detection
// (lib/mime/mime.h): parse_message on the input as a received message,
// then what the pipeline does next with the result (parse_entity on the
// signed bytes, clearsigned_text, leaf_parts, the protected headers).
// Checks the bounds mime.h promises (body head size, leaf part limits).
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

#include "fuzz_util.h"
#include "mime/mime.h"

namespace {

using namespace tlpmail;

void check_entity(const mime::Entity& e) {
  FUZZ_CHECK(e.body_head.size() <= mime::kBodyHeadMax);
  FUZZ_CHECK(e.leaf_parts >= 0 && e.attachments >= 0);
  FUZZ_CHECK(e.attachments <= e.leaf_parts);
  (void)mime::read_protected_headers(e);
  if (const auto* c = std::get_if<mime::InlineClearsigned>(&e.shape)) {
    (void)mime::clearsigned_text(c->block);
  }
}

}  // namespace

TLPMAIL_FUZZ_INITIALIZE_MIME()

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view raw = tlpmail::fuzz::as_view(data, size);
  auto msg = mime::parse_message(raw);
  if (msg) {
    check_entity(msg->content);
    (void)msg->single_from();
    if (!msg->subjects.empty()) FUZZ_CHECK(msg->subject == msg->subjects.front());
    if (const auto* s = std::get_if<mime::PgpMimeSigned>(&msg->content.shape)) {
      // The pipeline classifies what the signature covers.
      auto inner = mime::parse_entity(s->signed_bytes);
      if (inner) check_entity(*inner);
    }
  }
  constexpr std::size_t kMaxParts = 8, kMaxBytes = 4096;
  auto leaves = mime::leaf_parts(raw, kMaxParts, kMaxBytes);
  if (leaves) {
    FUZZ_CHECK(leaves->parts.size() <= kMaxParts);
    for (const auto& p : leaves->parts) {
      FUZZ_CHECK(p.data.size() <= kMaxBytes);
      if (p.too_large) FUZZ_CHECK(p.data.empty());
    }
  }
  return 0;
}
