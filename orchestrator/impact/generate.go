package impact

import (
	"fmt"
	"math/rand/v2"
)

// Generate builds a synthetic but realistic CMDB for tests and benchmarks:
// two sites; network, storage, servers, VMs, databases, middleware and
// applications in layers; business services on top; redundancy groups
// (switch and storage pairs, application host pairs across sites, 2-of-3
// database clusters, some front-end pairs); backups, replication, suppliers
// and a few dependency cycles between applications. The same seed gives the
// same CMDB. The CI count is met exactly once it covers the layers'
// minimums (a few hundred CIs); the relation count once it lies between
// what the layers need (about three per CI, always emitted) and what they
// can hold (relations are never duplicated to pad). Every edge satisfies
// the relations table's constraints (distinct ends, unique per
// from/to/type, group iff min_up ≥ 1). site-a is the primary site: the
// quorum database clusters keep two of their three members there.
func Generate(seed int64, cis, relations, services int) (nodes []Node, edges []Edge) {
	gen := &generator{rng: rand.New(rand.NewPCG(uint64(seed), 0x6263647200000001)), seen: map[genEdge]bool{}}
	gen.layout(cis, services)
	gen.infrastructure()
	gen.applications()
	gen.businessServices()
	gen.fill(relations - len(gen.essential))
	optional := gen.optional
	if room := relations - len(gen.essential); room < len(optional) {
		optional = optional[:max(room, 0)]
	}
	for _, list := range [][]genEdge{gen.essential, optional} {
		for _, e := range list {
			edges = append(edges, Edge{From: gen.nodes[e.from].Key, To: gen.nodes[e.to].Key, Type: e.typ, Group: e.group, MinUp: e.minUp})
		}
	}
	return gen.nodes, edges
}

type genEdge struct {
	from, to int32
	typ      string
	group    string
	minUp    int
}

// layer is a contiguous range of generated nodes of one class.
type layer struct{ first, n int32 }

func (l layer) at(i int) int32 { return l.first + int32(i) }

type generator struct {
	rng                            *rand.Rand
	nodes                          []Node
	essential, optional            []genEdge
	seen                           map[genEdge]bool
	sites                          [2]int32
	net, storage, supplier, backup layer
	server, vm, db, mw, app, svc   layer
	bySite                         map[string][2][]int32 // class → per-site nodes
}

// layout creates the nodes; physical CIs alternate between the two sites,
// applications and services have none.
func (gen *generator) layout(cis, services int) {
	rest := max(cis-services-2, 0)
	sizes := []struct {
		l      *layer
		prefix string
		class  string
		n      int
		sited  bool
	}{
		{&gen.net, "net", "network", max(8, rest*2/100), true},
		{&gen.storage, "stor", "storage", max(4, rest/100), true},
		{&gen.supplier, "sup", "supplier_service", max(1, rest/500), false},
		{&gen.backup, "bkp", "backup_repository", max(2, rest*3/1000), true},
		{&gen.server, "srv", "server", max(4, rest*14/100), true},
		{&gen.vm, "vm", "vm", max(8, rest*30/100), true},
		{&gen.db, "db", "database", max(6, rest/10), true},
		{&gen.mw, "mw", "middleware", max(2, rest/20), true},
		{&gen.app, "app", "application", 0, false},
		{&gen.svc, "svc", "business_service", max(services, 1), false},
	}
	used := 0
	for _, s := range sizes {
		used += s.n
	}
	sizes[8].n = max(rest+services-used, 6)
	gen.bySite = map[string][2][]int32{}
	for i, name := range []string{"site-a", "site-b"} {
		gen.sites[i] = int32(len(gen.nodes))
		gen.nodes = append(gen.nodes, Node{Key: name, Class: "site", Site: name})
	}
	for _, s := range sizes {
		*s.l = layer{first: int32(len(gen.nodes)), n: int32(s.n)}
		perSite := gen.bySite[s.class]
		for i := range s.n {
			n := Node{Key: fmt.Sprintf("%s-%05d", s.prefix, i+1), Class: s.class}
			if s.sited {
				n.Site = gen.nodes[gen.sites[i%2]].Key
				perSite[i%2] = append(perSite[i%2], int32(len(gen.nodes)))
			}
			gen.nodes = append(gen.nodes, n)
		}
		gen.bySite[s.class] = perSite
	}
}

