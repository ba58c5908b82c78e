// Tests of openpgp::scan_for_encryption (packets.h): what real gpg writes
// (encrypted to a key, with a passphrase, signed only, keys), the same
// behind Marker, Padding, signature and key packets, inside compressed
// packets (stored deflate, zlib, uncompressed, BZip2, nested, too many),
// cut by the limits, damaged, and bytes that are not OpenPGP at all (file
// formats, text, random data). Also read_packet against split_packets.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "openpgp/packets.h"
#include "support/gpg_cli.h"

namespace tlpmail::openpgp {
namespace {

// ---- packets by hand ----

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s += static_cast<char>(x);
  return s;
}

// A new-format packet with a definite length.
std::string new_packet(int tag, const std::string& body) {
  std::string p(1, static_cast<char>(0xC0 | tag));
  const std::size_t n = body.size();
  if (n < 192) {
    p += static_cast<char>(n);
  } else if (n < 8384) {
    p += static_cast<char>(((n - 192) >> 8) + 192);
    p += static_cast<char>((n - 192) & 0xFF);
  } else {
    p += bytes({0xFF, static_cast<int>(n >> 24) & 0xFF, static_cast<int>(n >> 16) & 0xFF,
                static_cast<int>(n >> 8) & 0xFF, static_cast<int>(n) & 0xFF});
  }
  return p + body;
}

// An old-format packet with a one-octet length (body < 256) or, with
// `indeterminate`, running to the end of the input.
std::string old_packet(int tag, const std::string& body, bool indeterminate = false) {
  if (indeterminate) return std::string(1, static_cast<char>(0x80 | (tag << 2) | 3)) + body;
  return std::string(1, static_cast<char>(0x80 | (tag << 2))) +
         static_cast<char>(body.size()) + body;
}

const std::string kMarkerOld = bytes({0xA8, 0x03, 'P', 'G', 'P'});
const std::string kMarkerNew = bytes({0xCA, 0x03, 'P', 'G', 'P'});

std::string pkesk_v3() {
  // version 3, key ID, ECDH (18), then an ephemeral point and wrapped key.
  return new_packet(1, bytes({3, 1, 2, 3, 4, 5, 6, 7, 8, 18}) + std::string(40, '\x42'));
}
std::string seipd_v1() { return new_packet(18, std::string(1, '\x01') + std::string(60, '\x17')); }

// A raw deflate stream (RFC 1951) of stored blocks: what ZIP compression
// (algorithm 1) holds, inflated by zlib like any other deflate data.
std::string stored_deflate(const std::string& data) {
  std::string out;
  std::size_t pos = 0;
  do {
    const std::size_t n = std::min<std::size_t>(65535, data.size() - pos);
    const bool last = pos + n == data.size();
    out += static_cast<char>(last ? 1 : 0);
    out += bytes({static_cast<int>(n & 0xFF), static_cast<int>(n >> 8),
                  static_cast<int>(~n & 0xFF), static_cast<int>((~n >> 8) & 0xFF)});
    out.append(data, pos, n);
    pos += n;
  } while (pos < data.size());
  return out;
}

std::uint32_t adler32(const std::string& d) {
  std::uint32_t a = 1, b = 0;
  for (char c : d) {
    a = (a + static_cast<std::uint8_t>(c)) % 65521;
    b = (b + a) % 65521;
  }
  return (b << 16) | a;
}

// Compressed data packet (tag 8) holding `inner`: algorithm 0, 1 (ZIP) or
// 2 (ZLIB).
std::string compressed(int algorithm, const std::string& inner) {
  std::string body(1, static_cast<char>(algorithm));
  if (algorithm == 0) {
    body += inner;
  } else if (algorithm == 1) {
    body += stored_deflate(inner);
  } else {
    const std::uint32_t a = adler32(inner);
    body += bytes({0x78, 0x01}) + stored_deflate(inner) +
            bytes({static_cast<int>(a >> 24), static_cast<int>(a >> 16) & 0xFF,
                   static_cast<int>(a >> 8) & 0xFF, static_cast<int>(a) & 0xFF});
  }
  return new_packet(8, body);
}

// ---- what real gpg writes ----

// A throwaway GnuPG home with one test-only key.
class Gpg : public ::tlpmail::testing::GpgCli {
 public:
  Gpg() : GpgCli("Walk Test <walk@test.example>") {}

