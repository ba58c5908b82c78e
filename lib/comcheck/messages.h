// The texts of communication checks and directory reviews (docs/member-
// guide.md quotes them): the message a member gets, the directory entry
// it shows for review, the admins' report and a forwarded correction; and
// the pure reading of a member's reply: the check tokens it quotes, and
// whether its own (unquoted) text confirms the entry or corrects it.
// Text only: no I/O, no SQL.
#pragma once

#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "comcheck/store.h"
#include "directory/directory.h"

namespace tlpmail::comcheck {

// The subject and body of member `person`'s check message (LF line ends).
// `token` is the member's token without the prefix.
std::string check_subject(const directory::MailingList& list, const Check& check);
std::string check_body(const directory::MailingList& list, const Check& check,
                       const directory::Person& person, const std::string& token);

// The person's directory entry as the list holds it, one "  field: value"
// line each (fields without a value are shown as "(not set)").
std::string entry_text(const directory::Person& person);

// The tokens (lower case, without the prefix) that follow "comcheck-" in
// `text`, in order, at most `max`; only the first 64 KiB are read.
std::vector<std::string> tokens_in(std::string_view text, std::size_t max = 8);

// The member's own text in a reply: the lines that are not quoted ("> "),
// before a signature separator ("-- ") or a forwarded/original-message
// marker, without the attribution line that introduces the quote ("On
// ... wrote:") and without blank lines at either end. At most 8 KiB.
std::string own_text(std::string_view reply);

struct ReviewReply {
  bool confirmed = false;  // the first line of the own text is "confirm" (or "confirmed", "ok")
  std::string correction;  // otherwise the own text, when there is any
};
ReviewReply read_review_reply(std::string_view reply);

// The letter that forwards a correction to an admin: subject and body.
std::string correction_subject(const directory::MailingList& list, const std::string& email);
std::string correction_body(const directory::MailingList& list, const Check& check,
                            const directory::Person& person, const std::string& signer_fpr,
                            const std::string& correction);

// The admins' report at the deadline: subject (the body is report_text).
std::string report_subject(const directory::MailingList& list, const Check& check,
                           double success_rate);

}  // namespace tlpmail::comcheck
