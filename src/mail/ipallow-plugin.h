#ifndef IPALLOW_PLUGIN_H
#define IPALLOW_PLUGIN_H

struct module;

extern const char *ipallow_plugin_version;

void ipallow_plugin_init(struct module *module);
void ipallow_plugin_deinit(void);

#endif
