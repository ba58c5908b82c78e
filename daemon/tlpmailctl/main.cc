// tlpmailctl: the admin tool. Parses the command line and dispatches to the
// commands in daemon/tlpmailctl/; the logic behind them lives in lib/.
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>

#include "tlpmailctl/ctl.h"
#include "openpgp/context.h"

namespace {

constexpr const char* kUsage =
    "usage: tlpmailctl [--config PATH] [--json] COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  check-config [--quiet]   validate everything, print FILE:LINE problems\n"
    "  lists                    lists with member counts, TLP ceilings, key fingerprints\n"
    "  members ADDRESS          members of a list with clearance and key status\n"
    "  keys [--export DIR]      every pinned key: status, expiry, days left, source;\n"
    "                           --export writes the keys as tlpmaild uses them to DIR\n"
    "  list-key ADDRESS         print the list's public key (armored)\n"
    "  queue                    messages and copies waiting for delivery\n"
    "  mta-maps --format postfix|exim|opensmtpd\n"
    "                           the MTA's table of every list address (docs/mta/)\n"
    "  audit [--since YYYY-MM-DD] [--list ADDRESS]\n"
    "                           who sent what label to which list, who got copies\n"
    "  comcheck start ADDRESS [--deadline D] [--spread D] [--review]\n"
    "                           a communication check of a list (D: 48h, 2d, 30m ...)\n"
    "  comcheck report ADDRESS [--check ID] [--html FILE]\n"
    "                           answers, delays and success rate of a check\n"
    "  comcheck history ADDRESS every check of a list with its success rate\n"
    "  directory [--csv]        the whole directory with review and key state\n"
    "  import-list-key ADDRESS FILE\n"
    "                           import an existing secret key as the list's key\n"
    "                           (run it as the service user or with tlpmaild stopped)\n"
    "  rotate-list-key ADDRESS [--grace DAYS]\n"
    "                           new list key, announced to the members; mail to the old\n"
    "                           key is accepted for DAYS more (default 30, 0: none)\n"
    "  retire-list-key ADDRESS FINGERPRINT\n"
    "                           delete a list key that a rotation replaced\n"
    "  extend-list-key ADDRESS [--days DAYS]\n"
    "                           the list key expires DAYS from now (default 1095)\n"
    "  wkd ADDRESS... --out DIR write the Web Key Directory files of the list keys\n"
    "  status                   is tlpmaild running, what waits, what needs attention\n"
    "                           (exit 1 when anything does)\n"
    "  backup DIR               consistent copy of state_dir into the new folder DIR,\n"
    "                           tlpmaild may run (DIR holds the list SECRET keys)\n"
    "  restore DIR [--force]    put a backup back into state_dir (tlpmaild stopped;\n"
    "                           --force replaces a state that is not empty)\n"
    "\n"
    "options:\n"
    "  --config PATH   main configuration file (default /etc/tlpmail/tlpmail.toml)\n"
    "  --json          machine-readable output\n"
    "\n"
    "exit status: 0 ok, 1 a reported problem, 2 usage error\n";

int usage_error(std::string_view what) {
  std::cerr << "tlpmailctl: " << what << "\n" << kUsage;
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tlpmail;
  ctl::Options o;
  std::string command;
  bool grace_given = false, days_given = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--config" || a == "-c") {
      if (i + 1 >= argc) return usage_error("--config needs a path");
      o.config_path = argv[++i];
    } else if (a.starts_with("--config=")) {
      o.config_path = std::string(a.substr(9));
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "--since" || a == "--list") {
      if (i + 1 >= argc) return usage_error(std::string(a) + " needs a value");
      (a == "--since" ? o.since : o.list) = argv[++i];
    } else if (a.starts_with("--since=")) {
      o.since = std::string(a.substr(8));
    } else if (a.starts_with("--list=")) {
      o.list = std::string(a.substr(7));
    } else if (a == "--grace" || a == "--days") {
      if (i + 1 >= argc) return usage_error(std::string(a) + " needs a number of days");
      const std::string v = argv[++i];
      int n = -1;
      if (v.empty() || v.size() > 5 || v.find_first_not_of("0123456789") != std::string::npos) {
        return usage_error(std::string(a) + " wants a number of days, got '" + v + "'");
      }
      n = std::stoi(v);
      (a == "--grace" ? o.grace_days : o.days) = n;
      (a == "--grace" ? grace_given : days_given) = true;
    } else if (a == "--out") {
      if (i + 1 >= argc) return usage_error("--out needs a folder");
      o.out_dir = argv[++i];
    } else if (a == "--export") {
      if (i + 1 >= argc) return usage_error("--export needs a folder");
      o.export_dir = argv[++i];
      if (o.export_dir.empty()) return usage_error("--export needs a folder");
    } else if (a == "--format" || a.starts_with("--format=")) {
      if (a == "--format" && i + 1 >= argc) return usage_error("--format needs a value");
      o.format = a == "--format" ? std::string(argv[++i]) : std::string(a.substr(9));
    } else if (a == "--deadline" || a == "--spread" || a == "--html" || a == "--check") {
      if (i + 1 >= argc) return usage_error(std::string(a) + " needs a value");
      const std::string v = argv[++i];
      if (a == "--check") {
        if (v.empty() || v.size() > 15 || v.find_first_not_of("0123456789") != std::string::npos) {
          return usage_error("--check wants a check number, got '" + v + "'");
        }
        o.check = std::stoll(v);
      } else {
        if (v.empty()) return usage_error(std::string(a) + " needs a value");
        (a == "--deadline" ? o.deadline : a == "--spread" ? o.spread : o.html) = v;
      }
    } else if (a == "--review") {
      o.review = true;
    } else if (a == "--csv") {
      o.csv = true;
    } else if (a == "--force") {
      o.force = true;
    } else if (a == "--quiet" || a == "-q") {
      o.quiet = true;
    } else if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return 0;
    } else if (a == "--version") {
      std::cout << "tlpmailctl " TLPMAIL_VERSION "\n";
      return 0;
    } else if (a.starts_with("-") && a != "-") {
      return usage_error("unknown option '" + std::string(a) + "'");
    } else if (command.empty()) {
      command = a;
    } else {
      o.args.emplace_back(a);
    }
  }
  if (command.empty()) return usage_error("no command given");
  if (command != "mta-maps" && !o.format.empty()) {
    return usage_error("--format belongs to mta-maps");
  }
  if (command != "audit" && (!o.since.empty() || !o.list.empty())) {
    return usage_error("--since and --list belong to audit");
  }
  if (command != "comcheck" && (!o.deadline.empty() || !o.spread.empty() || o.review ||
                                o.check > 0 || !o.html.empty())) {
    return usage_error("--deadline, --spread, --review, --check and --html belong to comcheck");
  }
  if (command != "directory" && o.csv) return usage_error("--csv belongs to directory");
  if (command != "restore" && o.force) return usage_error("--force belongs to restore");
  if (command != "keys" && !o.export_dir.empty()) {
    return usage_error("--export belongs to keys");
  }
  if ((grace_given && command != "rotate-list-key") || (days_given && command != "extend-list-key") ||
      (!o.out_dir.empty() && command != "wkd")) {
    return usage_error("--grace belongs to rotate-list-key, --days to extend-list-key, --out to wkd");
  }

  auto expect_args = [&](std::size_t n, const char* form) -> bool {
    if (o.args.size() == n) return true;
    usage_error(std::string("usage: tlpmailctl ") + form);
    return false;
  };

  // Started before anything else may create threads (docs/decisions.md,
  // "GPGME and threads").
  if (auto r = openpgp::initialize(); !r) {
    std::cerr << "tlpmailctl: " << r.error().message << "\n";
    return 1;
  }

  if (command == "check-config") {
    if (!expect_args(0, "check-config [--quiet]")) return 2;
    return ctl::check_config(o, std::cout, std::cerr);
  }
  if (command == "lists") {
    if (!expect_args(0, "lists")) return 2;
    return ctl::lists(o, std::cout, std::cerr);
  }
  if (command == "members") {
    if (!expect_args(1, "members ADDRESS")) return 2;
    return ctl::members(o, std::cout, std::cerr);
  }
  if (command == "keys") {
    if (!expect_args(0, "keys [--export DIR]")) return 2;
    return ctl::keys(o, std::cout, std::cerr);
  }
  if (command == "list-key") {
    if (!expect_args(1, "list-key ADDRESS")) return 2;
    return ctl::list_key(o, std::cout, std::cerr);
  }
  if (command == "import-list-key") {
    if (!expect_args(2, "import-list-key ADDRESS FILE")) return 2;
    return ctl::import_list_key(o, std::cout, std::cerr);
  }
  if (command == "rotate-list-key") {
    if (!expect_args(1, "rotate-list-key ADDRESS [--grace DAYS]")) return 2;
    return ctl::rotate_list_key(o, std::cout, std::cerr);
  }
  if (command == "retire-list-key") {
    if (!expect_args(2, "retire-list-key ADDRESS FINGERPRINT")) return 2;
    return ctl::retire_list_key(o, std::cout, std::cerr);
  }
  if (command == "extend-list-key") {
    if (!expect_args(1, "extend-list-key ADDRESS [--days DAYS]")) return 2;
    return ctl::extend_list_key(o, std::cout, std::cerr);
  }
  if (command == "wkd") {
    if (o.args.empty() || o.out_dir.empty()) {
      return usage_error("usage: tlpmailctl wkd ADDRESS... --out DIR");
    }
    return ctl::wkd(o, std::cout, std::cerr);
  }
  if (command == "mta-maps") {
    if (!expect_args(0, "mta-maps --format postfix|exim|opensmtpd")) return 2;
    if (o.format.empty()) return usage_error("mta-maps needs --format postfix, exim or opensmtpd");
    return ctl::mta_maps(o, std::cout, std::cerr);
  }
  if (command == "queue") {
    if (!expect_args(0, "queue")) return 2;
    return ctl::queue(o, std::cout, std::cerr);
  }
  if (command == "comcheck") {
    const bool known = o.args.size() == 2 &&
                       (o.args[0] == "start" || o.args[0] == "report" || o.args[0] == "history");
    if (!known) {
      return usage_error(
          "usage: tlpmailctl comcheck start|report|history ADDRESS [--deadline D] [--spread D] "
          "[--review] [--check ID] [--html FILE]");
    }
    const bool starting = o.args[0] == "start";
    if (!starting && (!o.deadline.empty() || !o.spread.empty() || o.review)) {
      return usage_error("--deadline, --spread and --review belong to comcheck start");
    }
    if (o.args[0] != "report" && (o.check > 0 || !o.html.empty())) {
      return usage_error("--check and --html belong to comcheck report");
    }
    return ctl::comcheck(o, std::cout, std::cerr);
  }
  if (command == "directory") {
    if (!expect_args(0, "directory [--json|--csv]")) return 2;
    if (o.json && o.csv) return usage_error("directory takes --json or --csv, not both");
    return ctl::directory(o, std::cout, std::cerr);
  }
  if (command == "status") {
    if (!expect_args(0, "status [--json]")) return 2;
    return ctl::status(o, std::cout, std::cerr);
  }
  if (command == "backup") {
    if (!expect_args(1, "backup DIR")) return 2;
    return ctl::backup(o, std::cout, std::cerr);
  }
  if (command == "restore") {
    if (!expect_args(1, "restore DIR [--force]")) return 2;
    return ctl::restore(o, std::cout, std::cerr);
  }
  if (command == "audit") {
    if (!expect_args(0, "audit [--since YYYY-MM-DD] [--list ADDRESS]")) return 2;
    if (!o.since.empty() && !ctl::parse_audit_date(o.since)) {
      return usage_error("--since wants a date YYYY-MM-DD, got '" + o.since + "'");
    }
    return ctl::audit(o, std::cout, std::cerr);
  }
  return usage_error("unknown command '" + command + "'");
}
