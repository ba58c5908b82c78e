// Reads one lists.d/*.toml file into a MailingList and checks what can be
// checked inside that file. Checks that need the directory or the other
// lists (members known, address collisions) are done by config.cc with the
// lines kept here. Internal to lib/config.
#pragma once

#include <toml++/toml.h>

#include <vector>

#include "config/diagnostics.h"
#include "directory/directory.h"

namespace tlpmail::config::detail {

struct ListEntry {
  directory::MailingList list;
  bool address_ok = false;        // address present and well-formed
  bool members_read = false;      // members present as an array
  std::vector<int> member_lines;  // parallel to list.members
  std::vector<int> admin_lines;   // parallel to list.admins
  // directory_review_interval set in this file (else the directory's applies).
  bool review_interval_set = false;
};

// The list in the file (with whatever could be read when there are
// errors, which are reported).
ListEntry read_list_file(const toml::table& root, FileReporter& f);

}  // namespace tlpmail::config::detail
