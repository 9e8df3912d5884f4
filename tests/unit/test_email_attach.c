/* test_email_attach.c - unit tests for src/workers/email/attach.c: which
 * attachment paths are refused before anything is opened, and that opening
 * stays inside the directory: no symlink is followed (a file, a directory
 * on the way, an escape), only regular files open, a FIFO cannot hang it.
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

static char root[256];   /* the temporary directory */
static char inside[300]; /* root/att: what attachments_dir would be */
static int dirfd_;

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    char path[400];
    snprintf(root, sizeof root, "%s/test_email_attach.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(root) == NULL)
        return -1;
    snprintf(inside, sizeof inside, "%s/att", root);
    if (mkdir(inside, 0700) < 0)
        return -1;
    snprintf(path, sizeof path, "%s/sub", inside);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/sub/report.pdf", inside);
    write_file(path, "%PDF-1.4 hello");
    snprintf(path, sizeof path, "%s/secret.txt", root);
    write_file(path, "secret");
    snprintf(path, sizeof path, "%s/escape.txt", inside);
    if (symlink("../secret.txt", path) < 0)
        return -1;
    snprintf(path, sizeof path, "%s/inner-link.pdf", inside);
    if (symlink("sub/report.pdf", path) < 0)
        return -1;
    snprintf(path, sizeof path, "%s/up", inside);
    if (symlink("..", path) < 0)
        return -1;
    snprintf(path, sizeof path, "%s/fifo", inside);
    if (mkfifo(path, 0600) < 0)
        return -1;
    dirfd_ = open(inside, O_RDONLY | O_DIRECTORY);
    return dirfd_ < 0 ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    const char *names[] = {"att/sub/report.pdf", "att/escape.txt", "att/inner-link.pdf", "att/up",
                           "att/fifo",           "secret.txt"};
    char path[400];
    close(dirfd_);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", root, names[i]);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/att/sub", root);
    rmdir(path);
    rmdir(inside);
    rmdir(root);
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

static void test_path_refusals(void **state)
{
    (void)state;
    assert_null(email_attach_path_refusal("a.pdf"));
    assert_null(email_attach_path_refusal("invoices/2024/11/a b.pdf"));
    assert_null(email_attach_path_refusal("..a/b..c/...")); /* names, not ".." */
    assert_string_equal(email_attach_path_refusal(""), "is empty");
    assert_non_null(strstr(email_attach_path_refusal("/etc/passwd"), "relative"));
    assert_non_null(strstr(email_attach_path_refusal(".."), ".."));
    assert_non_null(strstr(email_attach_path_refusal("a/../b"), ".."));
    assert_non_null(strstr(email_attach_path_refusal("a/.."), ".."));
    assert_non_null(strstr(email_attach_path_refusal("./a"), "\".\""));
    assert_non_null(strstr(email_attach_path_refusal("a//b"), "empty"));
    assert_non_null(strstr(email_attach_path_refusal("a/"), "ends with /"));
    assert_non_null(strstr(email_attach_path_refusal("a\nb"), "control"));
    char long_path[1100];
    memset(long_path, 'a', sizeof long_path - 1);
    long_path[sizeof long_path - 1] = '\0';
    assert_non_null(strstr(email_attach_path_refusal(long_path), "too long"));
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
    assert_open_fails("missing.pdf", "does not exist");
    assert_open_fails("sub/report.pdf/x", "not a directory");
    assert_open_fails("../secret.txt", "..");
    errno = 0;
    assert_open_fails("/etc/passwd", "relative");
    assert_int_equal(errno, EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_refusals),
        cmocka_unit_test(test_regular_file_in_a_subdirectory_opens),
        cmocka_unit_test(test_no_symlink_is_followed),
        cmocka_unit_test(test_only_regular_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
