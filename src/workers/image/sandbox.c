/* sandbox.c - no_new_privs, rlimits, a hand-written seccomp filter and
 * Landlock rules for the child that runs one image job; the probe that says
 * which of them this kernel has; the forbidden-environment check. What the
 * child may read and write is chosen by main.c. */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define IMAGE_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define IMAGE_UNDER_ASAN 1
#endif
#endif

/* Landlock rights newer than Debian 12's kernel headers. */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif

#if defined(__x86_64__)
#define SECCOMP_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SECCOMP_ARCH AUDIT_ARCH_AARCH64
#endif

/* ---- seccomp ---- */

typedef struct denied_syscall {
    const char *name;
    long nr;
} denied_syscall;

#define DENY(s) {#s, __NR_##s}

/* Running programs, talking to the network or to other processes, and
 * kernel features no image decoder needs. Each fails with EPERM, so a
 * delegate ImageMagick might try fails as a job error, not a crash. */
static const denied_syscall denied[] = {
    DENY(execve),
    DENY(execveat),
    DENY(socket),
    DENY(socketpair),
    DENY(connect),
    DENY(bind),
    DENY(listen),
    DENY(accept4),
#ifdef __NR_accept
    DENY(accept),
#endif
    DENY(ptrace),
    DENY(process_vm_readv),
    DENY(process_vm_writev),
    DENY(kexec_load),
    DENY(init_module),
    DENY(finit_module),
    DENY(delete_module),
    DENY(bpf),
    DENY(mount),
    DENY(umount2),
    DENY(pivot_root),
    DENY(chroot),
    DENY(unshare),
    DENY(setns),
    DENY(keyctl),
    DENY(add_key),
    DENY(request_key),
    DENY(userfaultfd),
    DENY(perf_event_open),
    DENY(open_by_handle_at),
#ifdef __NR_io_uring_setup
    DENY(io_uring_setup),
#endif
};

#define NDENIED (sizeof denied / sizeof denied[0])

const char *image_sandbox_denied(void)
{
    static char list[512];
    if (list[0] == '\0') {
        size_t o = 0;
        for (size_t i = 0; i < NDENIED && o < sizeof list; i++) {
            int n = snprintf(list + o, sizeof list - o, "%s%s", i ? "," : "", denied[i].name);
            if (n < 0)
                break;
            o += (size_t)n;
        }
    }
    return list;
}

#ifdef SECCOMP_ARCH
static int seccomp_install(char *why, size_t whycap)
{
    /* arch check, the x32 range, one compare per denied call, allow */
    struct sock_filter prog[4 + 2 + 2 * NDENIED + 1];
    size_t n = 0;
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                             offsetof(struct seccomp_data, arch));
    prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SECCOMP_ARCH, 1, 0);
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                             offsetof(struct seccomp_data, nr));
#if defined(__x86_64__)
    /* x32 system calls share the x86_64 arch value: refuse them all */
    prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1);
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
#endif
    for (size_t i = 0; i < NDENIED; i++) {
        prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
                                                 (unsigned)denied[i].nr, 0, 1);
        prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
    }
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    struct sock_fprog fprog = {.len = (unsigned short)n, .filter = prog};
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) < 0) {
        snprintf(why, whycap, "seccomp: %s", strerror(errno));
        return -1;
    }
    return 0;
}
#else
static int seccomp_install(char *why, size_t whycap)
{
    snprintf(why, whycap, "seccomp: no filter for this architecture");
    return -1;
}
#endif

/* ---- Landlock ---- */

static unsigned long long landlock_handled(int abi)
{
    unsigned long long fs = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                            LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
                            LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
                            LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
                            LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
                            LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
                            LANDLOCK_ACCESS_FS_MAKE_SYM;
    if (abi >= 2)
        fs |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3)
        fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
    if (abi >= 5)
        fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
    return fs;
}

