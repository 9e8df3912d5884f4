/* confine.h - a job's files stay inside the configured directories.
 *
 * A path from a job is first checked on its own (image_path_check: relative,
 * no "..", no empty or "." components, no control bytes, bounded), then
 * resolved beneath the directory's descriptor: openat2(RESOLVE_BENEATH) where
 * the kernel has it (symlinks that stay inside are fine, ones that lead out
 * are refused), else a component-by-component walk with O_NOFOLLOW (every
 * symlink is refused). Outputs are written to a temp file in the target
 * directory and renamed over the name, so a reader never sees half a file.
 */
#ifndef DRUDGE_IMAGE_CONFINE_H
#define DRUDGE_IMAGE_CONFINE_H

#include <stddef.h>

#define IMAGE_PATH_MAX 1024  /* longest job path, bytes */
#define IMAGE_PATH_DEPTH 16  /* most components of a job path */

/* Check a job-supplied path of len bytes (len counts an embedded NUL, so a
 * JSON "a\u0000b" is refused). 0, or -1 with the reason in why. Pure. */
int image_path_check(const char *rel, size_t len, char *why, size_t whycap);

/* For tests: 1 = never use openat2 (the fallback walk), 0 = use it if the
 * kernel has it. */
void image_confine_force_fallback(int on);

/* Open rel (already checked) beneath dirfd with open(2) flags (O_CLOEXEC is
 * added; O_CREAT is not supported). Returns the descriptor (caller closes)
 * or -1 with errno set and the reason in why. */
int image_open_beneath(int dirfd, const char *rel, int flags, char *why, size_t whycap);

/* Open the directory that holds rel beneath dirfd as an O_PATH descriptor
 * (caller closes), creating missing directories (mode 0755) when `create`.
 * *leaf points at the last component inside rel. -1 with why on error. */
int image_open_parent(int dirfd, const char *rel, int create, const char **leaf, char *why,
                      size_t whycap);

/* Write buf[0..len) to `leaf` in the directory dirfd atomically: a temp file
 * ".<leaf>.<random>.tmp" next to it, then rename over leaf (an existing file
 * is replaced; a directory of that name is an error). The temp file is gone
 * afterwards in every case. 0, or -1 with why. */
int image_write_atomic(int dirfd, const char *leaf, const void *buf, size_t len, char *why,
                       size_t whycap);

/* Remove the files in the directory `path` and the directory itself (one
 * level of subdirectories too). Missing is fine. 0 or -1 (errno). */
int image_remove_tree(const char *path);

#endif
