// Tests of packets.h (framing on crafted packets, CRC-24, armor) and of
// fanout.h with real gpg: a list home (list secret key, members' public
// keys) signs and encrypts once; each member's home (its own secret key)
// must decrypt its own copy, verify the list's signature, and fail on
// every other member's copy. Keys are generated once per test process.
#include "openpgp/fanout.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "openpgp/armor.h"
#include "openpgp/context.h"
#include "openpgp/gpg_test_keys.h"
#include "openpgp/home_cache.h"
#include "openpgp/list_key.h"
#include "openpgp/packets.h"
#include "openpgp/temp_home.h"
#include "util/text.h"

namespace tlpmail::openpgp {
namespace {

namespace tk = tlpmail::testkeys;

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s += static_cast<char>(x);
  return s;
}

// ---- packet framing ----

struct FramingCase {
  const char* name;
  std::string data;
  std::uint8_t tag;
  bool new_format;
  bool partial;
  std::size_t header_size;
};

TEST(PacketsTest, SplitsEachLengthForm) {
  const std::string body5(5, 'x');
  const std::string body300(300, 'y');
  const std::vector<FramingCase> cases = {
      {"old one-octet", bytes({0x80 | (11 << 2) | 0, 5}) + body5, 11, false, false, 2},
      {"old two-octet", bytes({0x80 | (11 << 2) | 1, 0x01, 0x2c}) + body300, 11, false, false, 3},
      {"old four-octet", bytes({0x80 | (2 << 2) | 2, 0, 0, 0, 5}) + body5, 2, false, false, 5},
      {"old indeterminate", bytes({0x80 | (8 << 2) | 3}) + body300, 8, false, false, 1},
      {"new one-octet", bytes({0xC0 | 1, 5}) + body5, 1, true, false, 2},
      // 300 = ((0xC0 - 192) << 8) + 108 + 192
      {"new two-octet", bytes({0xC0 | 18, 0xC0, 108}) + body300, 18, true, false, 3},
      {"new five-octet", bytes({0xC0 | 2, 0xFF, 0, 0, 1, 0x2C}) + body300, 2, true, false, 6},
      // partial: 2 bytes (0xE1), 1 byte (0xE0), then a definite 5-byte tail
      {"new partial", bytes({0xC0 | 18, 0xE1, 'a', 'b', 0xE0, 'c', 5}) + body5, 18, true, true, 2},
  };
  for (const auto& c : cases) {
    auto got = split_packets(c.data);
    ASSERT_TRUE(got) << c.name << ": " << got.error().describe();
    ASSERT_EQ(got->size(), 1u) << c.name;
    const Packet& p = (*got)[0];
    EXPECT_EQ(p.tag, c.tag) << c.name;
    EXPECT_EQ(p.new_format, c.new_format) << c.name;
    EXPECT_EQ(p.partial, c.partial) << c.name;
    EXPECT_EQ(p.offset, 0u) << c.name;
    EXPECT_EQ(p.header_size, c.header_size) << c.name;
    EXPECT_EQ(p.size, c.data.size()) << c.name;
  }
}

TEST(PacketsTest, SplitsASequenceWithExactRanges) {
  const std::string a = bytes({0xC1, 3, 3, 0, 0});
  const std::string b = bytes({0x84, 2, 'h', 'i'});
  const std::string c = bytes({0xD2, 0xE0, 'z', 0});  // partial 1 byte, then empty tail
  auto got = split_packets(a + b + c);
  ASSERT_TRUE(got) << got.error().describe();
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[0].tag, 1);
  EXPECT_EQ((*got)[0].offset, 0u);
  EXPECT_EQ((*got)[0].size, a.size());
  EXPECT_EQ((*got)[1].tag, 1);
  EXPECT_EQ((*got)[1].offset, a.size());
  EXPECT_EQ((*got)[1].size, b.size());
  EXPECT_EQ(packet_body(a + b + c, (*got)[1]), "hi");
  EXPECT_EQ((*got)[2].tag, 18);
  EXPECT_EQ((*got)[2].offset, a.size() + b.size());
  EXPECT_EQ((*got)[2].size, c.size());
}

struct BadCase {
  const char* name;
  std::string data;
  PacketErrorKind want;
  std::size_t want_offset;
};

