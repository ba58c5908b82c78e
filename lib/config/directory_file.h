// Reads directory.toml ([[person]] entries) and checks each entry and the
// uniqueness of e-mail addresses and fingerprints within the file. The
// keys themselves are lib/keyring's business. Internal to lib/config.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <vector>

#include "config/diagnostics.h"
#include "directory/directory.h"

namespace tlpmail::config::detail {

struct PersonEntry {
  directory::Person person;
  bool email_ok = false;  // email present and well-formed: usable for lookups
  int email_line = 0;
};

struct DirectoryFile {
  // Every [[person]] table, including those with errors (reported); only
  // entries with email_ok may be used to resolve list members.
  std::vector<PersonEntry> people;
  // False when the file's shape is so wrong ('person' not an array) that
  // checking list members against it would only repeat the same error.
  bool usable = true;
  // directory_review_interval at the top of the file, in seconds; 0 when
  // unset. The default of every list without its own (config.cc).
  std::int64_t review_interval = 0;
};

DirectoryFile read_directory_file(const toml::table& root, FileReporter& f);

}  // namespace tlpmail::config::detail
