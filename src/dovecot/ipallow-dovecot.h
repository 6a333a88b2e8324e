#ifndef IPALLOW_DOVECOT_H
#define IPALLOW_DOVECOT_H

/* What the two Dovecot adapters (the passdb driver and the mail plugin)
   share: turning Dovecot's address into the core's, and logging one
   decision with its event, so that a login and a session are reported in
   the same words. Needs lib.h (and so Dovecot's headers) before it. */

#include "ipallow-message.h"

struct ip_addr;
struct event;

#define IPALLOW_EVENT_NAME "ipallow_check_finished"
#define IPALLOW_LOG_PREFIX "ipallow: "

/* Converts Dovecot's address; NULL or family 0 is "unknown". Returns FALSE
   for a family the core does not know (the caller fails closed). */
bool ipallow_addr_from_dovecot(const struct ip_addr *ip,
			       struct ipallow_addr *addr_r);

/* Logs the decision on event and emits ipallow_check_finished (fields
   result, rule, service) from it: the invalid-list line as a warning, deny
   and report at info, allow/exempt/unrestricted at debug, a policy that
   did not load (load_error says why) and internal errors as errors.
   suffix is appended to the decision line. policy may be NULL. */
void ipallow_dovecot_log(struct event *event,
			 const struct ipallow_policy *policy,
			 const char *load_error,
			 const struct ipallow_log_ctx *ctx,
			 const struct ipallow_decision *dec,
			 const char *suffix);

#endif