TEST(PacketsTest, RefusesBrokenFraming) {
  const std::vector<BadCase> cases = {
      {"empty", "", PacketErrorKind::empty, 0},
      {"no bit 7", bytes({0x3F, 1, 0}), PacketErrorKind::not_a_packet, 0},
      {"garbage after packet", bytes({0xC1, 1, 3, 'x'}), PacketErrorKind::not_a_packet, 3},
      {"new tag 0", bytes({0xC0, 0}), PacketErrorKind::reserved_tag, 0},
      {"old tag 0", bytes({0x80, 0}), PacketErrorKind::reserved_tag, 0},
      {"no length octet", bytes({0xC1}), PacketErrorKind::truncated, 0},
      {"two-octet length cut", bytes({0xC1, 0xC0}), PacketErrorKind::truncated, 0},
      {"five-octet length cut", bytes({0xC1, 0xFF, 0, 0}), PacketErrorKind::truncated, 0},
      {"huge five-octet length", bytes({0xC1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1}),
       PacketErrorKind::truncated, 0},
      {"body cut", bytes({0xC1, 5, 1, 2}), PacketErrorKind::truncated, 0},
      {"old body cut", bytes({0x85, 0, 9, 1}), PacketErrorKind::truncated, 0},
      {"old length cut", bytes({0x86, 0, 0}), PacketErrorKind::truncated, 0},
      {"second packet cut", bytes({0xC1, 0, 0xC1, 3, 1}), PacketErrorKind::truncated, 2},
      {"partial on PKESK", bytes({0xC1, 0xE0, 1, 0}), PacketErrorKind::bad_partial, 0},
      {"partial chunk cut", bytes({0xD2, 0xE2, 1, 2}), PacketErrorKind::truncated, 0},
      {"partial without final length", bytes({0xD2, 0xE0, 1}), PacketErrorKind::truncated, 0},
  };
  for (const auto& c : cases) {
    auto got = split_packets(c.data);
    ASSERT_FALSE(got) << c.name;
    EXPECT_EQ(got.error().kind, c.want) << c.name << ": " << got.error().describe();
    EXPECT_EQ(got.error().offset, c.want_offset) << c.name;
  }
  EXPECT_EQ(PacketError({PacketErrorKind::truncated, 37}).describe(),
            "packet truncated at byte 37");
}

TEST(PacketsTest, EveryProperPrefixIsTruncated) {
  const std::string whole = bytes({0xC1, 0xC0, 108}) + std::string(300, 'q');
  ASSERT_TRUE(split_packets(whole));
  for (std::size_t n = 1; n < whole.size(); ++n) {
    auto got = split_packets(whole.substr(0, n));
    ASSERT_FALSE(got) << n;
    EXPECT_EQ(got.error().kind, PacketErrorKind::truncated) << n;
  }
}

TEST(PacketsTest, RandomBytesNeverEscapeTheInput) {
  std::mt19937 rng(42);
  for (int round = 0; round < 20000; ++round) {
    std::string data(rng() % 40, '\0');
    for (char& ch : data) ch = static_cast<char>(rng());
    if (!data.empty() && round % 2 == 0) data[0] = static_cast<char>(data[0] | 0x80);
    auto got = split_packets(data);
    if (!got) {
      EXPECT_LE(got.error().offset, data.size());
      continue;
    }
    std::size_t next = 0;
    for (const Packet& p : *got) {
      EXPECT_EQ(p.offset, next);
      EXPECT_LE(p.header_size, p.size);
      next = p.offset + p.size;
    }
    EXPECT_EQ(next, data.size());
  }
}

TEST(PacketsTest, ReadsPkeskKeyIds) {
  const std::string good = bytes({0xC1, 10, 3, 0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0, 18});
  auto packets = split_packets(good);
  ASSERT_TRUE(packets);
  auto id = pkesk_key_id(good, (*packets)[0]);
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(*id, "123456789ABCDEF0");

  struct Case {
    const char* name;
    std::string data;
    const char* want;
  };
  const std::vector<Case> cases = {
      {"version 6", bytes({0xC1, 10, 6, 1, 2, 3, 4, 5, 6, 7, 8, 18}), "has version 6"},
      {"too short", bytes({0xC1, 3, 3, 1, 2}), "too short"},
      {"not a PKESK", bytes({0xC3, 10, 3, 1, 2, 3, 4, 5, 6, 7, 8, 18}), "not a PKESK"},
  };
  for (const auto& c : cases) {
    auto p = split_packets(c.data);
    ASSERT_TRUE(p) << c.name;
    auto got = pkesk_key_id(c.data, (*p)[0]);
    ASSERT_FALSE(got) << c.name;
    EXPECT_NE(got.error().message.find(c.want), std::string::npos)
        << c.name << ": " << got.error().message;
  }
}

