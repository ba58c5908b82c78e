// Reading a bounce: what a message sent back to a list's -bounces address
// says about the copy it returns. RFC 3464 delivery status notifications
// (multipart/report; report-type=delivery-status, as Postfix, Exim,
// Exchange and most MTAs send them) are read field by field; other bounces
// (qmail, Notes, old Exim) by their sender, subject and the status codes in
// their text; vacation replies sent to the envelope sender are told apart.
// Parses only, bounded in work and memory by the input; no logging, no
// state. Its own header (not mime.h): the bounce stage is its only user.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tlpmail::mime {

// At most this many recipient groups of a report are read.
inline constexpr std::size_t kMaxDsnRecipients = 100;
// At most this many bytes of a delivery-status part are read.
inline constexpr std::size_t kMaxDsnFields = std::size_t{64} * 1024;
// A diagnostic is cleaned to printable ASCII and cut to this many bytes.
inline constexpr std::size_t kMaxDiagnostic = 200;

struct DsnRecipient {
  std::string final_recipient;     // the address, its type ("rfc822;") and <> removed
  std::string original_recipient;  // the same
  std::string action;              // lower case: failed, delayed, delivered, relayed, expanded
  std::string status;              // RFC 3463 "5.1.1"; "" when absent or malformed
  std::string remote_mta;          // without its type ("dns;")
  std::string diagnostic;          // Diagnostic-Code without its type, cleaned
};

struct DeliveryStatus {
  std::string reporting_mta;  // without its type
  std::vector<DsnRecipient> recipients;
  bool cut = false;  // more than kMaxDsnFields bytes or kMaxDsnRecipients groups
};

// Parses the body of a message/delivery-status part (RFC 3464 section 2):
// a per-message field group, then one group per recipient, separated by
// blank lines; folded lines are joined, field names are case-insensitive,
// unknown fields are skipped. A group with a Final-Recipient or
// Original-Recipient is a recipient. Never fails: text without fields
// gives an empty result. Pure.
DeliveryStatus parse_delivery_status(std::string_view fields);

// The first RFC 3463 enhanced status code in `text` ("5.1.1"), else the
// class of the first basic SMTP reply code that starts a line or follows
// "(#" or a blank ("550 ..." gives "5.0.0"); "" when there is none. Only
// the first 64 KiB are looked at. Pure.
std::string find_status_code(std::string_view text);

// "5.1.1" and "4.4.7" style text; "5.1.10" (Exchange) included.
bool is_status_code(std::string_view s);

enum class BounceKind {
  permanent,     // the copy was not delivered and will not be (5.x.x, Action: failed)
  temporary,     // delayed, the remote MTA still tries (4.x.x, Action: delayed)
  not_failure,   // a report of success (delivered, relayed, expanded) or a read receipt
  auto_reply,    // a vacation message or another automatic reply
  unrecognised,  // neither a report nor anything that reads as a bounce
};
std::string_view to_string(BounceKind k);  // "permanent", "temporary", ...

struct Bounce {
  BounceKind kind = BounceKind::unrecognised;
  bool is_dsn = false;  // an RFC 3464 report with at least one recipient group
  // What decided: the status ("5.0.0" / "4.0.0" when only the class is
  // known), the Action of that recipient ("" for bounces that are not
  // reports), its Final-Recipient, Diagnostic-Code and Remote-MTA.
  std::string status;
  std::string action;
  std::string recipient;
  std::string diagnostic;  // printable ASCII, at most kMaxDiagnostic bytes
  std::string remote_mta;
  std::string reporting_mta;
};

// What the message `raw` (as received at a -bounces address) says. When
// a report names several recipients, the group whose Final-Recipient or
// Original-Recipient is `expected_recipient` decides (else the first
// failed one, else the first delayed one, else the first). Work and
// memory are bounded by the size of `raw`. Thread-safe.
Bounce read_bounce(std::string_view raw, std::string_view expected_recipient = {});

}  // namespace tlpmail::mime
