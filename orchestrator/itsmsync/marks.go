package itsmsync

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// mark is how far a table was read: the largest sys_updated_on imported
// and the sys_ids imported at exactly that time.
type mark struct {
	At  time.Time
	IDs []string
}

// advance records a record imported at at. Records come in (time,
// sys_id) order and those the mark holds are skipped before they get
// here, so an id at the mark's time is new to it: no search, which a bulk
// update of many thousands of records in one second would make quadratic.
func (m *mark) advance(at time.Time, id string) {
	switch {
	case at.After(m.At):
		m.At, m.IDs = at, []string{id}
	case at.Equal(m.At):
		m.IDs = append(m.IDs, id)
	}
}

// loadMark is the schedule's mark for a table of instance; the zero mark
// when there is none (the first sync reads the whole table).
func loadMark(ctx context.Context, q postgres.Querier, scheduleID int64, instance, table string) (mark, error) {
	const sql = `SELECT high_water, tie_ids FROM itsm_sync_marks WHERE schedule_id = $1 AND instance = $2 AND sn_table = $3`
	var m mark
	err := q.QueryRow(ctx, sql, scheduleID, instance, table).Scan(&m.At, &m.IDs)
	if errors.Is(err, pgx.ErrNoRows) {
		return mark{}, nil
	}
	if err != nil {
		return mark{}, fmt.Errorf("load the mark of %s: %w", table, postgres.Translate(err))
	}
	m.At = m.At.UTC()
	return m, nil
}

// saveMark moves a table's mark to m. It only moves forward: a slower run
// of the same schedule finishing late (a manual run beside a firing) does
// not take it back.
func saveMark(ctx context.Context, q postgres.Querier, scheduleID int64, instance, table string, m mark, read int) error {
	const sql = `INSERT INTO itsm_sync_marks AS k (schedule_id, instance, sn_table, high_water, tie_ids, rows_read, synced_at)
		VALUES ($1, $2, $3, $4, $5, $6, now())
		ON CONFLICT (schedule_id, instance, sn_table) DO UPDATE SET
			high_water = EXCLUDED.high_water,
			tie_ids = CASE WHEN EXCLUDED.high_water = k.high_water
				THEN ARRAY(SELECT DISTINCT unnest(k.tie_ids || EXCLUDED.tie_ids)) ELSE EXCLUDED.tie_ids END,
			rows_read = k.rows_read + EXCLUDED.rows_read, synced_at = now()
		WHERE EXCLUDED.high_water >= k.high_water`
	if _, err := q.Exec(ctx, sql, scheduleID, instance, table, m.At, m.IDs, read); err != nil {
		return fmt.Errorf("move the mark of %s: %w", table, postgres.Translate(err))
	}
	return nil
}
