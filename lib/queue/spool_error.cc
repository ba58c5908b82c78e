// The mapping from SpoolError to SMTP replies and to tlpmail::Error. Keep
// the texts stable: operators grep for them and tests compare them.
#include "queue/spool_error.h"

namespace tlpmail::queue {

std::string_view to_string(SpoolErrorCode c) {
  switch (c) {
    case SpoolErrorCode::poisoned:
      return "poisoned";
    case SpoolErrorCode::disk_full:
      return "disk_full";
    case SpoolErrorCode::io_error:
      return "io_error";
    case SpoolErrorCode::database:
      return "database";
    case SpoolErrorCode::unavailable:
      return "unavailable";
  }
  return "unavailable";
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
