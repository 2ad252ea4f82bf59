#!/usr/bin/env bash
# Installs what the tests and the demo need on a fresh machine: Go modules,
# the pinned npm packages (npm ci), redis-server and Chromium from Debian's
# packages. Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v node >/dev/null 2>&1 || need_apt+=(nodejs npm)
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
if [ "${WITH_BROWSER:-1}" = 1 ] && ! command -v chromium >/dev/null 2>&1; then
	need_apt+=(chromium)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "setup: installing ${need_apt[*]} with apt-get"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
	else
		echo "setup: missing ${need_apt[*]}; install them (tests that need them will skip)" >&2
	fi
fi

go mod download

# npm ci only when the lock file changed since the last install.
if command -v npm >/dev/null 2>&1 && [ -f package-lock.json ]; then
	stamp=node_modules/.package-lock.json
	if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
		npm ci --no-audit --no-fund --loglevel=error
	fi
fi
