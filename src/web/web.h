/* web.h - what the drudge CLI (src/cli/main.c) calls in src/web: the
 * `drudge web` and `drudge capacity` commands (command.c). */
#ifndef DRUDGE_WEB_H
#define DRUDGE_WEB_H

#include "../cli/cli.h"

int cli_cmd_web(cli *app, int argc, char **argv);
int cli_cmd_capacity(cli *app, int argc, char **argv);

#endif
