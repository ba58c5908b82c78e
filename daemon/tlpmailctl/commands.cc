// check-config, lists, members and keys: load the configuration (and the
// members' keys into a throwaway GnuPG home, so these commands never touch
// the daemon's state; `lists` reads the list keys from a snapshot of it,
// tlpmailctl/list_keys.cc), then report as aligned text or JSON. JSON is written
// with toml++'s json_formatter rather than by hand.
#include <toml++/toml.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <iostream>
#include <sstream>

#include "admin/table.h"
#include "bounces/bounce.h"
#include "config/config.h"
#include "queue/outbox.h"
#include "tlpmailctl/ctl.h"
#include "tlpmailctl/reviews.h"
#include "keyring/keyring.h"
#include "openpgp/list_key.h"
#include "openpgp/temp_home.h"
#include "policy/tlp.h"
#include "util/text.h"

namespace tlpmail::ctl {
namespace {

using config::Config;
using config::Diagnostic;
using config::Severity;

void print_json(std::ostream& out, const toml::table& t) { out << toml::json_formatter{t} << "\n"; }

toml::array diagnostics_json(const std::vector<Diagnostic>& ds) {
  toml::array a;
  for (const auto& d : ds) {
    a.push_back(toml::table{{"severity", d.severity == Severity::error ? "error" : "warning"},
                            {"file", d.file},
                            {"line", d.line},
                            {"message", d.message},
                            {"text", d.to_string()}});
  }
  return a;
}

std::size_t count_errors(const std::vector<Diagnostic>& ds) {
  std::size_t n = 0;
  for (const auto& d : ds) n += d.severity == Severity::error;
  return n;
}

// Loads the configuration; prints its problems and returns null on errors.
// Warnings are printed only when `show_warnings`.
std::shared_ptr<const Config> load(const Options& o, std::ostream& out, std::ostream& err,
                                   std::vector<Diagnostic>& diags) {
  auto loaded = config::load_config(o.config_path);
  diags = loaded.diagnostics;
  if (loaded.ok()) return loaded.config;
  if (o.json) {
    print_json(out, toml::table{{"ok", false}, {"diagnostics", diagnostics_json(diags)}});
  } else {
    for (const auto& d : diags) err << d.to_string() << "\n";
    err << o.config_path << ": " << count_errors(diags) << " error(s)\n";
  }
  return nullptr;
}

// The members' keys, judged now, in a throwaway GnuPG home; on failure
// says so on err and returns nullopt.
std::optional<keyring::KeyReport> load_keys_or_report(const Config& c, std::ostream& err) {
  auto home = openpgp::TempHome::create();
  Result<keyring::KeyReport> keys =
      home ? keyring::load_keys(c, home->path(), std::time(nullptr))
           : Result<keyring::KeyReport>(Unexpected(home.error()));
  if (!keys) {
    err << "tlpmailctl: cannot check keys: " << keys.error().message << "\n";
    return std::nullopt;
  }
  return std::move(*keys);
}

std::string yes_no(bool b) { return b ? "yes" : "no"; }

std::string date_or_never(std::time_t t) { return t == 0 ? "never" : iso_date(t); }

// When the key stops (or stopped) being usable; 0 for never.
std::time_t expiry(const keyring::PersonKey& k) {
  if (k.usable_until != 0 || !k.facts) return k.usable_until;
  return k.facts->expires;
}

// Whole days from `now` to `t`, rounded up as the status words count them
// ("expires in 1 day" on the last day); 0 or less once past.
std::int64_t days_until(std::time_t t, std::time_t now) {
  constexpr std::int64_t kDay = 86400;
  const std::int64_t left = static_cast<std::int64_t>(t) - static_cast<std::int64_t>(now);
  return left > 0 ? (left + kDay - 1) / kDay : -((-left) / kDay);
}

std::string source_text(const keyring::PersonKey& k) {
  if (k.source != keyring::KeySource::mail) return std::string(keyring::to_string(k.source));
  return "mail" + (k.source_date == 0 ? std::string() : " " + iso_date(k.source_date));
}

// keys --export DIR: the current key of every person (keys_dir merged with
// the updates by mail, as tlpmaild loads them) into DIR/EMAIL.asc, armored
// and minimal, for the admins' repository. `home` holds what load_keys
// imported.
int export_keys(const Options& o, const keyring::KeyReport& keys,
                const std::filesystem::path& home, std::ostream& out, std::ostream& err) {
  const std::filesystem::path dir = o.export_dir;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir)) {
    err << "tlpmailctl: cannot create " << dir.string() << ": "
        << (ec ? ec.message() : std::string("not a folder")) << "\n";
    return 1;
  }
  auto ctx = openpgp::Context::open(home);
  if (!ctx) {
    err << "tlpmailctl: " << ctx.error().message << "\n";
    return 1;
  }
  toml::array written;
  admin::Table t({"EMAIL", "FINGERPRINT", "SOURCE", "FILE"});
  bool failed = false;
  for (const auto& k : keys.people) {
    if (!k.facts) continue;  // missing: nothing to write
    auto armored = openpgp::export_public(*ctx, k.fingerprint);
    if (!armored) {
      err << "tlpmailctl: " << k.email << ": " << armored.error().message << "\n";
      failed = true;
      continue;
    }
    // The address is the file name: refuse one that could leave DIR.
    if (k.email.find('/') != std::string::npos || k.email.front() == '.') {
      err << "tlpmailctl: " << k.email << ": not usable as a file name\n";
      failed = true;
      continue;
    }
    const std::filesystem::path file = dir / (k.email + ".asc");
    std::ofstream f(file, std::ios::binary | std::ios::trunc);
    f << *armored;
    f.close();
    if (!f) {
      err << "tlpmailctl: cannot write " << file.string() << "\n";
      failed = true;
      continue;
    }
    t.add({k.email, k.fingerprint, source_text(k), file.string()});
    written.push_back(toml::table{{"email", k.email},
                                  {"fingerprint", k.fingerprint},
                                  {"source", std::string(keyring::to_string(k.source))},
                                  {"file", file.string()}});
  }
  if (o.json) {
    print_json(out, toml::table{{"exported", written}, {"folder", dir.string()}});
  } else {
    out << t.render();
    out << "\n" << written.size() << " key(s) written to " << dir.string()
        << ". Review them (gpg --show-keys FILE), replace the files in keys_dir with\n"
           "them, commit and reload tlpmaild.\n";
  }
  return failed ? 1 : 0;
}

}  // namespace

