// Answer texts (see answers.h).
#include "requests/answers.h"

#include "compose/compose.h"
#include "requests/key_update.h"
#include "util/text.h"

namespace tlpmail::requests {
namespace {

std::string name_of(const AnswerContext& ctx) {
  if (ctx.person && !ctx.person->name.empty()) return ctx.person->name;
  return ctx.key.email;
}

std::string date_or_never(std::time_t t) { return t == 0 ? "never" : iso_date(t); }

Answer help(const AnswerContext& ctx) {
  const std::string request = ctx.list.request_address();
  return {"> help\n"
          "Send commands to " + request + ", one per line, in a message you sign\n"
          "(and preferably encrypt to the list's key), like a post to the list:\n"
          "  help        this text\n"
          "  key         the list's public key\n"
          "  members     the members of the list: names, organizations, countries\n"
          "  my-key      the key the list holds for you\n"
          "  update-key  replace that key by the one attached to your message (the same\n"
          "              primary key: a new expiry, new subkeys, new user IDs)\n"
          "Blank lines, quoted lines (> ...) and your signature after \"-- \" are ignored;\n"
          "the first other line that is not a command ends the list of commands.\n"};
}

Answer members(const AnswerContext& ctx) {
  std::string out = "> members\n" + std::to_string(ctx.list.members.size()) + " members of " +
                    ctx.list.address + ":\n";
  for (const std::string& email : ctx.list.members) {
    const directory::Person* p = ctx.config.directory.find_person(email);
    if (!p) continue;
    out += "  " + (p->name.empty() ? p->email : p->name);
    std::string where = p->organization;
    if (!p->country.empty()) where += (where.empty() ? "" : ", ") + p->country;
    if (!where.empty()) out += " (" + where + ")";
    if (p->kind == directory::Kind::team) out += " [team mailbox]";
    out += "\n";
  }
  return {out};
}

Answer my_key(const AnswerContext& ctx) {
  const keyring::PersonKey& k = ctx.key;
  std::string out = "> my-key\nThe key this list holds for you (" + k.email + "):\n";
  out += "  fingerprint  " + compose::grouped_fingerprint(k.fingerprint) + "\n";
  if (k.facts) out += "  algorithm    " + k.facts->algorithm + "\n";
  std::time_t expires = k.usable_until;
  if (expires == 0 && k.facts) expires = k.facts->expires;
  out += "  expires      " + date_or_never(expires);
  if (expires != 0 && expires > ctx.now) {
    out += " (in " + std::to_string((expires - ctx.now) / 86400) + " days)";
  }
  out += "\n  status       " + k.status_word + "\n";
  std::string source = k.file.empty() ? "unknown" : "keys_dir (" + k.file.filename().string() + ")";
  if (k.source == keyring::KeySource::mail) {
    source = "your update by mail" +
             (k.source_date == 0 ? std::string() : " of " + iso_date(k.source_date)) +
             (k.file == k.update_file ? std::string() : ", merged with " + source);
  }
  out += "  from         " + source + "\n";
  return {out};
}

Result<Answer> update_key_answer(const AnswerContext& ctx) {
  if (!ctx.gpg) return Unexpected(Error::temporary("update-key: no GnuPG context"));
  auto r = requests::update_key(
      *ctx.gpg, KeyUpdateInput{ctx.config, ctx.keys, ctx.list, ctx.key, ctx.content, ctx.now});
  if (!r) return Unexpected(r.error());
  return Answer{"> update-key\n" + r->text, r->stored};
}

}  // namespace

std::string greeting(const AnswerContext& ctx) {
  return "Hello " + name_of(ctx) + ",\n\nthis is " + ctx.list.address +
         " answering your request, command by command.\n\n";
}

std::string closing(const AnswerContext& ctx) {
  return "-- \n" + ctx.list.request_address() +
         " (an automatic answer; this message is signed by the list's key)\n";
}

Answer answer_key(const AnswerContext& ctx, const std::string& list_fingerprint) {
  return {"> key\nThe list's public key is attached (" + ctx.list.local_part() +
          ".asc). Its fingerprint:\n  " + compose::grouped_fingerprint(list_fingerprint) + "\n"};
}

Result<Answer> answer(const AnswerContext& ctx, Command c) {
  switch (c) {
    case Command::help:
      return help(ctx);
    case Command::members:
      return members(ctx);
    case Command::my_key:
      return my_key(ctx);
    case Command::update_key:
      return update_key_answer(ctx);
    case Command::key:
      break;
  }
  return Answer{"> " + std::string(to_string(c)) + "\n"};
}

std::string stopped_text(const std::string& line) {
  return "Stopped at a line that is not a command: \"" + line +
         "\".\nNothing after it was done. Send \"help\" for the commands.\n";
}

std::string key_in_clear_text(const directory::MailingList& list,
                              const std::string& list_fingerprint) {
  return "Hello,\n\nyou asked " + list.request_address() +
         " for the list's public key: it is attached (" + list.local_part() +
         ".asc).\nIts fingerprint is\n  " + compose::grouped_fingerprint(list_fingerprint) +
         "\nCompare it with the fingerprint your list admins gave you before you use\n"
         "the key. This message is not encrypted and not signed: it goes to\n"
         "addresses the list cannot encrypt to, at most once a day.\n\n-- \n" +
         list.request_address() + " (an automatic answer)\n";
}

}  // namespace tlpmail::requests
