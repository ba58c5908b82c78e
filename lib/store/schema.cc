// The migration steps of tlpmail.db. Append new steps at the end with the
// next version number (audit log, replay digests, delivery queue, ...);
// never change a step that has been released. Tables are STRICT so SQLite
// enforces the declared column types.
#include "store/schema.h"

namespace tlpmail::store {
namespace {

constexpr Migration kMigrations[] = {
    {1, "spool: received messages and their envelope recipients",
     R"sql(
CREATE TABLE spool_messages (
  id          TEXT PRIMARY KEY NOT NULL,  -- queue id, also the file name spool/msg/<id>
  received_at INTEGER NOT NULL,           -- Unix time, seconds
  sender      TEXT NOT NULL,              -- MAIL FROM reverse-path, '' for <>
  size        INTEGER NOT NULL,           -- bytes in spool/msg/<id>
  state       TEXT NOT NULL,              -- queue::MessageState: received | done | corrupt
  updated_at  INTEGER NOT NULL            -- Unix time of the last state change
) STRICT;
CREATE INDEX spool_messages_by_state ON spool_messages (state, received_at, id);
CREATE TABLE spool_recipients (
  message_id TEXT NOT NULL REFERENCES spool_messages (id) ON DELETE CASCADE,
  position   INTEGER NOT NULL,            -- RCPT TO order, from 0
  address    TEXT NOT NULL,
  PRIMARY KEY (message_id, position)
) STRICT;
)sql"},
};

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

}  // namespace tlpmail::store
