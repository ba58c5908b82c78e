// Session options, the list-address RCPT resolver, DATA results from the
// spool's commit, and the byte batch for spool writes.
#include "net/intake.h"

#include <utility>

namespace tlpmail::net {

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

smtp::Session::RcptResolver list_resolver(std::shared_ptr<const config::Config> config) {
  return [config = std::move(config)](std::string_view mailbox) {
    if (config->directory.match_list_address(mailbox)) return smtp::RcptDecision::accept();
    return smtp::RcptDecision::reject(smtp::unknown_recipient_reply(mailbox));
  };
}

smtp::Reply one_list_reply() {
  return smtp::Reply{452, "4.5.3", "one list per message, please send again for this recipient"};
}

smtp::Session::TransactionRcptResolver transaction_resolver(
    std::shared_ptr<const config::Config> config) {
  return [config = std::move(config)](std::string_view mailbox,
                                      const std::vector<std::string>& earlier) {
    const auto& dir = config->directory;
    auto m = dir.match_list_address(mailbox);
    if (!m) return smtp::RcptDecision::reject(smtp::unknown_recipient_reply(mailbox));
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

smtp::Reply queued_reply(const queue::QueueId& id) {
  return smtp::Reply{250, "2.0.0", "Ok: queued as " + id};
}

smtp::Reply spool_failure_reply(const queue::SpoolError& e) {
  auto r = queue::to_smtp_reply(e);
  return smtp::Reply{r.code, std::move(r.enhanced), std::move(r.text)};
}

smtp::DataResult data_result(const Result<queue::QueueId, queue::SpoolError>& commit,
                             std::size_t count) {
  smtp::Reply one = commit ? queued_reply(*commit) : spool_failure_reply(commit.error());
  return smtp::DataResult{std::vector<smtp::Reply>(count, one)};
}

std::string DataBatch::take() {
  std::string out;
  out.swap(buf_);  // buf_ starts again without memory: idle sessions hold none
  return out;
}

}  // namespace tlpmail::net
