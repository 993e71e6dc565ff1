#!/usr/bin/env bash
# `npm run soak` runs this: raise the open-file limit for the soak's processes (a soft limit up to the
# hard one always works; past it needs root), then run bench/soak/soak.mjs with the arguments given.
ulimit -n 200000 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec node "$(dirname "$0")/soak.mjs" "$@"
