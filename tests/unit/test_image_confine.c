/* test_image_confine.c - unit tests for src/workers/image/confine.c: the
 * checks on a job's paths, opening beneath a directory with openat2 and
 * with the O_NOFOLLOW fallback (symlinks out are refused by both), output
 * directories created beneath the root only, and atomic writes that leave
 * no temp file behind. Works in a fresh directory under $TMPDIR.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/workers/image/confine.h"

static char base[512];  /* the test's directory */
static char root[600];  /* the "input_dir" inside it */

static void check_ok(const char *rel)
{
    char why[256] = "";
    int rc = image_path_check(rel, strlen(rel), why, sizeof why);
    if (rc != 0)
        print_error("\"%s\" refused: %s\n", rel, why);
    assert_int_equal(rc, 0);
}

static void check_refused(const char *rel, size_t len, const char *reason)
{
    char why[256] = "";
    assert_int_equal(image_path_check(rel, len, why, sizeof why), -1);
    if (strstr(why, reason) == NULL)
        print_error("\"%s\": message \"%s\" lacks \"%s\"\n", rel, why, reason);
    assert_non_null(strstr(why, reason));
}

static void test_path_check(void **state)
{
    (void)state;
    check_ok("cat.jpg");
    check_ok("uploads/2024/cat.jpg");
    check_ok(".hidden.png");
    check_ok("a..b/c...jpg");
    check_refused("/etc/passwd", 11, "absolute");
    check_refused("../secret", 9, "\"..\"");
    check_refused("a/../../b", 9, "\"..\"");
    check_refused("a/..", 4, "\"..\"");
    check_refused("./a", 3, "\".\"");
    check_refused("a//b", 4, "empty component");
    check_refused("a/", 2, "ends with");
    check_refused("", 0, "empty");
    check_refused("a\nb", 3, "control");
    check_refused("a\0b", 3, "NUL");
    char long_path[IMAGE_PATH_MAX + 2];
    memset(long_path, 'a', sizeof long_path - 1);
    long_path[sizeof long_path - 1] = '\0';
    check_refused(long_path, strlen(long_path), "longer than");
    char deep[IMAGE_PATH_DEPTH * 2 + 4];
    size_t o = 0;
    for (int i = 0; i <= IMAGE_PATH_DEPTH; i++)
        o += (size_t)snprintf(deep + o, sizeof deep - o, "%s", i ? "/a" : "a");
    check_refused(deep, strlen(deep), "components");
    char comp[300];
    memset(comp, 'b', 256);
    comp[256] = '\0';
    check_refused(comp, strlen(comp), "component is longer");
}

