// The mapping from SpoolError to SMTP replies and to tlpmail::Error. Keep
// the texts stable: operators grep for them and tests compare them.
#include "queue/spool_error.h"

#include "util/enum_names.h"

namespace tlpmail::queue {

constexpr auto kSpoolErrorCodeNames = std::to_array<std::string_view>(
    {"poisoned", "disk_full", "io_error", "database", "unavailable"});
static_assert(util::names_cover(kSpoolErrorCodeNames, SpoolErrorCode::unavailable));
std::string_view to_string(SpoolErrorCode c) {
  return util::name_of(kSpoolErrorCodeNames, c, "unavailable");
}

smtp::Reply to_smtp_reply(const SpoolError& e) {
  switch (e.code) {
    case SpoolErrorCode::poisoned:
      return {451, "4.3.0", "Local error: spool is refusing writes after an I/O failure"};
    case SpoolErrorCode::disk_full:
      return {452, "4.3.1", "Insufficient system storage"};
    case SpoolErrorCode::io_error:
      return {451, "4.3.0", "Local error: spool write failed"};
    case SpoolErrorCode::database:
      return {451, "4.3.0", "Local error: queue database unavailable"};
    case SpoolErrorCode::unavailable:
      return {451, "4.3.0", "Local error: spool unavailable"};
  }
  return {451, "4.3.0", "Local error: spool unavailable"};
}

Error to_error(const SpoolError& e) {
  return Error::temporary("spool " + std::string(to_string(e.code)) + ": " + e.detail);
}

}  // namespace tlpmail::queue