  // Standard output of a gpg command that must succeed; never empty.
  std::string out(std::vector<std::string> args,
                  const std::optional<std::string>& input = "secret text\n") {
    std::string o = GpgCli::out(std::move(args), input);
    EXPECT_FALSE(o.empty());
    return o;
  }
};

class ScanTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    gpg_ = new Gpg();
    to_key_ = gpg_->out({"--encrypt", "-r", "walk@test.example"});
    symmetric_ = gpg_->out({"--symmetric", "--s2k-count", "65536"});
  }
  static void TearDownTestSuite() {
    delete gpg_;
    gpg_ = nullptr;
  }
  static Gpg* gpg_;
  static std::string to_key_;     // PKESK + SEIPD
  static std::string symmetric_;  // SKESK + SEIPD
};
Gpg* ScanTest::gpg_ = nullptr;
std::string ScanTest::to_key_;
std::string ScanTest::symmetric_;

struct Case {
  std::string name;
  std::string data;
  EncryptionFinding want;
  std::size_t offset = 0;
  bool in_compressed = false;
};

void check(const std::vector<Case>& cases, const ScanLimits& limits = {}) {
  for (const Case& c : cases) {
    const EncryptionScan got = scan_for_encryption(c.data, limits);
    EXPECT_EQ(to_string(got.finding), to_string(c.want)) << c.name;
    if (c.want != EncryptionFinding::none) {
      EXPECT_EQ(got.offset, c.offset) << c.name;
      EXPECT_EQ(got.compressed, c.in_compressed) << c.name;
    }
  }
}

TEST_F(ScanTest, RealGpgCiphertextBehindLeadingPackets) {
  using F = EncryptionFinding;
  const std::string padding = new_packet(21, std::string(100, '\0'));
  // A v4 signature packet header: version 4, type, algorithms (body not checked further).
  const std::string signature = old_packet(2, bytes({4, 0x00, 22, 8}) + std::string(70, 'S'));
  const std::string ops = new_packet(4, bytes({3, 0x00, 8, 22, 1, 2, 3, 4, 5, 6, 7, 8, 1}));
  const std::string key = gpg_->out({"--export", "walk@test.example"}, std::nullopt);
  const std::string literal = new_packet(11, std::string("b\x04name\0\0\0\0hello", 14));
  const std::size_t pkesk_header = read_packet(to_key_, 0) ? read_packet(to_key_, 0)->header_size : 0;
  check({
      {"gpg --encrypt", to_key_, F::session_key, 0},
      {"gpg --symmetric", symmetric_, F::session_key, 0},
      {"old Marker + PKESK", kMarkerOld + to_key_, F::session_key, 5},
      {"new Marker + SKESK", kMarkerNew + symmetric_, F::session_key, 5},
      {"two Markers", kMarkerOld + kMarkerNew + to_key_, F::session_key, 10},
      {"Padding + PKESK", padding + to_key_, F::session_key, padding.size()},
      {"Marker + Padding + PKESK", kMarkerOld + padding + to_key_, F::session_key,
       5 + padding.size()},
      {"Signature + encrypted message (RFC 4880 signed message grammar)", signature + to_key_,
       F::session_key, signature.size()},
      {"One-Pass Signature + encrypted message", ops + symmetric_, F::session_key, ops.size()},
      {"public key block, then a message", key + to_key_, F::session_key, key.size()},
      {"literal, then a message", literal + to_key_, F::session_key, literal.size()},
      {"unknown packet type 60, then a message", new_packet(60, "x") + to_key_, F::session_key, 3},
      {"Trust, then a message", old_packet(12, bytes({0, 0})) + symmetric_, F::session_key, 4},
      {"MDC, then a message", new_packet(19, std::string(20, 'm')) + symmetric_, F::session_key,
       22},
      {"gpg --sign --encrypt",
       gpg_->out({"--sign", "--encrypt", "-r", "walk@test.example"}), F::session_key, 0},
      {"truncated after the PKESK version octet", to_key_.substr(0, pkesk_header + 1),
       F::session_key, 0},
  });
}

