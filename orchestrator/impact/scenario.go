package impact

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// maxFailed bounds the CI keys one what-if may name.
const maxFailed = 10000

// Scenario is a what-if question: what fails (CI keys, every CI at a site,
// the supplier_service CIs of a supplier, the scope of a risk — several
// add up) and for how long. Without a duration each service is assumed
// out for its estimated recovery time (for a risk with incident history,
// the median duration of its matching incidents).
type Scenario struct {
	Failed   []string               `json:"failed"`
	Site     string                 `json:"site"`
	Supplier string                 `json:"supplier"`
	Risk     *int64                 `json:"risk"`
	Duration *orchestrator.Duration `json:"duration"`
}

// resolved is a scope turned into the graph's nodes.
type resolved struct {
	nodes []int32
	// missing are scope entries nothing matched, by field.
	missing map[string][]string
}

func (r *resolved) add(ns ...int32) { r.nodes = append(r.nodes, ns...) }

func (r *resolved) miss(field, key string) {
	if r.missing == nil {
		r.missing = map[string][]string{}
	}
	r.missing[field] = append(r.missing[field], key)
}

// failed returns the distinct failed nodes.
func (r *resolved) failed() []int32 {
	slices.Sort(r.nodes)
	return slices.Compact(r.nodes)
}

// resolveScope finds the nodes of CI keys, sites and suppliers; entries
// that match nothing are recorded under their field.
func resolveScope(ctx context.Context, q postgres.Querier, snap *Snapshot, sc Scope, fields [3]string) (*resolved, error) {
	r := &resolved{}
	for _, k := range sc.CIs {
		if n, ok := snap.Graph.Index(k); ok {
			r.add(n)
		} else {
			r.miss(fields[0], k)
		}
	}
	for _, site := range sc.Sites {
		at := snap.Graph.AtSite(site)
		if n, ok := snap.Graph.Index(site); ok && snap.Graph.Class(n) == "site" {
			at = append(at, n)
		}
		if len(at) == 0 {
			r.miss(fields[1], site)
		}
		r.add(at...)
	}
	if len(sc.Suppliers) == 0 {
		return r, nil
	}
	provided, err := supplierCIs(ctx, q, sc.Suppliers)
	if err != nil {
		return nil, err
	}
	for _, sup := range sc.Suppliers {
		cis, known := provided[sup]
		if !known {
			r.miss(fields[2], sup)
		}
		for _, k := range cis {
			if n, ok := snap.Graph.Index(k); ok {
				r.add(n)
			}
		}
	}
	return r, nil
}

// supplierCIs returns the supplier_service CI keys each known supplier
// provides (possibly none).
func supplierCIs(ctx context.Context, q postgres.Querier, suppliers []string) (map[string][]string, error) {
	const query = `SELECT s.key, c.key FROM suppliers s
		LEFT JOIN supplier_services ss ON ss.supplier_id = s.id LEFT JOIN cis c ON c.id = ss.ci_id
		WHERE s.key = ANY($1) ORDER BY s.key, ss.position`
	rows, err := q.Query(ctx, query, suppliers)
	if err != nil {
		return nil, fmt.Errorf("read supplier services: %w", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var (
			sup string
			ci  *string
		)
		if err := rows.Scan(&sup, &ci); err != nil {
			return nil, fmt.Errorf("read supplier services: %w", err)
		}
		if _, seen := out[sup]; !seen {
			out[sup] = []string{}
		}
		if ci != nil {
			out[sup] = append(out[sup], *ci)
		}
	}
	return out, rows.Err()
}

// resolveScenario turns a scenario into failed nodes, and the fixed outage
// it implies (the duration given, else a risk's incident median). Every
// reference that matches nothing is a field error.
func (s *Service) resolveScenario(ctx context.Context, snap *Snapshot, sc Scenario) ([]int32, *outage, error) {
	var v orchestrator.Validation
	if len(sc.Failed) == 0 && sc.Site == "" && sc.Supplier == "" && sc.Risk == nil {
		v.Add("failed", "name what fails: failed CI keys, a site, a supplier or a risk")
		return nil, nil, v.Err()
	}
	if len(sc.Failed) > maxFailed {
		v.Add("failed", "must name at most %d CIs", maxFailed)
		return nil, nil, v.Err()
	}
	scope := Scope{CIs: sc.Failed}
	if sc.Site != "" {
		scope.Sites = []string{sc.Site}
	}
	if sc.Supplier != "" {
		scope.Suppliers = []string{sc.Supplier}
	}
	r, err := resolveScope(ctx, s.pool, snap, scope, [3]string{"failed", "site", "supplier"})
	if err != nil {
		return nil, nil, err
	}
	if keys := r.missing["failed"]; len(keys) > 0 {
		v.Add("failed", "unknown CI keys: %s", listKeys(keys))
	}
	if len(r.missing["site"]) > 0 {
		v.Add("site", "no CI is at site %q", sc.Site)
	}
	if len(r.missing["supplier"]) > 0 {
		v.Add("supplier", "no supplier has key %q", sc.Supplier)
	}
	var fixed *outage
	if sc.Duration != nil {
		fixed = &outage{d: *sc.Duration, how: "duration given"}
	}
	if sc.Risk != nil {
		risk, err := s.getRisk(ctx, s.pool, strconv.FormatInt(*sc.Risk, 10))
		if orchestrator.ErrorCode(err) == orchestrator.ENOTFOUND {
			v.Add("risk", "no risk has id %d", *sc.Risk)
		} else if err != nil {
			return nil, nil, err
		} else {
			rr, err := resolveScope(ctx, s.pool, snap, risk.Scope, [3]string{"cis", "sites", "suppliers"})
			if err != nil {
				return nil, nil, err
			}
			r.add(rr.nodes...)
			if fixed == nil {
				h, err := s.history(ctx, snap, risk, rr.failed())
				if err != nil {
					return nil, nil, err
				}
				fixed = h.outage
			}
		}
	}
	if err := v.Err(); err != nil {
		return nil, nil, err
	}
	return r.failed(), fixed, nil
}