TEST(PacketsTest, Crc24MatchesTheStandardCheckValue) {
  EXPECT_EQ(crc24(""), 0xB704CEu);
  EXPECT_EQ(crc24("123456789"), 0x21CF02u);  // CRC-24/OPENPGP check value
}

// The fast armor of copies that share their data equals the plain one
// (with CRLF) for every prefix length and alignment, CRC included.
TEST(PacketsTest, SharedArmorEqualsArmorOfTheWholeMessage) {
  std::mt19937 rng(7);
  auto bytes = [&](std::size_t n) {
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng() & 0xFF);
    return s;
  };
  auto crlf = [](const std::string& lf) {
    std::string out;
    for (char c : lf) {
      if (c == '\n') out += '\r';
      out += c;
    }
    return out;
  };
  for (std::size_t shared_size : {0u, 1u, 30u, 47u, 48u, 49u, 1000u, 160001u}) {
    const std::string shared = bytes(shared_size);
    SharedArmor armor(shared);
    for (std::size_t prefix_size = 0; prefix_size < 130; prefix_size += (shared_size > 2000 ? 7 : 1)) {
      const std::string prefix = bytes(prefix_size);
      ASSERT_EQ(armor.armored_crlf(prefix), crlf(armor_message(prefix + shared)))
          << "shared " << shared_size << " prefix " << prefix_size;
      // The same in pieces; prefixes of one alignment share their lines.
      const SharedArmor::Pieces p = armor.armored_pieces(prefix);
      ASSERT_NE(p.lines, nullptr);
      ASSERT_EQ(p.first + *p.lines + p.last, armor.armored_crlf(prefix));
      ASSERT_EQ(armor.armored_pieces(bytes(prefix_size + 48)).lines.get(), p.lines.get());
    }
  }
}

TEST(PacketsTest, ArmorIsOneBlockThatGpgDearmors) {
  auto home = tk::new_home();
  ASSERT_TRUE(home);
  const std::string h = home->path().string();
  for (std::size_t n : {0u, 1u, 2u, 3u, 47u, 48u, 49u, 1000u}) {
    std::string binary(n, '\0');
    for (std::size_t i = 0; i < n; ++i) binary[i] = static_cast<char>(i * 7 + 1);
    const std::string armored = armor_message(binary);
    EXPECT_EQ(check_message_framing(armored), ArmorFraming::alone) << n;
    tk::write_file(h + "/a.asc", armored);
    const std::string got = tk::gpg(h, {"--dearmor", "--output", "-", h + "/a.asc"});
    EXPECT_EQ(got, binary) << n;
  }
}

// ---- fan-out with real gpg ----

struct Member {
  std::unique_ptr<TempHome> home;
  std::string fpr;
  std::string encryption_key_id;  // 16 hex digits of the key gpg encrypts to
};

class FanoutTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_TRUE(initialize());
    list_home_ = tk::new_home();
    ASSERT_TRUE(list_home_);
    auto ctx = Context::open(list_home_->path());
    ASSERT_TRUE(ctx) << ctx.error().message;
    ctx_ = new Context(std::move(*ctx));
    auto lf = create_list_key(*ctx_, "ops@lists.example", "Ops List");
    ASSERT_TRUE(lf) << lf.error().message;
    list_fpr_ = *lf;
    auto list_pub = export_public(*ctx_, list_fpr_);
    ASSERT_TRUE(list_pub) << list_pub.error().message;

    members_ = new std::vector<Member>();
    const std::vector<std::string> algos = {"cv25519", "cv25519", "cv25519", "rsa3072"};
    for (std::size_t i = 0; i < algos.size(); ++i) {
      Member m;
      m.home = tk::new_home();
      ASSERT_TRUE(m.home);
      const std::string h = m.home->path().string();
      const std::string email = "m" + std::to_string(i) + "@members.example";
      if (algos[i] == "rsa3072") {
        // The primary key encrypts itself: the PKESK names the primary key.
        m.fpr = tk::generate(h, "Member", email, "rsa3072", "sign,cert,encr", "never");
      } else {
        m.fpr = tk::generate(h, "Member", email, "ed25519", "sign,cert", "never");
        tk::add_subkey(h, m.fpr, "cv25519", "encr", "never");
      }
      tk::write_file(h + "/list.asc", *list_pub);
      tk::gpg(h, {"--import", h + "/list.asc"});
      auto imported = ctx_->import_data(tk::export_public(h, m.fpr));
      ASSERT_TRUE(imported) << imported.error().message;
      auto facts = ctx_->find_key(m.fpr);
      ASSERT_TRUE(facts && *facts);
      for (const SubkeyFacts& sk : (*facts)->subkeys) {
        if (sk.can_encrypt) m.encryption_key_id = sk.fingerprint.substr(24);
      }
      ASSERT_EQ(m.encryption_key_id.size(), 16u);
      members_->push_back(std::move(m));
    }
  }

  static void TearDownTestSuite() {
    delete members_;
    delete ctx_;
    list_home_.reset();
    members_ = nullptr;
    ctx_ = nullptr;
  }

  static std::vector<std::string> all_fprs() {
    std::vector<std::string> out;
    for (const Member& m : *members_) out.push_back(m.fpr);
    return out;
  }

  struct GpgDecrypt {
    int status = -1;
    std::string plaintext;
    std::string status_lines;
  };

  // Decrypts `message` with the gpg command in `home`.
  static GpgDecrypt gpg_decrypt(const std::string& home, const std::string& message) {
    const std::string in = home + "/msg";
    const std::string out = home + "/out";
    tk::write_file(in, message);
    std::filesystem::remove(out);
    tk::RunResult r = tk::run({"gpg", "--homedir", home, "--batch", "--status-fd", "1", "--output",
                               out, "--decrypt", in});
    GpgDecrypt d;
    d.status = r.status;
    d.status_lines = r.out;
    d.plaintext = tk::read_file(out);
    return d;
  }

  static inline std::unique_ptr<TempHome> list_home_;
  static inline Context* ctx_ = nullptr;
  static inline std::string list_fpr_;
  static inline std::vector<Member>* members_ = nullptr;
};

const std::string kPlaintext =
    "Content-Type: text/plain\r\n\r\n[TLP:AMBER] indicators: 198.51.100.7\r\n";

TEST_F(FanoutTest, EachCopyDecryptsWithItsMembersKeyAndNoOther) {
  auto msg = sign_and_encrypt_once(*ctx_, kPlaintext, list_fpr_, all_fprs());
  ASSERT_TRUE(msg) << msg.error().message;
  ASSERT_EQ(msg->recipients().size(), members_->size());
  for (std::size_t i = 0; i < members_->size(); ++i) {
    const Member& owner = (*members_)[i];
    EXPECT_EQ(msg->key_id_for(owner.fpr), owner.encryption_key_id) << i;
    auto copy = msg->copy_for(owner.fpr);
    ASSERT_TRUE(copy) << copy.error().message;
    EXPECT_EQ(check_message_framing(*copy), ArmorFraming::alone);
    for (std::size_t j = 0; j < members_->size(); ++j) {
      const Member& reader = (*members_)[j];
      GpgDecrypt got = gpg_decrypt(reader.home->path().string(), *copy);
      if (i == j) {
        EXPECT_EQ(got.status, 0) << "member " << i << ":\n" << got.status_lines;
        EXPECT_EQ(got.plaintext, kPlaintext) << "member " << i;
        EXPECT_NE(got.status_lines.find("[GNUPG:] GOODSIG "), std::string::npos) << i;
        EXPECT_NE(got.status_lines.find("[GNUPG:] VALIDSIG "), std::string::npos) << i;
        EXPECT_NE(got.status_lines.find(" " + list_fpr_ + "\n"), std::string::npos)
            << "signature not by the list key:\n" << got.status_lines;
        EXPECT_NE(got.status_lines.find("[GNUPG:] DECRYPTION_OKAY"), std::string::npos) << i;
      } else {
        EXPECT_NE(got.status, 0) << "copy " << i << " decrypted in home " << j;
        EXPECT_TRUE(got.plaintext.empty()) << "copy " << i << " in home " << j;
        EXPECT_EQ(got.status_lines.find("DECRYPTION_OKAY"), std::string::npos);
        EXPECT_NE(got.status_lines.find("[GNUPG:] NO_SECKEY " + owner.encryption_key_id),
                  std::string::npos)
            << got.status_lines;
      }
    }
  }
}

