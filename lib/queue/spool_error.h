// SpoolError: why the spool could not take a message, and the one function
// that turns it into the SMTP reply the client sees (to_smtp_reply). Every
// spool error is temporary for the client (4xx): the MTA keeps the message
// and retries. The detail text is for the log, never for the client.
#pragma once

#include <string>
#include <string_view>

#include "smtp/reply.h"
#include "util/result.h"

namespace tlpmail::queue {

enum class SpoolErrorCode {
  poisoned,     // an earlier write/fsync failed; no commits until restart
  disk_full,    // ENOSPC/EDQUOT (or SQLITE_FULL); nothing was kept
  io_error,     // a write, fsync, close or rename failed; the spool is now poisoned
  database,     // the database was busy or failed without endangering data
  unavailable,  // a local fault that lost nothing (cannot create a file, misuse)
};

std::string_view to_string(SpoolErrorCode c);

struct SpoolError {
  SpoolErrorCode code = SpoolErrorCode::unavailable;
  std::string detail;  // for the log: "fsync /var/lib/tlpmail/spool/tmp/...: Input/output error"
};

// The only place that decides what a spool failure looks like on the wire:
//   poisoned     451 4.3.0 Local error: spool is refusing writes after an I/O failure
//   disk_full    452 4.3.1 Insufficient system storage
//   io_error     451 4.3.0 Local error: spool write failed
//   database     451 4.3.0 Local error: queue database unavailable
//   unavailable  451 4.3.0 Local error: spool unavailable
smtp::Reply to_smtp_reply(const SpoolError& e);

// The error as a tlpmail::Error (always ErrorClass::temporary), for code
// that reports in that vocabulary: "spool <code>: <detail>".
Error to_error(const SpoolError& e);

}  // namespace tlpmail::queue
