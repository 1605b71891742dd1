#!/bin/sh
# Builds the Porcupine harness offline from a Porcupine checkout: `fetch` (or git clone)
# anishathalye/porcupine, then: bench/porcupine/build.sh /path/to/porcupine.git [commit]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
git_dir=$1
commit=${2:-HEAD}
rm -rf "$here/upstream"
mkdir -p "$here/upstream"
git --git-dir="$git_dir" archive "$commit" | tar -x -C "$here/upstream"
cd "$here"
GOFLAGS=-mod=mod GOPROXY=off go build -o porcupine-bench .
echo "built $here/porcupine-bench from porcupine $(git --git-dir="$git_dir" rev-parse "$commit")"