// The list key's handle is looked up once (home_cache.h): the second
// message is signed with the kept handle, and its copies still carry a
// good signature by the list key.
TEST_F(FanoutTest, SignerHandleIsKeptBetweenMessages) {
  auto first = sign_and_encrypt_once(*ctx_, kPlaintext, list_fpr_, all_fprs());
  ASSERT_TRUE(first) << first.error().message;
  const std::size_t hits = ctx_->cache().hits();
  const std::size_t misses = ctx_->cache().misses();
  auto second = sign_and_encrypt_once(*ctx_, kPlaintext, list_fpr_, all_fprs());
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(ctx_->cache().hits(), hits + 1);
  EXPECT_EQ(ctx_->cache().misses(), misses);
  const Member& m = members_->front();
  auto copy = second->copy_for(m.fpr);
  ASSERT_TRUE(copy) << copy.error().message;
  GpgDecrypt got = gpg_decrypt(m.home->path().string(), *copy);
  EXPECT_EQ(got.status, 0) << got.status_lines;
  EXPECT_NE(got.status_lines.find("[GNUPG:] VALIDSIG "), std::string::npos) << got.status_lines;
  EXPECT_NE(got.status_lines.find(" " + list_fpr_ + "\n"), std::string::npos) << got.status_lines;
}

TEST_F(FanoutTest, EachCopyHoldsOnlyItsMembersKeyId) {
  auto msg = sign_and_encrypt_once(*ctx_, kPlaintext, list_fpr_, all_fprs());
  ASSERT_TRUE(msg) << msg.error().message;
  auto empty = tk::new_home();
  ASSERT_TRUE(empty);
  const std::string h = empty->path().string();
  for (std::size_t i = 0; i < members_->size(); ++i) {
    const Member& m = (*members_)[i];
    auto copy = msg->copy_for(m.fpr, CopyFormat::binary);
    ASSERT_TRUE(copy) << copy.error().message;
    auto packets = split_packets(*copy);
    ASSERT_TRUE(packets);
    ASSERT_EQ(packets->size(), 2u);
    EXPECT_EQ((*packets)[0].tag, kTagPkesk);
    EXPECT_EQ((*packets)[1].tag, kTagSeipd);
    EXPECT_EQ(copy->substr((*packets)[1].offset), msg->shared_data());

    tk::write_file(h + "/c.gpg", *copy);
    const std::string listing =
        tk::run({"gpg", "--homedir", h, "--batch", "--list-packets", h + "/c.gpg"}).out;
    std::size_t pkesks = 0;
    for (std::size_t pos = 0; (pos = listing.find(":pubkey enc packet:", pos)) != std::string::npos;
         ++pos) {
      ++pkesks;
    }
    EXPECT_EQ(pkesks, 1u) << listing;
    EXPECT_NE(listing.find("keyid " + m.encryption_key_id), std::string::npos) << listing;
    for (const Member& other : *members_) {
      if (&other == &m) continue;
      EXPECT_EQ(listing.find(other.encryption_key_id), std::string::npos) << listing;
    }
  }
}

TEST_F(FanoutTest, BinaryCopyDecryptsAndNonRecipientsGetNothing) {
  const std::vector<std::string> two = {(*members_)[0].fpr, (*members_)[3].fpr};
  auto msg = sign_and_encrypt_once(*ctx_, kPlaintext, list_fpr_, two);
  ASSERT_TRUE(msg) << msg.error().message;
  EXPECT_EQ(msg->recipients().size(), 2u);
  auto copy = msg->copy_for((*members_)[3].fpr, CopyFormat::binary);
  ASSERT_TRUE(copy) << copy.error().message;
  GpgDecrypt got = gpg_decrypt((*members_)[3].home->path().string(), *copy);
  EXPECT_EQ(got.status, 0) << got.status_lines;
  EXPECT_EQ(got.plaintext, kPlaintext);

  auto none = msg->copy_for((*members_)[1].fpr);
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("is not a recipient"), std::string::npos);
  EXPECT_EQ(msg->key_id_for((*members_)[1].fpr), "");
}

