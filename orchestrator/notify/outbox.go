package notify

import (
	"context"
	"crypto/rand"
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

// Publish queues e for every enabled channel subscribed to its type, using
// q, the caller's transaction, so the notification commits or rolls back
// with the change it reports. Publishing an occurrence already queued for a
// channel (same type, subject and occurrence) adds nothing, so callers may
// publish from code that can run twice. A bad event is an EINVALID error.
func Publish(ctx context.Context, q postgres.Querier, e Event) error {
	if e.Type == EventTest {
		return orchestrator.Errorf(orchestrator.EINVALID, "test events go to one channel: use Service.SendTest")
	}
	_, err := publish(ctx, q, e, nil)
	return err
}

// publishQuery inserts one row per matching channel: every enabled channel
// subscribed to $2 (or "*") when $5 is NULL, else channel $5 alone. The
// idempotency key is a digest of the channel and the dedup key, so it is
// the same however often the row is sent.
const publishQuery = `INSERT INTO notification_outbox (channel_id, dedup_key, idempotency_key, event_type, subject, event, next_attempt_at)
	SELECT c.id, $1, 'bcdr-' || left(encode(sha256(convert_to(c.id::text || '|' || $1, 'UTF8')), 'hex'), 40),
		$2, $3, $4::jsonb, now()
	FROM notification_channels c
	WHERE CASE WHEN $5::bigint IS NULL THEN c.enabled AND c.events && ARRAY[$2, '*'] ELSE c.id = $5 END
	ON CONFLICT (channel_id, dedup_key) DO NOTHING
	RETURNING id`

// publish inserts e's rows, due at once on the database clock, and returns
// their ids; channel, when set, is the only channel to receive it.
func publish(ctx context.Context, q postgres.Querier, e Event, channel *int64) ([]int64, error) {
	if err := e.normalize(); err != nil {
		return nil, err
	}
	doc, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode %s event: %w", e.Type, err)
	}
	rows, err := q.Query(ctx, publishQuery, e.dedupKey(), e.Type, e.Subject, string(doc), channel)
	if err != nil {
		return nil, fmt.Errorf("publish %s event for %s: %w", e.Type, e.Subject, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("publish %s event for %s: %w", e.Type, e.Subject, postgres.Translate(err))
	}
	return ids, nil
}

// DeliveryStatus is where an outbox row is in its life: pending →
// delivering → delivered, or back to pending for a retry, or dead.
type DeliveryStatus string

// Delivery statuses.
const (
	DeliveryPending    DeliveryStatus = "pending"
	DeliveryDelivering DeliveryStatus = "delivering"
	DeliveryDelivered  DeliveryStatus = "delivered"
	DeliveryDead       DeliveryStatus = "dead"
)

// DeliveryStatuses lists every status.
var DeliveryStatuses = []DeliveryStatus{DeliveryPending, DeliveryDelivering, DeliveryDelivered, DeliveryDead}

// Delivery is one event for one channel: an outbox row and its attempts.
type Delivery struct {
	ID             int64          `json:"id"`
	ChannelID      int64          `json:"channel_id"`
	EventType      EventType      `json:"event_type"`
	Subject        string         `json:"subject"`
	Summary        string         `json:"summary"`
	Severity       Severity       `json:"severity"`
	OccurredAt     time.Time      `json:"occurred_at"`
	IdempotencyKey string         `json:"idempotency_key"`
	Status         DeliveryStatus `json:"status"`
	Attempts       int            `json:"attempts"`
	Replica        string         `json:"replica"`
	NextAttemptAt  *time.Time     `json:"next_attempt_at"`
	LeaseExpiresAt *time.Time     `json:"lease_expires_at"`
	LastAttemptAt  *time.Time     `json:"last_attempt_at"`
	LastStatusCode *int           `json:"last_status_code"`
	LastError      string         `json:"last_error"`
	FinishedAt     *time.Time     `json:"finished_at"`
	CreatedAt      time.Time      `json:"created_at"`
}

const deliveryColumns = `id, channel_id, event_type, subject, event, idempotency_key, status, attempts, replica,
	next_attempt_at, lease_expires_at, last_attempt_at, last_status_code, last_error, finished_at, created_at`

func scanDelivery(row pgx.CollectableRow) (Delivery, error) {
	var d Delivery
	var ev Event
	var next time.Time
	err := row.Scan(&d.ID, &d.ChannelID, &d.EventType, &d.Subject, &ev, &d.IdempotencyKey, &d.Status, &d.Attempts, &d.Replica,
		&next, &d.LeaseExpiresAt, &d.LastAttemptAt, &d.LastStatusCode, &d.LastError, &d.FinishedAt, &d.CreatedAt)
	d.Summary, d.Severity, d.OccurredAt = ev.Summary, ev.Severity, ev.OccurredAt
	if d.Status == DeliveryPending {
		d.NextAttemptAt = &next
	}
	return d, err
}

// DeliveryFilter narrows a delivery listing; zero fields match everything.
type DeliveryFilter struct {
	Status DeliveryStatus
}

// Deliveries pages through a channel's outbox rows, newest first.
func (s *Service) Deliveries(ctx context.Context, channelID int64, f DeliveryFilter, page orchestrator.Page) (orchestrator.List[Delivery], error) {
	before, err := idCursor(page.After)
	if err != nil {
		return orchestrator.List[Delivery]{}, err
	}
	if _, err := getChannel(ctx, s.pool, channelID, false); err != nil {
		return orchestrator.List[Delivery]{}, err
	}
	const query = `SELECT ` + deliveryColumns + ` FROM notification_outbox
		WHERE channel_id = $1 AND ($2 = '' OR status = $2) AND ($3 = 0 OR id < $3)
		ORDER BY id DESC LIMIT $4`
	rows, err := s.pool.Query(ctx, query, channelID, string(f.Status), before, page.Limit+1)
	if err != nil {
		return orchestrator.List[Delivery]{}, fmt.Errorf("list deliveries of channel %d: %w", channelID, err)
	}
	items, err := pgx.CollectRows(rows, scanDelivery)
	if err != nil {
		return orchestrator.List[Delivery]{}, fmt.Errorf("list deliveries of channel %d: %w", channelID, err)
	}
	return orchestrator.Paginate(items, page.Limit, func(d Delivery) string { return strconv.FormatInt(d.ID, 10) }), nil
}

// Delivery returns one outbox row.
func (s *Service) Delivery(ctx context.Context, id int64) (Delivery, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+deliveryColumns+` FROM notification_outbox WHERE id = $1`, id)
	if err != nil {
		return Delivery{}, fmt.Errorf("load delivery %d: %w", id, err)
	}
	d, err := pgx.CollectExactlyOneRow(rows, scanDelivery)
	if errors.Is(err, pgx.ErrNoRows) {
		return Delivery{}, orchestrator.Errorf(orchestrator.ENOTFOUND, "delivery %d not found", id)
	}
	if err != nil {
		return Delivery{}, fmt.Errorf("load delivery %d: %w", id, err)
	}
	return d, nil
}

