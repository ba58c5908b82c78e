// Small filesystem helpers shared by the daemon and the admin tool.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "util/result.h"

namespace tlpmail {

// Creates `dir` (and missing parents) with mode 0700 when it does not
// exist; an existing folder is left as it is. Errors (permanent) name the
// folder, after `what` when given: "cannot create state_dir /x: Permission
// denied", "state_dir /x is not a folder".
Result<void> ensure_private_dir(const std::filesystem::path& dir, std::string_view what = {});

// Reads a regular file of at most `max` bytes whole, with read(2): a read
// error is returned, never thrown (libstdc++'s filebuf throws from an
// istreambuf_iterator when read fails, e.g. ESRCH on the /proc file of a
// process that just exited). A FIFO or device is refused without blocking.
// Errors (permanent) are the errno text or "larger than N bytes".
Result<std::string> read_small_file(const std::filesystem::path& file, std::size_t max);

}  // namespace tlpmail
