// OpenPGP packet framing (RFC 4880 §4.2): splits a binary OpenPGP message
// into its top-level packets (tag and exact byte ranges; old and new format
// headers, one-, two- and five-octet and partial body lengths), and ASCII
// armor encoding of a binary message with its CRC-24 (RFC 4880 §6).
// Pure: no GPGME, no I/O. Does not look inside packet bodies (except the
// key ID reader for PKESK packets) and does not decode armor.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace tlpmail::openpgp {

// Packet tags used by this module (RFC 4880 §4.3).
inline constexpr std::uint8_t kTagPkesk = 1;   // public-key encrypted session key
inline constexpr std::uint8_t kTagSkesk = 3;   // symmetric-key encrypted session key
inline constexpr std::uint8_t kTagSeipd = 18;  // sym. encrypted integrity protected data

// One top-level packet: bytes [offset, offset + size) of the input, of which
// the first header_size bytes are the header (CTB and length octets). With
// partial body lengths the packet spans every chunk and its length octets;
// `partial` is then true.
struct Packet {
  std::uint8_t tag = 0;
  bool new_format = false;
  bool partial = false;
  std::size_t offset = 0;
  std::size_t header_size = 0;
  std::size_t size = 0;  // header + body (+ the inner length octets of partial chunks)
};

enum class PacketErrorKind {
  empty,               // no bytes at all
  not_a_packet,        // CTB without bit 7 set
  reserved_tag,        // tag 0
  truncated,           // a header or body runs past the end of the input
  bad_partial,         // partial length on a packet type that may not use it
  indeterminate_length,  // old-format length type 3 on a packet that is not the last
};

// A framing error at byte `offset` of the input.
struct PacketError {
  PacketErrorKind kind = PacketErrorKind::not_a_packet;
  std::size_t offset = 0;

  // E.g. "packet truncated at byte 37".
  std::string describe() const;
  // Error::permanent(describe()) with `what` as prefix ("WHAT: ...").
  Error to_error(std::string_view what) const;
};

std::string_view to_string(PacketErrorKind k);

// Splits `data` into its top-level packets, in order. Every byte of `data`
// belongs to exactly one packet on success. Partial body lengths are
// accepted for the tags RFC 4880 allows them on (8, 9, 11, 18, and 20);
// an old-format indeterminate length is accepted only as the last packet
// (it extends to the end of the input). All lengths are bounds-checked;
// errors name the first fault and its offset. Pure and thread-safe.
Result<std::vector<Packet>, PacketError> split_packets(std::string_view data);

// The body of a non-partial packet (the bytes after its header).
std::string_view packet_body(std::string_view data, const Packet& p);

// The key ID of a version 3 PKESK packet as 16 upper-case hex digits
// ("0000000000000000" for a wildcard/anonymous recipient). Errors
// (permanent): not tag 1, partial, too short, or a version other than 3.
Result<std::string> pkesk_key_id(std::string_view data, const Packet& p);

// CRC-24 of RFC 4880 §6.1.
std::uint32_t crc24(std::string_view data);

// "-----BEGIN PGP MESSAGE-----", a blank line, the base64 of `binary` in
// lines of 64 characters, "=" and the base64 CRC-24, "-----END PGP
// MESSAGE-----". Lines end in LF.
std::string armor_message(std::string_view binary);

// The armors of many messages that all end in the same packets: each
// member's copy of a fan-out is its own PKESK followed by the shared
// encrypted data. armored_crlf(prefix) equals armor_message(prefix +
// shared) with every LF made CRLF, byte for byte, but costs only the
// prefix: the base64 lines of the shared part are made once per alignment
// (prefix length mod 48) and the CRC-24 of the whole is combined from the
// prefix's CRC and the shared part's (CRC-24 is linear over GF(2)).
// Thread-safe (the per-alignment parts are made under a lock).
class SharedArmor {
 public:
  explicit SharedArmor(std::string shared);
  ~SharedArmor();
  SharedArmor(const SharedArmor&) = delete;
  SharedArmor& operator=(const SharedArmor&) = delete;

  std::string armored_crlf(std::string_view prefix) const;
  // The same, appended to `out` (one buffer for a whole copy).
  void append_armored_crlf(std::string& out, std::string_view prefix) const;
  // An upper bound of the size armored_crlf(prefix) adds, for reserve().
  std::size_t armored_size_bound(std::size_t prefix_size) const;
  const std::string& shared() const { return shared_; }

 private:
  struct Tail;
  const Tail& tail_for(std::size_t skip) const;

  std::string shared_;
  mutable std::mutex mu_;
  mutable std::map<std::size_t, std::unique_ptr<Tail>> tails_;  // by bytes of shared_ moved to the head
};

}  // namespace tlpmail::openpgp
