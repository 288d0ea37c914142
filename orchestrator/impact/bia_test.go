package impact

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/stretchr/testify/require"
)

func amount(v float64) *float64 { return &v }

func dur(t testing.TB, s string) orchestrator.Duration {
	t.Helper()
	d, err := orchestrator.ParseDuration(s)
	require.NoError(t, err)
	return d
}

// th is a threshold written compactly: th(t, "financial", "4h", 3).
func th(t testing.TB, category, at string, rating int) Threshold {
	return Threshold{Category: category, At: dur(t, at), Rating: rating}
}

func validAssessment(t testing.TB) Assessment {
	fin := func(at string, rating int, amt float64) Threshold {
		x := th(t, "financial", at, rating)
		x.Amount = amount(amt)
		return x
	}
	return Assessment{
		Thresholds: []Threshold{
			fin("1h", 1, 10000), fin("4h", 2, 50000), fin("8h", 3, 120000), fin("24h", 4, 400000),
			th(t, "customer", "4h", 2), th(t, "customer", "8h", 2), th(t, "customer", "24h", 3),
			th(t, "regulatory", "72h", 4),
		},
		RTO: dur(t, "8h"), RPO: dur(t, "1h"), WRT: dur(t, "4h"), MBCO: 60,
		CriticalPeriods: []string{"month-end close"}, VitalRecords: []string{"general ledger"},
		People: []string{"finance operations lead"}, Suppliers: []string{"payments gateway"},
	}
}

func TestValidateAcceptsAssessment(t *testing.T) {
	t.Parallel()
	s := DefaultSettings()
	require.NoError(t, Validate(s, validAssessment(t)))
	a := validAssessment(t)
	a.RTO, a.WRT = dur(t, "20h"), dur(t, "4h") // exactly MTPD 24h is allowed
	require.NoError(t, Validate(s, a))
	a = validAssessment(t)
	a.Thresholds = nil // no MTPD: RTO + WRT is not bounded
	a.RTO, a.WRT = dur(t, "168h"), dur(t, "72h")
	require.NoError(t, Validate(s, a))
}

