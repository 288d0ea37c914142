package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/migrations"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/auth"
	"github.com/bcdr/bcdr/orchestrator/postgres"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
)

var (
	specOnce   sync.Once
	specDoc    *openapi3.T
	specRouter routers.Router
	specErr    error
)

// loadSpec parses and validates openapi.yaml once per test binary.
func loadSpec(t *testing.T) routers.Router {
	t.Helper()
	specOnce.Do(func() {
		// Import bodies and exports are files: the contract checks their
		// media type, the importer or the export tests their content.
		for _, ct := range []string{"text/csv", "application/x-ndjson", "text/html", "text/markdown", "application/zip", "text/calendar", "application/pdf"} {
			openapi3filter.RegisterBodyDecoder(ct, openapi3filter.PlainBodyDecoder)
		}
		specDoc, specErr = openapi3.NewLoader().LoadFromData(Spec)
		if specErr != nil {
			return
		}
		if specErr = specDoc.Validate(context.Background()); specErr != nil {
			return
		}
		specRouter, specErr = gorillamux.NewRouter(specDoc)
	})
	require.NoError(t, specErr, "openapi.yaml")
	return specRouter
}

// testEnv is a server on its own database with a token for every role.
type testEnv struct {
	t      *testing.T
	server *Server
	pool   *pgxpool.Pool
	tokens map[orchestrator.Role]string
}

func setup(t *testing.T) *testEnv {
	t.Helper()
	pool := pgtest.New(t)
	migrator, err := postgres.NewMigrator(pool, migrations.FS, nil)
	require.NoError(t, err)
	env := &testEnv{
		t:      t,
		pool:   pool,
		server: NewServer(Options{Pool: pool, Migrator: migrator, Services: testServices(pool), BaseURL: "http://bcdr.test"}),
		tokens: map[orchestrator.Role]string{},
	}
	svc := auth.NewService(pool)
	for _, role := range orchestrator.Roles {
		_, secret, err := svc.Create(context.Background(), "test-"+string(role), role)
		require.NoError(t, err)
		env.tokens[role] = secret
	}
	return env
}

// response is a recorded answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v.
func (r *response) JSON(t *testing.T, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.Body, v), "body: %s", r.Body)
}

// ErrorCode returns the code of an error body.
func (r *response) ErrorCode(t *testing.T) string {
	t.Helper()
	var body struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	r.JSON(t, &body)
	return body.Error.Code
}

// do sends a request as role ("" for no token). body is sent as is when it
// is a string or []byte, else as JSON. The request and the response are
// checked against openapi.yaml: a request the spec rejects must get a 4xx,
// and every response must match the spec.
func (e *testEnv) do(method, path string, role orchestrator.Role, body any) *response {
	e.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		raw, err = json.Marshal(b)
		require.NoError(e.t, err)
	}
	contentType := ""
	if body != nil {
		contentType = "application/json"
	}
	return e.send(method, path, role, contentType, raw)
}

// send is do with a raw body of the given content type and headers given
// as name, value pairs.
func (e *testEnv) send(method, path string, role orchestrator.Role, contentType string, raw []byte, headers ...string) *response {
	e.t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(raw))
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+e.tokens[role])
	}
	rec := httptest.NewRecorder()
	e.server.ServeHTTP(rec, req)
	resp := &response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	e.checkContract(method, path, req.Header, raw, resp)
	return resp
}

func (e *testEnv) checkContract(method, path string, header http.Header, raw []byte, resp *response) {
	e.t.Helper()
	router := loadSpec(e.t)
	req := httptest.NewRequest(method, path, bytes.NewReader(raw))
	req.Header = header.Clone()
	route, params, err := router.FindRoute(req)
	if err != nil {
		if resp.Status != http.StatusNotFound {
			e.t.Errorf("%s %s is not in openapi.yaml but answered %d", method, path, resp.Status)
		}
		return
	}
	ctx := context.Background()
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil && (resp.Status < 400 || resp.Status >= 500) {
		e.t.Errorf("%s %s: the spec rejects the request (%v) but the server answered %d", method, path, err, resp.Status)
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.Status, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(resp.Body))}
	out.Options = &openapi3filter.Options{IncludeResponseStatus: true}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		e.t.Errorf("%s %s: response %d does not match openapi.yaml: %v\nbody: %s", method, path, resp.Status, err, resp.Body)
	}
}