func (gen *generator) add(list *[]genEdge, from, to int32, typ, group string, minUp int) bool {
	e := genEdge{from: from, to: to, typ: typ}
	if from == to || gen.seen[e] {
		return false
	}
	gen.seen[e] = true
	e.group, e.minUp = group, minUp
	*list = append(*list, e)
	return true
}

// site returns which of the two sites node n is at.
func (gen *generator) site(n int32) int {
	if gen.nodes[n].Site == gen.nodes[gen.sites[1]].Key {
		return 1
	}
	return 0
}

func (gen *generator) pick(class string, site int) int32 {
	list := gen.bySite[class][site]
	return list[gen.rng.IntN(len(list))]
}

// pair adds a 1-of-2 redundancy group of two distinct same-site CIs.
func (gen *generator) pair(from int32, class, group string, site int) {
	list := gen.bySite[class][site]
	a := gen.rng.IntN(len(list))
	b := (a + 1 + gen.rng.IntN(len(list)-1)) % len(list)
	gen.add(&gen.essential, from, list[a], DependsOn, group, 1)
	gen.add(&gen.essential, from, list[b], DependsOn, group, 1)
}

func (gen *generator) infrastructure() {
	for i := range int(gen.net.n) {
		n := gen.net.at(i)
		gen.add(&gen.essential, n, gen.sites[gen.site(n)], HostedIn, "", 0)
		if i%10 == 0 {
			gen.add(&gen.optional, n, gen.supplier.at(i/10%int(gen.supplier.n)), ProvidedBy, "", 0)
		}
	}
	for _, l := range []layer{gen.storage, gen.backup} {
		for i := range int(l.n) {
			n := l.at(i)
			gen.add(&gen.essential, n, gen.sites[gen.site(n)], HostedIn, "", 0)
			if l == gen.storage {
				gen.pair(n, "network", "net", gen.site(n))
			}
		}
	}
	for i := range int(gen.server.n) {
		n := gen.server.at(i)
		s := gen.site(n)
		gen.add(&gen.essential, n, gen.sites[s], HostedIn, "", 0)
		gen.pair(n, "network", "net", s)
		gen.pair(n, "storage", "san", s)
	}
	for _, l := range []layer{gen.vm, gen.db, gen.mw} {
		host := "server"
		if l != gen.vm {
			host = "vm"
		}
		for i := range int(l.n) {
			n := l.at(i)
			gen.add(&gen.essential, n, gen.pick(host, gen.site(n)), RunsOn, "", 0)
		}
	}
	for i := range int(gen.vm.n) {
		n := gen.vm.at(i)
		if i%2 == 0 {
			gen.add(&gen.optional, n, gen.pick("backup_repository", gen.site(n)), BackedUpBy, "", 0)
		}
	}
	for i := range int(gen.db.n) {
		n := gen.db.at(i)
		gen.add(&gen.optional, n, gen.pick("backup_repository", gen.site(n)), BackedUpBy, "", 0)
		peer := gen.db.at(i/3*3 + (i+1)%3)
		if peer < gen.db.first+gen.db.n {
			gen.add(&gen.optional, n, peer, ReplicatesTo, "", 0)
		}
	}
}

