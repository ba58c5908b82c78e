// The schema of tlpmail.db as an ordered list of migration steps, one per
// PRAGMA user_version. Adding a table is adding one entry at the end of the
// list in schema.cc; a released step is never edited or reordered. This file
// only describes the steps; Database::open applies them.
#pragma once

#include <span>
#include <string_view>

namespace tlpmail::store {

struct Migration {
  int version;                   // user_version after this step; 1, 2, 3, ...
  std::string_view description;  // for error messages
  std::string_view sql;          // one or more statements, run in one transaction
};

// Every step of the project's schema, versions 1..N in order.
std::span<const Migration> migrations();

}  // namespace tlpmail::store
