/* The daemons' settings parser (config.c) over any command line and
 * environment: an input is NUL-separated words; "NAME=value" words are
 * the environment, the others argv. Every outcome leaves a config that
 * rt_config_free releases, an error says what is wrong, and a config that
 * parses has addresses that are host:port. */
#include "config.h"
#include "fuzz_input.h"

#define MAX_WORDS 16

static char *env_words[MAX_WORDS];
static size_t n_env;

static const char *lookup(const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < n_env; i++)
        if (strncmp(env_words[i], name, len) == 0 && env_words[i][len] == '=')
            return env_words[i] + len + 1;
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *argv[MAX_WORDS + 1] = {"wallet-service"};
    int argc = 1;
    n_env = 0;
    while (size > 0 && argc + n_env < MAX_WORDS) {
        char *word = fuzz_take(&data, &size, '\0');
        const char *eq = strchr(word, '=');
        if (word[0] >= 'A' && word[0] <= 'Z' && eq)
            env_words[n_env++] = word;
        else
            argv[argc++] = word;
    }
    argv[argc] = NULL;
    rt_config config;
    char error[512] = "";
    rt_config_outcome outcome =
        rt_config_parse(&config, &wallet_service__service, argc, argv, lookup, error, sizeof error);
    if (outcome == RT_CONFIG_ERROR && !error[0])
        abort();
    if (outcome == RT_CONFIG_RUN) {
        if (!rt_config_valid_address(config.listen) || !config.database_url || !*config.database_url)
            abort();
        for (size_t i = 0; i < config.n_peers; i++)
            if (!config.peer_addresses[i] || !*config.peer_addresses[i])
                abort();
    }
    rt_config_free(&config);
    for (int i = 1; i < argc; i++)
        free(argv[i]);
    for (size_t i = 0; i < n_env; i++)
        free(env_words[i]);
    return 0;
}
