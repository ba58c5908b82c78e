// load_keys(): reads and screens every file of keys_dir and the keys
// members updated by mail (state_dir/keys.d; no gpg), imports what passed
// into a throwaway staging home, judges the pinned keys there, and only
// when that found no error imports the same public packets into the
// caller's home and judges again on what that home then holds (what
// fan-out and verification will use). KeyReport's lookups live here too.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <system_error>

#include "keyring/keyring.h"
#include "openpgp/context.h"
#include "openpgp/fanout.h"
#include "openpgp/key_material.h"
#include "openpgp/temp_home.h"
#include "util/text.h"

namespace tlpmail::keyring {

namespace {

using config::Diagnostic;
using config::Severity;

bool is_key_file_name(const std::string& name) {
  if (name.empty() || name.front() == '.') return false;
  auto ends_with = [&](std::string_view suffix) {
    return name.size() > suffix.size() &&
           iequals(std::string_view(name).substr(name.size() - suffix.size()), suffix);
  };
  return ends_with(".asc") || ends_with(".gpg");
}

std::string too_large(std::uintmax_t size) {
  return "the file is " + std::to_string(size) + " bytes; a key file may have " +
         std::to_string(openpgp::kMaxPublicKeyFileSize) +
         " bytes at most (export the key without third-party signatures: gpg --export "
         "--export-options export-minimal)";
}

// The whole file, or "" with *error set. Never reads more than the limit
// plus one byte, so a file that grows after the size check is caught too.
std::string read_file(const std::filesystem::path& p, std::string* error) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(p, ec);
  if (ec) {
    *error = ec.message();
    return {};
  }
  if (size > openpgp::kMaxPublicKeyFileSize) {
    *error = too_large(size);
    return {};
  }
  std::FILE* f = std::fopen(p.c_str(), "rb");
  if (!f) {
    *error = std::error_code(errno, std::generic_category()).message();
    return {};
  }
  std::string data;
  char buf[65536];
  size_t n = 0;
  while (data.size() <= openpgp::kMaxPublicKeyFileSize &&
         (n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    data.append(buf, n);
  }
  const bool failed = std::ferror(f);
  (void)std::fclose(f);  // opened for reading: nothing to lose
  if (failed) *error = "read error";
  return data;
}

std::string withheld(const std::string& email) { return email + " gets no mail and cannot post"; }

std::string warning_for(const PersonKey& pk) {
  const std::string key = "key " + pk.fingerprint + " of " + pk.email;
  switch (pk.status) {
    case KeyStatus::expired:
      return key + " " + pk.detail + "; " + withheld(pk.email);
    case KeyStatus::revoked:
      return key + " is revoked; " + withheld(pk.email);
    case KeyStatus::invalid:
      return key + " is invalid or disabled in GnuPG; " + withheld(pk.email);
    case KeyStatus::weak:
      return key + " is weak (" + pk.detail + "); " + withheld(pk.email);
    case KeyStatus::no_encryption_key:
      return key + " has no usable encryption subkey; " + withheld(pk.email);
    case KeyStatus::no_signing_key:
      return key + " has no usable signing key; " + withheld(pk.email);
    case KeyStatus::expires_soon:
      return key + " " + pk.detail + " (" + pk.status_word.substr(std::string("expires ").size()) +
             "); replace it before then";
    case KeyStatus::ok:
    case KeyStatus::missing:
      break;
  }
  return {};
}

// A key file that passed extract_public_keys: what gpg may import from it.
struct Screened {
  std::filesystem::path file;
  std::string packets;
  std::vector<std::string> fingerprints;  // its primary keys' ("" where not v4)
  bool imported = false;                  // gpg took it in the staging home
  // Signature packets only (revocation certificates): imported after every
  // key, each on its own, so that it finds its key whatever the file order.
  bool revocations_only = false;
  std::string update_of;  // keys.d: the one primary fingerprint the file may hold
  std::time_t update_date = 0;
};

// What a keys.d file added to a pinned key (judge() copies it into the
// person's PersonKey).
struct Update {
  std::filesystem::path file;
  std::time_t date = 0;
  bool brought_more = false;  // more than keys_dir holds (or the key is only there)
};

bool is_update_file_name(const std::string& name) {
  if (name.size() != 44 || name.substr(40) != ".asc") return false;
  for (std::size_t i = 0; i < 40; ++i) {
    const char c = name[i];
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

// The keys.d files of pinned fingerprints, sorted. A missing folder is
// normal (no update yet); one that cannot be read is a warning: the keys
// of keys_dir are still used (tlpmailctl run by a user who cannot read
// state_dir; the daemon owns the folder).
std::vector<std::filesystem::path> update_files(const config::Config& config,
                                                const std::set<std::string>& pinned,
                                                std::vector<Diagnostic>& diags) {
  std::vector<std::filesystem::path> files;
  const std::filesystem::path dir = updated_keys_dir(config);
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec) && !ec) return files;
  std::filesystem::directory_iterator it(dir, ec);
  if (!ec) {
    for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
      const std::string name = it->path().filename().string();
      std::error_code type_ec;
      if (is_update_file_name(name) && pinned.count(name.substr(0, 40)) &&
          it->is_regular_file(type_ec)) {
        files.push_back(it->path());
      }
    }
  }
  if (ec) {
    diags.push_back({Severity::warning, dir.string(), 0,
                     "cannot read the keys members updated by mail: " + ec.message() +
                         "; only keys_dir is used"});
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The key files of keys_dir, sorted by name; problems with the folder go
// to `diags`.
std::vector<std::filesystem::path> key_files(const std::filesystem::path& dir,
                                             std::vector<Diagnostic>& diags) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) {
    diags.push_back(
        {Severity::error, dir.string(), 0, "cannot read the key folder: " + ec.message()});
    return files;
  }
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code type_ec;
    if (is_key_file_name(name) && it->is_regular_file(type_ec)) files.push_back(it->path());
  }
  if (ec) {
    diags.push_back(
        {Severity::error, dir.string(), 0, "cannot read the key folder: " + ec.message()});
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The key ID of a v4 fingerprint (its last 16 hex digits), as fan-out
// matches session key packets to members.
std::string key_id_of(const std::string& fpr) {
  return fpr.size() >= 16 ? fpr.substr(fpr.size() - 16) : fpr;
}

// Two pinned keys holding the same (sub)key, or subkeys with the same key
// ID: a member can bind another member's encryption subkey under their own
// primary key without any secret. Each copy names its member's subkey by
// key ID, so such a pair makes every fan-out to both fail; it is an error
// on the later person's fingerprint line. `where` is appended to the
// message ("" or a note on the home).
void check_shared_subkeys(const std::vector<PersonKey>& people, const config::Config& config,
                          const std::string& where, std::vector<Diagnostic>& diags) {
  struct Owner {
    std::size_t person;
    std::string subkey;
  };
  std::map<std::string, Owner> owners;  // key ID -> first person holding it
  const auto& dir_people = config.directory.people();
  for (std::size_t i = 0; i < people.size(); ++i) {
    const PersonKey& pk = people[i];
    if (!pk.facts) continue;
    std::set<std::size_t> reported;  // one message per pair
    for (const openpgp::SubkeyFacts& sub : pk.facts->subkeys) {
      auto [it, fresh] = owners.emplace(key_id_of(sub.fingerprint), Owner{i, sub.fingerprint});
      if (fresh || it->second.person == i || !reported.insert(it->second.person).second) continue;
      const PersonKey& first = people[it->second.person];
      const auto& first_at = dir_people[it->second.person].fingerprint_at;
      const auto& at = dir_people[i].fingerprint_at;
      const std::string shared = sub.fingerprint == it->second.subkey
                                     ? "the subkey " + sub.fingerprint
                                     : "the key ID " + key_id_of(sub.fingerprint) +
                                           " (its subkey " + sub.fingerprint + ", theirs " +
                                           it->second.subkey + ")";
      // NOLINTBEGIN(performance-inefficient-string-concatenation): one error text
      diags.push_back(
          {Severity::error, at.file, at.line,
           "key " + pk.fingerprint + " of " + pk.email + " shares " + shared + " with key " +
               first.fingerprint + " of " + first.email + " (" + first_at.file + ":" +
               std::to_string(first_at.line) + ")" + where +
               "; a subkey belongs to one person's key only, so mail to both could not be "
               "encrypted: replace the key that should not hold it"});
      // NOLINTEND(performance-inefficient-string-concatenation)
    }
  }
}

// Steps 4 and 5: each person's pinned key judged on `facts` (the keys
// imported in this call, by primary fingerprint), then the keys nobody
// pins. Fills people and unpinned, appends diagnostics.
void judge(const config::Config& config, const std::map<std::string, openpgp::KeyFacts>& facts,
           const std::map<std::string, std::filesystem::path>& present,
           const std::map<std::string, Update>& updates, const std::vector<std::string>& order,
           std::time_t now, const std::string& where, KeyReport& report,
           std::vector<Diagnostic>& diags) {
  const std::filesystem::path& dir = config.paths.keys_dir;
  report.people.clear();
  report.by_email.clear();
  report.unpinned.clear();
  std::set<std::string> pinned;
  for (const directory::Person& person : config.directory.people()) {
    PersonKey pk;
    pk.email = person.email;
    pk.fingerprint = person.fingerprint;
    pinned.insert(ascii_upper(person.fingerprint));
    const auto f = facts.find(ascii_upper(person.fingerprint));
    const std::string& at_file = person.fingerprint_at.file;
    const int at_line = person.fingerprint_at.line;
    if (f == facts.end()) {
      pk.status = KeyStatus::missing;
      pk.status_word = std::string(to_string(KeyStatus::missing));
      pk.detail = "no key with this fingerprint in " + dir.string();
      diags.push_back({Severity::error, at_file, at_line,
                       "no key with fingerprint " + person.fingerprint + " for " + person.email +
                           " in " + dir.string()});
      report.people.push_back(std::move(pk));
      continue;
    }
    KeyAssessment a = assess_key(f->second, now);
    pk.status = a.status;
    pk.status_word = std::move(a.word);
    pk.usable = a.usable;
    pk.usable_until = a.usable_until;
    pk.detail = std::move(a.detail);
    pk.facts = f->second;
    pk.file = present.at(f->first);
    if (auto u = updates.find(f->first); u != updates.end()) {
      pk.update_file = u->second.file;
      if (u->second.brought_more) {
        pk.source = KeySource::mail;
        pk.source_date = u->second.date;
      }
    }
    if (pk.status != KeyStatus::ok) {
      diags.push_back({Severity::warning, at_file, at_line, warning_for(pk)});
    }
    report.people.push_back(std::move(pk));
  }
  check_shared_subkeys(report.people, config, where, diags);
  for (std::size_t i = 0; i < report.people.size(); ++i) {
    report.by_email.emplace(ascii_lower(report.people[i].email), i);
  }

  for (const std::string& fpr : order) {
    if (pinned.count(fpr)) continue;
    UnpinnedKey u;
    u.fingerprint = fpr;
    u.file = present.at(fpr);
    if (auto f = facts.find(fpr); f != facts.end()) u.user_ids = f->second.user_ids;
    report.unpinned.push_back(std::move(u));
  }
}

// One key listing of `fingerprints` in `ctx`, by primary fingerprint.
Result<std::map<std::string, openpgp::KeyFacts>> list_facts(
    openpgp::Context& ctx, const std::vector<std::string>& fingerprints) {
  std::map<std::string, openpgp::KeyFacts> facts;
  if (fingerprints.empty()) return facts;
  auto listed = ctx.list_keys(fingerprints);
  if (!listed) return Unexpected(listed.error());
  for (auto& k : *listed) facts.emplace(k.fingerprint, std::move(k));
  return facts;
}

// The key files of keys_dir (not keys.d, not revocations) imported into
// `home` in one gpg run: one process instead of one per file (10,000
// members' files took minutes file by file). Used only when the run took
// exactly the keys the files hold by their own packets
// (PublicKeyPackets::primary_fingerprints): no secret, no problem, nothing
// refused, the same set of fingerprints. Then each file is marked imported
// and `present`/`order` filled as the file-by-file import would have, and
// the home's context is returned; otherwise nullopt, and the caller starts
// again file by file in a fresh home (the diagnostics name the file).
Result<std::optional<openpgp::Context>> import_in_one_run(
    const openpgp::TempHome& home, std::vector<Screened>& screened,
    std::map<std::string, std::filesystem::path>& present, std::vector<std::string>& order) {
  std::string all;
  std::set<std::string> expected;
  std::size_t files = 0;
  for (const Screened& s : screened) {
    if (s.revocations_only || !s.update_of.empty()) continue;
    for (const std::string& fpr : s.fingerprints) {
      if (fpr.empty()) return std::optional<openpgp::Context>();
      expected.insert(fpr);
    }
    all += s.packets;
    ++files;
  }
  if (files < 2) return std::optional<openpgp::Context>();
  auto ctx = openpgp::Context::open(home.path());
  if (!ctx) return Unexpected(ctx.error());
  if (auto r = ctx->keep_only_self_signatures(); !r) return Unexpected(r.error());
  auto imported = ctx->import_data(all);
  if (!imported) {
    if (imported.error().kind == ErrorClass::temporary) return Unexpected(imported.error());
    return std::optional<openpgp::Context>();
  }
  const std::set<std::string> got(imported->fingerprints.begin(), imported->fingerprints.end());
  if (imported->secret_read > 0 || imported->not_imported > 0 || !imported->problems.empty() ||
      got != expected) {
    return std::optional<openpgp::Context>();
  }
  for (Screened& s : screened) {
    if (s.revocations_only || !s.update_of.empty()) continue;
    s.imported = true;
    for (const std::string& fpr : s.fingerprints) {
      if (present.emplace(fpr, s.file).second) order.push_back(fpr);
    }
  }
  return std::optional<openpgp::Context>(std::move(*ctx));
}

bool has_error(const std::vector<Diagnostic>& diags) {
  return std::any_of(diags.begin(), diags.end(),
                     [](const Diagnostic& d) { return d.severity == Severity::error; });
}

}  // namespace

Result<KeyReport> load_keys(const config::Config& config, const std::filesystem::path& gnupg_home,
                            std::time_t now) {
  if (auto init = openpgp::initialize(); !init) return Unexpected(init.error());
  if (auto checked = openpgp::check_home_path(gnupg_home); !checked) {
    return Unexpected(checked.error());
  }
  KeyReport report;
  std::vector<Diagnostic> file_diags;  // about folders and files, in file order

  // 1. The key files, sorted by name, read and screened without gpg: a
  //    file with secret key material anywhere, or anything that is not a
  //    public key, never reaches any GnuPG home.
  // One file read and screened; its text in `data`. A problem is an error
  // for the file, and nothing of it is imported.
  auto screen = [&file_diags](const std::filesystem::path& file,
                              std::string& data) -> std::optional<Screened> {
    std::string error;
    data = read_file(file, &error);
    if (!error.empty()) {
      file_diags.push_back({Severity::error, file.string(), 0, "cannot import: " + error});
      return std::nullopt;
    }
    auto packets = openpgp::extract_public_keys(data);
    if (!packets) {
      file_diags.push_back(
          {Severity::error, file.string(), 0, "cannot import: " + packets.error().message});
      return std::nullopt;
    }
    Screened one;
    one.file = file;
    one.packets = std::move(packets->binary);
    one.fingerprints = std::move(packets->primary_fingerprints);
    one.revocations_only = packets->public_keys == 0;
    return one;
  };
  report.files = key_files(config.paths.keys_dir, file_diags);
  std::vector<Screened> screened;
  for (const auto& file : report.files) {
    std::string data;
    if (auto one = screen(file, data)) screened.push_back(std::move(*one));
  }

  // 1b. The keys members sent with update-key, screened the same way; each
  //     file may hold its own pinned key only (checked at step 2).
  std::set<std::string> pinned;
  for (const directory::Person& person : config.directory.people()) {
    pinned.insert(ascii_upper(person.fingerprint));
  }
  for (const auto& file : update_files(config, pinned, file_diags)) {
    std::string data;
    auto one = screen(file, data);
    if (!one) continue;
    one->revocations_only = false;  // a keys.d file holds its key (checked at step 2)
    one->update_of = file.filename().string().substr(0, 40);
    one->update_date = updated_key_date(data);
    screened.push_back(std::move(*one));
  }
  // Revocation certificates last, whatever their names.
  std::stable_partition(screened.begin(), screened.end(),
                        [](const Screened& s) { return !s.revocations_only; });

  // 2. Import them into a staging home so that each primary fingerprint is
  //    known by the file that brought it: the key files of keys_dir in one
  //    gpg run when that run takes exactly the keys the files hold (see
  //    import_in_one_run), else, and for keys.d and revocations always,
  //    one file at a time.
  auto staging_home = openpgp::TempHome::create();
  if (!staging_home) return Unexpected(staging_home.error());
  std::optional<openpgp::Context> staging;
  std::map<std::string, std::filesystem::path> present;  // fingerprint -> first file
  std::vector<std::string> order;                        // fingerprints in file order
  std::map<std::string, Update> updates;                 // fingerprint -> its keys.d file
  auto batch = import_in_one_run(*staging_home, screened, present, order);
  if (!batch) return Unexpected(batch.error());
  if (*batch) {
    staging = std::move(**batch);
  } else {
    // The one run did not match file by file: a fresh home, file by file.
    staging_home = openpgp::TempHome::create();
    if (!staging_home) return Unexpected(staging_home.error());
    auto opened = openpgp::Context::open(staging_home->path());
    if (!opened) return Unexpected(opened.error());
    if (auto r = opened->keep_only_self_signatures(); !r) return Unexpected(r.error());
    staging = std::move(*opened);
  }
  for (Screened& s : screened) {
    if (s.imported) continue;  // taken by the one run
    const std::string shown = s.file.string();
    auto imported = staging->import_data(s.packets);
    if (!imported) {
      if (imported.error().kind == ErrorClass::temporary) return Unexpected(imported.error());
      file_diags.push_back(
          {Severity::error, shown, 0, "cannot import: " + imported.error().message});
      continue;
    }
    if (imported->secret_read > 0) {  // cannot happen after step 1; never trusted blindly
      file_diags.push_back(
          {Severity::error, shown, 0,
           "cannot import: the file holds a secret key; keys_dir is for public keys only"});
      continue;
    }
    if (!s.update_of.empty()) {
      // A keys.d file is written by the daemon with one key, its name's.
      // Anything else there was not put there by tlpmail: refuse the load
      // rather than merge a foreign key into a pinned one.
      const bool only_its_own = imported->fingerprints.size() == 1 &&
                                imported->fingerprints.front() == s.update_of &&
                                imported->problems.empty();
      if (!only_its_own) {
        std::string held;
        for (const std::string& f : imported->fingerprints) held += (held.empty() ? "" : ", ") + f;
        file_diags.push_back(
            {Severity::error, shown, 0,
             "cannot import: a file of keys updated by mail must hold the key " + s.update_of +
                 " only (it holds " + (held.empty() ? std::string("no usable key") : held) +
                 "); remove the file and reload"});
        continue;
      }
      // Nothing new for gpg: keys_dir already holds all of it.
      const bool brought_more = !present.count(s.update_of) || imported->unchanged == 0;
      updates[s.update_of] = Update{s.file, s.update_date, brought_more};
    }
    s.imported = true;
    for (const std::string& problem : imported->problems) {
      file_diags.push_back({Severity::warning, shown, 0, "gpg refused a key: " + problem});
    }
    for (const std::string& fpr : imported->fingerprints) {
      if (present.emplace(fpr, s.file).second) order.push_back(fpr);
    }
  }

  // 3. Judge on the staging home. With any error the caller's home is not
  //    touched: a daemon that keeps its old configuration keeps its old
  //    keys too (gpg merges imports into what a home holds, so a refused
  //    key imported there would change the running configuration's keys).
  auto staged = list_facts(*staging, order);
  if (!staged) return Unexpected(staged.error());
  std::vector<Diagnostic> key_diags;
  judge(config, *staged, present, updates, order, now, "", report, key_diags);
  if (has_error(file_diags) || has_error(key_diags)) {
    report.diagnostics = std::move(file_diags);
    report.diagnostics.insert(report.diagnostics.end(), key_diags.begin(), key_diags.end());
    return report;
  }

  // 4. All clear: the same packets into the caller's home in one gpg run,
  //    and the judgement again on what that home holds now (earlier loads
  //    may have left more there, e.g. a subkey since removed from a file).
  auto ctx = openpgp::Context::open(gnupg_home);
  if (!ctx) return Unexpected(ctx.error());
  if (auto r = ctx->keep_only_self_signatures(); !r) return Unexpected(r.error());
  std::string all;
  for (const Screened& s : screened) {
    if (s.imported && !s.revocations_only) all += s.packets;
  }
  if (!all.empty()) {
    auto imported = ctx->import_data(all);
    if (!imported)
      return Unexpected(Error::temporary("importing keys_dir into " + gnupg_home.string() + ": " +
                                         imported.error().message));
  }
  // A revocation certificate on its own: concatenated after another key's
  // packets, gpg would take its signature for one on that key.
  for (const Screened& s : screened) {
    if (!s.imported || !s.revocations_only) continue;
    auto imported = ctx->import_data(s.packets);
    if (!imported)
      return Unexpected(Error::temporary("importing " + s.file.string() + " into " +
                                         gnupg_home.string() + ": " + imported.error().message));
  }
  auto held = list_facts(*ctx, order);
  if (!held) return Unexpected(held.error());
  key_diags.clear();
  judge(config, *held, present, updates, order, now,
        " in the GnuPG home " + gnupg_home.string() +
            " (left there by an earlier import: delete the key from that home and reload)",
        report, key_diags);
  report.diagnostics = std::move(file_diags);
  report.diagnostics.insert(report.diagnostics.end(), key_diags.begin(), key_diags.end());
  return report;
}

Result<void> list_handles(KeyReport& report, const std::filesystem::path& gnupg_home) {
  std::vector<std::string> fingerprints;
  for (const PersonKey& p : report.people) {
    if (p.usable) fingerprints.push_back(p.fingerprint);
  }
  auto ctx = openpgp::Context::open(gnupg_home);
  if (!ctx) return Unexpected(ctx.error());
  auto handles = openpgp::KeyHandles::list(*ctx, fingerprints);
  if (!handles) return Unexpected(handles.error());
  report.handles = std::move(*handles);
  return {};
}

const PersonKey* KeyReport::find(std::string_view email) const {
  if (by_email.size() == people.size() && !people.empty()) {
    const auto it = by_email.find(ascii_lower(email));
    return it == by_email.end() ? nullptr : &people[it->second];
  }
  for (const PersonKey& p : people) {
    if (iequals(p.email, email)) return &p;
  }
  return nullptr;
}

const PersonKey* KeyReport::find_by_key(std::string_view fingerprint) const {
  for (const PersonKey& p : people) {
    if (p.facts && p.facts->find_subkey(fingerprint)) return &p;
  }
  return nullptr;
}

bool KeyReport::is_usable(std::string_view email) const {
  const PersonKey* p = find(email);
  return p && p->usable;
}

bool KeyReport::has_errors() const {
  return std::any_of(diagnostics.begin(), diagnostics.end(),
                     [](const Diagnostic& d) { return d.severity == Severity::error; });
}

}  // namespace tlpmail::keyring
