// directory.toml validation and values: labels, fingerprints, addresses,
// duplicates, kinds, required and unknown keys, free-form extra fields.
#include "config_fixture.h"

namespace tlpmail::config::testing {
namespace {

constexpr const char* kDir = "config/directory.toml";

// One value of the base directory changed: the exact diagnostics.
TEST_F(ConfigTest, OneBrokenValueInTheDirectory) {
  const std::string fpr = "0123456789ABCDEF0123456789ABCDEF01234567";
  const FileCase cases[] = {
      {"invalid TLP label",
       replaced(kDirectory, "clearance = \"RED\"", "clearance = \"ORANGE\""),
       {"config/directory.toml:7: invalid TLP label 'ORANGE' (expected CLEAR, GREEN, AMBER, "
        "AMBER+STRICT or RED)"}},
      {"TLP label with prefix",
       replaced(kDirectory, "clearance = \"RED\"", "clearance = \"TLP:RED\""),
       {"config/directory.toml:7: invalid TLP label 'TLP:RED' (write the name without 'TLP:', "
        "e.g. 'RED')"}},
      {"fingerprint too short",
       replaced(kDirectory, fpr, fpr.substr(0, 39)),
       {"config/directory.toml:6: fingerprint must be 40 hex digits, got 39"}},
      {"fingerprint not hex",
       replaced(kDirectory, fpr, fpr.substr(0, 39) + "Z"),
       {"config/directory.toml:6: fingerprint must be 40 hex digits, got 'Z' at position 40"}},
      {"fingerprint is a key ID",
       replaced(kDirectory, fpr, "89ABCDEF01234567"),
       {"config/directory.toml:6: fingerprint must be 40 hex digits, got 16 (a key ID is not a "
        "fingerprint)"}},
      {"invalid kind",
       replaced(kDirectory, "kind = \"team\"", "kind = \"group\""),
       {"config/directory.toml:20: invalid kind 'group' (expected person or team)"}},
      {"person without fingerprint",
       replaced(kDirectory, "fingerprint = \"1111111111111111111111111111111111111111\"\n", ""),
       {"config/directory.toml:9: missing required key 'fingerprint'"}},
      {"typo of a known person key",
       replaced(kDirectory, "clearance = \"RED\"", "clearence = \"RED\""),
       {"config/directory.toml:1: missing required key 'clearance'",
        "config/directory.toml:7: unknown key 'clearence' (did you mean 'clearance'?)"}},
      {"wrong type for clearance",
       replaced(kDirectory, "clearance = \"RED\"", "clearance = 3"),
       {"config/directory.toml:7: wrong type for 'clearance': expected a string, got an "
        "integer"}},
      {"control characters in a name",
       replaced(kDirectory, "name = \"Alice Example\"", "name = \"Alice\\r\\nBcc: x\""),
       {"config/directory.toml:3: 'name' must not contain control characters (line breaks, "
        "tabs)"}},
      {"empty name",
       replaced(kDirectory, "name = \"Alice Example\"", "name = \" \""),
       {"config/directory.toml:3: name must not be empty"}},
      {"unknown top-level key",
       std::string(kDirectory) + "\n[[persons]]\nemail = \"dave@csirt-d.example\"\n",
       {"config/directory.toml:22: unknown key 'persons' (did you mean 'person'?)"}},
      // A syntax error skips the member checks of the lists: one line only.
      {"syntax error",
       replaced(kDirectory, "name = \"Bob Example\"", "name = \"Bob Example"),
       {"config/directory.toml:11: TOML syntax error at column 20: error while parsing string: "
        "unescaped control characters other than TAB (U+0009) are explicitly prohibited"}},
  };
  expect_each(kDir, cases);
}

// A fourth [[person]] (line 22, keys from line 23) with one problem.
TEST_F(ConfigTest, OneBrokenFourthPerson) {
  const FileCase cases[] = {
      {"duplicate email ignores case",
       with_person(R"(email = "Bob@CSIRT-B.example"
name = "Bob Again"
fingerprint = "3333333333333333333333333333333333333333"
clearance = "GREEN"
)"),
       {"config/directory.toml:23: duplicate email 'Bob@CSIRT-B.example' (first at line 10)"}},
      {"duplicate fingerprint",
       with_person(R"(email = "dave@csirt-d.example"
name = "Dave Example"
fingerprint = "0123 4567 89ab cdef 0123 4567 89ab cdef 0123 4567"
clearance = "GREEN"
)"),
       {"config/directory.toml:25: duplicate fingerprint "
        "'0123456789ABCDEF0123456789ABCDEF01234567' (first at line 6)"}},
      {"malformed email",
       with_person(R"(email = "Dave <dave@csirt-d.example>"
name = "Dave Example"
fingerprint = "3333333333333333333333333333333333333333"
clearance = "GREEN"
)"),
       {"config/directory.toml:23: invalid e-mail address 'Dave <dave@csirt-d.example>': a "
        "space is not allowed in the local part"}},
      {"missing required keys",
       with_person("organization = \"CSIRT-D\"\n"),
       {
           "config/directory.toml:22: missing required key 'email'",
           "config/directory.toml:22: missing required key 'name'",
           "config/directory.toml:22: missing required key 'fingerprint'",
           "config/directory.toml:22: missing required key 'clearance'",
       }},
      {"extra field must be a string",
       with_dave("shifts = [1, 2]\n"),
       {"config/directory.toml:27: wrong type for extra field 'shifts': expected a string, got "
        "an array"}},
  };
  expect_each(kDir, cases);
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

TEST_F(ConfigTest, FingerprintIsNormalised) {
  write(kDir, replaced(kDirectory, "0123456789ABCDEF0123456789ABCDEF01234567",
                       "0123 4567 89ab cdef 0123  4567 89AB CDEF 0123 4567"));
  const auto* p = load_person("alice@csirt-a.example");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->fingerprint, "0123456789ABCDEF0123456789ABCDEF01234567");
  EXPECT_EQ(p->fingerprint_at.file, "config/directory.toml");
  EXPECT_EQ(p->fingerprint_at.line, 6);
  EXPECT_EQ(loaded_->directory.find_by_fingerprint("0123456789ABCDEF0123456789ABCDEF01234567"), p);
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
  write(kDir, with_dave(R"(role = "standing"
phone = "+43 1 234 5678"
note = "on call weekends"
)"));
  const auto* p = load_person("dave@csirt-d.example");
  ASSERT_NE(p, nullptr);
  // phone is a contact field of its own (config_contact_fields_test.cc).
  EXPECT_EQ(p->extra, (std::map<std::string, std::string>{{"note", "on call weekends"},
                                                          {"role", "standing"}}));
  EXPECT_EQ(p->phone, "+43 1 234 5678");
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
