/* confine.h - a job names a file relative to a configured directory; these
 * check the name and open it so that it never leaves that directory. Shared
 * by the workers (src/common is linked into the programs, not libdrudge).
 *
 * A path is checked on its own first (confine_path_check: relative, no "..",
 * no "." or empty components, no control bytes, bounded), then resolved
 * beneath the directory's descriptor: by openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_MAGICLINKS) where the kernel has it (a symlink that stays
 * inside is followed, one that leads out is refused), else by a walk that
 * opens one component at a time with O_NOFOLLOW (every symlink is refused).
 * CONFINE_NO_SYMLINKS asks for the walk always. Outputs are written to a
 * temp file next to the name, synced and renamed over it, so a reader never
 * sees half a file. Every failure leaves a reason in `why` worded for the
 * job's author ("\"..\" is not allowed"), without the path: the caller
 * prefixes its subject (`input "a/b.png": ...`). errno is kept as well. */
#ifndef DRUDGE_CONFINE_H
#define DRUDGE_CONFINE_H

#include <stddef.h>
#include <stdint.h>

#define CONFINE_PATH_MAX 1024 /* longest job path, bytes */
#define CONFINE_PATH_DEPTH 16 /* most components in a job path */
#define CONFINE_NAME_MAX 255  /* longest component, bytes */

enum confine_flags {
    /* Refuse every symlink, even one that stays inside (always the walk). */
    CONFINE_NO_SYMLINKS = 1u << 0,
    /* confine_open_parent: create missing directories (mode 0755). */
    CONFINE_CREATE_DIRS = 1u << 1,
};

/* mkdir -p for a directory the configuration names (the admin's path, not
 * a job's: no confinement). 0, or -1 with errno. */
int confine_make_dirs(const char *dir);

/* Check a job-supplied path of len bytes (len counts an embedded NUL, so a
 * JSON "a\u0000b" is refused: pass the length the parser gave). 0, or -1
 * with the reason in why. Pure. */
int confine_path_check(const char *rel, size_t len, char *why, size_t whycap);

/* For tests: take the way a kernel or file system without a feature takes,
 * on one that has it. 0 = every feature where it works. */
enum {
    CONFINE_FORCE_WALK = 1u << 0,      /* no openat2: the O_NOFOLLOW walk */
    CONFINE_FORCE_NAMED = 1u << 1,     /* no O_TMPFILE: a named temp file */
    CONFINE_FORCE_PROC_LINK = 1u << 2, /* no linkat(AT_EMPTY_PATH): /proc/self/fd */
};
void confine_force_fallback(unsigned what);

/* Open rel beneath dirfd with open(2) flags `oflags` (O_CLOEXEC is added;
 * O_CREAT is refused: see confine_write_atomic) and confine_flags.
 * rel is checked with confine_path_check first. Returns the descriptor
 * (caller closes) or -1 with errno set (EINVAL for a refused path) and the
 * reason in why. dirfd is borrowed. */
int confine_open(int dirfd, const char *rel, int oflags, unsigned flags, char *why, size_t whycap);

/* Open the regular file rel beneath dirfd for reading, as confine_open
 * does. Opened O_NONBLOCK so that a FIFO planted there cannot hang the
 * caller, refused unless it is a regular file ("not a regular file",
 * errno EINVAL), then set back to blocking reads. Its size goes to *size
 * (may be NULL). Returns the descriptor (caller closes) or -1 with why. */
int confine_open_file(int dirfd, const char *rel, unsigned flags, uint64_t *size, char *why,
                      size_t whycap);

/* Open the directory that holds rel beneath dirfd as an O_PATH descriptor
 * (caller closes); with CONFINE_CREATE_DIRS missing directories are made,
 * each one beneath dirfd. *leaf points at rel's last component (borrowed
 * from rel). -1 with errno and why on error. */
int confine_open_parent(int dirfd, const char *rel, unsigned flags, const char **leaf, char *why,
                        size_t whycap);

/* Write buf[0..len) to the name `leaf` (one component) in the directory
 * dirfd atomically: a temp file beside it, written, fdatasync'd, named
 * ".<leaf>.<random>.tmp", renamed over leaf (a file or symlink of that
 * name is replaced, never followed; a directory is an error), and the
 * directory synced. The temp file is unnamed (O_TMPFILE) until complete,
 * so a process killed while writing leaves nothing; where O_TMPFILE cannot
 * be used (NFS, older overlayfs, some FUSE) it is named from the start and
 * a kill in the middle leaves it. On an error the temp file is removed and
 * the old output (if any) is untouched - except when only the final sync
 * of the directory fails: the new output is then in place, and -1 says its
 * rename may not survive a power cut. 0, or -1 with errno and why. */
int confine_write_atomic(int dirfd, const char *leaf, const void *buf, size_t len, char *why,
                         size_t whycap);

#endif
