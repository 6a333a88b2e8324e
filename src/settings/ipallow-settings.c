/* dovecot-ipallow: the Dovecot 2.4 settings (see ipallow-settings.h). */

#include "lib.h"
#include "settings-parser.h"
#include "ipallow-settings.h"

#include "ipallow-policy.h"

#undef DEF
#define DEF(type, name) \
	SETTING_DEFINE_STRUCT_##type(#name, name, struct ipallow_settings)

static const struct setting_define ipallow_setting_defines[] = {
	DEF(STR, ipallow_policy),
	DEF(ENUM, ipallow_placement_check),

	SETTING_DEFINE_LIST_END
};

static const struct ipallow_settings ipallow_default_settings = {
	.ipallow_policy = IPALLOW_POLICY_DEFAULT_PATH,
	.ipallow_placement_check = "fatal:warn",
};

const struct setting_parser_info ipallow_setting_parser_info = {
	.name = "ipallow",

	.defines = ipallow_setting_defines,
	.defaults = &ipallow_default_settings,

	.struct_size = sizeof(struct ipallow_settings),
	.pool_offset1 = 1 + offsetof(struct ipallow_settings, pool),
};
