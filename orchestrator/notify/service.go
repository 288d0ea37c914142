package notify

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/audit"
	"github.com/bcdr/bcdr/orchestrator/postgres"
	"github.com/bcdr/bcdr/orchestrator/secretref"
)

// Service manages notification channels and reads their deliveries. Every
// mutation is audited in its own transaction.
type Service struct {
	pool    *pgxpool.Pool
	rt      orchestrator.Runtime
	secrets secretref.Policy
	// email says the server's deliverers have SMTP settings.
	email bool
}

// ServiceOption configures a Service.
type ServiceOption func(*Service)

// WithSMTP tells the service what the server's deliverers send email
// with: without settings (nil), a channel cannot become an email channel,
// since nothing would send it.
func WithSMTP(settings *SMTP) ServiceOption {
	return func(s *Service) { s.email = settings != nil }
}

// NewService returns a channel service over pool; the runtime's clock
// stamps test events, and channels' secret references must name what
// secrets exposes.
func NewService(pool *pgxpool.Pool, rt orchestrator.Runtime, secrets secretref.Policy, opts ...ServiceOption) *Service {
	s := &Service{pool: pool, rt: rt, secrets: secrets}
	for _, o := range opts {
		o(s)
	}
	return s
}

// checkEmail refuses to make a channel an email channel on a server that
// cannot send email. A channel that already is one may still be changed
// (disabled, renamed), whatever the server's settings are now.
func (s *Service) checkEmail(before, after Kind) error {
	if after != KindEmail || before == KindEmail || s.email {
		return nil
	}
	return orchestrator.Invalid("kind", "%s", errEmailNotConfigured)
}

const channelColumns = `id, name, kind, url, events, secret_env, secret_file, enabled, created_at, updated_at, created_by`

func scanChannel(row pgx.CollectableRow) (channelRow, error) {
	var c channelRow
	err := row.Scan(&c.ID, &c.Name, &c.Kind, &c.rawURL, &c.Events, &c.SecretEnv, &c.SecretFile, &c.Enabled,
		&c.CreatedAt, &c.UpdatedAt, &c.CreatedBy)
	c.URL = redactURL(c.rawURL)
	c.Signed = c.SecretEnv != "" || c.SecretFile != ""
	return c, err
}

// Create adds a channel, enabled unless the input says otherwise.
func (s *Service) Create(ctx context.Context, in ChannelInput) (Channel, error) {
	c := channelRow{Channel: Channel{Enabled: true}}
	c.apply(in)
	if err := c.validate(s.secrets); err != nil {
		return Channel{}, err
	}
	if err := s.checkEmail("", c.Kind); err != nil {
		return Channel{}, err
	}
	var created channelRow
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		const insert = `INSERT INTO notification_channels (name, kind, url, events, secret_env, secret_file, enabled, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ` + channelColumns
		rows, err := tx.Query(ctx, insert, c.Name, c.Kind, c.rawURL, c.Events, c.SecretEnv, c.SecretFile, c.Enabled,
			orchestrator.ActorFrom(ctx).Name)
		if err != nil {
			return fmt.Errorf("insert channel: %w", err)
		}
		created, err = pgx.CollectExactlyOneRow(rows, scanChannel)
		if err != nil {
			return nameConflict(fmt.Errorf("insert channel: %w", postgres.Translate(err)), c.Name)
		}
		return audit.Record(ctx, tx, audit.Change{Action: "create", Resource: "notification-channels",
			ResourceID: strconv.FormatInt(created.ID, 10), Summary: created.summary()})
	})
	return created.Channel, err
}

// summary describes a channel for the audit trail, without its URL path.
func (c channelRow) summary() string {
	return fmt.Sprintf("%s channel %q to %s for %v (signed: %t, enabled: %t)", c.Kind, c.Name, c.URL, c.Events, c.Signed, c.Enabled)
}

// nameConflict names the field when a unique violation is the name.
func nameConflict(err error, name string) error {
	if orchestrator.ErrorCode(err) != orchestrator.ECONFLICT {
		return err
	}
	return &orchestrator.Error{Code: orchestrator.ECONFLICT, Message: "channel name already in use",
		Fields: []orchestrator.FieldError{{Field: "name", Message: fmt.Sprintf("a channel named %q exists", name)}}}
}

// Get returns one channel.
func (s *Service) Get(ctx context.Context, id int64) (Channel, error) {
	c, err := getChannel(ctx, s.pool, id, false)
	return c.Channel, err
}

