package impact

import (
	"testing"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/stretchr/testify/require"
)

func TestDefaultSettings(t *testing.T) {
	t.Parallel()
	s := DefaultSettings()
	require.NoError(t, s.Validate())
	require.Equal(t, []string{"financial", "operational", "customer", "regulatory", "reputational"}, s.Categories)
	require.Equal(t, "1h, 4h, 8h, 24h, 72h, 168h", joinDurations(s.TimePoints))
	require.Equal(t, "1h, 4h, 24h, 72h", joinDurations(s.TierBounds))
	require.Equal(t, 4, s.IntolerableLevel)
	require.Equal(t, "EUR", s.Currency)
}

func TestSettingsValidate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		change func(*Settings)
		field  string
	}{
		{"no categories", func(s *Settings) { s.Categories = nil }, "categories"},
		{"category twice", func(s *Settings) { s.Categories = append(s.Categories, "financial") }, "categories[5]"},
		{"category not an identifier", func(s *Settings) { s.Categories[1] = "Opera tional" }, "categories[1]"},
		{"no time points", func(s *Settings) { s.TimePoints = nil }, "time_points"},
		{"time points out of order", func(s *Settings) { s.TimePoints[2] = hours(2) }, "time_points[2]"},
		{"zero time point", func(s *Settings) { s.TimePoints[0] = 0 }, "time_points[0]"},
		{"tier bounds repeated", func(s *Settings) { s.TierBounds[1] = hours(1) }, "tier_bounds[1]"},
		{"intolerable level 0", func(s *Settings) { s.IntolerableLevel = 0 }, "intolerable_level"},
		{"intolerable level 5", func(s *Settings) { s.IntolerableLevel = 5 }, "intolerable_level"},
		{"lower-case currency", func(s *Settings) { s.Currency = "eur" }, "currency"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := DefaultSettings()
			c.change(&s)
			err := s.Validate()
			require.Equal(t, orchestrator.EINVALID, orchestrator.ErrorCode(err))
			require.Equal(t, []string{c.field}, fieldNames(err))
		})
	}
}

func fieldNames(err error) []string {
	var names []string
	for _, f := range orchestrator.ErrorFields(err) {
		names = append(names, f.Field)
	}
	return names
}
