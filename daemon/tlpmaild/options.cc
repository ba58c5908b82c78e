// Parses tlpmaild's arguments; exit codes are main()'s business.
#include "tlpmaild/options.h"

#include <optional>
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

namespace {

// The value of `name` given as "NAME VALUE" (advancing i) or "NAME=VALUE";
// "" when the value is missing; nullopt when args[i] is another option.
std::optional<std::string> option_value(const std::vector<std::string>& args, std::size_t& i,
                                        std::string_view name) {
  std::string_view a = args[i];
  if (a == name) return i + 1 < args.size() ? args[++i] : std::string();
  if (a.size() > name.size() && a.starts_with(name) && a[name.size()] == '=') {
    return std::string(a.substr(name.size() + 1));
  }
  return std::nullopt;
}

}  // namespace

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
    } else if (auto v = option_value(args, i, "--timeouts-ms")) {
      if (v->empty()) return fail("--timeouts-ms needs a number of milliseconds");
      auto ms = net::parse_milliseconds(*v);
      if (!ms) return fail("--timeouts-ms: '" + *v + "' is not a number from 1 to 86400000");
      p.options.timeouts = *ms;
    } else if (a == "--hold-spool") {
      p.options.hold_spool = true;
    } else if (auto t = option_value(args, i, "--job-tick-ms")) {
      auto ms = net::parse_milliseconds(*t);
      if (!ms) return fail("--job-tick-ms: '" + *t + "' is not a number from 1 to 86400000");
      p.options.job_tick = *ms;
    } else if (auto t = option_value(args, i, "--outbox-poll-ms")) {
      auto ms = net::parse_milliseconds(*t);
      if (!ms) return fail("--outbox-poll-ms: '" + *t + "' is not a number from 1 to 86400000");
      p.options.outbox_poll = *ms;
    } else if (auto t = option_value(args, i, "--gpg-deadline-ms")) {
      auto ms = net::parse_milliseconds(*t);
      if (!ms) return fail("--gpg-deadline-ms: '" + *t + "' is not a number from 1 to 86400000");
      p.options.gpg_deadline = *ms;
    } else if (auto t = option_value(args, i, "--keys-poll-ms")) {
      auto ms = net::parse_milliseconds(*t);
      if (!ms) return fail("--keys-poll-ms: '" + *t + "' is not a number from 1 to 86400000");
      p.options.keys_poll = *ms;
    } else if (auto r = option_value(args, i, "--retry-seconds")) {
      if (r->empty()) return fail("--retry-seconds needs a number of seconds");
      int n = 0;
      for (char c : *r) {
        if (c < '0' || c > '9' || n > 3600) {
          n = 0;
          break;
        }
        n = n * 10 + (c - '0');
      }
      if (n < 1 || n > 3600) {
        return fail("--retry-seconds: '" + *r + "' is not a number from 1 to 3600");
      }
      p.options.retry_seconds = n;
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