TEST_F(FanoutTest, RefusesBadArguments) {
  const std::string m0 = (*members_)[0].fpr;
  struct Case {
    const char* name;
    std::string signer;
    std::vector<std::string> recipients;
    const char* want;
  };
  const std::vector<Case> cases = {
      {"no recipients", list_fpr_, {}, "no recipients"},
      {"twice", list_fpr_, {m0, ascii_lower(m0)}, "listed twice"},
      {"not a fingerprint", list_fpr_, {"alice@example.org"}, "is not a fingerprint"},
      {"unknown recipient", list_fpr_, {std::string(40, 'A')}, "no public key for the recipient"},
      {"signer not a fingerprint", "list", {m0}, "signer \"list\" is not a fingerprint"},
      {"signer without secret key", m0, {m0}, "no secret key for the signer"},
  };
  for (const auto& c : cases) {
    auto got = sign_and_encrypt_once(*ctx_, kPlaintext, c.signer, c.recipients);
    ASSERT_FALSE(got) << c.name;
    EXPECT_EQ(got.error().kind, ErrorClass::permanent) << c.name;
    EXPECT_NE(got.error().message.find(c.want), std::string::npos)
        << c.name << ": " << got.error().message;
  }
}

TEST_F(FanoutTest, SeveralSignersMakeOneSignatureEach) {
  // A second list key signs too (a rotation's announcement: old and new key).
  auto second = create_list_key(*ctx_, "second@lists.example", "Second");
  ASSERT_TRUE(second) << second.error().message;
  const Member& m = (*members_)[0];
  const std::string h = m.home->path().string();
  tk::write_file(h + "/second.asc", *export_public(*ctx_, *second));
  tk::gpg(h, {"--import", h + "/second.asc"});
  auto msg = sign_and_encrypt_once(*ctx_, kPlaintext, std::vector<std::string>{list_fpr_, *second},
                                   {m.fpr});
  ASSERT_TRUE(msg) << msg.error().message;
  GpgDecrypt got = gpg_decrypt(h, *msg->copy_for(m.fpr));
  EXPECT_EQ(got.status, 0) << got.status_lines;
  EXPECT_EQ(got.plaintext, kPlaintext);
  std::size_t valid = 0;
  for (std::size_t pos = 0; (pos = got.status_lines.find("[GNUPG:] VALIDSIG ", pos)) !=
                            std::string::npos;
       ++pos) {
    ++valid;
  }
  EXPECT_EQ(valid, 2u) << got.status_lines;
  EXPECT_NE(got.status_lines.find(" " + list_fpr_ + "\n"), std::string::npos) << got.status_lines;
  EXPECT_NE(got.status_lines.find(" " + *second + "\n"), std::string::npos) << got.status_lines;

  auto twice = sign_and_encrypt_once(*ctx_, kPlaintext,
                                     std::vector<std::string>{list_fpr_, ascii_lower(list_fpr_)},
                                     {m.fpr});
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().message, "fan-out: signer " + list_fpr_ + " is listed twice");
  auto none = sign_and_encrypt_once(*ctx_, kPlaintext, std::vector<std::string>{}, {m.fpr});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message, "fan-out: no signer");
}

// With the members' key material read at load (KeyHandles), tlpmaild makes
// the session key, the SEIPD packet and every PKESK itself (session_key.h)
// and gpg only signs: every copy still decrypts in its member's gpg home
// only, signed by the list key, and names only its member's key.
TEST_F(FanoutTest, TlpmaildEncryptsWhenItHoldsEveryKey) {
  auto handles = KeyHandles::list(*ctx_, all_fprs());
  ASSERT_TRUE(handles) << handles.error().message;
  EXPECT_EQ((*handles)->direct_targets(), members_->size());
  auto msg = sign_and_encrypt_once(*ctx_, kPlaintext, std::vector<std::string>{list_fpr_},
                                   all_fprs(), handles->get());
  ASSERT_TRUE(msg) << msg.error().message;
  EXPECT_TRUE(msg->encrypted_here());
  for (std::size_t i = 0; i < members_->size(); ++i) {
    const Member& owner = (*members_)[i];
    EXPECT_EQ(msg->key_id_for(owner.fpr), owner.encryption_key_id) << i;
    auto copy = msg->copy_for(owner.fpr);
    ASSERT_TRUE(copy) << copy.error().message;
    auto binary = msg->copy_for(owner.fpr, CopyFormat::binary);
    ASSERT_TRUE(binary);
    auto packets = split_packets(*binary);
    ASSERT_TRUE(packets);
    ASSERT_EQ(packets->size(), 2u);
    auto id = pkesk_key_id(*binary, (*packets)[0]);
    ASSERT_TRUE(id);
    EXPECT_EQ(*id, owner.encryption_key_id);
    for (std::size_t j = 0; j < members_->size(); ++j) {
      GpgDecrypt got = gpg_decrypt((*members_)[j].home->path().string(), *copy);
      if (i == j) {
        EXPECT_EQ(got.status, 0) << "member " << i << ":\n" << got.status_lines;
        EXPECT_EQ(got.plaintext, kPlaintext) << "member " << i;
        EXPECT_NE(got.status_lines.find(" " + list_fpr_ + "\n"), std::string::npos)
            << "signature not by the list key:\n"
            << got.status_lines;
        EXPECT_NE(got.status_lines.find("[GNUPG:] DECRYPTION_OKAY"), std::string::npos);
        EXPECT_NE(got.status_lines.find("[GNUPG:] GOODMDC"), std::string::npos);
        EXPECT_NE(got.status_lines.find("[GNUPG:] DECRYPTION_INFO 2 9"), std::string::npos)
            << "not AES-256 with MDC:\n"
            << got.status_lines;
      } else {
        EXPECT_NE(got.status, 0) << "copy " << i << " decrypted in home " << j;
        EXPECT_TRUE(got.plaintext.empty());
      }
    }
  }
  // A fresh session key each message.
  auto again = sign_and_encrypt_once(*ctx_, kPlaintext, std::vector<std::string>{list_fpr_},
                                     all_fprs(), handles->get());
  ASSERT_TRUE(again);
  EXPECT_NE(again->shared_data(), msg->shared_data());
  EXPECT_NE(*again->pkesk_for(members_->front().fpr), *msg->pkesk_for(members_->front().fpr));
}