func getChannel(ctx context.Context, q postgres.Querier, id int64, forUpdate bool) (channelRow, error) {
	query := `SELECT ` + channelColumns + ` FROM notification_channels WHERE id = $1`
	if forUpdate {
		query += ` FOR UPDATE`
	}
	rows, err := q.Query(ctx, query, id)
	if err != nil {
		return channelRow{}, fmt.Errorf("load channel %d: %w", id, err)
	}
	c, err := pgx.CollectExactlyOneRow(rows, scanChannel)
	if errors.Is(err, pgx.ErrNoRows) {
		return channelRow{}, errNotFound(id)
	}
	if err != nil {
		return channelRow{}, fmt.Errorf("load channel %d: %w", id, err)
	}
	return c, nil
}

// ChannelFilter narrows a channel listing; zero fields match everything.
type ChannelFilter struct {
	Kind    Kind
	Enabled *bool
	// Event matches channels subscribed to it, directly or through "*".
	Event EventType
}

// List returns channels ordered by id.
func (s *Service) List(ctx context.Context, f ChannelFilter, page orchestrator.Page) (orchestrator.List[Channel], error) {
	after, err := idCursor(page.After)
	if err != nil {
		return orchestrator.List[Channel]{}, err
	}
	const query = `SELECT ` + channelColumns + ` FROM notification_channels
		WHERE id > $1 AND ($2 = '' OR kind = $2) AND ($3::boolean IS NULL OR enabled = $3)
			AND ($4 = '' OR events && ARRAY[$4, '*'])
		ORDER BY id LIMIT $5`
	rows, err := s.pool.Query(ctx, query, after, string(f.Kind), f.Enabled, string(f.Event), page.Limit+1)
	if err != nil {
		return orchestrator.List[Channel]{}, fmt.Errorf("list channels: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Channel, error) {
		c, err := scanChannel(row)
		return c.Channel, err
	})
	if err != nil {
		return orchestrator.List[Channel]{}, fmt.Errorf("list channels: %w", err)
	}
	return orchestrator.Paginate(items, page.Limit, func(c Channel) string { return strconv.FormatInt(c.ID, 10) }), nil
}

// idCursor reads a keyset position that is an id.
func idCursor(after string) (int64, error) {
	if after == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(after, 10, 64)
	if err != nil {
		return 0, &orchestrator.Error{Code: orchestrator.EINVALID, Message: "invalid pagination cursor",
			Fields: []orchestrator.FieldError{{Field: "after", Message: "is not a cursor returned by this server"}}}
	}
	return n, nil
}

// Update changes the fields set in in. Rows already in the outbox are sent
// with the channel's settings at the time of each attempt, so a corrected
// URL or secret also fixes deliveries still being retried.
func (s *Service) Update(ctx context.Context, id int64, in ChannelInput) (Channel, error) {
	var updated channelRow
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		c, err := getChannel(ctx, tx, id, true)
		if err != nil {
			return err
		}
		before := c.Kind
		c.apply(in)
		if err := c.validate(s.secrets); err != nil {
			return err
		}
		if err := s.checkEmail(before, c.Kind); err != nil {
			return err
		}
		const update = `UPDATE notification_channels SET name = $2, kind = $3, url = $4, events = $5, secret_env = $6,
				secret_file = $7, enabled = $8, updated_at = now()
			WHERE id = $1 RETURNING ` + channelColumns
		rows, err := tx.Query(ctx, update, id, c.Name, c.Kind, c.rawURL, c.Events, c.SecretEnv, c.SecretFile, c.Enabled)
		if err != nil {
			return fmt.Errorf("update channel %d: %w", id, err)
		}
		updated, err = pgx.CollectExactlyOneRow(rows, scanChannel)
		if err != nil {
			return nameConflict(fmt.Errorf("update channel %d: %w", id, postgres.Translate(err)), c.Name)
		}
		return audit.Record(ctx, tx, audit.Change{Action: "update", Resource: "notification-channels",
			ResourceID: strconv.FormatInt(id, 10), Summary: updated.summary()})
	})
	return updated.Channel, err
}

// Delete removes a channel and its outbox rows; a delivery in flight
// finishes but its outcome is not kept.
func (s *Service) Delete(ctx context.Context, id int64) error {
	return postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		var name string
		err := tx.QueryRow(ctx, `DELETE FROM notification_channels WHERE id = $1 RETURNING name`, id).Scan(&name)
		if errors.Is(err, pgx.ErrNoRows) {
			return errNotFound(id)
		}
		if err != nil {
			return fmt.Errorf("delete channel %d: %w", id, err)
		}
		return audit.Record(ctx, tx, audit.Change{Action: "delete", Resource: "notification-channels",
			ResourceID: strconv.FormatInt(id, 10), Summary: fmt.Sprintf("channel %q deleted", name)})
	})
}
