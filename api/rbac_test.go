package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
)

var (
	ginParam  = regexp.MustCompile(`:([a-z_]+)`)
	specParam = regexp.MustCompile(`\{[a-z_]+\}`)
)

// tableKey names a route as the spec does: "GET /api/v1/tokens/{id}".
func tableKey(method, ginPath string) string {
	return method + " " + apiPrefix + ginParam.ReplaceAllString(ginPath, "{$1}")
}

// specPolicy is the RBAC policy as openapi.yaml states it: the x-roles of
// every /api/v1 operation, keyed like tableKey. It is the independent side
// of every RBAC check: the route table and the middleware are compared with
// it, never with themselves. An operation without a valid x-roles list fails
// the test.
func specPolicy(t *testing.T) map[string][]orchestrator.Role {
	t.Helper()
	loadSpec(t)
	policy := map[string][]orchestrator.Role{}
	for path, item := range specDoc.Paths.Map() {
		if !strings.HasPrefix(path, apiPrefix) {
			continue
		}
		for method, op := range item.Operations() {
			key := method + " " + path
			if _, self := op.Extensions["x-auth"]; self {
				continue // see specSelfAuth
			}
			raw, ok := op.Extensions["x-roles"]
			if !ok {
				t.Errorf("%s: openapi.yaml has no x-roles for it", key)
				continue
			}
			roles, err := parseXRoles(raw)
			if err != nil {
				t.Errorf("%s: x-roles: %v", key, err)
				continue
			}
			policy[key] = roles
		}
	}
	return policy
}

// specSelfAuth lists the /api/v1 operations openapi.yaml marks
// "x-auth: feed-token": opened by a token of their own in the URL (the
// calendar feed), with no bearer token and so no x-roles.
func specSelfAuth(t *testing.T) map[string]bool {
	t.Helper()
	loadSpec(t)
	out := map[string]bool{}
	for path, item := range specDoc.Paths.Map() {
		for method, op := range item.Operations() {
			if raw, ok := op.Extensions["x-auth"]; ok && strings.HasPrefix(path, apiPrefix) {
				if raw != "feed-token" {
					t.Errorf("%s %s: x-auth must be feed-token, not %v", method, path, raw)
				}
				if _, roles := op.Extensions["x-roles"]; roles {
					t.Errorf("%s %s: an x-auth operation takes no bearer token, so no x-roles", method, path)
				}
				out[method+" "+path] = true
			}
		}
	}
	return out
}

// parseXRoles accepts a non-empty list of distinct known roles.
func parseXRoles(raw any) ([]orchestrator.Role, error) {
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	var names []string
	if err := json.Unmarshal(b, &names); err != nil {
		return nil, fmt.Errorf("want a list of role names, got %s", b)
	}
	if len(names) == 0 {
		return nil, errors.New("empty: an operation nobody may call does not belong in the API")
	}
	var roles []orchestrator.Role
	for _, n := range names {
		r := orchestrator.Role(n)
		if !slices.Contains(orchestrator.Roles, r) {
			return nil, fmt.Errorf("unknown role %q", n)
		}
		if slices.Contains(roles, r) {
			return nil, fmt.Errorf("role %q listed twice", n)
		}
		roles = append(roles, r)
	}
	return roles, nil
}

