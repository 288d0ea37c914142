package api

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
)

type verification struct {
	OK       bool   `json:"ok"`
	Checked  int64  `json:"checked"`
	BrokenAt int64  `json:"broken_at"`
	Problem  string `json:"problem"`
}

func TestAuditChainDetectsTampering(t *testing.T) {
	env := setup(t)
	for _, name := range []string{"a", "b", "c"} {
		require.Equal(t, http.StatusCreated, env.do("POST", "/api/v1/tokens", orchestrator.RoleAdmin, map[string]any{"name": name, "role": "executive"}).Status)
	}
	var v verification
	env.do("GET", "/api/v1/audit/verify", orchestrator.RoleAuditor, nil).JSON(t, &v)
	require.True(t, v.OK)
	require.EqualValues(t, 8, v.Checked, "5 setup tokens + 3")

	// The application cannot rewrite history: the trigger refuses.
	_, err := env.pool.Exec(t.Context(), `UPDATE audit_log SET summary = 'nothing happened'`)
	require.ErrorContains(t, err, "append-only")
	_, err = env.pool.Exec(t.Context(), `DELETE FROM audit_log`)
	require.ErrorContains(t, err, "append-only")

	// A superuser who switches the triggers off can; verify then names the row.
	var target int64
	require.NoError(t, env.pool.QueryRow(t.Context(), `SELECT id FROM audit_log ORDER BY id OFFSET 6 LIMIT 1`).Scan(&target))
	conn, err := env.pool.Acquire(t.Context())
	require.NoError(t, err)
	defer conn.Release()
	_, err = conn.Exec(t.Context(), `SET session_replication_role = replica`)
	require.NoError(t, err)
	_, err = conn.Exec(t.Context(), `UPDATE audit_log SET actor = 'someone else' WHERE id = $1`, target)
	require.NoError(t, err)
	_, err = conn.Exec(t.Context(), `RESET session_replication_role`)
	require.NoError(t, err)

	env.do("GET", "/api/v1/audit/verify", orchestrator.RoleAdmin, nil).JSON(t, &v)
	require.False(t, v.OK)
	require.Equal(t, target, v.BrokenAt)
	require.Contains(t, v.Problem, "altered")
}

func TestAuditChainDetectsDeletion(t *testing.T) {
	env := setup(t)
	var second, third int64
	require.NoError(t, env.pool.QueryRow(t.Context(), `SELECT id FROM audit_log ORDER BY id OFFSET 1 LIMIT 1`).Scan(&second))
	require.NoError(t, env.pool.QueryRow(t.Context(), `SELECT id FROM audit_log ORDER BY id OFFSET 2 LIMIT 1`).Scan(&third))
	conn, err := env.pool.Acquire(t.Context())
	require.NoError(t, err)
	defer conn.Release()
	_, err = conn.Exec(t.Context(), `SET session_replication_role = replica; DELETE FROM audit_log WHERE id = `+itoa(second)+`; RESET session_replication_role`)
	require.NoError(t, err)

	var v verification
	env.do("GET", "/api/v1/audit/verify", orchestrator.RoleAuditor, nil).JSON(t, &v)
	require.False(t, v.OK)
	require.Equal(t, third, v.BrokenAt)
	require.Contains(t, v.Problem, "removed")
}

func TestAuditFilters(t *testing.T) {
	env := setup(t)
	env.do("POST", "/api/v1/tokens", orchestrator.RoleAdmin, map[string]any{"name": "x", "role": "auditor"})
	var page struct {
		Items []struct {
			Actor    string `json:"actor"`
			Resource string `json:"resource"`
		} `json:"items"`
	}
	env.do("GET", "/api/v1/audit?actor=test-admin&action=create&resource=tokens", orchestrator.RoleAuditor, nil).JSON(t, &page)
	require.Len(t, page.Items, 1)

	env.do("GET", "/api/v1/audit?since=2999-01-01T00:00:00Z", orchestrator.RoleAuditor, nil).JSON(t, &page)
	require.Empty(t, page.Items)

	resp := env.do("GET", "/api/v1/audit?since=yesterday", orchestrator.RoleAuditor, nil)
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status)
	require.Contains(t, string(resp.Body), `"field":"since"`)
}

func TestHealthAndMetrics(t *testing.T) {
	env := setup(t)
	require.Equal(t, http.StatusOK, env.do("GET", "/healthz", "", nil).Status)
	require.Equal(t, http.StatusOK, env.do("GET", "/readyz", "", nil).Status)
	env.do("GET", "/api/v1/whoami", orchestrator.RoleExecutive, nil)
	metrics := string(env.do("GET", "/metrics", "", nil).Body)
	require.Contains(t, metrics, `bcdr_http_requests_total{method="GET",route="/api/v1/whoami",status="200"} 1`)
	require.Contains(t, metrics, "bcdr_http_request_duration_seconds_bucket")
	require.Contains(t, metrics, "bcdr_db_pool_max_connections 8")

	resp := env.do("GET", "/api/v1/no-such-thing", orchestrator.RoleAdmin, nil)
	require.Equal(t, http.StatusNotFound, resp.Status)
	require.Equal(t, "not_found", resp.ErrorCode(t))
}
