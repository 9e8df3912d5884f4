/* tmpdir.c - a job's temp directory removed, with what ImageMagick left in
 * it. setup.c decides which directories are temp ones and when they go. */
#include "tmpdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

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
