/* routes.c - every URL `drudge web` answers: a row per route and a
 * function each (api.c, sse.c, pages.c, demo.c). Anything else is a 404.
 * The flags say how server.c guards a route before calling it: WEB_MUTATES
 * needs the bearer token and a same-origin (or non-browser) request;
 * WEB_DATA needs the token too when reads are protected. */
#include "web_internal.h"

const web_route web_routes[] = {
    /* pages: one HTML shell; app.js renders what the path names */
    {WEB_GET, "/", web_page, 0, 0},
    {WEB_GET, "/workers", web_page, 0, 0},
    {WEB_GET, "/classes/{class}", web_page, 0, 0},
    {WEB_GET, "/jobs/{class}/{id}", web_page, 0, 0},
    {WEB_GET, "/demo", web_page, 0, 0},
    {WEB_GET, "/static/{file}", web_static, 0, 0},
    {WEB_GET, "/outputs/{path*}", web_output, WEB_DATA, 0},
    {WEB_GET, "/metrics", web_metrics, WEB_DATA, 0},

    /* JSON API */
    {WEB_GET, "/api/info", web_api_info, WEB_API, 0},
    {WEB_GET, "/api/stats", web_api_stats, WEB_API | WEB_DATA, 0},
    {WEB_GET, "/api/workers", web_api_workers, WEB_API | WEB_DATA, 0},
    {WEB_GET, "/api/capacity", web_api_capacity, WEB_API | WEB_DATA, 0},
    {WEB_GET, "/api/cron", web_api_cron, WEB_API | WEB_DATA, 0},
    {WEB_GET, "/api/classes/{class}/minutes", web_api_minutes, WEB_API | WEB_DATA, 0},
    {WEB_GET, "/api/classes/{class}/delayed", web_api_delayed_list, WEB_API | WEB_DATA, 0},
    {WEB_GET, "/api/classes/{class}/failed", web_api_failed_list, WEB_API | WEB_DATA, 0},
    {WEB_POST, "/api/classes/{class}/failed/retry", web_api_failed_retry_all, WEB_API | WEB_MUTATES,
     WEB_API_BODY_MAX},
    {WEB_POST, "/api/classes/{class}/failed/delete", web_api_failed_delete_all,
     WEB_API | WEB_MUTATES, WEB_API_BODY_MAX},
    {WEB_POST, "/api/classes/{class}/failed/{id}/retry", web_api_failed_retry,
     WEB_API | WEB_MUTATES, WEB_API_BODY_MAX},
    {WEB_POST, "/api/classes/{class}/failed/{id}/delete", web_api_failed_delete,
     WEB_API | WEB_MUTATES, WEB_API_BODY_MAX},
    {WEB_POST, "/api/classes/{class}/pause", web_api_pause, WEB_API | WEB_MUTATES,
     WEB_API_BODY_MAX},
    {WEB_POST, "/api/classes/{class}/resume", web_api_resume, WEB_API | WEB_MUTATES,
     WEB_API_BODY_MAX},
    {WEB_POST, "/api/jobs/{class}", web_api_job_push, WEB_API | WEB_MUTATES, WEB_BODY_PAYLOAD},
    {WEB_GET, "/api/jobs/{class}/{id}", web_api_job_get, WEB_API | WEB_DATA, 0},
    {WEB_GET, "/api/jobs/{class}/{id}/events", web_api_job_events, WEB_API | WEB_DATA, 0},
    {WEB_POST, "/api/jobs/{class}/{id}/cancel", web_api_job_cancel, WEB_API | WEB_MUTATES,
     WEB_API_BODY_MAX},
    {WEB_POST, "/api/demo/text-gif", web_demo_text_gif, WEB_API | WEB_MUTATES, WEB_API_BODY_MAX},
    {WEB_POST, "/api/demo/upload", web_demo_upload, WEB_API | WEB_MUTATES, WEB_UPLOAD_MAX},
    {0, NULL, NULL, 0, 0},
};
