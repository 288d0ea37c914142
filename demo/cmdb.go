package demo

import (
	"fmt"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
)

// cmdbBuilder accumulates CIs and relations.
type cmdbBuilder struct {
	cis       []cmdb.CIInput
	relations []cmdb.RelationInput
	// stacks lists, per business service, the CIs built for it.
	stacks map[string][]string
	// current is the service whose stack is being built.
	current string
}

func (b *cmdbBuilder) ci(key, name, class, site, owner string, strategy string, estimate orchestrator.Duration, dataBearing bool) {
	if b.current != "" {
		b.stacks[b.current] = append(b.stacks[b.current], key)
	}
	b.cis = append(b.cis, cmdb.CIInput{Key: key, Name: name, Class: class, Site: site, Owner: owner, Environment: "production",
		RecoveryStrategy: strategy, RecoveryEstimate: estimate, DataBearing: dataBearing})
}

func (b *cmdbBuilder) rel(from, typ, to string) {
	b.relations = append(b.relations, cmdb.RelationInput{From: from, Type: typ, To: to})
}

// standby records that from fails over (fails_over_to) or replicates its
// data (replicates_to) to to, with the switch's estimate and activation
// and, for data, the replication mode and lag.
func (b *cmdbBuilder) standby(from, typ, to string, estimate orchestrator.Duration, activation, replication string, lag *orchestrator.Duration) {
	b.relations = append(b.relations, cmdb.RelationInput{From: from, Type: typ, To: to, FailoverEstimate: &estimate,
		Activation: activation, Replication: replication, Lag: lag})
}

func minutes(m float64) orchestrator.Duration { return orchestrator.Duration(m * 60e9) }

func (b *cmdbBuilder) group(from, typ, group string, minUp int, to ...string) {
	for _, t := range to {
		b.relations = append(b.relations, cmdb.RelationInput{From: from, Type: typ, To: t, Group: group, MinUp: minUp})
	}
}

func hours(h float64) orchestrator.Duration { return orchestrator.Duration(h * 3600e9) }

// hostsPerSite sizes the virtualisation clusters.
const hostsPerSite = 24

// infrastructure builds each site's network, storage, hosts and backup.
func (b *cmdbBuilder) infrastructure(scale int) {
	for _, s := range sites {
		site := s.key
		b.ci(site, s.zh+" "+s.en+" ("+s.city+")", "site", site, "liu.yang", "manual", hours(72), false)
		pair := func(prefix, zh, class, strategy string, est float64) []string {
			keys := []string{prefix + "-" + site + "-1", prefix + "-" + site + "-2"}
			for i, k := range keys {
				b.ci(k, fmt.Sprintf("%s %d (%s)", zh, i+1, site), class, site, "liu.yang", strategy, hours(est), false)
				b.rel(k, "hosted_in", site)
			}
			return keys
		}
		core := pair("core-sw", "核心交换机 Core switch", "network", "failover", 0.25)
		fw := pair("fw", "防火墙 Firewall", "network", "failover", 0.5)
		lb := pair("lb", "负载均衡 Load balancer", "network", "failover", 0.5)
		san := pair("san", "存储阵列 SAN array", "storage", "failover", 2)
		dns := pair("dns", "域名服务 DNS", "server", "rebuild", 1)
		for _, k := range append(append([]string{}, fw...), lb...) {
			b.group(k, "depends_on", "core", 1, core...)
		}
		for _, k := range dns {
			b.group(k, "depends_on", "core", 1, core...)
		}
		for i := 1; i <= hostsPerSite*scale; i++ {
			h := fmt.Sprintf("esx-%s-%02d", site, i)
			b.ci(h, fmt.Sprintf("虚拟化主机 Hypervisor host %02d", i), "server", site, "liu.yang", "rebuild", hours(4), false)
			b.rel(h, "hosted_in", site)
			b.group(h, "depends_on", "core", 1, core...)
			b.group(h, "depends_on", "san", 1, san...)
		}
		for _, sv := range []struct{ key, name string }{
			{"ad-" + site + "-1", "域控制器 Domain controller 1"}, {"ad-" + site + "-2", "域控制器 Domain controller 2"},
			{"ntp-" + site, "时钟服务 NTP"}, {"monitor-" + site, "监控平台 Monitoring"}, {"bastion-" + site, "堡垒机 Bastion host"},
			{"siem-" + site, "安全日志 SIEM"}, {"mailrelay-" + site, "邮件中继 Mail relay"},
		} {
			b.ci(sv.key, sv.name+" ("+site+")", "server", site, "liu.yang", "rebuild", hours(3), false)
			b.rel(sv.key, "runs_on", host(site, len(sv.key), 1))
		}
		repo := "backup-" + site
		b.ci(repo, "备份存储库 Backup repository ("+site+")", "backup_repository", site, "liu.yang", "rebuild", hours(8), true)
		b.rel(repo, "hosted_in", site)
		b.group(repo, "depends_on", "core", 1, core...)
	}
	for _, s := range supplierServices {
		b.ci(s.key, s.zh+" "+s.en, "supplier_service", "", s.supplier, "supplier", hours(4), false)
	}
}

