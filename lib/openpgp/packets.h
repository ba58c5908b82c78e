// OpenPGP packet framing (RFC 4880 §4.2): splits a binary OpenPGP message
// into its top-level packets (tag and exact byte ranges; old and new format
// headers, one-, two- and five-octet and partial body lengths), tells
// whether some bytes are an encrypted message a client would decrypt
// (scan_for_encryption, which also reads a bounded prefix of compressed
// packets), and ASCII armor encoding of a binary message with its CRC-24
// (RFC 4880 §6). Pure: no GPGME, no I/O; decrypts and verifies nothing,
// and does not decode armor.
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

// Packet tags used by this module (RFC 4880 §4.3, RFC 9580 §5).
inline constexpr std::uint8_t kTagPkesk = 1;       // public-key encrypted session key
inline constexpr std::uint8_t kTagSignature = 2;
inline constexpr std::uint8_t kTagSkesk = 3;       // symmetric-key encrypted session key
inline constexpr std::uint8_t kTagOnePassSig = 4;
inline constexpr std::uint8_t kTagCompressed = 8;
inline constexpr std::uint8_t kTagSed = 9;         // symmetrically encrypted data (no MDC)
inline constexpr std::uint8_t kTagMarker = 10;     // body "PGP", ignored by readers (§5.8)
inline constexpr std::uint8_t kTagLiteral = 11;
inline constexpr std::uint8_t kTagSeipd = 18;      // sym. encrypted integrity protected data
inline constexpr std::uint8_t kTagAead = 20;       // AEAD encrypted data (LibrePGP, drafts)
inline constexpr std::uint8_t kTagPadding = 21;    // RFC 9580 §5.14

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

// The packet that starts at byte `offset` of `data`, with the same rules
// and errors as split_packets (an old-format indeterminate length runs to
// the end of `data`). Pure and thread-safe.
Result<Packet, PacketError> read_packet(std::string_view data, std::size_t offset);

// The body of a non-partial packet (the bytes after its header).
std::string_view packet_body(std::string_view data, const Packet& p);

// ------------------------------------------------- encrypted messages

// What scan_for_encryption found. Everything but `none` means: treat the
// bytes as ciphertext (tlpmail never decrypts a nested message to find out).
enum class EncryptionFinding {
  none,            // no packet of an encrypted message
  session_key,     // a PKESK (tag 1, version 2, 3, 5 or 6) or SKESK (tag 3, version 4, 5
                   // or 6) packet: its header and version octet are enough
  encrypted_data,  // a SEIPD (tag 18, version 1 or 2) or AEAD (tag 20, version 1) packet
                   // with no session key packet before it, in bytes that frame as
                   // packets to their last byte
  unreadable,      // a compressed packet whose content the limits below did not let us
                   // read far enough (BZip2, nested too deep, too many, a decided
                   // prefix not reached): counted as encrypted, never guessed clean
};

// "none", "session key packet", "encrypted data packet", "unreadable compressed packet".
std::string_view to_string(EncryptionFinding f);

// Bounds on the work done inside compressed packets (tag 8). Outside them
// the walk is linear in the input and reads each header once.
struct ScanLimits {
  std::size_t max_inflated = std::size_t{64} * 1024;  // decompressed bytes read per packet
  std::size_t max_compressed_read = 1 << 20;    // compressed bytes fed to the inflater per packet
  int max_compressed_packets = 8;               // compressed packets inspected per scan
  int max_depth = 2;                            // compressed packets inside compressed packets
};

struct EncryptionScan {
  EncryptionFinding finding = EncryptionFinding::none;
  std::size_t offset = 0;    // the top-level packet that decided (a compressed packet
                             // when the finding is inside one)
  bool compressed = false;   // the finding is inside a compressed packet

  bool is_encrypted() const { return finding != EncryptionFinding::none; }
};

// Whether `data`, read from its first byte as OpenPGP packets, is or holds
// an encrypted message a client would decrypt. Only framing and a few
// fixed fields are read (versions, algorithm octets, the Marker body);
// nothing is decrypted or verified. The walk goes over every top-level
// packet as long as the framing holds: Marker (body exactly "PGP"),
// Padding, Signature, One-Pass Signature, key, user ID, Trust, Literal,
// MDC, SED and unknown packet types are stepped over (wider than gpg
// 2.2.40, which decrypts behind Marker, Trust, signature, Literal and MDC
// packets only); a packet that fails its check (e.g. a Signature of
// version 9) ends the walk. A PKESK or SKESK anywhere on the walk decides at once, even when
// its body runs past the end of `data`. A compressed packet (algorithm 0
// uncompressed, 1 ZIP, 2 ZLIB) is inflated up to the limits and its
// content walked the same way; when the limits cut it before a Literal
// packet (a complete plaintext message) was seen, or it is BZip2 (3),
// the finding is `unreadable`. A lone SED (tag 9: PGP 2's passphrase
// encryption, no integrity protection) does not count: no current client
// decrypts it. Pure and thread-safe; never reads past `data`.
EncryptionScan scan_for_encryption(std::string_view data, const ScanLimits& limits = {});

// The key ID of a version 3 PKESK packet as 16 upper-case hex digits
// ("0000000000000000" for a wildcard/anonymous recipient). Errors
// (permanent): not tag 1, partial, too short, or a version other than 3.
Result<std::string> pkesk_key_id(std::string_view data, const Packet& p);

// Appends a new-format packet header (RFC 4880 §4.2.2) for `tag` and a
// body of `len` octets: one, two or five length octets, never partial.
void append_new_header(std::string& out, std::uint8_t tag, std::size_t len);

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
  // The same in three pieces, so that copies can share the large middle
  // one instead of each holding it: first + *lines + last ==
  // armored_crlf(prefix). `first` is the BEGIN line, the blank line and
  // the lines holding the prefix; `lines` (never null, maybe empty) is
  // made once per alignment and shared by every prefix of that length
  // modulo 48; `last` is the checksum and END lines.
  struct Pieces {
    std::string first;
    std::shared_ptr<const std::string> lines;
    std::string last;
  };
  Pieces armored_pieces(std::string_view prefix) const;
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
