// Small filesystem helpers shared by the daemon and the admin tool.
#pragma once

#include <filesystem>
#include <string_view>

#include "util/result.h"

namespace tlpmail {

// Creates `dir` (and missing parents) with mode 0700 when it does not
// exist; an existing folder is left as it is. Errors (permanent) name the
// folder, after `what` when given: "cannot create state_dir /x: Permission
// denied", "state_dir /x is not a folder".
Result<void> ensure_private_dir(const std::filesystem::path& dir, std::string_view what = {});

}  // namespace tlpmail