// host picks a hypervisor host on site for the n-th VM.
func host(site string, n, scale int) string {
	return fmt.Sprintf("esx-%s-%02d", site, n%(hostsPerSite*scale)+1)
}

// service builds one business service and the stack under it: the
// application on a redundant VM group behind the load balancers, its
// database with a replica at the DR site, middleware for the busier tiers.
func (b *cmdbBuilder) service(d serviceDef, copyN, n, scale int) {
	key := serviceKey(d, copyN)
	b.current = key
	defer func() { b.current = "" }()
	main, dr := sites[0].key, sites[1].key
	b.ci(key, d.zh+" "+d.en, cmdb.ClassBusinessService, "", d.owner, "manual", 0, false)
	b.cis[len(b.cis)-1].Service = serviceDetails(d)
	app := key + "-app"
	b.ci(app, d.en+" application", "application", main, d.owner, "failover", hours(1+float64(d.tier)), false)
	b.rel(key, "depends_on", app)
	// Tier 0-1 keep a warm standby of the application stack at the DR
	// site; tier 0's switch is automatic (cluster manager and GSLB), tier
	// 1's a decision followed by a repoint.
	switchover := failoverProfiles[min(d.tier, 1)]

	nodes := []int{4, 3, 2, 2, 2}[d.tier]
	minUp := []int{2, 1, 1, 1, 1}[d.tier]
	var vms []string
	for i := 1; i <= nodes; i++ {
		vm := fmt.Sprintf("%s-vm%d", key, i)
		vms = append(vms, vm)
		b.ci(vm, fmt.Sprintf("%s node %d", d.en, i), "vm", main, d.owner, "rebuild", hours(2), false)
		b.rel(vm, "runs_on", host(main, n*7+i, scale))
	}
	b.group(app, "runs_on", "nodes", minUp, vms...)
	b.group(app, "depends_on", "lb", 1, "lb-"+main+"-1", "lb-"+main+"-2")

	if d.tier <= 3 {
		web := []string{key + "-web1", key + "-web2"}
		for i, w := range web {
			b.ci(w, fmt.Sprintf("%s web front %d", d.en, i+1), "vm", main, d.owner, "rebuild", hours(1), false)
			b.rel(w, "runs_on", host(main, n*5+i, scale))
			b.rel(w, "depends_on", app)
		}
		b.group(key, "depends_on", "web", 1, web...)
		if d.tier <= 1 {
			webDR := key + "-web-dr"
			b.ci(webDR, d.en+" web front (DR)", "vm", dr, d.owner, "failover", hours(0.5), false)
			b.rel(webDR, "runs_on", host(dr, n*5, scale))
			b.rel(webDR, "depends_on", app+"-dr")
			for _, w := range web {
				b.standby(w, "fails_over_to", webDR, switchover.web, switchover.activation, "", nil)
			}
		}
	}
	if d.tier <= 1 {
		standby := app + "-dr"
		b.ci(standby, d.en+" application (DR standby)", "application", dr, d.owner, "failover", hours(0.5), false)
		b.standby(app, "fails_over_to", standby, switchover.app, switchover.activation, "", nil)
		for i := 1; i <= 2; i++ {
			vm := fmt.Sprintf("%s-dr-vm%d", key, i)
			b.ci(vm, fmt.Sprintf("%s DR node %d", d.en, i), "vm", dr, d.owner, "rebuild", hours(2), false)
			b.rel(vm, "runs_on", host(dr, n*2+i, scale))
		}
		b.group(standby, "runs_on", "nodes", 1, key+"-dr-vm1", key+"-dr-vm2")
	}

	db := key + "-db"
	b.ci(db, d.en+" database", "database", main, d.owner, "restore", hours([]float64{1, 2, 4, 8, 12}[d.tier]), true)
	b.rel(app, "depends_on", db)
	dbHost := key + "-dbsrv"
	b.ci(dbHost, d.en+" database server", "server", main, d.owner, "rebuild", hours(6), false)
	b.rel(db, "runs_on", dbHost)
	b.group(dbHost, "depends_on", "san", 1, "san-"+main+"-1", "san-"+main+"-2")
	b.rel(db, "backed_up_by", "backup-"+main)
	vol := key + "-vol"
	b.ci(vol, d.en+" data volume", "storage", main, d.owner, "restore", hours(3), true)
	b.rel(db, "depends_on", vol)
	b.group(vol, "hosted_in", "san", 1, "san-"+main+"-1", "san-"+main+"-2")
	if d.tier <= 2 {
		replica := db + "-replica"
		b.ci(replica, d.en+" database replica", "database", dr, d.owner, "failover", hours(0.5), true)
		dbSwitch := failoverProfiles[min(d.tier, 2)]
		b.standby(db, "replicates_to", replica, dbSwitch.db, dbSwitch.activation, dbSwitch.replication, dbSwitch.lag)
		if d.tier <= 1 {
			b.rel(app+"-dr", "depends_on", replica)
		}
		b.rel(replica, "runs_on", host(dr, n, scale))
		replicaVol := replica + "-vol"
		b.ci(replicaVol, d.en+" replica data volume", "storage", dr, d.owner, "restore", hours(3), true)
		b.rel(replica, "depends_on", replicaVol)
		b.group(replicaVol, "hosted_in", "san", 1, "san-"+dr+"-1", "san-"+dr+"-2")
	}
	if d.tier <= 2 {
		batch := key + "-batch"
		b.ci(batch, d.en+" batch jobs", "vm", main, d.owner, "rebuild", hours(2), false)
		b.rel(batch, "runs_on", host(main, n*11, scale))
		b.rel(batch, "depends_on", db)
	}
	if d.tier <= 1 {
		api := key + "-api"
		b.ci(api, d.en+" API gateway", "middleware", main, d.owner, "failover", hours(0.5), false)
		b.rel(api, "depends_on", app)
		b.rel(key, "depends_on", api)
		apiDR := api + "-dr"
		b.ci(apiDR, d.en+" API gateway (DR)", "middleware", dr, d.owner, "failover", hours(0.5), false)
		b.rel(apiDR, "depends_on", app+"-dr")
		b.rel(apiDR, "runs_on", host(dr, n*3, scale))
		b.standby(api, "fails_over_to", apiDR, switchover.web, switchover.activation, "", nil)
		for _, mw := range []string{"mq", "cache"} {
			k := key + "-" + mw
			b.ci(k, d.en+" "+mw, "middleware", main, d.owner, "rebuild", hours(1), mw == "mq")
			b.rel(app, "depends_on", k)
			b.rel(k, "runs_on", host(main, n*3+len(mw), scale))
		}
	}
	if d.key != "identity" && d.tier <= 2 {
		b.rel(app, "depends_on", serviceKey(serviceDef{key: "identity"}, copyN))
	}
	b.group(app, "depends_on", "dns", 1, "dns-"+main+"-1", "dns-"+main+"-2")
	internet := false
	for _, s := range d.suppliers {
		switch {
		case s != "sup-isp-telecom" && s != "sup-isp-unicom":
			b.rel(key, "provided_by", s)
		case !internet:
			// The internet reaches the bureau over either line.
			b.group(key, "provided_by", "internet", 1, "sup-isp-telecom", "sup-isp-unicom")
			internet = true
		}
	}
}

