/* dovecot-ipallow: the Dovecot 2.4 settings module. Dovecot's config
   process loads every module in <moduledir>/settings and adds the
   settings tables it exports as <module name>_set_infos, so that
   doveconf accepts ipallow_policy and passes it to the auth and mail
   processes. */

#include "lib.h"
#include "settings-parser.h"
#include "ipallow-settings.h"

extern const struct setting_parser_info *ipallow_settings_set_infos[];
const struct setting_parser_info *ipallow_settings_set_infos[] = {
	&ipallow_setting_parser_info,
	NULL
};

extern const char *ipallow_settings_version;
const char *ipallow_settings_version = DOVECOT_ABI_VERSION;
