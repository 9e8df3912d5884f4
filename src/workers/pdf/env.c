/* env.c - drudge-pdf holds no secrets. A browser that renders pages from the
 * internet is the most exposed process on the box, so the worker refuses to
 * start when its environment carries anything that looks like a credential
 * (the same rule as drudge-image: DRUDGE_REDIS_PASSWORD included - put a
 * Redis password in redis.url instead); Chromium itself gets a minimal
 * environment built in browser.c, never the worker's. */
#include "pdf.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const secret_words[] = {"PASSWORD", "SECRET", "TOKEN", "KEY"};

static int name_has_word(const char *name, size_t len, const char *word)
{
    size_t wl = strlen(word);
    for (size_t i = 0; i + wl <= len; i++)
        if (strncasecmp(name + i, word, wl) == 0)
            return 1;
    return 0;
}

int pdf_env_find_secret(char *const *envp, char *name_out, size_t cap)
{
    for (size_t i = 0; envp != NULL && envp[i] != NULL; i++) {
        const char *eq = strchr(envp[i], '=');
        size_t len = eq ? (size_t)(eq - envp[i]) : strlen(envp[i]);
        for (size_t w = 0; w < sizeof secret_words / sizeof secret_words[0]; w++) {
            if (name_has_word(envp[i], len, secret_words[w])) {
                if (cap > 0)
                    snprintf(name_out, cap, "%.*s", (int)len, envp[i]);
                return 1;
            }
        }
    }
    return 0;
}
