/* paths.c - drudge-pdf touches files only inside its configured directories:
 * inputs (images jobs) under pdf.input_dir, outputs under pdf.output_dir.
 * A job names paths relative to those; the checks and the opens are
 * src/common/confine's, shared with drudge-image and drudge-email: inputs
 * resolved beneath their directory (a symlink that stays inside is fine,
 * one that leads out is not), outputs never through a symlink, written to a
 * temp file beside the name, synced and renamed over it. */
#include "pdf.h"

#include "confine.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int pdf_input_open(const char *dir, const char *rel, char *why, size_t whycap)
{
    int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        snprintf(why, whycap, "cannot open input directory \"%s\": %s", dir, strerror(errno));
        return -1;
    }
    char reason[PDF_WHY_MAX];
    int fd = confine_open_file(dirfd, rel, 0, NULL, reason, sizeof reason);
    close(dirfd);
    if (fd < 0)
        snprintf(why, whycap, "input \"%.200s\": %s", rel, reason);
    return fd;
}

int pdf_output_save(const char *dir, const char *rel, const void *data, size_t len, char *why,
                    size_t whycap)
{
    int base = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (base < 0 && (errno != ENOENT || confine_make_dirs(dir) < 0 ||
                     (base = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)) {
        snprintf(why, whycap, "cannot open output directory \"%s\": %s", dir, strerror(errno));
        return -1;
    }
    char reason[PDF_WHY_MAX];
    const char *leaf;
    int rc = -1;
    /* directories below the base: created when missing, never a symlink */
    int parent = confine_open_parent(base, rel, CONFINE_CREATE_DIRS | CONFINE_NO_SYMLINKS, &leaf,
                                     reason, sizeof reason);
    if (parent >= 0) {
        rc = confine_write_atomic(parent, leaf, data, len, reason, sizeof reason);
        close(parent);
    }
    close(base);
    if (rc < 0)
        snprintf(why, whycap, "output \"%.200s\": %s", rel, reason);
    return rc;
}
