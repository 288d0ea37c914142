package runbooks

import (
	"fmt"
	"slices"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/directory"
	"github.com/bcdr/bcdr/orchestrator/impact"
)

// Verdicts of a feasibility check.
const (
	Feasible   = "feasible"
	Infeasible = "infeasible"
	Unknown    = "unknown"
)

// Feasibility says whether a runbook can meet its targets, recomputed on
// every read from the steps, the approved BIAs, the backups, the suppliers
// and the call trees as they are now.
type Feasibility struct {
	Verdict           string                `json:"verdict"`
	EstimatedRecovery orchestrator.Duration `json:"estimated_recovery"`
	// MeasuredSteps counts the steps whose estimate is the duration they
	// took when last performed, in a drill or an invocation.
	MeasuredSteps int             `json:"measured_steps"`
	CriticalPath  []PathStep      `json:"critical_path"`
	Schedule      []StepTiming    `json:"schedule"`
	RTO           *RTOCheck       `json:"rto"`
	Services      []ServiceCheck  `json:"services"`
	RPO           []RPOCheck      `json:"rpo"`
	Suppliers     []SupplierCheck `json:"suppliers"`
	Gaps          []Gap           `json:"gaps"`
	// Scenarios, for a service runbook, are the disruptions that can take
	// its service down and the recovery each allows (failing over where a
	// standby stands): the RTO is judged against the worst of them rather
	// than against rebuilding every CI in place.
	Scenarios []ScenarioCheck `json:"scenarios"`
}

// ScenarioCheck is one scenario a service runbook covers.
type ScenarioCheck struct {
	Scenario    impact.Disruption      `json:"scenario"`
	Standbys    []string               `json:"standbys"`
	RTOEstimate orchestrator.Duration  `json:"rto_estimate"`
	RPOEstimate *orchestrator.Duration `json:"rpo_estimate"`
	RTOMet      *bool                  `json:"rto_met"`
	RPOMet      *bool                  `json:"rpo_met"`
}

// PathStep is one step of the critical path.
type PathStep struct {
	Step     string                `json:"step"`
	Title    string                `json:"title"`
	CI       string                `json:"ci,omitempty"`
	Estimate orchestrator.Duration `json:"estimate"`
	Start    orchestrator.Duration `json:"start"`
	Finish   orchestrator.Duration `json:"finish"`
}

// StepTiming is a step's place in time.
type StepTiming struct {
	Step string `json:"step"`
	Timing
}

// RTOCheck compares the estimated recovery with the tightest RTO of the
// runbook's services: Margin is the time to spare, Excess how much too
// late (one of them is zero).
type RTOCheck struct {
	RTO      orchestrator.Duration `json:"rto"`
	Service  string                `json:"service"`
	Estimate orchestrator.Duration `json:"estimate"`
	Feasible bool                  `json:"feasible"`
	Margin   orchestrator.Duration `json:"margin"`
	Excess   orchestrator.Duration `json:"excess"`
	Message  string                `json:"message"`
}

// ServiceCheck is one business service's targets against the time its
// verification step finishes.
type ServiceCheck struct {
	Service     string                 `json:"service"`
	BIAVersion  *int                   `json:"bia_version"`
	RTO         *orchestrator.Duration `json:"rto"`
	RPO         *orchestrator.Duration `json:"rpo"`
	WRT         *orchestrator.Duration `json:"wrt"`
	MTPD        *orchestrator.Duration `json:"mtpd"`
	RecoveredAt *orchestrator.Duration `json:"recovered_at"`
	RTOFeasible *bool                  `json:"rto_feasible"`
	WithinMTPD  *bool                  `json:"within_mtpd"`
}

// RPOCheck is one data-bearing CI in scope: its required RPO and backup
// status.
type RPOCheck struct {
	CI             string                 `json:"ci"`
	RequiredRPO    *orchestrator.Duration `json:"required_rpo"`
	Status         orchestrator.RPOState  `json:"status"`
	LastVerifiedAt *time.Time             `json:"last_verified_at"`
	Message        string                 `json:"message"`
}

// SupplierCheck is a supplier's contracted RTO/RPO for a supplier_service
// CI in scope against what the CI requires.
type SupplierCheck struct {
	Supplier      string                 `json:"supplier"`
	CI            string                 `json:"ci"`
	Contract      string                 `json:"contract"`
	ContractedRTO *orchestrator.Duration `json:"contracted_rto"`
	RequiredRTO   *orchestrator.Duration `json:"required_rto"`
	ContractedRPO *orchestrator.Duration `json:"contracted_rpo"`
	RequiredRPO   *orchestrator.Duration `json:"required_rpo"`
	OK            bool                   `json:"ok"`
	Message       string                 `json:"message"`
}

