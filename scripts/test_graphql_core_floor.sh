#!/usr/bin/env bash
# Run tests against another graphql-core than .venv's: usage VERSION PYTEST-ARGS...
# A throwaway venv holds graphql-core VERSION alone and sees .venv's packages (the project's
# editable install included) behind it, so nothing else is installed; pip's wheel cache serves
# the wheel after the first run. .venv itself is left as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
version="$1"
shift
venv="$(mktemp -d)"
trap 'rm -rf "$venv"' EXIT
.venv/bin/python -m venv --without-pip "$venv"
purelib() { "$1" -c 'import sysconfig; print(sysconfig.get_path("purelib"))'; }
own="$(purelib "$venv/bin/python")"
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --target "$own" "graphql-core==$version"
# A .pth line runs at start-up: .venv's site-packages, with its own .pth files, after the venv's own.
echo "import site; site.addsitedir('$(purelib .venv/bin/python)')" > "$own/kalito-dot-venv.pth"
"$venv/bin/python" -c "import graphql, sys; sys.exit(graphql.__version__ != '$version' and f'graphql-core {graphql.__version__}, not $version')"
echo "graphql-core $version:"
"$venv/bin/python" -m pytest -p no:cacheprovider "$@"
