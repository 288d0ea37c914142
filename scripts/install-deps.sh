#!/usr/bin/env bash
# install-deps.sh — install the outside tools bcdr needs, from Debian packages,
# when they are missing. Idempotent, and quick when everything is present:
# apt-get runs only if something is missing, and `apt-get update` at most once.
#
#   scripts/install-deps.sh [-n] TOOL...
#
# TOOL is one of: postgres restic borg pgbackrest chromium
# -n only prints what would be installed.
set -euo pipefail

tools="postgres restic borg pgbackrest chromium"

usage() {
	echo "usage: $0 [-n] TOOL...   (TOOL: ${tools// /, })" >&2
	exit 2
}

have() { command -v "$1" >/dev/null 2>&1; }

installed() { # installed PACKAGE: is the Debian package installed?
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

# has_pg_server: initdb and pg_ctl where orchestrator/localpg looks for them —
# PATH, pg_config --bindir, then /usr/lib/postgresql/*/bin.
has_pg_server() {
	if have initdb && have pg_ctl; then return 0; fi
	if have pg_config; then
		local dir
		dir=$(pg_config --bindir 2>/dev/null || true)
		if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then return 0; fi
	fi
	local d
	for d in /usr/lib/postgresql/*/bin; do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then return 0; fi
	done
	return 1
}

# packages_for TOOL: print the Debian packages TOOL still needs (nothing when
# it is present). A new tool gets a line here and a word in $tools.
packages_for() {
	case "$1" in
	postgres) has_pg_server || echo postgresql ;;
	restic) have restic || echo restic ;;
	borg) have borg || echo borgbackup ;;
	pgbackrest) have pgbackrest || echo pgbackrest ;;
	chromium)
		have chromium || have chromium-browser || echo chromium
		# CJK glyphs in rendered reports.
		installed fonts-noto-cjk || echo fonts-noto-cjk
		# pdftotext and pdftoppm: the report tests read printed PDFs back.
		have pdftotext && have pdftoppm || echo poppler-utils
		;;
	esac
}

dry_run=false
if [ "${1:-}" = "-n" ]; then
	dry_run=true
	shift
fi
[ $# -gt 0 ] || usage

missing=()
for tool in "$@"; do
	case " $tools " in
	*" $tool "*) ;;
	*)
		echo "$0: unknown tool '$tool'" >&2
		usage
		;;
	esac
	for pkg in $(packages_for "$tool"); do
		missing+=("$pkg")
	done
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

if $dry_run; then
	echo "would install: ${missing[*]}"
	exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	have sudo || {
		echo "$0: need root or sudo to install: ${missing[*]}" >&2
		exit 1
	}
	sudo=(sudo)
fi

echo "installing: ${missing[*]}" >&2
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
