// libFuzzer target: the OpenPGP packet splitter and armor helpers
// (lib/openpgp/packets.h split_packets, read_packet, pkesk_key_id,
// scan_for_encryption, armor_message; lib/openpgp/armor.h
// dearmor_message and the framing checks). Checks what the headers
// promise: split packets cover the input in order, read_packet agrees,
// key IDs are 16 upper-case hex digits, dearmor undoes armor_message.
// Also lib/openpgp/session_key.h read_encryption_key (a key packet body
// from gpg's export) and make_pkesk for every key it reads.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "openpgp/armor.h"
#include "openpgp/packets.h"
#include "openpgp/session_key.h"

namespace {

using namespace tlpmail;

bool is_upper_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = tlpmail::fuzz::as_view(data, size);
  auto split = openpgp::split_packets(in);
  if (split) {
    std::size_t at = 0;
    for (const auto& p : *split) {
      FUZZ_CHECK(p.offset == at);
      FUZZ_CHECK(p.header_size >= 1 && p.header_size <= p.size);
      FUZZ_CHECK(p.size <= in.size() - p.offset);
      auto again = openpgp::read_packet(in, p.offset);
      FUZZ_CHECK(again);
      FUZZ_CHECK(again->tag == p.tag && again->size == p.size &&
                 again->header_size == p.header_size);
      if (!p.partial) {
        FUZZ_CHECK(openpgp::packet_body(in, p).size() == p.size - p.header_size);
      }
      if (p.tag == openpgp::kTagPkesk) {
        auto id = openpgp::pkesk_key_id(in, p);
        if (id) FUZZ_CHECK(id->size() == 16 && is_upper_hex(*id));
      }
      at += p.size;
    }
    FUZZ_CHECK(at == in.size());
    FUZZ_CHECK(!split->empty());
  } else {
    FUZZ_CHECK(split.error().offset <= in.size());
    (void)split.error().describe();
  }
  if (auto key = openpgp::read_encryption_key(in)) {
    FUZZ_CHECK(key->fingerprint.size() == 40 && is_upper_hex(key->fingerprint));
    FUZZ_CHECK(key->key_id == key->fingerprint.substr(24) && key->public_key);
    FUZZ_CHECK(key->algorithm == 18 ? key->x25519.size() == 32 : key->rsa_n.size() >= 256);
    const std::string session_key(openpgp::kSessionKeySize, '\x5a');
    if (auto pkesk = openpgp::make_pkesk(*key, session_key)) {
      auto p = openpgp::split_packets(*pkesk);
      FUZZ_CHECK(p && p->size() == 1 && (*p)[0].tag == openpgp::kTagPkesk);
      FUZZ_CHECK(openpgp::pkesk_key_id(*pkesk, (*p)[0]).value() == key->key_id);
    }
  }
  (void)openpgp::scan_for_encryption(in);
  openpgp::ScanLimits tight;
  tight.max_inflated = 512;
  tight.max_compressed_read = 1024;
  tight.max_compressed_packets = 2;
  tight.max_depth = 1;
  (void)openpgp::scan_for_encryption(in, tight);

  // Armor: the input as text, and the input armored then read back.
  constexpr std::size_t kMax = 1 << 16;
  auto bin = openpgp::dearmor_message(in, kMax);
  if (bin) FUZZ_CHECK(bin->size() <= kMax);
  (void)openpgp::check_message_framing(in);
  (void)openpgp::check_clearsigned_framing(in);
  (void)openpgp::contains_armor(in);
  const std::string armored = openpgp::armor_message(in);
  FUZZ_CHECK(openpgp::check_message_framing(armored) == openpgp::ArmorFraming::alone);
  auto back = openpgp::dearmor_message(armored, kMax);
  FUZZ_CHECK(back && *back == in.substr(0, kMax));
  return 0;
}