// failoverProfile is how a tier's standbys take over.
type failoverProfile struct {
	app, web, db orchestrator.Duration
	activation   string
	replication  string
	lag          *orchestrator.Duration
}

// failoverProfiles, by tier (0, 1, 2): tier 0 replicates synchronously and
// switches automatically within minutes; tier 1 replicates asynchronously
// (5 minutes behind, inside its 15-minute RPO) and switches on a decision;
// tier 2 has a database replica only.
var failoverProfiles = []failoverProfile{
	{app: minutes(2), web: minutes(1), db: minutes(1), activation: "automatic", replication: "sync", lag: ptr(minutes(0))},
	{app: minutes(15), web: minutes(5), db: minutes(10), activation: "manual", replication: "async", lag: ptr(minutes(5))},
	{app: minutes(30), web: minutes(10), db: minutes(20), activation: "manual", replication: "async", lag: ptr(minutes(30))},
}

// buildCMDB builds the whole graph at the given scale.
func buildCMDB(scale int) *cmdbBuilder {
	b := &cmdbBuilder{stacks: map[string][]string{}}
	b.infrastructure(scale)
	for copyN := range scale {
		for i, d := range services {
			b.service(d, copyN, copyN*len(services)+i, scale)
		}
	}
	return b
}

// serviceDetails gives tier 0 services round-the-clock hours and the rest
// the bureau's office hours, with a Sunday-night maintenance window.
func serviceDetails(d serviceDef) *cmdb.ServiceDetails {
	hours := []cmdb.Window{{Days: []string{"mon", "tue", "wed", "thu", "fri"}, Start: "08:30", End: "17:30"}}
	if d.tier == 0 {
		hours = []cmdb.Window{{Days: cmdb.Weekdays, Start: "00:00", End: "24:00"}}
	}
	return &cmdb.ServiceDetails{
		Description:        d.en + " — " + d.zh,
		Timezone:           "Asia/Shanghai",
		BusinessHours:      hours,
		MaintenanceWindows: []cmdb.Window{{Days: []string{"sun"}, Start: "02:00", End: "04:00"}},
	}
}
