#!/usr/bin/env bash
# Adds the repository's address to the crates' metadata, once, in [workspace.package], and
# makes both published crates inherit it: set-repository.sh https://github.com/OWNER/NAME
#
# The committed Cargo.toml has no `repository`: the address exists only where the project is
# hosted, and the release workflow knows it (`github.repository`). It runs this just before
# `cargo publish`, so the crates on crates.io link to the repository they came from.
set -euo pipefail
if [ "$#" -ne 1 ] || ! [[ $1 =~ ^https://[A-Za-z0-9._/-]+$ ]]; then
  echo "usage: $0 https://HOST/OWNER/NAME" >&2
  exit 1
fi
cd "$(dirname "$0")/.."
if grep -q '^repository' Cargo.toml; then
  echo "$0: Cargo.toml already names a repository" >&2
  exit 1
fi
sed -i -e "/^\[workspace\.package\]\$/a repository = \"$1\"" Cargo.toml
for manifest in Cargo.toml crates/emulated-mac/Cargo.toml; do
  # Right after each published package's `license.workspace = true`.
  sed -i -e '/^license\.workspace = true$/a repository.workspace = true' "$manifest"
done
