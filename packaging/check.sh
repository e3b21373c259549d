#!/usr/bin/env bash
# The release's pieces that can run off GitHub, run here (from .ci/run, after the tests
# built target/debug/macllm): the crates package and build alone, the formula is Ruby before
# and after the release workflow fills it in, the repository address lands in both crates,
# an archive holds what README.md says, and the workflows pass actionlint.
#   check.sh ACTIONLINT
set -euo pipefail
cd "$(dirname "$0")/.."
actionlint=$1
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

echo "-- cargo package --workspace"
# --allow-dirty: a developer's uncommitted work is packaged as it is (CI's clone is clean).
# A new target folder each run, never target/: verifying in target/ would leave build-script
# fingerprints that point at the packaged copies, so a later edit of build.rs would go
# unnoticed. And cargo unpacks the packaged crates under $CARGO_HOME/registry/src/ in a
# folder named after the temporary registry's path, and reuses one already there: with a
# fixed path, a machine that ran this check before verified the xtask against an older
# macllm (CI failed so, `cli::command` not found).
cargo package --workspace --locked --allow-dirty --target-dir "$scratch/package-check"

echo "-- formula"
ruby -c packaging/homebrew/macllm.rb
bash packaging/homebrew/fill-formula.sh https://example.invalid/macllm-0.0.0.tar.gz \
  "$(printf '0%.0s' $(seq 64))" 0.0.0 https://example.invalid/macllm > "$scratch/macllm.rb"
ruby -c "$scratch/macllm.rb"

echo "-- set-repository.sh"
mkdir "$scratch/tree"
git archive HEAD | tar -x -C "$scratch/tree"
bash "$scratch/tree/packaging/set-repository.sh" https://example.invalid/macllm
cargo metadata --manifest-path "$scratch/tree/Cargo.toml" --no-deps --format-version 1 \
  --offline > "$scratch/metadata.json"
python3 - "$scratch/metadata.json" <<'PY'
import json, sys
packages = {p["name"]: p["repository"] for p in json.load(open(sys.argv[1]))["packages"]}
want = {"macllm": "https://example.invalid/macllm",
        "macllm-emulated-mac": "https://example.invalid/macllm", "xtask": None}
assert packages == want, packages
print("repository set for", ", ".join(n for n, r in sorted(packages.items()) if r))
PY

echo "-- archive.sh"
cargo run -q --locked --package xtask -- man "$scratch/docs/man" > /dev/null
mkdir "$scratch/docs/completions"
target/debug/macllm completions bash > "$scratch/docs/completions/macllm.bash"
target/debug/macllm completions zsh > "$scratch/docs/completions/_macllm"
target/debug/macllm completions fish > "$scratch/docs/completions/macllm.fish"
bash packaging/archive.sh macllm-check target/debug/macllm "$scratch/docs" "$scratch/dist"
(cd "$scratch/dist" && shasum -a 256 -c macllm-check.tar.gz.sha256)
tar -tzf "$scratch/dist/macllm-check.tar.gz" | grep -v '^macllm-check/man/macllm-' | sort
tar -xzf "$scratch/dist/macllm-check.tar.gz" -C "$scratch"
"$scratch/macllm-check/macllm" --version

echo "-- workflows and scripts"
"$actionlint" -shellcheck shellcheck .github/workflows/*.yml
shellcheck packaging/*.sh packaging/homebrew/*.sh
echo "packaging checks passed"
