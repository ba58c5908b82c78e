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
    {2, "pipeline: replay digests, thread index, audit log",
     R"sql(
CREATE TABLE replay_digests (
  digest             TEXT PRIMARY KEY NOT NULL,  -- openpgp::replay_digest, lower-case hex
  list               TEXT NOT NULL,              -- list address (lower case) first accepted on
  signer_fingerprint TEXT NOT NULL,              -- primary fingerprint of the signer
  signed_at          INTEGER NOT NULL,           -- signature creation time, Unix seconds
  seen_at            INTEGER NOT NULL            -- when it was recorded
) STRICT;
CREATE INDEX replay_digests_by_time ON replay_digests (signed_at);
CREATE TABLE thread_index (
  list        TEXT NOT NULL,                     -- list address, lower case
  message_id  TEXT NOT NULL,                     -- Message-ID without <>
  label       TEXT NOT NULL,                     -- CLEAR | GREEN | AMBER | AMBER+STRICT | RED
  label_rank  INTEGER NOT NULL,                  -- 0 (CLEAR) .. 4 (RED), policy::Tlp order
  recorded_at INTEGER NOT NULL,
  PRIMARY KEY (list, message_id)
) STRICT;
CREATE TABLE audit_log (
  id                 INTEGER PRIMARY KEY,
  at                 INTEGER NOT NULL,           -- Unix time of the verdict
  list               TEXT NOT NULL,              -- list address, lower case
  queue_id           TEXT,                       -- NULL: never spooled
  verdict            TEXT NOT NULL,              -- accepted | refused
  refusal            TEXT,                       -- pipeline::RefusalKind name; NULL when accepted
  reason             TEXT,                       -- the refusal text sent to the sender
  smtp_reply         TEXT NOT NULL,              -- "250 2.0.0", "550 5.7.1", ...
  signer_email       TEXT,                       -- the pinned person, when known
  signer_fingerprint TEXT,                       -- primary fingerprint, when known
  label              TEXT,                       -- accepted: the label of every copy
  raised             TEXT,                       -- accepted: raise lines ("TLP raised from ...")
  message_id         TEXT,                       -- received Message-ID without <>
  parent_message_id  TEXT,                       -- thread message whose label was inherited
  replay_digest      TEXT
) STRICT;
CREATE INDEX audit_log_by_time ON audit_log (at, id);
CREATE INDEX audit_log_by_list ON audit_log (list, at);
CREATE TABLE audit_recipients (
  audit_id INTEGER NOT NULL REFERENCES audit_log (id) ON DELETE CASCADE,
  position INTEGER NOT NULL,                     -- chosen first (list order), then left out
  address  TEXT NOT NULL,
  chosen   INTEGER NOT NULL,                     -- 1: gets a copy; 0: left out
  why      TEXT,                                 -- left out: policy::describe() text
  PRIMARY KEY (audit_id, position)
) STRICT;
)sql"},
    {3, "pipeline: the list, Message-ID and queue id of an accepted replay digest (exact retry)",
     R"sql(
-- Filled when the digest is recorded with a spooled message; NULL in rows
-- from before step 3 (such a row is never taken for an exact retry).
-- audit_log.verdict gains the value 'duplicate' (an exact retry answered
-- "already queued as <queue_id>", nothing spooled).
ALTER TABLE replay_digests ADD COLUMN message_id TEXT;  -- Message-ID without <>
ALTER TABLE replay_digests ADD COLUMN queue_id TEXT;    -- the queue id it was spooled under
)sql"},
    {4, "delivery: the outbox of encrypted copies and their per-recipient delivery state",
     R"sql(
-- One row per outgoing message (the copies of one accepted message, or one
-- admin notice). Only ciphertext is stored: the shared encrypted data
-- packet and, per copy, the recipient's session key packet; binary OpenPGP
-- packets are kept in TEXT columns (SQLite does not check their encoding).
-- head/tail frame the armored ciphertext (lib/compose). Once every copy of
-- a message is final, head, tail, shared_data and the pkesk columns are
-- emptied; the rows stay as history.
CREATE TABLE outbox_messages (
  id              TEXT PRIMARY KEY NOT NULL,  -- spool queue id of the source message, or a notice id
  kind            TEXT NOT NULL,              -- copy | notice
  list            TEXT NOT NULL,              -- list address, lower case
  list_message_id TEXT NOT NULL,              -- Message-ID of the copies, without <>
  source_id       TEXT,                       -- queue id the message came from (notices: NULL)
  envelope_from   TEXT NOT NULL,              -- reverse-path: the list's -bounces address
  head            TEXT NOT NULL,
  tail            TEXT NOT NULL,
  shared_data     TEXT NOT NULL,
  created_at      INTEGER NOT NULL
) STRICT;
CREATE TABLE outbox_copies (
  id              INTEGER PRIMARY KEY,
  message         TEXT NOT NULL REFERENCES outbox_messages (id) ON DELETE CASCADE,
  recipient       TEXT NOT NULL,              -- forward-path
  fingerprint     TEXT NOT NULL,              -- primary fingerprint the copy is encrypted to
  pkesk           TEXT NOT NULL,              -- the recipient's PKESK packet (binary)
  state           TEXT NOT NULL,              -- queued | in_flight | deferred | delivered | failed
  attempts        INTEGER NOT NULL,           -- finished delivery attempts
  next_attempt_at INTEGER NOT NULL,           -- Unix time; due when <= now (queued/deferred)
  queued_at       INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  last_reply      TEXT,                       -- "451 4.3.0 text" or the local reason
  reported        INTEGER NOT NULL,           -- failed: 1 once the admins' notice is queued
  UNIQUE (message, recipient)
) STRICT;
CREATE INDEX outbox_copies_due ON outbox_copies (state, next_attempt_at);
CREATE INDEX outbox_copies_by_message ON outbox_copies (message);
-- The copies' Message-ID of an accepted message (threading), set at fan-out.
ALTER TABLE audit_log ADD COLUMN list_message_id TEXT;
)sql"},
    {5, "pipeline: cross-posts, one signed message encrypted to several lists' keys",
     R"sql(
-- The key ids (16 hex digits, space-separated) of the session key packets
-- of an accepted encrypted message; NULL when it was not encrypted (or
-- accepted before step 5). A later message with the same signature is
-- accepted once more by every other list whose key the FIRST one was
-- encrypted to (a cross-post), and refused as a replay everywhere else.
ALTER TABLE replay_digests ADD COLUMN encrypted_to TEXT;
CREATE TABLE replay_cross_posts (
  digest     TEXT NOT NULL,   -- replay_digests.digest
  list       TEXT NOT NULL,   -- the other list that accepted it, lower case
  message_id TEXT,            -- for exact retries, as in replay_digests
  queue_id   TEXT,
  seen_at    INTEGER NOT NULL,
  PRIMARY KEY (digest, list)
) STRICT;
)sql"},
    {6, "requests: when the list's key was last sent in clear to an address",
     R"sql(
-- A request for the list key from someone the list cannot encrypt to (not
-- a member, or unsigned) is answered with the key in clear at most once a
-- day per list and address: no backscatter amplification.
CREATE TABLE request_key_replies (
  list    TEXT NOT NULL,     -- lower case
  address TEXT NOT NULL,     -- lower case
  sent_at INTEGER NOT NULL,  -- Unix time of the last reply
  PRIMARY KEY (list, address)
) STRICT;
)sql"},
    {7, "maintenance: when each periodic job last ran",
     R"sql(
CREATE TABLE maintenance_runs (
  job         TEXT PRIMARY KEY NOT NULL,  -- "key-check", "digest", ...
  last_run_at INTEGER NOT NULL,           -- Unix time the last run started
  ok          INTEGER NOT NULL,           -- 1 when it succeeded
  summary     TEXT                        -- its log summary, or the error
) STRICT;
)sql"},
    {8, "bounces and communication checks: VERP tokens, bounce reports, checks, reviews",
     R"sql(
-- The VERP token of a copy: its envelope sender is LIST-bounces+TOKEN@DOMAIN,
-- so a bounce names exactly one copy. NULL for copies queued before step 8
-- and for replies to requests (sent without a token). outbox_copies.state
-- gains the value 'bounced' (a bounce came back after the relay took it),
-- outbox_messages.kind the value 'check' (a communication check message).
ALTER TABLE outbox_copies ADD COLUMN verp_token TEXT;
CREATE UNIQUE INDEX outbox_copies_by_token ON outbox_copies (verp_token)
  WHERE verp_token IS NOT NULL;
CREATE INDEX outbox_copies_by_recipient ON outbox_copies (recipient COLLATE NOCASE, id);
-- One row per bounce that named a known copy (lib/bounces). Status fields
-- only: never the bounce's text beyond the cleaned Diagnostic-Code.
CREATE TABLE bounce_reports (
  id          INTEGER PRIMARY KEY,
  at          INTEGER NOT NULL,   -- Unix time it was read
  queue_id    TEXT NOT NULL,      -- the spooled bounce
  copy_id     INTEGER NOT NULL,   -- outbox_copies.id
  kind        TEXT NOT NULL,      -- permanent | temporary
  status      TEXT NOT NULL,      -- RFC 3463 "5.1.1"
  action      TEXT,               -- the report's Action, when it was one
  diagnostic  TEXT,               -- cleaned, at most 200 bytes
  remote_mta  TEXT,
  outcome     TEXT NOT NULL       -- bounced | recorded | ignored: why
) STRICT;
CREATE INDEX bounce_reports_by_copy ON bounce_reports (copy_id);
-- Communication checks (lib/comcheck): one row per check of a list, one
-- per member asked. A member's state is pending until answered, bounced,
-- not sent, or the deadline passes (no_answer).
CREATE TABLE comchecks (
  id          INTEGER PRIMARY KEY,
  list        TEXT NOT NULL,      -- list address, lower case
  origin      TEXT NOT NULL,      -- manual | interval | review_interval
  review      INTEGER NOT NULL,   -- 1: members are asked to review their directory entry
  started_at  INTEGER NOT NULL,
  spread_s    INTEGER NOT NULL,   -- messages go out at random moments within this
  deadline_at INTEGER NOT NULL,
  closed_at   INTEGER             -- NULL while open; set when the admins' report is queued
) STRICT;
CREATE INDEX comchecks_by_list ON comchecks (list, id);
CREATE TABLE comcheck_members (
  check_id       INTEGER NOT NULL REFERENCES comchecks (id) ON DELETE CASCADE,
  email          TEXT NOT NULL,    -- as in the list file
  organization   TEXT NOT NULL,    -- from the directory when the check started
  token          TEXT NOT NULL UNIQUE,  -- the check token in the message body
  send_at        INTEGER NOT NULL, -- the random moment it is due
  state          TEXT NOT NULL,    -- pending | answered | answered_unsigned | bounced | not_sent | no_answer
  reason         TEXT,             -- not_sent / answered_unsigned: why
  sent_at        INTEGER,          -- when the message was queued; NULL until then
  message_id     TEXT,             -- the check message's Message-ID, without <>
  outbox_id      TEXT,             -- outbox_messages.id of the check message
  answered_at    INTEGER,          -- first matching reply (signed or not)
  review_result  TEXT,             -- confirmed | corrected, for review checks
  PRIMARY KEY (check_id, email)
) STRICT;
CREATE UNIQUE INDEX comcheck_members_by_message_id ON comcheck_members (message_id)
  WHERE message_id IS NOT NULL;
CREATE INDEX comcheck_members_due ON comcheck_members (state, send_at) WHERE sent_at IS NULL;
-- When each person last confirmed their directory entry (state, not
-- configuration: directory.toml stays the admins' file).
CREATE TABLE directory_reviews (
  email       TEXT PRIMARY KEY NOT NULL,  -- lower case
  reviewed_at INTEGER NOT NULL,
  check_id    INTEGER                     -- the review it answered
) STRICT;
)sql"},
    {9, "key lifecycle: members' expiry notices, the admins' daily digests",
     R"sql(
-- One row per expiry notice a member's key got (lib/keylife): per key,
-- per date it stops being usable (a new expiry starts again) and per
-- threshold (30, 7, 1 days), so that none is sent twice.
CREATE TABLE key_expiry_notices (
  fingerprint TEXT NOT NULL,     -- the pinned primary fingerprint
  expires_at  INTEGER NOT NULL,  -- Unix time the key stops being usable
  threshold   INTEGER NOT NULL,  -- days: 30, 7 or 1
  email       TEXT NOT NULL,     -- the person it went to
  list        TEXT NOT NULL,     -- the list (lower case) it came from
  sent_at     INTEGER NOT NULL,
  PRIMARY KEY (fingerprint, expires_at, threshold)
) STRICT;
-- When each list's daily digest for its admins was last built (lib/digest),
-- whether or not it had anything to send.
CREATE TABLE admin_digests (
  list     TEXT PRIMARY KEY NOT NULL,  -- list address, lower case
  built_at INTEGER NOT NULL,           -- Unix time
  letters  INTEGER NOT NULL            -- letters queued then (0: nothing to report)
) STRICT;
)sql"},
    {10, "outbox: a message's open copies found by index (fan-out to 10,000)",
     R"sql(
-- After each delivery the outbox asks whether the message still has an
-- open copy (lib/queue/outbox.cc drop_ciphertext_when_final). With an
-- index on the message alone that read every finished copy's row first:
-- quadratic, 9 s of CPU for a posting to 10,000 members. With the state
-- in the index it is three index seeks; the old index is its prefix.
CREATE INDEX outbox_copies_by_message_state ON outbox_copies (message, state);
DROP INDEX outbox_copies_by_message;
)sql"},
};

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

}  // namespace tlpmail::store
