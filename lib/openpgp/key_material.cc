// extract_public_keys() and holds_secret_key_material(): armor decoding
// (every block, CRC-24 checked), a secret-packet search over every packet
// run the file holds, and the filter that re-frames the public packets
// gpg is given. Framing comes from packets.h; nothing here runs gpg.
#include "openpgp/key_material.h"

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "openpgp/packets.h"
#include "openpgp/session_key.h"
#include "util/base64.h"

namespace tlpmail::openpgp {

namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";
constexpr std::string_view kBeginPrefix = "-----BEGIN PGP ";
constexpr std::string_view kEndPrefix = "-----END PGP ";
constexpr std::string_view kDashes = "-----";
constexpr std::string_view kPublicLabel = "PUBLIC KEY BLOCK";
constexpr std::string_view kSecretMessage =
    "the file holds a secret key; keys_dir is for public keys only";

constexpr std::uint8_t kTagSignature = 2;
constexpr std::uint8_t kTagSecretKey = 5;
constexpr std::uint8_t kTagPublicKey = 6;
constexpr std::uint8_t kTagSecretSubkey = 7;
constexpr std::uint8_t kTagMarker = 10;
constexpr std::uint8_t kTagTrust = 12;
constexpr std::uint8_t kTagUserId = 13;
constexpr std::uint8_t kTagPublicSubkey = 14;
constexpr std::uint8_t kTagUserAttribute = 17;
constexpr std::uint8_t kTagPadding = 21;

bool is_secret_tag(std::uint8_t tag) { return tag == kTagSecretKey || tag == kTagSecretSubkey; }

std::string_view packet_name(std::uint8_t tag) {
  switch (tag) {
    case 1:
      return "public-key encrypted session key";
    case 2:
      return "signature";
    case 3:
      return "symmetric-key encrypted session key";
    case 4:
      return "one-pass signature";
    case 5:
      return "secret key";
    case 6:
      return "public key";
    case 7:
      return "secret subkey";
    case 8:
      return "compressed data";
    case 9:
      return "symmetrically encrypted data";
    case 10:
      return "marker";
    case 11:
      return "literal data";
    case 12:
      return "trust";
    case 13:
      return "user ID";
    case 14:
      return "public subkey";
    case 17:
      return "user attribute";
    case 18:
      return "encrypted and integrity protected data";
    case 19:
      return "modification detection code";
    case 20:
      return "AEAD encrypted data";
    case 21:
      return "padding";
    default:
      return "unknown";
  }
}

// The packet tag a header byte announces, or nullopt when it is none.
std::optional<std::uint8_t> tag_of_header(std::uint8_t ctb) {
  if ((ctb & 0x80) == 0) return std::nullopt;
  return (ctb & 0x40) ? (ctb & 0x3f) : ((ctb >> 2) & 0x0f);
}

// True when a top-level packet of `bin` is a secret key or subkey, also
// when the framing breaks: the packets before the fault count, and so does
// the header at the fault itself (a truncated secret key is still one).
bool has_secret_packet(std::string_view bin) {
  if (bin.empty()) return false;
  auto all = split_packets(bin);
  std::vector<Packet> packets;
  if (all) {
    packets = std::move(*all);
  } else {
    const std::size_t fault = all.error().offset;
    if (fault < bin.size()) {
      auto tag = tag_of_header(static_cast<std::uint8_t>(bin[fault]));
      if (tag && is_secret_tag(*tag)) return true;
    }
    if (fault > 0) {
      if (auto before = split_packets(bin.substr(0, fault))) packets = std::move(*before);
    }
  }
  for (const Packet& p : packets) {
    if (is_secret_tag(p.tag)) return true;
  }
  return false;
}

// Decodes base64 (whitespace ignored, '=' only as padding at the end).
// nullopt on any other character or a bad length.
std::optional<std::string> decode_base64(std::string_view text) {
  std::string out;
  out.reserve(text.size() * 3 / 4);
  util::Base64Bits bits;
  int pad = 0;
  std::size_t symbols = 0;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (c == '=') {
      ++pad;
      ++symbols;
      continue;
    }
    const int v = util::base64_digit(c);
    if (v < 0 || pad > 0) return std::nullopt;
    ++symbols;
    bits.add(v, out);
  }
  if (pad > 2 || symbols % 4 != 0) return std::nullopt;
  return out;
}

