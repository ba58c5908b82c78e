// OpenPGP packet framing and armor encoding (RFC 4880 §4.2, §6): a
// bounds-checked walk over packet headers that never reads a byte past the
// input, and base64 + CRC-24 for the armored form. No GPGME.
#include "openpgp/packets.h"

#include <algorithm>
#include <array>

namespace tlpmail::openpgp {

std::string_view to_string(PacketErrorKind k) {
  switch (k) {
    case PacketErrorKind::empty:
      return "no packets";
    case PacketErrorKind::not_a_packet:
      return "not an OpenPGP packet header";
    case PacketErrorKind::reserved_tag:
      return "reserved packet tag 0";
    case PacketErrorKind::truncated:
      return "packet truncated";
    case PacketErrorKind::bad_partial:
      return "partial body length on a packet that may not have one";
    case PacketErrorKind::indeterminate_length:
      return "indeterminate length on a packet that is not the last";
  }
  return "not an OpenPGP packet header";
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

Result<std::vector<Packet>, PacketError> split_packets(std::string_view data) {
  using Err = Unexpected<PacketError>;
  if (data.empty()) return Err(PacketError{PacketErrorKind::empty, 0});
  std::vector<Packet> packets;
  std::size_t pos = 0;
  while (pos < data.size()) {
    Packet p;
    p.offset = pos;
    const std::uint8_t ctb = byte_at(data, pos);
    if ((ctb & 0x80) == 0) return Err(PacketError{PacketErrorKind::not_a_packet, pos});
    p.new_format = (ctb & 0x40) != 0;
    p.tag = p.new_format ? (ctb & 0x3f) : ((ctb >> 2) & 0x0f);
    if (p.tag == 0) return Err(PacketError{PacketErrorKind::reserved_tag, pos});
    std::size_t cur = pos + 1;
    const PacketError truncated{PacketErrorKind::truncated, pos};

    if (!p.new_format) {
      const unsigned type = ctb & 0x03;
      if (type == 3) {
        // Indeterminate: the packet runs to the end of the input.
        p.header_size = 1;
        p.size = data.size() - pos;
        packets.push_back(p);
        break;
      }
      const std::size_t n = type == 0 ? 1 : type == 1 ? 2 : 4;
      std::size_t len = 0;
      if (!read_be(data, cur, n, len)) return Err(truncated);
      cur += n;
      if (len > data.size() - cur) return Err(truncated);
      p.header_size = 1 + n;
      p.size = p.header_size + len;
      packets.push_back(p);
      pos += p.size;
      continue;
    }

    // New format: one or more length fields; partial chunks until a definite one.
    bool first = true;
    for (;;) {
      if (cur >= data.size()) return Err(truncated);
      const std::uint8_t l0 = byte_at(data, cur);
      std::size_t len = 0;
      std::size_t n = 0;
      bool partial = false;
      if (l0 < 192) {
        len = l0;
        n = 1;
      } else if (l0 < 224) {
        if (cur + 1 >= data.size()) return Err(truncated);
        len = ((static_cast<std::size_t>(l0) - 192) << 8) + byte_at(data, cur + 1) + 192;
        n = 2;
      } else if (l0 == 255) {
        if (!read_be(data, cur + 1, 4, len)) return Err(truncated);
        n = 5;
      } else {
        if (!may_be_partial(p.tag)) return Err(PacketError{PacketErrorKind::bad_partial, pos});
        len = std::size_t{1} << (l0 & 0x1f);
        n = 1;
        partial = true;
        p.partial = true;
      }
      cur += n;
      if (first) {
        p.header_size = cur - pos;
        first = false;
      }
      if (len > data.size() - cur) return Err(truncated);
      cur += len;
      if (!partial) break;
    }
    p.size = cur - pos;
    packets.push_back(p);
    pos = cur;
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

std::uint32_t crc24(std::string_view data) { return crc24_update(kCrc24Init, data); }

namespace {

void base64_append(std::string& out, std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const std::uint32_t v = (static_cast<std::uint32_t>(static_cast<std::uint8_t>(in[i])) << 16) |
                            (static_cast<std::uint32_t>(static_cast<std::uint8_t>(in[i + 1])) << 8) |
                            static_cast<std::uint8_t>(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  const std::size_t rest = in.size() - i;
  if (rest == 0) return;
  std::uint32_t v = static_cast<std::uint32_t>(static_cast<std::uint8_t>(in[i])) << 16;
  if (rest == 2) v |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(in[i + 1])) << 8;
  out += kAlphabet[(v >> 18) & 63];
  out += kAlphabet[(v >> 12) & 63];
  out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
  out += '=';
}

}  // namespace

std::string armor_message(std::string_view binary) {
  std::string b64;
  b64.reserve((binary.size() + 2) / 3 * 4);
  base64_append(b64, binary);
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
  base64_append(out, std::string_view(crc_bytes, 3));
  out += "\n-----END PGP MESSAGE-----\n";
  return out;
}

// The armor lines of shared_[skip:], CRLF, when the bytes before them fill
// whole 48-byte (64-character) lines; and what the CRC needs of them.
struct SharedArmor::Tail {
  std::string lines;      // base64 lines of shared_[skip:], each ending in CRLF
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
    base64_append(b64, rest);
    t->lines.reserve(b64.size() + b64.size() / 32 + 4);
    for (std::size_t i = 0; i < b64.size(); i += 64) {
      t->lines.append(b64, i, 64);
      t->lines += "\r\n";
    }
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
  // Move the first `skip` shared bytes to the head so that the head fills
  // whole lines and the tail's lines are the same for every prefix of this
  // length modulo 48.
  const std::size_t skip = std::min((48 - prefix.size() % 48) % 48, shared_.size());
  std::string head(prefix);
  head.append(shared_, 0, skip);
  const Tail& tail = tail_for(skip);

  std::string b64;
  base64_append(b64, head);
  out += "-----BEGIN PGP MESSAGE-----\r\n\r\n";
  for (std::size_t i = 0; i < b64.size(); i += 64) {
    out.append(b64, i, 64);
    out += "\r\n";
  }
  out += tail.lines;
  const std::uint32_t crc = apply(tail.shift, crc24_update(kCrc24Init, head)) ^ tail.crc0;
  const char crc_bytes[3] = {static_cast<char>(crc >> 16), static_cast<char>(crc >> 8),
                             static_cast<char>(crc)};
  out += '=';
  base64_append(out, std::string_view(crc_bytes, 3));
  out += "\r\n-----END PGP MESSAGE-----\r\n";
}

}  // namespace tlpmail::openpgp
