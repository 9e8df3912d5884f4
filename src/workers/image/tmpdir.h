/* tmpdir.h - removing a job's temp directory: what ImageMagick (or a
 * killed child) left in it. The directories are drudge-image's own
 * (setup.c makes them), not paths from a job. */
#ifndef DRUDGE_IMAGE_TMPDIR_H
#define DRUDGE_IMAGE_TMPDIR_H

/* Remove the files in the directory `path` and the directory itself (one
 * level of subdirectories too; symlinks are removed, never followed).
 * Missing is fine. 0 or -1 (errno). */
int image_remove_tree(const char *path);

#endif
