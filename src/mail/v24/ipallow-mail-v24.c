/* dovecot-ipallow: what the mail plugin reads from Dovecot 2.4. */

#include "lib.h"
#include "settings.h"
#include "mail-user.h"
#include "mail-storage-service.h"
#include "ipallow-mail-compat.h"
#include "ipallow-settings.h"

#include "ipallow-policy.h"

const char *ipallow_mail_session_service(struct mail_user *user)
{
	const struct mail_storage_service_input *input;

	if (user->service_user != NULL) {
		input = mail_storage_service_user_get_input(user->service_user);
		if (input->protocol != NULL && input->protocol[0] != '\0')
			return input->protocol;
		if (input->service != NULL && input->service[0] != '\0')
			return input->service;
	}
	return user->protocol != NULL && user->protocol[0] != '\0' ?
		user->protocol : user->service;
}

int ipallow_mail_policy_path(struct mail_user *user, const char **path_r,
			     const char **error_r)
{
	const struct ipallow_settings *set;
	const char *error;

	/* ipallow_policy: global, or in a protocol { } filter */
	if (settings_get(user->event, &ipallow_setting_parser_info, 0,
			 &set, &error) < 0) {
		*error_r = t_strdup_printf("ipallow_policy: %s", error);
		return -1;
	}
	/* The setting always has a value; its default is the built-in
	   path, which may be missing. Any other value was configured. */
	*path_r = strcmp(set->ipallow_policy, IPALLOW_POLICY_DEFAULT_PATH) == 0 ?
		"" : t_strdup(set->ipallow_policy);
	settings_free(set);
	return 0;
}