// SendTest queues a test event for one channel and returns its pending
// delivery; a replica's Deliverer sends it at its next poll. A disabled
// channel is a conflict: its deliveries are paused.
func (s *Service) SendTest(ctx context.Context, channelID int64) (Delivery, error) {
	var id int64
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		c, err := getChannel(ctx, tx, channelID, false)
		if err != nil {
			return err
		}
		if !c.Enabled {
			return orchestrator.Errorf(orchestrator.ECONFLICT, "channel %d is disabled; enable it to send", channelID)
		}
		actor := orchestrator.ActorFrom(ctx)
		nonce := make([]byte, 8)
		_, _ = rand.Read(nonce)
		ids, err := publish(ctx, tx, Event{
			Type: EventTest, Subject: "notification-channel/" + strconv.FormatInt(channelID, 10),
			Summary:  fmt.Sprintf("Test notification for channel %q, sent by %s", c.Name, actor.Name),
			Severity: SeverityInfo, OccurredAt: s.rt.Now(), Occurrence: hex.EncodeToString(nonce),
			Details: map[string]any{"channel": c.Name, "requested_by": actor.Name},
		}, &channelID)
		if err != nil {
			return err
		}
		if len(ids) != 1 {
			return fmt.Errorf("queue test event for channel %d: %d rows inserted", channelID, len(ids))
		}
		id = ids[0]
		return audit.Record(ctx, tx, audit.Change{Action: "test", Resource: "notification-channels",
			ResourceID: strconv.FormatInt(channelID, 10), Summary: fmt.Sprintf("test notification queued as delivery %d", id)})
	})
	if err != nil {
		return Delivery{}, err
	}
	return s.Delivery(ctx, id)
}
