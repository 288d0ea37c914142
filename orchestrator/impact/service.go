package impact

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// ClassBusinessService is the CI class of business services, the CIs a
// BIA is written for.
const ClassBusinessService = "business_service"

// Service stores BIAs, settings and risks, and answers the impact
// questions (what-if, roll-down, gaps, risk quantification) over the
// database and the in-memory graph.
type Service struct {
	pool     *pgxpool.Pool
	graphs   *GraphCache
	rt       orchestrator.Runtime
	backups  BackupCoverage
	evidence BackupEvidence
}

// Option configures a Service.
type Option func(*Service)

// WithBackupCoverage gives the service the backup capability's answer to
// which CIs have a backup target; without it, the gap analysis does not
// check backups.
func WithBackupCoverage(c BackupCoverage) Option {
	return func(s *Service) { s.backups = c }
}

// NewService returns the impact service. graphs may be shared with other
// users of the same pool; nil makes a private cache.
func NewService(pool *pgxpool.Pool, rt orchestrator.Runtime, graphs *GraphCache, opts ...Option) *Service {
	if graphs == nil {
		graphs = NewGraphCache(pool, rt)
	}
	s := &Service{pool: pool, rt: rt, graphs: graphs}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Graphs returns the graph cache the service answers from.
func (s *Service) Graphs() *GraphCache { return s.graphs }

// serviceCI returns the id of the business service with key: not_found
// for an unknown key, invalid for a CI of another class. lock serialises
// writers of the same service's BIA without blocking readers or CMDB
// foreign-key checks.
func serviceCI(ctx context.Context, q postgres.Querier, key string, lock bool) (int64, error) {
	opts := cmdb.ResolveOptions{Field: "key"}
	if lock {
		opts.Lock = cmdb.LockNoKeyUpdate
	}
	ci, err := cmdb.ResolveOne(ctx, q, key, opts)
	if cmdb.IsUnknown(err) {
		return 0, notFoundService(key)
	}
	if err != nil {
		return 0, fmt.Errorf("find service %s: %w", key, err)
	}
	if ci.Class != ClassBusinessService {
		return 0, notAService(key, ci.Class)
	}
	return ci.ID, nil
}

func notFoundService(key string) error {
	return orchestrator.Errorf(orchestrator.ENOTFOUND, "service %q not found", key)
}

func notAService(key, class string) error {
	return &orchestrator.Error{Code: orchestrator.EINVALID, Message: "not a business service",
		Fields: []orchestrator.FieldError{{Field: "key", Message: fmt.Sprintf("CI %q is a %s, not a %s", key, class, ClassBusinessService)}}}
}

// node resolves a CI key in a snapshot: not_found when the CMDB has no
// such CI.
func (snap *Snapshot) node(key string) (int32, error) {
	n, ok := snap.Graph.Index(key)
	if !ok {
		return -1, orchestrator.Errorf(orchestrator.ENOTFOUND, "CI %q not found", key)
	}
	return n, nil
}
