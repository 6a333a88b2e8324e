/* Separators, names and escaping (see ipallow-text.h). */
#include "config.h"
#include "ipallow-text.h"

#include <stdio.h>
#include <string.h>

const bool ipallow_separator_table[256] = {
	[','] = true, [' '] = true, ['\t'] = true, ['\n'] = true,
	['\r'] = true, ['\v'] = true, ['\f'] = true,
};

bool ipallow_text_is_blank(const char *text)
{
	for (; *text != '\0'; text++) {
		if (!ipallow_text_is_separator(*text))
			return false;
	}
	return true;
}

bool ipallow_text_is_name(const char *s, size_t len, bool allow_dot)
{
	size_t i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		      (allow_dot && c == '.')))
			return false;
	}
	return true;
}

static void escape_text(const char *text, size_t len, char *buf,
			size_t bufsize, bool escape_space)
{
	size_t i, pos = 0;

	if (bufsize == 0)
		return;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		bool plain = c >= 0x20 && c < 0x7f && c != '"' && c != '\\' &&
			!(escape_space && c == ' ');
		size_t need = plain ? 1 : 4;

		if (pos + need > IPALLOW_DIAG_TEXT_MAX ||
		    pos + need + 4 > bufsize) {
			if (pos + 4 <= bufsize) {
				memcpy(buf + pos, "...", 3);
				pos += 3;
			}
			break;
		}
		if (plain)
			buf[pos++] = (char)c;
		else
			pos += (size_t)snprintf(buf + pos, bufsize - pos,
						"\\x%02x", c);
	}
	buf[pos] = '\0';
}

void ipallow_escape_text(const char *text, size_t len, char *buf,
			 size_t bufsize)
{
	escape_text(text, len, buf, bufsize, false);
}

void ipallow_escape_field(const char *text, size_t len, char *buf,
			  size_t bufsize)
{
	escape_text(text, len, buf, bufsize, true);
}
