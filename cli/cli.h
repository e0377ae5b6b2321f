/* cli.h - the subcommands of the minicluster command line (cli/main.c's table). */
#ifndef CLI_H
#define CLI_H

int cli_run(int argc, char **argv);
int cli_compare(int argc, char **argv);
int cli_check(int argc, char **argv);

#endif
