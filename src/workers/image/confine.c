/* confine.c - job paths checked, resolved beneath a directory descriptor
 * (openat2 RESOLVE_BENEATH, or an O_NOFOLLOW walk), and outputs written
 * atomically. Which directories are configured is the worker's business
 * (main.c); the sandbox (sandbox.c) confines the process as a second wall. */
#include "confine.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define NAME_MAX_BYTES 255

static int force_fallback;
static int have_openat2 = -1; /* unknown until the first call */

void image_confine_force_fallback(int on)
{
    force_fallback = on;
}

int image_path_check(const char *rel, size_t len, char *why, size_t whycap)
{
    if (rel == NULL || len == 0) {
        snprintf(why, whycap, "the path is empty");
        return -1;
    }
    if (strlen(rel) != len) {
        snprintf(why, whycap, "the path contains a NUL byte");
        return -1;
    }
    if (len > IMAGE_PATH_MAX) {
        snprintf(why, whycap, "the path is longer than %d bytes", IMAGE_PATH_MAX);
        return -1;
    }
    if (rel[0] == '/') {
        snprintf(why, whycap, "absolute paths are not allowed");
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)rel[i];
        if (ch < 0x20 || ch == 0x7f) {
            snprintf(why, whycap, "the path contains a control character");
            return -1;
        }
    }
    int depth = 0;
    for (const char *p = rel;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 0) {
            snprintf(why, whycap, slash ? "the path has an empty component (\"//\")"
                                        : "the path ends with \"/\"");
            return -1;
        }
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            snprintf(why, whycap, "\"..\" is not allowed");
            return -1;
        }
        if (n == 1 && p[0] == '.') {
            snprintf(why, whycap, "\".\" components are not allowed");
            return -1;
        }
        if (n > NAME_MAX_BYTES) {
            snprintf(why, whycap, "a path component is longer than %d bytes", NAME_MAX_BYTES);
            return -1;
        }
        if (++depth > IMAGE_PATH_DEPTH) {
            snprintf(why, whycap, "the path has more than %d components", IMAGE_PATH_DEPTH);
            return -1;
        }
        if (slash == NULL)
            break;
        p = slash + 1;
    }
    return 0;
}

/* Why an open beneath a directory failed, in words a job's author reads. */
static void open_error(int err, char *why, size_t whycap)
{
    switch (err) {
    case EXDEV: snprintf(why, whycap, "it leads outside the directory (through a symlink)"); break;
    case ELOOP: snprintf(why, whycap, "symlinks are not followed here"); break;
    case ENOENT: snprintf(why, whycap, "no such file or directory"); break;
    case ENOTDIR: snprintf(why, whycap, "a component is not a directory (or is a symlink)"); break;
    case EISDIR: snprintf(why, whycap, "it is a directory"); break;
    default: snprintf(why, whycap, "%s", strerror(err)); break;
    }
}

/* openat2 beneath dirfd; -1 with errno ENOSYS when the kernel lacks it. */
static int open_beneath2(int dirfd, const char *rel, int flags)
{
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (unsigned long long)(flags | O_CLOEXEC);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    long fd;
    do
        fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof how);
    while (fd < 0 && (errno == EINTR || errno == EAGAIN));
    return (int)fd;
}

static int use_openat2(void)
{
    if (force_fallback)
        return 0;
    if (have_openat2 < 0) {
        int fd = open_beneath2(AT_FDCWD, ".", O_PATH | O_DIRECTORY);
        have_openat2 = fd >= 0 || errno != ENOSYS;
        if (fd >= 0)
            close(fd);
    }
    return have_openat2;
}

/* The fallback: walk rel one component at a time, refusing every symlink;
 * the last component is opened with last_flags. */
static int walk_nofollow(int dirfd, const char *rel, int last_flags)
{
    char comp[NAME_MAX_BYTES + 1];
    int cur = dirfd;
    const char *p = rel;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n > NAME_MAX_BYTES) {
            if (cur != dirfd)
                close(cur);
            errno = ENAMETOOLONG;
            return -1;
        }
        memcpy(comp, p, n);
        comp[n] = '\0';
        int fd = slash ? openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                       : openat(cur, comp, last_flags | O_NOFOLLOW | O_CLOEXEC);
        int saved = errno;
        if (cur != dirfd)
            close(cur);
        if (fd < 0) {
            errno = saved;
            return -1;
        }
        if (slash == NULL)
            return fd;
        cur = fd;
        p = slash + 1;
    }
}

