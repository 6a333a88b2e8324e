/* dovecot-ipallow: what the mail plugin reads from Dovecot 2.3. */

#include "lib.h"
#include "mail-user.h"
#include "mail-storage-service.h"
#include "ipallow-mail-compat.h"

#include "ipallow-policy.h"

#define IPALLOW_POLICY_SETTING "ipallow_policy"

const char *ipallow_mail_session_service(struct mail_user *user)
{
	const struct mail_storage_service_input *input;

	if (user->_service_user != NULL) {
		input = mail_storage_service_user_get_input(user->_service_user);
		if (input->service != NULL && input->service[0] != '\0')
			return input->service;
	}
	return user->service;
}

int ipallow_mail_policy_path(struct mail_user *user, const char **path_r,
			     const char **error_r ATTR_UNUSED)
{
	const char *path;

	/* plugin { ipallow_policy = ... } */
	path = mail_user_plugin_getenv(user, IPALLOW_POLICY_SETTING);
	*path_r = path == NULL ? "" : path;
	return 0;
}
