#ifndef IPALLOW_MAIL_COMPAT_H
#define IPALLOW_MAIL_COMPAT_H

/* What the mail plugin reads differently on each Dovecot version:
   v23/ipallow-mail-v23.c, v24/ipallow-mail-v24.c. */

struct mail_user;

/* The service as the auth process saw it in the userdb lookup ("sieve"
   for ManageSieve, as at login time), else the process's service name. */
const char *ipallow_mail_session_service(struct mail_user *user);

/* The policy path the operator configured for this session: the
   ipallow_policy setting (2.3: plugin { }, 2.4: a global setting), or ""
   when none is, so that the built-in default path applies, which alone
   may be missing (SPEC 9.1). Returns -1 with error_r when the setting
   cannot be read. */
int ipallow_mail_policy_path(struct mail_user *user, const char **path_r,
			     const char **error_r);

#endif
