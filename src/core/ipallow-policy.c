/* The policy object (SPEC §5): its defaults, the questions the decision
   asks it, and freeing it. ipallow-policy-load.c reads it from YAML. */
#include "config.h"
#include "ipallow-policy.h"
#include "ipallow-alloc.h"
#include "ipallow-geoip.h"

#include <string.h>
#include <strings.h>

static const char *const default_exempt_services[] = {
	"caldav", "carddav", "webdav", "dav", "radicale",
	"lmtp", "lda", "doveadm", "indexer-worker"
};

struct ipallow_policy *ipallow_policy_new(void)
{
	struct ipallow_policy *policy;
	unsigned int i, n = sizeof(default_exempt_services) /
		sizeof(default_exempt_services[0]);

	policy = ipallow_calloc(1, sizeof(*policy));
	if (policy == NULL)
		return NULL;
	policy->mode = IPALLOW_MODE_ENFORCE;
	policy->unknown_ip = IPALLOW_UNKNOWN_IP_EXEMPT;
	policy->on_invalid = IPALLOW_ON_INVALID_DENY;
	policy->limits.max_entries = IPALLOW_LIST_DEFAULT_MAX_ENTRIES;
	policy->limits.max_bytes = IPALLOW_LIST_DEFAULT_MAX_BYTES;
	policy->field = ipallow_strdup(IPALLOW_DEFAULT_FIELD);
	policy->reject_reason = ipallow_strdup(IPALLOW_DEFAULT_REJECT_REASON);
	policy->exempt_services = ipallow_calloc(n, sizeof(char *));
	if (policy->field == NULL || policy->reject_reason == NULL ||
	    policy->exempt_services == NULL) {
		ipallow_policy_free(&policy);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		policy->exempt_services[i] =
			ipallow_strdup(default_exempt_services[i]);
		if (policy->exempt_services[i] == NULL) {
			ipallow_policy_free(&policy);
			return NULL;
		}
		policy->exempt_services_count++;
	}
	return policy;
}

const struct ipallow_domain_list *
ipallow_policy_find_domain(const struct ipallow_policy *policy,
			   const char *domain)
{
	unsigned int i;

	for (i = 0; i < policy->domains_count; i++) {
		if (strcasecmp(policy->domains[i].domain, domain) == 0)
			return &policy->domains[i];
	}
	return NULL;
}

void ipallow_policy_parse_ctx(const struct ipallow_policy *policy,
			      struct ipallow_parse_ctx *ctx_r)
{
	memset(ctx_r, 0, sizeof(*ctx_r));
	ctx_r->limits = policy->limits;
	ctx_r->sets = policy->sets;
	ctx_r->sets_count = policy->sets_count;
	ctx_r->have_country_db = ipallow_geoip_has_country(policy->geoip);
	ctx_r->have_asn_db = ipallow_geoip_has_asn(policy->geoip);
}

void ipallow_policy_set_geoip(struct ipallow_policy *policy,
			      struct ipallow_geoip *geoip)
{
	ipallow_geoip_free(&policy->geoip);
	policy->geoip = geoip;
}

bool ipallow_policy_service_exempt(const struct ipallow_policy *policy,
				   const char *service)
{
	unsigned int i;

	if (service == NULL)
		return false;
	for (i = 0; i < policy->exempt_services_count; i++) {
		if (strcasecmp(policy->exempt_services[i], service) == 0)
			return true;
	}
	return false;
}

bool ipallow_policy_password_change_exempt(const struct ipallow_policy *policy,
					   const char *service,
					   const struct ipallow_addr *peer)
{
	unsigned int i;

	if (service != NULL) {
		for (i = 0; i < policy->password_change_exempt_services_count;
		     i++) {
			if (strcasecmp(policy->password_change_exempt_services[i],
				       service) == 0)
				return true;
		}
	}
	return peer->family != IPALLOW_FAMILY_NONE &&
		policy->password_change_exempt_peers != NULL &&
		ipallow_radix_lookup(policy->password_change_exempt_peers, peer);
}

const struct ipallow_set *
ipallow_policy_find_set(const struct ipallow_policy *policy, const char *name)
{
	unsigned int i;

	for (i = 0; i < policy->sets_count; i++) {
		if (strcmp(policy->sets[i]->name, name) == 0)
			return policy->sets[i];
	}
	return NULL;
}

const char *ipallow_mode_to_string(enum ipallow_mode mode)
{
	switch (mode) {
	case IPALLOW_MODE_ENFORCE:
		return "enforce";
	case IPALLOW_MODE_REPORT:
		return "report";
	}
	return "?";
}

const char *ipallow_unknown_ip_to_string(enum ipallow_unknown_ip value)
{
	switch (value) {
	case IPALLOW_UNKNOWN_IP_EXEMPT:
		return "exempt";
	case IPALLOW_UNKNOWN_IP_DENY:
		return "deny";
	}
	return "?";
}

const char *ipallow_on_invalid_to_string(enum ipallow_on_invalid value)
{
	switch (value) {
	case IPALLOW_ON_INVALID_DENY:
		return "deny";
	case IPALLOW_ON_INVALID_SKIP:
		return "skip";
	}
	return "?";
}

void ipallow_policy_free(struct ipallow_policy **_policy)
{
	struct ipallow_policy *policy = *_policy;
	unsigned int i;

	if (policy == NULL)
		return;
	*_policy = NULL;
	for (i = 0; i < policy->sets_count; i++)
		ipallow_set_free(&policy->sets[i]);
	ipallow_free(policy->sets);
	for (i = 0; i < policy->domains_count; i++) {
		ipallow_free(policy->domains[i].domain);
		ipallow_free(policy->domains[i].text);
	}
	ipallow_free(policy->domains);
	ipallow_geoip_free(&policy->geoip);
	ipallow_free(policy->country_db);
	ipallow_free(policy->asn_db);
	ipallow_radix_free(&policy->exempt_networks);
	ipallow_free_strings(&policy->exempt_services, &policy->exempt_services_count);
	ipallow_radix_free(&policy->password_change_exempt_peers);
	ipallow_free_strings(&policy->password_change_exempt_services,
		     &policy->password_change_exempt_services_count);
	ipallow_free(policy->reject_reason);
	ipallow_free(policy->field);
	ipallow_free(policy->path);
	ipallow_free(policy);
}
