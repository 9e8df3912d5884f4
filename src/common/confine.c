/* confine.c - job paths checked, opened beneath a directory descriptor
 * (openat2 RESOLVE_BENEATH, or an O_NOFOLLOW walk) and outputs written
 * atomically. Which directories are configured, and what a worker does with
 * the files, is the worker's business; drudge-image's sandbox is a second
 * wall around the same directories. */
#include "confine.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static atomic_uint force_fallback;
static atomic_int openat2_missing; /* ENOSYS seen once: do not ask again */

void confine_force_fallback(unsigned what)
{
    atomic_store(&force_fallback, what);
}

int confine_make_dirs(const char *dir)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

static int refuse(char *why, size_t whycap, const char *reason)
{
    snprintf(why, whycap, "%s", reason);
    errno = EINVAL;
    return -1;
}

int confine_path_check(const char *rel, size_t len, char *why, size_t whycap)
{
    if (rel == NULL || len == 0)
        return refuse(why, whycap, "the path is empty");
    if (strnlen(rel, len) != len)
        return refuse(why, whycap, "the path contains a NUL byte");
    if (len > CONFINE_PATH_MAX) {
        snprintf(why, whycap, "the path is longer than %d bytes", CONFINE_PATH_MAX);
        errno = EINVAL;
        return -1;
    }
    if (rel[0] == '/')
        return refuse(why, whycap,
                      "absolute paths are not allowed (a path is relative to the directory)");
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)rel[i];
        if (ch < 0x20 || ch == 0x7f)
            return refuse(why, whycap, "the path contains a control character");
    }
    int depth = 0;
    for (const char *p = rel;;) {
        size_t n = strcspn(p, "/");
        int last = p[n] == '\0';
        if (n == 0)
            return refuse(why, whycap,
                          last ? "the path ends with \"/\""
                               : "the path has an empty component (\"//\")");
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return refuse(why, whycap, "\"..\" is not allowed");
        if (n == 1 && p[0] == '.')
            return refuse(why, whycap, "\".\" components are not allowed");
        if (n > CONFINE_NAME_MAX) {
            snprintf(why, whycap, "a path component is longer than %d bytes", CONFINE_NAME_MAX);
            errno = EINVAL;
            return -1;
        }
        if (++depth > CONFINE_PATH_DEPTH) {
            snprintf(why, whycap, "the path has more than %d components", CONFINE_PATH_DEPTH);
            errno = EINVAL;
            return -1;
        }
        if (last)
            return 0;
        p += n + 1;
    }
}

/* Why an open beneath the directory failed, in words a job's author reads
 * (errno is set to err). `walked`: the O_NOFOLLOW walk did it. */
static void open_error(int err, int walked, char *why, size_t whycap)
{
    const char *reason;
    switch (err) {
    case EXDEV: reason = "it leads outside the directory (through a symlink)"; break;
    case ELOOP:
        reason = walked ? "it is a symlink or goes through one (symlinks are not followed here)"
                        : "too many symlinks, or a symlink that is not followed here";
        break;
    case ENOENT: reason = "does not exist (no such file or directory)"; break;
    case ENOTDIR: reason = "a component on the way is not a directory"; break;
    case EISDIR: reason = "it is a directory"; break;
    case EACCES: reason = "permission denied"; break;
    case ENAMETOOLONG: reason = "the name is too long"; break;
    default: reason = strerror(err); break;
    }
    snprintf(why, whycap, "%s", reason);
    errno = err;
}

/* openat2 beneath dirfd; -1 with errno ENOSYS where the kernel lacks it. */
static int open_openat2(int dirfd, const char *rel, int oflags)
{
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)(oflags | O_CLOEXEC);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    long fd;
    do
        fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof how);
    while (fd < 0 && (errno == EINTR || errno == EAGAIN));
    return (int)fd;
}

/* With O_NOFOLLOW | O_DIRECTORY a symlink fails as ENOTDIR: say ELOOP when
 * the name really is a symlink, so the reason names it. */
static int symlink_errno(int dirfd, const char *name, int err)
{
    struct stat st;
    if (err == ENOTDIR && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISLNK(st.st_mode))
        return ELOOP;
    return err;
}

/* The walk: rel (checked) one component at a time from dirfd, refusing
 * every symlink; the last component is opened with oflags. */
static int open_walk(int dirfd, const char *rel, int oflags)
{
    char name[CONFINE_NAME_MAX + 1];
    int cur = dirfd;
    for (const char *p = rel;;) {
        size_t n = strcspn(p, "/");
        int last = p[n] == '\0';
        memcpy(name, p, n);
        name[n] = '\0';
        int fd = openat(cur, name, (last ? oflags : O_PATH | O_DIRECTORY) | O_NOFOLLOW | O_CLOEXEC);
        int err = fd < 0 ? symlink_errno(cur, name, errno) : 0;
        struct stat st;
        /* O_PATH | O_NOFOLLOW opens the symlink itself: refuse it */
        if (fd >= 0 && last && (oflags & O_PATH) && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode)) {
            close(fd);
            fd = -1;
            err = ELOOP;
        }
        if (cur != dirfd)
            close(cur);
        if (fd < 0 || last) {
            errno = err;
            return fd;
        }
        cur = fd;
        p += n + 1;
    }
}

