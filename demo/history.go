package demo

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/bcdr/bcdr/orchestrator/itsm"
)

// historyDays is how far back the generated records go.
const historyDays = 730

// weighted picks one of values with the given weights.
func weighted[T any](rng *rand.Rand, values []T, weights []int) T {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := rng.IntN(total)
	for i, w := range weights {
		if n < w {
			return values[i]
		}
		n -= w
	}
	return values[len(values)-1]
}

var (
	causes       = []string{"software", "hardware", "network", "human_error", "supplier", "power", "cyber_attack", "ransomware", "fire", "natural_disaster", "other"}
	causeWeights = []int{35, 15, 15, 12, 10, 4, 4, 1, 1, 1, 2}
	priorities   = []string{"P1", "P2", "P3", "P4"}
	// Higher tiers see fewer severe incidents: they are better protected.
	priorityWeights = []int{3, 12, 45, 40}
	// outageHours bounds how long an incident of each priority lasts.
	// Lower priorities are degradations that end sooner, not long outages.
	outageHours = map[string][2]float64{"P1": {1, 6}, "P2": {1, 6}, "P3": {0.5, 4}, "P4": {0.25, 2}}
	causeTitles = map[string]string{
		"software": "应用故障 application error", "hardware": "硬件故障 hardware fault", "network": "网络中断 network outage",
		"human_error": "误操作 operator error", "supplier": "供应商服务中断 supplier outage", "power": "供电异常 power failure",
		"cyber_attack": "网络攻击 cyber attack", "ransomware": "勒索软件 ransomware", "fire": "机房火情 fire alarm",
		"natural_disaster": "自然灾害 natural disaster", "other": "其他 other",
	}
)

// history generates two years of incidents, problems, changes and releases.
// The day of now anchors it, so a seed on the same day repeats exactly.
type history struct {
	rng   *rand.Rand
	start time.Time
	end   time.Time
}

func newHistory(now time.Time) *history {
	end := now.UTC().Truncate(24 * time.Hour)
	return &history{rng: rand.New(rand.NewPCG(20261121, 0x74617862)), start: end.AddDate(0, 0, -historyDays), end: end}
}

// at returns a random minute in the history window.
func (h *history) at() time.Time {
	return h.start.Add(time.Duration(h.rng.IntN(historyDays*24*60)) * time.Minute)
}

func (h *history) hoursBetween(lo, hi float64) time.Duration {
	return time.Duration((lo + h.rng.Float64()*(hi-lo)) * float64(time.Hour)).Truncate(time.Minute)
}

// incidents gives each service incidents in proportion to its size, plus a
// few site-wide events; one flood at the primary site invoked the plan.
func (h *history) incidents(stacks map[string][]string, keys []string) []itsm.IncidentInput {
	var out []itsm.IncidentInput
	add := func(title, cause, prio string, major bool, cis, svcs []string, opened time.Time, outage time.Duration, invoked bool) {
		restored := opened.Add(outage)
		closed := restored.Add(h.hoursBetween(1, 48))
		in := itsm.IncidentInput{ExternalID: fmt.Sprintf("INC%07d", len(out)+1), Title: title, Priority: prio, Major: major,
			Cause: cause, AffectedCIs: cis, AffectedServices: svcs, OpenedAt: opened, ContinuityInvoked: invoked}
		if restored.Before(h.end) {
			in.RestoredAt = &restored
		}
		if closed.Before(h.end) {
			in.ClosedAt = &closed
		}
		out = append(out, in)
	}
	for _, svc := range keys {
		stack := stacks[svc]
		for range len(stack) {
			cause := weighted(h.rng, causes, causeWeights)
			prio := weighted(h.rng, priorities, priorityWeights)
			ci := stack[h.rng.IntN(len(stack))]
			span := outageHours[prio]
			add(causeTitles[cause]+": "+ci, cause, prio, prio == "P1", []string{ci}, []string{svc}, h.at(), h.hoursBetween(span[0], span[1]), false)
		}
	}
	flood := h.end.AddDate(0, -8, -3).Add(2 * time.Hour)
	add("主数据中心进水，启动灾备切换 Flooding at the primary data centre, DR invoked", "natural_disaster", "P1", true,
		[]string{"dc-main"}, keys[:min(len(keys), 12)], flood, 9*time.Hour, true)
	add("主数据中心市电中断 Utility power lost at the primary data centre", "power", "P1", true,
		[]string{"dc-main"}, keys[:min(len(keys), 6)], h.end.AddDate(-1, -2, 0).Add(14*time.Hour), 2*time.Hour, false)
	add("核心交换机故障 Core switch failure", "hardware", "P2", true,
		[]string{"core-sw-dc-main-1"}, nil, h.end.AddDate(0, -3, -10).Add(9*time.Hour), 40*time.Minute, false)
	return out
}