// Sequoia (sq) and RNP read the copies tlpmaild encrypted: Curve25519 and
// RSA members, with their secret keys exported from the test homes.
TEST_F(FanoutTest, SequoiaAndRnpReadWhatTlpmaildEncrypts) {
  auto handles = KeyHandles::list(*ctx_, all_fprs());
  ASSERT_TRUE(handles) << handles.error().message;
  auto msg = sign_and_encrypt_once(*ctx_, kPlaintext, std::vector<std::string>{list_fpr_},
                                   all_fprs(), handles->get());
  ASSERT_TRUE(msg) << msg.error().message;
  ASSERT_TRUE(msg->encrypted_here());
  const bool have_sq = tk::run({"sh", "-c", "command -v sq"}).status == 0;
  const bool have_rnp = tk::run({"sh", "-c", "command -v rnp"}).status == 0;
  if (!have_sq || !have_rnp) GTEST_SKIP() << "sq or rnp missing (scripts/install-deps.sh)";
  for (std::size_t i : {std::size_t{0}, members_->size() - 1}) {  // cv25519, rsa3072
    const Member& m = (*members_)[i];
    const std::string h = m.home->path().string();
    tk::write_file(h + "/copy.asc", *msg->copy_for(m.fpr));
    tk::write_file(h + "/secret.asc", tk::gpg(h, {"--armor", "--export-secret-keys", m.fpr}));
    tk::RunResult sq = tk::run({"sq", "decrypt", "--recipient-key", h + "/secret.asc", "--output",
                                h + "/sq.out", h + "/copy.asc"});
    EXPECT_EQ(sq.status, 0) << "member " << i << ": " << sq.err;
    EXPECT_EQ(tk::read_file(h + "/sq.out"), kPlaintext) << "member " << i;
    tk::RunResult rnp =
        tk::run({"rnp", "--keyfile", h + "/secret.asc", "--password", "", "--decrypt",
                 h + "/copy.asc", "--output", h + "/rnp.out", "--overwrite"});
    EXPECT_EQ(rnp.status, 0) << "member " << i << ": " << rnp.err;
    EXPECT_EQ(tk::read_file(h + "/rnp.out"), kPlaintext) << "member " << i;
  }
}

