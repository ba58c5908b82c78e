// Pieces shared by copies and notices: the list's address parts and header
// fields (From phrases, List-Id, List-Post, List-Help, Message-ID, Date),
// the protected header block, and the RFC 3156 multipart/encrypted frame.
// Internal to lib/compose; pure (random boundaries aside), thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "compose/compose.h"

namespace tlpmail::compose {

// Split at the last '@' of the cleaned address; domain "" when there is none.
std::string local_part_of(std::string_view address);
std::string domain_of(std::string_view address);
// "<local>-request@<domain>".
std::string request_address_of(std::string_view address);

// "From: \"<display>\" <address>\r\n" (phrase_tokens, always quoted or
// encoded), or just the address when the display name is empty.
std::string mailbox_field(std::string_view name, std::string_view display,
                          std::string_view address);

// "Subject: ...\r\n" from any text (cleaned here).
std::string subject_field(std::string_view subject);

// "Message-ID: <id>\r\n" (characters outside the msg-id syntax removed, so
// that a caller's mistake cannot break the header).
std::string message_id_field(std::string_view id);

// List-Id (RFC 2919: "<description> <local.domain>", description left out
// when empty), List-Post, List-Help.
std::string list_id_field(const ListFacts& l);
std::string list_post_field(const ListFacts& l);
std::string list_help_field(const ListFacts& l);

// The multipart/encrypted frame around header fields (MIME-Version and
// Content-Type are added here): head ends where the armor starts.
Frame encrypted_frame(std::string header_fields);

}  // namespace tlpmail::compose
