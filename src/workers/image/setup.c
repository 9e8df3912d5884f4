/* setup.c - drudge-image's process set-up: at start-up the checks (no
 * secrets in the environment), the directories, this worker's temp root,
 * ImageMagick (magick.c) and the sandbox probe; in each job's child the
 * clean-up of earlier children's temp dirs, a scrubbed environment and the
 * sandbox (sandbox.c) with this worker's paths and limits. */
#include "image.h"

#include "confine.h"
#include "tmpdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

#define MIB (1024ULL * 1024ULL)
#define TEMP_PREFIX "drudge-image."

/* Absolute form of a configured directory; output_dir is created if missing. */
static int resolve_dir(const char *key, const char *dir, int create, char *out, size_t cap,
                       char *why, size_t whycap)
{
    char buf[PATH_MAX];
    if (create && confine_make_dirs(dir) < 0) {
        snprintf(why, whycap, "image.%s \"%s\": cannot create it: %s", key, dir, strerror(errno));
        return -1;
    }
    if (realpath(dir, buf) == NULL) {
        if (errno == ENOENT && !create) {
            /* jobs fail with a clear error until it exists */
            drudge_log(DRUDGE_LOG_WARN, "image_dir_missing", "key=%s dir=%s", key, dir);
            snprintf(out, cap, "%s", dir);
            return 0;
        }
        snprintf(why, whycap, "image.%s \"%s\": %s", key, dir, strerror(errno));
        return -1;
    }
    snprintf(out, cap, "%s", buf);
    return 0;
}

/* Temp roots of workers that died without cleaning up (pid gone). */
static void sweep_dead_roots(const char *base)
{
    DIR *d = opendir(base);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, TEMP_PREFIX, sizeof TEMP_PREFIX - 1) != 0)
            continue;
        char *end;
        errno = 0;
        long pid = strtol(e->d_name + sizeof TEMP_PREFIX - 1, &end, 10);
        struct stat st;
        if (errno != 0 || *end != '\0' || pid <= 0 || pid == (long)getpid() ||
            fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode) ||
            st.st_uid != getuid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", base, e->d_name) < (int)sizeof path)
            image_remove_tree(path);
    }
    closedir(d);
}

static int make_temp_root(image_worker *w, char *why, size_t whycap)
{
    const char *base = w->cfg->image_temp_dir;
    if (base == NULL || *base == '\0')
        base = getenv("TMPDIR");
    if (base == NULL || *base == '\0')
        base = "/tmp";
    char abs[PATH_MAX];
    if (realpath(base, abs) == NULL) {
        snprintf(why, whycap, "image.temp_dir \"%s\": %s", base, strerror(errno));
        return -1;
    }
    sweep_dead_roots(abs);
    if (snprintf(w->temp_root, sizeof w->temp_root, "%s/" TEMP_PREFIX "%d", abs, (int)getpid()) >=
        (int)sizeof w->temp_root) {
        snprintf(why, whycap, "image.temp_dir \"%s\": path too long", abs);
        return -1;
    }
    image_remove_tree(w->temp_root); /* a previous process with our pid */
    if (mkdir(w->temp_root, 0700) < 0) {
        snprintf(why, whycap, "cannot create \"%s\": %s", w->temp_root, strerror(errno));
        return -1;
    }
    return 0;
}

