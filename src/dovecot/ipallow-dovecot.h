#ifndef IPALLOW_DOVECOT_H
#define IPALLOW_DOVECOT_H

/* What the two Dovecot adapters (the passdb driver and the mail plugin)
   share: turning Dovecot's address into the core's, loading the policy,
   deciding, and logging one decision with its event, so that a login and
   a session are loaded, decided and reported in the same words. An
   adapter fills one struct ipallow_login, calls ipallow_dovecot_decide()
   and ipallow_dovecot_log(). Needs lib.h (and so Dovecot's headers)
   before it. */

#include "ipallow-message.h"

struct ip_addr;
struct event;
struct event_passthrough;

#define IPALLOW_EVENT_NAME "ipallow_check_finished"
#define IPALLOW_LOG_PREFIX "ipallow: "

/* Services whose mail sessions the mail plugin never checks, before any
   policy is read: they deliver or administer mail instead of serving a
   client that logged in, so a restricted mailbox still receives every
   message and operators, indexers and replication still reach it, even
   when the policy does not load. This differs from the policy's
   exempt.services, whose defaults (ipallow-policy.c) are the DAV services
   plus lmtp, lda, doveadm and indexer-worker: those are the operator's to
   change, and are checked by the passdb and the plugin alike; this list
   is not configurable, and the passdb does not use it (none of these
   services logs in through it). */
#define IPALLOW_INTERNAL_SERVICES \
	"lmtp",			/* delivery over LMTP */ \
	"lda",			/* dovecot-lda */ \
	"doveadm",		/* doveadm, doveadm-server, dsync replication */ \
	"dsync", \
	"indexer", \
	"indexer-worker",	/* FTS and cache indexing */ \
	"imap-urlauth",		/* URLAUTH fetches for an already checked */ \
	"imap-urlauth-worker",	/* imap or submission session */ \
	"quota-status",		/* Postfix policy queries */ \
	"sieve-filter",		/* Pigeonhole's administrator tools */ \
	"sieve-test"

/* Converts Dovecot's address; NULL or family 0 is "unknown". Returns FALSE
   for a family the core does not know (the caller fails closed). */
bool ipallow_addr_from_dovecot(const struct ip_addr *ip,
			       struct ipallow_addr *addr_r);

/* One policy file as a process keeps it: loaded once and kept for the
   life of the process ("doveadm reload" starts new processes, which read
   the file again), with the process's checker (its cache of compiled
   lists). A policy that did not load is kept too (policy and checker
   NULL), so that a broken file costs one error line per process; every
   login it governs is then refused. */
struct ipallow_dovecot_policy {
	char *path;			/* the file read */
	struct ipallow_policy *policy;	/* NULL: not loaded */
	struct ipallow_checker *checker;	/* NULL with policy */
	char *error;			/* why not; starts with the file name */
};

/* Loads the policy at configured_path, or at IPALLOW_POLICY_DEFAULT_PATH
   when NULL or "" (only that one may be missing: SPEC 9.1), and logs
   once: an error when it does not load (refused says what will be
   refused: "every login through the ipallow passdb"), an info line when
   the default file is missing and the built-in defaults apply. */
void ipallow_dovecot_policy_load(struct ipallow_dovecot_policy *dp,
				 const char *configured_path,
				 const char *refused);
void ipallow_dovecot_policy_free(struct ipallow_dovecot_policy *dp);

/* ipallow_check() with dp's checker; a policy that did not load denies
   with IPALLOW_RULE_NO_POLICY and dp->error as the reason. */
bool ipallow_dovecot_decide(struct ipallow_dovecot_policy *dp,
			    const struct ipallow_login *login,
			    struct ipallow_decision *dec_r);

/* Starts ipallow_check_finished on event with the fields result, rule
   and service; ipallow_dovecot_log() adds list and list_cache. */
struct event_passthrough *
ipallow_dovecot_event(struct event *event, const struct ipallow_login *login,
		      const struct ipallow_decision *dec);

/* Logs the decision on event and emits ipallow_check_finished (fields
   result, rule, service, list, list_cache) from it: the invalid-list line
   as a warning, deny and report at info, allow/exempt/unrestricted at
   debug, a policy that did not load and internal errors as errors. note
   (the adapter's words about this login, "" for none) is appended to the
   decision line. */
void ipallow_dovecot_log(struct event *event,
			 const struct ipallow_login *login,
			 const struct ipallow_decision *dec,
			 const char *note);

#endif
