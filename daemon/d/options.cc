// Parses tlpmaild's arguments; exit codes are main()'s business.
#include "d/options.h"

#include <string_view>

#include "net/timeouts.h"

namespace tlpmail::daemon {

const char* const kUsage =
    "usage: tlpmaild [--config PATH]\n"
    "\n"
    "Receives mail for tlpmail's lists over SMTP or LMTP (see [server] in the\n"
    "configuration). Logs to stderr, or to the journal when started by systemd.\n"
    "SIGHUP reloads the configuration; SIGTERM or SIGINT stop it.\n"
    "\n"
    "options:\n"
    "  --config PATH   main configuration file (default /etc/tlpmail/tlpmail.toml)\n"
    "  -h, --help      this text\n"
    "  --version       print the version\n"
    "\n"
    "exit status: 0 after SIGTERM/SIGINT, 1 start-up error, 2 usage error\n";

Parsed parse_options(const std::vector<std::string>& args) {
  Parsed p;
  auto fail = [&p](std::string what) {
    p.action = Action::usage_error;
    p.error = std::move(what);
    return p;
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "--config" || a == "-c") {
      if (i + 1 >= args.size()) return fail("--config needs a path");
      p.options.config_path = args[++i];
      if (p.options.config_path.empty()) return fail("--config needs a path");
    } else if (a.starts_with("--config=")) {
      p.options.config_path = std::string(a.substr(9));
      if (p.options.config_path.empty()) return fail("--config needs a path");
    } else if (a == "--timeouts-ms" || a.starts_with("--timeouts-ms=")) {
      std::string value;
      if (a == "--timeouts-ms") {
        if (i + 1 >= args.size()) return fail("--timeouts-ms needs a number of milliseconds");
        value = args[++i];
      } else {
        value = std::string(a.substr(14));
      }
      auto ms = net::parse_milliseconds(value);
      if (!ms) return fail("--timeouts-ms: '" + value + "' is not a number from 1 to 86400000");
      p.options.timeouts = *ms;
    } else if (a == "--help" || a == "-h") {
      p.action = Action::help;
      return p;
    } else if (a == "--version") {
      p.action = Action::version;
      return p;
    } else if (a.starts_with("-")) {
      return fail("unknown option '" + std::string(a) + "'");
    } else {
      return fail("unexpected argument '" + std::string(a) + "'");
    }
  }
  return p;
}

}  // namespace tlpmail::daemon
