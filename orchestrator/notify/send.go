package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/bcdr/bcdr/orchestrator/leasequeue"
	"github.com/bcdr/bcdr/orchestrator/secretref"
)

// Bounds on what an attempt reads and keeps.
const (
	maxErrorBytes    = 2000
	maxResponseDrain = 64 << 10
)

// outcome is the result of one attempt: the status code (0 without a
// response; an SMTP reply code for email) and, unless the receiver
// accepted, what went wrong. note is kept as the last error of a
// delivery that succeeded only in part (some recipients refused).
type outcome struct {
	code       int
	err        error
	retryAfter time.Duration
	note       string
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
	if it.kind == KindEmail {
		return d.sendEmail(ctx, it, ev)
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
	// The body is drained so that the connection can be reused, never kept:
	// last_error is read by whoever may read deliveries, and the receiver's
	// body is another service's (an internal one's, or bcdr's own).
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseDrain))
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return outcome{code: resp.StatusCode}
	}
	msg := fmt.Sprintf("POST %s answered HTTP %d", redactURL(it.url), resp.StatusCode)
	if reason := http.StatusText(resp.StatusCode); reason != "" {
		msg += " " + reason
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
	b, err := d.opts.Secrets.Resolve(secretref.Ref{Env: it.secretEnv, File: it.secretFile}, d.opts.LookupEnv)
	switch {
	case errors.Is(err, secretref.ErrNotSet):
		return nil, fmt.Errorf("signing secret: %w on replica %s", err, d.opts.Replica)
	case err != nil:
		return nil, fmt.Errorf("signing secret: %w", err)
	}
	return b, nil
}

// Outcome assignments, recorded through the lease queue's Finish, which
// fences them to the attempt's own lease: a replica whose lease expired
// cannot overwrite its successor's work. $1 is the time.
const (
	// deliveredSet: $2 the receiver's status code, $3 what it refused of
	// an otherwise accepted delivery ('' for nothing).
	deliveredSet = `status = 'delivered', last_status_code = $2, last_error = $3, finished_at = ` + leasequeue.Now
	// failedSet: $2 max attempts, $3 the retry delay in ms, $4 the status
	// code, $5 the error.
	failedSet = `status = CASE WHEN t.attempts >= $2 THEN 'dead' ELSE 'pending' END,
		next_attempt_at = ` + leasequeue.Now + ` + $3::bigint * interval '1 millisecond',
		finished_at = CASE WHEN t.attempts >= $2 THEN ` + leasequeue.Now + ` END,
		last_status_code = $4, last_error = $5`
)

// record stores an attempt's outcome, retrying while the database fails
// for up to a lease: after that another replica may own the row.
func (d *Deliverer) record(ctx context.Context, it claimed, out outcome) {
	var code *int
	if out.code != 0 {
		code = &out.code
	}
	status, set, args := DeliveryDelivered, deliveredSet, []any{code, errorText(out.note)}
	if out.err != nil {
		status = DeliveryPending
		if it.attempts >= d.opts.MaxAttempts {
			status = DeliveryDead
		}
		delay := d.retryDelay(it.attempts, out.retryAfter)
		set, args = failedSet, []any{d.opts.MaxAttempts, delay.Milliseconds(), code, errorText(out.err.Error())}
	}
	var ours bool
	err := d.queue.Retry(ctx, func() error {
		var err error
		_, ours, err = d.queue.Finish(ctx, d.pool, it.lease(), set, args...)
		return err
	})
	kind := string(it.kind)
	switch {
	case err != nil:
		d.logger.Error("could not record delivery outcome; its lease will expire and it will be sent again",
			"delivery", it.id, "error", err)
	case !ours:
		d.logger.Warn("delivery no longer ours (lease expired or channel deleted); outcome dropped", "delivery", it.id)
	case status == DeliveryDelivered:
		d.metrics.delivered.WithLabelValues(kind).Inc()
		if out.note != "" {
			d.logger.Warn("notification delivered in part", "delivery", it.id, "channel", it.channelID, "refused", out.note)
		}
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

// errorText is msg as last_error keeps it: valid UTF-8 without NULs, at
// most maxErrorBytes.
func errorText(msg string) string {
	return clip(strings.ToValidUTF8(strings.ReplaceAll(msg, "\x00", ""), ""), maxErrorBytes)
}

// release puts a row back in the queue at shutdown, for any replica to take.
func (d *Deliverer) release(ctx context.Context, it claimed) {
	if err := d.queue.Release(ctx, it.lease()); err != nil {
		d.logger.Warn("could not release delivery at shutdown; its lease will expire", "delivery", it.id, "error", err)
	}
}
