#!/usr/bin/env bash
# Regenerate requirements.lock (runtime, used by the Docker image) and requirements-dev.lock
# (runtime + test/lint tools, used by `make install`) from pyproject.toml.
set -euo pipefail
python=${PYTHON:-python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$python -m venv "$tmp/rt" && $python -m venv "$tmp/dev"
deps=$($python -c 'import tomllib; p=tomllib.load(open("pyproject.toml","rb"))["project"]; print("\n".join(p["dependencies"]))')
dev=$($python -c 'import tomllib; p=tomllib.load(open("pyproject.toml","rb"))["project"]; print("\n".join(p["optional-dependencies"]["dev"]))')
mapfile -t deps_arr <<<"$deps"
mapfile -t dev_arr <<<"$dev"
"$tmp/rt/bin/pip" install --quiet --disable-pip-version-check "${deps_arr[@]}"
"$tmp/rt/bin/pip" freeze > requirements.lock
"$tmp/dev/bin/pip" install --quiet --disable-pip-version-check -c requirements.lock "${deps_arr[@]}" "${dev_arr[@]}"
{ echo "-r requirements.lock"; "$tmp/dev/bin/pip" freeze | grep -vxFf requirements.lock; } > requirements-dev.lock
echo "requirements.lock: $(wc -l < requirements.lock) packages; requirements-dev.lock: $(($(wc -l < requirements-dev.lock) - 1)) more"
