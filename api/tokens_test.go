package api

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
)

func TestTokenLifecycle(t *testing.T) {
	env := setup(t)
	admin := orchestrator.RoleAdmin

	resp := env.do("POST", "/api/v1/tokens", admin, map[string]any{"name": "ops bot", "role": "operator"})
	require.Equal(t, http.StatusCreated, resp.Status)
	var created struct {
		ID     int64  `json:"id"`
		Token  string `json:"token"`
		Prefix string `json:"prefix"`
	}
	resp.JSON(t, &created)
	require.True(t, strings.HasPrefix(created.Token, "bcdr_"+created.Prefix+"_"))

	// The new token works and carries its role.
	env.tokens["bot"] = created.Token
	who := env.do("GET", "/api/v1/whoami", "bot", nil)
	require.Equal(t, http.StatusOK, who.Status)
	require.Contains(t, string(who.Body), `"role":"operator"`)

	// The secret is stored only as a hash.
	var stored []byte
	require.NoError(t, env.pool.QueryRow(t.Context(), `SELECT hash FROM api_tokens WHERE id = $1`, created.ID).Scan(&stored))
	require.Len(t, stored, 32)
	require.NotContains(t, string(env.do("GET", "/api/v1/tokens", admin, nil).Body), created.Token)

	// A second active token with the same name conflicts.
	dup := env.do("POST", "/api/v1/tokens", admin, map[string]any{"name": "ops bot", "role": "auditor"})
	require.Equal(t, http.StatusConflict, dup.Status)

	// Revoked tokens stop working at once.
	require.Equal(t, http.StatusNoContent, env.do("DELETE", "/api/v1/tokens/"+itoa(created.ID), admin, nil).Status)
	require.Equal(t, http.StatusUnauthorized, env.do("GET", "/api/v1/whoami", "bot", nil).Status)
	require.Equal(t, http.StatusNotFound, env.do("DELETE", "/api/v1/tokens/"+itoa(created.ID), admin, nil).Status)

	// Both mutations are in the audit log, attributed to the admin token.
	var audit struct {
		Items []struct {
			Actor  string `json:"actor"`
			Action string `json:"action"`
		} `json:"items"`
	}
	env.do("GET", "/api/v1/audit?resource=tokens&resource_id="+itoa(created.ID), orchestrator.RoleAuditor, nil).JSON(t, &audit)
	require.Len(t, audit.Items, 2)
	require.Equal(t, "delete", audit.Items[0].Action)
	require.Equal(t, "test-admin", audit.Items[1].Actor)
}

func TestTokenValidation(t *testing.T) {
	env := setup(t)
	cases := map[string]struct {
		body   any
		status int
		field  string
	}{
		"missing name":     {map[string]any{"role": "admin"}, 422, "name"},
		"unknown role":     {map[string]any{"name": "x", "role": "root"}, 422, "role"},
		"control chars":    {map[string]any{"name": "a\x07b", "role": "admin"}, 422, "name"},
		"too long":         {map[string]any{"name": strings.Repeat("n", 101), "role": "admin"}, 422, "name"},
		"unknown field":    {`{"name":"x","role":"admin","admin":true}`, 422, "admin"},
		"wrong type":       {`{"name":42,"role":"admin"}`, 422, "name"},
		"malformed":        {`{"name":`, 422, ""},
		"trailing data":    {`{"name":"x","role":"admin"} {}`, 422, ""},
		"not an object":    {`[1,2]`, 422, ""},
		"empty":            {"", 422, ""},
		"oversized":        {`{"name":"` + strings.Repeat("a", 2<<20) + `","role":"admin"}`, 413, ""},
		"sql-looking name": {map[string]any{"name": "x'); DROP TABLE api_tokens; --", "role": "admin"}, 201, ""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var before int
			require.NoError(t, env.pool.QueryRow(t.Context(), `SELECT count(*) FROM api_tokens`).Scan(&before))
			resp := env.do("POST", "/api/v1/tokens", orchestrator.RoleAdmin, c.body)
			require.Equal(t, c.status, resp.Status, "body: %s", resp.Body)
			if c.status >= 400 {
				var body struct {
					Error struct {
						Code    string                    `json:"code"`
						Message string                    `json:"message"`
						Fields  []orchestrator.FieldError `json:"fields"`
					} `json:"error"`
				}
				resp.JSON(t, &body)
				require.NotEmpty(t, body.Error.Message)
				if c.field != "" {
					require.NotEmpty(t, body.Error.Fields)
					require.Equal(t, c.field, body.Error.Fields[0].Field)
				}
				var after int
				require.NoError(t, env.pool.QueryRow(t.Context(), `SELECT count(*) FROM api_tokens`).Scan(&after))
				require.Equal(t, before, after, "nothing written")
			}
		})
	}
}

func TestPaginationCursors(t *testing.T) {
	env := setup(t)
	// Five role tokens exist; page through them two at a time.
	var names []string
	next := ""
	for range 10 {
		resp := env.do("GET", "/api/v1/tokens?limit=2&after="+next, orchestrator.RoleAdmin, nil)
		require.Equal(t, http.StatusOK, resp.Status)
		var page struct {
			Items []struct {
				Name string `json:"name"`
			} `json:"items"`
			Next string `json:"next"`
		}
		resp.JSON(t, &page)
		for _, it := range page.Items {
			names = append(names, it.Name)
		}
		if page.Next == "" {
			break
		}
		next = page.Next
	}
	require.Len(t, names, len(orchestrator.Roles))

	for _, bad := range []string{"limit=0", "limit=1001", "limit=abc", "after=not-a-cursor", "after=%00%ff", "after=eyJhIjoiIn0"} {
		resp := env.do("GET", "/api/v1/tokens?"+bad, orchestrator.RoleAdmin, nil)
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, bad)
		require.Equal(t, "invalid", resp.ErrorCode(t), bad)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
