/* options.c - a PdfJob's JSON into pdf_job_opts, checked before any browser
 * or decoder sees it. Every key is a row in one table; an unknown key or a
 * bad value fails the job permanently with a message naming the key, so a
 * typo ("landscpae") is an error, not an A4 portrait PDF nobody asked for.
 * Units: the job speaks millimetres, Chromium inches; conversion is here. */
#include "pdf.h"

#include "confine.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MM_PER_IN 25.4
#define DEFAULT_MARGIN_MM 10.0
#define MARGIN_MAX_MM 500.0
#define PAPER_MIN_MM 10.0
#define PAPER_MAX_MM 5000.0
#define WAIT_MAX 1024
#define RANGES_MAX 256

typedef struct paper {
    const char *name;
    double w_mm, h_mm;
} paper;

static const paper papers[] = {
    {"A3", 297, 420},          {"A4", 210, 297},         {"A5", 148, 210},
    {"A6", 105, 148},          {"Letter", 215.9, 279.4}, {"Legal", 215.9, 355.6},
    {"Tabloid", 279.4, 431.8}, {"Ledger", 431.8, 279.4},
};

/* Which job kinds a key belongs to. */
enum { K_PAGE = 1, K_IMAGES = 2, K_ALL = 3 };

typedef int (*key_fn)(const json_t *v, pdf_job_opts *o, char *why, size_t whycap);

typedef struct key_row {
    const char *key;
    unsigned kinds;
    key_fn parse;
} key_row;

