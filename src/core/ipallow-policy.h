#ifndef IPALLOW_POLICY_H
#define IPALLOW_POLICY_H

#include "ipallow-list.h"
#include "ipallow-set.h"

enum ipallow_mode {
	IPALLOW_MODE_ENFORCE,
	IPALLOW_MODE_REPORT,
};
enum ipallow_unknown_ip {
	IPALLOW_UNKNOWN_IP_EXEMPT,
	IPALLOW_UNKNOWN_IP_DENY,
};
enum ipallow_on_invalid {
	IPALLOW_ON_INVALID_DENY,
	IPALLOW_ON_INVALID_SKIP,
};

#define IPALLOW_POLICY_DEFAULT_PATH "/etc/dovecot/ipallow.yaml"
#define IPALLOW_DEFAULT_FIELD "allow_nets"
/* field: (and so every list's field) is a name of at most this many
   letters, digits, '_' and '-'. */
#define IPALLOW_FIELD_NAME_MAX 64
#define IPALLOW_DEFAULT_REJECT_REASON \
	"Login from this network is not allowed for this mailbox."
/* A policy file larger than this is refused. */
#define IPALLOW_POLICY_MAX_BYTES (1024 * 1024)

struct ipallow_geoip;

/* One domains: entry (SPEC 9.4): the list of every mailbox of a domain
   that has none of its own. domain "*" is the default for all others. */
struct ipallow_domain_list {
	char *domain;		/* as written in the policy */
	char *text;		/* the list, validated at load */
	size_t line, column;	/* of the value, for messages */
};

/* A loaded policy (SPEC §5): configuration only, read-only once loaded
   (everything after the loader takes it const). What changes while
   logins are checked, the cache of compiled lists, lives in a checker
   (ipallow_checker_create() in ipallow-decide.h), one per process. */
struct ipallow_policy {
	char *path;		/* NULL for built-in defaults */
	bool file_missing;	/* path did not exist: defaults in use */

	char *field;
	enum ipallow_mode mode;
	char *reject_reason;
	enum ipallow_unknown_ip unknown_ip;
	enum ipallow_on_invalid on_invalid;

	struct ipallow_list_limits limits;
	/* sets:, in the order written; lists refer to them by "@name" */
	struct ipallow_set **sets;
	unsigned int sets_count;

	struct ipallow_radix *exempt_networks;
	char **exempt_services;
	unsigned int exempt_services_count;

	/* password_change: (SPEC 9.5) who still gets in when the mailbox is
	   marked: real peers (the webmail hosts) and services. Empty by
	   default. */
	struct ipallow_radix *password_change_exempt_peers;
	char **password_change_exempt_services;
	unsigned int password_change_exempt_services_count;

	/* domains: defaults, "*" included */
	struct ipallow_domain_list *domains;
	unsigned int domains_count;

	/* geoip: the configured paths (NULL: not configured) and the
	   databases, opened with the policy; NULL when neither is set. */
	char *country_db;
	char *asn_db;
	struct ipallow_geoip *geoip;
};

/* For the loader (ipallow-policy-load.c): a policy holding the default
   values, nothing compiled yet (no exempt networks or sets), or
   NULL when out of memory. Everyone else wants ipallow_policy_defaults(). */
struct ipallow_policy *ipallow_policy_new(void);

/* Policy with every default. Returns 0, or -1 when out of memory. */
int ipallow_policy_defaults(struct ipallow_policy **policy_r);

/* Loads a policy file. A missing file (ENOENT) gives the defaults with
   file_missing set. Returns 0 and sets *policy_r, or -1 and sets *error_r
   to a malloc()ed "file:line:column: message" (NULL when out of memory);
   never a partial policy. Relative set file paths are resolved against
   the policy file's directory. */
int ipallow_policy_load(const char *path, struct ipallow_policy **policy_r,
			char **error_r);
/* How ipallow_policy_load_path() treats a missing file. */
enum ipallow_policy_load_flags {
	/* The operator named this path (passdb args, the mail plugin's
	   ipallow_policy): a missing file is a load error like an
	   unreadable one (SPEC §9.1), never the defaults. */
	IPALLOW_POLICY_LOAD_MISSING_IS_ERROR = 0x01,
};
/* ipallow_policy_load() with flags. */
int ipallow_policy_load_flags(const char *path, unsigned int flags,
			      struct ipallow_policy **policy_r,
			      char **error_r);
/* What every adapter calls: configured_path is the path the operator
   set, or NULL (or "") for none. None loads IPALLOW_POLICY_DEFAULT_PATH,
   which may be missing (defaults, file_missing set); a configured path
   must exist and be readable. *path_r is the path actually used. */
int ipallow_policy_load_path(const char *configured_path,
			     const char **path_r,
			     struct ipallow_policy **policy_r,
			     char **error_r);
/* The same over YAML bytes (for tests and fuzzing); name is used in
   messages and as the base for relative set paths. */
int ipallow_policy_load_buffer(const unsigned char *data, size_t size,
			       const char *name,
			       struct ipallow_policy **policy_r,
			       char **error_r);

bool ipallow_policy_service_exempt(const struct ipallow_policy *policy,
				   const char *service);
/* A marked mailbox still gets in: service in
   password_change.exempt_services, or peer (the connection's real peer;
   family NONE: unknown) in password_change.exempt_peers. */
bool ipallow_policy_password_change_exempt(const struct ipallow_policy *policy,
					   const char *service,
					   const struct ipallow_addr *peer);
const struct ipallow_set *
ipallow_policy_find_set(const struct ipallow_policy *policy, const char *name);

/* The domains: entry for domain (compared without regard to case), "*"
   included, or NULL. */
const struct ipallow_domain_list *
ipallow_policy_find_domain(const struct ipallow_policy *policy,
			   const char *domain);

/* What a list is parsed against under this policy: its limits, its sets
   and which databases it has. The context points into the policy. */
void ipallow_policy_parse_ctx(const struct ipallow_policy *policy,
			      struct ipallow_parse_ctx *ctx_r);

/* Replaces the policy's databases with geoip (taken over; may be NULL),
   for tests and fuzzers that play the databases. Part of building a
   policy: call it before any checker is made from the policy. */
void ipallow_policy_set_geoip(struct ipallow_policy *policy,
			      struct ipallow_geoip *geoip);

const char *ipallow_mode_to_string(enum ipallow_mode mode);
const char *ipallow_unknown_ip_to_string(enum ipallow_unknown_ip value);
const char *ipallow_on_invalid_to_string(enum ipallow_on_invalid value);

void ipallow_policy_free(struct ipallow_policy **policy);

#endif