int image_open_beneath(int dirfd, const char *rel, int flags, char *why, size_t whycap)
{
    int fd = use_openat2() ? open_beneath2(dirfd, rel, flags) : walk_nofollow(dirfd, rel, flags);
    if (fd < 0)
        open_error(errno, why, whycap);
    return fd;
}

int image_open_parent(int dirfd, const char *rel, int create, const char **leaf, char *why,
                      size_t whycap)
{
    const char *last = strrchr(rel, '/');
    *leaf = last ? last + 1 : rel;
    if (last == NULL) {
        int fd = openat(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            open_error(errno, why, whycap);
        return fd;
    }
    /* Resolve each prefix from the top: a/, a/b/, ... creating what is
     * missing, so every step is checked beneath dirfd. */
    char prefix[IMAGE_PATH_MAX + 1];
    size_t plen = (size_t)(last - rel);
    if (plen > IMAGE_PATH_MAX) {
        snprintf(why, whycap, "the path is too long");
        return -1;
    }
    memcpy(prefix, rel, plen);
    prefix[plen] = '\0';
    for (size_t end = 0; end <= plen; end++) {
        if (end < plen && prefix[end] != '/')
            continue;
        char saved = prefix[end];
        prefix[end] = '\0';
        int fd = image_open_beneath(dirfd, prefix, O_PATH | O_DIRECTORY, why, whycap);
        if (fd < 0 && errno == ENOENT && create) {
            const char *sub;
            char *slash = strrchr(prefix, '/');
            int parent;
            if (slash == NULL) {
                parent = dirfd;
                sub = prefix;
            } else {
                *slash = '\0';
                parent = image_open_beneath(dirfd, prefix, O_PATH | O_DIRECTORY, why, whycap);
                *slash = '/';
                sub = slash + 1;
            }
            if (parent < 0)
                return -1;
            int rc = mkdirat(parent, sub, 0755);
            int err = errno;
            if (parent != dirfd)
                close(parent);
            if (rc < 0 && err != EEXIST) {
                open_error(err, why, whycap);
                return -1;
            }
            fd = image_open_beneath(dirfd, prefix, O_PATH | O_DIRECTORY, why, whycap);
        }
        prefix[end] = saved;
        if (fd < 0)
            return -1;
        if (end == plen)
            return fd;
        close(fd);
    }
    return -1; /* not reached */
}

int image_write_atomic(int dirfd, const char *leaf, const void *buf, size_t len, char *why,
                       size_t whycap)
{
    static unsigned long counter;
    char tmp[NAME_MAX_BYTES + 1];
    int fd = -1;
    for (int tries = 0; fd < 0 && tries < 16; tries++) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        unsigned long salt = (unsigned long)ts.tv_nsec ^ ((unsigned long)getpid() << 20) ^ ++counter;
        snprintf(tmp, sizeof tmp, ".%.200s.%lx.tmp", leaf, salt);
        fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0 && errno != EEXIST) {
            snprintf(why, whycap, "cannot create a temp file: %s", strerror(errno));
            return -1;
        }
    }
    if (fd < 0) {
        snprintf(why, whycap, "cannot create a temp file: %s", strerror(EEXIST));
        return -1;
    }
    const char *p = buf;
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, p + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(why, whycap, "cannot write the output: %s",
                     n < 0 ? strerror(errno) : "short write");
            goto fail;
        }
        off += (size_t)n;
    }
    if (close(fd) < 0) {
        fd = -1;
        snprintf(why, whycap, "cannot write the output: %s", strerror(errno));
        goto fail;
    }
    fd = -1;
    if (renameat(dirfd, tmp, dirfd, leaf) < 0) {
        if (errno == EISDIR)
            snprintf(why, whycap, "the output name is a directory");
        else
            snprintf(why, whycap, "cannot rename the output into place: %s", strerror(errno));
        goto fail;
    }
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    unlinkat(dirfd, tmp, 0);
    return -1;
}

/* Remove what is in the directory dfd (consumed); one more level when
 * depth > 0. */
static int empty_dir(int dfd, int depth)
{
    DIR *d = fdopendir(dfd);
    if (d == NULL) {
        close(dfd);
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (unlinkat(dirfd(d), e->d_name, 0) == 0)
            continue;
        if ((errno == EISDIR || errno == EPERM) && depth > 0) {
            int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0 && empty_dir(sub, depth - 1) == 0 &&
                unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR) == 0)
                continue;
        }
        if (errno != ENOENT)
            rc = -1;
    }
    closedir(d);
    return rc;
}

int image_remove_tree(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    int rc = empty_dir(fd, 1);
    if (rmdir(path) < 0 && errno != ENOENT)
        rc = -1;
    return rc;
}
