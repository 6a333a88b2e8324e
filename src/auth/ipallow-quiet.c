/* dovecot-ipallow: the log-rate limit of the passdb's silent denials
   (issue 10); see passdb-ipallow.h. */

#include "auth-common.h"
#include "hash.h"
#include "ioloop.h"
#include "passdb-ipallow.h"
#include "ipallow-auth-compat.h"

/* Log flooding (issue 10): a denial of a credentials lookup (CRAM-MD5,
   SCRAM, ...) happens before any password check, so anyone who knows a
   restricted user name could write one line per attempt. Such lines are
   written once per (user, client IP) per IPALLOW_QUIET_SECS; the ones in
   between go at debug level (auth_debug, a log_debug filter) and are
   counted, and the next line written for that pair
   says how many there were. A small direct-mapped table: a pair pushed
   out by another one only logs again sooner. */
#define IPALLOW_QUIET_SECS 60
#define IPALLOW_QUIET_SLOTS 256

struct passdb_ipallow_quiet_slot {
	char *key;		/* "user\nip", NULL when free */
	time_t since;		/* when the last line was written */
	unsigned int suppressed;
};
static struct passdb_ipallow_quiet_slot
	passdb_ipallow_quiet[IPALLOW_QUIET_SLOTS];

bool passdb_ipallow_quiet_check(const struct ipallow_login *login,
				const char **note_r)
{
	struct passdb_ipallow_quiet_slot *slot;
	char ip[IPALLOW_ADDR_STRLEN];
	const char *key;

	*note_r = "";
	key = t_strdup_printf("%s\n%s", login->user == NULL ? "" : login->user,
			      ipallow_addr_to_str(&login->client_ip, ip));
	slot = &passdb_ipallow_quiet[str_hash(key) % IPALLOW_QUIET_SLOTS];
	if (slot->key != NULL && strcmp(slot->key, key) == 0 &&
	    ioloop_time - slot->since < IPALLOW_QUIET_SECS &&
	    ioloop_time >= slot->since) {
		slot->suppressed++;
		return TRUE;
	}
	if (slot->key != NULL && strcmp(slot->key, key) == 0 &&
	    slot->suppressed > 0) {
		*note_r = t_strdup_printf(" [%u more such lines for this "
			"user and address in %d s were not logged]",
			slot->suppressed,
			(int)(ioloop_time - slot->since));
	}
	i_free(slot->key);
	slot->key = i_strdup(key);
	slot->since = ioloop_time;
	slot->suppressed = 0;
	return FALSE;
}

/* A line kept quiet: at debug level, so written only where debug lines
   are (auth_debug, a log_debug filter); the event still reaches
   metrics. */
void passdb_ipallow_log_quiet(struct auth_request *request,
			      const struct ipallow_login *login,
			      const struct ipallow_decision *dec,
			      const char *note)
{
	char line[IPALLOW_MESSAGE_MAX];
	struct event_passthrough *e;
	struct event *event = ipallow_request_event(request);

	e = ipallow_dovecot_event(event, login, dec);
	(void)ipallow_message_decision(dec, login, line, sizeof(line));
	e_debug(e->event(), IPALLOW_LOG_PREFIX"%s%s [not logged at info: "
		"repeated within %d s]", line, note, IPALLOW_QUIET_SECS);
	event_unref(&event);
}

void passdb_ipallow_quiet_free(void)
{
	unsigned int i;

	for (i = 0; i < IPALLOW_QUIET_SLOTS; i++)
		i_free(passdb_ipallow_quiet[i].key);
}
