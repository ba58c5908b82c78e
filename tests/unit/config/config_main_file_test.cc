// tlpmail.toml validation: every problem is reported as the exact
// "FILE:LINE: message" an admin sees (Ninja manifest_parser_test style).
#include <filesystem>

#include "config_fixture.h"

namespace tlpmail::config::testing {
namespace {

TEST_F(ConfigTest, BaseTreeIsValid) { EXPECT_EQ(check(), Lines{}); }

TEST_F(ConfigTest, MainFileSyntaxErrorStopsThere) {
  write("config/tlpmail.toml", "[server]\nhostname = \n");
  EXPECT_EQ(check(), (Lines{"config/tlpmail.toml:2: TOML syntax error at column 12: error while "
                            "parsing key-value pair: expected value, saw '\\n'"}));
}

TEST_F(ConfigTest, MainFileDuplicateKeyIsASyntaxError) {
  write("config/tlpmail.toml",
        "[server]\nhostname = \"lists.example.org\"\nhostname = \"lists.example.net\"\n");
  EXPECT_EQ(check(), (Lines{"config/tlpmail.toml:3: TOML syntax error at column 12: error while "
                            "parsing key-value pair: cannot redefine existing string 'hostname'"}));
}

TEST_F(ConfigTest, MainFileMissing) {
  EXPECT_EQ(check("config/nope.toml"), (Lines{"config/nope.toml: file not found"}));
}

TEST_F(ConfigTest, MainFileIsAFolder) {
  EXPECT_EQ(check("config/keys"), (Lines{"config/keys: is a folder, not a file"}));
}

TEST_F(ConfigTest, UnknownKeyInSectionWithHint) {
  EXPECT_EQ(check_main(R"(max_conections = 5
[relay]
starttls = "off"
tls = true
)"),
            (Lines{
                "config/tlpmail.toml:3: unknown key 'max_conections' in [server] (did "
                "you mean 'max_connections'?)",
                "config/tlpmail.toml:6: unknown key 'tls' in [relay]",
            }));
}

TEST_F(ConfigTest, UnknownSectionWithHint) {
  EXPECT_EQ(check_main(R"([rely]
host = "127.0.0.1"
[logging]
level = "info"
)"),
            (Lines{
                "config/tlpmail.toml:3: unknown section [rely] (did you mean [relay]?)",
                "config/tlpmail.toml:5: unknown section [logging]",
            }));
}

TEST_F(ConfigTest, TopLevelKeyNamesItsSection) {
  write("config/tlpmail.toml", R"(level = "debug"
max_connections = 5
colour = "blue"
[server]
hostname = "lists.example.org"
)");
  EXPECT_EQ(check(), (Lines{
                         "config/tlpmail.toml:1: key 'level' belongs in [log]",
                         "config/tlpmail.toml:2: key 'max_connections' belongs in [server] or "
                         "[relay]",
                         "config/tlpmail.toml:3: unknown key 'colour' (tlpmail.toml has only the "
                         "sections [server], [relay], [paths], [log], [metrics] and [retention])",
                     }));
}

TEST_F(ConfigTest, SectionOfTheWrongType) {
  write("config/tlpmail.toml", R"(log = "debug"
[server]
hostname = "lists.example.org"
[[relay]]
host = "127.0.0.1"
)");
  EXPECT_EQ(check(), (Lines{
                         "config/tlpmail.toml:1: wrong type for 'log': expected a table, got a "
                         "string",
                         "config/tlpmail.toml:4: wrong type for 'relay': expected a table, got an "
                         "array",
                     }));
}

TEST_F(ConfigTest, MissingServerSection) {
  write("config/tlpmail.toml", "[log]\nlevel = \"info\"\n");
  EXPECT_EQ(check(), (Lines{"config/tlpmail.toml: missing required section [server]"}));
}

TEST_F(ConfigTest, MissingHostname) {
  write("config/tlpmail.toml", "[server]\nprotocol = \"lmtp\"\n");
  EXPECT_EQ(check(), (Lines{"config/tlpmail.toml:1: missing required key 'hostname' in [server]"}));
}

// One bad value each, in a file that is otherwise valid.
TEST_F(ConfigTest, BadValues) {
  struct Case {
    std::string text;  // appended after [server] hostname (line 2)
    std::string want;
  };
  const Case cases[] = {
      {"max_connections = \"100\"\n",
       "config/tlpmail.toml:3: wrong type for 'max_connections': expected an integer, got a "
       "string"},
      {"max_message_size = 2.5e7\n",
       "config/tlpmail.toml:3: wrong type for 'max_message_size': expected an integer, got a "
       "float"},
      {"max_message_size = 0\n",
       "config/tlpmail.toml:3: max_message_size must be between 1 and 1073741824, got 0"},
      {"max_message_size = -5\n",
       "config/tlpmail.toml:3: max_message_size must be between 1 and 1073741824, got -5"},
      {"max_connections = 0\n",
       "config/tlpmail.toml:3: max_connections must be between 1 and 10000, got 0"},
      {"max_connections = -1\n",
       "config/tlpmail.toml:3: max_connections must be between 1 and 10000, got -1"},
      {"protocol = \"esmtp\"\n",
       "config/tlpmail.toml:3: invalid protocol 'esmtp' (expected smtp or lmtp)"},
      {"listen = []\n", "config/tlpmail.toml:3: listen must name at least one host:port"},
      {"listen = \"127.0.0.1:10030\"\n",
       "config/tlpmail.toml:3: wrong type for 'listen': expected an array of strings, got a "
       "string"},
      {"[relay]\nport = 70000\n",
       "config/tlpmail.toml:4: port must be between 1 and 65535, got 70000"},
      {"[relay]\nport = 0\n", "config/tlpmail.toml:4: port must be between 1 and 65535, got 0"},
      {"[relay]\nmax_connections = 0\n",
       "config/tlpmail.toml:4: max_connections must be between 1 and 10000, got 0"},
      {"[relay]\nstarttls = \"yes\"\n",
       "config/tlpmail.toml:4: invalid starttls 'yes' (expected off, opportunistic or required)"},
      {"[relay]\nstarttls = true\n",
       "config/tlpmail.toml:4: wrong type for 'starttls': expected a string, got a boolean"},
      {"[relay]\nhost = \"\"\n", "config/tlpmail.toml:4: invalid relay host '': the host is empty"},
      {"[relay]\nhost = \"smtp example\"\n",
       "config/tlpmail.toml:4: invalid relay host 'smtp example': the host contains a character "
       "that is not allowed"},
      {"[log]\nlevel = \"verbose\"\n",
       "config/tlpmail.toml:4: invalid log level 'verbose' (expected trace, debug, info, warn or "
       "error)"},
      {"[paths]\nstate_dir = \"\"\n", "config/tlpmail.toml:4: state_dir must not be empty"},
      {"[paths]\nkeys_dir = 7\n",
       "config/tlpmail.toml:4: wrong type for 'keys_dir': expected a string, got an integer"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(check_main(c.text), (Lines{c.want})) << c.text;
  }
}

TEST_F(ConfigTest, BadHostname) {
  struct Case {
    std::string hostname;
    std::string want;
  };
  const Case cases[] = {
      {"lists",
       "config/tlpmail.toml:2: invalid hostname 'lists': the domain needs at least one dot"},
      {"", "config/tlpmail.toml:2: invalid hostname '': it is empty"},
      {"lists_example.org",
       "config/tlpmail.toml:2: invalid hostname 'lists_example.org': '_' is not allowed in the "
       "domain"},
  };
  for (const auto& c : cases) {
    write("config/tlpmail.toml", "[server]\nhostname = \"" + c.hostname + "\"\n");
    EXPECT_EQ(check(), (Lines{c.want})) << c.hostname;
  }
}

TEST_F(ConfigTest, ListenAddresses) {
  EXPECT_EQ(check_main(R"(listen = [
  "127.0.0.1",
  "127.0.0.1:70000",
  "::1:10030",
  "[::1]:10030",
  ":25",
  "127.0.0.1:smtp",
  "127.0.0.1:10030",
  "127.0.0.1:10030",
  "[::1:25",
  25,
  "localhost:0",
]
)"),
            (Lines{
                "config/tlpmail.toml:4: invalid listen address '127.0.0.1': expected "
                "host:port",
                "config/tlpmail.toml:5: invalid listen address '127.0.0.1:70000': the "
                "port must be between 1 and 65535",
                "config/tlpmail.toml:6: invalid listen address '::1:10030': an IPv6 "
                "address needs brackets, e.g. [::1]:10030",
                "config/tlpmail.toml:8: invalid listen address ':25': the host is empty",
                "config/tlpmail.toml:9: invalid listen address '127.0.0.1:smtp': the "
                "port must be a number",
                "config/tlpmail.toml:11: duplicate listen address '127.0.0.1:10030'",
                "config/tlpmail.toml:12: invalid listen address '[::1:25': expected "
                "host:port or [IPv6]:port",
                "config/tlpmail.toml:13: wrong type for an item of 'listen': expected a "
                "string, got an integer",
                "config/tlpmail.toml:14: invalid listen address 'localhost:0': the port "
                "must be between 1 and 65535",
            }));
}

TEST_F(ConfigTest, ListenAddressesParsed) {
  write_main(R"(listen = ["127.0.0.1:10030", "[::1]:10030", "localhost:25"]
)");
  auto c = load_ok();
  ASSERT_NE(c, nullptr);
  ASSERT_EQ(c->server.listen.size(), 3u);
  EXPECT_EQ(c->server.listen[0].host, "127.0.0.1");
  EXPECT_EQ(c->server.listen[0].port, 10030);
  EXPECT_EQ(c->server.listen[1].host, "::1");
  EXPECT_EQ(c->server.listen[1].port, 10030);
  EXPECT_EQ(c->server.listen[2].host, "localhost");
  EXPECT_EQ(c->server.listen[2].port, 25);
}

TEST_F(ConfigTest, TlsCertificateWithoutKey) {
  EXPECT_EQ(check_main(R"(tls_certificate = "tls/cert.pem"
)"),
            (Lines{"config/tlpmail.toml:3: tls_certificate is set but tls_private_key "
                   "is not (STARTTLS needs both)"}));
}

TEST_F(ConfigTest, TlsKeyWithoutCertificate) {
  EXPECT_EQ(check_main(R"(tls_private_key = "tls/key.pem"
)"),
            (Lines{"config/tlpmail.toml:3: tls_private_key is set but tls_certificate "
                   "is not (STARTTLS needs both)"}));
}

TEST_F(ConfigTest, TlsFilesMustExist) {
  EXPECT_EQ(check_main(R"(tls_certificate = "tls/cert.pem"
tls_private_key = "tls/key.pem"
)"),
            (Lines{
                "config/tlpmail.toml:3: tls_certificate 'config/tls/cert.pem' not found",
                "config/tlpmail.toml:4: tls_private_key 'config/tls/key.pem' not found",
            }));
  write("config/tls/cert.pem", "not checked here\n");
  write("config/tls/key.pem", "not checked here\n");
  auto c = load_ok();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->server.tls_certificate, std::filesystem::path("config/tls/cert.pem"));
  EXPECT_EQ(c->server.tls_private_key, std::filesystem::path("config/tls/key.pem"));
}

// [paths] entries that name nothing: the default directory file or
// keys_dir removed from the base tree, or lists_dir set to a folder that is
// not there. Each row on the base tree (what it removed is put back).
TEST_F(ConfigTest, MissingPaths) {
  struct Case {
    std::string name;
    std::string removed;  // from the base tree
    std::string main;     // config/tlpmail.toml after kMain (write_main)
    Lines want;
  };
  const Case cases[] = {
      // The lists cannot be checked against a missing directory; no noise.
      {"directory file at the default path", "config/directory.toml", "",
       {"config/tlpmail.toml: directory 'config/directory.toml' not found"}},
      {"lists_dir at a configured path", "", "\n[paths]\nlists_dir = \"lists\"\n",
       {"config/tlpmail.toml:5: lists_dir 'config/lists' not found"}},
      {"keys_dir", "config/keys", "", {"config/tlpmail.toml: keys_dir 'config/keys' not found"}},
  };
  for (const Case& c : cases) {
    if (!c.removed.empty()) std::filesystem::remove(c.removed);
    EXPECT_EQ(check_main(c.main), c.want) << c.name;
    write("config/directory.toml", kDirectory);
    std::filesystem::create_directories("config/keys");
  }
}

TEST_F(ConfigTest, PathsOfTheWrongSort) {
  EXPECT_EQ(check_main(R"(
[paths]
directory = "keys"
lists_dir = "directory.toml"
keys_dir = "lists.d/ops.toml"
)"),
            (Lines{
                "config/tlpmail.toml:5: directory 'config/keys' is a folder, not a file",
                "config/tlpmail.toml:6: lists_dir 'config/directory.toml' is not a "
                "folder",
                "config/tlpmail.toml:7: keys_dir 'config/lists.d/ops.toml' is not a "
                "folder",
            }));
}

TEST_F(ConfigTest, UnreadableListFileDoesNotStopTheOthers) {
  // A dangling symlink: unreadable even for root, which ignores modes.
  std::filesystem::create_symlink("/nonexistent/tlpmail-test", "config/lists.d/gone.toml");
  write("config/lists.d/zz.toml", R"(address = "zz@lists.example.org"
tlp_ceiling = "RED"
members = ["eve@x.example"]
admins = []
)");
  EXPECT_EQ(check(), (Lines{
                         "config/lists.d/gone.toml: cannot read: No such file or directory",
                         "config/lists.d/zz.toml:3: member 'eve@x.example' is not in the "
                         "directory",
                         "config/lists.d/zz.toml:4: warning: the list has no admins: nobody will "
                         "be told about delivery failures or key problems",
                     }));
}

TEST_F(ConfigTest, StateDirIsNotRequiredToExist) {
  write_main(R"([paths]
state_dir = "/nonexistent/tlpmail-state"
)");
  auto c = load_ok();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->paths.state_dir, std::filesystem::path("/nonexistent/tlpmail-state"));
}

}  // namespace
}  // namespace tlpmail::config::testing
