// tlpmailctl's commands. Each takes the parsed options, writes its report
// to out (problems to err) and returns the exit code: 0 ok, 1 a reported
// problem, 2 a usage error. Plain text by default, JSON with --json.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tlpmail::config {
struct Config;
}
namespace tlpmail::directory {
struct MailingList;
}
namespace tlpmail::store {
class Database;
}

namespace tlpmail::ctl {

struct Options {
  std::string config_path = "/etc/tlpmail/tlpmail.toml";
  bool json = false;
  bool quiet = false;             // check-config: print problems only
  std::string since;              // audit --since YYYY-MM-DD; empty: everything
  std::string list;               // audit --list ADDRESS; empty: every list
  std::string export_dir;         // keys --export DIR
  int grace_days = 30;            // rotate-list-key --grace DAYS
  int days = 3 * 365;             // extend-list-key --days DAYS
  std::string out_dir;            // wkd --out DIR
  std::string format;             // mta-maps --format postfix|exim|opensmtpd
  std::string deadline;           // comcheck start --deadline DURATION (default 48h)
  std::string spread;             // comcheck start --spread DURATION (default 0)
  bool review = false;            // comcheck start --review
  std::int64_t check = 0;         // comcheck report --check ID; 0: the latest
  std::string html;               // comcheck report --html FILE
  bool csv = false;               // directory --csv
  bool force = false;             // restore --force
  std::vector<std::string> args;  // after the command name
};

// Loads o.config_path; on errors prints them (to err, or as JSON to out)
// and returns null.
std::shared_ptr<const config::Config> load_config_or_report(const Options& o, std::ostream& out,
                                                            std::ostream& err);

// The list whose address is o.args[0]; prints "no list with address 'X'"
// to err and returns null when there is none.
const directory::MailingList* find_list_or_report(const config::Config& c, const Options& o,
                                                  std::ostream& err);

// Both of the above, for the commands about one list: the list is null
// (and the problem reported) when either could not be had.
struct ConfigAndList {
  std::shared_ptr<const config::Config> config;
  const directory::MailingList* list = nullptr;
};
ConfigAndList load_list_or_report(const Options& o, std::ostream& out, std::ostream& err);

int check_config(const Options& o, std::ostream& out, std::ostream& err);
int lists(const Options& o, std::ostream& out, std::ostream& err);
// members ADDRESS: also each member's directory review and bounce streak
// (flagged from the list's bounce_threshold), read from state_dir/tlpmail.db
// when it exists.
int members(const Options& o, std::ostream& out, std::ostream& err);
// keys [--export DIR]: every pinned key with its status, expiry, days
// left and source (keys_dir, or an update by mail in state_dir/keys.d).
// --export DIR writes each person's current key (keys_dir merged with the
// updates by mail) to DIR/EMAIL.asc for the admins' repository.
int keys(const Options& o, std::ostream& out, std::ostream& err);

// list-key ADDRESS and import-list-key ADDRESS FILE (ctl/list_keys.cc).
// list-key reads a private snapshot of state_dir/gnupg and never changes
// the daemon's home; import-list-key writes into it (creating state_dir
// and the home, mode 0700, when missing).
int list_key(const Options& o, std::ostream& out, std::ostream& err);
int import_list_key(const Options& o, std::ostream& out, std::ostream& err);

// The list key's lifecycle (ctl/list_keys.cc, docs/keys.md "Rotation"):
// rotate-list-key ADDRESS [--grace DAYS], retire-list-key ADDRESS FPR,
// extend-list-key ADDRESS [--days DAYS] and wkd ADDRESS... --out DIR.
// The key changes are made in a private snapshot of state_dir/gnupg and
// imported into it (retire deletes there), under the list key lock;
// rotate-list-key also queues the announcement in state_dir/tlpmail.db's
// outbox. wkd only reads.
int rotate_list_key(const Options& o, std::ostream& out, std::ostream& err);
int retire_list_key(const Options& o, std::ostream& out, std::ostream& err);
int extend_list_key(const Options& o, std::ostream& out, std::ostream& err);
int wkd(const Options& o, std::ostream& out, std::ostream& err);

// mta-maps --format postfix|exim|opensmtpd (ctl/mta_maps.cc): the MTA's
// lookup table of every list address (posting, -request, -bounces), to
// stdout; the MTA snippets that use it are in docs/mta/. Reads only the
// configuration. 2 for a missing or unknown format.
int mta_maps(const Options& o, std::ostream& out, std::ostream& err);

// comcheck start|report|history ADDRESS (ctl/comcheck.cc): `start`
// [--deadline D] [--spread D] [--review] writes a check and its members
// into state_dir/tlpmail.db (tlpmaild sends the messages); `report`
// [--check ID] [--html FILE] and `history` read it. 1 for an address
// that is not a list (start), an open check, no check, no database yet;
// 2 for a bad duration.
int comcheck(const Options& o, std::ostream& out, std::ostream& err);

// directory [--json|--csv] (ctl/directory.cc): every person with their
// contact fields, lists, key status and directory review.
int directory(const Options& o, std::ostream& out, std::ostream& err);

// audit [--since DATE] [--list A] (ctl/audit.cc): the verdicts in
// state_dir/tlpmail.db, oldest first, each accepted one with its copies
// and left-out members. Opens the database read-only; a missing database
// is a reported problem (1), never created. --list is compared
// case-insensitively and need not be a configured list.
int audit(const Options& o, std::ostream& out, std::ostream& err);

// queue (ctl/queue.cc): messages still in the spool, the outbox's copies
// by state, and every copy waiting for delivery (queued, in flight,
// deferred) with its attempts, next attempt and the relay's last answer.
// Read-only; exit 0 whatever waits (1 only when the database cannot be read).
int queue(const Options& o, std::ostream& out, std::ostream& err);

// backup DIR and restore DIR [--force] (ctl/backup.cc, lib/backup):
// a consistent copy of state_dir while tlpmaild runs, and putting it back
// with tlpmaild stopped. 1 for any refusal or fault, with the reason.
int backup(const Options& o, std::ostream& out, std::ostream& err);
int restore(const Options& o, std::ostream& out, std::ostream& err);

// status (ctl/status.cc): whether tlpmaild runs (pid, version, uptime,
// listen addresses), when it last delivered, what waits and what needs
// attention. 1 when anything does (not running, old deferred copies,
// failed copies, a list key expiring), 0 otherwise.
int status(const Options& o, std::ostream& out, std::ostream& err);

// state_dir/tlpmail.db of `c`, opened read-only, when its schema has at
// least `min_version` steps; otherwise prints why ("no WHAT yet: ...", or
// the database error) to err and returns null. Never creates anything.
std::unique_ptr<store::Database> open_state_db(const config::Config& c, int min_version,
                                               std::string_view what, std::ostream& err);

// Unix time of YYYY-MM-DD 00:00 UTC; nullopt unless exactly that form and
// a real date.
std::optional<std::int64_t> parse_audit_date(std::string_view s);

// The list key of one list as `lists` shows it.
struct ListKeyView {
  std::string fingerprint;  // empty unless a usable list key was found
  std::string word;         // the fingerprint, "none yet", "unknown" or "problem"
  std::string problem;      // why "unknown" or "problem"; empty otherwise
  std::int64_t expires = 0;  // of the current key; 0: never
  // Keys the current one replaced that are still accepted: fingerprint and
  // the end of their grace period (0: none set).
  std::vector<std::pair<std::string, std::int64_t>> in_grace;
  // "the list key FPR of X expires on DATE (in N days); run tlpmailctl
  // extend-list-key X" within fanout::kListKeyWarningDays; else empty.
  std::string warning;
};

// The list key of every list of `c`, in list order, read from a private
// snapshot of state_dir/gnupg. Creates and changes nothing there: a
// missing home means "none yet" for every list, an unreadable one
// "unknown".
std::vector<ListKeyView> view_list_keys(const config::Config& c);

// Prints every list key warning of view_list_keys to `err`, one line each
// ("tlpmailctl: warning: ..."), for `keys`.
void warn_about_list_keys(const config::Config& c, std::ostream& err);

}  // namespace tlpmail::ctl
