/* test_image_args.c - unit tests for src/workers/image/args.c: typed,
 * range-checked job arguments whose messages name the op and the argument
 * (a job's author reads them in the failed list), and gravity placement.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/workers/image/args.h"

static json_t *obj;
static char why[512];
static image_args a;

static void use(const char *json)
{
    json_decref(obj);
    obj = json_loads(json, JSON_ALLOW_NUL, NULL);
    assert_non_null(obj);
    why[0] = '\0';
    image_args_init(&a, obj, "ops[1] (resize)", why, sizeof why);
}

static void assert_why(const char *part)
{
    if (strstr(why, part) == NULL)
        print_error("message \"%s\" lacks \"%s\"\n", why, part);
    assert_non_null(strstr(why, part));
}

static int teardown(void **state)
{
    (void)state;
    json_decref(obj);
    obj = NULL;
    return 0;
}

static void test_long_range_and_messages(void **state)
{
    (void)state;
    long v;
    int given;
    use("{\"width\": 256, \"height\": 256.0, \"bad\": -5, \"text\": \"x\", \"half\": 2.5}");
    assert_int_equal(image_args_long(&a, "width", 1, 16000, 1, 0, &v, &given), 0);
    assert_int_equal(v, 256);
    assert_true(given);
    assert_int_equal(image_args_long(&a, "height", 1, 16000, 1, 0, &v, NULL), 0);
    assert_int_equal(v, 256);
    assert_int_equal(image_args_long(&a, "missing", 1, 10, 0, 7, &v, &given), 0);
    assert_int_equal(v, 7);
    assert_false(given);
    assert_int_equal(image_args_long(&a, "bad", 1, 16000, 1, 0, &v, NULL), -1);
    assert_why("ops[1] (resize): bad must be an integer from 1 to 16000, got -5");
    assert_int_equal(image_args_long(&a, "text", 1, 10, 1, 0, &v, NULL), -1);
    assert_why("got \"x\"");
    assert_int_equal(image_args_long(&a, "half", 1, 10, 1, 0, &v, NULL), -1);
    assert_why("got 2.5");
    assert_int_equal(image_args_long(&a, "missing", 1, 10, 1, 0, &v, NULL), -1);
    assert_why("ops[1] (resize): missing is required");
}

static void test_double_and_bool(void **state)
{
    (void)state;
    double d;
    int b;
    use("{\"sigma\": 2, \"opacity\": 1.5, \"flag\": true, \"nope\": \"yes\"}");
    assert_int_equal(image_args_double(&a, "sigma", 0.1, 100, 1, 0, &d, NULL), 0);
    assert_true(d == 2.0);
    assert_int_equal(image_args_double(&a, "opacity", 0, 1, 0, 0.5, &d, NULL), -1);
    assert_why("opacity must be a number from 0 to 1, got 1.5");
    assert_int_equal(image_args_bool(&a, "flag", 0, &b), 0);
    assert_true(b);
    assert_int_equal(image_args_bool(&a, "absent", 1, &b), 0);
    assert_true(b);
    assert_int_equal(image_args_bool(&a, "nope", 0, &b), -1);
    assert_why("true or false");
}

static void test_choice_lists_the_choices(void **state)
{
    (void)state;
    static const char *const modes[] = {"fit", "fill", "exact", NULL};
    int m;
    use("{\"mode\": \"fill\", \"bad\": \"stretch\"}");
    assert_int_equal(image_args_choice(&a, "mode", modes, 0, 0, &m), 0);
    assert_int_equal(m, 1);
    assert_int_equal(image_args_choice(&a, "absent", modes, 0, 2, &m), 0);
    assert_int_equal(m, 2);
    assert_int_equal(image_args_choice(&a, "bad", modes, 0, 0, &m), -1);
    assert_why("bad must be one of fit, fill, exact, got \"stretch\"");
}

static void test_strings_and_colors(void **state)
{
    (void)state;
    char s[16], c[64];
    use("{\"text\": \"Hello\", \"long\": \"0123456789abcdefXYZ\", \"ctl\": \"a\\u0007b\", "
        "\"nul\": \"a\\u0000b\", \"color\": \"rgb(10,20,30)\", \"evil\": \"url(x|touch y)\", "
        "\"hex\": \"#ff00aa\"}");
    assert_int_equal(image_args_string(&a, "text", 1, NULL, s, sizeof s), 0);
    assert_string_equal(s, "Hello");
    assert_int_equal(image_args_string(&a, "long", 1, NULL, s, sizeof s), -1);
    assert_why("1 to 15 bytes");
    assert_int_equal(image_args_string(&a, "ctl", 1, NULL, s, sizeof s), -1);
    assert_why("control");
    assert_int_equal(image_args_string(&a, "nul", 1, NULL, s, sizeof s), -1);
    assert_int_equal(image_args_string(&a, "absent", 0, "def", s, sizeof s), 0);
    assert_string_equal(s, "def");
    assert_int_equal(image_args_color(&a, "color", "white", c), 0);
    assert_string_equal(c, "rgb(10,20,30)");
    assert_int_equal(image_args_color(&a, "hex", "white", c), 0);
    assert_int_equal(image_args_color(&a, "absent", "white", c), 0);
    assert_string_equal(c, "white");
    assert_int_equal(image_args_color(&a, "evil", "white", c), -1);
    assert_why("colour");
}

static void test_unknown_arguments_are_named(void **state)
{
    (void)state;
    static const char *const accepted[] = {"width", "height", "mode", NULL};
    static const char *const none[] = {NULL};
    use("{\"op\": \"resize\", \"width\": 10, \"widht\": 20}");
    assert_int_equal(image_args_known(&a, accepted), -1);
    assert_why("unknown argument \"widht\" (takes width, height, mode)");
    use("{\"op\": \"resize\", \"width\": 10}");
    assert_int_equal(image_args_known(&a, accepted), 0);
    use("{\"op\": \"strip\", \"x\": 1}");
    assert_int_equal(image_args_known(&a, none), -1);
    assert_why("takes none");
}

static void test_gravity_placement(void **state)
{
    (void)state;
    long x, y;
    image_gravity_place(IMAGE_GRAVITY_CENTER, 100, 50, 20, 10, 0, &x, &y);
    assert_int_equal(x, 40);
    assert_int_equal(y, 20);
    image_gravity_place(IMAGE_GRAVITY_SOUTHEAST, 100, 50, 20, 10, 5, &x, &y);
    assert_int_equal(x, 75);
    assert_int_equal(y, 35);
    image_gravity_place(IMAGE_GRAVITY_NORTHWEST, 100, 50, 20, 10, 5, &x, &y);
    assert_int_equal(x, 5);
    assert_int_equal(y, 5);
    image_gravity_place(IMAGE_GRAVITY_NORTH, 100, 50, 20, 10, 0, &x, &y);
    assert_int_equal(x, 40);
    assert_int_equal(y, 0);
    image_gravity_place(IMAGE_GRAVITY_WEST, 100, 50, 200, 10, 0, &x, &y);
    assert_int_equal(x, 0);
    assert_int_equal(y, 20);
    assert_string_equal(image_gravity_names[IMAGE_GRAVITY_SOUTHWEST], "southwest");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_long_range_and_messages, teardown),
        cmocka_unit_test_teardown(test_double_and_bool, teardown),
        cmocka_unit_test_teardown(test_choice_lists_the_choices, teardown),
        cmocka_unit_test_teardown(test_strings_and_colors, teardown),
        cmocka_unit_test_teardown(test_unknown_arguments_are_named, teardown),
        cmocka_unit_test(test_gravity_placement),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
