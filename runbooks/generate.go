package runbooks

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/impact"
)

// Input is what generation reads: the graph, the scope, the relations
// whose From CI is in the scope (for redundancy groups, standbys and
// backups), the CIs' recovery attributes, the approved BIAs of the
// scope's services and, optionally, the CIs' required RTOs to break ties.
type Input struct {
	Graph        *impact.Graph
	Scope        Scope
	Relations    []impact.Edge
	CIs          map[string]CIInfo
	BIAs         map[string]BIA
	Requirements []impact.Requirement
	// Plan, for a scenario, is the impact model's recovery plan: failovers
	// to the standbys that stand, in-place recovery only where none does.
	Plan *impact.ScenarioPlan
}

// Draft is the generated content of a runbook's first (or a regenerated)
// version.
type Draft struct {
	Title     string
	Steps     []Step
	Sections  Sections
	ScopeCIs  []string
	Redundant []string
	// Services are the business services the runbook brings back.
	Services []string
}

// Generate writes a draft: one recovery step and one verification step per
// CI that must be recovered, dependencies first, a verification per
// business service, and the hand-back last. A step depends on the
// verification of each CI its CI needs; of a redundancy group only as many
// members as the group needs up are recovered (the quickest first) and the
// others are left to the failback section. Steps on a dependency cycle
// depend only on the members recovered before them, so the steps always
// form a DAG. Unknown scope keys are an EINVALID error naming the field.
func Generate(in Input) (Draft, error) {
	r, err := resolveScope(in.Graph, in.Scope)
	if err != nil {
		return Draft{}, err
	}
	gen := newGenerator(in, r)
	if in.Plan != nil && in.Scope.IsScenario() {
		gen.emitPlan(*in.Plan)
	} else {
		required := gen.required()
		order := in.Graph.RecoveryOrder(required, gen.rtoOf)
		gen.emit(order)
	}
	d := Draft{
		Steps:    gen.steps,
		ScopeCIs: r.keys(in.Graph),
	}
	for _, n := range r.nodes {
		if !gen.needed[n] {
			d.Redundant = append(d.Redundant, in.Graph.Key(n))
		}
	}
	slices.Sort(d.Redundant)
	for _, t := range r.targets {
		d.Services = append(d.Services, in.Graph.Key(t))
	}
	d.Title = gen.title()
	d.Sections = gen.sections(d)
	return d, nil
}

type generator struct {
	in      Input
	g       *impact.Graph
	r       resolved
	inScope map[int32]bool
	needed  map[int32]bool
	deps    map[int32][]int32
	from    map[string][]impact.Edge
	done    map[int32]string // the step that says the CI is back
	steps   []Step
}

func newGenerator(in Input, r resolved) *generator {
	gen := &generator{in: in, g: in.Graph, r: r, inScope: make(map[int32]bool, len(r.nodes)),
		needed: map[int32]bool{}, deps: map[int32][]int32{}, from: map[string][]impact.Edge{}, done: map[int32]string{}}
	for _, n := range r.nodes {
		gen.inScope[n] = true
	}
	for _, e := range in.Relations {
		gen.from[e.From] = append(gen.from[e.From], e)
	}
	return gen
}

func (gen *generator) info(n int32) CIInfo {
	key := gen.g.Key(n)
	if ci, ok := gen.in.CIs[key]; ok {
		return ci
	}
	return CIInfo{Key: key, Name: key, Class: gen.g.Class(n), Site: gen.g.Site(n), RecoveryStrategy: "manual"}
}

func (gen *generator) rtoOf(n int32) (orchestrator.Duration, bool) {
	if int(n) < len(gen.in.Requirements) && gen.in.Requirements[n].HasRTO() {
		return gen.in.Requirements[n].RTO, true
	}
	return 0, false
}

// required walks from the services to bring back (and, in a scenario, the
// failed CIs) through what each needs, choosing group members, and returns
// every CI that must be recovered.
func (gen *generator) required() []int32 {
	queue := append(slices.Clone(gen.r.targets), gen.r.failed...)
	var out []int32
	for head := 0; head < len(queue); head++ {
		n := queue[head]
		if gen.needed[n] || !gen.inScope[n] {
			continue
		}
		gen.needed[n] = true
		out = append(out, n)
		gen.deps[n] = gen.needs(n)
		queue = append(queue, gen.deps[n]...)
	}
	return out
}