int image_setup_start(image_worker *w, const drudge_config *cfg)
{
    char why[IMAGE_WHY_MAX], name[128], sandbox[160];
    const char *pattern;
    w->cfg = cfg;
    /* the image worker needs no secrets, so it must not be handed any */
    if (image_env_forbidden(environ, cfg->image_forbidden_env, cfg->image_nforbidden_env, name,
                            sizeof name, &pattern)) {
        drudge_log(DRUDGE_LOG_ERROR, "start_failed",
                   "error=\"environment variable %s matches image.forbidden_env pattern %s: "
                   "drudge-image holds no secrets; remove it from its environment (give a Redis "
                   "password in redis.url of its config file)\"",
                   name, pattern);
        return -1;
    }
    if (resolve_dir("input_dir", cfg->image_input_dir, 0, w->input_dir, sizeof w->input_dir, why,
                    sizeof why) < 0 ||
        resolve_dir("output_dir", cfg->image_output_dir, 1, w->output_dir, sizeof w->output_dir,
                    why, sizeof why) < 0 ||
        make_temp_root(w, why, sizeof why) < 0 || image_magick_start(w, why, sizeof why) < 0) {
        drudge_log(DRUDGE_LOG_ERROR, "start_failed", "error=%s", why);
        if (w->temp_root[0])
            image_remove_tree(w->temp_root);
        return -1;
    }
    /* hand the warm-up's freed memory back: a job child writing into the
     * parent's free heap pages pays a copy-on-write fault for each */
    malloc_trim(0);
    image_sandbox_probe(&w->caps);
    image_sandbox_describe(&w->caps, sandbox, sizeof sandbox);
    drudge_log(DRUDGE_LOG_INFO, "image_start",
               "input_dir=%s output_dir=%s temp=%s threads=%ld sandbox=%s seccomp_denies=%s",
               w->input_dir, w->output_dir, w->temp_root, cfg->image_threads, sandbox,
               w->caps.seccomp ? image_sandbox_denied() : "-");
    return 0;
}

/* ---- a job's child ---- */

/* Wipe the environment's values (a decoder exploit could read them from
 * memory or /proc/self/environ) and drop the variables. */
static void scrub_environment(void)
{
    for (char **e = environ; e != NULL && *e != NULL; e++) {
        char *eq = strchr(*e, '=');
        if (eq != NULL)
            memset(eq + 1, 0, strlen(eq + 1));
    }
    clearenv();
}

/* Size of this process's address space now (bytes), from /proc. */
static unsigned long long vm_size(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long pages = 0;
    if (f != NULL) {
        if (fscanf(f, "%llu", &pages) != 1)
            pages = 0;
        fclose(f);
    }
    return pages * (unsigned long long)sysconf(_SC_PAGESIZE);
}

int image_setup_child(image_worker *w)
{
    const drudge_config *cfg = w->cfg;
    char why[IMAGE_WHY_MAX];
    w->in_child = 1;
    /* temp dirs of earlier children that were killed (timeout, crash) */
    DIR *d = opendir(w->temp_root);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            char path[PATH_MAX];
            if (e->d_name[0] != '.' &&
                snprintf(path, sizeof path, "%s/%s", w->temp_root, e->d_name) < (int)sizeof path)
                image_remove_tree(path);
        }
        closedir(d);
    }
    scrub_environment();
    image_sandbox_spec spec = {
        /* ImageMagick seeds its random numbers (dither, temp names) here */
        .read_paths = {w->input_dir, cfg->image_font, "/dev/urandom"},
        .nread = 3,
        .write_dirs = {w->output_dir, w->temp_root},
        .nwrite = 2,
        /* what is mapped now, the pixel cache in memory and maps, the input
         * and its decoded copies, and headroom for coders (GIF's quantizer
         * alone takes ~130 MiB) */
        .as_bytes = vm_size() + ((unsigned long long)cfg->image_limit_memory +
                                 (unsigned long long)cfg->image_limit_map +
                                 2ULL * (unsigned long long)cfg->image_limit_input + 512ULL) *
                                    MIB,
        .cpu_seconds = (unsigned long)cfg->image_limit_time + 10,
        .fsize_bytes = (unsigned long long)cfg->image_limit_disk * MIB,
    };
    if (image_sandbox_apply(&w->caps, &spec, why, sizeof why) < 0) {
        drudge_log(DRUDGE_LOG_ERROR, "image_sandbox_failed", "error=%s", why);
        return -1;
    }
    return 0;
}

void image_setup_stop(image_worker *w)
{
    if (w->in_child)
        return;
    image_magick_stop();
    if (w->temp_root[0])
        image_remove_tree(w->temp_root);
}
