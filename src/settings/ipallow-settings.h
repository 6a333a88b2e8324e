#ifndef IPALLOW_SETTINGS_H
#define IPALLOW_SETTINGS_H

/* Dovecot 2.4: the plugin's own settings. Every setting must be declared
   to Dovecot's config process, which loads the settings module
   libipallow_settings.so from <moduledir>/settings and finds this table
   through ipallow_settings_set_infos; the passdb driver and the mail
   plugin read the values with settings_get(). */

struct ipallow_settings {
	pool_t pool;
	/* Policy file; a global setting that filters may override:
	   protocol imap { }, passdb ipallow { }. */
	const char *ipallow_policy;
	/* "fatal" (default) or "warn": what a misplaced passdb chain does
	   to the auth process (warn: tests and migrations only). */
	const char *ipallow_placement_check;
};

extern const struct setting_parser_info ipallow_setting_parser_info;

#endif
