// directory.toml validation and values: labels, fingerprints, addresses,
// duplicates, kinds, required and unknown keys, free-form extra fields.
#include "config_fixture.h"

namespace tlpmail::config::testing {
namespace {

constexpr const char* kDir = "config/directory.toml";

TEST_F(ConfigTest, InvalidTlpLabel) {
  EXPECT_EQ(check_with(kDir, replaced(kDirectory, "clearance = \"RED\"", "clearance = \"ORANGE\"")),
            (Lines{"config/directory.toml:7: invalid TLP label 'ORANGE' (expected CLEAR, "
                   "GREEN, AMBER, AMBER+STRICT or RED)"}));
}

TEST_F(ConfigTest, TlpLabelWithPrefix) {
  EXPECT_EQ(
      check_with(kDir, replaced(kDirectory, "clearance = \"RED\"", "clearance = \"TLP:RED\"")),
      (Lines{"config/directory.toml:7: invalid TLP label 'TLP:RED' (write the name "
             "without 'TLP:', e.g. 'RED')"}));
}

TEST_F(ConfigTest, WhiteReadsAsClearAndLabelsAreCaseInsensitive) {
  write(kDir, replaced(replaced(kDirectory, "clearance = \"RED\"", "clearance = \"white\""),
                       "clearance = \"AMBER+STRICT\"", "clearance = \"amber+strict\""));
  write("config/lists.d/ops.toml",
        replaced(replaced(kOpsList, "tlp_ceiling = \"AMBER\"", "tlp_ceiling = \"Green\""),
                 "tlp_default = \"GREEN\"", "tlp_default = \"WHITE\""));
  auto c = load_ok();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->directory.find_person("alice@csirt-a.example")->clearance, policy::Tlp::clear);
  EXPECT_EQ(c->directory.find_person("soc@csirt-c.example")->clearance, policy::Tlp::amber_strict);
  const auto* l = c->directory.find_list("csirt-ops@lists.example.org");
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(l->ceiling, policy::Tlp::green);
  EXPECT_EQ(l->default_label, policy::Tlp::clear);
}

TEST_F(ConfigTest, FingerprintTooShort) {
  EXPECT_EQ(check_with(kDir, replaced(kDirectory, "0123456789ABCDEF0123456789ABCDEF01234567",
                                      "0123456789ABCDEF0123456789ABCDEF0123456")),
            (Lines{"config/directory.toml:6: fingerprint must be 40 hex digits, got 39"}));
}

TEST_F(ConfigTest, FingerprintNotHex) {
  EXPECT_EQ(check_with(kDir, replaced(kDirectory, "0123456789ABCDEF0123456789ABCDEF01234567",
                                      "0123456789ABCDEF0123456789ABCDEF0123456Z")),
            (Lines{"config/directory.toml:6: fingerprint must be 40 hex digits, got 'Z' "
                   "at position 40"}));
}

TEST_F(ConfigTest, FingerprintKeyId) {
  EXPECT_EQ(check_with(kDir, replaced(kDirectory, "0123456789ABCDEF0123456789ABCDEF01234567",
                                      "89ABCDEF01234567")),
            (Lines{"config/directory.toml:6: fingerprint must be 40 hex digits, got 16 "
                   "(a key ID is not a fingerprint)"}));
}

TEST_F(ConfigTest, FingerprintIsNormalised) {
  write(kDir, replaced(kDirectory, "0123456789ABCDEF0123456789ABCDEF01234567",
                       "0123 4567 89ab cdef 0123  4567 89AB CDEF 0123 4567"));
  auto c = load_ok();
  ASSERT_NE(c, nullptr);
  const auto* p = c->directory.find_person("alice@csirt-a.example");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->fingerprint, "0123456789ABCDEF0123456789ABCDEF01234567");
  EXPECT_EQ(p->fingerprint_at.file, "config/directory.toml");
  EXPECT_EQ(p->fingerprint_at.line, 6);
  EXPECT_EQ(c->directory.find_by_fingerprint("0123456789ABCDEF0123456789ABCDEF01234567"), p);
}

