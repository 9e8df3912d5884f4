/* fs_fixture.h - the file-system fixtures of the unit tests that need real
 * files (confine, the workers' attachment and temp-directory code): a fresh
 * directory under $TMPDIR, small files, and removing it all afterwards.
 * Header-only, included after <cmocka.h>. */
#ifndef DRUDGE_TEST_FS_FIXTURE_H
#define DRUDGE_TEST_FS_FIXTURE_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Make $TMPDIR/<name>.XXXXXX (or under /tmp) into buf. 0 or -1. */
static inline int fs_tempdir(char *buf, size_t cap, const char *name)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(buf, cap, "%s/%s.XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
    return mkdtemp(buf) == NULL ? -1 : 0;
}

/* dir/rel into buf. */
static inline const char *fs_path(char *buf, size_t cap, const char *dir, const char *rel)
{
    snprintf(buf, cap, "%s/%s", dir, rel);
    return buf;
}

/* Create (or replace) the file dir/rel holding text. */
static inline void fs_write(const char *dir, const char *rel, const char *text)
{
    char path[1024];
    FILE *f = fopen(fs_path(path, sizeof path, dir, rel), "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Remove path and, for a directory, everything below it (never following
 * a symlink). Missing is fine. */
static inline void fs_remove_all(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return;
    if (!S_ISDIR(st.st_mode)) {
        unlink(path);
        return;
    }
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char sub[1024];
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            fs_remove_all(fs_path(sub, sizeof sub, path, e->d_name));
    }
    if (d)
        closedir(d);
    rmdir(path);
}

/* How many names in dir (other than . and ..) contain `part`. */
static inline int fs_count(const char *dir, const char *part)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strstr(e->d_name, part))
            n++;
    closedir(d);
    return n;
}

#endif