func TestValidateRejects(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		change  func(*Assessment)
		field   string
		message string // exact when set
	}{
		{"rating above 4", func(a *Assessment) { a.Thresholds[7].Rating = 5 }, "thresholds[7].rating", "must be between 0 and 4"},
		{"negative rating", func(a *Assessment) { a.Thresholds[5].Rating = -1 }, "thresholds[5].rating", ""},
		{"unknown category", func(a *Assessment) { a.Thresholds[7].Category = "legal" }, "thresholds[7].category", ""},
		{"time point not in settings", func(a *Assessment) { a.Thresholds[7].At = dur(t, "2h") }, "thresholds[7].at", ""},
		{"same category and time twice", func(a *Assessment) {
			a.Thresholds = append(a.Thresholds, th(t, "customer", "8h", 2))
		}, "thresholds[8]", "duplicates thresholds[5] (customer at 8h)"},
		{"rating decreases", func(a *Assessment) { a.Thresholds[6].Rating = 1 }, "thresholds[6].rating",
			"customer rating 1 at 24h is lower than 2 at 8h; ratings may not decrease over time"},
		{"rating decreases, listed out of time order", func(a *Assessment) {
			a.Thresholds[4], a.Thresholds[6] = a.Thresholds[6], a.Thresholds[4]
			a.Thresholds[4].Rating = 1 // customer 24h now at index 4
		}, "thresholds[4].rating", "customer rating 1 at 24h is lower than 2 at 8h; ratings may not decrease over time"},
		{"negative amount", func(a *Assessment) { a.Thresholds[0].Amount = amount(-1) }, "thresholds[0].amount", ""},
		{"NaN amount", func(a *Assessment) { a.Thresholds[0].Amount = amount(math.NaN()) }, "thresholds[0].amount", ""},
		{"amount decreases", func(a *Assessment) { a.Thresholds[2].Amount = amount(40000) }, "thresholds[2].amount",
			"cumulative loss 40000 at 8h is lower than 50000 at 4h; amounts may not decrease over time"},
		{"amount outside financial", func(a *Assessment) { a.Thresholds[4].Amount = amount(1) }, "thresholds[4].amount",
			"only the financial category carries an amount"},
		{"zero RTO", func(a *Assessment) { a.RTO = 0 }, "rto", "must be greater than 0"},
		{"negative RPO", func(a *Assessment) { a.RPO = -1 }, "rpo", ""},
		{"negative WRT", func(a *Assessment) { a.WRT = -1 }, "wrt", ""},
		{"MBCO above 100", func(a *Assessment) { a.MBCO = 100.5 }, "mbco", ""},
		{"MBCO negative", func(a *Assessment) { a.MBCO = -1 }, "mbco", ""},
		{"RTO + WRT exceeds MTPD", func(a *Assessment) {
			a.Thresholds = []Threshold{th(t, "operational", "4h", 4)}
			a.RTO, a.WRT = dur(t, "4h"), dur(t, "2h")
		}, "rto", "RTO 4h + WRT 2h = 6h exceeds MTPD 4h"},
		{"RTO alone exceeds MTPD", func(a *Assessment) { a.RTO, a.WRT = dur(t, "24h1s"), 0 }, "rto",
			"RTO 24h0m1s + WRT 0s = 24h0m1s exceeds MTPD 24h"},
		{"blank vital record", func(a *Assessment) { a.VitalRecords = []string{" "} }, "vital_records[0]", "must not be blank"},
		{"control character", func(a *Assessment) { a.People = []string{"ops\x1b[31m"} }, "people[0]", "must not contain control characters"},
		{"non-UTF-8", func(a *Assessment) { a.Suppliers = []string{"\xff\xfe"} }, "suppliers[0]", "must be valid UTF-8"},
		{"justification too long", func(a *Assessment) {
			a.Thresholds[0].Justification = string(make([]byte, 2001))
		}, "thresholds[0].justification", ""},
		{"more thresholds than slots", func(a *Assessment) { a.Thresholds = make([]Threshold, 31) }, "thresholds", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			a := validAssessment(t)
			c.change(&a)
			err := Validate(DefaultSettings(), a)
			require.Equal(t, orchestrator.EINVALID, orchestrator.ErrorCode(err))
			fields := orchestrator.ErrorFields(err)
			require.Len(t, fields, 1, "%v", err)
			require.Equal(t, c.field, fields[0].Field)
			if c.message != "" {
				require.Equal(t, c.message, fields[0].Message)
			}
		})
	}
}

func TestValidateReportsEveryField(t *testing.T) {
	t.Parallel()
	a := validAssessment(t)
	a.RTO, a.RPO, a.MBCO = 0, -1, 101
	a.Thresholds[1].Category = "legal"
	err := Validate(DefaultSettings(), a)
	require.Equal(t, []string{"thresholds[1].category", "rto", "rpo", "mbco"}, fieldNames(err))
}

func TestAssessmentJSON(t *testing.T) {
	t.Parallel()
	in := `{"thresholds":[{"category":"financial","at":"4h","rating":3,"amount":250000,"justification":"lost orders"},` +
		`{"category":"customer","at":"1h","rating":1}],"rto":"4h","rpo":"15m","wrt":"2h","mbco":50,` +
		`"critical_periods":["black friday"],"vital_records":[],"people":[],"suppliers":[]}`
	var a Assessment
	require.NoError(t, json.Unmarshal([]byte(in), &a))
	require.Equal(t, dur(t, "15m"), a.RPO)
	require.Equal(t, 250000.0, *a.Thresholds[0].Amount)
	require.Nil(t, a.Thresholds[1].Amount)
	out, err := json.Marshal(a)
	require.NoError(t, err)
	require.JSONEq(t, in, string(out))
}