// needs lists the scope CIs n waits for: every plain dependency in scope,
// and of each redundancy group as many members in scope as it lacks up,
// quickest to recover first.
func (gen *generator) needs(n int32) []int32 {
	type group struct {
		minUp, up int
		members   []int32
	}
	var out []int32
	groups := map[string]*group{}
	var names []string
	for _, e := range gen.from[gen.g.Key(n)] {
		if !impact.Propagates(e.Type) {
			continue
		}
		to, ok := gen.g.Index(e.To)
		if !ok {
			continue
		}
		if e.Group == "" {
			if gen.inScope[to] && !slices.Contains(out, to) {
				out = append(out, to)
			}
			continue
		}
		gr := groups[e.Group]
		if gr == nil {
			gr = &group{minUp: e.MinUp}
			groups[e.Group] = gr
			names = append(names, e.Group)
		}
		if gen.inScope[to] {
			gr.members = append(gr.members, to)
		} else {
			gr.up++
		}
	}
	for _, name := range names {
		gr := groups[name]
		slices.SortFunc(gr.members, func(a, b int32) int {
			if c := cmp.Compare(gen.quickness(a), gen.quickness(b)); c != 0 {
				return c
			}
			return cmp.Compare(gen.g.Key(a), gen.g.Key(b))
		})
		k := min(max(gr.minUp-gr.up, 0), len(gr.members))
		for _, m := range gr.members[:k] {
			if !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
	}
	return out
}

// quickness is how long a CI's own steps take.
func (gen *generator) quickness(n int32) orchestrator.Duration {
	ci := gen.info(n)
	rec := recoveryEstimate(ci)
	return rec + verifyEstimate(ci, rec)
}

func (gen *generator) add(s Step) string {
	s.ID = "s" + strconv.Itoa(len(gen.steps)+1)
	s.Mandatory = true
	if s.DependsOn == nil {
		s.DependsOn = []string{}
	}
	gen.steps = append(gen.steps, s)
	return s.ID
}

// emit writes the steps in recovery order and the hand-back after every
// step nothing else waits for.
func (gen *generator) emit(order []int32) {
	pos := make(map[int32]int, len(order))
	for i, n := range order {
		pos[n] = i
	}
	scenario := gen.in.Scope.IsScenario()
	for i, n := range order {
		ci := gen.info(n)
		var deps []string
		var together []string
		for _, d := range gen.deps[n] {
			if pos[d] < i {
				deps = append(deps, gen.done[d])
			} else {
				together = append(together, gen.g.Key(d))
			}
		}
		note := ""
		if len(together) > 0 {
			note = cycleNote(together)
		}
		gen.done[n] = gen.emitCI(ci, deps, note, scenario)
	}
	gen.handback()
}

// emitCI writes the steps of one CI and returns the id of the step after
// which it counts as recovered.
func (gen *generator) emitCI(ci CIInfo, deps []string, note string, scenario bool) string {
	role := ownerRole(ci.Class)
	switch {
	case ci.Class == classBusinessService:
		title, text := serviceVerifyText(ci, gen.mbco(ci.Key))
		return gen.add(Step{Kind: KindServiceVerify, CI: ci.Key, Title: title, Text: text + note, OwnerRole: role,
			Owner: ci.Owner, Estimate: serviceVerifyEstimate, DependsOn: deps})
	case ci.Class == "site" && !scenario:
		title, text := siteText(ci)
		return gen.add(Step{Kind: KindRecover, CI: ci.Key, Title: title, Text: text + note, OwnerRole: role,
			Owner: ci.Owner, Estimate: siteCheckEstimate, DependsOn: deps})
	}
	title, text := recoveryText(ci, gen.standbysOf(ci.Key), gen.targetsOf(ci.Key, impact.BackedUpBy))
	est := recoveryEstimate(ci)
	rec := gen.add(Step{Kind: KindRecover, CI: ci.Key, Title: title, Text: text + note, OwnerRole: role,
		Owner: ci.Owner, Estimate: est, DependsOn: deps})
	vtitle, vtext := verifyText(ci)
	return gen.add(Step{Kind: KindVerify, CI: ci.Key, Title: vtitle, Text: vtext, OwnerRole: role,
		Owner: ci.Owner, Estimate: verifyEstimate(ci, est), DependsOn: []string{rec}})
}

// standbysOf lists the CIs key fails over to: its replicas and standbys.
func (gen *generator) standbysOf(key string) []string {
	out := append(gen.targetsOf(key, impact.ReplicatesTo), gen.targetsOf(key, impact.FailsOverTo)...)
	slices.Sort(out)
	return out
}

func (gen *generator) targetsOf(key, typ string) []string {
	var out []string
	for _, e := range gen.from[key] {
		if e.Type == typ {
			out = append(out, e.To)
		}
	}
	slices.Sort(out)
	return out
}

func (gen *generator) mbco(service string) *float64 {
	if b, ok := gen.in.BIAs[service]; ok {
		m := b.Assessment.MBCO
		return &m
	}
	return nil
}

func (gen *generator) handback() {
	waited := map[string]bool{}
	for _, s := range gen.steps {
		for _, d := range s.DependsOn {
			waited[d] = true
		}
	}
	var sinks []string
	for _, s := range gen.steps {
		if !waited[s.ID] {
			sinks = append(sinks, s.ID)
		}
	}
	var services []string
	owner := ""
	for _, t := range gen.r.targets {
		services = append(services, gen.g.Key(t))
		if owner == "" {
			owner = gen.info(t).Owner
		}
	}
	title, text := handbackText(services)
	gen.add(Step{Kind: KindHandback, Title: title, Text: text, OwnerRole: ownerRole(classBusinessService), Owner: owner,
		Estimate: handbackEstimate, DependsOn: sinks})
}