/* ---- file-system fixtures ---- */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void remove_all(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char sub[1024];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            remove_all(sub);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static int setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(base, sizeof base, "%s/test_image_confine.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(base) == NULL)
        return -1;
    char p[1024];
    snprintf(root, sizeof root, "%s/root", base);
    mkdir(root, 0755);
    snprintf(p, sizeof p, "%s/sub", root);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/cat.jpg", root);
    write_file(p, "cat");
    snprintf(p, sizeof p, "%s/sub/dog.png", root);
    write_file(p, "dog");
    snprintf(p, sizeof p, "%s/secret", base);
    write_file(p, "secret");
    /* a link that stays inside, one to a file outside, one to a dir outside */
    snprintf(p, sizeof p, "%s/inside.jpg", root);
    if (symlink("sub/dog.png", p) < 0)
        return -1;
    snprintf(p, sizeof p, "%s/escape.jpg", root);
    if (symlink("../secret", p) < 0)
        return -1;
    snprintf(p, sizeof p, "%s/up", root);
    if (symlink("..", p) < 0)
        return -1;
    snprintf(p, sizeof p, "%s/abs", root);
    if (symlink("/etc", p) < 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    image_confine_force_fallback(0);
    remove_all(base);
    return 0;
}

static int open_root(void)
{
    int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    assert_true(fd >= 0);
    return fd;
}

/* Contents of rel opened beneath root, or NULL with the reason in why. */
static int read_beneath(const char *rel, char *buf, size_t cap, char *why, size_t whycap)
{
    int dirfd = open_root();
    int fd = image_open_beneath(dirfd, rel, O_RDONLY, why, whycap);
    close(dirfd);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    return 0;
}

static void beneath_cases(int fallback)
{
    char buf[64], why[256];
    image_confine_force_fallback(fallback);
    assert_int_equal(read_beneath("cat.jpg", buf, sizeof buf, why, sizeof why), 0);
    assert_string_equal(buf, "cat");
    assert_int_equal(read_beneath("sub/dog.png", buf, sizeof buf, why, sizeof why), 0);
    assert_string_equal(buf, "dog");
    /* out of the root, by every route */
    assert_int_equal(read_beneath("escape.jpg", buf, sizeof buf, why, sizeof why), -1);
    assert_int_equal(read_beneath("up/secret", buf, sizeof buf, why, sizeof why), -1);
    assert_int_equal(read_beneath("abs/passwd", buf, sizeof buf, why, sizeof why), -1);
    assert_int_equal(read_beneath("nope.jpg", buf, sizeof buf, why, sizeof why), -1);
    assert_non_null(strstr(why, "no such file"));
    /* a link that stays inside: followed by openat2, refused by the walk */
    int rc = read_beneath("inside.jpg", buf, sizeof buf, why, sizeof why);
    if (fallback) {
        assert_int_equal(rc, -1);
    } else {
        assert_int_equal(rc, 0);
        assert_string_equal(buf, "dog");
    }
}

static void test_open_beneath_openat2(void **state)
{
    (void)state;
    beneath_cases(0);
}

static void test_open_beneath_fallback(void **state)
{
    (void)state;
    beneath_cases(1);
}

static void test_escape_message_names_the_symlink(void **state)
{
    (void)state;
    char buf[64], why[256];
    image_confine_force_fallback(0);
    assert_int_equal(read_beneath("escape.jpg", buf, sizeof buf, why, sizeof why), -1);
    assert_non_null(strstr(why, "outside"));
}

static void parent_cases(int fallback)
{
    char why[256];
    const char *leaf;
    image_confine_force_fallback(fallback);
    int dirfd = open_root();
    int fd = image_open_parent(dirfd, "new/deeper/x.webp", 1, &leaf, why, sizeof why);
    if (fd < 0)
        print_error("open_parent: %s\n", why);
    assert_true(fd >= 0);
    assert_string_equal(leaf, "x.webp");
    close(fd);
    char p[1024];
    struct stat st;
    snprintf(p, sizeof p, "%s/new/deeper", root);
    assert_int_equal(stat(p, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    /* no directory is made through a link that leads out */
    assert_true(image_open_parent(dirfd, "up/made/x.png", 1, &leaf, why, sizeof why) < 0);
    snprintf(p, sizeof p, "%s/made", base);
    assert_int_equal(stat(p, &st), -1);
    assert_true(image_open_parent(dirfd, "abs/x.png", 1, &leaf, why, sizeof why) < 0);
    /* without create, missing directories are an error */
    assert_true(image_open_parent(dirfd, "missing/x.png", 0, &leaf, why, sizeof why) < 0);
    fd = image_open_parent(dirfd, "top.png", 0, &leaf, why, sizeof why);
    assert_true(fd >= 0);
    assert_string_equal(leaf, "top.png");
    close(fd);
    close(dirfd);
    snprintf(p, sizeof p, "%s/new", root);
    remove_all(p);
}

static void test_open_parent_creates_beneath_only(void **state)
{
    (void)state;
    parent_cases(0);
    parent_cases(1);
}

/* Names in dir other than . and .. that contain `part`. */
static int count_entries(const char *dir, const char *part)
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

static void test_write_atomic_replaces_and_leaves_no_temp(void **state)
{
    (void)state;
    char why[256], p[1024], buf[64];
    int dirfd = open_root();
    assert_int_equal(image_write_atomic(dirfd, "out.gif", "first", 5, why, sizeof why), 0);
    assert_int_equal(image_write_atomic(dirfd, "out.gif", "second!", 7, why, sizeof why), 0);
    snprintf(p, sizeof p, "%s/out.gif", root);
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    assert_string_equal(buf, "second!");
    assert_int_equal(count_entries(root, ".tmp"), 0);
    /* a directory in the way: an error, and still no temp file */
    assert_int_equal(image_write_atomic(dirfd, "sub", "x", 1, why, sizeof why), -1);
    assert_non_null(strstr(why, "directory"));
    assert_int_equal(count_entries(root, ".tmp"), 0);
    /* a symlink in the way is replaced, not followed */
    assert_int_equal(image_write_atomic(dirfd, "escape.jpg", "new", 3, why, sizeof why), 0);
    snprintf(p, sizeof p, "%s/secret", base);
    f = fopen(p, "r");
    assert_non_null(f);
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    assert_string_equal(buf, "secret");
    close(dirfd);
}

static void test_remove_tree(void **state)
{
    (void)state;
    char p[1024], q[1100];
    snprintf(p, sizeof p, "%s/tmpjob", base);
    mkdir(p, 0700);
    snprintf(q, sizeof q, "%s/magick-1", p);
    write_file(q, "x");
    snprintf(q, sizeof q, "%s/inner", p);
    mkdir(q, 0700);
    snprintf(q, sizeof q, "%s/inner/f", p);
    write_file(q, "y");
    assert_int_equal(image_remove_tree(p), 0);
    struct stat st;
    assert_int_equal(stat(p, &st), -1);
    assert_int_equal(image_remove_tree(p), 0); /* already gone is fine */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_check),
        cmocka_unit_test(test_open_beneath_openat2),
        cmocka_unit_test(test_open_beneath_fallback),
        cmocka_unit_test(test_escape_message_names_the_symlink),
        cmocka_unit_test(test_open_parent_creates_beneath_only),
        cmocka_unit_test(test_write_atomic_replaces_and_leaves_no_temp),
        cmocka_unit_test(test_remove_tree),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
