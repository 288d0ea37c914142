package impact

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLossAt(t *testing.T) {
	t.Parallel()
	fin := func(at string, amt float64) Threshold {
		x := th(t, "financial", at, 2)
		x.Amount = amount(amt)
		return x
	}
	// Listed out of order, with an unpriced threshold and an amount on
	// another category that must not count.
	curve := []Threshold{
		fin("8h", 18000), fin("1h", 1000), fin("4h", 10000),
		th(t, "financial", "24h", 4), {Category: "customer", At: dur(t, "2h"), Amount: amount(1e9)},
	}
	cases := []struct {
		name       string
		thresholds []Threshold
		at         string
		want       float64
	}{
		{"nothing at the start", curve, "0", 0},
		{"linear from 0 to the first point", curve, "30m", 500},
		{"on the first point", curve, "1h", 1000},
		{"between points", curve, "2h30m", 5500},
		{"on a later point", curve, "4h", 10000},
		{"between later points", curve, "6h", 14000},
		{"on the last point", curve, "8h", 18000},
		{"beyond the last point at the last slope", curve, "10h", 22000},
		{"one point extrapolates from the origin", []Threshold{fin("2h", 1000)}, "5h", 2500},
		{"one point interpolates from the origin", []Threshold{fin("2h", 1000)}, "1h", 500},
		{"flat last segment stays flat", []Threshold{fin("1h", 100), fin("4h", 100)}, "100h", 100},
		{"no amounts", []Threshold{th(t, "financial", "1h", 3)}, "8h", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			require.InDelta(t, c.want, LossAt(c.thresholds, dur(t, c.at)), 1e-9)
		})
	}
}
