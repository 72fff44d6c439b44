/* cli.h - subcommand entry points; each returns the process exit status
 * (0 success, 1 findings/failed tests, 2 usage or configuration error). */
#ifndef HM_CLI_H
#define HM_CLI_H

int hm_cmd_run(int argc, char **argv);
int hm_cmd_decoders(int argc, char **argv);
int hm_cmd_rules(int argc, char **argv);
int hm_cmd_devbroker(int argc, char **argv);
int hm_cmd_forward(int argc, char **argv);
int hm_cmd_incidents(int argc, char **argv);
const char *hm_allocator_name(void);
/* Default folder of a shipped data dir ("rules/mappings") next to the binary:
 * <exe>/../rules/mappings, falling back to ./rules/mappings. Caller frees. */
char *hm_default_data_dir(const char *rel);

#endif
