// session_key.h without gpg: what a key packet body must hold to be read,
// and the framing of the packets made. That gpg, Sequoia and RNP decrypt
// them is in fanout_test.cc (FanoutTest.TlpmaildEncrypts...,
// FanoutTest.SequoiaAndRnp...).
#include "openpgp/session_key.h"

#include <gtest/gtest.h>

#include <string>

#include "openpgp/packets.h"

namespace tlpmail::openpgp {
namespace {

std::string mpi(std::size_t bits, std::string value) {
  std::string out;
  out.push_back(static_cast<char>(bits >> 8));
  out.push_back(static_cast<char>(bits & 0xff));
  return out + value;
}

const std::string kCv25519Oid{"\x2B\x06\x01\x04\x01\x97\x55\x01\x05\x01", 10};

// A version 4 ECDH Curve25519 key packet body (the point is not checked
// here; OpenSSL refuses small-order points when the PKESK is made).
std::string cv25519_body(char hash = 8, char cipher = 7, char point = '\x09') {
  std::string b = {4, 0x5f, 0x00, 0x00, 0x00, 18};
  b.push_back(static_cast<char>(kCv25519Oid.size()));
  b += kCv25519Oid;
  b += mpi(263, "\x40" + std::string(32, point));
  b += std::string{3, 1, hash, cipher};
  return b;
}

std::string rsa_body(std::size_t bytes) {
  std::string b = {4, 0x5f, 0x00, 0x00, 0x00, 1};
  b += mpi(bytes * 8, "\xC1" + std::string(bytes - 1, '\x35'));
  b += mpi(17, std::string("\x01\x00\x01", 3));
  return b;
}

TEST(SessionKeyTest, ReadsCurve25519AndRsaKeys) {
  auto cv = read_encryption_key(cv25519_body());
  ASSERT_TRUE(cv) << cv.error().message;
  EXPECT_EQ(cv->algorithm, 18);
  EXPECT_EQ(cv->x25519, std::string(32, '\x09'));
  EXPECT_EQ(cv->kdf_hash, 8);
  EXPECT_EQ(cv->kdf_cipher, 7);
  EXPECT_EQ(cv->fingerprint.size(), 40u);
  EXPECT_EQ(cv->key_id, cv->fingerprint.substr(24));
  EXPECT_TRUE(cv->public_key);
  auto rsa = read_encryption_key(rsa_body(384));
  ASSERT_TRUE(rsa) << rsa.error().message;
  EXPECT_EQ(rsa->algorithm, 1);
  EXPECT_EQ(rsa->rsa_n.size(), 384u);
  EXPECT_EQ(rsa->rsa_e, std::string("\x01\x00\x01", 3));
  EXPECT_TRUE(rsa->public_key);
}

TEST(SessionKeyTest, RefusesWhatItDoesNotHandle) {
  struct Case {
    const char* name;
    std::string body;
    const char* want;
  };
  std::string v5 = cv25519_body();
  v5[0] = 5;
  std::string other_curve = cv25519_body();
  other_curve[8] = 0x07;  // inside the OID
  std::string ecdsa = cv25519_body();
  ecdsa[5] = 19;
  std::string trailing = cv25519_body() + "x";
  std::string bad_bits = cv25519_body();
  bad_bits[18] = 0x08;  // the MPI's bit count says 264: its top octet 0x40 has 7
  const std::vector<Case> cases = {
      {"empty", "", "not a version 4 key packet"},
      {"version 5", v5, "not a version 4 key packet"},
      {"another curve", other_curve, "other than Curve25519"},
      {"ECDSA", ecdsa, "public-key algorithm 19"},
      {"trailing", trailing, "KDF parameters"},
      {"bit count", bad_bits, "malformed Curve25519 public key"},
      {"SHA-1 KDF", cv25519_body(2, 7), "other than SHA-2 with AES"},
      {"CAST5 wrap", cv25519_body(8, 3), "other than SHA-2 with AES"},
      {"truncated", cv25519_body().substr(0, 30), "malformed Curve25519 public key"},
      {"RSA 1024", rsa_body(128), "RSA modulus of 1024 bits"},
      {"RSA truncated", rsa_body(384).substr(0, 100), "malformed RSA key material"},
      {"RSA huge exponent", rsa_body(384).substr(0, 6 + 2 + 384) + mpi(65, std::string(9, '\x01')),
       "exponent over 64 bits"},
  };
  for (const Case& c : cases) {
    auto got = read_encryption_key(c.body);
    ASSERT_FALSE(got) << c.name;
    EXPECT_EQ(got.error().kind, ErrorClass::permanent) << c.name;
    EXPECT_NE(got.error().message.find(c.want), std::string::npos)
        << c.name << ": " << got.error().message;
  }
}

TEST(SessionKeyTest, PacketsAreFramedAsOpenPgpSays) {
  auto key = new_session_key();
  ASSERT_TRUE(key);
  EXPECT_EQ(key->size(), kSessionKeySize);
  EXPECT_NE(*key, *new_session_key());

  auto cv = read_encryption_key(cv25519_body(8, 7, '\x11'));  // a point of large order
  ASSERT_TRUE(cv);
  auto pkesk = make_pkesk(*cv, *key);
  ASSERT_TRUE(pkesk) << pkesk.error().message;
  auto packets = split_packets(*pkesk);
  ASSERT_TRUE(packets);
  ASSERT_EQ(packets->size(), 1u);
  EXPECT_EQ((*packets)[0].tag, kTagPkesk);
  const std::string_view body = packet_body(*pkesk, (*packets)[0]);
  // version, key ID, algorithm, MPI(263 bits: 0x40 + 32), 48 wrapped octets
  ASSERT_EQ(body.size(), 1u + 8 + 1 + 2 + 33 + 1 + 48);
  EXPECT_EQ(body[0], 3);
  EXPECT_EQ(*pkesk_key_id(*pkesk, (*packets)[0]), cv->key_id);
  EXPECT_EQ(body[9], 18);
  EXPECT_EQ(body.substr(10, 3), std::string("\x01\x07\x40", 3));
  EXPECT_EQ(static_cast<unsigned char>(body[45]), 48u);
  EXPECT_NE(*make_pkesk(*cv, *key), *pkesk) << "a new ephemeral key each time";
  EXPECT_FALSE(make_pkesk(*cv, "short"));
  EncryptionKey made_by_hand = *cv;
  made_by_hand.public_key.reset();
  EXPECT_FALSE(make_pkesk(made_by_hand, *key)) << "only keys read_encryption_key made";

  const std::string inner = "\xA3\x01" + std::string(1000, 'z');  // any packets
  auto seipd = make_seipd(*key, inner);
  ASSERT_TRUE(seipd) << seipd.error().message;
  auto sp = split_packets(*seipd);
  ASSERT_TRUE(sp);
  ASSERT_EQ(sp->size(), 1u);
  EXPECT_EQ((*sp)[0].tag, kTagSeipd);
  const std::string_view sb = packet_body(*seipd, (*sp)[0]);
  // version 1, 18 prefix octets, the packets, the MDC packet (2 + 20)
  EXPECT_EQ(sb.size(), 1 + 18 + inner.size() + 22);
  EXPECT_EQ(sb[0], 1);
  EXPECT_EQ(sb.find(inner), std::string_view::npos) << "the packets in clear";
  EXPECT_NE(*make_seipd(*key, inner), *seipd) << "a new random prefix each time";
}

}  // namespace
}  // namespace tlpmail::openpgp