// Gap kinds.
const (
	GapNoBIA            = "no_bia"
	GapRTO              = "rto_infeasible"
	GapMTPD             = "mtpd_exceeded"
	GapRPO              = "rpo_breached"
	GapSupplier         = "supplier"
	GapNoCallTree       = "no_call_tree"
	GapMissingOwner     = "missing_owner"
	GapUnknownOwner     = "owner_not_a_contact"
	GapOwnerNotInTree   = "owner_not_in_call_tree"
	GapUnreachable      = "contact_unreachable"
	GapMissingOwnerRole = "missing_owner_role"
)

// Gap is something that stands between the runbook and a recovery that
// meets its targets.
type Gap struct {
	Kind    string `json:"kind"`
	Subject string `json:"subject"`
	Message string `json:"message"`
}

// evidence is everything feasibility reads besides the steps.
type evidence struct {
	Services    []string
	BIAs        map[string]BIA
	CIs         map[string]CIInfo
	ScopeCIs    []string
	RequiredRTO map[string]orchestrator.Duration
	RequiredRPO map[string]orchestrator.Duration
	Backups     map[string]BackupStatus
	Suppliers   map[string][]directory.Supplier
	// TreeServices are the keys of CallTrees the runbook names.
	TreeServices []string
	CallTrees    map[string]directory.CallTree
	Contacts     map[string]directory.Contact
	// Plan is a scenario runbook's recovery plan, Resilience a service
	// runbook's scenarios; nil when not known.
	Plan       *impact.ScenarioPlan
	Resilience *impact.ServiceResilience
}

// assess computes the feasibility of steps against the evidence. The steps
// are assumed to form a DAG (every write checks it).
func assess(steps []Step, ev evidence) Feasibility {
	f := Feasibility{Verdict: Unknown, CriticalPath: []PathStep{}, Schedule: make([]StepTiming, len(steps)),
		Services: []ServiceCheck{}, RPO: []RPOCheck{}, Suppliers: []SupplierCheck{}, Gaps: []Gap{}, Scenarios: []ScenarioCheck{}}
	sc, err := layout(steps, "steps")
	if err != nil {
		f.Gaps = append(f.Gaps, Gap{Kind: GapRTO, Subject: "steps", Message: orchestrator.ErrorMessage(err)})
		return f
	}
	f.EstimatedRecovery = sc.total
	for i, s := range steps {
		f.Schedule[i] = StepTiming{Step: s.ID, Timing: sc.timing[i]}
	}
	for _, i := range sc.critical {
		s := steps[i]
		f.CriticalPath = append(f.CriticalPath, PathStep{Step: s.ID, Title: s.Title, CI: s.CI, Estimate: s.Estimate,
			Start: sc.timing[i].Start, Finish: sc.timing[i].Finish})
	}
	f.checkServices(steps, sc, ev)
	f.checkScenarios(ev)
	f.checkRPO(ev)
	f.checkSuppliers(ev)
	f.checkPeople(steps, ev)
	f.verdict()
	return f
}

func (f *Feasibility) gap(kind, subject, format string, args ...any) {
	f.Gaps = append(f.Gaps, Gap{Kind: kind, Subject: subject, Message: fmt.Sprintf(format, args...)})
}

