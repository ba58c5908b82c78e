// load_keys(): imports keys_dir into a GnuPG home, then pairs each person's
// pinned fingerprint with the key imported under that primary fingerprint
// and turns the judgement into diagnostics. Files holding secret keys are
// refused before gpg sees them. KeyReport's lookups live here too.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <map>
#include <set>
#include <system_error>

#include "keyring/keyring.h"
#include "openpgp/context.h"
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

// True when the data visibly holds secret key material: an armored
// private key block, or a binary first packet that is a secret key or
// secret subkey (tags 5 and 7).
bool looks_like_secret_key(std::string_view data) {
  if (data.find("-----BEGIN PGP PRIVATE KEY BLOCK-----") != std::string_view::npos) return true;
  if (data.empty()) return false;
  const auto b = static_cast<unsigned char>(data.front());
  if (!(b & 0x80)) return false;
  const unsigned tag = (b & 0x40) ? (b & 0x3f) : ((b >> 2) & 0x0f);
  return tag == 5 || tag == 7;
}

std::string read_file(const std::filesystem::path& p, std::string* error) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(p, ec);
  if (ec) {
    *error = ec.message();
    return {};
  }
  if (size > openpgp::Context::kMaxKeyFileSize) {
    *error = "file is larger than " + std::to_string(openpgp::Context::kMaxKeyFileSize) +
             " bytes";
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
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) data.append(buf, n);
  const bool failed = std::ferror(f);
  std::fclose(f);
  if (failed) *error = "read error";
  return data;
}

std::string withheld(const std::string& email) {
  return email + " gets no mail and cannot post";
}

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

}  // namespace

Result<KeyReport> load_keys(const config::Config& config,
                            const std::filesystem::path& gnupg_home, std::time_t now) {
  auto ctx = openpgp::Context::open(gnupg_home);
  if (!ctx) return Unexpected(ctx.error());

  KeyReport report;
  const std::filesystem::path& dir = config.paths.keys_dir;

  // 1. The key files, sorted by name.
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) {
    report.diagnostics.push_back(
        {Severity::error, dir.string(), 0, "cannot read the key folder: " + ec.message()});
  } else {
    for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
      const std::string name = it->path().filename().string();
      std::error_code type_ec;
      if (is_key_file_name(name) && it->is_regular_file(type_ec)) {
        report.files.push_back(it->path());
      }
    }
    if (ec) {
      report.diagnostics.push_back(
          {Severity::error, dir.string(), 0, "cannot read the key folder: " + ec.message()});
    }
    std::sort(report.files.begin(), report.files.end());
  }

  // 2. Import them; remember which file brought each primary fingerprint.
  std::map<std::string, std::filesystem::path> present;  // fingerprint -> first file
  std::vector<std::string> order;                        // fingerprints in file order
  for (const auto& file : report.files) {
    const std::string shown = file.string();
    std::string error;
    const std::string data = read_file(file, &error);
    if (!error.empty()) {
      report.diagnostics.push_back({Severity::error, shown, 0, "cannot import: " + error});
      continue;
    }
    if (looks_like_secret_key(data)) {
      report.diagnostics.push_back(
          {Severity::error, shown, 0,
           "cannot import: the file holds a secret key; keys_dir is for public keys only"});
      continue;
    }
    auto imported = ctx->import_data(data);
    if (!imported) {
      if (imported.error().kind == ErrorClass::temporary) return Unexpected(imported.error());
      report.diagnostics.push_back(
          {Severity::error, shown, 0, "cannot import: " + imported.error().message});
      continue;
    }
    if (imported->secret_read > 0) {
      report.diagnostics.push_back(
          {Severity::error, shown, 0,
           "cannot import: the file holds a secret key; keys_dir is for public keys only"});
      continue;
    }
    for (const std::string& problem : imported->problems) {
      report.diagnostics.push_back(
          {Severity::warning, shown, 0, "gpg refused a key: " + problem});
    }
    for (const std::string& fpr : imported->fingerprints) {
      if (present.emplace(fpr, file).second) order.push_back(fpr);
    }
  }

  // 3. One key listing for everything imported in this call.
  std::map<std::string, openpgp::KeyFacts> facts;
  if (!order.empty()) {
    auto listed = ctx->list_keys(order);
    if (!listed) return Unexpected(listed.error());
    for (auto& k : *listed) facts.emplace(k.fingerprint, std::move(k));
  }

  // 4. Each person's pinned key.
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
      report.diagnostics.push_back({Severity::error, at_file, at_line,
                                    "no key with fingerprint " + person.fingerprint + " for " +
                                        person.email + " in " + dir.string()});
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
    if (pk.status != KeyStatus::ok) {
      report.diagnostics.push_back({Severity::warning, at_file, at_line, warning_for(pk)});
    }
    report.people.push_back(std::move(pk));
  }

  // 5. Keys nobody pins: reported, never used.
  for (const std::string& fpr : order) {
    if (pinned.count(fpr)) continue;
    UnpinnedKey u;
    u.fingerprint = fpr;
    u.file = present.at(fpr);
    if (auto f = facts.find(fpr); f != facts.end()) u.user_ids = f->second.user_ids;
    report.unpinned.push_back(std::move(u));
  }
  return report;
}

const PersonKey* KeyReport::find(std::string_view email) const {
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
