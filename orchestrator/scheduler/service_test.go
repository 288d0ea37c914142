package scheduler

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/audit"
	"github.com/bcdr/bcdr/orchestrator/postgres"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
)

// serviceSetup returns a service over a fresh database whose deployment
// handles backup_check and kit_export, a context with an actor, and the
// pool.
func serviceSetup(t *testing.T, rt orchestrator.Runtime) (*Service, context.Context, *pgxpool.Pool) {
	t.Helper()
	pool := pgtest.New(t)
	ctx := orchestrator.WithActor(context.Background(), orchestrator.Actor{Name: "test", Role: orchestrator.RoleAdmin})
	return NewService(pool, rt, ServiceOptions{Handled: []Kind{KindKitExport, KindBackupCheck}}), ctx, pool
}

func scheduleInput(name string, kind Kind) Input {
	return Input{Name: new(name), Kind: new(kind), Cron: new("*/5 * * * *")}
}

func countSchedules(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(t.Context(), `SELECT count(*) FROM schedules`).Scan(&n))
	return n
}

// auditTrail is schedule id's audit rows, newest first, as "action: summary".
func auditTrail(t *testing.T, pool *pgxpool.Pool, id int64) []string {
	t.Helper()
	l, err := audit.List(t.Context(), pool, audit.Filter{Resource: "schedules", ResourceID: strconv.FormatInt(id, 10)}, orchestrator.Page{Limit: 100})
	require.NoError(t, err)
	var out []string
	for _, e := range l.Items {
		out = append(out, e.Action+": "+e.Summary)
	}
	return out
}

// A kind no handler runs is refused when it would start running: at
// creation, when a schedule changes to it, and when such a schedule is
// enabled. A schedule of that kind from before can still be changed
// otherwise, so that it can at least be disabled.
func TestService_RefusesKindsWithoutHandler(t *testing.T) {
	t.Parallel()
	svc, ctx, pool := serviceSetup(t, orchestrator.Runtime{})
	kindError := func(t *testing.T, err error) string {
		t.Helper()
		require.Equal(t, orchestrator.EINVALID, orchestrator.ErrorCode(err), "%v", err)
		fields := orchestrator.ErrorFields(err)
		require.Len(t, fields, 1)
		require.Equal(t, "kind", fields[0].Field)
		return fields[0].Message
	}

	_, err := svc.Create(ctx, scheduleInput("drill", KindDrill))
	msg := kindError(t, err)
	require.Contains(t, msg, "no handler runs drill schedules yet")
	require.Contains(t, msg, "backup_check, kit_export")
	_, err = svc.Create(ctx, scheduleInput("typo", Kind("backup")))
	require.Equal(t, "must be one of the kinds that can be scheduled: backup_check, kit_export", kindError(t, err))
	require.Zero(t, countSchedules(t, pool), "nothing written")

	kit, err := svc.Create(ctx, scheduleInput("kit", KindKitExport))
	require.NoError(t, err)
	_, err = svc.Update(ctx, kit.ID, Input{Kind: new(KindReport)})
	require.Contains(t, kindError(t, err), "no handler runs report schedules yet")

	// A report schedule written when reports were handled.
	old, err := NewService(pool, orchestrator.Runtime{}, ServiceOptions{Handled: Kinds}).Create(ctx, scheduleInput("old report", KindReport))
	require.NoError(t, err)
	disabled, err := svc.Update(ctx, old.ID, Input{Enabled: new(false), Cron: new("@daily")})
	require.NoError(t, err)
	require.False(t, disabled.Enabled)
	_, err = svc.Update(ctx, old.ID, Input{Enabled: new(true)})
	require.Contains(t, kindError(t, err), "no handler runs report schedules yet")

	// A deployment that handles nothing says so.
	_, err = NewService(pool, orchestrator.Runtime{}, ServiceOptions{}).Create(ctx, scheduleInput("none", KindKitExport))
	require.Contains(t, kindError(t, err), "the kinds that can be scheduled are: none")
}

