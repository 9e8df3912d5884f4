/* drudge-pdf - PdfJob: a URL or an HTML document to PDF with headless
 * Chromium (render.c), or images to PDF with MagickWand (images.c).
 *
 * Isolation is `inprocess` on purpose: the browser is kept across jobs, so
 * the handler must run in the process that owns it; the isolation boundary
 * is the browser itself - pages run in Chromium's renderer processes, never
 * in the worker, and a page that hangs or crashes costs a browser restart,
 * not the worker. With `isolation: fork` each job's child starts and kills a
 * browser of its own (correct, just a second slower per job). */
#include "pdf.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wand/MagickWand.h>

extern char **environ;

static pdf_worker worker;
static const char *config_path; /* --config as given, for --version */

/* Start-up failures are logged like the runtime's own (event=start_failed)
 * and end the process with exit code 1. */
static int pdf_init(const drudge_config *cfg, void *userdata)
{
    pdf_worker *w = userdata;
    char name[128], why[PDF_WHY_MAX];
    w->cfg = cfg;
    if (pdf_env_find_secret(environ, name, sizeof name)) {
        drudge_log(DRUDGE_LOG_ERROR, "start_failed",
                   "error=\"environment variable %s looks like a secret (*PASSWORD*, *SECRET*, "
                   "*TOKEN*, *KEY*): drudge-pdf renders untrusted pages and holds no secrets; "
                   "remove it from its environment (give a Redis password in redis.url of its "
                   "config file)\"",
                   name);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN); /* a dead browser is an error code, not a signal */
    pdf_guard_init(&w->guard, cfg->pdf_allowed_hosts, cfg->pdf_nallowed_hosts,
                   cfg->pdf_allow_private_networks, NULL, NULL);
    if (pdf_images_init(w, why, sizeof why) < 0) {
        drudge_log(DRUDGE_LOG_ERROR, "start_failed", "error=%s", why);
        pdf_images_fini(w);
        return 1;
    }
    /* start the browser now: a missing or broken one is a start-up error,
     * and the first job does not pay for the launch */
    pdf_browser_init(&w->browser, cfg);
    if (pdf_browser_ready(&w->browser, pdf_mono_ms() + 60000) < 0) {
        drudge_log(DRUDGE_LOG_ERROR, "start_failed", "error=%s", w->browser.errstr);
        pdf_images_fini(w);
        return 1;
    }
    pdf_render_prepare(w);
    drudge_log(DRUDGE_LOG_INFO, "pdf_start",
               "output_dir=%s input_dir=%s allow_private_networks=%s allowed_hosts=%zu "
               "sandbox=%s",
               cfg->pdf_output_dir, cfg->pdf_input_dir,
               cfg->pdf_allow_private_networks ? "yes" : "no", cfg->pdf_nallowed_hosts,
               geteuid() == 0 || cfg->pdf_no_sandbox ? "off" : "chromium");
    return 0;
}

static drudge_outcome pdf_handle(drudge_ctx *ctx, const drudge_job *job, void *userdata)
{
    pdf_worker *w = userdata;
    pdf_job_opts o;
    char why[PDF_WHY_MAX];
    if (pdf_job_parse(job->json, &o, why, sizeof why) < 0)
        return drudge_ctx_error(ctx, DRUDGE_FAIL, "%s", why);
    if (o.source == PDF_SOURCE_IMAGES)
        return pdf_images(w, ctx, &o);
    return pdf_render(w, ctx, &o);
}

static void pdf_fini(void *userdata)
{
    pdf_worker *w = userdata;
    pdf_browser_stop(&w->browser, "exit");
    pdf_images_fini(w);
}

static void pdf_idle(void *userdata)
{
    pdf_render_idle(userdata);
}

static void pdf_version(void *userdata)
{
    (void)userdata;
    char err[DRUDGE_ERRSTR_MAX], line[256];
    drudge_config *cfg = drudge_config_load(config_path, err, sizeof err);
    const char *configured = cfg ? cfg->pdf_chromium : "auto";
    const char *chromium = pdf_browser_path(configured);
    if (chromium == NULL)
        printf("chromium: none found (pdf.chromium \"auto\" looked for " PDF_AUTO_BROWSERS
               "; install chromium-headless-shell or chromium, or set pdf.chromium)\n");
    else if (pdf_browser_version(chromium, line, sizeof line) == 0)
        printf("chromium: %s (%s)\n", line, chromium);
    else
        printf("chromium: not found at \"%s\" (install chromium or set pdf.chromium)\n", chromium);
    size_t depth;
    printf("imagemagick: %s (PDF written through an in-process policy)\n",
           GetMagickVersion(&depth));
    drudge_config_free(cfg);
}

/* --config for --version, which the runtime handles before loading it. */
static const char *find_config(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) && i + 1 < argc)
            return argv[i + 1];
        if (strncmp(argv[i], "--config=", 9) == 0)
            return argv[i] + 9;
        if (strncmp(argv[i], "-c", 2) == 0 && argv[i][2] != '\0')
            return argv[i] + 2;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    config_path = find_config(argc, argv);
    drudge_worker_def def = {
        .program = "drudge-pdf",
        .default_class = "PdfJob",
        .handler = pdf_handle,
        .userdata = &worker,
        .init = pdf_init,
        .fini = pdf_fini,
        .version = pdf_version,
        .idle = pdf_idle,
    };
    drudge_class_defaults(&def.defaults);
    def.defaults.isolation = DRUDGE_ISOLATION_INPROCESS; /* see the top of this file */
    def.defaults.timeout = 90;
    def.defaults.max_attempts = 3;
    def.defaults.backoff_base = 5;
    return drudge_worker_main(argc, argv, &def);
}
