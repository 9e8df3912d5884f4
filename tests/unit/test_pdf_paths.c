/* test_pdf_paths.c - unit tests for src/workers/pdf/paths.c: which relative
 * paths a job may name, inputs that stay inside the input directory
 * (symlinks that lead out refused), and atomic outputs that create their
 * directories but never follow a symlink out of the output directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "confine.h"
#include "pdf.h"

static char base[256];

static void path_of(char *out, size_t cap, const char *rel)
{
    snprintf(out, cap, "%s/%s", base, rel);
}

static void write_file(const char *rel, const char *text)
{
    char p[512];
    path_of(p, sizeof p, rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    snprintf(base, sizeof base, "/tmp/test_pdf_paths-XXXXXX");
    assert_non_null(mkdtemp(base));
    char p[512];
    path_of(p, sizeof p, "in");
    mkdir(p, 0755);
    path_of(p, sizeof p, "in/sub");
    mkdir(p, 0755);
    path_of(p, sizeof p, "out");
    mkdir(p, 0755);
    path_of(p, sizeof p, "elsewhere");
    mkdir(p, 0755);
    write_file("secret.txt", "secret");
    write_file("in/sub/a.png", "png bytes");
    path_of(p, sizeof p, "in/escape");
    assert_int_equal(symlink("../secret.txt", p), 0);
    path_of(p, sizeof p, "in/inside");
    assert_int_equal(symlink("sub/a.png", p), 0);
    path_of(p, sizeof p, "out/evil");
    char target[512];
    path_of(target, sizeof target, "elsewhere");
    assert_int_equal(symlink(target, p), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_path_check(void **state)
{
    (void)state;
    char why[PDF_WHY_MAX];
    /* the rules are src/common/confine's (tests/unit/test_confine.c has
     * them all); these are the ones jobs meet */
    const char *good[] = {"a.pdf", "invoices/2024/123.pdf", ".hidden.pdf", "a..b.pdf", NULL};
    const char *bad[] = {"",      "/etc/passwd", "..",       "../x.pdf", "a/../../x", "./a.pdf",
                         "a/./b", "dir/",        "a\nb.pdf", "a//b.pdf", NULL};
    for (size_t i = 0; good[i]; i++)
        assert_int_equal(confine_path_check(good[i], strlen(good[i]), why, sizeof why), 0);
    for (size_t i = 0; bad[i]; i++) {
        if (confine_path_check(bad[i], strlen(bad[i]), why, sizeof why) != -1)
            print_error("\"%s\" accepted\n", bad[i]);
        assert_int_equal(confine_path_check(bad[i], strlen(bad[i]), why, sizeof why), -1);
    }
    /* a JSON string with a NUL inside: its length, not strlen, is checked */
    assert_int_equal(confine_path_check("a.pdf\0/../x", 11, why, sizeof why), -1);
}

static void test_input_stays_inside(void **state)
{
    (void)state;
    char in[512], why[PDF_WHY_MAX];
    path_of(in, sizeof in, "in");
    int fd = pdf_input_open(in, "sub/a.png", why, sizeof why);
    assert_true(fd >= 0);
    close(fd);
    fd = pdf_input_open(in, "inside", why, sizeof why); /* a symlink within: fine */
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(pdf_input_open(in, "escape", why, sizeof why), -1);
    /* openat2 says where it leads; a kernel without it, the O_NOFOLLOW walk */
    assert_true(strstr(why, "leads outside the directory") != NULL ||
                strstr(why, "is a symlink or goes through one") != NULL);
    assert_int_equal(pdf_input_open(in, "sub", why, sizeof why), -1);
    assert_non_null(strstr(why, "not a regular file"));
    assert_int_equal(pdf_input_open(in, "missing.png", why, sizeof why), -1);
    assert_non_null(strstr(why, "does not exist"));
    assert_int_equal(pdf_input_open(in, "../secret.txt", why, sizeof why), -1);
}

static void test_output_atomic_with_directories(void **state)
{
    (void)state;
    char out[512], p[512], why[PDF_WHY_MAX], buf[64];
    path_of(out, sizeof out, "out");
    assert_int_equal(pdf_output_save(out, "invoices/2024/1.pdf", "%PDF-one", 8, why, sizeof why),
                     0);
    assert_int_equal(pdf_output_save(out, "invoices/2024/1.pdf", "%PDF-two!", 9, why, sizeof why),
                     0);
    path_of(p, sizeof p, "out/invoices/2024/1.pdf");
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_int_equal(n, 9);
    assert_memory_equal(buf, "%PDF-two!", 9);
    /* no temp files left behind */
    path_of(p, sizeof p, "out/invoices/2024");
    DIR *d = opendir(p);
    assert_non_null(d);
    int entries = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        entries += e->d_name[0] != '.';
    closedir(d);
    assert_int_equal(entries, 1);
}

static void test_output_never_follows_symlinks(void **state)
{
    (void)state;
    char out[512], p[512], why[PDF_WHY_MAX];
    path_of(out, sizeof out, "out");
    assert_int_equal(pdf_output_save(out, "evil/x.pdf", "%PDF", 4, why, sizeof why), -1);
    assert_non_null(strstr(why, "symlink"));
    path_of(p, sizeof p, "elsewhere/x.pdf");
    assert_int_equal(access(p, F_OK), -1);
    assert_int_equal(pdf_output_save(out, "../x.pdf", "%PDF", 4, why, sizeof why), -1);
    /* a missing base directory is created */
    path_of(out, sizeof out, "new/base");
    assert_int_equal(pdf_output_save(out, "a.pdf", "%PDF", 4, why, sizeof why), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_check),
        cmocka_unit_test(test_input_stays_inside),
        cmocka_unit_test(test_output_atomic_with_directories),
        cmocka_unit_test(test_output_never_follows_symlinks),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
