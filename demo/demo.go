// Package demo seeds a realistic organisation — a regional tax bureau with
// two data centres — so that a new user has something true-to-life to look
// at. The data is generated deterministically and written through the
// importer with source "demo", so seeding twice changes nothing.
package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bcdr/bcdr/orchestrator/importer"
)

// Source is the source name of every demo record.
const Source = "demo"

// Options size the organisation.
type Options struct {
	// Scale multiplies the business services and everything under them;
	// 1 gives about 30 services and 500 CIs.
	Scale int
	// Now anchors the generated history (two years up to the day of Now).
	Now time.Time
}

// Summary counts what each import did, by record type.
type Summary map[string]importer.Report

// Seed generates the organisation and imports it, record type by record
// type in dependency order. Types the registry does not know are skipped.
func Seed(ctx context.Context, pool *pgxpool.Pool, reg importer.Registry, opts Options) (Summary, error) {
	if opts.Scale < 1 {
		opts.Scale = 1
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	org := generate(opts)
	summary := Summary{}
	for _, batch := range org.batches() {
		if _, ok := reg[batch.typ]; !ok || len(batch.rows) == 0 {
			continue
		}
		body, err := jsonLines(batch.rows)
		if err != nil {
			return summary, fmt.Errorf("encode demo %s: %w", batch.typ, err)
		}
		rep, err := reg.Import(ctx, pool, batch.typ, bytes.NewReader(body), importer.Options{Format: "jsonl", Source: Source})
		summary[batch.typ] = rep
		if errors.Is(err, importer.ErrRejected) && len(rep.Problems) > 0 {
			p := rep.Problems[0]
			return summary, fmt.Errorf("seed demo %s: row %d %s: %s: %w", batch.typ, p.Row, p.Column, p.Message, err)
		}
		if err != nil {
			return summary, fmt.Errorf("seed demo %s: %w", batch.typ, err)
		}
	}
	if err := seedImpact(ctx, pool, opts, summary); err != nil {
		return summary, err
	}
	if err := seedRunbooks(ctx, pool, opts, summary); err != nil {
		return summary, err
	}
	if err := seedDrills(ctx, pool, opts, summary); err != nil {
		return summary, err
	}
	return summary, seedReadiness(ctx, pool, opts, summary)
}

// batch is one record type's rows.
type batch struct {
	typ  string
	rows []any
}

func jsonLines(rows []any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}