/* rel already checked. */
static int open_checked(int dirfd, const char *rel, int oflags, unsigned flags, char *why,
                        size_t whycap)
{
    int walked = (flags & CONFINE_NO_SYMLINKS) ||
                 (atomic_load(&force_fallback) & CONFINE_FORCE_WALK) ||
                 atomic_load(&openat2_missing);
    int fd = -1;
    if (!walked) {
        fd = open_openat2(dirfd, rel, oflags);
        /* no openat2 here, or a seccomp filter refusing it: the walk is
         * stricter, so falling back never lets more through */
        if (fd < 0 && (errno == ENOSYS || errno == EPERM)) {
            if (errno == ENOSYS)
                atomic_store(&openat2_missing, 1);
            walked = 1;
        }
    }
    if (walked)
        fd = open_walk(dirfd, rel, oflags);
    if (fd < 0)
        open_error(errno, walked, why, whycap);
    return fd;
}

int confine_open(int dirfd, const char *rel, int oflags, unsigned flags, char *why, size_t whycap)
{
    if (rel == NULL || confine_path_check(rel, strlen(rel), why, whycap) < 0)
        return -1;
    if (oflags & O_CREAT) /* files are made by confine_write_atomic */
        return refuse(why, whycap, "cannot create files here");
    return open_checked(dirfd, rel, oflags, flags, why, whycap);
}

int confine_open_file(int dirfd, const char *rel, unsigned flags, uint64_t *size, char *why,
                      size_t whycap)
{
    int fd = confine_open(dirfd, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY, flags, why, whycap);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int err = errno;
        close(fd);
        open_error(err, 0, why, whycap);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return refuse(why, whycap, "not a regular file");
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    if (size != NULL)
        *size = (uint64_t)st.st_size;
    return fd;
}

int confine_open_parent(int dirfd, const char *rel, unsigned flags, const char **leaf, char *why,
                        size_t whycap)
{
    char prefix[CONFINE_PATH_MAX + 1];
    if (rel == NULL || confine_path_check(rel, strlen(rel), why, whycap) < 0)
        return -1;
    const char *last = strrchr(rel, '/');
    *leaf = last ? last + 1 : rel;
    int parent = openat(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (parent < 0) {
        open_error(errno, 0, why, whycap);
        return -1;
    }
    if (last == NULL)
        return parent;
    /* Each prefix a, a/b, ... is resolved from dirfd (so a symlink that
     * stays inside may point anywhere inside); a missing one is made in the
     * directory the previous prefix resolved to, then resolved again. */
    size_t plen = (size_t)(last - rel);
    memcpy(prefix, rel, plen);
    prefix[plen] = '\0';
    for (size_t end = 0; end <= plen; end++) {
        if (end < plen && prefix[end] != '/')
            continue;
        prefix[end] = '\0';
        int fd = open_checked(dirfd, prefix, O_PATH | O_DIRECTORY, flags, why, whycap);
        if (fd < 0 && errno == ENOENT && (flags & CONFINE_CREATE_DIRS)) {
            const char *slash = strrchr(prefix, '/');
            const char *name = slash ? slash + 1 : prefix;
            if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST) {
                int err = errno;
                snprintf(why, whycap, "cannot create the directory \"%.200s\": %s", prefix,
                         err == EACCES ? "permission denied" : strerror(err));
                close(parent);
                errno = err;
                return -1;
            }
            fd = open_checked(dirfd, prefix, O_PATH | O_DIRECTORY, flags, why, whycap);
        }
        int err = errno;
        close(parent);
        if (fd < 0) {
            errno = err;
            return -1;
        }
        parent = fd;
        if (end < plen)
            prefix[end] = '/';
    }
    return parent;
}

/* A temp name no other writer picks: random where getrandom works, else
 * the clock, the pid and a counter; O_EXCL settles the rest. */
static void temp_name(char *buf, size_t cap, const char *leaf)
{
    static atomic_ulong counter;
    unsigned long long salt = 0;
    if (getrandom(&salt, sizeof salt, GRND_NONBLOCK) != (ssize_t)sizeof salt) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        salt = (unsigned long long)ts.tv_nsec ^ ((unsigned long long)getpid() << 32) ^
               atomic_fetch_add(&counter, 1);
    }
    snprintf(buf, cap, ".%.200s.%016llx.tmp", leaf, salt);
}

/* Write all of buf to fd and sync it. 0, or -1 with errno. */
static int write_synced(int fd, const unsigned char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
        } else if (n == 0 || errno != EINTR) {
            if (n == 0)
                errno = EIO;
            return -1;
        }
    }
    return fdatasync(fd);
}

