#!/bin/sh
# Embed the dashboard's files (web/*) in the drudge binary: each becomes a
# C array, and a table maps its file name to the bytes and an ETag (CRC of
# the content). Included by src/web/assets.c only. POSIX sh + od + cksum.
set -e
echo "/* generated from web/ by tools/embed_assets.sh; do not edit */"
i=0
for f in "$@"; do
    printf 'static const unsigned char web_asset_%d[] = {\n' "$i"
    od -An -v -tx1 "$f" | sed -e 's/^ *//' -e 's/ *$//' -e '/^$/d' -e 's/  */,0x/g' -e 's/^/0x/' -e 's/$/,/'
    printf '0x00};\n' # a NUL after the bytes; not counted in the length
    i=$((i + 1))
done
printf 'static const web_asset_row web_asset_table[] = {\n'
i=0
for f in "$@"; do
    name=$(basename "$f")
    sum=$(cksum < "$f" | cut -d' ' -f1)
    printf '    {{"%s", web_asset_%d, sizeof web_asset_%d - 1}, "\\"%s\\""},\n' "$name" "$i" "$i" "$sum"
    i=$((i + 1))
done
printf '    {{NULL, NULL, 0}, NULL},\n};\n'
