package runbooks

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/audit"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/directory"
	"github.com/bcdr/bcdr/orchestrator/impact"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// Service keeps runbooks: it generates them from the model, stores every
// version, and computes feasibility and staleness on read.
type Service struct {
	pool      *pgxpool.Pool
	model     Model
	directory *directory.Service
	backups   Backups
	drills    Drills
	measured  Measured
	rt        orchestrator.Runtime
	// recent are runbooks computed lately, shared by the pages (Recent).
	recent orchestrator.Recent[recentKey, any]
}

// Options are the Service's collaborators; nil ones get defaults: a
// PGModel and PGBackups over the pool, no drills, nothing measured.
type Options struct {
	Model    Model
	Backups  Backups
	Drills   Drills
	Measured Measured
}

// NewService returns a runbook service over pool; the runtime's clock
// stamps versions and exports and measures backup ages and review dates.
func NewService(pool *pgxpool.Pool, rt orchestrator.Runtime, opts Options) *Service {
	s := &Service{pool: pool, rt: rt, model: opts.Model, backups: opts.Backups, drills: opts.Drills, measured: opts.Measured}
	if s.model == nil {
		s.model = NewPGModel(pool, impact.NewService(pool, rt, nil))
	}
	if s.backups == nil {
		s.backups = NewPGBackups(pool, rt)
	}
	s.directory = directory.NewService(pool, rt)
	return s
}

// CreateInput asks for a runbook: for the loss of a business service, or
// for a scenario of failed CIs. Title is optional.
type CreateInput struct {
	Service  string    `json:"service"`
	Scenario *Scenario `json:"scenario"`
	Title    string    `json:"title"`
}

// Scenario is a set of CIs failing together: a site, a ransomware scope, a
// supplier outage.
type Scenario struct {
	Failed []string `json:"failed"`
}

func (in CreateInput) scope() (Scope, error) {
	var v orchestrator.Validation
	s := Scope{Service: in.Service}
	switch {
	case strings.TrimSpace(in.Service) == "" && in.Scenario == nil:
		v.Add("service", "give a business service key, or a scenario of failed CIs")
	case strings.TrimSpace(in.Service) != "" && in.Scenario != nil:
		v.Add("scenario", "give either a service or a scenario, not both")
	case in.Scenario != nil:
		s.Failed = in.Scenario.Failed
		if s.Failed == nil {
			v.Add("scenario.failed", "must list at least one CI key")
		}
	}
	if msg := checkText(in.Service, maxOwner, false, false); msg != "" {
		v.Add("service", "%s", msg)
	}
	for i, k := range s.Failed {
		if msg := checkText(k, maxOwner, true, false); msg != "" {
			v.Add(fmt.Sprintf("scenario.failed[%d]", i), "%s", msg)
		}
	}
	if msg := checkText(strings.TrimSpace(in.Title), maxTitle*2, false, false); msg != "" {
		v.Add("title", "%s", msg)
	}
	return normalizeScope(s), v.Err()
}

// Create generates a runbook's first draft and stores it.
func (s *Service) Create(ctx context.Context, in CreateInput) (Runbook, error) {
	scope, err := in.scope()
	if err != nil {
		return Runbook{}, err
	}
	d, sv, err := s.generate(ctx, scope)
	if err != nil {
		return Runbook{}, err
	}
	title := strings.TrimSpace(in.Title)
	if title == "" {
		title = d.Title
	}
	now := s.rt.Now()
	actor := orchestrator.ActorFrom(ctx)
	sv.Number, sv.Status, sv.CreatedAt, sv.CreatedBy = 1, StatusDraft, now, actor.Name
	var id int64
	err = postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		var service *int64
		if scope.Service != "" {
			ci, err := cmdb.ResolveOne(ctx, tx, scope.Service, cmdb.ResolveOptions{Lock: cmdb.LockKeyShare, Field: "service"})
			if cmdb.IsUnknown(err) {
				return orchestrator.Invalid("service", "no CI has key %q", clip(scope.Service))
			}
			if err != nil {
				return fmt.Errorf("resolve service %s: %w", clip(scope.Service), err)
			}
			service = &ci.ID
		}
		failed := scope.Failed
		if failed == nil {
			failed = []string{}
		}
		const insert = `INSERT INTO runbooks (title, service_id, failed, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING id`
		if err := tx.QueryRow(ctx, insert, title, service, failed, now).Scan(&id); err != nil {
			if orchestrator.ErrorCode(postgres.Translate(err)) == orchestrator.ECONFLICT {
				return &orchestrator.Error{Code: orchestrator.ECONFLICT, Message: "the service already has a runbook",
					Fields: []orchestrator.FieldError{{Field: "service", Message: fmt.Sprintf("%q already has a runbook in force; edit or regenerate it, or retire it first", scope.Service)}}}
			}
			return fmt.Errorf("insert runbook: %w", postgres.Translate(err))
		}
		if err := insertVersion(ctx, tx, id, sv); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Change{Action: "create", Resource: "runbooks", ResourceID: fmt.Sprint(id),
			Summary: fmt.Sprintf("generated %q: %d steps over %d CIs", clip(title), len(sv.Steps), len(sv.ScopeCIs))})
	})
	if err != nil {
		return Runbook{}, err
	}
	return s.Get(ctx, fmt.Sprint(id))
}

// generate reads the model for scope and writes a draft.
func (s *Service) generate(ctx context.Context, scope Scope) (Draft, storedVersion, error) {
	g, err := s.model.Graph(ctx)
	if err != nil {
		return Draft{}, storedVersion{}, err
	}
	r, err := resolveScope(g, scope)
	if err != nil {
		return Draft{}, storedVersion{}, err
	}
	keys := r.keys(g)
	in := Input{Graph: g, Scope: scope, BIAs: map[string]BIA{}}
	if in.Relations, err = s.model.Relations(ctx, keys); err != nil {
		return Draft{}, storedVersion{}, err
	}
	if in.CIs, err = s.model.CIs(ctx, keys); err != nil {
		return Draft{}, storedVersion{}, err
	}
	if in.Requirements, err = s.model.Requirements(ctx, g); err != nil {
		return Draft{}, storedVersion{}, err
	}
	for _, t := range r.targets {
		if err := s.addBIA(ctx, in.BIAs, g.Key(t)); err != nil {
			return Draft{}, storedVersion{}, err
		}
	}
	if scope.IsScenario() {
		plan, err := s.model.RecoveryPlan(ctx, scope.Failed)
		if err != nil {
			return Draft{}, storedVersion{}, err
		}
		in.Plan = &plan
	}
	d, err := Generate(in)
	if err != nil {
		return Draft{}, storedVersion{}, err
	}
	p := newScopePrint(d.ScopeCIs, in.Relations)
	sv := storedVersion{Version: Version{Steps: d.Steps, Sections: d.Sections, ScopeCIs: d.ScopeCIs,
		Redundant: nonNil(d.Redundant), nextStep: len(d.Steps) + 1}, scopeRelations: p.Relations, fingerprint: p.fingerprint(),
		biaVersions: map[string]int{}}
	for k, b := range in.BIAs {
		sv.biaVersions[k] = b.Version
	}
	return d, sv, nil
}

// addBIA puts the approved BIA of service into m, if it has one.
func (s *Service) addBIA(ctx context.Context, m map[string]BIA, service string) error {
	b, err := s.model.ApprovedBIA(ctx, service)
	switch orchestrator.ErrorCode(err) {
	case "":
		m[service] = b
	case orchestrator.ENOTFOUND:
	default:
		return err
	}
	return nil
}

func nonNil(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}
