// Letters from the list to one person (see letters.h).
#include "fanout/letters.h"

#include <cstdio>
#include <random>

#include "openpgp/fanout.h"
#include "openpgp/list_key.h"
#include "util/random_token.h"
#include "util/wiped.h"

namespace tlpmail::fanout {
namespace {

std::string random_hex(std::size_t bytes) {
  static thread_local std::random_device rd;
  std::string out;
  char buf[3];
  for (std::size_t i = 0; i < bytes; ++i) {
    (void)std::snprintf(buf, sizeof buf, "%02x", static_cast<unsigned>(rd() & 0xff));
    out += buf;
  }
  return out;
}

}  // namespace

compose::ListFacts list_facts(const directory::MailingList& l) {
  compose::ListFacts f;
  f.address = l.address;
  f.description = l.description;
  f.subject_prefix = l.subject_prefix;
  f.protect_subject = l.protect_subject;
  return f;
}

std::string new_message_id(const config::Config& c, std::string_view seed) {
  return "tlpmail." + std::string(seed) + "." + random_hex(6) + "@" + c.server.hostname;
}

Result<openpgp::KeyFacts> list_key_of(openpgp::Context& gpg, const directory::MailingList& l) {
  auto key = openpgp::find_list_key(gpg, l.address);
  if (!key) return Unexpected(Error::temporary(key.error().message));
  if (!*key) return Unexpected(openpgp::list_key_not_found(l.address));
  return **key;
}

Result<queue::NewOutgoing> seal(openpgp::Context& gpg, const directory::MailingList& list,
                                const std::string& list_fpr, std::string_view plaintext,
                                const std::vector<std::string>& emails,
                                const std::vector<std::string>& fingerprints,
                                const openpgp::KeyHandles* known) {
  return seal(gpg, list, std::vector<std::string>{list_fpr}, plaintext, emails, fingerprints,
              known);
}

Result<queue::NewOutgoing> seal(openpgp::Context& gpg, const directory::MailingList& list,
                                const std::vector<std::string>& signers, std::string_view plaintext,
                                const std::vector<std::string>& emails,
                                const std::vector<std::string>& fingerprints,
                                const openpgp::KeyHandles* known) {
  auto fan = openpgp::sign_and_encrypt_once(gpg, plaintext, signers, fingerprints, known);
  if (!fan) return Unexpected(fan.error());
  queue::NewOutgoing m;
  m.list = list.address;
  m.envelope_from = list.bounces_address();
  for (std::size_t i = 0; i < emails.size(); ++i) {
    // A copy is its PKESK + the shared data: only the PKESK is per copy.
    auto pkesk = fan->pkesk_for(fingerprints[i]);
    if (!pkesk) return Unexpected(pkesk.error());
    // Each copy is sent from its own LIST-bounces+TOKEN@ (VERP), so that a
    // bounce names exactly this copy, and only a real bounce can.
    auto token = random_token();
    if (!token) return Unexpected(token.error());
    m.copies.push_back({emails[i], fingerprints[i], std::move(*pkesk), std::move(*token)});
  }
  m.encrypted_by = fan->encrypted_here() ? "tlpmaild" : "gpg";
  m.shared_data = std::move(*fan).take_shared_data();
  return m;
}

Result<queue::NewOutgoing> sealed_letter(openpgp::Context& gpg, const directory::MailingList& list,
                                         const std::string& list_fpr,
                                         const compose::NoticeFacts& f,
                                         const std::string& fingerprint, const std::string& id,
                                         queue::OutgoingKind kind) {
  Wiped entity{compose::notice_entity(f)};
  auto sealed = seal(gpg, list, list_fpr, entity.value, {f.to}, {fingerprint});
  if (!sealed) return Unexpected(sealed.error());
  compose::Frame frame = compose::notice_frame(f);
  sealed->id = id;
  sealed->kind = kind;
  // A reply goes back to someone who has just written: its bounce would
  // say nothing about a member, so it is sent from the plain address.
  if (kind == queue::OutgoingKind::reply) {
    for (queue::NewCopy& c : sealed->copies) c.verp_token.clear();
  }
  sealed->list_message_id = f.message_id;
  sealed->head = std::move(frame.head);
  sealed->tail = std::move(frame.tail);
  return sealed;
}

queue::NewOutgoing plain_letter(const directory::MailingList& list, const compose::NoticeFacts& f,
                                const std::string& id) {
  queue::NewOutgoing m;
  m.id = id;
  m.kind = queue::OutgoingKind::plain;
  m.list = list.address;
  m.list_message_id = f.message_id;
  m.envelope_from = list.bounces_address();
  m.head = compose::plain_message(f);
  m.copies.push_back({f.to, "", ""});
  return m;
}

}  // namespace tlpmail::fanout