std::shared_ptr<const Config> load_config_or_report(const Options& o, std::ostream& out,
                                                    std::ostream& err) {
  std::vector<Diagnostic> diags;
  return load(o, out, err, diags);
}

const directory::MailingList* find_list_or_report(const Config& c, const Options& o,
                                                  std::ostream& err) {
  const auto& address = o.args.at(0);
  const auto* list = c.directory.find_list(address);
  if (!list) err << "tlpmailctl: no list with address '" << address << "'\n";
  return list;
}

ConfigAndList load_list_or_report(const Options& o, std::ostream& out, std::ostream& err) {
  auto cfg = load_config_or_report(o, out, err);
  if (!cfg) return {};
  const auto* list = find_list_or_report(*cfg, o, err);
  return {std::move(cfg), list};
}

int check_config(const Options& o, std::ostream& out, std::ostream& err) {
  std::vector<Diagnostic> diags;
  auto cfg = load(o, out, err, diags);
  if (!cfg) return 1;
  auto keys = load_keys_or_report(*cfg, err);
  if (!keys) return 1;
  diags.insert(diags.end(), keys->diagnostics.begin(), keys->diagnostics.end());
  std::size_t errors = count_errors(diags);
  std::size_t warnings = diags.size() - errors;

  const auto& dir = cfg->directory;
  std::size_t teams = 0, usable = 0;
  for (const auto& p : dir.people()) teams += p.kind == directory::Kind::team;
  for (const auto& k : keys->people) usable += k.usable;

  if (o.json) {
    print_json(out, toml::table{{"ok", errors == 0},
                                {"config", o.config_path},
                                {"lists", static_cast<int64_t>(dir.lists().size())},
                                {"people", static_cast<int64_t>(dir.people().size())},
                                {"team_mailboxes", static_cast<int64_t>(teams)},
                                {"usable_keys", static_cast<int64_t>(usable)},
                                {"unpinned_keys", static_cast<int64_t>(keys->unpinned.size())},
                                {"errors", static_cast<int64_t>(errors)},
                                {"warnings", static_cast<int64_t>(warnings)},
                                {"diagnostics", diagnostics_json(diags)}});
    return errors ? 1 : 0;
  }
  for (const auto& d : diags) err << d.to_string() << "\n";
  if (errors) {
    err << o.config_path << ": " << errors << " error(s), " << warnings << " warning(s)\n";
    return 1;
  }
  if (!o.quiet) {
    out << o.config_path << ": ok\n"
        << "  lists:   " << dir.lists().size() << "\n"
        << "  people:  " << dir.people().size() << " (" << teams << " team mailbox"
        << (teams == 1 ? "" : "es") << ")\n"
        << "  keys:    " << usable << " of " << keys->people.size() << " usable";
    if (!keys->unpinned.empty())
      out << ", " << keys->unpinned.size() << " unpinned (grant nothing)";
    out << "\n  warnings: " << warnings << "\n";
  }
  return 0;
}

