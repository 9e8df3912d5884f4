#!/bin/sh
# Turn each Lua script into a C string constant named drudge_lua_<basename>,
# with src/lib/scripts/_common.lua (shared helpers) prepended to each.
set -e
dir=$(dirname "$1")
echo "/* generated from the .lua files in src/lib/scripts by tools/embed.sh; do not edit */"
quote() { sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/    "/' -e 's/$/\\n"/' "$1"; }
for f in "$@"; do
    name=$(basename "$f" .lua)
    case "$name" in _*) continue ;; esac
    printf 'static const char drudge_lua_%s[] =\n' "$name"
    quote "$dir/_common.lua"
    quote "$f"
    printf '    ;\n'
done
