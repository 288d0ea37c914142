package drills

import (
	"maps"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/itsm"
	"github.com/bcdr/bcdr/runbooks"
)

// tabletop drills service over a tabletop whose participants walk every
// step of its runbooks, or none, and returns the drill completed.
func (o *organisation) tabletop(service string, walk bool) Drill {
	o.t.Helper()
	start := o.clock.Now()
	d, err := o.svc.Create(manager, Input{Title: service + " tabletop", Type: TypeTabletop, Services: []string{service}, PlannedStart: &start})
	require.NoError(o.t, err)
	_, err = o.svc.Start(manager, d.ID, StartInput{})
	require.NoError(o.t, err)
	if walk {
		steps, err := o.svc.steps(manager, o.runbooks[service])
		require.NoError(o.t, err)
		for _, st := range steps {
			_, err := o.svc.Record(manager, d.ID, EventInput{Type: EventWalked, Step: strconv.FormatInt(o.runbooks[service], 10) + "/" + st.ID})
			require.NoError(o.t, err)
		}
	}
	o.clock.Advance(time.Minute)
	d, err = o.svc.Complete(manager, d.ID, CompleteInput{})
	require.NoError(o.t, err)
	return d
}

// change implements a major change named id on cis an hour from now.
func (o *organisation) change(id string, cis ...string) {
	o.t.Helper()
	at := o.clock.Now().Add(time.Hour)
	_, err := itsm.NewStore(o.pool).CreateChange(actAs(orchestrator.RoleAdmin, "admin"), itsm.ChangeInput{ExternalID: id,
		Title: "upgrade of " + cis[0], Major: true, Status: "implemented", AffectedCIs: cis, ActualStart: &at, ActualEnd: &at})
	require.NoError(o.t, err)
	o.clock.Advance(2 * time.Hour)
}

// Reading many runbooks together judges each as reading it alone does:
// proofs by approval, drill and waiver, changes on CIs two runbooks share
// counted for each from its own proof, failed drills and scope changes
// kept to their runbook; an outline differs only by its missing steps and
// sections.
func TestBriefsJudgeStalenessAsGet(t *testing.T) {
	t.Parallel()
	o := newOrganisation(t)
	o.clock.Advance(time.Hour)
	cal := o.tabletop("calendar", true)
	require.Equal(t, ResultPass, *cal.Result, "%+v", cal.Outcome)
	levyPass := o.tabletop("levy", true)
	require.Equal(t, ResultPass, *levyPass.Result)
	o.change("CHG-1", "store")
	o.change("CHG-2", "tax-db", "mx1")
	o.clock.Advance(time.Hour)
	waiver, err := o.svc.Waive(actAs(orchestrator.RoleAdmin, "admin"), o.runbooks["mail"], WaiverInput{Reason: "store upgrade was a firmware patch only"})
	require.NoError(t, err)
	levyFail := o.tabletop("levy", false)
	require.NotEqual(t, ResultPass, *levyFail.Result)
	ctx := actAs(orchestrator.RoleAdmin, "admin")
	cis := cmdb.NewService(o.pool)
	_, err = cis.CreateCI(ctx, cmdb.CIInput{Key: "levy-cache", Name: "levy-cache", Class: "server"})
	require.NoError(t, err)
	_, err = cis.CreateRelation(ctx, cmdb.RelationInput{From: "levy", To: "levy-cache", Type: "depends_on"})
	require.NoError(t, err)

	ids := slices.Sorted(maps.Values(o.runbooks))
	briefs, err := o.rb.Briefs(manager, append(ids, 9999), runbooks.BriefOptions{Staleness: true})
	require.NoError(t, err)
	require.Len(t, briefs, len(ids), "an unknown id is left out")
	outlines, err := o.rb.Briefs(manager, ids, runbooks.BriefOptions{Staleness: true, Outline: true})
	require.NoError(t, err)
	alone := map[string]runbooks.Staleness{}
	for svc, id := range o.runbooks {
		rb, err := o.rb.Get(manager, strconv.FormatInt(id, 10))
		require.NoError(t, err)
		require.Equal(t, rb.Staleness, briefs[id].Staleness, svc)
		alone[svc] = rb.Staleness
		require.NotEmpty(t, briefs[id].Version.Steps)
		outline := outlines[id]
		require.Empty(t, outline.Version.Steps, "an outline leaves the steps out")
		outline.Version.Steps, outline.Version.Sections = briefs[id].Version.Steps, briefs[id].Version.Sections
		require.Equal(t, briefs[id], outline, "and nothing else")
	}

	changes := func(svc string) map[string][]string {
		out := map[string][]string{}
		for _, c := range alone[svc].RetestRequired.Changes {
			out[c.ExternalID] = c.CIs
		}
		return out
	}
	tax, calendar, mail, levy := alone["tax"], alone["calendar"], alone["mail"], alone["levy"]
	require.Equal(t, []string{runbooks.FlagRetestRequired}, tax.Flags)
	require.Equal(t, runbooks.ProvenByApproval, tax.RetestRequired.ProvenBy)
	require.Equal(t, map[string][]string{"CHG-2": {"tax-db"}}, changes("tax"), "only the CIs of its scope")

	require.Equal(t, []string{runbooks.FlagRetestRequired}, calendar.Flags)
	require.Equal(t, runbooks.ProvenByDrill, calendar.RetestRequired.ProvenBy)
	require.Equal(t, cal.ID, *calendar.RetestRequired.Drill)
	require.Equal(t, map[string][]string{"CHG-1": {"store"}, "CHG-2": {"mx1"}}, changes("calendar"))

	require.Empty(t, mail.Flags, "the waiver came after both changes")
	require.Equal(t, runbooks.ProvenByWaiver, mail.RetestRequired.ProvenBy)
	require.Equal(t, waiver.ID, mail.RetestRequired.Waiver.ID)
	require.Empty(t, changes("mail"))

	require.Equal(t, []string{runbooks.FlagRetestRequired, runbooks.FlagScopeChanged}, levy.Flags)
	require.Equal(t, levyPass.ID, *levy.RetestRequired.Drill)
	require.Equal(t, levyFail.ID, levy.RetestRequired.Failed.ID)
	require.Empty(t, changes("levy"))
	require.Equal(t, []string{"levy-cache"}, levy.ScopeChanged.CIsAdded)
}
