/* paths.c - drudge-pdf touches files only inside its configured directories:
 * inputs (images jobs) under pdf.input_dir, outputs under pdf.output_dir.
 * A job names paths relative to those; absolute paths and ".." are refused
 * by pdf_path_check() before anything is opened, and the opens themselves
 * cannot leave the directory: inputs with openat2(RESOLVE_BENEATH) (a symlink
 * that stays inside is fine, one that leads out is not), outputs component
 * by component with O_NOFOLLOW. An output appears atomically: written to a
 * temp file in its directory, synced, renamed over the old one. */
#include "pdf.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PATH_BYTES_MAX 1024

int pdf_path_check(const char *rel, char *why, size_t whycap)
{
    size_t len = strlen(rel);
    if (len == 0 || len > PATH_BYTES_MAX) {
        snprintf(why, whycap, "path must be 1 to %d bytes", PATH_BYTES_MAX);
        return -1;
    }
    if (rel[0] == '/') {
        snprintf(why, whycap, "absolute path \"%.80s\" is not allowed (paths are relative)", rel);
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)rel[i];
        if (ch < 0x20 || ch == 0x7f) {
            snprintf(why, whycap, "path has a control character");
            return -1;
        }
    }
    /* each component: not "." or "..", not empty except a doubled slash */
    const char *p = rel;
    while (*p) {
        size_t n = strcspn(p, "/");
        if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) {
            snprintf(why, whycap, "path \"%.80s\" has a \".\" or \"..\" component", rel);
            return -1;
        }
        p += n;
        while (*p == '/')
            p++;
    }
    if (rel[len - 1] == '/') {
        snprintf(why, whycap, "path \"%.80s\" names a directory", rel);
        return -1;
    }
    return 0;
}

/* openat2 with RESOLVE_BENEATH; -1 with errno ENOSYS where the kernel (or a
 * seccomp filter) does not have it. */
static int open_beneath(int dirfd, const char *rel, int flags)
{
#ifdef SYS_openat2
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)(flags | O_CLOEXEC);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    return (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof how);
#else
    (void)dirfd, (void)rel, (void)flags;
    errno = ENOSYS;
    return -1;
#endif
}

/* Walk rel below dirfd one component at a time, never following a symlink:
 * the fallback when openat2 is missing (stricter: no symlinks at all). */
static int open_nofollow(int dirfd, const char *rel, int flags)
{
    char part[PATH_BYTES_MAX + 1];
    int cur = dirfd;
    const char *p = rel;
    for (;;) {
        size_t n = strcspn(p, "/");
        if (n >= sizeof part) {
            errno = ENAMETOOLONG;
            goto fail;
        }
        memcpy(part, p, n);
        part[n] = '\0';
        const char *next = p + n;
        while (*next == '/')
            next++;
        if (*next == '\0') {
            int fd = openat(cur, part, flags | O_NOFOLLOW | O_CLOEXEC);
            int saved = errno;
            if (cur != dirfd)
                close(cur);
            errno = saved;
            return fd;
        }
        int sub = openat(cur, part, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0)
            goto fail;
        if (cur != dirfd)
            close(cur);
        cur = sub;
        p = next;
    }
fail:;
    int saved = errno;
    if (cur != dirfd)
        close(cur);
    errno = saved;
    return -1;
}

int pdf_input_open(const char *dir, const char *rel, char *why, size_t whycap)
{
    if (pdf_path_check(rel, why, whycap) < 0)
        return -1;
    int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        snprintf(why, whycap, "cannot open input directory \"%s\": %s", dir, strerror(errno));
        return -1;
    }
    int flags = O_RDONLY | O_NONBLOCK | O_NOCTTY;
    int fd = open_beneath(dirfd, rel, flags);
    if (fd < 0 && (errno == ENOSYS || errno == EPERM))
        fd = open_nofollow(dirfd, rel, flags);
    int saved = errno;
    close(dirfd);
    if (fd < 0) {
        if (saved == EXDEV || saved == ELOOP)
            snprintf(why, whycap, "input \"%.200s\" leads outside the input directory", rel);
        else
            snprintf(why, whycap, "cannot open input \"%.200s\": %s", rel, strerror(saved));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, whycap, "input \"%.200s\" is not a regular file", rel);
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

/* mkdir -p for the configured base directory (the admin's path). */
static int make_base(const char *dir)
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
    if (mkdir(buf, 0755) < 0 && errno != EEXIST)
        return -1;
    return 0;
}

static int write_all(int fd, const unsigned char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

int pdf_output_save(const char *dir, const char *rel, const void *data, size_t len, char *why,
                    size_t whycap)
{
    int rc = -1, cur = -1, fd = -1;
    char tmp[300] = "", part[PATH_BYTES_MAX + 1];
    if (pdf_path_check(rel, why, whycap) < 0)
        return -1;
    if ((cur = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 &&
        (errno != ENOENT || make_base(dir) < 0 ||
         (cur = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)) {
        snprintf(why, whycap, "cannot open output directory \"%s\": %s", dir, strerror(errno));
        return -1;
    }
    /* directories below the base: created when missing, never followed */
    const char *p = rel;
    for (;;) {
        size_t n = strcspn(p, "/");
        memcpy(part, p, n);
        part[n] = '\0';
        const char *next = p + n;
        while (*next == '/')
            next++;
        if (*next == '\0')
            break;
        if (mkdirat(cur, part, 0755) < 0 && errno != EEXIST) {
            snprintf(why, whycap, "cannot create directory \"%.200s\": %s", part, strerror(errno));
            goto out;
        }
        int sub = openat(cur, part, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0) {
            snprintf(why, whycap, "output directory \"%.200s\" is not a plain directory: %s", part,
                     errno == ELOOP || errno == ENOTDIR ? "a symlink or a file" : strerror(errno));
            goto out;
        }
        close(cur);
        cur = sub;
        p = next;
    }
    if (strlen(part) > 200) {
        snprintf(why, whycap, "output file name is longer than 200 bytes");
        goto out;
    }
    for (int attempt = 0; attempt < 8 && fd < 0; attempt++) {
        unsigned long long r = 0;
        if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
            r = (unsigned long long)pdf_mono_ms() * 2654435761u + (unsigned)getpid() +
                (unsigned)attempt;
        snprintf(tmp, sizeof tmp, ".%s.%016llx.tmp", part, r);
        fd = openat(cur, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        snprintf(why, whycap, "cannot create a temp file for \"%.200s\": %s", rel, strerror(errno));
        tmp[0] = '\0';
        goto out;
    }
    if (write_all(fd, data, len) < 0 || fdatasync(fd) < 0) {
        snprintf(why, whycap, "cannot write \"%.200s\": %s", rel, strerror(errno));
        goto out;
    }
    if (close(fd) < 0) {
        fd = -1;
        snprintf(why, whycap, "cannot write \"%.200s\": %s", rel, strerror(errno));
        goto out;
    }
    fd = -1;
    if (renameat(cur, tmp, cur, part) < 0) {
        snprintf(why, whycap, "cannot rename onto \"%.200s\": %s", rel, strerror(errno));
        goto out;
    }
    tmp[0] = '\0';
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (tmp[0] && cur >= 0)
        unlinkat(cur, tmp, 0);
    if (cur >= 0)
        close(cur);
    return rc;
}
