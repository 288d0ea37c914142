package cmdb

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

func TestDeriveKey(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{
		"TaxCollect App":           "taxcollect-app",
		"  Online Tax Service  ":   "online-tax-service",
		"网上办税服务厅":                  "网上办税服务厅",
		"财务系统 (主)":                 "财务系统-主",
		"SAP/ERP -- Prod #1":       "sap-erp-prod-1",
		"Zürich DC":                "zürich-dc",
		"!!!":                      "",
		"db01.example.com":         "db01-example-com",
		strings.Repeat("ab ", 100): strings.Repeat("ab-", 33) + "a",
	} {
		got := DeriveKey(name)
		require.Equal(t, want, got, name)
		if got != "" {
			require.True(t, keyPattern.MatchString(got), "%q is a valid key", got)
		}
	}
}

func TestImportedRelationType(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]struct {
		typ      string
		reversed bool
	}{
		"Depends on::Used by": {"depends_on", false}, "Depends on::Used By": {"depends_on", false},
		"depends ON :: used by": {"depends_on", false}, "depends_on": {"depends_on", false},
		"Runs on::Runs": {"runs_on", false}, "Hosted on::Hosts": {"hosted_in", false},
		"Used by::Depends on": {"depends_on", true}, "Virtualizes::Virtualized by": {"depends_on", true},
		"Contains::Contained by": {"hosted_in", true}, "Provided By::Provides": {"provided_by", false},
		"Replicates to::Replicated from": {"replicates_to", false}, "standby": {"fails_over_to", false},
		"Sends data to::Receives data from": {"Sends data to::Receives data from", false},
	} {
		typ, rev := importedRelationType(in)
		require.Equal(t, want.typ, typ, in)
		require.Equal(t, want.reversed, rev, in)
	}
}

func TestImportedStatus(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ op, install, want string }{
		{"Operational", "", "operational"}, {"1", "", "operational"}, {"DR Standby", "", "operational"},
		{"Non-Operational", "", "maintenance"}, {"Repair in Progress", "", "maintenance"}, {"Ready", "", "planned"},
		{"Retired", "", "retired"}, {"Pipeline", "", "planned"}, {"Catalog", "8", "retired"},
		{"Operational", "Installed", "operational"}, {"Operational", "On Order", "planned"},
		{"Operational", "In Maintenance", "maintenance"}, {"", "Pending Install", "planned"}, {"", "Pending Repair", "maintenance"},
		{"", "In Stock", "planned"}, {"Operational", "Absent", "retired"}, {"", "Stolen", "retired"}, {"", "100", "retired"},
		{"production", "", "operational"}, {"implementation", "", "planned"}, {"obsolete", "", "retired"},
		{"", "", ""}, {"Sideways", "", "Sideways"},
	} {
		require.Equal(t, tc.want, importedStatus(tc.op, tc.install), "%q / %q", tc.op, tc.install)
	}
}

// FuzzDeriveKey checks that a derived key is always a valid key or empty,
// and that deriving again changes nothing.
func FuzzDeriveKey(f *testing.F) {
	for _, s := range []string{"TaxCollect App", "网上办税服务厅", "Ⅻ ǅ ß", "a\x00b", "\xff\xfe", "-x-", strings.Repeat("é", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		k := DeriveKey(name)
		if k == "" {
			return
		}
		require.True(t, keyPattern.MatchString(k), "DeriveKey(%q) = %q", name, k)
		require.True(t, utf8.ValidString(k))
		require.Equal(t, k, DeriveKey(k), "stable")
	})
}