/* Whether a failure to give the unnamed file a name means only that this
 * way is not open here (no capability for AT_EMPTY_PATH, no /proc, a
 * sandbox), so a named temp file may still work. */
static int link_refused(int err)
{
    return err == ENOENT || err == EPERM || err == EACCES || err == EINVAL || err == ENOTSUP;
}

/* The temp file, written and synced, as an unnamed file (O_TMPFILE) that
 * gets its temp name only once complete - a writer killed while writing
 * leaves nothing behind. The name comes from linkat(AT_EMPTY_PATH) where
 * the kernel allows it (CAP_DAC_READ_SEARCH; any process since Linux 6.10),
 * else through /proc/self/fd. 0: tmp names the complete file; 1: no
 * unnamed file here (a file system without O_TMPFILE, no way to name it),
 * use a named one; -1: writing or naming failed (errno, *what says which),
 * nothing is left. */
static int write_unnamed(int dirfd, const char *leaf, const void *buf, size_t len, char *tmp,
                         size_t tmpcap, const char **what)
{
    unsigned force = atomic_load(&force_fallback);
    if (force & CONFINE_FORCE_NAMED)
        return 1;
    int fd = openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0)
        return 1;
    if (write_synced(fd, buf, len) < 0) {
        int err = errno;
        close(fd);
        *what = "cannot write the output";
        errno = err;
        return -1;
    }
    char proc[40];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    int rc = -1, err = EEXIST;
    for (int tries = 0; rc < 0 && err == EEXIST && tries < 16; tries++) {
        temp_name(tmp, tmpcap, leaf);
        if (!(force & CONFINE_FORCE_PROC_LINK) && linkat(fd, "", dirfd, tmp, AT_EMPTY_PATH) == 0)
            rc = 0;
        else if ((force & CONFINE_FORCE_PROC_LINK) || errno != EEXIST)
            rc = linkat(AT_FDCWD, proc, dirfd, tmp, AT_SYMLINK_FOLLOW);
        err = errno;
    }
    close(fd);
    if (rc == 0)
        return 0;
    if (link_refused(err))
        return 1;
    *what = "cannot name the output";
    errno = err;
    return -1;
}

/* The temp file, written and synced, by name from the start. 0, or -1 with
 * errno and why (nothing is left). */
static int write_named(int dirfd, const char *leaf, const void *buf, size_t len, char *tmp,
                       size_t tmpcap, char *why, size_t whycap)
{
    int fd = -1, err;
    for (int tries = 0; fd < 0 && tries < 16; tries++) {
        temp_name(tmp, tmpcap, leaf);
        fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        err = errno;
        snprintf(why, whycap, "cannot create a temp file: %s",
                 err == EACCES ? "permission denied" : strerror(err));
        errno = err;
        return -1;
    }
    err = write_synced(fd, buf, len) < 0 ? errno : 0;
    if (close(fd) < 0 && err == 0)
        err = errno;
    if (err != 0) {
        unlinkat(dirfd, tmp, 0);
        snprintf(why, whycap, "cannot write the output: %s", strerror(err));
        errno = err;
        return -1;
    }
    return 0;
}

int confine_write_atomic(int dirfd, const char *leaf, const void *buf, size_t len, char *why,
                         size_t whycap)
{
    char tmp[CONFINE_NAME_MAX + 1];
    int rc = -1, err = 0;
    if (leaf == NULL || confine_path_check(leaf, strlen(leaf), why, whycap) < 0)
        return -1;
    if (strchr(leaf, '/') != NULL)
        return refuse(why, whycap, "the output name has a \"/\"");
    const char *what = "";
    int unnamed = write_unnamed(dirfd, leaf, buf, len, tmp, sizeof tmp, &what);
    if (unnamed < 0) {
        err = errno;
        snprintf(why, whycap, "%s: %s", what, strerror(err));
        errno = err;
        return -1;
    }
    if (unnamed == 1 && write_named(dirfd, leaf, buf, len, tmp, sizeof tmp, why, whycap) < 0)
        return -1;
    /* from here on the temp file has its name: it is renamed or removed */
    if (renameat(dirfd, tmp, dirfd, leaf) < 0) {
        err = errno;
        if (err == EISDIR)
            snprintf(why, whycap, "the output name is a directory");
        else
            snprintf(why, whycap, "cannot rename the output into place: %s", strerror(err));
    } else {
        /* the rename itself is durable once the directory is synced (a
         * file system that cannot sync a directory has nothing to do) */
        int dir = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir >= 0 && fsync(dir) < 0 && errno != EINVAL && errno != EROFS) {
            err = errno;
            snprintf(why, whycap, "cannot sync the output directory: %s", strerror(err));
            close(dir);
            errno = err;
            return -1; /* the output is in place; only its durability failed */
        }
        if (dir >= 0)
            close(dir);
        rc = 0;
    }
    if (rc < 0) {
        unlinkat(dirfd, tmp, 0);
        errno = err;
    }
    return rc;
}
