/* test_confine.c - unit tests for src/common/confine.c: the checks on a
 * job's paths; opening beneath a directory with openat2 and with the forced
 * O_NOFOLLOW walk (symlinks out refused by both, symlinks inside followed
 * only by openat2, every symlink refused with CONFINE_NO_SYMLINKS); regular
 * files only, a FIFO does not block; parent directories created beneath the
 * root only; atomic writes that leave no temp file, on failure too, nor
 * when the writer is killed in the middle (O_TMPFILE).
 * Works in a fresh directory under $TMPDIR. */
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
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "confine.h"
#include "fs_fixture.h"

static char base[512]; /* the test's directory */
static char root[600]; /* the configured directory inside it */

/* ---- the path check ---- */

static void check_ok(const char *rel)
{
    char why[256] = "";
    int rc = confine_path_check(rel, strlen(rel), why, sizeof why);
    if (rc != 0)
        print_error("\"%s\" refused: %s\n", rel, why);
    assert_int_equal(rc, 0);
}

static void check_refused(const char *rel, size_t len, const char *reason)
{
    char why[256] = "";
    errno = 0;
    assert_int_equal(confine_path_check(rel, len, why, sizeof why), -1);
    assert_int_equal(errno, EINVAL);
    if (strstr(why, reason) == NULL)
        print_error("\"%s\": message \"%s\" lacks \"%s\"\n", rel, why, reason);
    assert_non_null(strstr(why, reason));
}

static void test_plain_relative_paths_pass(void **state)
{
    (void)state;
    const char *ok[] = {"cat.jpg",      "uploads/2024/cat.jpg", ".hidden.png",
                        "a..b/c...jpg", "..a/b..c/...", /* names, not ".." */
                        "a b/ü.pdf"};                   /* spaces and UTF-8 are fine */
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        check_ok(ok[i]);
}