// A line of base64 outside armor: a run starts with a line of at least
// 16 characters (so that short words do not start one) and takes shorter
// lines after it (the last line of an encoding), but not a checksum line.
bool is_base64_line(std::string_view line, bool in_run) {
  if (line.empty() || line.front() == '=' || (!in_run && line.size() < 16)) return false;
  for (char c : line) {
    if (util::base64_digit(c) < 0 && c != '=') return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t nl = text.find('\n', start);
    const std::size_t end = nl == std::string_view::npos ? text.size() : nl;
    lines.push_back(trim(text.substr(start, end - start)));
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return lines;
}

// One armor block as found: its label ("PUBLIC KEY BLOCK"), its BEGIN
// line (1-based), the decoded bytes (as much as could be decoded) and the
// first fault, if any.
struct ArmorBlock {
  std::string label;
  int line = 0;
  std::string decoded;
  std::string fault;  // "" when the block is sound
};

// Every armor block of `text` and every run of base64 lines outside them.
struct TextScan {
  std::vector<ArmorBlock> blocks;
  std::vector<std::string> loose_base64;  // decoded runs outside armor
};

TextScan scan_text(std::string_view text) {
  TextScan scan;
  const std::vector<std::string_view> lines = split_lines(text);
  std::string run;  // base64 lines outside armor, joined
  auto end_run = [&] {
    if (run.empty()) return;
    if (auto bytes = decode_base64(run)) scan.loose_base64.push_back(std::move(*bytes));
    run.clear();
  };
  std::size_t i = 0;
  while (i < lines.size()) {
    // A BEGIN line counts wherever it starts in its line: in a binary file
    // the armor may follow the last packet without a line break.
    std::string_view line = lines[i];
    const std::size_t begin = line.find(kBeginPrefix);
    if (begin == std::string_view::npos) {
      if (is_base64_line(line, !run.empty())) {
        run.append(line);
      } else {
        end_run();
      }
      ++i;
      continue;
    }
    end_run();
    line.remove_prefix(begin);
    ArmorBlock block;
    block.line = static_cast<int>(i) + 1;
    std::string_view label = line.substr(kBeginPrefix.size());
    if (label.size() < kDashes.size() || label.substr(label.size() - kDashes.size()) != kDashes) {
      block.fault = "malformed BEGIN line";
    } else {
      label.remove_suffix(kDashes.size());
    }
    block.label = std::string(label);
    ++i;
    // Armor headers ("Version: ...", "Comment: ..."): base64 has no ':'.
    while (i < lines.size() && !lines[i].empty() && lines[i].find(':') != std::string_view::npos &&
           lines[i].substr(0, kDashes.size()) != kDashes) {
      ++i;
    }
    std::string body;
    std::optional<std::string_view> crc;
    bool ended = false;
    for (; i < lines.size(); ++i) {
      const std::string_view l = lines[i];
      if (l.substr(0, kDashes.size()) == kDashes) {
        if (l.substr(0, kEndPrefix.size()) == kEndPrefix) {
          ended = true;
          if (l != std::string(kEndPrefix) + block.label + std::string(kDashes) &&
              block.fault.empty()) {
            block.fault = "END line does not match BEGIN PGP " + block.label;
          }
          ++i;
        }
        break;  // an END line, or a BEGIN line of a next block
      }
      if (!l.empty() && l.front() == '=' && l.size() == 5) {
        crc = l.substr(1);
        continue;
      }
      body.append(l);
    }
    if (!ended && block.fault.empty()) block.fault = "no END line";
    auto decoded = decode_base64(body);
    if (!decoded) {
      if (block.fault.empty()) block.fault = "invalid base64";
    } else {
      block.decoded = std::move(*decoded);
      if (crc && block.fault.empty()) {
        auto sum = decode_base64(*crc);
        const std::uint32_t want =
            sum && sum->size() == 3
                ? (static_cast<std::uint32_t>(static_cast<std::uint8_t>((*sum)[0])) << 16) |
                      (static_cast<std::uint32_t>(static_cast<std::uint8_t>((*sum)[1])) << 8) |
                      static_cast<std::uint8_t>((*sum)[2])
                : 0xffffffffu;
        if (want != crc24(block.decoded)) block.fault = "CRC-24 mismatch";
      }
    }
    scan.blocks.push_back(std::move(block));
  }
  end_run();
  return scan;
}

std::string where_block(std::size_t index, const ArmorBlock& b) {
  return "armor block " + std::to_string(index + 1) + " (line " + std::to_string(b.line) + ")";
}

Unexpected<KeyFileProblem> problem(KeyFileFault fault, std::string message) {
  return Unexpected(KeyFileProblem{fault, std::move(message)});
}

// Appends the public packets of one packet run (the binary file or one
// armor block) to `out`; `where` prefixes messages ("" for a binary file).
Result<void, KeyFileProblem> filter_run(std::string_view bin, const std::string& where,
                                        PublicKeyPackets& out) {
  const std::string prefix = where.empty() ? std::string() : where + ": ";
  auto packets = split_packets(bin);
  if (!packets) return problem(KeyFileFault::malformed, prefix + packets.error().describe());
  bool signatures_only = true;
  for (const Packet& p : *packets) signatures_only = signatures_only && p.tag == kTagSignature;
  bool first = true;
  for (const Packet& p : *packets) {
    if (!p.new_format && p.header_size == 1) {
      return problem(KeyFileFault::malformed,
                     prefix + "indeterminate length at byte " + std::to_string(p.offset));
    }
    switch (p.tag) {
      case kTagTrust:
      case kTagMarker:
      case kTagPadding:
        ++out.dropped;
        continue;
      case kTagPublicKey:
      case kTagPublicSubkey:
      case kTagUserId:
      case kTagUserAttribute:
      case kTagSignature:
        break;
      default:
        return problem(KeyFileFault::not_public_key,
                       prefix + "the file holds a " + std::string(packet_name(p.tag)) +
                           " packet (tag " + std::to_string(p.tag) +
                           "), which is not part of a public key; keys_dir takes exported "
                           "public keys only (gpg --export)");
    }
    if (first && p.tag != kTagPublicKey && !signatures_only) {
      return problem(KeyFileFault::malformed, prefix + "starts with a " +
                                                  std::string(packet_name(p.tag)) +
                                                  " packet, not with a public key");
    }
    first = false;
    const std::string_view body = packet_body(bin, p);
    if (p.tag == kTagPublicKey) {
      ++out.public_keys;
      out.primary_fingerprints.push_back(v4_fingerprint(body));
    }
    append_new_header(out.binary, p.tag, body.size());
    out.binary.append(body);
  }
  return {};
}

}  // namespace