TEST_F(ScanTest, SignedOnlyKeysAndLiteralAreNotEncrypted) {
  using F = EncryptionFinding;
  check({
      {"gpg --sign (compressed OPS, literal, signature)", gpg_->out({"--sign"}), F::none},
      {"gpg --sign -z 0 (not compressed)", gpg_->out({"--sign", "-z", "0"}), F::none},
      {"gpg --sign, ZLIB", gpg_->out({"--sign", "--compress-algo", "zlib"}), F::none},
      {"gpg --sign of 200 KiB (compressed content longer than the limit)",
       gpg_->out({"--sign"}, std::string(200 * 1024, 'a')), F::none},
      {"gpg --store", gpg_->out({"--store"}), F::none},
      {"gpg --detach-sign", gpg_->out({"--detach-sign"}), F::none},
      {"gpg --export", gpg_->out({"--export", "walk@test.example"}, std::nullopt), F::none},
      {"gpg --export-secret-keys",
       gpg_->out({"--export-secret-keys", "walk@test.example"}, std::nullopt), F::none},
      {"Marker alone", kMarkerOld, F::none},
  });
}

TEST_F(ScanTest, LoneEncryptedDataCountsWhenItFramesToTheEnd) {
  using F = EncryptionFinding;
  // gpg --symmetric without its SKESK: a SEIPD packet alone.
  const auto skesk = read_packet(symmetric_, 0);
  ASSERT_TRUE(skesk);
  const std::string seipd = symmetric_.substr(skesk->size);
  ASSERT_EQ(static_cast<std::uint8_t>(seipd[0]) & 0x3f, kTagSeipd);
  check({
      {"SEIPD alone", seipd, F::encrypted_data, 0},
      {"Marker + SEIPD", kMarkerNew + seipd, F::encrypted_data, 5},
      {"SEIPD v2 by hand", new_packet(18, bytes({2, 9, 2, 16}) + std::string(80, 'z')),
       F::encrypted_data, 0},
      {"AEAD packet by hand", new_packet(20, bytes({1, 9, 2, 16}) + std::string(80, 'z')),
       F::encrypted_data, 0},
      {"SEIPD cut short", seipd.substr(0, seipd.size() - 1), F::none},
      {"SEIPD then bytes that are no packet", seipd + "garbage", F::none},
      {"SEIPD of version 7", new_packet(18, bytes({7}) + std::string(30, 'z')), F::none},
      // PGP 2 passphrase data (no session key packet, no MDC): no client decrypts it.
      {"lone SED", old_packet(9, std::string(40, 'q')), F::none},
      {"lone SED, indeterminate length", old_packet(9, std::string(40, 'q'), true), F::none},
      {"SKESK + SED (decided by the SKESK)",
       new_packet(3, bytes({4, 9, 3, 8, 1, 2, 3, 4, 5, 6, 7, 8, 96})) +
           old_packet(9, std::string(40, 'q')),
       F::session_key, 0},
  });
}