// The tx-taking methods write with the caller's transaction: what they do
// commits or rolls back with the caller's own records.
func TestService_TxMethodsJoinTheCallersTransaction(t *testing.T) {
	t.Parallel()
	svc, ctx, pool := serviceSetup(t, orchestrator.Runtime{})
	errOwner := errors.New("the owner's own write failed")

	err := postgres.WithTx(ctx, pool, func(tx pgx.Tx) error {
		_, err := svc.CreateTx(ctx, tx, scheduleInput("rolled back", KindBackupCheck))
		require.NoError(t, err)
		return errOwner
	})
	require.ErrorIs(t, err, errOwner)
	require.Zero(t, countSchedules(t, pool))
	var audited int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE resource = 'schedules'`).Scan(&audited))
	require.Zero(t, audited, "the audit row went with the schedule")

	var sc Schedule
	require.NoError(t, postgres.WithTx(ctx, pool, func(tx pgx.Tx) (err error) {
		sc, err = svc.CreateTx(ctx, tx, scheduleInput("kept", KindBackupCheck))
		return err
	}))
	err = postgres.WithTx(ctx, pool, func(tx pgx.Tx) error {
		_, err := svc.UpdateTx(ctx, tx, sc.ID, Input{Cron: new("@hourly")}, Owner{})
		require.NoError(t, err)
		require.NoError(t, svc.DeleteTx(ctx, tx, sc.ID, Owner{}))
		return errOwner
	})
	require.ErrorIs(t, err, errOwner)
	got, err := svc.Get(ctx, sc.ID)
	require.NoError(t, err)
	require.Equal(t, "*/5 * * * *", got.Cron, "the update rolled back")

	// Validation and lookups answer as the ordinary methods do. (The
	// conflict aborts the transaction, as it would the caller's.)
	require.ErrorIs(t, postgres.WithTx(ctx, pool, func(tx pgx.Tx) error {
		_, err := svc.CreateTx(ctx, tx, Input{Name: new("bad"), Kind: new(KindKitExport), Cron: new("* * * *")})
		require.Equal(t, "cron", orchestrator.ErrorFields(err)[0].Field)
		_, err = svc.UpdateTx(ctx, tx, 999999, Input{}, Owner{})
		require.Equal(t, orchestrator.ENOTFOUND, orchestrator.ErrorCode(err))
		err = svc.DeleteTx(ctx, tx, 999999, Owner{})
		require.Equal(t, orchestrator.ENOTFOUND, orchestrator.ErrorCode(err))
		_, err = svc.CreateTx(ctx, tx, scheduleInput("kept", KindKitExport))
		require.Equal(t, orchestrator.ECONFLICT, orchestrator.ErrorCode(err))
		require.Equal(t, "name", orchestrator.ErrorFields(err)[0].Field)
		return errOwner
	}), errOwner)
}

// Changes made for an owner say so in the audit log; ordinary ones say
// what changed.
func TestService_AuditNamesTheOwner(t *testing.T) {
	t.Parallel()
	svc, ctx, pool := serviceSetup(t, orchestrator.Runtime{})
	owner := Owner{Noun: "backup target", ID: 7}
	sc, err := svc.Create(ctx, Input{Name: new("backup target 7"), Kind: new(KindBackupCheck), Target: new("7"), Cron: new("@daily")})
	require.NoError(t, err)
	_, err = svc.Update(ctx, sc.ID, Input{Jitter: new(orchestrator.Duration(time.Minute))})
	require.NoError(t, err)
	require.NoError(t, postgres.WithTx(ctx, pool, func(tx pgx.Tx) error {
		_, err := svc.UpdateTx(ctx, tx, sc.ID, Input{Cron: new("@hourly"), Timezone: new("Europe/Berlin")}, owner)
		return err
	}))
	require.NoError(t, postgres.WithTx(ctx, pool, func(tx pgx.Tx) error { return svc.DeleteTx(ctx, tx, sc.ID, owner) }))
	require.Equal(t, []string{
		"delete: schedule of backup target 7, deleted with it",
		fmt.Sprintf(`update: schedule %d follows its backup target: "@hourly" (Europe/Berlin)`, sc.ID),
		`update: schedule "backup target 7": changed jitter`,
		`create: schedule "backup target 7": backup_check "7" at "@daily" (UTC)`,
	}, auditTrail(t, pool, sc.ID))
}

// A runtime clock decides the first firing and the stamps; without one the
// database's clock does.
func TestService_TimeComesFromTheRuntime(t *testing.T) {
	t.Parallel()
	at := time.Date(2030, 1, 1, 10, 2, 0, 0, time.UTC)
	svc, ctx, pool := serviceSetup(t, orchestrator.Runtime{Clock: orchestrator.NewManualClock(at)})
	sc, err := svc.Create(ctx, scheduleInput("fixed", KindKitExport))
	require.NoError(t, err)
	require.Equal(t, at.Add(3*time.Minute), sc.NextFireAt.UTC())
	require.Equal(t, at, sc.CreatedAt.UTC())

	onDB := NewService(pool, orchestrator.Runtime{}, ServiceOptions{Handled: []Kind{KindKitExport}})
	sc, err = onDB.Create(ctx, scheduleInput("database clock", KindKitExport))
	require.NoError(t, err)
	var dbNow time.Time
	require.NoError(t, pool.QueryRow(ctx, `SELECT now()`).Scan(&dbNow))
	require.WithinDuration(t, dbNow, sc.CreatedAt, time.Minute)
	require.True(t, sc.NextFireAt.After(sc.CreatedAt))
}
