package audit

import (
	"bufio"
	"context"
	"crypto/hmac"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// anchorMagic starts every anchor line; v1 is the layout below.
const anchorMagic = "bcdr-audit-anchor v1"

// Anchor is the chain head at one moment, kept outside the database: the
// newest row's id and hash and how many rows there were up to it. A
// chain that still verifies but no longer holds an anchor's row, hash or
// row count was cut short, truncated or rewritten.
type Anchor struct {
	At   time.Time
	ID   int64
	Rows int64
	Hash string
	// Line is where the anchor was read from, for messages; 0 for a new one.
	Line int
}

// TakeAnchor reads the chain head now.
func TakeAnchor(ctx context.Context, q postgres.Querier) (Anchor, error) {
	var a Anchor
	const head = `SELECT now(), coalesce(h.id, 0), coalesce(h.hash, ''), (SELECT count(*) FROM audit_log WHERE id <= coalesce(h.id, 0))
		FROM (SELECT 1) one LEFT JOIN (SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1) h ON true`
	if err := q.QueryRow(ctx, head).Scan(&a.At, &a.ID, &a.Hash, &a.Rows); err != nil {
		return Anchor{}, fmt.Errorf("read audit chain head: %w", err)
	}
	a.At = a.At.UTC().Truncate(time.Second)
	return a, nil
}

// AnchorLine takes an anchor and signs it with the context's key; ok is
// false, and nothing is read, when the context has no key.
func AnchorLine(ctx context.Context, q postgres.Querier) (line string, ok bool, err error) {
	key, ok := KeyFrom(ctx)
	if !ok {
		return "", false, nil
	}
	a, err := TakeAnchor(ctx, q)
	if err != nil {
		return "", false, err
	}
	return a.Sign(key), true, nil
}

// body is the signed part of the anchor's line.
func (a Anchor) body() string {
	return fmt.Sprintf("%s at=%s id=%d rows=%d hash=%s", anchorMagic, a.At.UTC().Format(time.RFC3339), a.ID, a.Rows, a.Hash)
}

// Sign renders the anchor as one line, signed with key:
// `bcdr-audit-anchor v1 at=<RFC3339> id=<n> rows=<n> hash=<hex> sig=<hex>`,
// sig being the HMAC-SHA256 of everything before " sig=".
func (a Anchor) Sign(key Key) string {
	body := a.body()
	return body + " sig=" + key.mac([]byte(body))
}

// ParseAnchors reads every anchor line of r, skipping blank lines and
// lines starting with #, and checks each signature with key. Any other
// line, or a signature that does not match, is an error naming the line.
func ParseAnchors(r io.Reader, key Key) ([]Anchor, error) {
	var anchors []Anchor
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		a, err := parseAnchor(text, key)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		a.Line = n
		anchors = append(anchors, a)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read anchors: %w", err)
	}
	return anchors, nil
}

func parseAnchor(text string, key Key) (Anchor, error) {
	body, sig, found := strings.Cut(text, " sig=")
	if !found || !strings.HasPrefix(body, anchorMagic+" ") {
		return Anchor{}, fmt.Errorf("not a %q line with a sig", anchorMagic)
	}
	if !hmac.Equal([]byte(key.mac([]byte(body))), []byte(sig)) {
		return Anchor{}, fmt.Errorf("anchor signature does not match %s (the line was altered or signed with another key)", key)
	}
	fields := map[string]string{}
	for _, f := range strings.Fields(strings.TrimPrefix(body, anchorMagic)) {
		name, value, _ := strings.Cut(f, "=")
		fields[name] = value
	}
	var a Anchor
	var err error
	if a.At, err = time.Parse(time.RFC3339, fields["at"]); err != nil {
		return Anchor{}, fmt.Errorf("anchor at=%q: %w", fields["at"], err)
	}
	if a.ID, err = strconv.ParseInt(fields["id"], 10, 64); err != nil {
		return Anchor{}, fmt.Errorf("anchor id=%q: not a number", fields["id"])
	}
	if a.Rows, err = strconv.ParseInt(fields["rows"], 10, 64); err != nil {
		return Anchor{}, fmt.Errorf("anchor rows=%q: not a number", fields["rows"])
	}
	a.Hash = fields["hash"]
	if a.body() != body {
		return Anchor{}, fmt.Errorf("anchor is not in the v1 layout")
	}
	return a, nil
}

// CheckAnchors checks the database against each anchor: the anchored row
// is there with the anchored hash, and exactly the anchored number of rows
// lead up to it. The first anchor that fails is reported, naming what was
// done: rows rewritten, the newest rows deleted, or the table emptied.
func CheckAnchors(ctx context.Context, q postgres.Querier, anchors []Anchor) (Verification, error) {
	var v Verification
	for _, a := range anchors {
		v.Checked++
		if a.ID == 0 {
			continue
		}
		var (
			hash        *string
			upTo, total int64
		)
		const query = `SELECT (SELECT hash FROM audit_log WHERE id = $1),
			(SELECT count(*) FROM audit_log WHERE id <= $1), (SELECT count(*) FROM audit_log)`
		if err := q.QueryRow(ctx, query, a.ID).Scan(&hash, &upTo, &total); err != nil {
			return Verification{}, fmt.Errorf("check audit anchor: %w", err)
		}
		if problem := a.problem(hash, upTo, total); problem != "" {
			return Verification{Checked: v.Checked, BadID: a.ID, Problem: problem}, nil
		}
	}
	v.OK = true
	return v, nil
}

// problem is what the database's state says against the anchor, or "".
func (a Anchor) problem(hash *string, upTo, total int64) string {
	when := a.At.UTC().Format(time.RFC3339)
	switch {
	case total == 0:
		return fmt.Sprintf("the audit log is empty, but %s up to row %d had been anchored at %s (the table was truncated)", rowCount(a.Rows), a.ID, when)
	case hash == nil:
		return fmt.Sprintf("row %d, anchored at %s, is missing (the newest rows were deleted)", a.ID, when)
	case *hash != a.Hash:
		return fmt.Sprintf("row %d does not have the hash anchored at %s (rows were rewritten)", a.ID, when)
	case upTo < a.Rows:
		return fmt.Sprintf("%s up to row %d, but %d were anchored at %s (rows were deleted)", rowCount(upTo), a.ID, a.Rows, when)
	case upTo > a.Rows:
		return fmt.Sprintf("%s up to row %d, but %d were anchored at %s (rows were inserted)", rowCount(upTo), a.ID, a.Rows, when)
	}
	return ""
}

// rowCount is "1 row" or "n rows".
func rowCount(n int64) string {
	if n == 1 {
		return "1 row"
	}
	return fmt.Sprintf("%d rows", n)
}
