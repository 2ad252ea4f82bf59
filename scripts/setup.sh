#!/usr/bin/env bash
# Installs what the tests and the demo need on a fresh machine (Debian, as
# root): Node.js and npm, redis-server and Chromium from Debian's packages
# when missing, the Go modules, and the pinned npm packages (npm ci).
# Safe to run again: it only installs what is missing or stale.
# WITH_BROWSER=0 skips Chromium (then the browser tests skip, or fail in CI).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
if [ "${WITH_BROWSER:-1}" = 1 ] && ! command -v chromium >/dev/null 2>&1; then
	need_apt+=(chromium)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "setup: installing ${need_apt[*]} with apt-get"
		log=$(mktemp)
		if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends "${need_apt[@]}"; } >"$log" 2>&1; then
			cat "$log" >&2
			echo "setup: apt-get failed" >&2
			exit 1
		fi
		rm -f "$log"
	else
		echo "setup: missing ${need_apt[*]}; install them (tests that need them skip, or fail with CI=true)" >&2
		[ "${CI:-}" != true ] || exit 1
	fi
fi
if command -v node >/dev/null 2>&1; then
	major=$(node -p 'process.versions.node.split(".")[0]')
	if [ "$major" -lt 20 ]; then
		echo "setup: node $(node --version) is older than 20, which the pinned npm packages need" >&2
		[ "${CI:-}" != true ] || exit 1
	fi
fi

go mod download

# npm ci only when package-lock.json changed since the last install (npm
# writes node_modules/.package-lock.json at the end of each install);
# internal/interop uses the same rule.
if command -v npm >/dev/null 2>&1; then
	stamp=node_modules/.package-lock.json
	if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
		echo "setup: npm ci"
		npm ci --no-audit --no-fund --loglevel=error
	fi
fi
echo "setup: node $(node --version 2>/dev/null || echo missing), redis-server $(redis-server --version 2>/dev/null | grep -o 'v=[0-9.]*' || echo missing), chromium $(chromium --version 2>/dev/null || echo missing)"