static void test_escapes_odd_shapes_and_control_bytes_are_refused(void **state)
{
    (void)state;
    static const struct {
        const char *rel;
        size_t len;
        const char *reason;
    } refused[] = {
        {"/etc/passwd", 11, "absolute paths are not allowed"},
        {"/etc/passwd", 11, "relative"},
        {"..", 2, "\"..\" is not allowed"},
        {"../secret", 9, "\"..\""},
        {"a/../../b", 9, "\"..\""},
        {"a/..", 4, "\"..\""},
        {"./a", 3, "\".\" components"},
        {"a/./b", 5, "\".\" components"},
        {"a//b", 4, "empty component"},
        {"a/", 2, "ends with \"/\""},
        {"", 0, "empty"},
        {NULL, 0, "empty"},
        {"a\nb", 3, "control character"},
        {"a\rb", 3, "control character"},
        {"a\tb", 3, "control character"},
        {"a\x7f", 2, "control character"},
        {"a\x1b[31m", 6, "control character"},
        {"a\0b", 3, "NUL"}, /* JSON "a\u0000b" */
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        check_refused(refused[i].rel, refused[i].len, refused[i].reason);
}

static void test_long_and_deep_paths_are_refused(void **state)
{
    (void)state;
    char long_path[CONFINE_PATH_MAX + 2];
    memset(long_path, 'a', sizeof long_path - 1);
    long_path[sizeof long_path - 1] = '\0';
    check_refused(long_path, strlen(long_path), "longer than 1024 bytes");
    char deep[CONFINE_PATH_DEPTH * 2 + 4];
    size_t o = 0;
    for (int i = 0; i <= CONFINE_PATH_DEPTH; i++)
        o += (size_t)snprintf(deep + o, sizeof deep - o, "%s", i ? "/a" : "a");
    check_refused(deep, strlen(deep), "more than 16 components");
    deep[o - 2] = '\0'; /* exactly CONFINE_PATH_DEPTH components */
    check_ok(deep);
    char comp[CONFINE_NAME_MAX + 2];
    memset(comp, 'b', CONFINE_NAME_MAX + 1);
    comp[CONFINE_NAME_MAX + 1] = '\0';
    check_refused(comp, strlen(comp), "component is longer than 255 bytes");
    comp[CONFINE_NAME_MAX] = '\0';
    check_ok(comp);
}

/* ---- file-system fixtures ---- */

static int setup(void **state)
{
    (void)state;
    char p[1024];
    if (fs_tempdir(base, sizeof base, "test_confine") < 0)
        return -1;
    snprintf(root, sizeof root, "%s/root", base);
    mkdir(root, 0755);
    mkdir(fs_path(p, sizeof p, root, "sub"), 0755);
    fs_write(root, "cat.jpg", "cat");
    fs_write(root, "sub/dog.png", "dog");
    fs_write(base, "secret", "secret");
    /* links that stay inside (a file, a directory), one to a file outside,
     * one up to the parent, one absolute, and a FIFO */
    const char *links[][2] = {{"sub/dog.png", "inside.jpg"},
                              {"sub", "insidedir"},
                              {"../secret", "escape.jpg"},
                              {"..", "up"},
                              {"/etc", "abs"}};
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
        if (symlink(links[i][0], fs_path(p, sizeof p, root, links[i][1])) < 0)
            return -1;
    return mkfifo(fs_path(p, sizeof p, root, "fifo"), 0600);
}

static int teardown(void **state)
{
    (void)state;
    confine_force_fallback(0);
    fs_remove_all(base);
    return 0;
}

/* Each test starts with every feature on, whatever the last one left. */
static int reset_fallback(void **state)
{
    (void)state;
    confine_force_fallback(0);
    return 0;
}

static int open_root(void)
{
    int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    assert_true(fd >= 0);
    return fd;
}

/* Open rel beneath root as a regular file and read it into buf; -1 with
 * the reason in why. */
static int read_beneath(const char *rel, unsigned flags, char *buf, size_t cap, char *why,
                        size_t whycap)
{
    int dirfd = open_root();
    uint64_t size = 0;
    int fd = confine_open_file(dirfd, rel, flags, &size, why, whycap);
    close(dirfd);
    if (fd < 0)
        return -1;
    /* back to blocking reads, and not inherited by children */
    assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    assert_int_equal(n, (ssize_t)size);
    buf[n > 0 ? n : 0] = '\0';
    return 0;
}

static void assert_refused_beneath(const char *rel, unsigned flags, const char *reason)
{
    char buf[64], why[256] = "";
    int rc = read_beneath(rel, flags, buf, sizeof buf, why, sizeof why);
    if (rc == 0)
        print_error("\"%s\" opened\n", rel);
    assert_int_equal(rc, -1);
    if (strstr(why, reason) == NULL)
        print_error("reason for \"%s\" is \"%s\", wanted \"%s\"\n", rel, why, reason);
    assert_non_null(strstr(why, reason));
}

static void assert_reads(const char *rel, unsigned flags, const char *want)
{
    char buf[64], why[256] = "";
    if (read_beneath(rel, flags, buf, sizeof buf, why, sizeof why) < 0)
        print_error("\"%s\": %s\n", rel, why);
    assert_string_equal(buf, want);
}

/* What holds with openat2 and with the walk alike. */
static void beneath_cases(int fallback)
{
    confine_force_fallback(fallback ? CONFINE_FORCE_WALK : 0);
    assert_reads("cat.jpg", 0, "cat");
    assert_reads("sub/dog.png", 0, "dog");
    /* out of the root, by every route */
    assert_refused_beneath("escape.jpg", 0, fallback ? "symlink" : "outside the directory");
    assert_refused_beneath("up/secret", 0, fallback ? "symlink" : "outside the directory");
    assert_refused_beneath("abs/passwd", 0, fallback ? "symlink" : "outside the directory");
    assert_refused_beneath("../secret", 0, "\"..\" is not allowed");
    assert_refused_beneath("/etc/passwd", 0, "absolute paths are not allowed");
    /* what is not there, or not a file */
    assert_refused_beneath("nope.jpg", 0, "does not exist");
    assert_refused_beneath("nope.jpg", 0, "no such file");
    assert_refused_beneath("sub", 0, "not a regular file");
    assert_refused_beneath("fifo", 0, "not a regular file"); /* and it did not block */
    assert_refused_beneath("cat.jpg/x", 0, "not a directory");
    /* links that stay inside: followed by openat2, refused by the walk */
    if (fallback) {
        assert_refused_beneath("inside.jpg", 0, "symlink");
        assert_refused_beneath("insidedir/dog.png", 0, "symlink");
    } else {
        assert_reads("inside.jpg", 0, "dog");
        assert_reads("insidedir/dog.png", 0, "dog");
    }
    /* CONFINE_NO_SYMLINKS refuses them either way, naming the symlink */
    assert_refused_beneath("inside.jpg", CONFINE_NO_SYMLINKS, "symlink");
    assert_refused_beneath("insidedir/dog.png", CONFINE_NO_SYMLINKS, "symlink");
    assert_refused_beneath("escape.jpg", CONFINE_NO_SYMLINKS, "symlink");
    assert_refused_beneath("up/root/cat.jpg", CONFINE_NO_SYMLINKS, "symlink");
    assert_reads("sub/dog.png", CONFINE_NO_SYMLINKS, "dog");
}

static void test_open_beneath_with_openat2(void **state)
{
    (void)state;
    beneath_cases(0);
}

static void test_open_beneath_with_the_forced_walk(void **state)
{
    (void)state;
    beneath_cases(1);
}

static void test_open_keeps_errno_and_refuses_a_symlink_opened_as_o_path(void **state)
{
    (void)state;
    char why[256];
    int dirfd = open_root();
    errno = 0;
    assert_int_equal(confine_open(dirfd, "/etc/passwd", O_RDONLY, 0, why, sizeof why), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(confine_open(dirfd, "nope", O_RDONLY, 0, why, sizeof why), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(confine_open(dirfd, "new", O_WRONLY | O_CREAT, 0, why, sizeof why), -1);
    assert_int_equal(errno, EINVAL);
    /* O_PATH | O_NOFOLLOW would open the link itself: the walk says no */
    assert_int_equal(
        confine_open(dirfd, "inside.jpg", O_PATH, CONFINE_NO_SYMLINKS, why, sizeof why), -1);
    assert_int_equal(errno, ELOOP);
    assert_non_null(strstr(why, "symlink"));
    close(dirfd);
}

static void test_a_255_byte_name_opens(void **state)
{
    (void)state;
    char name[CONFINE_NAME_MAX + 1], p[1024], why[256];
    memset(name, 'n', CONFINE_NAME_MAX);
    name[CONFINE_NAME_MAX] = '\0';
    int dirfd = open_root();
    for (int fallback = 0; fallback <= 1; fallback++) {
        confine_force_fallback(fallback ? CONFINE_FORCE_WALK | CONFINE_FORCE_NAMED : 0);
        assert_int_equal(confine_write_atomic(dirfd, name, "long", 4, why, sizeof why), 0);
        assert_reads(name, 0, "long");
    }
    confine_force_fallback(0);
    close(dirfd);
    fs_path(p, sizeof p, root, name);
    unlink(p);
}

static void parent_cases(int fallback)
{
    char why[256], p[1024];
    const char *leaf;
    struct stat st;
    confine_force_fallback(fallback ? CONFINE_FORCE_WALK : 0);
    int dirfd = open_root();
    int fd = confine_open_parent(dirfd, "new/deeper/x.webp", CONFINE_CREATE_DIRS, &leaf, why,
                                 sizeof why);
    if (fd < 0)
        print_error("open_parent: %s\n", why);
    assert_true(fd >= 0);
    assert_string_equal(leaf, "x.webp");
    close(fd);
    fs_path(p, sizeof p, root, "new/deeper");
    assert_int_equal(stat(p, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    /* no directory is made through a link that leads out */
    assert_true(confine_open_parent(dirfd, "up/made/x.png", CONFINE_CREATE_DIRS, &leaf, why,
                                    sizeof why) < 0);
    snprintf(p, sizeof p, "%s/made", base);
    assert_int_equal(stat(p, &st), -1);
    assert_true(
        confine_open_parent(dirfd, "abs/x.png", CONFINE_CREATE_DIRS, &leaf, why, sizeof why) < 0);
    assert_true(
        confine_open_parent(dirfd, "../x.png", CONFINE_CREATE_DIRS, &leaf, why, sizeof why) < 0);
    assert_non_null(strstr(why, "\"..\""));
    /* without CONFINE_CREATE_DIRS, missing directories are an error */
    assert_true(confine_open_parent(dirfd, "missing/x.png", 0, &leaf, why, sizeof why) < 0);
    assert_non_null(strstr(why, "does not exist"));
    fs_path(p, sizeof p, root, "missing");
    assert_int_equal(stat(p, &st), -1);
    /* a file in the way of a directory */
    assert_true(confine_open_parent(dirfd, "cat.jpg/x.png", CONFINE_CREATE_DIRS, &leaf, why,
                                    sizeof why) < 0);
    fd = confine_open_parent(dirfd, "top.png", 0, &leaf, why, sizeof why);
    assert_true(fd >= 0);
    assert_string_equal(leaf, "top.png");
    close(fd);
    /* a link to a directory inside: openat2 follows it, the walk does not */
    fd = confine_open_parent(dirfd, "insidedir/x.png", 0, &leaf, why, sizeof why);
    assert_true(fallback ? fd < 0 : fd >= 0);
    if (fd >= 0)
        close(fd);
    assert_true(confine_open_parent(dirfd, "insidedir/x.png", CONFINE_NO_SYMLINKS, &leaf, why,
                                    sizeof why) < 0);
    close(dirfd);
    fs_path(p, sizeof p, root, "new");
    fs_remove_all(p);
}

static void test_open_parent_creates_beneath_only(void **state)
{
    (void)state;
    parent_cases(0);
    parent_cases(1);
}

static void write_replaces_cases(unsigned mode)
{
    char why[256], p[1024], buf[64];
    confine_force_fallback(mode);
    int dirfd = open_root();
    assert_int_equal(confine_write_atomic(dirfd, "out.gif", "first", 5, why, sizeof why), 0);
    assert_int_equal(confine_write_atomic(dirfd, "out.gif", "second!", 7, why, sizeof why), 0);
    assert_reads("out.gif", 0, "second!");
    fs_path(p, sizeof p, root, "out.gif");
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0133, 0); /* 0644 less the umask */
    assert_int_equal(fs_count(root, ".tmp"), 0);
    unlink(p);
    /* a symlink in the way (made here: the fixture's escape.jpg stays as
     * the other tests expect it) is replaced, not followed */
    fs_path(p, sizeof p, root, "inway.jpg");
    unlink(p);
    assert_int_equal(symlink("../secret", p), 0);
    assert_int_equal(confine_write_atomic(dirfd, "inway.jpg", "new", 3, why, sizeof why), 0);
    assert_int_equal(lstat(p, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_reads("inway.jpg", 0, "new");
    unlink(p);
    snprintf(p, sizeof p, "%s/secret", base);
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    assert_string_equal(buf, "secret");
    close(dirfd);
    confine_force_fallback(0);
}

/* The ways a temp file is made: unnamed and named with AT_EMPTY_PATH,
 * unnamed and named through /proc/self/fd, named from the start. */
static const unsigned write_modes[] = {0, CONFINE_FORCE_PROC_LINK, CONFINE_FORCE_NAMED};

static void test_write_atomic_replaces_and_leaves_no_temp(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof write_modes / sizeof write_modes[0]; i++)
        write_replaces_cases(write_modes[i]);
}

static void write_failure_cases(unsigned mode)
{
    char why[256];
    confine_force_fallback(mode);
    int dirfd = open_root();
    /* the rename fails (a directory has the name) after the temp file was
     * written: an error, and the temp file is gone */
    errno = 0;
    assert_int_equal(confine_write_atomic(dirfd, "sub", "x", 1, why, sizeof why), -1);
    assert_true(errno == EISDIR || errno == EEXIST || errno == ENOTEMPTY);
    assert_non_null(strstr(why, "the output name is a directory"));
    assert_int_equal(fs_count(root, ".tmp"), 0);
    /* a name that is not one plain component is refused before anything */
    assert_int_equal(confine_write_atomic(dirfd, "a/b", "x", 1, why, sizeof why), -1);
    assert_int_equal(confine_write_atomic(dirfd, "..", "x", 1, why, sizeof why), -1);
    assert_non_null(strstr(why, "\"..\""));
    assert_int_equal(confine_write_atomic(dirfd, "", "x", 1, why, sizeof why), -1);
    assert_int_equal(fs_count(root, ".tmp"), 0);
    close(dirfd);
    /* a descriptor that cannot be written through: the temp file cannot
     * be created, and the reason says so */
    assert_int_equal(confine_write_atomic(-1, "x.png", "x", 1, why, sizeof why), -1);
    assert_non_null(strstr(why, "cannot create a temp file"));
    confine_force_fallback(0);
}

static void test_write_atomic_failure_leaves_no_temp(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof write_modes / sizeof write_modes[0]; i++)
        write_failure_cases(write_modes[i]);
}

/* A child writes 4 MiB through confine_write_atomic and is killed in the
 * middle of it: RLIMIT_FSIZE lets the first 1 MiB through, and the next
 * write(2) raises SIGXFSZ, whose default action ends the process - at the
 * same point every run, no timing involved. Returns the temp files left. */
static int temps_left_by_a_killed_writer(unsigned mode)
{
    enum { BIG = 4 << 20, LIMIT = 1 << 20 };
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char why[256];
        struct rlimit fsize = {LIMIT, LIMIT}, core = {0, 0};
        setrlimit(RLIMIT_CORE, &core);
        setrlimit(RLIMIT_FSIZE, &fsize);
        signal(SIGXFSZ, SIG_DFL);
        confine_force_fallback(mode);
        char *buf = calloc(1, BIG);
        int dirfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (buf != NULL && dirfd >= 0)
            confine_write_atomic(dirfd, "big.pdf", buf, BIG, why, sizeof why);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    /* killed in the middle of the write, not after it */
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGXFSZ);
    char p[1024];
    assert_int_equal(access(fs_path(p, sizeof p, root, "big.pdf"), F_OK), -1);
    int left = fs_count(root, ".tmp");
    /* clean up what the named way left */
    DIR *d = opendir(root);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        if (strncmp(e->d_name, ".big.pdf.", 9) == 0)
            unlink(fs_path(p, sizeof p, root, e->d_name));
    if (d)
        closedir(d);
    return left;
}

static void test_a_writer_killed_mid_write_leaves_nothing(void **state)
{
    (void)state;
    assert_int_equal(fs_count(root, ".tmp"), 0);
    /* where $TMPDIR's file system has no O_TMPFILE (NFS, older overlayfs)
     * the named way is all there is, and leaves its temp file */
    int dirfd = open_root();
    int probe = openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    close(dirfd);
    if (probe >= 0)
        close(probe);
    assert_int_equal(temps_left_by_a_killed_writer(0), probe >= 0 ? 0 : 1);
    assert_int_equal(temps_left_by_a_killed_writer(CONFINE_FORCE_PROC_LINK), probe >= 0 ? 0 : 1);
    /* the named temp file is left: what the unnamed one is for, and proof
     * this test sees a leftover */
    assert_int_equal(temps_left_by_a_killed_writer(CONFINE_FORCE_NAMED), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_plain_relative_paths_pass, reset_fallback),
        cmocka_unit_test_setup(test_escapes_odd_shapes_and_control_bytes_are_refused,
                               reset_fallback),
        cmocka_unit_test_setup(test_long_and_deep_paths_are_refused, reset_fallback),
        cmocka_unit_test_setup(test_open_beneath_with_openat2, reset_fallback),
        cmocka_unit_test_setup(test_open_beneath_with_the_forced_walk, reset_fallback),
        cmocka_unit_test_setup(test_open_keeps_errno_and_refuses_a_symlink_opened_as_o_path,
                               reset_fallback),
        cmocka_unit_test_setup(test_a_255_byte_name_opens, reset_fallback),
        cmocka_unit_test_setup(test_open_parent_creates_beneath_only, reset_fallback),
        cmocka_unit_test_setup(test_write_atomic_replaces_and_leaves_no_temp, reset_fallback),
        cmocka_unit_test_setup(test_write_atomic_failure_leaves_no_temp, reset_fallback),
        cmocka_unit_test_setup(test_a_writer_killed_mid_write_leaves_nothing, reset_fallback),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
