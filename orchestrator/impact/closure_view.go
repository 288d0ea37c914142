package impact

import (
	"context"
	"slices"
)

// ClosureItem is one CI of a dependency closure in flat form.
type ClosureItem struct {
	Key   string `json:"key"`
	Class string `json:"class"`
	// Depth counts relations from the root, 1 for a direct one.
	Depth int `json:"depth"`
	// Parent is the CI it was first reached through.
	Parent string `json:"parent"`
}

// ClosureView is a dependency closure as a tree and as a flat list in
// breadth-first order (the root excluded), with the business services it
// contains.
type ClosureView struct {
	Root     string        `json:"root"`
	Tree     *TreeNode     `json:"tree"`
	Items    []ClosureItem `json:"items"`
	Services []string      `json:"services"`
}

func (snap *Snapshot) view(c Closure) ClosureView {
	g := snap.Graph
	v := ClosureView{Root: g.Key(c.Root), Tree: g.Tree(c), Items: make([]ClosureItem, 0, len(c.Nodes)), Services: []string{}}
	for i, n := range c.Nodes {
		if i == 0 {
			continue
		}
		v.Items = append(v.Items, ClosureItem{Key: g.Key(n), Class: g.Class(n), Depth: int(c.Depth[i]), Parent: g.Key(c.Parent[i])})
		if g.Class(n) == ClassBusinessService {
			v.Services = append(v.Services, g.Key(n))
		}
	}
	slices.Sort(v.Services)
	return v
}

// Dependencies returns everything the business service with key needs,
// directly or transitively.
func (s *Service) Dependencies(ctx context.Context, key string) (ClosureView, error) {
	snap, err := s.graphs.Current(ctx)
	if err != nil {
		return ClosureView{}, err
	}
	n, ok := snap.Graph.Index(key)
	if !ok {
		return ClosureView{}, notFoundService(key)
	}
	if class := snap.Graph.Class(n); class != ClassBusinessService {
		return ClosureView{}, notAService(key, class)
	}
	return snap.view(snap.Graph.Dependencies(n)), nil
}

// Dependents returns everything that needs the CI with key, directly or
// transitively, redundancy aside.
func (s *Service) Dependents(ctx context.Context, key string) (ClosureView, error) {
	snap, err := s.graphs.Current(ctx)
	if err != nil {
		return ClosureView{}, err
	}
	n, err := snap.node(key)
	if err != nil {
		return ClosureView{}, err
	}
	return snap.view(snap.Graph.Dependents(n)), nil
}

// Cycles returns the dependency cycles of the current CMDB as CI keys.
func (s *Service) Cycles(ctx context.Context) ([][]string, error) {
	snap, err := s.graphs.Current(ctx)
	if err != nil {
		return nil, err
	}
	cycles := snap.Graph.Cycles()
	out := make([][]string, len(cycles))
	for i, c := range cycles {
		out[i] = keyList(snap.Graph, c)
	}
	return out, nil
}