// A key of another algorithm (NIST P-256 here) has no key material tlpmaild
// uses: a message to it is signed and encrypted by gpg, as before, and
// turning direct encryption off does the same for every message.
TEST_F(FanoutTest, GpgEncryptsWhenAKeyIsOfAnotherAlgorithm) {
  auto home = tk::new_home();
  ASSERT_TRUE(home);
  const std::string h = home->path().string();
  const std::string fpr =
      tk::generate(h, "P256", "p256@members.example", "nistp256", "sign,cert", "never");
  tk::add_subkey(h, fpr, "nistp256", "encr", "never");
  ASSERT_TRUE(ctx_->import_data(tk::export_public(h, fpr)));
  std::vector<std::string> all = all_fprs();
  all.push_back(fpr);
  auto handles = KeyHandles::list(*ctx_, all);
  ASSERT_TRUE(handles) << handles.error().message;
  EXPECT_EQ((*handles)->direct_targets(), members_->size());
  auto msg = sign_and_encrypt_once(*ctx_, kPlaintext, std::vector<std::string>{list_fpr_}, all,
                                   handles->get());
  ASSERT_TRUE(msg) << msg.error().message;
  EXPECT_FALSE(msg->encrypted_here());
  tk::write_file(h + "/list.asc", *export_public(*ctx_, list_fpr_));
  tk::gpg(h, {"--import", h + "/list.asc"});
  GpgDecrypt got = gpg_decrypt(h, *msg->copy_for(fpr));
  EXPECT_EQ(got.status, 0) << got.status_lines;
  EXPECT_EQ(got.plaintext, kPlaintext);

  set_direct_encryption(false);
  auto off = sign_and_encrypt_once(*ctx_, kPlaintext, std::vector<std::string>{list_fpr_},
                                   all_fprs(), handles->get());
  set_direct_encryption(true);
  ASSERT_TRUE(off) << off.error().message;
  EXPECT_FALSE(off->encrypted_here());
  auto on = sign_and_encrypt_once(*ctx_, kPlaintext, std::vector<std::string>{list_fpr_},
                                  all_fprs(), handles->get());
  ASSERT_TRUE(on) << on.error().message;
  EXPECT_TRUE(on->encrypted_here());
}

// An encryption subkey that expires after the keys were read is not used
// by tlpmaild: the message goes to gpg, which refuses the expired key (the
// caller's key policy leaves such members out before that).
TEST_F(FanoutTest, AKeyThatExpiredSinceItWasReadGoesToGpg) {
  auto home = tk::new_home();
  ASSERT_TRUE(home);
  const std::string h = home->path().string();
  const std::string fpr =
      tk::generate(h, "Soon", "soon@members.example", "ed25519", "sign,cert", "never");
  // The subkey expires 10 s after its creation, which lies between these two
  // instants (gpg's times are whole seconds: the margins below allow for it).
  const auto before_add = std::chrono::system_clock::now();
  tk::add_subkey(h, fpr, "cv25519", "encr", "seconds=10");
  const auto after_add = std::chrono::system_clock::now();
  ASSERT_TRUE(ctx_->import_data(tk::export_public(h, fpr)));
  auto handles = KeyHandles::list(*ctx_, {fpr});
  ASSERT_TRUE(handles) << handles.error().message;
  auto before = sign_and_encrypt_once(*ctx_, kPlaintext, std::vector<std::string>{list_fpr_}, {fpr},
                                      handles->get());
  if (std::chrono::system_clock::now() < before_add + std::chrono::seconds(8)) {
    // Not expired yet (a very slow run may get here too late to check this).
    EXPECT_EQ((*handles)->direct_targets(), 1u);
    ASSERT_TRUE(before) << before.error().message;
    EXPECT_TRUE(before->encrypted_here());
  }
  std::this_thread::sleep_until(after_add + std::chrono::seconds(12));
  auto after = sign_and_encrypt_once(*ctx_, kPlaintext, std::vector<std::string>{list_fpr_}, {fpr},
                                     handles->get());
  EXPECT_TRUE(!after || !after->encrypted_here());
  if (!after) {
    EXPECT_NE(after.error().message.find("refused the recipient key"), std::string::npos)
        << after.error().message;
  }
}

TEST_F(FanoutTest, RefusesAnonymousRecipients) {
  const std::string conf = list_home_->path().string() + "/gpg.conf";
  tk::write_file(conf, "throw-keyids\n");
  auto got = sign_and_encrypt_once(*ctx_, kPlaintext, list_fpr_, all_fprs());
  std::filesystem::remove(conf);
  ASSERT_FALSE(got);
  EXPECT_NE(got.error().message.find("without key ID"), std::string::npos)
      << got.error().message;
}

TEST_F(FanoutTest, RefusesExtraRecipientsFromGpgConf) {
  const std::string conf = list_home_->path().string() + "/gpg.conf";
  tk::write_file(conf, "encrypt-to " + (*members_)[2].fpr + "\n");
  auto got = sign_and_encrypt_once(*ctx_, kPlaintext, list_fpr_, {(*members_)[0].fpr});
  std::filesystem::remove(conf);
  ASSERT_FALSE(got);
  EXPECT_NE(got.error().message.find("no recipient's"), std::string::npos)
      << got.error().message;
}

}  // namespace
}  // namespace tlpmail::openpgp
