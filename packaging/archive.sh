#!/usr/bin/env bash
# One release archive and its checksum:
#   archive.sh NAME BINARY DOCS OUTDIR
# writes OUTDIR/NAME.tar.gz, holding the folder NAME/ with the binary, README.md, both
# licences, DOCS/man/*.1 in man/ and DOCS/completions/* in completions/, and
# OUTDIR/NAME.tar.gz.sha256 in `shasum -a 256` format (bare file name, so that
# `shasum -a 256 -c` works wherever the two files are downloaded together).
set -euo pipefail
if [ "$#" -ne 4 ]; then
  echo "usage: $0 NAME BINARY DOCS OUTDIR" >&2
  exit 1
fi
name=$1 binary=$2 docs=$3 out=$4
root="$(cd "$(dirname "$0")/.." && pwd)"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/$name/man" "$stage/$name/completions" "$out"
install -m 755 "$binary" "$stage/$name/macllm"
cp "$root/README.md" "$root/LICENSE-MIT" "$root/LICENSE-APACHE" "$stage/$name/"
cp "$docs"/man/*.1 "$stage/$name/man/"
cp "$docs"/completions/* "$stage/$name/completions/"
tar -C "$stage" -czf "$out/$name.tar.gz" "$name"
(cd "$out" && shasum -a 256 "$name.tar.gz" > "$name.tar.gz.sha256")
