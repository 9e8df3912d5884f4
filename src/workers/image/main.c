/* drudge-image - image jobs with MagickWand, sandboxed. Class ImageJob,
 * fork isolation by default: every job runs in a child that drops what it
 * does not need (sandbox.c) before it reads the input.
 *
 *   {"input": "uploads/cat.jpg", "output": "thumbs/cat.webp",
 *    "ops": [{"op": "auto_orient"}, {"op": "thumbnail", "width": 256, "height": 256}]}
 *   {"op_set": "text_gif", "text": "Hello", "output": "gifs/hello.gif"}
 *
 * This file only wires the worker runtime to the rest (image.h lists the
 * files): set-up (setup.c), the handler (job.c, textgif.c), --version. */
#include "image.h"

#include <stdio.h>
#include <string.h>

static image_worker worker;

#if defined(__SANITIZE_ADDRESS__)
#define IMAGE_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define IMAGE_LSAN 1
#endif
#endif
#ifdef IMAGE_LSAN
/* make SANITIZE=1: libx265, loaded when the warm-up encodes HEIC, keeps an
 * allocation for the life of the process; not ours to free. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libx265.so\n";
}
#endif

static int image_init(const drudge_config *cfg, void *userdata)
{
    return image_setup_start(userdata, cfg) < 0 ? 1 : 0;
}

static int image_child_init(const drudge_config *cfg, void *userdata)
{
    (void)cfg;
    return image_setup_child(userdata) < 0 ? 1 : 0;
}

static void image_fini(void *userdata)
{
    image_setup_stop(userdata);
}

/* ---- jobs ---- */

typedef drudge_outcome (*op_set_fn)(image_worker *w, drudge_ctx *ctx, const drudge_job *job);

/* Named job shapes besides a plain "ops" list. */
static const struct {
    const char *name;
    op_set_fn run;
} op_sets[] = {
    {"text_gif", image_text_gif_run},
};

static drudge_outcome image_handle(drudge_ctx *ctx, const drudge_job *job, void *userdata)
{
    image_worker *w = userdata;
    const json_t *set = json_object_get(job->json, "op_set");
    if (set == NULL)
        return image_job_run(w, ctx, job);
    for (size_t i = 0; json_is_string(set) && i < sizeof op_sets / sizeof op_sets[0]; i++)
        if (strcmp(json_string_value(set), op_sets[i].name) == 0)
            return op_sets[i].run(w, ctx, job);
    return drudge_ctx_error(ctx, DRUDGE_FAIL, "op_set must be \"text_gif\" (or leave it out and give ops)");
}

static void image_version(void *userdata)
{
    (void)userdata;
    image_sandbox_caps caps;
    char sandbox[160];
    image_magick_print_version();
    image_sandbox_probe(&caps);
    image_sandbox_describe(&caps, sandbox, sizeof sandbox);
    printf("sandbox (fork isolation): %s\n", sandbox);
    if (caps.seccomp)
        printf("seccomp refuses: %s\n", image_sandbox_denied());
}

int main(int argc, char **argv)
{
    drudge_worker_def def = {
        .program = "drudge-image",
        .default_class = "ImageJob",
        .handler = image_handle,
        .userdata = &worker,
        .init = image_init,
        .child_init = image_child_init,
        .fini = image_fini,
        .version = image_version,
    };
    drudge_class_defaults(&def.defaults);
    def.defaults.isolation = DRUDGE_ISOLATION_FORK;
    def.defaults.timeout = 60;
    def.defaults.max_attempts = 3;
    return drudge_worker_main(argc, argv, &def);
}