TEST_F(ScanTest, InsideCompressedPackets) {
  using F = EncryptionFinding;
  std::string deep = compressed(1, compressed(1, compressed(1, to_key_)));
  std::string many;
  for (int i = 0; i < 9; ++i) many += compressed(0, new_packet(21, "pad"));
  const std::string signed_then = compressed(1, new_packet(11, std::string("b\0\0\0\0\0", 6)));
  check({
      {"ZIP (stored deflate) around gpg --encrypt", compressed(1, to_key_), F::session_key, 0,
       true},
      {"ZLIB around gpg --symmetric", compressed(2, symmetric_), F::session_key, 0, true},
      {"uncompressed around Marker + PKESK", compressed(0, kMarkerOld + to_key_),
       F::session_key, 0, true},
      {"Marker + ZIP around PKESK", kMarkerOld + compressed(1, to_key_), F::session_key, 5,
       true},
      {"ZIP around a literal, then PKESK beside it", signed_then + to_key_, F::session_key,
       signed_then.size()},
      {"ZIP in ZIP around PKESK", compressed(1, compressed(1, to_key_)), F::session_key, 0, true},
      {"three levels (past max_depth 2)", deep, F::unreadable, 0, true},
      {"BZip2 (not read)", new_packet(8, std::string("\x03" "BZh91AY&SY", 11)), F::unreadable, 0},
      {"nine compressed packets (past 8)", many + to_key_, F::unreadable,
       8 * compressed(0, new_packet(21, "pad")).size()},
      {"damaged deflate data", new_packet(8, bytes({1, 0xFF, 0xFF, 0xFF})), F::none},
      {"compression algorithm 9", new_packet(8, bytes({9, 1, 2, 3})), F::none},
  });
}

TEST_F(ScanTest, LimitsCutBeforeADecisionCountAsUnreadable) {
  using F = EncryptionFinding;
  ScanLimits small;
  small.max_inflated = 4096;
  small.max_compressed_read = 1 << 20;
  const std::string padding = new_packet(21, std::string(8000, '\0'));
  const std::string literal = new_packet(11, std::string("b\x01x\0\0\0\0", 7) + std::string(8000, 'L'));
  check({
      // The limit ends the content inside the Padding: what follows is not known.
      {"padding longer than the limit, then PKESK", compressed(1, padding + to_key_),
       F::unreadable, 0, true},
      // A literal packet is a complete message: what is cut is its data.
      {"literal longer than the limit", compressed(1, literal), F::none},
      {"PKESK inside the limit", compressed(1, to_key_ + padding), F::session_key, 0, true},
      // Exactly at the limit, at a packet boundary.
      {"padding filling the limit exactly",
       compressed(0, new_packet(21, std::string(4096 - 3, '\0')) + to_key_), F::unreadable, 0,
       true},
  },
        small);
  ScanLimits tiny_read = small;
  tiny_read.max_compressed_read = 100;  // less than the stored deflate of padding + PKESK
  check({{"compressed input past max_compressed_read", compressed(1, padding + to_key_),
          F::unreadable, 0, true}},
        tiny_read);
}