var problemTitles = []struct{ title, cause, workaround string }{
	{"数据库连接池耗尽 Database connection pool exhaustion", "Pool too small for month-end filing peak", "Restart the application nodes one at a time"},
	{"证书过期导致接口失败 Expired interface certificate", "Certificate renewal not tracked", "Install the renewed certificate by hand"},
	{"存储多路径切换缓慢 Slow SAN multipath failover", "Driver timeout too long", "Fail paths over manually"},
	{"批处理作业重叠 Overlapping batch jobs", "Schedules not coordinated across services", "Run the jobs in sequence"},
	{"备份窗口超时 Backup window overrun", "Backup volume grew faster than bandwidth", "Split the backup into two jobs"},
}

// problems records the root causes behind the recurring incidents.
func (h *history) problems() []itsm.ProblemInput {
	var out []itsm.ProblemInput
	for i := range 40 {
		p := problemTitles[i%len(problemTitles)]
		opened := h.at()
		in := itsm.ProblemInput{ExternalID: fmt.Sprintf("PRB%05d", i+1), Title: p.title, RootCause: p.cause,
			KnownError: i%3 == 0, Workaround: p.workaround, OpenedAt: opened}
		if resolved := opened.Add(h.hoursBetween(24, 24*60)); resolved.Before(h.end) && i%4 != 0 {
			in.ResolvedAt = &resolved
			in.Status = "resolved"
		}
		out = append(out, in)
	}
	return out
}

// changes are mostly standard and implemented; a few are emergencies and a
// few fail or are rolled back.
func (h *history) changes(stacks map[string][]string, keys []string) []itsm.ChangeInput {
	var out []itsm.ChangeInput
	for i := range len(keys) * 25 {
		svc := keys[h.rng.IntN(len(keys))]
		stack := stacks[svc]
		typ := weighted(h.rng, []string{"standard", "normal", "emergency"}, []int{60, 35, 5})
		status := weighted(h.rng, []string{"implemented", "failed", "rolled_back", "approved", "requested"}, []int{88, 3, 3, 3, 3})
		risk := map[string]string{"standard": "low", "normal": "medium", "emergency": "high"}[typ]
		start := h.at()
		end := start.Add(h.hoursBetween(0.5, 4))
		in := itsm.ChangeInput{ExternalID: fmt.Sprintf("CHG%06d", i+1), Title: fmt.Sprintf("%s change to %s", typ, stack[0]),
			Type: typ, Risk: risk, Major: typ != "standard" && h.rng.IntN(10) == 0, Status: status,
			AffectedCIs: []string{stack[h.rng.IntN(len(stack))]}, PlannedStart: &start, PlannedEnd: &end}
		if status != "requested" && status != "approved" && end.Before(h.end) {
			in.ActualStart, in.ActualEnd = &start, &end
		} else if status != "requested" && status != "approved" {
			in.Status = "approved"
		}
		out = append(out, in)
	}
	return out
}

// releases ship each service's application a few times a year.
func (h *history) releases(stacks map[string][]string, keys []string) []itsm.ReleaseInput {
	var out []itsm.ReleaseInput
	for _, svc := range keys {
		for v := 1; v <= 6; v++ {
			at := h.start.Add(time.Duration(v) * historyDays / 7 * 24 * time.Hour).Add(time.Duration(h.rng.IntN(72)) * time.Hour)
			out = append(out, itsm.ReleaseInput{ExternalID: fmt.Sprintf("REL-%s-%d", svc, v), Version: fmt.Sprintf("%d.%d", 2+v/4, v%4),
				Title: svc + " release " + fmt.Sprint(v), Status: "deployed", AffectedCIs: []string{svc + "-app"}, DeployedAt: &at})
		}
	}
	return out
}