TEST_F(ConfigTest, DuplicateEmailIgnoresCase) {
  EXPECT_EQ(check_with(kDir, with_person(R"(email = "Bob@CSIRT-B.example"
name = "Bob Again"
fingerprint = "3333333333333333333333333333333333333333"
clearance = "GREEN"
)")),
            (Lines{"config/directory.toml:23: duplicate email 'Bob@CSIRT-B.example' "
                   "(first at line 10)"}));
}

TEST_F(ConfigTest, DuplicateFingerprint) {
  EXPECT_EQ(check_with(kDir, with_person(R"(email = "dave@csirt-d.example"
name = "Dave Example"
fingerprint = "0123 4567 89ab cdef 0123 4567 89ab cdef 0123 4567"
clearance = "GREEN"
)")),
            (Lines{"config/directory.toml:25: duplicate fingerprint "
                   "'0123456789ABCDEF0123456789ABCDEF01234567' (first at line 6)"}));
}

TEST_F(ConfigTest, MalformedEmail) {
  EXPECT_EQ(check_with(kDir, with_person(R"(email = "Dave <dave@csirt-d.example>"
name = "Dave Example"
fingerprint = "3333333333333333333333333333333333333333"
clearance = "GREEN"
)")),
            (Lines{"config/directory.toml:23: invalid e-mail address 'Dave "
                   "<dave@csirt-d.example>': a space is not allowed in the local part"}));
}

TEST_F(ConfigTest, InvalidKind) {
  EXPECT_EQ(check_with(kDir, replaced(kDirectory, "kind = \"team\"", "kind = \"group\"")),
            (Lines{"config/directory.toml:20: invalid kind 'group' (expected person or "
                   "team)"}));
}

TEST_F(ConfigTest, MissingRequiredPersonKeys) {
  EXPECT_EQ(check_with(kDir, with_person(R"(organization = "CSIRT-D"
)")),
            (Lines{
                "config/directory.toml:22: missing required key 'email'",
                "config/directory.toml:22: missing required key 'name'",
                "config/directory.toml:22: missing required key 'fingerprint'",
                "config/directory.toml:22: missing required key 'clearance'",
            }));
}

TEST_F(ConfigTest, PersonWithoutFingerprint) {
  EXPECT_EQ(check_with(
                kDir, replaced(kDirectory,
                               "fingerprint = \"1111111111111111111111111111111111111111\"\n", "")),
            (Lines{"config/directory.toml:9: missing required key 'fingerprint'"}));
}

TEST_F(ConfigTest, TypoOfAKnownPersonKey) {
  EXPECT_EQ(check_with(kDir, replaced(kDirectory, "clearance = \"RED\"", "clearence = \"RED\"")),
            (Lines{
                "config/directory.toml:1: missing required key 'clearance'",
                "config/directory.toml:7: unknown key 'clearence' (did you mean "
                "'clearance'?)",
            }));
}

TEST_F(ConfigTest, TyposOfKnownPersonKeys) {
  struct Case {
    std::string key;
    std::string want;
  };
  const Case cases[] = {
      {"emial", "config/directory.toml:23: unknown key 'emial' (did you mean 'email'?)"},
      {"Email", "config/directory.toml:23: unknown key 'Email' (did you mean 'email'?)"},
      {"mail", "config/directory.toml:23: unknown key 'mail' (did you mean 'email'?)"},
      {"organisation",
       "config/directory.toml:23: unknown key 'organisation' (did you mean 'organization'?)"},
      {"fingerprnt",
       "config/directory.toml:23: unknown key 'fingerprnt' (did you mean "
       "'fingerprint'?)"},
      {"knid", "config/directory.toml:23: unknown key 'knid' (did you mean 'kind'?)"},
      {"nmae", "config/directory.toml:23: unknown key 'nmae' (did you mean 'name'?)"},
  };
  for (const auto& c : cases) {
    write(kDir, with_person(c.key + R"( = "x"
email = "dave@csirt-d.example"
name = "Dave Example"
fingerprint = "3333333333333333333333333333333333333333"
clearance = "GREEN"
)"));
    EXPECT_EQ(check(), (Lines{c.want})) << c.key;
  }
}

TEST_F(ConfigTest, ExtraFieldsAreKept) {
  write(kDir, with_person(R"(email = "dave@csirt-d.example"
name = "Dave Example"
fingerprint = "3333333333333333333333333333333333333333"
clearance = "GREEN"
role = "standing"
phone = "+43 1 234 5678"
note = "on call weekends"
)"));
  auto c = load_ok();
  ASSERT_NE(c, nullptr);
  const auto* p = c->directory.find_person("dave@csirt-d.example");
  ASSERT_NE(p, nullptr);
  // phone is a contact field of its own (config_contact_fields_test.cc).
  EXPECT_EQ(p->extra, (std::map<std::string, std::string>{{"note", "on call weekends"},
                                                          {"role", "standing"}}));
  EXPECT_EQ(p->phone, "+43 1 234 5678");
}

TEST_F(ConfigTest, ExtraFieldMustBeAString) {
  EXPECT_EQ(check_with(kDir, with_person(R"(email = "dave@csirt-d.example"
name = "Dave Example"
fingerprint = "3333333333333333333333333333333333333333"
clearance = "GREEN"
shifts = [1, 2]
)")),
            (Lines{"config/directory.toml:27: wrong type for extra field 'shifts': "
                   "expected a string, got an array"}));
}

TEST_F(ConfigTest, WrongTypeForClearance) {
  EXPECT_EQ(check_with(kDir, replaced(kDirectory, "clearance = \"RED\"", "clearance = 3")),
            (Lines{"config/directory.toml:7: wrong type for 'clearance': expected a "
                   "string, got an integer"}));
}

TEST_F(ConfigTest, ControlCharactersInNames) {
  EXPECT_EQ(check_with(kDir, replaced(kDirectory, "name = \"Alice Example\"",
                                      "name = \"Alice\\r\\nBcc: x\"")),
            (Lines{"config/directory.toml:3: 'name' must not contain control characters "
                   "(line breaks, tabs)"}));
}

TEST_F(ConfigTest, EmptyName) {
  EXPECT_EQ(check_with(kDir, replaced(kDirectory, "name = \"Alice Example\"", "name = \" \"")),
            (Lines{"config/directory.toml:3: name must not be empty"}));
}

TEST_F(ConfigTest, TeamWithRedClearanceIsAWarning) {
  write(kDir, replaced(kDirectory, "clearance = \"AMBER+STRICT\"", "clearance = \"RED\""));
  LoadResult r = load_config("config/tlpmail.toml");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].severity, Severity::warning);
  EXPECT_EQ(r.diagnostics[0].to_string(),
            "config/directory.toml:19: warning: clearance RED has no effect on a team mailbox: a "
            "team never receives TLP:RED");
  EXPECT_EQ(r.config->directory.find_person("soc@csirt-c.example")->clearance, policy::Tlp::red);
}

TEST_F(ConfigTest, PersonAsPlainTable) {
  write(kDir, "[person]\nemail = \"alice@csirt-a.example\"\n");
  // The lists are not checked against a directory of the wrong shape.
  EXPECT_EQ(check(), (Lines{"config/directory.toml:1: wrong type for 'person': expected an array "
                            "of tables ([[person]]), got a table"}));
}

TEST_F(ConfigTest, UnknownTopLevelKeyInDirectory) {
  EXPECT_EQ(check_with(kDir, std::string(kDirectory) +
                                 "\n[[persons]]\nemail = \"dave@csirt-d.example\"\n"),
            (Lines{"config/directory.toml:22: unknown key 'persons' (did you mean "
                   "'person'?)"}));
}

TEST_F(ConfigTest, DirectorySyntaxErrorSkipsMemberChecks) {
  EXPECT_EQ(
      check_with(kDir, replaced(kDirectory, "name = \"Bob Example\"", "name = \"Bob Example")),
      (Lines{"config/directory.toml:11: TOML syntax error at column 20: error while "
             "parsing string: unescaped control characters other than TAB (U+0009) "
             "are explicitly prohibited"}));
}

TEST_F(ConfigTest, EmptyDirectoryAndNoLists) {
  write(kDir, "# nobody yet\n");
  std::filesystem::remove("config/lists.d/ops.toml");
  EXPECT_EQ(check(), (Lines{
                         "config/directory.toml: warning: no [[person]] entries",
                         "config/lists.d: warning: no list files (*.toml)",
                     }));
}

}  // namespace
}  // namespace tlpmail::config::testing
