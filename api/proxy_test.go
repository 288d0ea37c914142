package api

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
)

// Behind a trusted load balancer each client has its own failure budget,
// named by X-Forwarded-For; the header from anyone else changes nothing.
func TestTrustedProxyForwardsClientAddress(t *testing.T) {
	proxies, err := ParseTrustedProxies(" 10.0.0.0/8, 192.0.2.10 ")
	require.NoError(t, err)
	e := setupThrottle(t, Options{TrustedProxies: proxies})
	good := e.tokens[orchestrator.RoleAuditor]
	const balancer = "10.1.2.3:5000"

	// The attacker, behind the balancer, spends its budget and tries to
	// hide behind a forged address put first in the header.
	for range 20 {
		require.Equal(t, http.StatusUnauthorized, e.get("/api/v1/whoami", balancer, badToken, "X-Forwarded-For", "203.0.113.66").Status)
	}
	require.Equal(t, http.StatusTooManyRequests,
		e.get("/api/v1/whoami", balancer, good, "X-Forwarded-For", "198.18.0.1, 203.0.113.66").Status)
	require.Equal(t, http.StatusTooManyRequests,
		e.get("/api/v1/whoami", "192.0.2.10:443", good, "X-Forwarded-For", "203.0.113.66, 10.9.9.9").Status,
		"a chain of trusted proxies leads back to the same client")
	lines := e.logLines("throttling client after repeated authentication failures")
	require.NotEmpty(t, lines)
	require.Equal(t, "203.0.113.66", lines[0]["client"])

	// Another client behind the same balancer is unaffected.
	require.Equal(t, http.StatusOK, e.get("/api/v1/whoami", balancer, good, "X-Forwarded-For", "203.0.113.77").Status)

	// A peer that is not a trusted proxy is judged by its own address,
	// whatever it forwards.
	for range 20 {
		require.Equal(t, http.StatusUnauthorized, e.get("/api/v1/whoami", attacker, badToken, "X-Forwarded-For", "203.0.113.88").Status)
	}
	require.Equal(t, http.StatusTooManyRequests, e.get("/api/v1/whoami", attacker, good, "X-Forwarded-For", "203.0.113.99").Status)
	require.Equal(t, http.StatusOK, e.get("/api/v1/whoami", balancer, good, "X-Forwarded-For", "203.0.113.88").Status)
}

func TestParseTrustedProxies(t *testing.T) {
	got, err := ParseTrustedProxies("10.0.0.1/8,::1,2001:db8::/32,")
	require.NoError(t, err)
	require.Equal(t, "[10.0.0.0/8 ::1/128 2001:db8::/32]", fmt.Sprint(got))
	_, err = ParseTrustedProxies("10.0.0.0/8,lb.example.org")
	require.EqualError(t, err, `BCDR_TRUSTED_PROXIES: "lb.example.org" is neither an IP address nor a CIDR`)
}
