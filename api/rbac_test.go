package api

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
)

var ginParam = regexp.MustCompile(`:([a-z_]+)`)

// tableKey names a route as the spec does: "GET /api/v1/tokens/{id}".
func tableKey(method, ginPath string) string {
	return method + " " + apiPrefix + ginParam.ReplaceAllString(ginPath, "{$1}")
}

// TestRBACMatchesSpec walks every /api/v1 operation in openapi.yaml and
// checks that no token gets 401 and that each role gets exactly what the
// route table allows: 403 when not listed, anything but 401/403 otherwise.
func TestRBACMatchesSpec(t *testing.T) {
	env := setup(t)
	loadSpec(t)
	table := map[string][]orchestrator.Role{}
	for _, rt := range env.server.Routes() {
		table[tableKey(rt.Method, rt.Path)] = rt.Roles
	}
	seen := map[string]bool{}
	for path, item := range specDoc.Paths.Map() {
		if !strings.HasPrefix(path, apiPrefix) {
			continue
		}
		for method := range item.Operations() {
			key := method + " " + path
			seen[key] = true
			roles, ok := table[key]
			if !ok {
				t.Errorf("%s is in openapi.yaml but not in the route table", key)
				continue
			}
			concrete := regexp.MustCompile(`\{[a-z_]+\}`).ReplaceAllString(path, "999999")
			t.Run(key, func(t *testing.T) {
				require.Equal(t, http.StatusUnauthorized, env.do(method, concrete, "", nil).Status, "no token")
				for _, role := range orchestrator.Roles {
					resp := env.do(method, concrete, role, nil)
					status := resp.Status
					if slices.Contains(roles, role) {
						require.NotContains(t, []int{401, 403}, status, "role %s is allowed: %s", role, resp.Body)
					} else {
						require.Equal(t, http.StatusForbidden, status, "role %s is not allowed", role)
					}
				}
			})
		}
	}
	for key := range table {
		if !seen[key] {
			t.Errorf("%s is in the route table but not in openapi.yaml", key)
		}
	}
}

func TestBadTokens(t *testing.T) {
	env := setup(t)
	admin := env.tokens[orchestrator.RoleAdmin]
	// Change the secret's last character to one it is not.
	last := "x"
	if strings.HasSuffix(admin, last) {
		last = "y"
	}
	for name, header := range map[string]string{
		"wrong scheme":   "Basic " + admin,
		"garbage":        "Bearer nonsense",
		"altered secret": "Bearer " + admin[:len(admin)-1] + last,
		"sql-looking":    "Bearer bcdr_' OR 1=1 --",
	} {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", "/api/v1/whoami", nil)
			req.Header.Set("Authorization", header)
			rec := httptest.NewRecorder()
			env.server.ServeHTTP(rec, req)
			require.Equal(t, http.StatusUnauthorized, rec.Code, fmt.Sprint(rec.Body))
		})
	}
}
