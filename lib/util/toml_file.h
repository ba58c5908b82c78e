// read_toml_file(): a TOML file that tlpmail wrote itself (the daemon's
// status file, a backup's manifest) as a table; a syntax error becomes a
// permanent Error "<file>: <what toml++ says>". Header-only, so that
// tlpmail_util does not link toml++: include it only from a target that
// links tomlplusplus. Configuration files are not read here: lib/config
// reads them with a diagnostic per line.
#pragma once

#include <toml++/toml.h>

#include <filesystem>
#include <string>

#include "util/result.h"

namespace tlpmail::util {

inline Result<toml::table> read_toml_file(const std::filesystem::path& file) {
  try {
    return toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    return Unexpected(Error::permanent(file.string() + ": " + std::string(e.description())));
  }
}

}  // namespace tlpmail::util