static int landlock_allow(int ruleset, const char *path, unsigned long long access,
                          unsigned long long handled, char *why, size_t whycap)
{
    int fd = open(path, O_PATH | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return 0; /* nothing there to allow */
    if (fd < 0) {
        snprintf(why, whycap, "landlock: \"%s\": %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))
        access &= LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                  LANDLOCK_ACCESS_FS_TRUNCATE; /* the rights a file can carry */
    struct landlock_path_beneath_attr rule = {.allowed_access = access & handled,
                                              .parent_fd = fd};
    long rc = syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
    int err = errno;
    close(fd);
    if (rc < 0) {
        snprintf(why, whycap, "landlock: rule for \"%s\": %s", path, strerror(err));
        return -1;
    }
    return 0;
}

static int landlock_install(int abi, const image_sandbox_spec *spec, char *why, size_t whycap)
{
    unsigned long long handled = landlock_handled(abi);
    const unsigned long long ro = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
    const unsigned long long rw = ro | LANDLOCK_ACCESS_FS_WRITE_FILE |
                                     LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |
                                     LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_DIR |
                                     LANDLOCK_ACCESS_FS_TRUNCATE;
    struct landlock_ruleset_attr attr = {.handled_access_fs = handled};
    int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
    if (ruleset < 0) {
        snprintf(why, whycap, "landlock: %s", strerror(errno));
        return -1;
    }
    int rc = -1;
    for (size_t i = 0; i < spec->nread; i++)
        if (landlock_allow(ruleset, spec->read_paths[i], ro, handled, why, whycap) < 0)
            goto out;
    for (size_t i = 0; i < spec->nwrite; i++)
        if (landlock_allow(ruleset, spec->write_dirs[i], rw, handled, why, whycap) < 0)
            goto out;
    if (syscall(SYS_landlock_restrict_self, ruleset, 0) < 0) {
        snprintf(why, whycap, "landlock: %s", strerror(errno));
        goto out;
    }
    rc = 0;
out:
    close(ruleset);
    return rc;
}

/* ---- probe, describe, apply ---- */

void image_sandbox_probe(image_sandbox_caps *caps)
{
    memset(caps, 0, sizeof *caps);
#ifdef SECCOMP_ARCH
    unsigned action = SECCOMP_RET_ERRNO;
    caps->seccomp = syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
#endif
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    if (abi > 0) {
        caps->landlock_abi = (int)abi;
    } else {
        snprintf(caps->landlock_why, sizeof caps->landlock_why, "%s",
                 errno == ENOSYS       ? "not in this kernel"
                 : errno == EOPNOTSUPP ? "disabled at boot"
                                       : strerror(errno));
    }
#ifdef IMAGE_UNDER_ASAN
    caps->rlimit_as = 0;
#else
    caps->rlimit_as = 1;
#endif
}

void image_sandbox_describe(const image_sandbox_caps *caps, char *buf, size_t cap)
{
    char landlock[96];
    if (caps->landlock_abi > 0)
        snprintf(landlock, sizeof landlock, "landlock(abi %d)", caps->landlock_abi);
    else
        snprintf(landlock, sizeof landlock, "no-landlock(%s)", caps->landlock_why);
    snprintf(buf, cap, "no_new_privs rlimits(%scpu,fsize,core) %s %s",
             caps->rlimit_as ? "as," : "", caps->seccomp ? "seccomp" : "no-seccomp", landlock);
}

static int set_limit(int resource, const char *name, unsigned long long soft,
                     unsigned long long hard, char *why, size_t whycap)
{
    struct rlimit old, rl = {.rlim_cur = (rlim_t)soft, .rlim_max = (rlim_t)hard};
    if (getrlimit(resource, &old) == 0 && old.rlim_max != RLIM_INFINITY) {
        if (rl.rlim_max > old.rlim_max)
            rl.rlim_max = old.rlim_max; /* only ever lower */
        if (rl.rlim_cur > rl.rlim_max)
            rl.rlim_cur = rl.rlim_max;
    }
    if (setrlimit(resource, &rl) < 0) {
        snprintf(why, whycap, "setrlimit %s: %s", name, strerror(errno));
        return -1;
    }
    return 0;
}

int image_sandbox_apply(const image_sandbox_caps *caps, const image_sandbox_spec *spec, char *why,
                        size_t whycap)
{
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        snprintf(why, whycap, "no_new_privs: %s", strerror(errno));
        return -1;
    }
    if (set_limit(RLIMIT_CORE, "core", 0, 0, why, whycap) < 0)
        return -1;
    if (caps->rlimit_as && spec->as_bytes > 0 &&
        set_limit(RLIMIT_AS, "as", spec->as_bytes, spec->as_bytes, why, whycap) < 0)
        return -1;
    /* SIGXCPU at the soft limit, SIGKILL a little later */
    if (spec->cpu_seconds > 0 &&
        set_limit(RLIMIT_CPU, "cpu", spec->cpu_seconds, spec->cpu_seconds + 5, why, whycap) < 0)
        return -1;
    if (spec->fsize_bytes > 0) {
        signal(SIGXFSZ, SIG_IGN); /* a write past the limit fails with EFBIG instead */
        if (set_limit(RLIMIT_FSIZE, "fsize", spec->fsize_bytes, spec->fsize_bytes, why, whycap) < 0)
            return -1;
    }
    if (caps->landlock_abi > 0 && landlock_install(caps->landlock_abi, spec, why, whycap) < 0)
        return -1;
    if (caps->seccomp && seccomp_install(why, whycap) < 0)
        return -1;
    return 0;
}

int image_env_forbidden(char *const *envp, char *const *patterns, size_t npatterns, char *name,
                        size_t namecap, const char **pattern)
{
    char var[256];
    for (size_t i = 0; envp != NULL && envp[i] != NULL; i++) {
        const char *eq = strchr(envp[i], '=');
        size_t n = eq ? (size_t)(eq - envp[i]) : strlen(envp[i]);
        if (n >= sizeof var)
            n = sizeof var - 1; /* names this long are cut; patterns still see the start */
        memcpy(var, envp[i], n);
        var[n] = '\0';
        for (size_t k = 0; k < npatterns; k++) {
            if (fnmatch(patterns[k], var, FNM_CASEFOLD) == 0) {
                snprintf(name, namecap, "%s", var);
                *pattern = patterns[k];
                return 1;
            }
        }
    }
    return 0;
}
