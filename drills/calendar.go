package drills

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/audit"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// Calendar clients (Outlook, Google, Apple) subscribe to a URL and cannot
// send an Authorization header, so the feed is opened by a token of its
// own in the URL: read-only, opening nothing but the feed, revocable, and
// kept only as its SHA-256.

// feedTokenPrefix marks a calendar feed token.
const feedTokenPrefix = "bcdrcal_"

// ErrFeedToken is the answer to an unknown or revoked feed token: it says
// nothing about which.
var ErrFeedToken = orchestrator.Errorf(orchestrator.EUNAUTHORIZED, "unauthorized")

// Feed is a calendar feed token as listed: never the token itself.
type Feed struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"`
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at"`
}

// CreateFeed makes a feed token; the token is returned only here.
func (s *Service) CreateFeed(ctx context.Context, name string) (Feed, string, error) {
	var v orchestrator.Validation
	checkText(&v, "name", name, maxTitle, false)
	if err := v.Err(); err != nil {
		return Feed{}, "", err
	}
	secret := make([]byte, 24)
	if _, err := rand.Read(secret); err != nil {
		return Feed{}, "", fmt.Errorf("make feed token: %w", err)
	}
	token := feedTokenPrefix + hex.EncodeToString(secret)
	hash := sha256.Sum256([]byte(token))
	var f Feed
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO drill_calendar_feeds (token_hash, name, created_by, created_at)
			VALUES ($1, $2, $3, $4) RETURNING id, name, created_by, created_at, revoked_at`,
			hash[:], name, orchestrator.ActorFrom(ctx).Name, s.rt.Now()).Scan(&f.ID, &f.Name, &f.CreatedBy, &f.CreatedAt, &f.RevokedAt)
		if err != nil {
			return fmt.Errorf("store feed token: %w", postgres.Translate(err))
		}
		return audit.Record(ctx, tx, audit.Change{Action: "create", Resource: "drill_calendar_feeds",
			ResourceID: strconv.FormatInt(f.ID, 10), Summary: fmt.Sprintf("calendar feed %q", name)})
	})
	if err != nil {
		return Feed{}, "", err
	}
	return f, token, nil
}

// Feeds lists the feed tokens, revoked ones too, newest first.
func (s *Service) Feeds(ctx context.Context) ([]Feed, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, name, created_by, created_at, revoked_at FROM drill_calendar_feeds ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list calendar feeds: %w", err)
	}
	feeds, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Feed])
	if err != nil {
		return nil, fmt.Errorf("list calendar feeds: %w", err)
	}
	return feeds, nil
}

// RevokeFeed revokes a feed token: its URL stops working at once.
func (s *Service) RevokeFeed(ctx context.Context, id int64) error {
	return postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE drill_calendar_feeds SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1`, id, s.rt.Now())
		if err != nil {
			return fmt.Errorf("revoke calendar feed %d: %w", id, err)
		}
		if tag.RowsAffected() == 0 {
			return orchestrator.Errorf(orchestrator.ENOTFOUND, "calendar feed %d not found", id)
		}
		return audit.Record(ctx, tx, audit.Change{Action: "revoke", Resource: "drill_calendar_feeds",
			ResourceID: strconv.FormatInt(id, 10), Summary: fmt.Sprintf("calendar feed %d revoked", id)})
	})
}

// feedWindow is how far back and ahead the feed reaches.
const feedWindow = 12

// Calendar returns the iCalendar feed opened by token: every drill
// planned from twelve months ago to twelve months ahead. An unknown or
// revoked token is ErrFeedToken.
func (s *Service) Calendar(ctx context.Context, token string) ([]byte, error) {
	if len(token) != len(feedTokenPrefix)+48 {
		return nil, ErrFeedToken
	}
	hash := sha256.Sum256([]byte(token))
	var id int64
	err := s.pool.QueryRow(ctx, `SELECT id FROM drill_calendar_feeds WHERE token_hash = $1 AND revoked_at IS NULL`, hash[:]).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrFeedToken
	}
	if err != nil {
		return nil, fmt.Errorf("check calendar feed token: %w", err)
	}
	now := s.rt.Now()
	rows, err := s.pool.Query(ctx, `SELECT `+drillColumns+` FROM drills WHERE planned_start >= $1 AND planned_start < $2
		ORDER BY planned_start, id`, now.AddDate(0, -feedWindow, 0), now.AddDate(0, feedWindow, 0))
	if err != nil {
		return nil, fmt.Errorf("read drills for the calendar: %w", err)
	}
	drills, err := pgx.CollectRows(rows, scanDrill)
	if err != nil {
		return nil, fmt.Errorf("read drills for the calendar: %w", err)
	}
	settings, err := s.programmeSettings(ctx)
	if err != nil {
		return nil, err
	}
	return writeICS(drills, settings), nil
}

// programmeSettings are the settings of every programme, by year.
func (s *Service) programmeSettings(ctx context.Context) (map[int]Settings, error) {
	rows, err := s.pool.Query(ctx, `SELECT year, settings FROM drill_programmes`)
	if err != nil {
		return nil, fmt.Errorf("read programme settings: %w", err)
	}
	defer rows.Close()
	out := map[int]Settings{}
	for rows.Next() {
		var (
			year int
			raw  []byte
			st   Settings
		)
		if err := rows.Scan(&year, &raw); err != nil {
			return nil, fmt.Errorf("read programme settings: %w", err)
		}
		if err := json.Unmarshal(raw, &st); err != nil {
			return nil, fmt.Errorf("programme %d settings: %w", year, err)
		}
		out[year] = st
	}
	return out, rows.Err()
}
