/* attach.c - attachment files, confined to email.attachments_dir. A path is
 * relative and plain (no "..", no "." or empty components); it is opened
 * one component at a time from the directory's fd with O_NOFOLLOW, so no
 * symlink is followed anywhere on the way and nothing outside the
 * directory can be reached, whatever is renamed meanwhile. Only regular
 * files are attached. */
#include "email.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *email_attach_path_refusal(const char *path)
{
    size_t n = strlen(path);
    if (n == 0)
        return "is empty";
    if (n > EMAIL_PATH_MAX)
        return "is too long";
    if (path[0] == '/')
        return "must be relative to email.attachments_dir";
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)path[i] < 0x20 || path[i] == 0x7f)
            return "contains a control character";
    for (const char *c = path; *c;) {
        size_t len = strcspn(c, "/");
        if (len == 0 || (len == 1 && c[0] == '.'))
            return "has an empty or \".\" component";
        if (len == 2 && c[0] == '.' && c[1] == '.')
            return "must not contain \"..\"";
        if (len > 255)
            return "has a component longer than 255 bytes";
        c += len;
        if (*c == '/') {
            c++;
            if (*c == '\0')
                return "ends with /";
        }
    }
    return NULL;
}

static int set_why(char *why, size_t whycap, const char *path, const char *what)
{
    int saved = errno;
    snprintf(why, whycap, "attachment \"%s\": %s", path, what);
    errno = saved;
    return -1;
}

static const char *open_error(int err)
{
    switch (err) {
    case ELOOP: return "is a symlink (symlinks are not followed)";
    case ENOTDIR: return "a directory on the way is a symlink or not a directory";
    case ENOENT: return "does not exist";
    case EACCES: return "permission denied";
    default: return strerror(err);
    }
}

int email_attach_open(int dirfd, const char *path, uint64_t *size, char *why, size_t whycap)
{
    const char *refusal = email_attach_path_refusal(path);
    if (refusal != NULL) {
        errno = EINVAL;
        return set_why(why, whycap, path, refusal);
    }
    char part[256];
    int dir = dirfd, fd = -1;
    const char *c = path;
    for (;;) {
        size_t len = strcspn(c, "/");
        memcpy(part, c, len);
        part[len] = '\0';
        c += len;
        int last = *c == '\0';
        /* O_NONBLOCK: a FIFO planted here must not hang the worker */
        int flags =
            O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | (last ? O_NONBLOCK : O_DIRECTORY);
        fd = openat(dir, part, flags);
        int err = errno;
        if (dir != dirfd)
            close(dir);
        if (fd < 0) {
            errno = err;
            /* a symlinked directory on the way shows as ENOTDIR with
             * O_DIRECTORY | O_NOFOLLOW on some kernels, ELOOP on others */
            return set_why(why, whycap, path, open_error(err));
        }
        if (last)
            break;
        dir = fd;
        c++;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int err = errno;
        close(fd);
        errno = err;
        return set_why(why, whycap, path, strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        errno = EINVAL;
        return set_why(why, whycap, path, "is not a regular file");
    }
    /* back to blocking reads for the regular file */
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    *size = (uint64_t)st.st_size;
    return fd;
}
