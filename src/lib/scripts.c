/* scripts.c - the Lua scripts that make each multi-key change atomic.
 * The scripts themselves live in src/lib/scripts (one .lua file each), each with a header
 * saying its KEYS, ARGV and reply; they are embedded at build time and
 * loaded once per connection (conn.c). */
#include "internal.h"
#include "scripts.h"

#define SCRIPT(n) drudge_script drudge__script_##n = {#n, drudge_lua_##n, ""}
SCRIPT(push);
SCRIPT(push_many);
SCRIPT(start);
SCRIPT(ack_fetch);
SCRIPT(mark_running);
SCRIPT(promote);
SCRIPT(recover);
SCRIPT(requeue);
SCRIPT(heartbeat);
SCRIPT(cron_fire);
SCRIPT(limit);
SCRIPT(failed_retry);
SCRIPT(failed_delete);
SCRIPT(cancel);

drudge_script *const drudge__scripts[] = {
    &drudge__script_push, &drudge__script_push_many,    &drudge__script_start,   &drudge__script_ack_fetch,
    &drudge__script_mark_running, &drudge__script_promote, &drudge__script_recover,
    &drudge__script_requeue, &drudge__script_heartbeat, &drudge__script_cron_fire, &drudge__script_limit,
    &drudge__script_failed_retry, &drudge__script_failed_delete, &drudge__script_cancel,
};
const size_t drudge__nscripts = sizeof drudge__scripts / sizeof drudge__scripts[0];