static int want_string(const char *key, const json_t *v, size_t max, const char **out, char *why,
                       size_t whycap)
{
    if (!json_is_string(v)) {
        snprintf(why, whycap, "\"%s\" must be a string", key);
        return -1;
    }
    if (json_string_length(v) > max || memchr(json_string_value(v), '\0', json_string_length(v))) {
        snprintf(why, whycap, "\"%s\" must be at most %zu bytes without NUL", key, max);
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

static int want_bool(const char *key, const json_t *v, int *out, char *why, size_t whycap)
{
    if (!json_is_boolean(v)) {
        snprintf(why, whycap, "\"%s\" must be true or false", key);
        return -1;
    }
    *out = json_is_true(v);
    return 0;
}

static int want_number(const char *key, const json_t *v, double min, double max, double *out,
                       char *why, size_t whycap)
{
    double d = json_number_value(v);
    if (!json_is_number(v) || !isfinite(d) || d < min || d > max) {
        snprintf(why, whycap, "\"%s\" must be a number from %g to %g", key, min, max);
        return -1;
    }
    *out = d;
    return 0;
}

static int k_url(const json_t *v, pdf_job_opts *o, char *why, size_t whycap)
{
    o->source = PDF_SOURCE_URL;
    if (want_string("url", v, 8192, &o->url, why, whycap) < 0)
        return -1;
    if (o->url[0] == '\0') {
        snprintf(why, whycap, "\"url\" must not be empty");
        return -1;
    }
    return 0;
}

static int k_html(const json_t *v, pdf_job_opts *o, char *why, size_t whycap)
{
    o->source = PDF_SOURCE_HTML;
    return want_string("html", v, 64u << 20, &o->html, why, whycap);
}

static int k_images(const json_t *v, pdf_job_opts *o, char *why, size_t whycap)
{
    o->source = PDF_SOURCE_IMAGES;
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > PDF_IMAGES_MAX) {
        snprintf(why, whycap, "\"images\" must be a list of 1 to %d paths", PDF_IMAGES_MAX);
        return -1;
    }
    for (size_t i = 0; i < json_array_size(v); i++) {
        const json_t *item = json_array_get(v, i);
        char inner[PDF_WHY_MAX];
        if (!json_is_string(item)) {
            snprintf(why, whycap, "\"images\"[%zu] must be a string", i);
            return -1;
        }
        if (confine_path_check(json_string_value(item), json_string_length(item), inner,
                               sizeof inner) < 0) {
            snprintf(why, whycap, "\"images\"[%zu]: %s", i, inner);
            return -1;
        }
    }
    o->images = v;
    return 0;
}

static int k_output(const json_t *v, pdf_job_opts *o, char *why, size_t whycap)
{
    char inner[PDF_WHY_MAX];
    if (want_string("output", v, 1024, &o->output, why, whycap) < 0)
        return -1;
    if (confine_path_check(o->output, json_string_length(v), inner, sizeof inner) < 0) {
        snprintf(why, whycap, "\"output\": %s", inner);
        return -1;
    }
    return 0;
}

static int k_paper(const json_t *v, pdf_job_opts *o, char *why, size_t whycap)
{
    if (json_is_string(v)) {
        for (size_t i = 0; i < sizeof papers / sizeof papers[0]; i++) {
            if (strcasecmp(json_string_value(v), papers[i].name) == 0) {
                snprintf(o->paper, sizeof o->paper, "%s", papers[i].name);
                o->paper_w = papers[i].w_mm / MM_PER_IN;
                o->paper_h = papers[i].h_mm / MM_PER_IN;
                return 0;
            }
        }
    } else if (json_is_object(v) && json_object_size(v) == 2) {
        double w, h;
        if (want_number("paper.width_mm", json_object_get(v, "width_mm"), PAPER_MIN_MM,
                        PAPER_MAX_MM, &w, why, whycap) < 0 ||
            want_number("paper.height_mm", json_object_get(v, "height_mm"), PAPER_MIN_MM,
                        PAPER_MAX_MM, &h, why, whycap) < 0)
            return -1;
        snprintf(o->paper, sizeof o->paper, "custom");
        o->paper_w = w / MM_PER_IN;
        o->paper_h = h / MM_PER_IN;
        return 0;
    }
    snprintf(why, whycap,
             "\"paper\" must be A3, A4, A5, A6, Letter, Legal, Tabloid, Ledger or "
             "{\"width_mm\": W, \"height_mm\": H}");
    return -1;
}

static int k_landscape(const json_t *v, pdf_job_opts *o, char *why, size_t whycap)
{
    return want_bool("landscape", v, &o->landscape, why, whycap);
}

static int k_margin(const json_t *v, pdf_job_opts *o, char *why, size_t whycap)
{
    static const char *const sides[] = {"top", "right", "bottom", "left"};
    double *fields[] = {&o->margin_top, &o->margin_right, &o->margin_bottom, &o->margin_left};
    if (json_is_number(v)) {
        double mm;
        if (want_number("margin_mm", v, 0, MARGIN_MAX_MM, &mm, why, whycap) < 0)
            return -1;
        for (size_t i = 0; i < 4; i++)
            *fields[i] = mm / MM_PER_IN;
        return 0;
    }
    if (!json_is_object(v)) {
        snprintf(why, whycap,
                 "\"margin_mm\" must be a number or {\"top\", \"right\", \"bottom\", \"left\"}");
        return -1;
    }
    const char *key;
    const json_t *side;
    json_object_foreach((json_t *)v, key, side)
    {
        size_t i = 0;
        while (i < 4 && strcmp(key, sides[i]) != 0)
            i++;
        if (i == 4) {
            snprintf(why, whycap, "\"margin_mm\" has unknown side \"%.40s\"", key);
            return -1;
        }
        char name[32];
        double mm;
        snprintf(name, sizeof name, "margin_mm.%s", sides[i]);
        if (want_number(name, side, 0, MARGIN_MAX_MM, &mm, why, whycap) < 0)
            return -1;
        *fields[i] = mm / MM_PER_IN;
    }
    return 0;
}

static int k_background(const json_t *v, pdf_job_opts *o, char *why, size_t whycap)
{
    return want_bool("print_background", v, &o->print_background, why, whycap);
}

static int k_scale(const json_t *v, pdf_job_opts *o, char *why, size_t whycap)
{
    return want_number("scale", v, 0.1, 2.0, &o->scale, why, whycap);
}

/* "1-3, 5, 7-" as Chromium takes it: numbers, '-', ',' and spaces. */
static int k_ranges(const json_t *v, pdf_job_opts *o, char *why, size_t whycap)
{
    if (want_string("page_ranges", v, RANGES_MAX, &o->page_ranges, why, whycap) < 0)
        return -1;
    int digits = 0;
    for (const char *p = o->page_ranges; *p; p++) {
        if (*p >= '0' && *p <= '9')
            digits = 1;
        else if (*p != '-' && *p != ',' && *p != ' ')
            digits = -1000;
    }
    if (digits <= 0) {
        snprintf(why, whycap, "\"page_ranges\" must look like \"1-3, 5\"");
        return -1;
    }
    return 0;
}

static int k_header(const json_t *v, pdf_job_opts *o, char *why, size_t whycap)
{
    return want_string("header_html", v, PDF_TEMPLATE_MAX, &o->header_html, why, whycap);
}

static int k_footer(const json_t *v, pdf_job_opts *o, char *why, size_t whycap)
{
    return want_string("footer_html", v, PDF_TEMPLATE_MAX, &o->footer_html, why, whycap);
}

static int k_css_size(const json_t *v, pdf_job_opts *o, char *why, size_t whycap)
{
    return want_bool("prefer_css_page_size", v, &o->prefer_css_page_size, why, whycap);
}

static int k_media(const json_t *v, pdf_job_opts *o, char *why, size_t whycap)
{
    if (want_string("media", v, 16, &o->media, why, whycap) < 0)
        return -1;
    if (strcmp(o->media, "print") != 0 && strcmp(o->media, "screen") != 0) {
        snprintf(why, whycap, "\"media\" must be \"print\" or \"screen\"");
        return -1;
    }
    return 0;
}

static int k_wait_for(const json_t *v, pdf_job_opts *o, char *why, size_t whycap)
{
    const char *s;
    if (want_string("wait_for", v, WAIT_MAX, &s, why, whycap) < 0)
        return -1;
    if (strcmp(s, "load") == 0) {
        o->wait = PDF_WAIT_LOAD;
    } else if (strcmp(s, "networkidle") == 0) {
        o->wait = PDF_WAIT_NETWORKIDLE;
    } else if (strcmp(s, "window.status") == 0) {
        o->wait = PDF_WAIT_STATUS;
        o->wait_value = "ready";
    } else if (s[0] == '\0') {
        snprintf(why, whycap,
                 "\"wait_for\" must be load, networkidle, window.status or a CSS selector");
        return -1;
    } else {
        o->wait = PDF_WAIT_SELECTOR;
        o->wait_value = s;
    }
    return 0;
}

static int k_window_status(const json_t *v, pdf_job_opts *o, char *why, size_t whycap)
{
    const char *s;
    if (want_string("window_status", v, 256, &s, why, whycap) < 0)
        return -1;
    o->wait = PDF_WAIT_STATUS;
    o->wait_value = s;
    return 0;
}

static int k_timeout(const json_t *v, pdf_job_opts *o, char *why, size_t whycap)
{
    if (want_number("timeout_s", v, 0.001, 3600, &o->timeout_s, why, whycap) < 0)
        return -1;
    return 0;
}

static int k_id(const json_t *v, pdf_job_opts *o, char *why, size_t whycap)
{
    (void)v, (void)o, (void)why, (void)whycap;
    return 0; /* the runtime's business */
}

static const key_row keys[] = {
    {"url", K_PAGE, k_url},
    {"html", K_PAGE, k_html},
    {"images", K_IMAGES, k_images},
    {"output", K_ALL, k_output},
    {"paper", K_ALL, k_paper},
    {"landscape", K_ALL, k_landscape},
    {"margin_mm", K_ALL, k_margin},
    {"print_background", K_PAGE, k_background},
    {"scale", K_PAGE, k_scale},
    {"page_ranges", K_PAGE, k_ranges},
    {"header_html", K_PAGE, k_header},
    {"footer_html", K_PAGE, k_footer},
    {"prefer_css_page_size", K_PAGE, k_css_size},
    {"media", K_PAGE, k_media},
    {"wait_for", K_PAGE, k_wait_for},
    {"window_status", K_PAGE, k_window_status},
    {"timeout_s", K_ALL, k_timeout},
    {"id", K_ALL, k_id},
};

int pdf_job_parse(const json_t *job, pdf_job_opts *o, char *why, size_t whycap)
{
    memset(o, 0, sizeof *o);
    snprintf(o->paper, sizeof o->paper, "A4");
    o->paper_w = 210 / MM_PER_IN;
    o->paper_h = 297 / MM_PER_IN;
    o->margin_top = o->margin_right = o->margin_bottom = o->margin_left =
        DEFAULT_MARGIN_MM / MM_PER_IN;
    o->scale = 1.0;
    o->wait = PDF_WAIT_LOAD;

    if (!json_is_object(job)) {
        snprintf(why, whycap, "the job must be a JSON object");
        return -1;
    }
    int sources = !!json_object_get(job, "url") + !!json_object_get(job, "html") +
                  !!json_object_get(job, "images");
    if (sources != 1) {
        snprintf(why, whycap, "the job needs exactly one of \"url\", \"html\" or \"images\"");
        return -1;
    }
    if (json_object_get(job, "wait_for") && json_object_get(job, "window_status")) {
        snprintf(why, whycap, "use either \"wait_for\" or \"window_status\", not both");
        return -1;
    }
    unsigned kind = json_object_get(job, "images") ? K_IMAGES : K_PAGE;
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)job, key, v)
    {
        size_t i = 0;
        while (i < sizeof keys / sizeof keys[0] && strcmp(keys[i].key, key) != 0)
            i++;
        if (i == sizeof keys / sizeof keys[0]) {
            snprintf(why, whycap, "unknown key \"%.60s\"", key);
            return -1;
        }
        if (!(keys[i].kinds & kind)) {
            snprintf(why, whycap, "\"%s\" does not apply to an images job", key);
            return -1;
        }
    }
    /* table order, not the payload's, so checks that depend on each other
     * see the same thing every time */
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if ((v = json_object_get(job, keys[i].key)) != NULL && keys[i].parse(v, o, why, whycap) < 0)
            return -1;
    }
    if (o->output == NULL) {
        snprintf(why, whycap, "\"output\" is required (a path relative to pdf.output_dir)");
        return -1;
    }
    double w, h;
    pdf_job_page_size(o, &w, &h);
    if (o->margin_left + o->margin_right > w - 0.4 || o->margin_top + o->margin_bottom > h - 0.4) {
        snprintf(why, whycap, "margins leave less than 10 mm of the %s page to print on", o->paper);
        return -1;
    }
    return 0;
}

void pdf_job_page_size(const pdf_job_opts *o, double *w, double *h)
{
    *w = o->landscape ? o->paper_h : o->paper_w;
    *h = o->landscape ? o->paper_w : o->paper_h;
}
