package impact

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestARO(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	cases := []struct {
		name       string
		incidents  int
		window     time.Duration
		likelihood int
		want       float64
		how        string
	}{
		{"from history", 7, 730 * day, 1, 3.5, "7 incidents in 730 days"},
		{"one incident", 1, 365 * day, 5, 1, "1 incident in 365 days"},
		{"part-day window", 3, 36*day + 12*time.Hour, 1, 30, "3 incidents in 36.5 days"},
		{"no history: rare", 0, 730 * day, 1, 0.01, "likelihood 1 → 0.01 per year"},
		{"no history: unlikely", 0, 730 * day, 2, 0.1, "likelihood 2 → 0.1 per year"},
		{"no history: possible", 0, 730 * day, 3, 0.5, "likelihood 3 → 0.5 per year"},
		{"no history: likely", 0, 730 * day, 4, 1, "likelihood 4 → 1 per year"},
		{"no history: almost certain", 0, 730 * day, 5, 4, "likelihood 5 → 4 per year"},
		{"no window to count over", 4, 0, 3, 0.5, "likelihood 3 → 0.5 per year"},
		{"likelihood out of range", 0, 730 * day, 6, 0, "likelihood 6 is outside 1–5"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, how := ARO(c.incidents, c.window, c.likelihood)
			require.InDelta(t, c.want, got, 1e-12)
			require.Equal(t, c.how, how)
		})
	}
}

func TestExpectedOutage(t *testing.T) {
	t.Parallel()
	h := time.Hour
	in := []time.Duration{9 * h, 2 * h, 100 * h}
	got, how := ExpectedOutage(in, dur(t, "4h"))
	require.Equal(t, "9h", got.String())
	require.Equal(t, "median of 3 matching incidents: 9h", how)
	require.Equal(t, []time.Duration{9 * h, 2 * h, 100 * h}, in, "the caller's slice is left alone")

	got, _ = ExpectedOutage([]time.Duration{2 * h, 3 * h, 10 * h, 1 * h}, dur(t, "4h"))
	require.Equal(t, "2h30m", got.String(), "even count: midway between the middle two")

	got, how = ExpectedOutage(nil, dur(t, "6h"))
	require.Equal(t, "6h", got.String())
	require.Equal(t, "estimated recovery time 6h", how)
}

func TestQuantifyBothWays(t *testing.T) {
	t.Parallel()
	fin := func(at string, amt float64) Threshold {
		x := th(t, "financial", at, 2)
		x.Amount = amount(amt)
		return x
	}
	payments := []Threshold{fin("4h", 100000), fin("8h", 300000)}
	web := []Threshold{fin("1h", 5000)}

	t.Run("from incident history", func(t *testing.T) {
		t.Parallel()
		outage, _ := ExpectedOutage([]time.Duration{6 * time.Hour, 8 * time.Hour, 4 * time.Hour}, dur(t, "2h"))
		sle, sleHow := SLE([]ServiceLoss{
			{Service: "web", Outage: outage, Loss: LossAt(web, outage)},
			{Service: "payments", Outage: outage, Loss: LossAt(payments, outage)},
		})
		aro, aroHow := ARO(7, 730*24*time.Hour, 1)
		q := Quantify(aro, aroHow, sle, sleHow)
		require.InDelta(t, 200000+30000, q.SLE, 1e-6)
		require.Equal(t, "loss of payments 200000 after 6h, web 30000 after 6h", q.SLEHow)
		require.InDelta(t, 3.5*230000, q.ALE, 1e-6)
		require.Equal(t, "ARO 3.5 × SLE 230000 = 805000", q.ALEHow)
		require.Equal(t, "7 incidents in 730 days", q.AROHow)
	})
	t.Run("from likelihood and estimated recovery", func(t *testing.T) {
		t.Parallel()
		outage, _ := ExpectedOutage(nil, dur(t, "2h"))
		sle, sleHow := SLE([]ServiceLoss{{Service: "payments", Outage: outage, Loss: LossAt(payments, outage)}})
		aro, aroHow := ARO(0, 730*24*time.Hour, 3)
		q := Quantify(aro, aroHow, sle, sleHow)
		require.InDelta(t, 50000, q.SLE, 1e-6)
		require.InDelta(t, 25000, q.ALE, 1e-6)
		require.Equal(t, "ARO 0.5 × SLE 50000 = 25000", q.ALEHow)
		require.Equal(t, "likelihood 3 → 0.5 per year", q.AROHow)
	})
	t.Run("nothing goes down", func(t *testing.T) {
		t.Parallel()
		sle, how := SLE(nil)
		require.Zero(t, sle)
		require.Equal(t, "no service with a BIA goes down", how)
	})
}

func TestSLENamesAtMostFive(t *testing.T) {
	t.Parallel()
	var losses []ServiceLoss
	for i := range 7 {
		losses = append(losses, ServiceLoss{Service: string(rune('a' + i)), Outage: dur(t, "1h"), Loss: float64(i)})
	}
	total, how := SLE(losses)
	require.InDelta(t, 21, total, 1e-9)
	require.Equal(t, "loss of g 6 after 1h, f 5 after 1h, e 4 after 1h, d 3 after 1h, c 2 after 1h and 2 more services", how)
}