int lists(const Options& o, std::ostream& out, std::ostream& err) {
  std::vector<Diagnostic> diags;
  auto cfg = load(o, out, err, diags);
  if (!cfg) return 1;
  const auto& lists = cfg->directory.lists();
  const auto list_keys = view_list_keys(*cfg);
  bool problem = false;
  for (const auto& k : list_keys) problem = problem || k.word == "problem";
  if (o.json) {
    toml::array a;
    for (std::size_t i = 0; i < lists.size(); ++i) {
      const auto& l = lists[i];
      toml::array members, admins;
      for (const auto& m : l.members) members.push_back(m);
      for (const auto& m : l.admins) admins.push_back(m);
      toml::table row{{"address", l.address},
                      {"description", l.description},
                      {"tlp_ceiling", std::string(policy::to_string(l.ceiling))},
                      {"tlp_default", std::string(policy::to_string(l.default_label))},
                      {"members", members},
                      {"admins", admins},
                      {"subject_prefix", l.subject_prefix},
                      {"deliver_to_sender", l.deliver_to_sender},
                      {"file", l.at.file},
                      {"key_fingerprint", list_keys[i].fingerprint},
                      {"key_status", list_keys[i].fingerprint.empty() ? list_keys[i].word : "ok"}};
      if (!list_keys[i].problem.empty()) row.insert("key_problem", list_keys[i].problem);
      if (!list_keys[i].fingerprint.empty()) {
        row.insert("key_expires", date_or_never(list_keys[i].expires));
        toml::array grace;
        for (const auto& [fpr, until] : list_keys[i].in_grace) {
          grace.push_back(toml::table{{"fingerprint", fpr}, {"until", date_or_never(until)},
                                      {"until_unix", until}});
        }
        row.insert("keys_in_grace", std::move(grace));
        if (!list_keys[i].warning.empty()) row.insert("key_warning", list_keys[i].warning);
      }
      a.push_back(std::move(row));
    }
    print_json(out, toml::table{{"lists", a}});
    return problem ? 1 : 0;
  }
  admin::Table t({"ADDRESS", "CEILING", "DEFAULT", "MEMBERS", "ADMINS", "KEY", "DESCRIPTION"});
  for (std::size_t i = 0; i < lists.size(); ++i) {
    const auto& l = lists[i];
    t.add({l.address, std::string(policy::to_string(l.ceiling)),
           std::string(policy::to_string(l.default_label)), std::to_string(l.members.size()),
           std::to_string(l.admins.size()), list_keys[i].word, l.description});
  }
  out << t.render();
  for (std::size_t i = 0; i < lists.size(); ++i) {
    for (const auto& [fpr, until] : list_keys[i].in_grace) {
      out << lists[i].address << ": old key " << fpr << " still accepted until "
          << date_or_never(until) << " (grace period)\n";
    }
    if (!list_keys[i].warning.empty()) err << "tlpmailctl: warning: " << list_keys[i].warning << "\n";
  }
  // "unknown" is the same reason for every list: say it once.
  std::string said;
  for (std::size_t i = 0; i < lists.size(); ++i) {
    const auto& why = list_keys[i].problem;
    if (why.empty() || why == said) continue;
    if (list_keys[i].word == "unknown") {
      err << "tlpmailctl: list keys unknown: " << why << "\n";
      said = why;
    } else {
      err << "tlpmailctl: " << lists[i].address << ": " << why << "\n";
    }
  }
  return problem ? 1 : 0;
}

