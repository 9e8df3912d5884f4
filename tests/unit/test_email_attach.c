/* test_email_attach.c - unit tests for src/workers/email/attach.c, what is
 * drudge-email's own on top of src/common/confine.c (tested in
 * test_confine.c): no symlink is followed, not even one that stays inside
 * (a file, a directory on the way, an escape); only regular files open, a
 * FIFO cannot hang it; every reason names the attachment.
 * Works in a fresh directory under $TMPDIR.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/workers/email/email.h"
#include "fs_fixture.h"

static char root[512];   /* the temporary directory */
static char inside[600]; /* root/att: what attachments_dir would be */
static int dirfd_;

static int setup(void **state)
{
    (void)state;
    char path[1024];
    if (fs_tempdir(root, sizeof root, "test_email_attach") < 0 ||
        mkdir(fs_path(inside, sizeof inside, root, "att"), 0700) < 0 ||
        mkdir(fs_path(path, sizeof path, inside, "sub"), 0700) < 0)
        return -1;
    fs_write(inside, "sub/report.pdf", "%PDF-1.4 hello");
    fs_write(root, "secret.txt", "secret");
    if (symlink("../secret.txt", fs_path(path, sizeof path, inside, "escape.txt")) < 0 ||
        symlink("sub/report.pdf", fs_path(path, sizeof path, inside, "inner-link.pdf")) < 0 ||
        symlink("..", fs_path(path, sizeof path, inside, "up")) < 0 ||
        mkfifo(fs_path(path, sizeof path, inside, "fifo"), 0600) < 0)
        return -1;
    dirfd_ = open(inside, O_RDONLY | O_DIRECTORY);
    return dirfd_ < 0 ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    close(dirfd_);
    fs_remove_all(root);
    return 0;
}

static void assert_open_fails(const char *path, const char *reason)
{
    uint64_t size = 0;
    char why[512] = "";
    int fd = email_attach_open(dirfd_, path, &size, why, sizeof why);
    if (fd >= 0)
        print_error("\"%s\" opened\n", path);
    assert_true(fd < 0);
    if (strstr(why, reason) == NULL)
        print_error("reason for \"%s\" is \"%s\", wanted \"%s\"\n", path, why, reason);
    assert_non_null(strstr(why, reason));
}

static void test_regular_file_in_a_subdirectory_opens(void **state)
{
    (void)state;
    uint64_t size = 0;
    char why[512] = "";
    int fd = email_attach_open(dirfd_, "sub/report.pdf", &size, why, sizeof why);
    if (fd < 0)
        print_error("%s\n", why);
    assert_true(fd >= 0);
    assert_int_equal(size, strlen("%PDF-1.4 hello"));
    char buf[32] = "";
    assert_int_equal(read(fd, buf, sizeof buf), (ssize_t)size);
    assert_string_equal(buf, "%PDF-1.4 hello");
    int fl = fcntl(fd, F_GETFL);
    assert_int_equal(fl & O_NONBLOCK, 0);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    close(fd);
}

static void test_no_symlink_is_followed(void **state)
{
    (void)state;
    assert_open_fails("escape.txt", "symlink");     /* points outside */
    assert_open_fails("inner-link.pdf", "symlink"); /* even inside */
    assert_open_fails("up/secret.txt", "symlink");  /* a directory on the way */
    assert_open_fails("up/att/sub/report.pdf", "symlink");
}

static void test_only_regular_files(void **state)
{
    (void)state;
    assert_open_fails("sub", "not a regular file");
    assert_open_fails("fifo", "not a regular file"); /* and it did not block */
    assert_open_fails("sub/report.pdf/x", "not a directory");
    assert_open_fails("../secret.txt", "attachment \"../secret.txt\": \"..\" is not allowed");
    errno = 0;
    assert_open_fails("/etc/passwd", "relative");
    assert_int_equal(errno, EINVAL);
    assert_open_fails("missing.pdf", "attachment \"missing.pdf\": does not exist");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_regular_file_in_a_subdirectory_opens),
        cmocka_unit_test(test_no_symlink_is_followed),
        cmocka_unit_test(test_only_regular_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