// checkServices compares the estimate with each service's RTO and MTPD,
// and the whole runbook's estimate with the tightest RTO.
func (f *Feasibility) checkServices(steps []Step, sc schedule, ev evidence) {
	for _, svc := range ev.Services {
		c := ServiceCheck{Service: svc}
		if i := slices.IndexFunc(steps, func(s Step) bool { return s.Kind == KindServiceVerify && s.CI == svc }); i >= 0 {
			c.RecoveredAt = durationPtr(sc.timing[i].Finish)
		}
		b, ok := ev.BIAs[svc]
		if !ok {
			f.gap(GapNoBIA, svc, "%s has no approved BIA, so its RTO, RPO and MTPD are unknown", svc)
			f.Services = append(f.Services, c)
			continue
		}
		a := b.Assessment
		c.BIAVersion, c.RTO, c.RPO, c.WRT, c.MTPD = &b.Version, durationPtr(a.RTO), durationPtr(a.RPO), durationPtr(a.WRT), b.MTPD
		at := f.EstimatedRecovery
		if c.RecoveredAt != nil {
			at = *c.RecoveredAt
		}
		feasible := at <= a.RTO
		c.RTOFeasible = &feasible
		// A scenario runbook brings its services back one by one: each is
		// judged by when its own verification is done.
		recovery := f.EstimatedRecovery
		if ev.Plan != nil {
			recovery = at
		}
		if b.MTPD != nil {
			within := recovery+a.WRT <= *b.MTPD
			c.WithinMTPD = &within
			if !within {
				f.gap(GapMTPD, svc, "estimated recovery %s + WRT %s = %s exceeds the MTPD %s of %s",
					recovery, a.WRT, recovery+a.WRT, *b.MTPD, svc)
			}
		}
		f.Services = append(f.Services, c)
		switch {
		case ev.Plan != nil:
			// The service with the least time to spare (or the most
			// overrun) stands for the runbook.
			if f.RTO == nil || a.RTO-recovery < f.RTO.RTO-f.RTO.Estimate {
				f.RTO = &RTOCheck{RTO: a.RTO, Service: svc, Estimate: recovery}
			}
		case f.RTO == nil || a.RTO < f.RTO.RTO:
			f.RTO = &RTOCheck{RTO: a.RTO, Service: svc}
		}
	}
	if f.RTO == nil {
		return
	}
	r := f.RTO
	if ev.Plan == nil {
		r.Estimate = f.EstimatedRecovery
	}
	r.Feasible = r.Estimate <= r.RTO
	if r.Feasible {
		r.Margin = r.RTO - r.Estimate
		r.Message = fmt.Sprintf("estimated recovery %s is within the RTO %s of %s, with %s to spare", r.Estimate, r.RTO, r.Service, r.Margin)
		return
	}
	r.Excess = r.Estimate - r.RTO
	r.Message = fmt.Sprintf("estimated recovery %s exceeds the RTO %s of %s by %s", r.Estimate, r.RTO, r.Service, r.Excess)
	f.gap(GapRTO, r.Service, "%s; the critical path is %s", r.Message, f.pathSummary())
}

func (f *Feasibility) pathSummary() string {
	out := ""
	for i, p := range f.CriticalPath {
		if i == 8 {
			return out + fmt.Sprintf(" → … (%d steps)", len(f.CriticalPath))
		}
		if i > 0 {
			out += " → "
		}
		out += fmt.Sprintf("%s %s", p.Step, p.Estimate)
	}
	return out
}

func (f *Feasibility) checkRPO(ev evidence) {
	failovers := failoversOf(ev.Plan)
	for _, k := range ev.ScopeCIs {
		if !ev.CIs[k].DataBearing {
			continue
		}
		c := RPOCheck{CI: k, Status: orchestrator.RPOUnknown, Message: "unknown: no backup target"}
		if d, ok := ev.RequiredRPO[k]; ok {
			c.RequiredRPO = durationPtr(d)
		}
		if b, ok := ev.Backups[k]; ok {
			c.Status, c.LastVerifiedAt, c.Message = b.Status, b.LastVerifiedAt, b.Message
		}
		if a, ok := failovers[k]; ok {
			c.Status, c.LastVerifiedAt, c.Message = lagStatus(a, c.RequiredRPO)
		}
		if c.Status == orchestrator.RPOBreached {
			f.gap(GapRPO, k, "%s: %s", k, c.Message)
		}
		f.RPO = append(f.RPO, c)
	}
}

func (f *Feasibility) checkSuppliers(ev evidence) {
	for _, k := range ev.ScopeCIs {
		if ev.CIs[k].Class != directory.ClassSupplierService {
			continue
		}
		sups := ev.Suppliers[k]
		if len(sups) == 0 {
			f.gap(GapSupplier, k, "no supplier record provides %s, so no contract backs its recovery", k)
			continue
		}
		for _, s := range sups {
			f.Suppliers = append(f.Suppliers, f.supplierCheck(k, s, ev))
		}
	}
}

