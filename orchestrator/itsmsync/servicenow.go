package itsmsync

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/bcdr/bcdr/orchestrator/outbound"
)

// maxPageBytes bounds one Table API answer: 10,000 records of the fields
// a sync asks for fit many times over.
const maxPageBytes = 256 << 20

// tableClient reads ServiceNow's Table API as one user, basic or OAuth.
type tableClient struct {
	http     *retryablehttp.Client
	instance string
	target   Target
	user     string
	password string // basic auth, or the OAuth password grant's
	secret   string // the OAuth client secret

	// fetching serialises token requests; mu guards token, the OAuth
	// access token once fetched.
	fetching sync.Mutex
	mu       sync.Mutex
	token    string
}

// value is one field of a record: with sysparm_display_value=all an
// object holding both the stored and the display value; a plain string
// (display_value true or false) is both.
type value struct {
	Display, Value string
}

func (v *value) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*v = value{}
		return nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*v = value{Display: s, Value: s}
		return nil
	case b[0] == '{':
		var both struct {
			Display json.RawMessage `json:"display_value"`
			Value   json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(b, &both); err != nil {
			return err
		}
		*v = value{Display: scalar(both.Display), Value: scalar(both.Value)}
		return nil
	}
	s := scalar(b)
	*v = value{Display: s, Value: s}
	return nil
}

// scalar is a JSON string's text, or any other scalar as written.
func scalar(b json.RawMessage) string {
	if len(b) == 0 || string(b) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(b, &s) == nil {
		return s
	}
	return string(b)
}

// record is one row of a Table API answer.
type record map[string]value

// page is a Table API answer: the records, and whether the instance says
// more follow (its Link header has rel="next"); hasLink is false when it
// sent no Link header at all.
type page struct {
	Result  []record `json:"result"`
	next    bool
	hasLink bool
}

// pageRequest is one GET of a table.
type pageRequest struct {
	table  string
	query  string
	fields []string
	limit  int
	offset int
}

// url is the request's address. sysparm_display_value=all gives stored and
// display values; references come without their links;
// sysparm_no_count is left off, since the X-Total-Count it suppresses is
// cheap next to the page.
func (c *tableClient) url(r pageRequest) string {
	q := url.Values{}
	q.Set("sysparm_query", r.query)
	q.Set("sysparm_display_value", "all")
	q.Set("sysparm_exclude_reference_link", "true")
	q.Set("sysparm_fields", strings.Join(r.fields, ","))
	q.Set("sysparm_limit", strconv.Itoa(r.limit))
	q.Set("sysparm_offset", strconv.Itoa(r.offset))
	return c.instance + "/api/now/table/" + url.PathEscape(r.table) + "?" + q.Encode()
}

// fetch reads one page. A 401 with OAuth fetches a new token once (the
// old one may have expired mid-sync) and asks again.
func (c *tableClient) fetch(ctx context.Context, r pageRequest) (page, error) {
	for attempt := 0; ; attempt++ {
		req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodGet, c.url(r), nil)
		if err != nil {
			return page{}, err
		}
		req.Header.Set("Accept", "application/json")
		if err := c.authorize(ctx, req); err != nil {
			return page{}, err
		}
		resp, err := c.http.Do(req)
		if err != nil {
			return page{}, c.callError("read "+r.table, err)
		}
		if resp.StatusCode == http.StatusUnauthorized && c.target.Auth == AuthOAuth && attempt == 0 {
			drain(resp)
			c.mu.Lock()
			c.token = ""
			c.mu.Unlock()
			continue
		}
		return c.readPage(r.table, resp)
	}
}

// readPage decodes a Table API answer, or says why it is not one.
func (c *tableClient) readPage(table string, resp *http.Response) (page, error) {
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		return page{}, c.statusError("read "+table, resp)
	}
	var p page
	dec := json.NewDecoder(io.LimitReader(resp.Body, maxPageBytes))
	if err := dec.Decode(&p); err != nil {
		return page{}, fmt.Errorf("read %s: the answer is not a Table API result: %v", table, c.scrub(err.Error()))
	}
	if p.Result == nil {
		return page{}, fmt.Errorf("read %s: the answer has no result list", table)
	}
	if links := resp.Header.Values("Link"); len(links) > 0 {
		p.hasLink = true
		p.next = hasNextLink(links)
	}
	return p, nil
}

