#!/usr/bin/env bash
# Fills the formula template with one release's values and prints the formula:
#   fill-formula.sh URL SHA256 VERSION HOMEPAGE > macllm.rb
# URL is the release's source archive (https://, or file:// for the local test before the
# release exists); HOMEPAGE the repository's page. Each value is checked for its shape, so
# that nothing but a plain value can land inside the Ruby strings.
set -euo pipefail
if [ "$#" -ne 4 ]; then
  echo "usage: $0 URL SHA256 VERSION HOMEPAGE" >&2
  exit 1
fi
url=$1 sha256=$2 version=$3 homepage=$4
# Characters of a URL that are also safe inside a Ruby double-quoted string and sed.
url_shape='^(https|file)://[A-Za-z0-9._~/:%+=-]+$'
[[ $url =~ $url_shape ]] || { echo "$0: not a plain https:// or file:// URL: $url" >&2; exit 1; }
[[ $homepage =~ ^https://[A-Za-z0-9._~/:%+=-]+$ ]] \
  || { echo "$0: not a plain https:// URL: $homepage" >&2; exit 1; }
[[ $sha256 =~ ^[0-9a-f]{64}$ ]] || { echo "$0: not a SHA-256 in hex: $sha256" >&2; exit 1; }
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$ ]] \
  || { echo "$0: not a version: $version" >&2; exit 1; }

template="$(dirname "$0")/macllm.rb"
filled=$(sed -e "s|@URL@|$url|" -e "s|@SHA256@|$sha256|" -e "s|@VERSION@|$version|" \
  -e "s|@HOMEPAGE@|$homepage|" "$template")
if grep -n '@[A-Z0-9]*@' <<<"$filled" >&2; then
  echo "$0: placeholders left in the formula (above)" >&2
  exit 1
fi
printf '%s\n' "$filled"
