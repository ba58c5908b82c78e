// update-key (see key_update.h): find the key material a verified request
// carries, screen it like a keys_dir file, merge it with the key the list
// holds in a throwaway GnuPG home, decide, store, and say what changed.
// The request's text and attachments stay in memory only.
#include "requests/key_update.h"

#include <algorithm>
#include <set>

#include "openpgp/key_material.h"
#include "openpgp/list_key.h"
#include "openpgp/temp_home.h"
#include "util/text.h"

namespace tlpmail::requests {
namespace {

constexpr std::string_view kPublicBlock = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
constexpr std::string_view kPrivateBlock = "-----BEGIN PGP PRIVATE KEY BLOCK-----";

std::string date_or_never(std::time_t t) { return t == 0 ? "never" : iso_date(t); }

// Printable ASCII only, at most `max` characters: text from the member's
// message or key that goes into the answer.
std::string cleaned(std::string_view s, std::size_t max) {
  std::string out;
  for (unsigned char c : s) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  return out;
}

bool has_key_extension(std::string_view name) {
  const std::string lower = ascii_lower(name);
  for (std::string_view ext : {".asc", ".gpg", ".key", ".pgp", ".rev"}) {
    if (lower.size() > ext.size() && lower.compare(lower.size() - ext.size(), ext.size(), ext) == 0)
      return true;
  }
  return false;
}

// The packet tag the first byte of binary data announces (0: none).
int first_tag(std::string_view data) {
  if (data.empty()) return 0;
  const auto ctb = static_cast<unsigned char>(data.front());
  if ((ctb & 0x80) == 0) return 0;
  return (ctb & 0x40) ? (ctb & 0x3f) : ((ctb >> 2) & 0x0f);
}

bool holds_key_material(const mime::LeafPart& p) {
  const bool says_key = p.content_type == "application/pgp-keys" || has_key_extension(p.filename);
  if (says_key) return true;
  if (p.data.find(kPublicBlock) != std::string::npos ||
      p.data.find(kPrivateBlock) != std::string::npos) {
    return true;
  }
  if (!p.attachment) return false;
  const int tag = first_tag(p.data);
  return tag == 5 || tag == 6;  // secret key, public key
}

std::string where_of(const mime::LeafPart& p, bool first_text) {
  if (!p.filename.empty()) return "the attachment \"" + cleaned(p.filename, 60) + "\"";
  if (first_text) return "the text of your message";
  return p.path.empty() ? "your message" : "part " + p.path + " (" + cleaned(p.content_type, 40) + ")";
}

std::string key_file_limit() {
  return std::to_string(openpgp::kMaxPublicKeyFileSize / 1024) + " KiB";
}

std::string export_hint(const std::string& fpr) {
  return "  gpg --armor --export --export-options export-minimal " + fpr + " > mykey.asc\n";
}

// How the member extends a key and sends it again.
std::string how_to_send(const directory::MailingList& list, const std::string& fpr) {
  return "Send your public key as an attachment to a message signed with your key\n"
         "(encrypted to the list's key if you can) to " +
         list.request_address() +
         " that holds the line\n"
         "  update-key\n"
         "Export it with\n" +
         export_hint(fpr);
}

KeyUpdate refused(std::string text) { return KeyUpdate{std::move(text) + "Nothing was changed.\n", false}; }

std::string capabilities(const openpgp::SubkeyFacts& s) {
  std::string out;
  auto add = [&](bool has, const char* word) {
    if (has) out += (out.empty() ? "" : ", ") + std::string(word);
  };
  add(s.can_encrypt, "encrypt");
  add(s.can_sign, "sign");
  add(s.can_certify, "certify");
  return out.empty() ? "no capability" : out;
}

std::string key_id_of(const std::string& fpr) {
  return fpr.size() >= 16 ? fpr.substr(fpr.size() - 16) : fpr;
}

}  // namespace

KeyParts find_key_parts(const pipeline::RequestContent& content) {
  KeyParts out;
  if (!content.is_mime) {
    // An inline-signed request: its whole text, where a pasted key may be.
    if (content.entity.find(kPublicBlock) != std::string::npos ||
        content.entity.find(kPrivateBlock) != std::string::npos) {
      out.parts.push_back({"the text of your message", content.entity, false});
    }
    return out;
  }
  auto leaves = mime::leaf_parts(content.entity, kMaxRequestParts, openpgp::kMaxPublicKeyFileSize);
  if (!leaves) {
    out.problem = "Your message could not be read as MIME, so no key was found in it.\n";
    return out;
  }
  if (leaves->cut) {
    out.problem = "Your message has more than " + std::to_string(kMaxRequestParts) +
                  " parts (or is nested too deeply); send the key in a short message.\n";
    return out;
  }
  bool first_text = true;
  for (mime::LeafPart& p : leaves->parts) {
    const bool is_first_text = first_text && p.content_type == "text/plain" && !p.attachment;
    if (is_first_text) first_text = false;
    const bool says_key = p.content_type == "application/pgp-keys" || has_key_extension(p.filename);
    if (p.too_large) {
      if (says_key) out.parts.push_back({where_of(p, is_first_text), {}, true});
      continue;
    }
    if (!holds_key_material(p)) continue;
    // A signature packet alone is a revocation certificate only where the
    // part says it is a key; anywhere else it is a detached signature.
    if (!says_key && first_tag(p.data) == 2) continue;
    if (out.parts.size() >= kMaxKeyParts) {
      out.problem = "Your message has more than " + std::to_string(kMaxKeyParts) +
                    " parts holding keys; attach your own key only.\n";
      out.parts.clear();
      return out;
    }
    out.parts.push_back({where_of(p, is_first_text), std::move(p.data), false});
  }
  return out;
}

KeyChange describe_change(const openpgp::KeyFacts& before, const openpgp::KeyFacts& after,
                          std::time_t now) {
  KeyChange c;
  const bool was_revoked =
      before.revoked || (!before.subkeys.empty() && before.subkeys.front().revoked);
  const bool is_revoked =
      after.revoked || (!after.subkeys.empty() && after.subkeys.front().revoked);
  if (is_revoked && !was_revoked) {
    c.revoked = true;
    c.lines.push_back("your key is revoked");
  }
  const keyring::KeyAssessment a = keyring::assess_key(before, now);
  const keyring::KeyAssessment b = keyring::assess_key(after, now);
  if (!c.revoked && b.usable && (!a.usable || a.usable_until != b.usable_until)) {
    c.lines.push_back("the list can use your key until " + date_or_never(b.usable_until) +
                      " (was " + (a.usable ? date_or_never(a.usable_until) : a.word) + ")");
  }
  if (before.expires != after.expires) {
    c.lines.push_back("primary key expires " + date_or_never(after.expires) + " (was " +
                      date_or_never(before.expires) + ")");
  }
  for (const openpgp::SubkeyFacts& s : after.subkeys) {
    if (s.is_primary) continue;
    const openpgp::SubkeyFacts* old = before.find_subkey(s.fingerprint);
    if (!old) {
      c.lines.push_back("new subkey " + s.fingerprint + " (" + s.algorithm + ", " +
                        capabilities(s) + ", expires " + date_or_never(s.expires) +
                        (s.revoked ? ", revoked" : "") + ")");
      continue;
    }
    // A revoked primary key takes its subkeys along: say it once.
    if (s.revoked && !old->revoked && !c.revoked) {
      c.lines.push_back("subkey " + s.fingerprint + " revoked");
    }
    if (s.expires != old->expires) {
      c.lines.push_back("subkey " + s.fingerprint + " expires " + date_or_never(s.expires) +
                        " (was " + date_or_never(old->expires) + ")");
    }
  }
  for (const std::string& uid : after.user_ids) {
    if (std::find(before.user_ids.begin(), before.user_ids.end(), uid) == before.user_ids.end()) {
      c.lines.push_back("new user ID \"" + cleaned(uid, 100) + "\"");
    }
  }
  return c;
}

Result<KeyUpdate> update_key(openpgp::Context& gpg, const KeyUpdateInput& in) {
  const std::string& fpr = in.key.fingerprint;
  KeyParts found = find_key_parts(in.content);
  if (!found.problem.empty()) return refused(found.problem);
  if (found.parts.empty()) {
    return refused("No key was found in your message.\n" + how_to_send(in.list, fpr));
  }

  // 1. Screened like a key file of keys_dir: public packets only.
  std::vector<std::string> packets;
  std::size_t total = 0;
  for (const KeyPart& p : found.parts) {
    if (p.too_large) {
      return refused(p.where + " is larger than " + key_file_limit() +
                     ". Export your key without third-party signatures:\n" + export_hint(fpr));
    }
    total += p.data.size();
    if (total > openpgp::kMaxPublicKeyFileSize) {
      return refused("The keys in your message have more than " + key_file_limit() +
                     " together. Attach your own key only, exported with\n" + export_hint(fpr));
    }
    auto screened = openpgp::extract_public_keys(p.data);
    if (!screened) {
      if (screened.error().fault == openpgp::KeyFileFault::secret_key) {
        return refused(
            p.where +
            " holds a SECRET key. The list takes public keys only and has not kept\n"
            "it. Never send your secret key by mail; if it was not encrypted to the list's\n"
            "key on the way, consider it exposed. Export your public key with\n" +
            export_hint(fpr));
      }
      return refused(p.where + " cannot be used: " + cleaned(screened.error().message, 200) +
                     ".\n" + how_to_send(in.list, fpr));
    }
    packets.push_back(std::move(screened->binary));
  }

  // 2. Merged in a throwaway home with the key the daemon holds now; only
  //    self-signatures are kept.
  auto home = openpgp::TempHome::create();
  if (!home) return Unexpected(Error::temporary(home.error().message));
  auto staging = openpgp::Context::open(home->path());
  if (!staging) return Unexpected(Error::temporary(staging.error().message));
  if (auto r = staging->keep_only_self_signatures(); !r) return Unexpected(r.error());
  auto current = openpgp::export_public(gpg, fpr);
  if (!current) {
    return Unexpected(Error::temporary("update-key: exporting " + fpr + ": " +
                                       current.error().message));
  }
  if (auto r = staging->import_data(*current); !r) {
    return Unexpected(Error::temporary("update-key: staging " + fpr + ": " + r.error().message));
  }
  auto before = staging->find_key(fpr);
  if (!before) return Unexpected(Error::temporary(before.error().message));
  if (!*before) return Unexpected(Error::temporary("update-key: " + fpr + " not staged"));

  std::set<std::string> others;
  for (std::size_t i = 0; i < packets.size(); ++i) {
    auto imported = staging->import_data(packets[i]);
    if (!imported) {
      if (imported.error().kind == ErrorClass::temporary) return Unexpected(imported.error());
      return refused(found.parts[i].where + " cannot be used: " +
                     cleaned(imported.error().message, 200) + ".\n");
    }
    if (!imported->problems.empty()) {
      return refused("GnuPG refused the key in " + found.parts[i].where + ": " +
                     cleaned(imported->problems.front(), 200) + ".\n");
    }
    for (const std::string& f : imported->fingerprints) {
      if (f != fpr) others.insert(f);
    }
  }
  if (!others.empty()) {
    std::string list;
    for (const std::string& f : others) list += "  " + f + "\n";
    return refused(
        "Your message holds a key with another primary fingerprint:\n" + list +
        "The list holds your key by its fingerprint\n  " + fpr +
        "\nand update-key takes only a new version of that same key (a later expiry,\n"
        "new subkeys, new user IDs, a revocation). To move to a new key, ask the\n"
        "admins of " +
        in.list.address +
        " to change the fingerprint pinned for you; they will check the new\n"
        "fingerprint with you on another channel (phone, in person) first.\n");
  }
  auto after = staging->find_key(fpr);
  if (!after) return Unexpected(Error::temporary(after.error().message));
  if (!*after) return Unexpected(Error::temporary("update-key: " + fpr + " lost in staging"));

  // 3. Decide.
  const KeyChange change = describe_change(**before, **after, in.now);
  if (!change.any()) {
    return refused(
        "The key in your message holds nothing the list does not have already\n"
        "(no later expiry, no new subkey, user ID or revocation). To extend your\n"
        "key, see the list's notice or run\n"
        "  gpg --quick-set-expire " +
        fpr + " 2y\n  gpg --quick-set-expire " + fpr + " 2y '*'\nand send it again.\n");
  }
  const keyring::KeyAssessment judged = keyring::assess_key(**after, in.now);
  if (!judged.usable && !change.revoked) {
    return refused("With it, your key would not be usable by the list: " + judged.word +
                   (judged.detail.empty() || judged.detail == judged.word
                        ? std::string()
                        : " (" + judged.detail + ")") +
                   ".\n");
  }
  // A subkey of another pinned key would make every fan-out to both fail
  // (keyring.h, shared subkeys), and the next reload refuse the keys.
  for (const openpgp::SubkeyFacts& s : (*after)->subkeys) {
    for (const keyring::PersonKey& other : in.keys.people) {
      if (!other.facts || iequals(other.fingerprint, fpr)) continue;
      for (const openpgp::SubkeyFacts& o : other.facts->subkeys) {
        if (key_id_of(o.fingerprint) == key_id_of(s.fingerprint)) {
          return refused("Your key holds the subkey " + s.fingerprint +
                         ", which belongs to\nanother member's key. A subkey belongs to one "
                         "person's key only.\n");
        }
      }
    }
  }
  auto merged = openpgp::export_public(*staging, fpr);
  if (!merged) return Unexpected(Error::temporary(merged.error().message));
  if (merged->size() > openpgp::kMaxPublicKeyFileSize) {
    return refused("Your key would have more than " + key_file_limit() +
                   "; send it without third-party signatures:\n" + export_hint(fpr));
  }

  // 4. Stored; the daemon reloads its keys when the request is recorded.
  auto stored = keyring::store_updated_key(in.config, fpr, *merged, in.now);
  if (!stored) return Unexpected(Error::temporary("update-key: " + stored.error().message));
  KeyUpdate out;
  out.stored = true;
  out.text = "Your key " + fpr + " was updated:\n";
  for (const std::string& line : change.lines) out.text += "  - " + line + "\n";
  if (change.revoked) {
    out.text +=
        "From now on the list sends you nothing and accepts nothing signed by this\n"
        "key. This is the last message the list encrypts to it. To take part again,\n"
        "make a new key and ask the admins of " +
        in.list.address + " to pin its fingerprint.\n";
  } else {
    out.text += "The list uses the new version from now on.\n";
  }
  return out;
}

}  // namespace tlpmail::requests
