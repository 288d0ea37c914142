package directory

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
)

// setup returns a service whose today is 2026-03-01, over a database with a
// business service, a supplier service and two contacts.
func setup(t *testing.T) *Service {
	t.Helper()
	pool := pgtest.New(t)
	_, err := pool.Exec(t.Context(), `INSERT INTO cis (key, name, class, external_id) VALUES
		('payments', 'Payments', 'business_service', 'payments'), ('isp-link', 'ISP', 'supplier_service', 'isp-link')`)
	require.NoError(t, err)
	s := NewService(pool, orchestrator.Runtime{Clock: orchestrator.NewManualClock(time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC))})
	for _, in := range []ContactInput{{Key: "alice", Name: "Alice", Phone: "+1 555 0100"}, {Key: "bob", Name: "Bob", Deputies: []string{"alice"}}} {
		_, err := s.CreateContact(t.Context(), in)
		require.NoError(t, err)
	}
	return s
}

func date(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// TestContractStatus pins the derived contract flags against a fixed
// today, and checks the expiring filter agrees with them.
func TestContractStatus(t *testing.T) {
	t.Parallel()
	s := setup(t)
	c := func(ref, from, to string) Contract {
		return Contract{Reference: ref, Start: date(from), End: date(to), SupportHours: Support24x7}
	}
	cases := []struct {
		key       string
		contracts []Contract
		active    string
		expired   bool
		expiring  bool
	}{
		{"none", nil, "", false, false},
		{"ends-in-30d", []Contract{c("a", "2025-01-01", "2026-03-31")}, "a", false, true},
		{"ends-on-day-90", []Contract{c("a", "2025-01-01", "2026-05-30")}, "a", false, true},
		{"ends-on-day-91", []Contract{c("a", "2025-01-01", "2026-05-31")}, "a", false, false},
		{"renewed-next-day", []Contract{c("a", "2025-01-01", "2026-03-31"), c("b", "2026-04-01", "2027-12-31")}, "a", false, false},
		{"renewal-leaves-gap", []Contract{c("a", "2025-01-01", "2026-03-31"), c("b", "2026-04-02", "2027-12-31")}, "a", false, true},
		{"short-renewal-chain", []Contract{c("a", "2025-01-01", "2026-03-10"), c("b", "2026-03-11", "2026-04-10")}, "a", false, true},
		{"overlap-picks-last-ending", []Contract{c("a", "2025-01-01", "2026-12-31"), c("b", "2026-02-01", "2027-12-31")}, "b", false, false},
		{"ends-today", []Contract{c("a", "2025-01-01", "2026-03-01")}, "a", false, true},
		{"expired-yesterday", []Contract{c("a", "2025-01-01", "2026-02-28")}, "", true, false},
		{"not-started", []Contract{c("a", "2026-04-01", "2027-03-31")}, "", false, false},
		{"lapsed-with-future", []Contract{c("a", "2025-01-01", "2026-01-31"), c("b", "2026-04-01", "2027-03-31")}, "", true, false},
	}
	var expiring []string
	for _, tc := range cases {
		sup, err := s.CreateSupplier(t.Context(), SupplierInput{Key: tc.key, Name: tc.key, Contracts: tc.contracts})
		require.NoError(t, err, tc.key)
		active := ""
		if sup.ActiveContract != nil {
			active = sup.ActiveContract.Reference
		}
		require.Equal(t, tc.active, active, "%s: active contract", tc.key)
		require.Equal(t, tc.expired, sup.ContractExpired, "%s: expired", tc.key)
		require.Equal(t, tc.expiring, sup.ExpiringWithin90d, "%s: expiring", tc.key)
		if tc.expiring {
			expiring = append(expiring, tc.key)
		}
	}
	yes := true
	list, err := s.ListSuppliers(t.Context(), SupplierFilter{Expiring: &yes}, orchestrator.Page{Limit: 100})
	require.NoError(t, err)
	var keys []string
	for _, sup := range list.Items {
		keys = append(keys, sup.Key)
	}
	require.ElementsMatch(t, expiring, keys)
}

func TestCallTreeForService(t *testing.T) {
	t.Parallel()
	s := setup(t)
	ctx := t.Context()
	_, err := CallTreeForService(ctx, s.pool, "payments")
	require.Equal(t, orchestrator.ENOTFOUND, orchestrator.ErrorCode(err))

	levels := []Level{{Contacts: []string{"bob", "alice"}, Wait: orchestrator.Duration(10 * time.Minute)}, {Contacts: []string{"alice"}}}
	_, err = s.CreateCallTree(ctx, CallTreeInput{Key: "pay", Name: "Payments", Service: "payments", Levels: levels})
	require.NoError(t, err)
	_, err = s.CreateCallTree(ctx, CallTreeInput{Key: "pay-rb", Name: "Payments failover", Service: "payments", Runbook: "rb-1",
		Levels: []Level{{Contacts: []string{"alice"}}}})
	require.NoError(t, err)

	tree, err := CallTreeForService(ctx, s.pool, "payments")
	require.NoError(t, err)
	require.Equal(t, "pay", tree.Key, "the service-wide tree, not the runbook's")
	require.Equal(t, []Level{{Level: 1, Contacts: []string{"bob", "alice"}, Wait: orchestrator.Duration(10 * time.Minute)},
		{Level: 2, Contacts: []string{"alice"}}}, tree.Levels)

	people, err := ContactsByKeys(ctx, s.pool, tree.Levels[0].Contacts)
	require.NoError(t, err)
	require.Len(t, people, 2)
	require.Equal(t, "bob", people[0].Key)
	require.Equal(t, "+1 555 0100", people[1].Phone)
	people, err = ContactsByKeys(ctx, s.pool, []string{"nobody", "alice", "alice", "a\x00"})
	require.NoError(t, err)
	require.Len(t, people, 1)

	_, err = CallTreeForService(ctx, s.pool, "x\x00")
	require.Equal(t, orchestrator.ENOTFOUND, orchestrator.ErrorCode(err))
}

// TestReferencesHold checks that a CI or contact still named by a directory
// record cannot be deleted out from under it.
func TestReferencesHold(t *testing.T) {
	t.Parallel()
	s := setup(t)
	ctx := context.Background()
	_, err := s.CreateSupplier(ctx, SupplierInput{Key: "acme", Name: "Acme", Contacts: []string{"alice"}, Services: []string{"isp-link"}})
	require.NoError(t, err)
	_, err = s.CreateSLA(ctx, SLAInput{Service: "payments", Name: "Gold", Period: "month", AvailabilityTarget: 99.9,
		MeasuredIn: "24x7", ValidFrom: date("2026-01-01")})
	require.NoError(t, err)
	for _, key := range []string{"payments", "isp-link"} {
		_, err := s.pool.Exec(ctx, `DELETE FROM cis WHERE key = $1`, key)
		require.ErrorContains(t, err, "violates foreign key constraint", key)
	}
	err = s.DeleteContact(ctx, "alice")
	require.Equal(t, orchestrator.ECONFLICT, orchestrator.ErrorCode(err))
	require.ErrorContains(t, err, "supplier acme")
	require.ErrorContains(t, err, "contact bob (as deputy)")
}

// TestReplaceKeepsImportIdentity: a PUT without source and external_id
// must not break the link to the record's import source.
func TestReplaceKeepsImportIdentity(t *testing.T) {
	t.Parallel()
	s := setup(t)
	ctx := t.Context()
	_, err := s.CreateContact(ctx, ContactInput{Key: "carol", Name: "Carol", Source: "servicenow", ExternalID: "sys-123"})
	require.NoError(t, err)
	c, err := s.ReplaceContact(ctx, "carol", ContactInput{Name: "Carol B"})
	require.NoError(t, err)
	require.Equal(t, [2]string{"servicenow", "sys-123"}, [2]string{c.Source, c.ExternalID})
	c, err = s.ReplaceContact(ctx, "carol", ContactInput{Name: "Carol B", Source: "itop"})
	require.NoError(t, err)
	require.Equal(t, [2]string{"itop", "carol"}, [2]string{c.Source, c.ExternalID})
}

// TestValidate covers the checks the importer relies on without a database.
func TestValidate(t *testing.T) {
	t.Parallel()
	type validator interface {
		Normalize(string)
		Validate() error
	}
	cases := []struct {
		name  string
		in    validator
		field string
	}{
		{"contact ok", &ContactInput{Key: "a", Name: "A", Email: "a@example.com", Phone: "+86 10 1234 5678 ext. 12"}, ""},
		{"contact key", &ContactInput{Key: "a b", Name: "A"}, "key"},
		{"contact duplicate deputy", &ContactInput{Key: "a", Name: "A", Deputies: []string{"b", " b"}}, "deputies[1]"},
		{"contact email", &ContactInput{Key: "a", Name: "A", Email: "a@localhost"}, "email"},
		{"contact notes tab ok", &ContactInput{Key: "a", Name: "A", Notes: "line 1\n\tline 2"}, ""},
		{"contact name newline", &ContactInput{Key: "a", Name: "A\nB"}, "name"},
		{"call tree empty level", &CallTreeInput{Key: "t", Name: "T", Runbook: "rb", Levels: []Level{{}}}, "levels[0].contacts"},
		{"supplier no dates", &SupplierInput{Key: "s", Name: "S", Contracts: []Contract{{Reference: "r", SupportHours: "24x7"}}}, "contracts[0].start"},
		{"sla availability", &SLAInput{Service: "p", Name: "n", Period: "month", MeasuredIn: "24x7", ValidFrom: date("2026-01-01")}, "availability_target"},
		{"sla missing resolution", &SLAInput{Service: "p", Name: "n", Period: "year", AvailabilityTarget: 99, MeasuredIn: "24x7",
			ValidFrom: date("2026-01-01"), Targets: map[string]Target{"P2": {Response: orchestrator.Duration(time.Hour)}}}, "targets.P2.resolution"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.in.Normalize("import")
			err := c.in.Validate()
			if c.field == "" {
				require.NoError(t, err)
				return
			}
			require.Equal(t, orchestrator.EINVALID, orchestrator.ErrorCode(err))
			require.Equal(t, c.field, orchestrator.ErrorFields(err)[0].Field, "%v", err)
		})
	}
}