TEST(ScanForEncryption, NotOpenPgp) {
  using F = EncryptionFinding;
  check({
      {"empty", "", F::none},
      {"PNG", std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16), F::none},
      {"JPEG", std::string("\xFF\xD8\xFF\xE0\0\x10JFIF\0", 11), F::none},
      {"GIF", "GIF89a", F::none},
      {"PDF", "%PDF-1.7\n", F::none},
      {"ZIP", std::string("PK\x03\x04\x14\0\0\0", 8), F::none},
      {"gzip", std::string("\x1f\x8b\x08\0", 4), F::none},
      {"OLE2 (old Office)", std::string("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8), F::none},
      {"pcap", std::string("\xD4\xC3\xB2\xA1\x02\0\x04\0", 8), F::none},
      {"pcap, big-endian", std::string("\xA1\xB2\xC3\xD4\0\x02\0\x04", 8), F::none},
      {"xz", std::string("\xFD" "7zXZ\0", 6), F::none},
      {"ASCII text", "Dear all, the report follows.\n", F::none},
      {"Latin-1 text starting with a section sign", "\xA7 1 Abs. 2 gilt.\n", F::none},
      {"Latin-1 text starting with E acute", "\xC9" "dition du rapport\n", F::none},
      {"windows-1252 low quote", "\x84Hallo\x93, schreibt sie.\n", F::none},
      {"UTF-8 text starting with E acute", "\xC3\x89quipe CERT\n", F::none},
      {"PKESK too short to hold its version", bytes({0xC1, 0x5E}), F::none},
      {"PKESK of version 9", bytes({0xC1, 0x5E, 0x09, 0x00}), F::none},
      {"PKESK v3 with a signing-only algorithm",
       new_packet(1, bytes({3, 1, 2, 3, 4, 5, 6, 7, 8, 17}) + std::string(20, 'x')), F::none},
      {"SKESK v4 with cipher 99", new_packet(3, bytes({4, 99, 3, 8})), F::none},
      // gpg stops at an invalid Marker, so the PKESK after it is never read.
      {"Marker with body PGX, then PKESK", bytes({0xA8, 3, 'P', 'G', 'X'}) + pkesk_v3(), F::none},
      {"Signature of version 9, then PKESK", old_packet(2, bytes({9, 0, 1, 2})) + pkesk_v3(),
       F::none},
      {"partial length on a Marker", bytes({0xCA, 0xE1, 'P', 'G'}) + pkesk_v3(), F::none},
  });
}

TEST(ScanForEncryption, RandomDataIsAlmostNeverEncrypted) {
  // 20,000 blocks of 4 KiB of random bytes (a fixed seed). A hit needs a
  // session key packet header with a valid version, algorithm and S2K or
  // key version octets, a SEIPD/AEAD with valid fields whose framing runs
  // exactly to the end, or a compressed packet that inflates to such (or
  // a BZip2 one with its magic). Measured: 0 here, 1 in 200,000 blocks.
  std::mt19937 rng(20240611);
  int hits = 0;
  std::string data(4096, '\0');
  for (int i = 0; i < 20000; ++i) {
    for (char& c : data) c = static_cast<char>(rng() & 0xFF);
    if (scan_for_encryption(data).is_encrypted()) ++hits;
  }
  RecordProperty("hits_of_20000", hits);
  EXPECT_LE(hits, 1);
}

TEST(ScanForEncryption, ReadPacketAgreesWithSplitPackets) {
  const std::string data = kMarkerOld + pkesk_v3() + seipd_v1() + old_packet(11, "bx", true);
  const auto all = split_packets(data);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 4u);
  std::size_t pos = 0;
  for (const Packet& p : *all) {
    const auto one = read_packet(data, pos);
    ASSERT_TRUE(one);
    EXPECT_EQ(one->tag, p.tag);
    EXPECT_EQ(one->size, p.size);
    EXPECT_EQ(one->header_size, p.header_size);
    pos += p.size;
  }
  const auto cut = read_packet(data.substr(0, 8), 5);
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().describe(), "packet truncated at byte 5");
  EXPECT_FALSE(read_packet(data, data.size()));
}

TEST(ScanForEncryption, LongInputsStayLinear) {
  // 1 MiB of one-octet partial chunks inside a SEIPD, and 100,000 Padding
  // packets before a PKESK: both are one pass.
  std::string chunks(1, static_cast<char>(0xC0 | 18));
  chunks += bytes({0xE0, 1});  // first chunk: 1 octet, the version
  for (int i = 0; i < (1 << 20); ++i) chunks += bytes({0xE0, 'z'});
  chunks += bytes({0});  // a last, empty definite chunk
  EXPECT_EQ(scan_for_encryption(chunks).finding, EncryptionFinding::encrypted_data);
  std::string pads;
  for (int i = 0; i < 100000; ++i) pads += new_packet(21, "p");
  EXPECT_EQ(scan_for_encryption(pads + pkesk_v3()).finding, EncryptionFinding::session_key);
}

}  // namespace
}  // namespace tlpmail::openpgp
