/* assets.c - the dashboard's files (web/), embedded in the binary by
 * tools/embed_assets.sh so that `drudge web` needs nothing on disk and no
 * CDN: it works offline and its pages cannot be swapped underneath it. */
#include "web_internal.h"

#include <string.h>

typedef struct web_asset_row {
    web_asset asset;
    const char *etag;
} web_asset_row;

#include "web_assets.h"

static const web_asset_row *find_row(const char *name)
{
    for (const web_asset_row *r = web_asset_table; r->asset.name; r++)
        if (strcmp(r->asset.name, name) == 0)
            return r;
    return NULL;
}

const web_asset *web_asset_find(const char *name)
{
    const web_asset_row *r = find_row(name);
    return r ? &r->asset : NULL;
}

const char *web_asset_etag(const web_asset *a)
{
    return ((const web_asset_row *)a)->etag;
}
