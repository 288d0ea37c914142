// Package importer loads record files the way real data arrives: CSV
// exports (with the column names of ServiceNow and iTop) or JSON lines,
// streamed through COPY into a staging table and merged into the record
// tables with one set-based statement. A file is all-or-nothing unless the
// caller asks for partial imports; every bad row is reported by number.
package importer

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// Column is one column of the staging table.
type Column struct {
	Name string // staging column name
	Type string // PostgreSQL type
}

// Spec describes how one record type imports. In is the same input type the
// API accepts, so a row is validated exactly like a POST.
type Spec[In any] struct {
	// Type is the record type's path name, e.g. "cis".
	Type string
	// Aliases maps lower-case CSV header names of other tools to the JSON
	// field names of In. A name written "?field" is a weak alias, taken
	// only when no other column gives field (GLPI's ID is a ticket's
	// external_id, but iTop's id sits beside its ref).
	Aliases map[string]string
	// Required lists JSON fields a CSV header must contain.
	Required []string
	// ExtraInto, when set, names a map[string]any field of In that collects
	// CSV columns no other field takes; otherwise such columns are ignored
	// and reported.
	ExtraInto string
	// Validate checks one decoded row without touching the database.
	Validate func(in *In) error
	// Stage lists the staging columns; Values returns a row's values in
	// the same order. source is the import's default source name.
	Stage  []Column
	Values func(in *In, source string) []any
	// Identity names the staging columns that identify a record, e.g.
	// source and external_id; two rows of one file may not share it.
	Identity []string
	// Resolve, when set, runs on the staged rows before Check: it rewrites
	// references to their canonical keys, derives missing keys, and the
	// like, returning warnings for the report.
	Resolve func(ctx context.Context, tx pgx.Tx) ([]Problem, error)
	// Check selects (row_no, column, message) for staged rows that the
	// database rejects, such as references to unknown CIs. It reads the
	// staging table import_stage.
	Check string
	// Merge upserts import_stage into the record tables, changing nothing
	// for rows whose values are unchanged. It returns one row per record
	// written, with a boolean true when the record was inserted.
	Merge string
	// After runs once after Merge inside the transaction (child tables,
	// for instance); it may be nil.
	After func(ctx context.Context, tx pgx.Tx) error
	// Bulk lists the tables Merge and After write, the record table (whose
	// Identity columns the staged rows match) first. When a file brings at
	// least Options.BulkRows new records and at least as many as the record
	// table holds, their secondary indexes and foreign keys are dropped
	// before the merge and rebuilt after it, as pg_restore does: several
	// times faster than maintaining them row by row, at the price of
	// keeping readers of those tables waiting until the import commits.
	Bulk []string
}

// Kind is a Spec with its input type erased, so kinds of different record
// types can sit in one registry.
type Kind interface {
	TypeName() string
	run(ctx context.Context, tx pgx.Tx, src *source, opts Options, rep *Report) error
}

// TypeName returns the record type's path name.
func (s *Spec[In]) TypeName() string { return s.Type }