int members(const Options& o, std::ostream& out, std::ostream& err) {
  std::vector<Diagnostic> diags;
  auto cfg = load(o, out, err, diags);
  if (!cfg) return 1;
  const auto* list = find_list_or_report(*cfg, o, err);
  if (!list) return 1;
  auto keys = load_keys_or_report(*cfg, err);
  if (!keys) return 1;
  // Directory reviews and bounce streaks, from state_dir/tlpmail.db when
  // there is one (docs/comchecks.md, docs/bounces.md).
  const ReviewFacts facts = review_facts(*cfg, err);
  const std::time_t now = std::time(nullptr);
  auto streak = [&](const std::string& email) {
    if (!facts.db) return 0;
    queue::Outbox outbox(*facts.db);
    auto n = bounces::streak_of(outbox, list->address, email, now);
    return n ? *n : 0;
  };
  auto is_admin = [&](const std::string& email) {
    for (const auto& a : list->admins) {
      if (cfg->directory.find_person(a) == cfg->directory.find_person(email)) return true;
    }
    return false;
  };
  // One row per member, printed as JSON or as the table.
  struct Row {
    const directory::Person* p;
    const keyring::PersonKey* k;
    std::string reviewed_at, review;
    int bounced;
    bool admin;
  };
  std::vector<Row> rows;
  bool all_usable = true;
  for (const auto& email : list->members) {
    const auto* k = keys->find(email);
    all_usable = all_usable && k && k->usable;
    auto [reviewed_at, review] = review_of(*cfg, facts, email, now);
    rows.push_back(Row{cfg->directory.find_person(email), k, std::move(reviewed_at),
                       std::move(review), streak(email), is_admin(email)});
  }
  if (o.json) {
    toml::array a;
    for (const Row& r : rows) {
      const auto* p = r.p;
      a.push_back(toml::table{{"email", p->email},
                              {"name", p->name},
                              {"organization", p->organization},
                              {"country", p->country},
                              {"kind", std::string(directory::to_string(p->kind))},
                              {"clearance", std::string(policy::to_string(p->clearance))},
                              {"admin", r.admin},
                              {"fingerprint", p->fingerprint},
                              {"key_status", r.k ? r.k->status_word : "missing"},
                              {"usable", r.k && r.k->usable},
                              {"reviewed_at", r.reviewed_at},
                              {"review", r.review},
                              {"bounce_streak", r.bounced},
                              {"bounce_flagged", r.bounced >= list->bounce_threshold}});
    }
    print_json(out, toml::table{{"list", list->address}, {"members", a}});
    return all_usable ? 0 : 1;
  }
  admin::Table t({"EMAIL", "NAME", "ORGANIZATION", "COUNTRY", "KIND", "CLEARANCE", "ADMIN", "KEY",
                  "REVIEW", "FLAGS"});
  for (const Row& r : rows) {
    const auto* p = r.p;
    t.add({p->email, p->name, p->organization, p->country,
           std::string(directory::to_string(p->kind)), std::string(policy::to_string(p->clearance)),
           yes_no(r.admin), r.k ? r.k->status_word : "missing",
           r.review + (r.reviewed_at.empty() ? "" : " " + r.reviewed_at.substr(0, 10)),
           r.bounced >= list->bounce_threshold
               ? "bounced " + std::to_string(r.bounced) + " in a row"
               : "-"});
  }
  out << list->address << " (" << list->members.size()
      << " members, ceiling TLP:" << policy::to_string(list->ceiling) << ")\n\n"
      << t.render();
  return all_usable ? 0 : 1;
}

