// Session options and the RCPT TO resolver (see recipients.h).
#include "intake/recipients.h"

#include <utility>

#include "intake/replies.h"

namespace tlpmail::intake {

smtp::Protocol to_smtp_protocol(config::Protocol p) {
  switch (p) {
    case config::Protocol::smtp:
      return smtp::Protocol::smtp;
    case config::Protocol::lmtp:
      return smtp::Protocol::lmtp;
  }
  return smtp::Protocol::smtp;
}

smtp::SessionOptions session_options(const config::Config& config, bool starttls_available) {
  smtp::SessionOptions o;
  o.hostname = config.server.hostname;
  o.protocol = to_smtp_protocol(config.server.protocol);
  o.max_message_size = config.server.max_message_size;
  o.starttls_available = starttls_available;
  return o;
}

smtp::Session::TransactionRcptResolver transaction_resolver(
    std::shared_ptr<const config::Config> config) {
  return [config = std::move(config)](std::string_view mailbox,
                                      const std::vector<std::string>& earlier) {
    const auto& dir = config->directory;
    auto m = dir.match_list_address(mailbox);
    if (!m) return smtp::RcptDecision::reject(unknown_recipient_reply(mailbox));
    const bool posting = m->role == directory::ListRole::post;
    for (const auto& e : earlier) {
      auto em = dir.match_list_address(e);
      if (!em) continue;  // cannot happen: the same Config accepted it
      const bool earlier_posting = em->role == directory::ListRole::post;
      if (posting && (!earlier_posting || em->list != m->list)) {
        return smtp::RcptDecision::reject(one_list_reply());
      }
      if (!posting && earlier_posting) return smtp::RcptDecision::reject(one_list_reply());
    }
    return smtp::RcptDecision::accept();
  };
}

}  // namespace tlpmail::intake
