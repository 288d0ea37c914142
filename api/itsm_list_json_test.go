package api

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/itsm"
)

// The incident list writes its JSON by hand; it must be what encoding/json
// (gin's c.JSON) writes for the same list, for any text a record can hold.
func TestIncidentListJSONMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	restored := time.Date(2026, 3, 5, 14, 22, 10, 123456000, time.UTC)
	problem := int64(42)
	texts := []string{"", "plain", `quote " and \ backslash`, "<script>alert(1)</script> & more",
		"line\nbreak\r\ttab\b\f\x00\x01\x1f\x7f", "数据库连接超时 ci-00042", "bad utf-8 \xff\xfe end", "\u2028 and \u2029",
		"'; DROP TABLE incidents; --", "../../etc/passwd", "emoji 😀"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		b := make([]byte, rng.IntN(20))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		texts = append(texts, string(b))
	}
	var items []itsm.Incident
	for n, s := range texts {
		items = append(items, itsm.Incident{ID: int64(n + 1), Source: s, ExternalID: s, Title: s, Description: s,
			Priority: "P1", Major: n%2 == 0, Cause: "hardware", AffectedCIs: []string{s, "ci-1"}, AffectedServices: []string{},
			OpenedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.FixedZone("", 3600)), RestoredAt: &restored, ProblemID: &problem,
			Status: "restored", CreatedAt: time.Unix(1700000000, 1).UTC(), UpdatedAt: time.Unix(1700000000, 0).UTC()})
	}
	items = append(items, itsm.Incident{ID: 999}) // nil slices and pointers
	for _, list := range []orchestrator.List[itsm.Incident]{
		{Items: items, Next: "eyJhIjoiMTIzLjQ1In0"},
		{Items: []itsm.Incident{}},
		{},
	} {
		want, err := json.Marshal(list)
		require.NoError(t, err)
		require.Equal(t, string(want), string(appendIncidentList(nil, list)))
	}
}
