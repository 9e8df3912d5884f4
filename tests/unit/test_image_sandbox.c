/* test_image_sandbox.c - unit tests for src/workers/image/sandbox.c: the
 * forbidden-environment check, and the sandbox itself applied in a forked
 * child: execve, sockets and ptrace fail; with Landlock the child reads
 * only what it was given and writes only where it was told; the file size
 * limit turns into EFBIG, not a signal. Kernel features the machine lacks
 * are skipped, and say so.
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
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../src/workers/image/sandbox.h"

static void test_env_forbidden_matches_case_insensitively(void **state)
{
    (void)state;
    char *patterns[] = {"*PASSWORD*", "*SECRET*", "*TOKEN*", "*KEY*"};
    char *clean[] = {"PATH=/usr/bin", "HOME=/root", "DRUDGE_REDIS_URL=redis://x", NULL};
    char *dirty[] = {"PATH=/usr/bin", "aws_secret_access=abc", NULL};
    char *keyed[] = {"STRIPE_API_KEY=sk", NULL};
    char *noval[] = {"GITHUB_TOKEN", NULL};
    char name[64];
    const char *pattern = NULL;
    assert_int_equal(image_env_forbidden(clean, patterns, 4, name, sizeof name, &pattern), 0);
    assert_int_equal(image_env_forbidden(dirty, patterns, 4, name, sizeof name, &pattern), 1);
    assert_string_equal(name, "aws_secret_access");
    assert_string_equal(pattern, "*SECRET*");
    assert_int_equal(image_env_forbidden(keyed, patterns, 4, name, sizeof name, &pattern), 1);
    assert_string_equal(name, "STRIPE_API_KEY");
    assert_int_equal(image_env_forbidden(noval, patterns, 4, name, sizeof name, &pattern), 1);
    assert_string_equal(name, "GITHUB_TOKEN");
    /* no patterns (forbidden_env: []) allows everything */
    assert_int_equal(image_env_forbidden(dirty, patterns, 0, name, sizeof name, &pattern), 0);
    assert_int_equal(image_env_forbidden(NULL, patterns, 4, name, sizeof name, &pattern), 0);
}

static void test_describe_says_what_is_applied(void **state)
{
    (void)state;
    image_sandbox_caps caps;
    char text[200];
    image_sandbox_probe(&caps);
    image_sandbox_describe(&caps, text, sizeof text);
    assert_non_null(strstr(text, "no_new_privs"));
    assert_non_null(strstr(text, caps.seccomp ? "seccomp" : "no-seccomp"));
    assert_non_null(strstr(text, caps.landlock_abi ? "landlock(abi" : "no-landlock"));
    assert_non_null(strstr(image_sandbox_denied(), "execve"));
    assert_non_null(strstr(image_sandbox_denied(), "connect"));
    assert_non_null(strstr(image_sandbox_denied(), "ptrace"));
}

/* ---- the sandbox in a child ---- */

static char base[512], readable[600], writable[600], elsewhere[600];