bool holds_secret_key_material(std::string_view file) {
  if (file.find("-----BEGIN PGP PRIVATE KEY BLOCK-----") != std::string_view::npos) return true;
  std::string_view data = file;
  if (data.substr(0, kBom.size()) == kBom) data.remove_prefix(kBom.size());
  if (!data.empty() && (static_cast<std::uint8_t>(data.front()) & 0x80) &&
      has_secret_packet(data)) {
    return true;
  }
  // Text, or binary with text in it: every armor block and base64 run.
  const TextScan scan = scan_text(data);
  for (const ArmorBlock& b : scan.blocks) {
    if (b.label.find("PRIVATE") != std::string::npos ||
        b.label.find("SECRET") != std::string::npos || has_secret_packet(b.decoded)) {
      return true;
    }
  }
  for (const std::string& run : scan.loose_base64) {
    if (has_secret_packet(run)) return true;
  }
  return false;
}

Result<PublicKeyPackets, KeyFileProblem> extract_public_keys(std::string_view file) {
  if (file.size() > kMaxPublicKeyFileSize) {
    return problem(KeyFileFault::too_large,
                   "the file is " + std::to_string(file.size()) + " bytes; a key file may have " +
                       std::to_string(kMaxPublicKeyFileSize) +
                       " bytes at most (export the key without third-party signatures: gpg "
                       "--export --export-options export-minimal)");
  }
  if (holds_secret_key_material(file)) {
    return problem(KeyFileFault::secret_key, std::string(kSecretMessage));
  }
  std::string_view data = file;
  if (data.substr(0, kBom.size()) == kBom) data.remove_prefix(kBom.size());

  PublicKeyPackets out;
  if (!data.empty() && (static_cast<std::uint8_t>(data.front()) & 0x80)) {
    if (auto r = filter_run(data, "", out); !r) return Unexpected(r.error());
  } else {
    const TextScan scan = scan_text(data);
    for (std::size_t i = 0; i < scan.blocks.size(); ++i) {
      const ArmorBlock& b = scan.blocks[i];
      if (!b.fault.empty()) {
        return problem(KeyFileFault::malformed, where_block(i, b) + ": " + b.fault);
      }
      if (b.label != kPublicLabel) {
        return problem(KeyFileFault::not_public_key,
                       where_block(i, b) + " is a PGP " + b.label + ", not a PGP " +
                           std::string(kPublicLabel) +
                           "; keys_dir takes exported public keys only (gpg --armor --export)");
      }
      if (auto r = filter_run(b.decoded, where_block(i, b), out); !r) {
        return Unexpected(r.error());
      }
    }
  }
  if (out.binary.empty()) return problem(KeyFileFault::no_key, "no OpenPGP key found");
  return out;
}

}  // namespace tlpmail::openpgp
