/* sandbox.h - what a forked image job may still do.
 *
 * In fork isolation every job runs in a child that, before it looks at the
 * input, sets no_new_privs, resource limits (address space, CPU time, file
 * size, no core files), a seccomp filter that makes execve, sockets, ptrace
 * and other escape hatches fail with EPERM, and - where the kernel has
 * Landlock - file-system rules: read the input directory, write the output
 * and temp directories, nothing else. The parent probes once at start-up
 * which of these the kernel offers and logs it. The forbidden-environment
 * check (the image worker holds no secrets) lives here too.
 */
#ifndef DRUDGE_IMAGE_SANDBOX_H
#define DRUDGE_IMAGE_SANDBOX_H

#include <stddef.h>

#define IMAGE_SANDBOX_PATHS 8

typedef struct image_sandbox_caps {
    int seccomp;         /* seccomp filters available */
    int landlock_abi;    /* 0 = no Landlock */
    int rlimit_as;       /* 0 under AddressSanitizer (its shadow memory needs terabytes) */
    char landlock_why[64]; /* why not, when landlock_abi is 0 */
} image_sandbox_caps;

typedef struct image_sandbox_spec {
    const char *read_paths[IMAGE_SANDBOX_PATHS];  /* directories or files: read only */
    size_t nread;
    const char *write_dirs[IMAGE_SANDBOX_PATHS];  /* read, create, write, remove beneath */
    size_t nwrite;
    unsigned long long as_bytes;    /* RLIMIT_AS; 0 = leave as is */
    unsigned long cpu_seconds;      /* RLIMIT_CPU; 0 = leave as is */
    unsigned long long fsize_bytes; /* RLIMIT_FSIZE; 0 = leave as is */
} image_sandbox_spec;

/* What this kernel offers. Cheap; call once at start-up. */
void image_sandbox_probe(image_sandbox_caps *caps);

/* "no_new_privs rlimits(as,cpu,fsize,core) seccomp landlock(abi 7)" for
 * logs and --version. */
void image_sandbox_describe(const image_sandbox_caps *caps, char *buf, size_t cap);

/* The syscalls the filter refuses, comma-separated (for logs). */
const char *image_sandbox_denied(void);

/* Apply spec to this process (irreversible: call in the job's child).
 * Paths that do not exist are skipped. 0, or -1 with the reason in why. */
int image_sandbox_apply(const image_sandbox_caps *caps, const image_sandbox_spec *spec, char *why,
                        size_t whycap);

/* 1 if a variable of envp (NAME=value strings) has a name matching one of
 * the fnmatch patterns (case-insensitive): its name goes into name (cut to
 * namecap) and the pattern into *pattern. 0 if none. Pure. */
int image_env_forbidden(char *const *envp, char *const *patterns, size_t npatterns, char *name,
                        size_t namecap, const char **pattern);

#endif
