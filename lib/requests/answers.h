// The texts a member's request is answered with, one per command
// (docs/requests.md): help, key (the attachment comes from request.cc),
// members, my-key, update-key; and the framing lines. Pure apart from
// update-key (which stores the new key: key_update.h). Never quotes the
// request's text beyond a cleaned, cut command line.
#pragma once

#include <ctime>
#include <string>

#include "config/config.h"
#include "directory/directory.h"
#include "keyring/keyring.h"
#include "openpgp/context.h"
#include "pipeline/verifier.h"
#include "requests/commands.h"
#include "util/result.h"

namespace tlpmail::requests {

// Everything an answer may look at. References, valid for the call.
struct AnswerContext {
  const config::Config& config;
  const keyring::KeyReport& keys;
  const directory::MailingList& list;
  const directory::Person* person;  // the verified sender (a member)
  const keyring::PersonKey& key;    // the key the list holds for them
  const pipeline::RequestContent& content;
  std::time_t now;
  // This thread's context on the daemon's home (update-key exports the
  // key held now from it); null where no command needs it (tests).
  openpgp::Context* gpg = nullptr;
};

struct Answer {
  std::string text;  // plain text, LF line ends, ends with a line break
  bool keys_changed = false;  // update-key stored a key: the daemon reloads its keys
};

std::string greeting(const AnswerContext& ctx);
std::string closing(const AnswerContext& ctx);

// help, members, my-key, update-key. `key` has its own (answer_key).
// update-key (key_update.h) needs ctx.gpg. Errors: local faults
// (update-key: gpg, storing the key).
Result<Answer> answer(const AnswerContext& ctx, Command c);

// The line that goes with the attached list key.
Answer answer_key(const AnswerContext& ctx, const std::string& list_fingerprint);

// "Stopped at a line that is not a command: ..."
std::string stopped_text(const std::string& line);

// The body of the list key sent in clear to someone the list cannot
// encrypt to.
std::string key_in_clear_text(const directory::MailingList& list,
                              const std::string& list_fingerprint);

}  // namespace tlpmail::requests
