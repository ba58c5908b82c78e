// Who may be a recipient at RCPT TO, and the session options, from the
// configuration: a list's posting, -request and -bounces addresses
// (Directory::match_list_address, the one list-address match), one list
// per transaction. Pure functions of a Config; no I/O.
#pragma once

#include <memory>

#include "config/config.h"
#include "smtp/session.h"

namespace tlpmail::intake {

smtp::Protocol to_smtp_protocol(config::Protocol p);

// hostname, protocol and max_message_size from [server]; the other limits
// keep the session's defaults. starttls_available: a TLS context exists.
smtp::SessionOptions session_options(const config::Config& config, bool starttls_available);

// The RCPT TO resolver. Accepts exactly the addresses
// Directory::match_list_address() matches (a list's posting, -request and
// -bounces addresses, "+tag" allowed); everything else gets
// unknown_recipient_reply() (550 5.1.1). A transaction holds either the
// posting address of ONE list (repeated as the client likes) or only
// -request/-bounces addresses; a recipient that breaks this gets
// one_list_reply() (452 4.5.3: the MTA sends it again in a transaction of
// its own), so that one message gets one verdict. The resolver keeps
// `config` alive; it may be called from any thread.
smtp::Session::TransactionRcptResolver transaction_resolver(
    std::shared_ptr<const config::Config> config);

}  // namespace tlpmail::intake