// hasNextLink reports whether a Link header (RFC 8288; ServiceNow sends
// first, prev, next and last) has a rel="next" link.
func hasNextLink(headers []string) bool {
	for _, h := range headers {
		for link := range strings.SplitSeq(h, ",") {
			_, params, ok := strings.Cut(link, ">")
			if !ok {
				continue
			}
			for p := range strings.SplitSeq(params, ";") {
				name, val, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(name, "rel") && strings.EqualFold(strings.Trim(val, `"`), "next") {
					return true
				}
			}
		}
	}
	return false
}

// authorize sets the request's credentials.
func (c *tableClient) authorize(ctx context.Context, req *retryablehttp.Request) error {
	if c.target.Auth == AuthBasic {
		req.SetBasicAuth(c.user, c.password)
		return nil
	}
	token, err := c.accessToken(ctx)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return nil
}

// accessToken returns the OAuth token, asking the instance's
// /oauth_token.do for one when there is none: the password grant when the
// target names a user, else client credentials.
func (c *tableClient) accessToken(ctx context.Context) (string, error) {
	c.fetching.Lock()
	defer c.fetching.Unlock()
	c.mu.Lock()
	token := c.token
	c.mu.Unlock()
	if token != "" {
		return token, nil
	}
	form := url.Values{"client_id": {c.target.ClientID}, "client_secret": {c.secret}}
	if c.user != "" {
		form.Set("grant_type", "password")
		form.Set("username", c.user)
		form.Set("password", c.password)
	} else {
		form.Set("grant_type", "client_credentials")
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, c.instance+"/oauth_token.do", []byte(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return "", c.callError("get an OAuth token", err)
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		return "", c.statusError("get an OAuth token", resp)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&tok); err != nil || tok.AccessToken == "" {
		return "", errors.New("get an OAuth token: the answer holds no access_token")
	}
	if tok.TokenType != "" && !strings.EqualFold(tok.TokenType, "bearer") {
		return "", fmt.Errorf("get an OAuth token: token_type %q is not Bearer", clip(tok.TokenType))
	}
	c.mu.Lock()
	c.token = tok.AccessToken
	c.mu.Unlock()
	return tok.AccessToken, nil
}

// statusError describes an answer other than 200, with ServiceNow's own
// error message ({"error":{"message","detail"},"status":"failure"}) when
// there is one; secrets are scrubbed from it.
func (c *tableClient) statusError(what string, resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
	var e struct {
		Error json.RawMessage `json:"error"`
		// OAuth errors (RFC 6749) say why in error_description.
		Description string `json:"error_description"`
	}
	msg := ""
	if json.Unmarshal(body, &e) == nil {
		var detail struct{ Message, Detail string }
		if json.Unmarshal(e.Error, &detail) == nil && detail.Message != "" {
			msg = strings.TrimSpace(detail.Message + " " + detail.Detail)
		} else if s := scalar(e.Error); s != "" {
			msg = strings.TrimSpace(s + " " + e.Description)
		}
	}
	hint := ""
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		hint = " (check the credentials the target references)"
	case http.StatusForbidden:
		hint = " (the sync user needs read access to the table: a role such as itil or cmdb_read)"
	}
	if msg != "" {
		msg = ": " + clipMessage(msg)
	}
	return fmt.Errorf("%s: %s answered %s%s%s", what, c.instance, resp.Status, c.scrub(msg), hint)
}

// callError describes a request that got no answer: the address policy's
// refusal on its own, anything else with the client's message.
func (c *tableClient) callError(what string, err error) error {
	var denied *outbound.DeniedError
	if errors.As(err, &denied) {
		return fmt.Errorf("%s: instance %s: %w", what, c.instance, denied)
	}
	return fmt.Errorf("%s: %s", what, c.scrub(err.Error()))
}

// scrub removes every secret this client holds from s.
func (c *tableClient) scrub(s string) string {
	c.mu.Lock()
	token := c.token
	c.mu.Unlock()
	for _, secret := range []string{c.password, c.secret, token} {
		if len(secret) >= 4 {
			s = strings.ReplaceAll(s, secret, "[redacted]")
			s = strings.ReplaceAll(s, url.QueryEscape(secret), "[redacted]")
		}
	}
	return s
}

func clipMessage(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

// drain reads what is left of a body so that its connection is reused.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
}
