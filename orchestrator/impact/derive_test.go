package impact

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMTPD(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		thresholds []Threshold
		level      int
		want       string // "" when undefined
	}{
		{"nothing intolerable", []Threshold{th(t, "financial", "168h", 3)}, 4, ""},
		{"no thresholds", nil, 4, ""},
		{"first category to reach 4", []Threshold{
			th(t, "financial", "24h", 4), th(t, "customer", "8h", 3), th(t, "regulatory", "8h", 4),
		}, 4, "8h"},
		{"severe beyond the level counts", []Threshold{th(t, "customer", "4h", 3), th(t, "customer", "72h", 4)}, 3, "4h"},
		{"earliest even when listed last", []Threshold{th(t, "customer", "168h", 4), th(t, "financial", "1h", 4)}, 4, "1h"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := DefaultSettings()
			s.IntolerableLevel = c.level
			got, ok := MTPD(s, c.thresholds)
			if c.want == "" {
				require.False(t, ok)
				return
			}
			require.True(t, ok)
			require.Equal(t, c.want, got.String())
		})
	}
}

func TestSuggestedRTOAndDerive(t *testing.T) {
	t.Parallel()
	s := DefaultSettings()
	a := validAssessment(t) // MTPD 24h, WRT 4h, RTO 8h
	got, ok := SuggestedRTO(s, a)
	require.True(t, ok)
	require.Equal(t, "20h", got.String())
	d := Derive(s, a)
	require.Equal(t, "24h", d.MTPD.String())
	require.Equal(t, "20h", d.SuggestedRTO.String())
	require.Equal(t, 2, d.Tier)

	a.WRT = dur(t, "24h") // nothing left to recover in
	_, ok = SuggestedRTO(s, a)
	require.False(t, ok)
	a.Thresholds = nil
	d = Derive(s, a)
	require.Nil(t, d.MTPD)
	require.Nil(t, d.SuggestedRTO)
}

func TestTierBoundaries(t *testing.T) {
	t.Parallel()
	s := DefaultSettings()
	for rto, want := range map[string]int{
		"1s": 0, "30m": 0, "1h": 0, "1h0m1s": 1, "4h": 1, "4h0m1s": 2, "24h": 2,
		"24h0m1s": 3, "72h": 3, "72h0m1s": 4, "168h": 4,
	} {
		require.Equal(t, want, Tier(s, dur(t, rto)), "RTO %s", rto)
	}
}

func TestRatingsAt(t *testing.T) {
	t.Parallel()
	s := DefaultSettings()
	ts := []Threshold{
		th(t, "financial", "4h", 2), th(t, "financial", "1h", 1), th(t, "financial", "24h", 4),
		th(t, "customer", "8h", 3),
	}
	cases := []struct {
		at   string
		want map[string]int
	}{
		{"30m", map[string]int{"financial": 0, "customer": 0}},
		{"1h", map[string]int{"financial": 1, "customer": 0}},
		{"3h59m59s", map[string]int{"financial": 1, "customer": 0}},
		{"4h", map[string]int{"financial": 2, "customer": 0}},
		{"8h", map[string]int{"financial": 2, "customer": 3}},
		{"1000h", map[string]int{"financial": 4, "customer": 3}},
	}
	for _, c := range cases {
		got := RatingsAt(s, ts, dur(t, c.at))
		require.Len(t, got, len(s.Categories), "every category is rated")
		for cat, want := range c.want {
			require.Equal(t, want, got[cat], "%s at %s", cat, c.at)
		}
		require.Zero(t, got["regulatory"])
	}
}