// sameRoles reports whether a and b hold the same roles, in any order.
func sameRoles(a, b []orchestrator.Role) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// TestRouteTableMatchesXRoles compares the route table the middleware
// enforces with the x-roles of openapi.yaml, both ways: a route without an
// operation, an operation without a route and a route whose roles differ
// all fail. Changing who may call something therefore takes two deliberate
// edits. It needs no database.
func TestRouteTableMatchesXRoles(t *testing.T) {
	policy, selfAuth := specPolicy(t), specSelfAuth(t)
	inTable := map[string]bool{}
	for _, rt := range (&Server{}).Routes() {
		key := tableKey(rt.Method, rt.Path)
		if inTable[key] {
			t.Errorf("%s is in the route table twice", key)
		}
		inTable[key] = true
		if rt.SelfAuth || selfAuth[key] {
			if !rt.SelfAuth || !selfAuth[key] || len(rt.Roles) > 0 {
				t.Errorf("%s: the route table (SelfAuth %v, roles %v) and openapi.yaml (x-auth %v) disagree", key, rt.SelfAuth, rt.Roles, selfAuth[key])
			}
			continue
		}
		want, ok := policy[key]
		if !ok {
			t.Errorf("%s is in the route table but openapi.yaml has no operation with x-roles for it", key)
			continue
		}
		if !sameRoles(rt.Roles, want) {
			t.Errorf("%s: the route table allows %v but x-roles in openapi.yaml says %v", key, rt.Roles, want)
		}
	}
	for key := range policy {
		if !inTable[key] {
			t.Errorf("%s is in openapi.yaml but not in the route table", key)
		}
	}
}

var rolesLine = regexp.MustCompile(`^\s*Roles:\s*([a-z_]+(?:,\s*[a-z_]+)*)`)

// TestDescriptionRolesMatchXRoles keeps the "Roles: ..." sentence that
// readers of the rendered spec see in step with x-roles.
func TestDescriptionRolesMatchXRoles(t *testing.T) {
	policy := specPolicy(t)
	for path, item := range specDoc.Paths.Map() {
		for method, op := range item.Operations() {
			key := method + " " + path
			want, ok := policy[key]
			if !ok {
				continue
			}
			m := rolesLine.FindStringSubmatch(op.Description)
			if m == nil {
				t.Errorf("%s: the description does not start with \"Roles: ...\"", key)
				continue
			}
			var said []orchestrator.Role
			for _, n := range strings.Split(m[1], ",") {
				said = append(said, orchestrator.Role(strings.TrimSpace(n)))
			}
			if len(said) == 1 && said[0] == "all" {
				said = orchestrator.Roles
			}
			if !sameRoles(said, want) {
				t.Errorf("%s: the description says Roles: %s but x-roles is %v", key, m[1], want)
			}
		}
	}
}

// TestRBACMatrix calls every /api/v1 operation of openapi.yaml as every
// role on a real server and compares the answer with x-roles: 403 when the
// role is not listed, anything but 401/403 when it is. No token is 401.
func TestRBACMatrix(t *testing.T) {
	policy := specPolicy(t)
	env := setup(t)
	keys := slices.Sorted(maps.Keys(policy))
	for _, key := range keys {
		roles := policy[key]
		method, path, _ := strings.Cut(key, " ")
		concrete := specParam.ReplaceAllString(path, "999999")
		t.Run(key, func(t *testing.T) {
			require.Equal(t, http.StatusUnauthorized, env.do(method, concrete, "", nil).Status, "no token")
			for _, role := range orchestrator.Roles {
				resp := env.do(method, concrete, role, nil)
				if slices.Contains(roles, role) {
					require.NotContains(t, []int{401, 403}, resp.Status, "x-roles allows %s: %s", role, resp.Body)
				} else {
					require.Equal(t, http.StatusForbidden, resp.Status, "x-roles does not allow %s: %s", role, resp.Body)
				}
			}
		})
	}
}

// TestSelfAuthRefusesBearerTokens checks that an operation opened by its
// own token (the calendar feed) answers 401 without it, whatever bearer
// token comes along.
func TestSelfAuthRefusesBearerTokens(t *testing.T) {
	selfAuth := specSelfAuth(t)
	env := setup(t)
	for _, key := range slices.Sorted(maps.Keys(selfAuth)) {
		method, path, _ := strings.Cut(key, " ")
		t.Run(key, func(t *testing.T) {
			require.Equal(t, http.StatusUnauthorized, env.do(method, path+"?token=nonsense", "", nil).Status, "no token")
			for _, role := range orchestrator.Roles {
				require.Equal(t, http.StatusUnauthorized, env.do(method, path+"?token=nonsense", role, nil).Status, "bearer token of %s", role)
			}
		})
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
