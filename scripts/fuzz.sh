#!/usr/bin/env bash
# Runs every Go fuzz target in the module for $FUZZTIME each (default 30s).
# Go fuzzes one target per invocation, so the targets are found first.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-30s}
grep -rHoE '^func Fuzz[A-Za-z0-9_]+' --include='*_test.go' . | sort | while IFS=: read -r file decl; do
	dir=./$(dirname "${file#./}")
	target=${decl#func }
	echo "fuzz $dir $target ($fuzztime)"
	if ! out=$(go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$dir" 2>&1); then
		echo "$out"
		exit 1
	fi
done