static int setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(base, sizeof base, "%s/test_image_sandbox.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(base) == NULL)
        return -1;
    snprintf(readable, sizeof readable, "%s/in", base);
    snprintf(writable, sizeof writable, "%s/out", base);
    snprintf(elsewhere, sizeof elsewhere, "%s/other", base);
    mkdir(readable, 0755);
    mkdir(writable, 0755);
    mkdir(elsewhere, 0755);
    char p[700];
    snprintf(p, sizeof p, "%s/in.txt", readable);
    FILE *f = fopen(p, "w");
    if (f == NULL)
        return -1;
    fputs("input", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/secret.txt", elsewhere);
    f = fopen(p, "w");
    if (f == NULL)
        return -1;
    fputs("secret", f);
    fclose(f);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char p[700];
    const char *files[] = {"in/in.txt", "out/made.txt", "out/big.bin", "other/secret.txt",
                           "other/nope.txt", "in/nope.txt"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", base, files[i]);
        unlink(p);
    }
    rmdir(readable);
    rmdir(writable);
    rmdir(elsewhere);
    rmdir(base);
    return 0;
}

/* Results the child reports, one bit each (set = as expected). */
enum {
    R_APPLIED = 1 << 0,
    R_EXEC_REFUSED = 1 << 1,
    R_SOCKET_REFUSED = 1 << 2,
    R_PTRACE_REFUSED = 1 << 3,
    R_READ_GIVEN = 1 << 4,
    R_WRITE_GIVEN = 1 << 5,
    R_READ_ELSEWHERE_REFUSED = 1 << 6,
    R_WRITE_READONLY_REFUSED = 1 << 7,
    R_FSIZE_EFBIG = 1 << 8,
};

static int child_checks(const image_sandbox_caps *caps)
{
    int r = 0;
    char p[700], why[256];
    image_sandbox_spec spec = {
        .read_paths = {readable},
        .nread = 1,
        .write_dirs = {writable},
        .nwrite = 1,
        .as_bytes = 0,
        .cpu_seconds = 30,
        .fsize_bytes = 4096,
    };
    if (image_sandbox_apply(caps, &spec, why, sizeof why) < 0) {
        fprintf(stderr, "apply: %s\n", why);
        return 0;
    }
    r |= R_APPLIED;
    char *argv[] = {"/bin/true", NULL}, *envp[] = {NULL};
    if (execve("/bin/true", argv, envp) < 0 && errno == EPERM)
        r |= R_EXEC_REFUSED;
    if (socket(AF_INET, SOCK_STREAM, 0) < 0 && errno == EPERM)
        r |= R_SOCKET_REFUSED;
    if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0 && errno == EPERM)
        r |= R_PTRACE_REFUSED;
    snprintf(p, sizeof p, "%s/in.txt", readable);
    int fd = open(p, O_RDONLY);
    if (fd >= 0) {
        r |= R_READ_GIVEN;
        close(fd);
    }
    snprintf(p, sizeof p, "%s/made.txt", writable);
    fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        r |= R_WRITE_GIVEN;
        close(fd);
    }
    snprintf(p, sizeof p, "%s/secret.txt", elsewhere);
    fd = open(p, O_RDONLY);
    if (fd < 0 && errno == EACCES)
        r |= R_READ_ELSEWHERE_REFUSED;
    if (fd >= 0)
        close(fd);
    snprintf(p, sizeof p, "%s/nope.txt", readable);
    fd = open(p, O_WRONLY | O_CREAT, 0644);
    if (fd < 0 && errno == EACCES)
        r |= R_WRITE_READONLY_REFUSED;
    if (fd >= 0)
        close(fd);
    snprintf(p, sizeof p, "%s/big.bin", writable);
    fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        char block[8192] = {0};
        if (write(fd, block, sizeof block) < (ssize_t)sizeof block) {
            /* a short write up to the limit, then EFBIG */
            if (write(fd, block, sizeof block) < 0 && errno == EFBIG)
                r |= R_FSIZE_EFBIG;
        }
        close(fd);
    }
    return r;
}

static void test_sandbox_in_a_child(void **state)
{
    (void)state;
    image_sandbox_caps caps;
    image_sandbox_probe(&caps);
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(pipefd[0]);
        int r = child_checks(&caps);
        if (write(pipefd[1], &r, sizeof r) != sizeof r)
            _exit(1);
        _exit(0);
    }
    close(pipefd[1]);
    int r = 0, st = 0;
    assert_int_equal(read(pipefd[0], &r, sizeof r), (ssize_t)sizeof r);
    close(pipefd[0]);
    waitpid(pid, &st, 0);
    assert_true(r & R_APPLIED);
    assert_true(r & R_FSIZE_EFBIG);
    if (caps.seccomp) {
        assert_true(r & R_EXEC_REFUSED);
        assert_true(r & R_SOCKET_REFUSED);
        assert_true(r & R_PTRACE_REFUSED);
    } else {
        fprintf(stderr, "note: no seccomp on this kernel, syscall checks skipped\n");
    }
    assert_true(r & R_READ_GIVEN);
    assert_true(r & R_WRITE_GIVEN);
    if (caps.landlock_abi > 0) {
        assert_true(r & R_READ_ELSEWHERE_REFUSED);
        assert_true(r & R_WRITE_READONLY_REFUSED);
    } else {
        fprintf(stderr, "note: no Landlock (%s), file-system checks skipped\n", caps.landlock_why);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_env_forbidden_matches_case_insensitively),
        cmocka_unit_test(test_describe_says_what_is_applied),
        cmocka_unit_test(test_sandbox_in_a_child),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
