package impact

// Closure is everything reachable from Root along propagating relations, in
// breadth-first order, as a flat list with depths and as a tree through
// parent pointers. Each node appears once, at its shortest depth.
type Closure struct {
	Root int32
	// Nodes starts with Root.
	Nodes []int32
	// Depth is parallel to Nodes: relations from Root, 0 for Root.
	Depth []int32
	// Parent is parallel to Nodes: the node it was first reached from, -1
	// for Root.
	Parent []int32
}

// Dependencies is what n needs, directly or transitively: the closure along
// propagating relations from n towards what it depends on.
func (g *Graph) Dependencies(n int32) Closure {
	return g.closure(n, g.outStart, g.outTo)
}

// Dependents is what needs n, directly or transitively: the closure along
// propagating relations in reverse. It ignores redundancy, so it lists what
// could be affected, not what a failure of n alone takes down (WhatIf).
func (g *Graph) Dependents(n int32) Closure {
	return g.closure(n, g.inStart, g.inFrom)
}

func (g *Graph) closure(root int32, start, adj []int32) Closure {
	c := Closure{Root: root}
	if !g.valid(root) {
		return c
	}
	s := g.acquire()
	defer g.release(s)
	s.visit(root, -1)
	s.slot[root] = 0
	for head := 0; head < len(s.queue); head++ {
		x := s.queue[head]
		for _, y := range adj[start[x]:start[x+1]] {
			if s.visit(y, x) {
				s.slot[y] = s.slot[x] + 1
			}
		}
	}
	c.Nodes = append([]int32(nil), s.queue...)
	c.Depth = make([]int32, len(c.Nodes))
	c.Parent = make([]int32, len(c.Nodes))
	for i, n := range c.Nodes {
		c.Depth[i], c.Parent[i] = s.slot[n], s.parent[n]
	}
	return c
}

// TreeNode is one CI in the tree form of a closure.
type TreeNode struct {
	Key      string      `json:"key"`
	Class    string      `json:"class"`
	Depth    int         `json:"depth"`
	Children []*TreeNode `json:"children,omitempty"`
}

// Tree turns a closure into nested nodes rooted at its Root, children in
// breadth-first order. It is nil for an empty closure.
func (g *Graph) Tree(c Closure) *TreeNode {
	if len(c.Nodes) == 0 {
		return nil
	}
	nodes := make([]TreeNode, len(c.Nodes))
	pos := make(map[int32]int, len(c.Nodes))
	for i, n := range c.Nodes {
		nodes[i] = TreeNode{Key: g.keys[n], Class: g.Class(n), Depth: int(c.Depth[i])}
		pos[n] = i
	}
	// Breadth-first order puts every parent before its children, so the
	// parent's entry exists when a child is attached.
	for i := 1; i < len(c.Nodes); i++ {
		p := &nodes[pos[c.Parent[i]]]
		p.Children = append(p.Children, &nodes[i])
	}
	return &nodes[0]
}
