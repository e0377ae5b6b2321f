/* main.c - the minicluster command line (placeholder until the subcommands land). */
#include <stdio.h>
#include <string.h>

#include "mc_config.h"

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("minicluster %s\n", MC_VERSION);
        return 0;
    }
    fprintf(stderr, "usage: minicluster --help\n");
    return 2;
}
