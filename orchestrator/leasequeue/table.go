package leasequeue

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Now is the SQL for "now" in every statement the queue runs: $1 is the
// runtime clock's time, or NULL for the database clock. Fragments of a
// Table or of a Finish may use it.
const Now = "coalesce($1::timestamptz, now())"

// maxErrorChars bounds the messages the queue writes into Table.Error;
// both tables today check 2048 bytes, and these messages are ASCII.
const maxErrorChars = 2000

// Table describes a queue table to the queue. Besides the columns named
// here, the table must have these, which the queue owns:
//
//	id               bigint PRIMARY KEY
//	status           text     -- Pending, Leased, GaveUp or the user's final states
//	attempts         integer  NOT NULL DEFAULT 0
//	replica          text     NOT NULL DEFAULT ''
//	lease_expires_at timestamptz, set exactly while status = Leased
//
// and, for the claim and the reap to stay index scans, partial indexes on
// (Due, id) WHERE status = Pending and on (lease_expires_at) WHERE status
// = Leased.
//
// SQL fragments refer to the table row as t and may use Now; they are
// written by the programmer, never built from input.
type Table struct {
	// Name is the table, e.g. "schedule_runs".
	Name string
	// Due is the timestamptz column from which a pending row may be claimed.
	Due string
	// Pending, Leased and GaveUp are the status values of a row waiting to
	// be claimed, leased to a replica, and abandoned after MaxAttempts
	// expired leases.
	Pending, Leased, GaveUp string
	// Error is the text column in which the reap and the release say what
	// happened to the row.
	Error string
	// Finished, when set, is a timestamptz column stamped when a row gives up.
	Finished string
	// Heartbeat, when set, is a timestamptz column stamped at the claim and
	// at every renewal, for people looking at a long-running row.
	Heartbeat string
	// ClaimSet adds assignments to the claim, e.g. "started_at = " + Now.
	ClaimSet string
	// ClaimJoin and ClaimFilter narrow the claimable rows, e.g. to those of
	// enabled channels: "JOIN channels c ON c.id = t.channel_id" and
	// "c.enabled". Rows they exclude wait, pending.
	ClaimJoin, ClaimFilter string
	// Columns is the select list the queue's scan function reads from a
	// claimed, reaped or finished row: over t (the row as updated) and the
	// tables Join brings in.
	Columns string
	// Join brings in what Columns needs besides the row, e.g. "JOIN
	// schedules s ON s.id = t.schedule_id". An inner join hides the rows it
	// finds nothing for, so it suits parents the row cannot outlive.
	Join string
	// Requeued ends the reap's message when a row goes back to the queue,
	// e.g. "; queued for another replica".
	Requeued string
}

// identifier is what a column name or status value may look like: the
// names are spliced into SQL, so anything else is a programming error.
var identifier = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// validate panics on a table the queue cannot build statements for: a
// mistake in the program, found at start-up by any test that builds it.
func (t Table) validate() {
	for field, v := range map[string]string{"Name": t.Name, "Due": t.Due, "Pending": t.Pending, "Leased": t.Leased,
		"GaveUp": t.GaveUp, "Error": t.Error} {
		if !identifier.MatchString(v) {
			panic(fmt.Sprintf("leasequeue: Table.%s %q is not a lower-case SQL identifier", field, v))
		}
	}
	for field, v := range map[string]string{"Finished": t.Finished, "Heartbeat": t.Heartbeat} {
		if v != "" && !identifier.MatchString(v) {
			panic(fmt.Sprintf("leasequeue: Table.%s %q is not a lower-case SQL identifier", field, v))
		}
	}
	if strings.TrimSpace(t.Columns) == "" {
		panic("leasequeue: Table.Columns is empty")
	}
	if len(map[string]bool{t.Pending: true, t.Leased: true, t.GaveUp: true}) != 3 {
		panic("leasequeue: Table.Pending, Leased and GaveUp must differ")
	}
}

// statements are a table's SQL, built once: pgx caches prepared
// statements by their text.
type statements struct {
	claim, reap, heartbeat, release, depth string
}

