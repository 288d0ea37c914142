package itsm

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// Release is a version of software or configuration rolled out to CIs.
type Release struct {
	ID          int64      `json:"id"`
	Source      string     `json:"source"`
	ExternalID  string     `json:"external_id"`
	Version     string     `json:"version"`
	Title       string     `json:"title"`
	Status      string     `json:"status"`
	AffectedCIs []string   `json:"affected_cis"`
	DeployedAt  *time.Time `json:"deployed_at"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// ReleaseInput is what a client sends to create or replace a release, and
// what one row of a release import holds.
type ReleaseInput struct {
	Source      string     `json:"source"`
	ExternalID  string     `json:"external_id"`
	Version     string     `json:"version"`
	Title       string     `json:"title"`
	Status      string     `json:"status"`
	AffectedCIs []string   `json:"affected_cis"`
	DeployedAt  *time.Time `json:"deployed_at"`
}

// UnmarshalJSON decodes strictly, naming any malformed time field.
func (in *ReleaseInput) UnmarshalJSON(b []byte) error {
	type plain ReleaseInput
	return decodeStrict(b, (*plain)(in))
}

// Normalize trims text and keys, defaults the status to planned and the
// source to defaultSource ("" keeps a stored source).
func (in *ReleaseInput) Normalize(defaultSource string) {
	trim(&in.Source, &in.ExternalID, &in.Version, &in.Title, &in.Status)
	trimKeys(in.AffectedCIs)
	defaultTo(&in.Status, "planned")
	defaultTo(&in.Source, defaultSource)
}

// Validate checks a release without the database. A deployed release needs
// its deployment time.
func (in *ReleaseInput) Validate() error {
	var v orchestrator.Validation
	checkIdentity(&v, in.Source, in.ExternalID)
	checkText(&v, "version", in.Version, 100, true, false)
	checkText(&v, "title", in.Title, maxTitle, false, false)
	checkOneOf(&v, "status", in.Status, ReleaseStatuses)
	checkKeys(&v, "affected_cis", in.AffectedCIs)
	checkTime(&v, "deployed_at", in.DeployedAt, in.Status == "deployed")
	return v.Err()
}

var releaseColumns = `r.id, r.source, r.external_id, r.version, r.title, r.status, ` + releaseCIs.keysOf("r") +
	`, r.deployed_at, r.created_at, r.updated_at`

// CreateRelease records a new release.
func (s *Store) CreateRelease(ctx context.Context, in ReleaseInput) (Release, error) {
	return saveInTx(ctx, s.pool, 0, in, saveRelease)
}

// UpdateRelease replaces release id. A blank source or external_id keeps
// the stored one.
func (s *Store) UpdateRelease(ctx context.Context, id int64, in ReleaseInput) (Release, error) {
	return saveInTx(ctx, s.pool, id, in, saveRelease)
}

func saveRelease(ctx context.Context, tx pgx.Tx, id int64, in ReleaseInput) (Release, error) {
	var v orchestrator.Validation
	cis, err := resolveKeys(ctx, tx, &v, "affected_cis", in.AffectedCIs, false)
	if err != nil {
		return Release{}, err
	}
	if err := v.Err(); err != nil {
		return Release{}, err
	}
	args := []any{in.Source, in.ExternalID, in.Version, in.Title, in.Status, in.DeployedAt}
	const insert = `WITH n AS (SELECT nextval(pg_get_serial_sequence('releases', 'id')) AS id)
		INSERT INTO releases (id, source, external_id, version, title, status, deployed_at)
		SELECT n.id, $1, coalesce(nullif($2, ''), 'REL-' || n.id), $3, $4, $5, $6 FROM n
		RETURNING id`
	const update = `UPDATE releases SET source = coalesce(nullif($1, ''), source),
			external_id = coalesce(nullif($2, ''), external_id), version = $3, title = $4, status = $5,
			deployed_at = $6, updated_at = now()
		WHERE id = $7 RETURNING id`
	id, action, err := writeRow(ctx, tx, "release", insert, update, id, args)
	if err != nil {
		return Release{}, err
	}
	if err := releaseCIs.replace(ctx, tx, id, cis); err != nil {
		return Release{}, err
	}
	r, err := getRelease(ctx, tx, id)
	if err != nil {
		return Release{}, err
	}
	return r, recordAudit(ctx, tx, action, "releases", id,
		fmt.Sprintf("release %s %s (%s)", r.ExternalID, summaryText(r.Version), r.Status))
}

// Release returns one release.
func (s *Store) Release(ctx context.Context, id int64) (Release, error) {
	return getRelease(ctx, s.pool, id)
}

func getRelease(ctx context.Context, q postgres.Querier, id int64) (Release, error) {
	return getRow[Release](ctx, q, "release", `SELECT `+releaseColumns+` FROM releases r WHERE r.id = $1`, id)
}

// DeleteRelease removes a release and its links.
func (s *Store) DeleteRelease(ctx context.Context, id int64) error {
	const del = `DELETE FROM releases WHERE id = $1 RETURNING external_id, version`
	return s.deleteRow(ctx, "release", "releases", del, id)
}

// ReleaseFilter narrows a release listing; zero fields match everything.
type ReleaseFilter struct {
	CI             string // key of an affected CI
	Status         string
	DeployedAfter  time.Time // deployed_at >= DeployedAfter
	DeployedBefore time.Time // deployed_at < DeployedBefore
}

// ListReleases returns releases newest (highest id) first.
func (s *Store) ListReleases(ctx context.Context, f ReleaseFilter, page orchestrator.Page) (orchestrator.List[Release], error) {
	w, err := beforeID("r", page.After)
	if err != nil {
		return orchestrator.List[Release]{}, err
	}
	if f.Status != "" {
		w.add("r.status = " + w.arg(f.Status))
	}
	if f.CI != "" {
		w.add("r.id IN (SELECT l.release_id FROM release_cis l WHERE l.ci_id = (SELECT id FROM cis WHERE key = " + w.arg(f.CI) + "))")
	}
	if !f.DeployedAfter.IsZero() {
		w.add("r.deployed_at >= " + w.arg(f.DeployedAfter))
	}
	if !f.DeployedBefore.IsZero() {
		w.add("r.deployed_at < " + w.arg(f.DeployedBefore))
	}
	query := `SELECT ` + releaseColumns + ` FROM releases r WHERE ` + w.sql() + ` ORDER BY r.id DESC LIMIT ` + w.arg(page.Limit+1)
	return listRows(ctx, s.pool, "releases", query, w.args, page.Limit, func(r Release) string { return strconv.FormatInt(r.ID, 10) })
}
