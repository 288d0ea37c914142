package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/jackc/pgx/v5"
)

// Bounds on what an attempt reads and keeps.
const (
	maxSecretBytes   = 4096
	maxErrorBytes    = 2000
	responseExcerpt  = 300
	maxResponseDrain = 64 << 10
)

// outcome is the result of one attempt: the status code (0 without a
// response) and, unless the receiver answered 2xx, what went wrong.
type outcome struct {
	code       int
	err        error
	retryAfter time.Duration
}

// deliver sends one claimed row and records the outcome. An attempt cut
// short by shutdown puts the row back in the queue instead.
func (d *Deliverer) deliver(ctx context.Context, it claimed) {
	out := d.send(ctx, it)
	bg := context.WithoutCancel(ctx)
	if ctx.Err() != nil && out.err != nil {
		d.release(bg, it)
		return
	}
	d.record(bg, it, out)
}

// send makes one attempt: render the payload for the channel's kind, sign
// it when the channel has a secret, POST it.
func (d *Deliverer) send(ctx context.Context, it claimed) outcome {
	ev, err := decodeEvent(it.event)
	if err != nil {
		return outcome{err: err}
	}
	body, err := payload(it.kind, ev, it.key)
	if err != nil {
		return outcome{err: fmt.Errorf("render %s payload: %w", it.kind, err)}
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, it.url, body)
	if err != nil {
		return outcome{err: fmt.Errorf("build request to %s: %v", redactURL(it.url), err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "bcdr-notify")
	req.Header.Set(IdempotencyHeader, it.key)
	req.Header.Set("X-Bcdr-Event", string(ev.Type))
	req.Header.Set("X-Bcdr-Delivery-Attempt", strconv.Itoa(it.attempts))
	secret, err := d.secret(it)
	if err != nil {
		return outcome{err: err}
	}
	if secret != nil {
		req.Header.Set(SignatureHeader, Sign(secret, body))
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return outcome{err: fmt.Errorf("POST %s: %s", redactURL(it.url), describeHTTPError(err, d.opts.RequestTimeout))}
	}
	defer resp.Body.Close()
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, responseExcerpt))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseDrain)) // lets the connection be reused
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return outcome{code: resp.StatusCode}
	}
	msg := fmt.Sprintf("POST %s answered HTTP %d", redactURL(it.url), resp.StatusCode)
	if text := strings.TrimSpace(strings.ToValidUTF8(string(excerpt), "")); text != "" {
		msg += ": " + text
	}
	return outcome{code: resp.StatusCode, err: errors.New(msg), retryAfter: retryAfter(resp)}
}

// describeHTTPError drops the URL (it may be a credential) from a client
// error and names timeouts plainly.
func describeHTTPError(err error, timeout time.Duration) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return fmt.Sprintf("no answer within %s", timeout)
		}
		err = ue.Err
	}
	return err.Error()
}

// retryAfter reads a Retry-After header given in seconds (0 when absent).
func retryAfter(resp *http.Response) time.Duration {
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After")))
	if err != nil || n < 0 {
		return 0
	}
	return time.Duration(min(n, 86400)) * time.Second
}

// secret resolves the channel's signing secret reference on this replica;
// nil when the channel is unsigned. A reference that does not resolve fails
// the attempt: an unsigned request would be rejected by a receiver that
// checks signatures, or worse, accepted by one that does not.
func (d *Deliverer) secret(it claimed) ([]byte, error) {
	switch {
	case it.secretEnv != "":
		v, ok := d.opts.LookupEnv(it.secretEnv)
		if !ok || v == "" {
			return nil, fmt.Errorf("signing secret: environment variable %s is not set on replica %s", it.secretEnv, d.opts.Replica)
		}
		return []byte(v), nil
	case it.secretFile != "":
		f, err := os.Open(it.secretFile)
		if err != nil {
			return nil, fmt.Errorf("signing secret: %v", err)
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxSecretBytes+1))
		switch {
		case err != nil:
			return nil, fmt.Errorf("signing secret: read %s: %v", it.secretFile, err)
		case len(b) > maxSecretBytes:
			return nil, fmt.Errorf("signing secret: %s is larger than %d bytes", it.secretFile, maxSecretBytes)
		}
		b = []byte(strings.TrimRight(string(b), "\r\n"))
		if len(b) == 0 {
			return nil, fmt.Errorf("signing secret: %s is empty", it.secretFile)
		}
		return b, nil
	}
	return nil, nil
}

