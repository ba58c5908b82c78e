// The Asio side of relaying copies (issue 5): a pool of SMTP client
// connections to [relay] that drives smtp::ClientSession over TCP (and TLS
// after STARTTLS), with a deadline on every step, connection reuse, idle
// close and graceful stop. It does not decide what a reply means (the
// session's classify() does), keeps nothing on disk and never retries: a
// deferred copy goes back to the caller, whose retry schedule decides.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "smtp/client.h"

namespace tlpmail::delivery {

namespace asio = boost::asio;

struct RelayTimeouts {
  // Resolving the host and the TCP connect, together.
  std::chrono::milliseconds connect{std::chrono::seconds(30)};
  // The greeting, every command reply (RFC 5321 4.5.3.2: 5 min for MAIL and
  // RCPT, 2 min for DATA; we use the longer for all), the TLS handshake and
  // each write.
  std::chrono::milliseconds reply{std::chrono::minutes(5)};
  // The reply to the end of the message (RFC 5321 4.5.3.2.6: 10 min).
  std::chrono::milliseconds data_end{std::chrono::minutes(10)};
  // An established connection with nothing to do sends QUIT after this.
  std::chrono::milliseconds idle_close{std::chrono::seconds(5)};
  // Waiting for the reply to QUIT (and for TLS close_notify), at most.
  std::chrono::milliseconds quit{std::chrono::seconds(5)};
};

struct RelayOptions {
  std::string host;  // [relay] host: an IP address (IPv6 without brackets) or a name
  std::uint16_t port = 25;
  smtp::StartTlsPolicy starttls = smtp::StartTlsPolicy::off;
  unsigned max_connections = 1;  // >= 1
  std::string helo_name;         // [server] hostname; a valid EHLO argument
  // The client TLS context (make_relay_tls_context()). Null: STARTTLS is
  // impossible; with `required` every copy is deferred ("STARTTLS required
  // but no TLS client context"), with `opportunistic` copies go in clear.
  std::shared_ptr<asio::ssl::context> tls;
  RelayTimeouts timeouts;
};

// A client context for STARTTLS to the relay: TLS 1.2 or later, no
// compression, no renegotiation. The relay's certificate is NOT verified
// ([relay] has no CA or name setting yet): TLS protects the hop against
// eavesdropping, not against an active impostor; the copies themselves are
// OpenPGP-encrypted either way. SNI carries `host` when it is a name.
// Throws boost::system::system_error if OpenSSL cannot make a context.
std::shared_ptr<asio::ssl::context> make_relay_tls_context();

struct Job {
  std::uint64_t id = 0;  // the caller's; passed back to the completion
  smtp::OutboundEnvelope envelope;
};

// Called on the io executor exactly once per submitted job, never from
// inside submit() or stop() (those post it). The result is the session's
// (classify() applied, per-recipient results in envelope order) or, when
// the copy never reached a session, a local 451 whose local_reason says
// why (the relay's address included when it is about the relay). The
// completion may call submit(); it must not destroy the Relay. An
// exception it throws is logged and swallowed.
using Completion =
    std::function<void(std::uint64_t job_id, const smtp::TransactionResult& result)>;

namespace detail {
class RelayCore;
}

// Connections open on demand, up to max_connections: a submitted job wakes
// an idle connection, or opens a new one when fewer connections are
// starting than jobs are waiting. Each connection takes jobs one at a time
// from the shared queue and is reused for many; after idle_close without
// work it sends QUIT and closes.
//
// Failures (never a reconnect loop):
// - A connection that cannot be established (resolve or connect error or
//   timeout, greeting refused or 421, STARTTLS required but not offered or
//   refused, TLS handshake failure, no reply in time) holds no job yet; it
//   defers every job waiting in the queue with its reason, unless another
//   connection is established (then the relay is up and that one takes
//   them). An establishment failure never opens another connection.
// - A connection lost or timed out mid-transaction defers that job (per
//   the session; a recipient already refused with 5xx stays failed) and
//   closes. When an established connection closes and jobs are waiting,
//   one new connection is opened for them. Each such round either
//   completes at least one job or fails establishment (which empties the
//   queue), so the attempts are bounded by the number of jobs.
//
// Thread safety: none. Construct, call and destroy on the io executor's
// thread (a single-threaded io_context).
class Relay {
 public:
  // Nothing happens until the first submit().
  // Throws std::invalid_argument when host is empty, max_connections is 0
  // or helo_name is not a valid EHLO argument.
  Relay(asio::any_io_executor io, RelayOptions options, Completion on_done);
  // REQUIRES: stop() has finished, or the io_context will not run again.
  // Otherwise connections are cut and unfinished jobs still complete
  // (deferred, "relay client stopping") when the io_context runs.
  ~Relay();  // NOLINT(bugprone-exception-escape): see relay.cc
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  // Queues a copy. After stop() began, the job completes (posted) as
  // deferred with "relay client stopping".
  void submit(Job job);

  std::size_t queued() const;       // submitted, not yet taken by a connection
  std::size_t in_flight() const;    // taken by a connection, not completed
  std::size_t connections() const;  // open or opening

  // Graceful stop: queued jobs complete as deferred ("relay client
  // stopping") and no new job starts; connections that are still starting
  // are cut; idle ones send QUIT; running transactions get `grace` to
  // finish, then their connections are cut and their jobs complete as
  // deferred ("relay client stopping"). Finishes when every connection is
  // closed and every completion was called. May be awaited more than once.
  asio::awaitable<void> stop(std::chrono::milliseconds grace);

 private:
  std::shared_ptr<detail::RelayCore> core_;
};

}  // namespace tlpmail::delivery
