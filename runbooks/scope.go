package runbooks

import (
	"slices"
	"strings"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/impact"
)

// classBusinessService is the class of business service CIs.
const classBusinessService = "business_service"

// maxFailed bounds a scenario's failed list.
const maxFailed = 1000

// resolved is a scope resolved against a graph: every CI it covers (the
// service's dependency closure, or what the scenario takes down), the
// business services to bring back, and the CIs that failed.
type resolved struct {
	nodes   []int32
	targets []int32
	failed  []int32
}

// keys returns the scope's CI keys in key order.
func (r resolved) keys(g *impact.Graph) []string {
	out := make([]string, len(r.nodes))
	for i, n := range r.nodes {
		out[i] = g.Key(n)
	}
	slices.Sort(out)
	return out
}

// resolveScope checks a scope against the graph. Errors name the input
// field: service, or scenario.failed.
func resolveScope(g *impact.Graph, s Scope) (resolved, error) {
	var v orchestrator.Validation
	if s.Service != "" {
		n, ok := g.Index(s.Service)
		switch {
		case !ok:
			v.Add("service", "no CI has key %q", clip(s.Service))
		case g.Class(n) != classBusinessService:
			v.Add("service", "%q is a %s, not a business_service", s.Service, g.Class(n))
		}
		if err := v.Err(); err != nil {
			return resolved{}, err
		}
		c := g.Dependencies(n)
		return resolved{nodes: c.Nodes, targets: []int32{n}}, nil
	}
	switch {
	case len(s.Failed) == 0:
		v.Add("scenario.failed", "must list at least one CI key")
	case len(s.Failed) > maxFailed:
		v.Add("scenario.failed", "must list at most %d CI keys", maxFailed)
	}
	if err := v.Err(); err != nil {
		return resolved{}, err
	}
	var failed []int32
	var unknown []string
	for _, k := range s.Failed {
		if n, ok := g.Index(k); ok {
			failed = append(failed, n)
		} else {
			unknown = append(unknown, clip(k))
		}
	}
	if len(unknown) > 0 {
		v.Add("scenario.failed", "unknown CI keys: %s", strings.Join(firstN(unknown, 10), ", "))
		return resolved{}, v.Err()
	}
	down := g.WhatIf(failed)
	r := resolved{nodes: down.Down, failed: failed}
	for _, n := range down.Down {
		if g.Class(n) == classBusinessService {
			r.targets = append(r.targets, n)
		}
	}
	return r, nil
}

// normalizeScope trims keys and drops repeats, keeping the order given.
func normalizeScope(s Scope) Scope {
	s.Service = strings.TrimSpace(s.Service)
	seen := map[string]bool{}
	var failed []string
	for _, k := range s.Failed {
		k = strings.TrimSpace(k)
		if !seen[k] {
			seen[k] = true
			failed = append(failed, k)
		}
	}
	s.Failed = failed
	return s
}

// clip shortens user text quoted back in an error message.
func clip(s string) string {
	const limit = 80
	r := []rune(s)
	if len(r) <= limit {
		return s
	}
	return string(r[:limit]) + "…"
}

func firstN(list []string, n int) []string {
	if len(list) <= n {
		return list
	}
	return append(slices.Clone(list[:n]), "…")
}