func (f *Feasibility) supplierCheck(ci string, s directory.Supplier, ev evidence) SupplierCheck {
	c := SupplierCheck{Supplier: s.Key, CI: ci, OK: true}
	if d, ok := ev.RequiredRTO[ci]; ok {
		c.RequiredRTO = durationPtr(d)
	}
	if d, ok := ev.RequiredRPO[ci]; ok {
		c.RequiredRPO = durationPtr(d)
	}
	fail := func(format string, args ...any) {
		c.OK = false
		c.Message = fmt.Sprintf(format, args...)
		f.gap(GapSupplier, s.Key, "%s", c.Message)
	}
	k := s.ActiveContract
	switch {
	case k == nil:
		fail("supplier %s has no contract in force for %s", s.Key, ci)
		return c
	case k.RTO == nil && c.RequiredRTO != nil:
		c.Contract = k.Reference
		fail("contract %s of %s commits to no RTO for %s, which requires %s", k.Reference, s.Key, ci, *c.RequiredRTO)
		return c
	}
	c.Contract, c.ContractedRTO, c.ContractedRPO = k.Reference, k.RTO, k.RPO
	switch {
	case c.RequiredRTO != nil && *k.RTO > *c.RequiredRTO:
		fail("contract %s of %s commits to RTO %s for %s, which requires %s", k.Reference, s.Key, *k.RTO, ci, *c.RequiredRTO)
	case c.RequiredRPO != nil && k.RPO != nil && *k.RPO > *c.RequiredRPO:
		fail("contract %s of %s commits to RPO %s for %s, which requires %s", k.Reference, s.Key, *k.RPO, ci, *c.RequiredRPO)
	default:
		c.Message = fmt.Sprintf("contract %s of %s meets what %s requires", k.Reference, s.Key, ci)
	}
	return c
}

// checkPeople lists steps nobody owns, owners who are not contacts or not
// in the call tree, services without a call tree and contacts in it who
// cannot be reached.
func (f *Feasibility) checkPeople(steps []Step, ev evidence) {
	inTree := map[string]bool{}
	if len(ev.TreeServices) == 0 {
		f.gap(GapNoCallTree, "call_tree", "the runbook names no call tree: nobody is told whom to call, in which order")
	}
	for _, svc := range ev.TreeServices {
		t, ok := ev.CallTrees[svc]
		if !ok {
			f.gap(GapNoCallTree, svc, "%s has no call tree: nobody is told whom to call, in which order", svc)
			continue
		}
		for _, l := range t.Levels {
			for _, c := range l.Contacts {
				inTree[c] = true
			}
		}
	}
	reported := map[string]bool{}
	for _, c := range sortedKeys(inTree) {
		if ct, ok := ev.Contacts[c]; ok && ct.Phone == "" && ct.Email == "" && ct.Chat == "" {
			f.gap(GapUnreachable, c, "contact %s in the call tree has no phone, email or chat", c)
		}
	}
	for _, s := range steps {
		switch {
		case s.OwnerRole == "" && s.Owner == "":
			f.gap(GapMissingOwnerRole, s.ID, "step %s (%s) has no owner or owner role", s.ID, clip(s.Title))
		case s.Owner == "" && s.CI != "" && !reported["ci:"+s.CI]:
			reported["ci:"+s.CI] = true
			f.gap(GapMissingOwner, s.CI, "%s has no owner in the CMDB: nobody is named to recover it", s.CI)
		case s.Owner == "" || reported[s.Owner]:
		case ev.Contacts[s.Owner].Key == "" && !providedBy(ev.Suppliers[s.CI], s.Owner):
			reported[s.Owner] = true
			f.gap(GapUnknownOwner, s.Owner, "owner %s of step %s is not in the contact list", clip(s.Owner), s.ID)
		case len(ev.CallTrees) > 0 && !inTree[s.Owner]:
			reported[s.Owner] = true
			f.gap(GapOwnerNotInTree, s.Owner, "owner %s of step %s is not in the call tree, so nobody will call them", s.Owner, s.ID)
		}
	}
}

// providedBy reports whether owner is one of the suppliers: a supplier
// service's owner may be its supplier, whose contacts the supplier record
// holds.
func providedBy(suppliers []directory.Supplier, owner string) bool {
	return slices.ContainsFunc(suppliers, func(s directory.Supplier) bool { return s.Key == owner })
}

// verdict is infeasible when a target is missed, unknown when a service
// has no BIA, feasible otherwise.
func (f *Feasibility) verdict() {
	f.Verdict = Feasible
	for _, g := range f.Gaps {
		switch g.Kind {
		case GapRTO, GapMTPD, GapRPO:
			f.Verdict = Infeasible
			return
		case GapNoBIA:
			f.Verdict = Unknown
		}
	}
	if len(f.Services) == 0 && f.Verdict == Feasible && f.RTO == nil {
		f.Verdict = Unknown
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
