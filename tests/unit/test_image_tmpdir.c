/* test_image_tmpdir.c - unit tests for src/workers/image/tmpdir.c: a job's
 * temp directory goes with what is in it (one level of subdirectories), a
 * symlink in it is removed without touching what it points to, and a
 * directory already gone is fine. Works in a fresh directory under $TMPDIR.
 * (Paths from jobs are src/common/confine.c's: tests/unit/test_confine.c.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../src/workers/image/tmpdir.h"
#include "fs_fixture.h"

static char base[512]; /* the test's directory */

static int setup(void **state)
{
    (void)state;
    return fs_tempdir(base, sizeof base, "test_image_tmpdir");
}

static int teardown(void **state)
{
    (void)state;
    fs_remove_all(base);
    return 0;
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static void test_remove_tree_takes_files_and_one_level_of_directories(void **state)
{
    (void)state;
    char job[1024], p[1100];
    mkdir(fs_path(job, sizeof job, base, "tmpjob"), 0700);
    fs_write(job, "magick-1", "x");
    mkdir(fs_path(p, sizeof p, job, "inner"), 0700);
    fs_write(job, "inner/f", "y");
    assert_int_equal(image_remove_tree(job), 0);
    assert_false(exists(job));
    assert_int_equal(image_remove_tree(job), 0); /* already gone is fine */
}

static void test_remove_tree_does_not_follow_symlinks(void **state)
{
    (void)state;
    char keep[1024], job[1024], p[1100];
    mkdir(fs_path(keep, sizeof keep, base, "keep"), 0700);
    fs_write(keep, "precious", "z");
    mkdir(fs_path(job, sizeof job, base, "tmpjob2"), 0700);
    assert_int_equal(symlink(keep, fs_path(p, sizeof p, job, "link")), 0);
    assert_int_equal(image_remove_tree(job), 0);
    assert_false(exists(job));
    assert_true(exists(fs_path(p, sizeof p, keep, "precious")));
    /* a symlink given as the directory itself is not followed either */
    assert_int_equal(symlink(keep, fs_path(job, sizeof job, base, "dirlink")), 0);
    assert_int_equal(image_remove_tree(job), -1);
    assert_true(exists(p));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_remove_tree_takes_files_and_one_level_of_directories),
        cmocka_unit_test(test_remove_tree_does_not_follow_symlinks),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