int keys(const Options& o, std::ostream& out, std::ostream& err) {
  std::vector<Diagnostic> diags;
  auto cfg = load(o, out, err, diags);
  if (!cfg) return 1;
  if (!o.export_dir.empty()) {
    auto home = openpgp::TempHome::create();
    if (!home) {
      err << "tlpmailctl: cannot check keys: " << home.error().message << "\n";
      return 1;
    }
    auto loaded = keyring::load_keys(*cfg, home->path(), std::time(nullptr));
    if (!loaded) {
      err << "tlpmailctl: cannot check keys: " << loaded.error().message << "\n";
      return 1;
    }
    if (loaded->has_errors()) {
      for (const auto& d : loaded->diagnostics) err << d.to_string() << "\n";
      err << "tlpmailctl: nothing exported: fix the errors above first\n";
      return 1;
    }
    return export_keys(o, *loaded, home->path(), out, err);
  }
  auto keys = load_keys_or_report(*cfg, err);
  if (!keys) return 1;
  const std::time_t now = std::time(nullptr);
  bool all_usable = true;
  for (const auto& k : keys->people) all_usable = all_usable && k.usable;
  if (o.json) {
    toml::array a;
    for (const auto& k : keys->people) {
      toml::table row{{"email", k.email},        {"fingerprint", k.fingerprint},
                      {"status", k.status_word}, {"usable", k.usable},
                      {"detail", k.detail},      {"file", k.file.string()}};
      if (k.facts) {
        row.insert("algorithm", k.facts->algorithm);
        row.insert("created", date_or_never(k.facts->created));
        row.insert("expires", date_or_never(expiry(k)));
        if (expiry(k) != 0) row.insert("days_to_expiry", days_until(expiry(k), now));
      }
      row.insert("source", std::string(keyring::to_string(k.source)));
      row.insert("source_date", k.source_date == 0 ? std::string() : iso_date(k.source_date));
      if (!k.update_file.empty()) row.insert("update_file", k.update_file.string());
      a.push_back(std::move(row));
    }
    toml::array unpinned;
    for (const auto& u : keys->unpinned) {
      unpinned.push_back(toml::table{{"fingerprint", u.fingerprint}, {"file", u.file.string()}});
    }
    print_json(out, toml::table{{"keys", a}, {"unpinned", unpinned}});
    warn_about_list_keys(*cfg, err);
    return all_usable ? 0 : 1;
  }
  admin::Table t(
      {"EMAIL", "FINGERPRINT", "ALGORITHM", "CREATED", "EXPIRES", "DAYS", "SOURCE", "STATUS"});
  for (const auto& k : keys->people) {
    std::string algo = k.facts ? k.facts->algorithm : "-";
    std::string created = k.facts ? date_or_never(k.facts->created) : "-";
    std::string expires = k.facts ? date_or_never(expiry(k)) : "-";
    std::string days =
        k.facts && expiry(k) != 0 ? std::to_string(days_until(expiry(k), now)) : "-";
    std::string status = k.status_word;
    // The detail adds what the word does not say ("expired on 2026-01-05",
    // "rsa1024, below 2048 bits"); skip it when it only repeats the word.
    if (!k.usable && !k.detail.empty() && k.detail != k.status_word) {
      status += " (" + k.detail + ")";
    }
    t.add({k.email, k.fingerprint, algo, created, expires, days,
           k.facts ? source_text(k) : "-", status});
  }
  out << t.render();
  if (!keys->unpinned.empty()) {
    out << "\nKeys in keys_dir pinned for nobody (they grant nothing):\n";
    admin::Table u({"FINGERPRINT", "FILE"});
    for (const auto& k : keys->unpinned) u.add({k.fingerprint, k.file.string()});
    out << u.render();
  }
  warn_about_list_keys(*cfg, err);
  return all_usable ? 0 : 1;
}

}  // namespace tlpmail::ctl
