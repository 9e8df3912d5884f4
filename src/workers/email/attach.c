/* attach.c - attachment files, confined to email.attachments_dir. Paths are
 * checked and opened by src/common/confine.c; what is drudge-email's own is
 * the stricter rule: no symlink is followed, not even one that stays inside
 * the directory (an attachment leaves the machine, so what is sent is what
 * the directory holds under that name), and only regular files open. */
#include "email.h"

#include "confine.h"

#include <errno.h>
#include <stdio.h>

int email_attach_open(int dirfd, const char *path, uint64_t *size, char *why, size_t whycap)
{
    char reason[256];
    int fd = confine_open_file(dirfd, path, CONFINE_NO_SYMLINKS, size, reason, sizeof reason);
    if (fd < 0) {
        int saved = errno;
        snprintf(why, whycap, "attachment \"%s\": %s", path, reason);
        errno = saved;
    }
    return fd;
}
