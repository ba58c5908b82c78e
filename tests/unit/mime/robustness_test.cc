// Hostile input: garbage, huge headers, deep nesting (closed, unclosed,
// beyond GMime's own limit), every truncation and thousands of random
// mutations of a valid signed message, all without a crash, a hang or a
// leak (run under ASan/LSan: build-mime-asan), with the invariant that any
// signed_bytes handed out are a piece of the input. Also concurrent parsing
// from several threads and heap growth over many malformed messages.
#include <gtest/gtest.h>
#include <malloc.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "mime-evidence/hostile.h"
#include "mime/mime.h"
#include "mime/mime_test_util.h"

namespace tlpmail::mime {
namespace {

using testing::crlf;
using testing::lf_only;

// The hostile input the MIME library was chosen on (tools/mime-evidence).
using mime_evidence::garbage;
using mime_evidence::nested_multipart;

std::string huge_header(std::size_t n) {
  std::string m = "From: a@example.org\r\nSubject: ";
  m.append(n, 'A');
  m += "\r\nX-Folded: ";
  for (std::size_t i = 0; i < n / 64; ++i) m += "word word word word word word word\r\n ";
  m += "end\r\nContent-Type: text/plain\r\n\r\nbody\r\n";
  return m;
}

const std::string kSigned = crlf(
    "From: Alice <alice@a.example>\nSubject: [TLP:AMBER] x\nMIME-Version: 1.0\n"
    "Content-Type: multipart/signed; micalg=pgp-sha256;\n"
    " protocol=\"application/pgp-signature\"; boundary=\"sig\"\n\npreamble\n--sig\n"
    "Content-Type: multipart/mixed; boundary=\"in\"\n\n--in\nContent-Type: text/plain\n\n"
    "hello\n--in\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n"
    "aGVsbG8K\n--in--\n\n--sig\nContent-Type: application/pgp-signature\n\n"
    "-----BEGIN PGP SIGNATURE-----\n\niHUEARYIAB0=\n-----END PGP SIGNATURE-----\n\n--sig--\n");

// Whatever the input, signed bytes (LF view) must be a slice of the input.
void check_invariants(std::string_view input, const Entity& e) {
  if (const auto* s = std::get_if<PgpMimeSigned>(&e.shape)) {
    EXPECT_NE(lf_only(input).find(lf_only(s->signed_bytes)), std::string::npos);
    EXPECT_FALSE(s->signed_bytes.empty());
  }
  EXPECT_LE(e.body_head.size(), kBodyHeadMax);
}

void parse_all_ways(std::string_view input) {
  auto m = parse_message(input);
  if (m) {
    check_invariants(input, m->content);
    (void)m->single_from();
  } else {
    EXPECT_EQ(m.error().message, "not a MIME message");
  }
  auto e = parse_entity(input);
  if (e) check_invariants(input, *e);
  (void)parse_text(input);
}

TEST(Robustness, HostileCorpus) {
  struct Case {
    std::string name;
    std::string input;
    std::optional<ShapeKind> want;  // nullopt: anything, as long as nothing breaks
  };
  const std::vector<Case> cases = {
      {"garbage 64 KiB", garbage(65536, 0x9e3779b9u), std::nullopt},
      {"garbage with NULs", std::string(1000, '\0'), std::nullopt},
      {"header line of 1 MiB plus folded lines", huge_header(1 << 20), ShapeKind::plain},
      {"1000 deep, closed", nested_multipart(1000, true), ShapeKind::malformed},
      {"1000 deep, unclosed", nested_multipart(1000, false), ShapeKind::malformed},
      {"5000 deep, past GMime's own limit", nested_multipart(5000, false), ShapeKind::malformed},
      {"unterminated boundary",
       crlf("From: a@example.org\nContent-Type: multipart/mixed; boundary=\"XYZ\"\n\npre\n--XYZ\n"
            "Content-Type: text/plain\n\none\n--XYZ\nContent-Type: multipart/alternative; "
            "boundary=\"IN\"\n\n--IN\nContent-Type: text/plain\n\ntwo, never closed\n"),
       ShapeKind::malformed},
      {"truncated in a header",
       "From: a@example.org\r\nContent-Type: multipart/signed; "
       "protocol=\"application/pgp-signature\";"
       "\r\n micalg=pgp-sha256; boundary=\"unterminated-quote",
       std::nullopt},
      {"broken base64 and quoted-printable",
       crlf("From: a@example.org\nContent-Type: multipart/mixed; boundary=q\n\n--q\n"
            "Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n"
            "aGVsbG8*!@#$====\nQQ=Q=\n====\n--q\nContent-Type: text/plain\n"
            "Content-Transfer-Encoding: quoted-printable\n\n=ZZ=4=\n=\n--q--\n"),
       ShapeKind::plain},
      {"bad RFC 2231 parameters",
       crlf("From: =?utf-8?B?////?= <a@example.org>, , ,\nTo: <<<@@@>>>\n"
            "Subject: =?x-unknown?Q?=FF=FE?= =?UTF-8?B?*?=\nMIME-Version: 1.0\n"
            "Content-Type: text/plain; charset*0*=utf-8''%E2%82; charset*2=x; charset*1*=%%%\n"
            "Content-Disposition: attachment; filename*99999999999999999999*=a\n\nbody\n"),
       std::nullopt},
      {"empty boundary parameter",
       crlf("From: a@example.org\nContent-Type: multipart/mixed; boundary=\"\"\n\n--\n\nx\n----\n"),
       std::nullopt},
      {"multipart/signed with empty boundary",
       crlf("From: a@example.org\nContent-Type: multipart/signed; boundary=\"\";"
            " protocol=\"application/pgp-signature\"\n\n--\n\nx\n--\n\ny\n----\n"),
       ShapeKind::malformed},
      {"only headers", crlf("From: a@example.org\nSubject: x\n"), std::nullopt},
      {"only a blank line", "\r\n", std::nullopt},
      {"lone CRs", std::string(5000, '\r'), std::nullopt},
      {"lone LFs", std::string(5000, '\n'), std::nullopt},
      {"many parts",
       [] {
         std::string m = "From: a@example.org\r\nContent-Type: multipart/mixed; boundary=p\r\n\r\n";
         for (int i = 0; i < 5000; ++i) m += "--p\r\nContent-Type: text/plain\r\n\r\nx\r\n";
         return m + "--p--\r\n";
       }(),
       ShapeKind::plain},
  };
  for (const Case& c : cases) {
    const auto start = std::chrono::steady_clock::now();
    parse_all_ways(c.input);
    auto m = parse_message(c.input);
    if (c.want) {
      ASSERT_TRUE(m) << c.name;
      EXPECT_EQ(m->content.kind(), *c.want) << c.name;
    }
    const auto seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_LT(seconds, 30.0) << c.name;
  }
}

TEST(Robustness, EveryTruncationOfASignedMessage) {
  auto full = parse_message(kSigned);
  ASSERT_TRUE(full);
  ASSERT_EQ(full->content.kind(), ShapeKind::pgpmime_signed);
  const std::string want = std::get<PgpMimeSigned>(full->content.shape).signed_bytes;
  for (const std::string& base : {kSigned, lf_only(kSigned)}) {
    for (std::size_t n = 0; n < base.size(); ++n) {
      const std::string_view cut(base.data(), n);
      parse_all_ways(cut);
      auto m = parse_message(cut);
      if (m && m->content.kind() == ShapeKind::pgpmime_signed) {
        // Only cuts after the close delimiter may still count as signed.
        EXPECT_GE(n, base.rfind("--sig--")) << n;
        EXPECT_EQ(std::get<PgpMimeSigned>(m->content.shape).signed_bytes, want) << n;
      }
    }
  }
}

TEST(Robustness, RandomMutationsOfASignedMessage) {
  std::uint32_t x = 12345;
  const auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return x;
  };
  const std::string alphabet = "-\r\n:;=\"<>@ \tab\x80\xff";
  for (int i = 0; i < 3000; ++i) {
    std::string m = kSigned;
    const int edits = 1 + static_cast<int>(next() % 8);
    for (int k = 0; k < edits && !m.empty(); ++k) {
      const std::size_t at = next() % m.size();
      switch (next() % 4) {
        case 0: m[at] = alphabet[next() % alphabet.size()]; break;
        case 1: m.erase(at, 1 + next() % 16); break;
        case 2: m.insert(at, std::string(1 + next() % 4, alphabet[next() % alphabet.size()])); break;
        case 3: m.insert(at, m.substr(next() % m.size(), next() % 64)); break;
      }
    }
    parse_all_ways(m);
  }
}

TEST(Robustness, ConcurrentParsingGivesTheSameResults) {
  initialize();
  const std::vector<std::string> inputs = {
      kSigned,
      lf_only(kSigned),
      crlf("From: =?ISO-8859-1?Q?J=FCrgen?= <j@a.example>\nSubject: =?KOI8-R?B?8NLJ18XU?=\n"
           "Content-Type: text/plain; charset=windows-1252\n\nTLP:RED \x80\n"),
      crlf("From: a@a.example\nContent-Type: text/plain; charset=iso-2022-jp\n\nhello\n"),
      nested_multipart(40, true),
      garbage(4096, 7),
  };
  std::vector<Result<Message>> want;
  for (const std::string& in : inputs) want.push_back(parse_message(in));
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 150; ++i) {
        const std::size_t k = static_cast<std::size_t>(i + t) % inputs.size();
        auto m = parse_message(inputs[k]);
        const Result<Message>& w = want[k];
        if (m.has_value() != w.has_value()) {
          ++mismatches[static_cast<std::size_t>(t)];
        } else if (m && (m->content.kind() != w->content.kind() || m->subject != w->subject ||
                         m->content.body_head != w->content.body_head ||
                         m->from_mailboxes.size() != w->from_mailboxes.size())) {
          ++mismatches[static_cast<std::size_t>(t)];
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int n : mismatches) EXPECT_EQ(n, 0);
}

#if !defined(__SANITIZE_ADDRESS__)
TEST(Robustness, HeapDoesNotGrowOverManyMalformedMessages) {
  const std::vector<std::string> bad = {nested_multipart(200, false), garbage(8192, 3),
                                        huge_header(1 << 14), kSigned.substr(0, 400)};
  for (const std::string& b : bad) parse_all_ways(b);  // warm-up: one-time GLib/GMime tables
  const std::size_t before = mallinfo2().uordblks;
  for (int i = 0; i < 2000; ++i) parse_all_ways(bad[static_cast<std::size_t>(i) % bad.size()]);
  const std::size_t after = mallinfo2().uordblks;
  EXPECT_LT(after > before ? after - before : 0, 256u * 1024u);
}
#endif

}  // namespace
}  // namespace tlpmail::mime
