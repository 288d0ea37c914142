// Package migrations embeds the numbered goose SQL files that build the
// schema. Each file runs in its own transaction.
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