// Outcome statements; each is fenced by (id, replica, attempts, status) so
// that a replica whose lease expired cannot overwrite its successor's work.
const (
	deliveredQuery = `UPDATE notification_outbox SET status = 'delivered', lease_expires_at = NULL,
			last_status_code = $4, last_error = '', finished_at = coalesce($5::timestamptz, now())
		WHERE id = $1 AND replica = $2 AND attempts = $3 AND status = 'delivering'
		RETURNING status`
	failedQuery = `UPDATE notification_outbox SET
			status = CASE WHEN attempts >= $4 THEN 'dead' ELSE 'pending' END,
			next_attempt_at = coalesce($5::timestamptz, now()) + $6::bigint * interval '1 millisecond',
			finished_at = CASE WHEN attempts >= $4 THEN coalesce($5::timestamptz, now()) END,
			lease_expires_at = NULL, last_status_code = $7, last_error = $8
		WHERE id = $1 AND replica = $2 AND attempts = $3 AND status = 'delivering'
		RETURNING status`
	releaseQuery = `UPDATE notification_outbox SET status = 'pending', lease_expires_at = NULL,
			next_attempt_at = coalesce($4::timestamptz, now()),
			last_error = format('interrupted: replica %s stopped during attempt %s', replica, attempts)
		WHERE id = $1 AND replica = $2 AND attempts = $3 AND status = 'delivering'`
)

// record stores an attempt's outcome, retrying while the database fails
// for up to a lease: after that another replica may own the row.
func (d *Deliverer) record(ctx context.Context, it claimed, out outcome) {
	var code *int
	if out.code != 0 {
		code = &out.code
	}
	var status DeliveryStatus
	err := d.retry(ctx, func() error {
		var row pgx.Row
		if out.err == nil {
			row = d.pool.QueryRow(ctx, deliveredQuery, it.id, it.replica, it.attempts, code, d.nowArg())
		} else {
			delay := d.retryDelay(it.attempts, out.retryAfter)
			msg := clip(strings.ToValidUTF8(strings.ReplaceAll(out.err.Error(), "\x00", ""), ""), maxErrorBytes)
			row = d.pool.QueryRow(ctx, failedQuery, it.id, it.replica, it.attempts, d.opts.MaxAttempts, d.nowArg(),
				delay.Milliseconds(), code, msg)
		}
		err := row.Scan(&status)
		if errors.Is(err, pgx.ErrNoRows) {
			status = ""
			return nil
		}
		return err
	})
	kind := string(it.kind)
	switch {
	case err != nil:
		d.logger.Error("could not record delivery outcome; its lease will expire and it will be sent again",
			"delivery", it.id, "error", err)
	case status == "":
		d.logger.Warn("delivery no longer ours (lease expired or channel deleted); outcome dropped", "delivery", it.id)
	case status == DeliveryDelivered:
		d.metrics.delivered.WithLabelValues(kind).Inc()
	case status == DeliveryDead:
		d.metrics.failed.WithLabelValues(kind).Inc()
		d.metrics.dead.WithLabelValues(kind).Inc()
		d.logger.Error("notification given up", "delivery", it.id, "channel", it.channelID, "attempts", it.attempts, "error", out.err)
	default:
		d.metrics.failed.WithLabelValues(kind).Inc()
		d.logger.Warn("notification attempt failed; will retry", "delivery", it.id, "channel", it.channelID,
			"attempt", it.attempts, "error", out.err)
	}
}

// release puts a row back in the queue at shutdown, for any replica to take.
func (d *Deliverer) release(ctx context.Context, it claimed) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := d.pool.Exec(ctx, releaseQuery, it.id, it.replica, it.attempts, d.nowArg()); err != nil {
		d.logger.Warn("could not release delivery at shutdown; its lease will expire", "delivery", it.id, "error", err)
	}
}

// retry calls fn until it succeeds, backing off, for at most one lease.
func (d *Deliverer) retry(ctx context.Context, fn func() error) error {
	deadline := time.Now().Add(d.opts.Lease)
	for failures := 1; ; failures++ {
		err := fn()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		d.logger.Warn("database write failed; retrying", "error", err)
		time.Sleep(min(d.loopBackoff(failures), time.Until(deadline)+time.Millisecond))
	}
}
