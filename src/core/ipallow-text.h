#ifndef IPALLOW_TEXT_H
#define IPALLOW_TEXT_H

/* Text rules shared by the list parser, the set files, the policy and
   the messages: what separates list entries, what a name may contain,
   and how foreign text is escaped before anyone reads it. */

#include <stdbool.h>
#include <stddef.h>

/* The longest piece of foreign text (an entry, a user name) that a
   diagnostic or a log line shows; longer text is cut, "..." appended. */
#define IPALLOW_DIAG_TEXT_MAX 64
/* Enough for any text ipallow_escape_text() or ipallow_escape_field()
   writes: IPALLOW_DIAG_TEXT_MAX bytes, "..." and the NUL. */
#define IPALLOW_ESCAPED_STRLEN (IPALLOW_DIAG_TEXT_MAX + 4)

/* 1 for the bytes that separate list entries: ',' and white space
   (' ', '\t', '\n', '\r', '\v', '\f'). A table, because the entry
   splitting loops test every byte of a list. */
extern const bool ipallow_separator_table[256];

static inline bool ipallow_text_is_separator(char c)
{
	return ipallow_separator_table[(unsigned char)c];
}

/* True if text (NUL-terminated) holds no entry: only separators, or
   nothing at all. */
bool ipallow_text_is_blank(const char *text);

/* True if s[0..len) is a non-empty name of letters, digits, '_' and '-',
   and also '.' when allow_dot. */
bool ipallow_text_is_name(const char *s, size_t len, bool allow_dot);

/* Escapes text[0..len) for a log line or diagnostic: bytes outside
   printable ASCII, '"' and '\\' become \xNN; the result is cut at
   IPALLOW_DIAG_TEXT_MAX bytes with "..." appended. buf always ends with
   a NUL (bufsize > 0); IPALLOW_ESCAPED_STRLEN bytes never cut early. */
void ipallow_escape_text(const char *text, size_t len, char *buf,
			 size_t bufsize);
/* The same, escaping spaces as well (for key=value fields in log lines). */
void ipallow_escape_field(const char *text, size_t len, char *buf,
			  size_t bufsize);

#endif