// Argument layouts, shared with the methods that run the statements:
//
//	claim:     $1 now, $2 replica, $3 limit, $4 lease ms
//	reap:      $1 now, $2 max attempts, $3 limit
//	heartbeat: $1 now, $2 lease ms, $3 replica, $4 ids, $5 attempts
//	release:   $1 id, $2 replica, $3 attempts
//	depth:     $1 now
func (t Table) statements() statements {
	lit := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	pending, leased, gaveUp := lit(t.Pending), lit(t.Leased), lit(t.GaveUp)
	lease := Now + " + $4::bigint * interval '1 millisecond'"

	claimSet := []string{"status = " + leased, "replica = $2", "attempts = t.attempts + 1", "lease_expires_at = " + lease}
	if t.Heartbeat != "" {
		claimSet = append(claimSet, t.Heartbeat+" = "+Now)
	}
	if t.ClaimSet != "" {
		claimSet = append(claimSet, t.ClaimSet)
	}
	filter := ""
	if t.ClaimFilter != "" {
		filter = " AND (" + t.ClaimFilter + ")"
	}
	// The queue's own columns come first; tailRow hides them from the
	// caller's scan function.
	claim := `WITH picked AS (
		SELECT t.id FROM ` + t.Name + ` t ` + t.ClaimJoin + `
		WHERE t.status = ` + pending + ` AND t.` + t.Due + ` <= ` + Now + filter + `
		ORDER BY t.` + t.Due + `, t.id LIMIT $3 FOR UPDATE OF t SKIP LOCKED
	), claimed AS (
		UPDATE ` + t.Name + ` t SET ` + strings.Join(claimSet, ", ") + `
		FROM picked WHERE t.id = picked.id
		RETURNING t.*
	)
	SELECT t.id, t.attempts, ` + t.Columns + ` FROM claimed t ` + t.Join + ` ORDER BY t.` + t.Due + `, t.id`

	reapSet := []string{
		"status = CASE WHEN t.attempts >= $2 THEN " + gaveUp + " ELSE " + pending + " END",
		"lease_expires_at = NULL",
		t.Error + " = left(format('lease of replica %s expired during attempt %s', t.replica, t.attempts) || " +
			"CASE WHEN t.attempts >= $2 THEN '; gave up' ELSE " + lit(t.Requeued) + " END, " + strconv.Itoa(maxErrorChars) + ")",
	}
	if t.Finished != "" {
		reapSet = append(reapSet, t.Finished+" = CASE WHEN t.attempts >= $2 THEN "+Now+" END")
	}
	reap := `WITH expired AS (
		SELECT id FROM ` + t.Name + `
		WHERE status = ` + leased + ` AND lease_expires_at < ` + Now + `
		ORDER BY lease_expires_at LIMIT $3 FOR UPDATE SKIP LOCKED
	), reaped AS (
		UPDATE ` + t.Name + ` t SET ` + strings.Join(reapSet, ", ") + `
		FROM expired WHERE t.id = expired.id
		RETURNING t.*
	)
	SELECT t.id, t.attempts, t.replica, t.status = ` + gaveUp + `, ` + t.Columns + ` FROM reaped t ` + t.Join

	renew := "lease_expires_at = " + Now + " + $2::bigint * interval '1 millisecond'"
	if t.Heartbeat != "" {
		renew += ", " + t.Heartbeat + " = " + Now
	}
	heartbeat := `UPDATE ` + t.Name + ` t SET ` + renew + `
		FROM unnest($4::bigint[], $5::integer[]) AS held (id, attempts)
		WHERE t.id = held.id AND t.attempts = held.attempts AND t.replica = $3 AND t.status = ` + leased + `
		RETURNING t.id`

	release := `UPDATE ` + t.Name + ` SET status = ` + pending + `, lease_expires_at = NULL,
			` + t.Error + ` = left(format('interrupted: released at shutdown by replica %s during attempt %s', replica, attempts), ` +
		strconv.Itoa(maxErrorChars) + `)
		WHERE id = $1 AND replica = $2 AND attempts = $3 AND status = ` + leased

	depth := `SELECT count(*) FROM ` + t.Name + ` WHERE status = ` + pending + ` AND ` + t.Due + ` <= ` + Now

	return statements{claim: claim, reap: reap, heartbeat: heartbeat, release: release, depth: depth}
}

// usesNow matches a reference to $1 (not $10, $11, ...).
var usesNow = regexp.MustCompile(`\$1([^0-9]|$)`)

// finishStatement fences set (assignments using $1 for now and $2… for
// its nargs arguments) to the lease that follows those arguments, and
// returns Columns of the row as it was recorded.
func (t Table) finishStatement(set string, nargs int) string {
	id := nargs + 2
	with := "WITH "
	if !usesNow.MatchString(set) {
		// PostgreSQL must know $1's type even when the outcome does not
		// use the time; the CTE says it and is never read.
		with = "WITH clock AS (SELECT $1::timestamptz), "
	}
	return with + `finished AS (
		UPDATE ` + t.Name + ` t SET lease_expires_at = NULL, ` + set + `
		WHERE t.id = $` + strconv.Itoa(id) + ` AND t.replica = $` + strconv.Itoa(id+1) +
		` AND t.attempts = $` + strconv.Itoa(id+2) + ` AND t.status = '` + t.Leased + `'
		RETURNING t.*
	)
	SELECT ` + t.Columns + ` FROM finished t ` + t.Join
}
