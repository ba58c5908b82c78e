// A deadline on every GPGME operation that can wait on gpg or gpg-agent
// (docs/openpgp.md, "When gpg hangs"). GPGME's synchronous calls cannot be
// cancelled from outside: a stopped or hung gpg-agent blocks them for
// ever. A Deadline registers the operation with one watchdog thread; when
// it runs past its limit, the watchdog kills (SIGKILL) the gpg-agent of
// that operation's GnuPG home, found in /proc by its --homedir, so that the
// gpg waiting on it fails and the GPGME call returns; gpg processes of that
// home still running kStragglerGrace later are killed too, and then every
// pipe of this process whose reader is gone is pointed at /dev/null (GPGME
// would otherwise poll the input pipe of a dead gpg for ever). The next GPGME
// operation on the home starts a fresh agent. The operation reports a
// temporary error ("gpg did not answer within 30 s"), the caller retries.
// Not here: what to retry (the callers), logging (the handler the daemon
// sets; lib/openpgp does not log).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "util/result.h"

namespace tlpmail::openpgp {

// Operations may take this long (plus their own extra, see Deadline) by
// default; the daemon may change it at start (tlpmaild's test option
// --gpg-deadline-ms). Zero disables the watchdog.
inline constexpr std::chrono::milliseconds kDefaultOperationDeadline{std::chrono::seconds(30)};
// After the agent was killed, gpg processes of the home still running this
// much later are killed too (a hung gpg, not a hung agent).
inline constexpr std::chrono::milliseconds kStragglerGrace{std::chrono::seconds(5)};

void set_operation_deadline(std::chrono::milliseconds limit);
std::chrono::milliseconds operation_deadline();

// What the watchdog did about one operation past its deadline.
struct Stall {
  std::filesystem::path home;
  std::string operation;  // e.g. "sign and encrypt"
  std::chrono::milliseconds limit{0};
  int agents_killed = 0;  // gpg-agent processes of the home
  int gpg_killed = 0;     // gpg processes of the home (stragglers)
};

// Called on the watchdog thread for each stall (once when the agent is
// killed; again, with gpg_killed > 0, when stragglers are). Must not block.
void set_stall_handler(std::function<void(const Stall&)> handler);

// Operations cut short by their deadline since the process started
// (for /metrics), and on the calling thread (to tell a stall from other
// failures right after an operation).
std::uint64_t stall_count();
std::uint64_t stall_count_this_thread();

// Registers one operation on `home` for the lifetime of the object.
// `extra` is added to operation_deadline() for operations whose cost
// grows with their input (many recipients, a large message).
// Thread safety: each object is used by one thread; the registry is shared.
class Deadline {
 public:
  Deadline(const std::filesystem::path& home, std::string_view operation,
           std::chrono::milliseconds extra = std::chrono::milliseconds(0));
  ~Deadline();
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  // True once the watchdog acted on this operation.
  bool expired() const;
  // A temporary error naming the operation and the limit, for a GPGME
  // failure that followed the expiry.
  Error error() const;

 private:
  std::uint64_t id_ = 0;
  std::string operation_;
  std::chrono::milliseconds limit_{0};
};

// The extra time for an operation on `bytes` of data to `recipients`:
// 2 ms per recipient and 1 s per 4 MiB.
std::chrono::milliseconds extra_for(std::size_t recipients, std::size_t bytes);

// The processes of the calling user whose command line is that of a
// gpg-agent (`agents`) or gpg (otherwise) with --homedir `home`; their
// PIDs. For the watchdog and tests.
std::vector<int> home_processes(const std::filesystem::path& home, bool agents);

}  // namespace tlpmail::openpgp
