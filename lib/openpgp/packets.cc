// OpenPGP packet framing and armor encoding (RFC 4880 §4.2, §6): a
// bounds-checked walk over packet headers that never reads a byte past the
// input, and base64 + CRC-24 for the armored form. No GPGME.
#include "openpgp/packets.h"

#include "util/base64.h"
#include "util/enum_names.h"

#define ZLIB_CONST
#include <zlib.h>

#include <algorithm>
#include <array>

namespace tlpmail::openpgp {

constexpr auto kPacketErrorKindNames = std::to_array<std::string_view>(
    {"no packets", "not an OpenPGP packet header", "reserved packet tag 0", "packet truncated",
     "partial body length on a packet that may not have one",
     "indeterminate length on a packet that is not the last"});
static_assert(util::names_cover(kPacketErrorKindNames, PacketErrorKind::indeterminate_length));
std::string_view to_string(PacketErrorKind k) {
  return util::name_of(kPacketErrorKindNames, k, "not an OpenPGP packet header");
}

std::string PacketError::describe() const {
  return std::string(to_string(kind)) + " at byte " + std::to_string(offset);
}

Error PacketError::to_error(std::string_view what) const {
  return Error::permanent(std::string(what) + ": " + describe());
}

namespace {

std::uint8_t byte_at(std::string_view d, std::size_t i) { return static_cast<std::uint8_t>(d[i]); }

bool may_be_partial(std::uint8_t tag) {
  return tag == 8 || tag == 9 || tag == 11 || tag == 18 || tag == 20;
}

// Reads `n` big-endian octets at `pos`; false when they run past the end.
bool read_be(std::string_view d, std::size_t pos, std::size_t n, std::size_t& out) {
  if (pos > d.size() || n > d.size() - pos) return false;
  out = 0;
  for (std::size_t i = 0; i < n; ++i) out = (out << 8) | byte_at(d, pos + i);
  return true;
}

}  // namespace

namespace {

// One packet as far as the input holds it: the header, and whether the
// body (every chunk of a partial body) is there too.
struct Framed {
  Packet p;                  // tag, format, offset; header_size once `header`; size once `complete`
  bool header = false;       // the CTB and the first length field were read
  bool complete = false;     // the whole packet is inside the input
  PacketErrorKind error = PacketErrorKind::truncated;  // why not complete
  std::size_t first_chunk = 0;  // length of the first body chunk (the body when not partial)
};

// One new-format length field at `cur`: its value, its size in octets and
// whether it is a partial length. False when it runs past the end.
bool new_length(std::string_view d, std::size_t cur, std::size_t& len, std::size_t& octets,
                bool& partial) {
  if (cur >= d.size()) return false;
  const std::uint8_t l0 = byte_at(d, cur);
  partial = false;
  if (l0 < 192) {
    len = l0;
    octets = 1;
  } else if (l0 < 224) {
    if (cur + 1 >= d.size()) return false;
    len = ((static_cast<std::size_t>(l0) - 192) << 8) + byte_at(d, cur + 1) + 192;
    octets = 2;
  } else if (l0 == 255) {
    if (!read_be(d, cur + 1, 4, len)) return false;
    octets = 5;
  } else {
    len = std::size_t{1} << (l0 & 0x1f);
    octets = 1;
    partial = true;
  }
  return true;
}

Framed frame_at(std::string_view data, std::size_t pos) {
  Framed f;
  f.p.offset = pos;
  if (pos >= data.size()) return f;
  const std::uint8_t ctb = byte_at(data, pos);
  if ((ctb & 0x80) == 0) {
    f.error = PacketErrorKind::not_a_packet;
    return f;
  }
  f.p.new_format = (ctb & 0x40) != 0;
  f.p.tag = f.p.new_format ? (ctb & 0x3f) : ((ctb >> 2) & 0x0f);
  if (f.p.tag == 0) {
    f.error = PacketErrorKind::reserved_tag;
    return f;
  }
  std::size_t cur = pos + 1;

  if (!f.p.new_format) {
    const unsigned type = ctb & 0x03;
    if (type == 3) {
      // Indeterminate: the packet runs to the end of the input.
      f.p.header_size = 1;
      f.p.size = data.size() - pos;
      f.first_chunk = f.p.size - 1;
      f.header = f.complete = true;
      return f;
    }
    const std::size_t n = type == 0 ? 1 : type == 1 ? 2 : 4;
    std::size_t len = 0;
    if (!read_be(data, cur, n, len)) return f;
    cur += n;
    f.p.header_size = 1 + n;
    f.first_chunk = len;
    f.header = true;
    if (len > data.size() - cur) return f;
    f.p.size = f.p.header_size + len;
    f.complete = true;
    return f;
  }

  // New format: one or more length fields; partial chunks until a definite one.
  for (;;) {
    std::size_t len = 0;
    std::size_t n = 0;
    bool partial = false;
    if (!new_length(data, cur, len, n, partial)) return f;
    if (partial && !may_be_partial(f.p.tag)) {
      f.error = PacketErrorKind::bad_partial;
      return f;
    }
    if (partial) f.p.partial = true;
    cur += n;
    if (!f.header) {
      f.p.header_size = cur - pos;
      f.first_chunk = len;
      f.header = true;
    }
    if (len > data.size() - cur) return f;
    cur += len;
    if (!partial) break;
  }
  f.p.size = cur - pos;
  f.complete = true;
  return f;
}

}  // namespace

Result<Packet, PacketError> read_packet(std::string_view data, std::size_t offset) {
  const Framed f = frame_at(data, offset);
  if (!f.complete) return Unexpected(PacketError{f.error, offset});
  return f.p;
}

Result<std::vector<Packet>, PacketError> split_packets(std::string_view data) {
  using Err = Unexpected<PacketError>;
  if (data.empty()) return Err(PacketError{PacketErrorKind::empty, 0});
  std::vector<Packet> packets;
  std::size_t pos = 0;
  while (pos < data.size()) {
    auto p = read_packet(data, pos);
    if (!p) return Err(p.error());
    packets.push_back(*p);
    pos += p->size;
  }
  return packets;
}

std::string_view packet_body(std::string_view data, const Packet& p) {
  return data.substr(p.offset + p.header_size, p.size - p.header_size);
}

Result<std::string> pkesk_key_id(std::string_view data, const Packet& p) {
  if (p.tag != kTagPkesk) {
    return Unexpected(Error::permanent("packet at byte " + std::to_string(p.offset) +
                                       " is not a PKESK packet (tag " + std::to_string(p.tag) +
                                       ")"));
  }
  if (p.partial || p.offset > data.size() || p.size > data.size() - p.offset ||
      p.header_size > p.size) {
    return Unexpected(Error::permanent("malformed PKESK packet at byte " +
                                       std::to_string(p.offset)));
  }
  const std::string_view body = packet_body(data, p);
  if (body.size() < 10) {  // version, 8-octet key ID, algorithm
    return Unexpected(Error::permanent("PKESK packet at byte " + std::to_string(p.offset) +
                                       " is too short"));
  }
  if (static_cast<std::uint8_t>(body[0]) != 3) {
    return Unexpected(Error::permanent("PKESK packet at byte " + std::to_string(p.offset) +
                                       " has version " +
                                       std::to_string(static_cast<std::uint8_t>(body[0])) +
                                       "; only version 3 is supported"));
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string id;
  for (std::size_t i = 1; i <= 8; ++i) {
    const auto b = static_cast<std::uint8_t>(body[i]);
    id += kHex[b >> 4];
    id += kHex[b & 0x0f];
  }
  return id;
}

// ------------------------------------------------- encrypted messages

constexpr auto kEncryptionFindingNames = std::to_array<std::string_view>(
    {"none", "session key packet", "encrypted data packet", "unreadable compressed packet"});
static_assert(util::names_cover(kEncryptionFindingNames, EncryptionFinding::unreadable));
std::string_view to_string(EncryptionFinding f) {
  return util::name_of(kEncryptionFindingNames, f, "none");
}

namespace {

// What one packet's fixed fields say, for the walk.
enum class Step {
  session_key,  // PKESK/SKESK: decides
  lone_data,    // SEIPD/AEAD: counts when everything frames
  compressed,   // read its content
  literal,      // a complete plaintext message begins here
  next,         // step over it
  stop,         // not what any reader would accept: the walk ends
  need_more,    // the octets to check are past the end of the input
};

bool pkesk_algorithm(std::uint8_t a) {
  // RSA (1, 2), Elgamal (16, 20), ECDH (18), X25519 (25), X448 (26).
  return a == 1 || a == 2 || a == 16 || a == 18 || a == 20 || a == 25 || a == 26;
}

bool symmetric_algorithm(std::uint8_t a) {
  // IDEA, TripleDES, CAST5, Blowfish, AES-128/192/256, Twofish, Camellia.
  return (a >= 1 && a <= 4) || (a >= 7 && a <= 13);
}

bool aead_algorithm(std::uint8_t a) { return a >= 1 && a <= 3; }  // EAX, OCB, GCM

// True when the octet of `body` at `at` passes `ok`, or is past the end of
// `body` (the input may end early; what is there decides).
template <class Pred>
bool octet_ok(std::string_view body, std::size_t at, Pred&& ok) {
  return at >= body.size() || ok(byte_at(body, at));
}

// `body` is what the input holds of the first body chunk (at most
// `first_chunk` octets). The checks are the fixed fields every reader
// needs, so that bytes that only look like a packet header (random data,
// text) rarely pass.
Step judge(std::uint8_t tag, std::string_view body, std::size_t first_chunk) {
  const auto at = [&](std::size_t i) { return byte_at(body, i); };
  switch (tag) {
    case kTagPkesk: {
      if (body.empty()) return Step::need_more;
      const std::uint8_t v = at(0);
      if (v == 2 || v == 3) {
        // version, 8-octet key ID, algorithm
        return octet_ok(body, 9, pkesk_algorithm) ? Step::session_key : Step::stop;
      }
      if (v == 6) {
        // version, length of the key version + fingerprint (0: anonymous,
        // 21: v4 key, 33: v6 key), key version, fingerprint, algorithm
        if (body.size() < 2) return Step::session_key;
        const std::uint8_t n = at(1);
        if (n != 0 && n != 21 && n != 33) return Step::stop;
        if (n != 0 && !octet_ok(body, 2, [&](std::uint8_t kv) { return kv == (n == 21 ? 4 : 6); })) {
          return Step::stop;
        }
        return octet_ok(body, 2u + n, pkesk_algorithm) ? Step::session_key : Step::stop;
      }
      return Step::stop;
    }
    case kTagSkesk: {
      if (body.empty()) return Step::need_more;
      const std::uint8_t v = at(0);
      if (v == 4) {
        // version, cipher, S2K type (simple, salted, iterated, Argon2, GNU)
        const bool ok = octet_ok(body, 1, symmetric_algorithm) &&
                        octet_ok(body, 2, [](std::uint8_t t) {
                          return t == 0 || t == 1 || t == 3 || t == 4 || t == 101;
                        });
        return ok ? Step::session_key : Step::stop;
      }
      if (v == 5) {  // LibrePGP: version, cipher, AEAD algorithm
        return octet_ok(body, 1, symmetric_algorithm) && octet_ok(body, 2, aead_algorithm)
                   ? Step::session_key
                   : Step::stop;
      }
      if (v == 6) {  // RFC 9580: version, count, cipher, AEAD algorithm
        return octet_ok(body, 2, symmetric_algorithm) && octet_ok(body, 3, aead_algorithm)
                   ? Step::session_key
                   : Step::stop;
      }
      return Step::stop;
    }
    case kTagSeipd:
      if (body.empty()) return Step::need_more;
      if (at(0) == 1) return Step::lone_data;
      // version 2: cipher, AEAD algorithm, chunk size octet (at most 16)
      return at(0) == 2 && octet_ok(body, 1, symmetric_algorithm) &&
                     octet_ok(body, 2, aead_algorithm) &&
                     octet_ok(body, 3, [](std::uint8_t c) { return c <= 16; })
                 ? Step::lone_data
                 : Step::stop;
    case kTagAead:
      if (body.empty()) return Step::need_more;
      // version 1, cipher, AEAD algorithm, chunk size octet
      return at(0) == 1 && octet_ok(body, 1, symmetric_algorithm) &&
                     octet_ok(body, 2, aead_algorithm) &&
                     octet_ok(body, 3, [](std::uint8_t c) { return c <= 56; })
                 ? Step::lone_data
                 : Step::stop;
    case kTagCompressed:
      if (body.empty()) return Step::need_more;
      return at(0) <= 3 ? Step::compressed : Step::stop;
    case kTagMarker:
      if (first_chunk != 3) return Step::stop;
      if (body.size() < 3) return Step::need_more;
      return body == "PGP" ? Step::next : Step::stop;
    case kTagSignature:
      if (body.empty()) return Step::need_more;
      return at(0) >= 2 && at(0) <= 6 ? Step::next : Step::stop;
    case kTagOnePassSig:
      if (body.empty()) return Step::need_more;
      return at(0) == 3 || at(0) == 6 ? Step::next : Step::stop;
    case 5:   // secret key
    case 6:   // public key
    case 7:   // secret subkey
    case 14:  // public subkey
      if (body.empty()) return Step::need_more;
      return at(0) >= 2 && at(0) <= 6 ? Step::next : Step::stop;
    case kTagLiteral:
      return Step::literal;
    default:
      // SED (a lone one is PGP 2 passphrase data no client decrypts), Trust,
      // user IDs and attributes, Padding, MDC and unknown or private types.
      // gpg 2.2.40 decrypts a message behind Trust and MDC packets and stops
      // at the others; readers differ, so the walk goes on (docs/mime.md).
      return Step::next;
  }
}

// The decompressed start of a compressed packet.
struct Inflated {
  std::string bytes;
  bool cut = false;         // the limits stopped reading before the content ended
  bool unreadable = false;  // BZip2: not read at all
  bool invalid = false;     // not a compressed packet any reader would accept
};

// Calls fn(chunk) for each body chunk of the packet at f.p.offset, as far
// as `data` holds them (the last one clipped). fn returns false to stop.
template <class Fn>
void for_each_chunk(std::string_view data, const Framed& f, Fn&& fn) {
  std::size_t cur = f.p.offset + f.p.header_size;
  std::size_t len = f.first_chunk;
  bool partial = f.p.partial;
  for (;;) {
    const std::size_t have = std::min(len, data.size() - std::min(cur, data.size()));
    if (!fn(data.substr(std::min(cur, data.size()), have))) return;
    if (have < len || !partial) return;
    cur += len;
    std::size_t n = 0;
    if (!new_length(data, cur, len, n, partial)) return;
    cur += n;
  }
}

Inflated inflate_start(std::string_view data, const Framed& f, bool data_cut,
                       const ScanLimits& limits) {
  Inflated out;
  std::uint8_t algorithm = 0;
  bool first = true;
  bool stream_end = false;
  std::size_t fed = 0;
  z_stream z{};
  bool z_open = false;
  bool z_failed = false;

  for_each_chunk(data, f, [&](std::string_view chunk) {
    if (first) {
      first = false;
      if (chunk.empty()) {
        out.invalid = true;
        return false;
      }
      algorithm = byte_at(chunk, 0);
      chunk.remove_prefix(1);
      if (algorithm == 3) {
        // BZip2 is not read here; a stream that does not even start with
        // its magic ("BZh" and a block size digit) no reader decompresses.
        const std::string_view magic = chunk.substr(0, 4);
        const bool bz = std::string_view("BZh").substr(0, std::min<std::size_t>(magic.size(), 3)) ==
                            magic.substr(0, 3) &&
                        (magic.size() < 4 || (magic[3] >= '1' && magic[3] <= '9'));
        (bz ? out.unreadable : out.invalid) = true;
        return false;
      }
      if (algorithm > 3) {
        out.invalid = true;
        return false;
      }
      if (algorithm == 1 || algorithm == 2) {
        // ZIP is a raw deflate stream (RFC 1951), ZLIB has its header (RFC 1950).
        if (inflateInit2(&z, algorithm == 1 ? -15 : 15) != Z_OK) {
          out.unreadable = true;
          return false;
        }
        z_open = true;
        out.bytes.resize(limits.max_inflated);
        z.next_out = reinterpret_cast<Bytef*>(out.bytes.data());
        z.avail_out = static_cast<uInt>(out.bytes.size());
      }
    }
    if (algorithm == 0) {
      const std::size_t room = limits.max_inflated - out.bytes.size();
      out.bytes.append(chunk.substr(0, room));
      if (chunk.size() > room) {
        out.cut = true;
        return false;
      }
      return true;
    }
    while (!chunk.empty()) {
      if (fed >= limits.max_compressed_read) {
        out.cut = true;
        return false;
      }
      const std::size_t take =
          std::min({chunk.size(), limits.max_compressed_read - fed, std::size_t{1} << 20});
      z.next_in = reinterpret_cast<const Bytef*>(chunk.data());
      z.avail_in = static_cast<uInt>(take);
      const int rc = inflate(&z, Z_NO_FLUSH);
      const std::size_t used = take - z.avail_in;
      fed += used;
      chunk.remove_prefix(used);
      if (rc == Z_STREAM_END) {
        stream_end = true;
        return false;
      }
      if (z.avail_out == 0) {
        out.cut = true;
        return false;
      }
      if (rc == Z_MEM_ERROR) {
        out.unreadable = true;
        return false;
      }
      if (rc != Z_OK && rc != Z_BUF_ERROR) {
        z_failed = true;  // damaged data: gpg reads what came before
        return false;
      }
      if (used == 0) break;  // needs more input than this chunk has left
    }
    return true;
  });

  if (z_open) {
    out.bytes.resize(out.bytes.size() - z.avail_out);
    inflateEnd(&z);
  }
  // The packet runs past a prefix our limits cut: its content may go on.
  if (!out.cut && !stream_end && !z_failed && !f.complete && data_cut) out.cut = true;
  return out;
}

struct Walk {
  const ScanLimits& limits;
  int compressed = 0;
};

// Walks `data` (see scan_for_encryption); `cut` says our limits ended it.
// `message_seen` is set when a Literal packet (a whole plaintext message)
// was met.
EncryptionScan walk_packets(std::string_view data, bool cut, int depth, Walk& w,
                            bool& message_seen) {
  const auto found = [&](EncryptionFinding what, std::size_t at) {
    return EncryptionScan{what, at, depth > 0};
  };
  bool lone = false;
  std::size_t lone_at = 0;
  // Where the data ends for a reason other than its own end (our limits
  // cut it), not knowing what comes next is not knowing.
  const auto ran_out = [&](std::size_t at) {
    return cut && !message_seen ? found(EncryptionFinding::unreadable, at) : EncryptionScan{};
  };

  std::size_t pos = 0;
  while (pos < data.size()) {
    const Framed f = frame_at(data, pos);
    if (!f.header) return f.error == PacketErrorKind::truncated ? ran_out(pos) : EncryptionScan{};
    const std::size_t body_at = std::min(pos + f.p.header_size, data.size());
    const std::string_view body = data.substr(body_at, std::min(f.first_chunk, data.size() - body_at));
    Step step = judge(f.p.tag, body, f.first_chunk);
    // Octets missing from a first chunk that is all there: a short packet.
    if (step == Step::need_more && body.size() >= f.first_chunk) step = Step::stop;
    switch (step) {
      case Step::session_key:
        return found(EncryptionFinding::session_key, pos);
      case Step::stop:
        return {};
      case Step::need_more:
        return ran_out(pos);
      case Step::lone_data:
        if (!lone) lone_at = pos;
        lone = true;
        break;
      case Step::literal:
        message_seen = true;
        break;
      case Step::compressed: {
        if (++w.compressed > w.limits.max_compressed_packets || depth >= w.limits.max_depth) {
          return found(EncryptionFinding::unreadable, pos);
        }
        Inflated in = inflate_start(data, f, cut, w.limits);
        if (in.invalid) return {};
        if (in.unreadable) return found(EncryptionFinding::unreadable, pos);
        bool inner_message = false;
        const EncryptionScan inner = walk_packets(in.bytes, in.cut, depth + 1, w, inner_message);
        if (inner.is_encrypted()) return EncryptionScan{inner.finding, pos, true};
        message_seen = message_seen || inner_message;
        break;
      }
      case Step::next:
        break;
    }
    if (!f.complete) {
      return f.error == PacketErrorKind::truncated ? ran_out(pos) : EncryptionScan{};
    }
    pos += f.p.size;
  }
  if (cut && (lone || !message_seen)) {
    // Our limits ended the content at a packet boundary: more may follow.
    return found(EncryptionFinding::unreadable, lone ? lone_at : pos);
  }
  return lone ? found(EncryptionFinding::encrypted_data, lone_at) : EncryptionScan{};
}

}  // namespace

EncryptionScan scan_for_encryption(std::string_view data, const ScanLimits& limits) {
  Walk w{limits};
  bool message_seen = false;
  return walk_packets(data, false, 0, w, message_seen);
}

namespace {

constexpr std::uint32_t kCrc24Init = 0xB704CEu;

constexpr std::array<std::uint32_t, 256> make_crc24_table() {
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t b = 0; b < 256; ++b) {
    std::uint32_t crc = b << 16;
    for (int i = 0; i < 8; ++i) {
      crc <<= 1;
      if (crc & 0x1000000u) crc ^= 0x1864CFBu;
    }
    t[b] = crc & 0xFFFFFFu;
  }
  return t;
}
constexpr std::array<std::uint32_t, 256> kCrc24Table = make_crc24_table();

// The CRC-24 register after `data`, starting from `crc` (no final step).
std::uint32_t crc24_update(std::uint32_t crc, std::string_view data) {
  for (char ch : data) {
    const auto b = static_cast<std::uint8_t>(ch);
    crc = ((crc << 8) ^ kCrc24Table[((crc >> 16) ^ b) & 0xFFu]) & 0xFFFFFFu;
  }
  return crc;
}

// A linear map of 24-bit registers: column i is the image of bit i.
using Crc24Matrix = std::array<std::uint32_t, 24>;

std::uint32_t apply(const Crc24Matrix& m, std::uint32_t v) {
  std::uint32_t r = 0;
  for (int i = 0; i < 24; ++i) {
    if ((v >> i) & 1u) r ^= m[static_cast<std::size_t>(i)];
  }
  return r;
}

Crc24Matrix compose(const Crc24Matrix& a, const Crc24Matrix& b) {  // a after b
  Crc24Matrix r{};
  for (std::size_t i = 0; i < 24; ++i) r[i] = apply(a, b[i]);
  return r;
}

// What feeding `n` zero bytes does to the register.
Crc24Matrix zero_bytes(std::size_t n) {
  Crc24Matrix step{}, result{};
  for (std::size_t i = 0; i < 24; ++i) {
    step[i] = crc24_update(1u << i, std::string_view("\0", 1));
    result[i] = 1u << i;
  }
  while (n > 0) {
    if (n & 1u) result = compose(step, result);
    step = compose(step, step);
    n >>= 1;
  }
  return result;
}

}  // namespace

void append_new_header(std::string& out, std::uint8_t tag, std::size_t len) {
  out.push_back(static_cast<char>(0xC0 | tag));
  if (len < 192) {
    out.push_back(static_cast<char>(len));
  } else if (len < 8384) {
    const std::size_t v = len - 192;
    out.push_back(static_cast<char>((v >> 8) + 192));
    out.push_back(static_cast<char>(v & 0xff));
  } else {
    out.push_back(static_cast<char>(0xff));
    for (int shift = 24; shift >= 0; shift -= 8) {
      out.push_back(static_cast<char>((len >> shift) & 0xff));
    }
  }
}

std::uint32_t crc24(std::string_view data) { return crc24_update(kCrc24Init, data); }

std::string armor_message(std::string_view binary) {
  std::string b64;
  b64.reserve((binary.size() + 2) / 3 * 4);
  util::base64_append(b64, binary);
  std::string out = "-----BEGIN PGP MESSAGE-----\n\n";
  out.reserve(out.size() + b64.size() + b64.size() / 64 + 64);
  for (std::size_t i = 0; i < b64.size(); i += 64) {
    out.append(b64, i, 64);
    out += '\n';
  }
  const std::uint32_t crc = crc24(binary);
  const char crc_bytes[3] = {static_cast<char>(crc >> 16), static_cast<char>(crc >> 8),
                             static_cast<char>(crc)};
  out += '=';
  util::base64_append(out, std::string_view(crc_bytes, 3));
  out += "\n-----END PGP MESSAGE-----\n";
  return out;
}

// The armor lines of shared_[skip:], CRLF, when the bytes before them fill
// whole 48-byte (64-character) lines; and what the CRC needs of them.
struct SharedArmor::Tail {
  std::shared_ptr<const std::string> lines;  // base64 lines of shared_[skip:], each ending in CRLF
  std::uint32_t crc0 = 0;  // register after shared_[skip:] from 0
  Crc24Matrix shift{};     // the register through shared_[skip:].size() zero bytes
};

SharedArmor::SharedArmor(std::string shared) : shared_(std::move(shared)) {}
SharedArmor::~SharedArmor() = default;

const SharedArmor::Tail& SharedArmor::tail_for(std::size_t skip) const {
  std::lock_guard lock(mu_);
  auto& slot = tails_[skip];
  if (!slot) {
    auto t = std::make_unique<Tail>();
    const std::string_view rest = std::string_view(shared_).substr(skip);
    std::string b64;
    b64.reserve((rest.size() + 2) / 3 * 4);
    util::base64_append(b64, rest);
    std::string lines;
    lines.reserve(b64.size() + b64.size() / 32 + 4);
    for (std::size_t i = 0; i < b64.size(); i += 64) {
      lines.append(b64, i, 64);
      lines += "\r\n";
    }
    t->lines = std::make_shared<const std::string>(std::move(lines));
    t->crc0 = crc24_update(0, rest);
    t->shift = zero_bytes(rest.size());
    slot = std::move(t);
  }
  return *slot;
}

std::size_t SharedArmor::armored_size_bound(std::size_t prefix_size) const {
  const std::size_t b64 = (prefix_size + shared_.size() + 2) / 3 * 4;
  return b64 + 2 * (b64 / 64 + 1) + 96;
}

std::string SharedArmor::armored_crlf(std::string_view prefix) const {
  std::string out;
  out.reserve(armored_size_bound(prefix.size()));
  append_armored_crlf(out, prefix);
  return out;
}

void SharedArmor::append_armored_crlf(std::string& out, std::string_view prefix) const {
  Pieces p = armored_pieces(prefix);
  out += p.first;
  out += *p.lines;
  out += p.last;
}

SharedArmor::Pieces SharedArmor::armored_pieces(std::string_view prefix) const {
  // Move the first `skip` shared bytes to the head so that the head fills
  // whole lines and the tail's lines are the same for every prefix of this
  // length modulo 48.
  const std::size_t skip = std::min((48 - prefix.size() % 48) % 48, shared_.size());
  std::string head(prefix);
  head.append(shared_, 0, skip);
  const Tail& tail = tail_for(skip);

  Pieces out;
  std::string b64;
  util::base64_append(b64, head);
  out.first = "-----BEGIN PGP MESSAGE-----\r\n\r\n";
  for (std::size_t i = 0; i < b64.size(); i += 64) {
    out.first.append(b64, i, 64);
    out.first += "\r\n";
  }
  out.lines = tail.lines;
  const std::uint32_t crc = apply(tail.shift, crc24_update(kCrc24Init, head)) ^ tail.crc0;
  const char crc_bytes[3] = {static_cast<char>(crc >> 16), static_cast<char>(crc >> 8),
                             static_cast<char>(crc)};
  out.last = "=";
  util::base64_append(out.last, std::string_view(crc_bytes, 3));
  out.last += "\r\n-----END PGP MESSAGE-----\r\n";
  return out;
}

}  // namespace tlpmail::openpgp