// applications run on a cross-site host pair, mostly on a database
// cluster, sometimes on middleware without redundancy. Cycles go first
// among the optional edges so trimming to the relation count keeps them.
func (gen *generator) applications() {
	apps := int(gen.app.n)
	for c := range max(1, apps/500) {
		a, b := gen.app.at(2*c%apps), gen.app.at((2*c+1)%apps)
		gen.add(&gen.optional, a, b, DependsOn, "", 0)
		gen.add(&gen.optional, b, a, DependsOn, "", 0)
	}
	clusters := int(gen.db.n) / 3
	for i := range apps {
		a := gen.app.at(i)
		gen.add(&gen.essential, a, gen.pick("vm", 0), RunsOn, "hosts", 1)
		gen.add(&gen.essential, a, gen.pick("vm", 1), RunsOn, "hosts", 1)
		if gen.rng.IntN(10) < 7 {
			// One cluster in four needs a quorum, which it loses with the
			// site holding two of its three members; the rest fail over.
			c := gen.rng.IntN(clusters)
			quorum := 1
			if c%4 == 0 {
				quorum = 2
			}
			for m := range 3 {
				gen.add(&gen.essential, a, gen.db.at(3*c+m), DependsOn, "db", quorum)
			}
		}
		if gen.rng.IntN(2) == 0 {
			gen.add(&gen.essential, a, gen.pick("middleware", 0), DependsOn, "mw", 1)
			gen.add(&gen.essential, a, gen.pick("middleware", 1), DependsOn, "mw", 1)
		} else if gen.rng.IntN(4) == 0 {
			gen.add(&gen.optional, a, gen.mw.at(gen.rng.IntN(int(gen.mw.n))), DependsOn, "", 0)
		}
		if i%50 == 0 {
			gen.add(&gen.optional, a, gen.supplier.at(gen.rng.IntN(int(gen.supplier.n))), ProvidedBy, "", 0)
		}
	}
}

// tierOf splits applications into thirds: back ends (0), middle tier (1),
// front ends (2). Dependencies point to lower tiers, so apart from the
// deliberate cycles the application layer is acyclic.
func (gen *generator) tierOf(i int) int { return i * 3 / int(gen.app.n) }

func (gen *generator) appInTiersBelow(t int) int32 {
	limit := max(int(gen.app.n)*t/3, 1)
	return gen.app.at(gen.rng.IntN(limit))
}

func (gen *generator) businessServices() {
	apps := int(gen.app.n)
	front := apps * 2 / 3
	for i := range int(gen.svc.n) {
		s := gen.svc.at(i)
		frontApp := func() int32 { return gen.app.at(front + gen.rng.IntN(apps-front)) }
		if gen.rng.IntN(10) < 3 {
			a := frontApp()
			b := a
			for b == a && apps-front > 1 {
				b = frontApp()
			}
			gen.add(&gen.essential, s, a, DependsOn, "frontends", 1)
			gen.add(&gen.essential, s, b, DependsOn, "frontends", 1)
		}
		for range 2 + gen.rng.IntN(3) {
			gen.add(&gen.essential, s, frontApp(), DependsOn, "", 0)
		}
		if i > 0 && gen.rng.IntN(20) == 0 {
			gen.add(&gen.essential, s, gen.svc.at(gen.rng.IntN(i)), DependsOn, "", 0)
		}
	}
}

// fill adds application-to-lower-tier dependencies until the optional
// edges can cover want, giving up after a bounded number of attempts when
// the layers cannot hold that many distinct relations. Two in three are
// calls to a load-balanced pair (a 1-of-2 group), the rest plain.
func (gen *generator) fill(want int) {
	apps := int(gen.app.n)
	for tries := 0; len(gen.optional) < want && tries < 4*want; tries++ {
		i := apps/3 + gen.rng.IntN(apps-apps/3)
		a, t := gen.app.at(i), gen.tierOf(i)
		if gen.rng.IntN(3) == 0 || len(gen.optional)+1 == want {
			gen.add(&gen.optional, a, gen.appInTiersBelow(t), DependsOn, "", 0)
			continue
		}
		group := fmt.Sprintf("calls-%d", tries)
		gen.add(&gen.optional, a, gen.appInTiersBelow(t), DependsOn, group, 1)
		gen.add(&gen.optional, a, gen.appInTiersBelow(t), DependsOn, group, 1)
	}
}
