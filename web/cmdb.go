package web

import (
	"cmp"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/impact"
	"github.com/bcdr/bcdr/report"
)

// cmdbPages are the CMDB browser (its CIs, one CI with its relations and
// the services that need it, the graph's cycles and anomalies) and the
// dependency view of a service. Records readers read them, as in the API.
func (u *UI) cmdbPages() []page {
	return []page{
		{"GET /cmdb", orchestrator.RecordReaders, u.cmdbList, "cmdb"},
		{"GET /cmdb/cycles", orchestrator.RecordReaders, u.cmdbCycles, ""},
		{"GET /cmdb/{key}", orchestrator.RecordReaders, u.cmdbCI, ""},
		{"GET /services/{key}/dependencies", orchestrator.RecordReaders, u.dependencies, ""},
	}
}

// cmdbPageSize is how many CIs the list shows a page.
const cmdbPageSize = 50

// cmdbMaxQuery bounds the search text, as a person would type it.
const cmdbMaxQuery = 200

// cmdbView is the list page's data: the filters as given and a page of CIs.
type cmdbView struct {
	Class, Status, Site, Query string
	Classes, Statuses          []string
	Items                      []cmdb.CI
	Next                       string
}

// cmdbList lists the CIs in key order, filtered by class, status, site and
// a search of key or name, a page at a time.
func (u *UI) cmdbList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := cmdbView{Class: strings.TrimSpace(q.Get("class")), Status: q.Get("status"), Site: strings.TrimSpace(q.Get("site")),
		Query: strings.TrimSpace(q.Get("q")), Classes: cmdb.Classes, Statuses: cmdb.Statuses}
	var check orchestrator.Validation
	for field, s := range map[string]string{"class": v.Class, "site": v.Site, "q": v.Query} {
		if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) || len(s) > cmdbMaxQuery {
			check.Add(field, "must be text of at most %d bytes, without control characters", cmdbMaxQuery)
		}
	}
	if v.Status != "" && !slices.Contains(cmdb.Statuses, v.Status) {
		check.Add("status", "must be one of %s", strings.Join(cmdb.Statuses, ", "))
	}
	page := orchestrator.Page{Limit: cmdbPageSize}
	if a := q.Get("after"); a != "" {
		var err error
		if page.After, err = orchestrator.DecodeCursor(a); err != nil {
			u.fail(w, r, err)
			return
		}
	}
	if err := check.Err(); err != nil {
		u.fail(w, r, err)
		return
	}
	l, err := u.svc.CMDB.ListCIs(r.Context(), cmdb.CIFilter{Class: v.Class, Status: v.Status, Site: v.Site, Query: v.Query}, page)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	v.Items = l.Items
	if l.Next != "" {
		next := url.Values{"after": {l.Next}}
		for k, s := range map[string]string{"class": v.Class, "status": v.Status, "site": v.Site, "q": v.Query} {
			if s != "" {
				next.Set(k, s)
			}
		}
		v.Next = "/cmdb?" + next.Encode()
	}
	u.render(w, r, http.StatusOK, "cmdb", v)
}

// ciView is a CI's page: its fields, its relations out (what it needs
// or is backed up by) and in, and the business services that need it.
type ciView struct {
	CI       cmdb.CI
	Out, In  []cmdb.Relation
	Services []string
	// Attributes are the CI's own attributes, in key order.
	Attributes []ciAttribute
	// IsService: the CI is a business service, with a dependency view.
	IsService bool
}

// ciAttribute is one attribute of a CI as the page shows it.
type ciAttribute struct{ Key, Value string }

// cmdbCI shows one CI.
func (u *UI) cmdbCI(w http.ResponseWriter, r *http.Request) {
	ctx, key := r.Context(), r.PathValue("key")
	ci, err := u.svc.CMDB.GetCI(ctx, key)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	v := ciView{CI: ci, IsService: ci.Class == cmdb.ClassBusinessService}
	err = u.svc.CMDB.EachRelation(ctx, cmdb.RelationFilter{CI: key}, func(rel cmdb.Relation) error {
		if rel.From == key {
			v.Out = append(v.Out, rel)
		} else {
			v.In = append(v.In, rel)
		}
		return nil
	})
	if err != nil {
		u.fail(w, r, err)
		return
	}
	dependents, err := u.svc.Impact.Dependents(ctx, key)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	v.Services = dependents.Services
	for k, a := range ci.Attributes {
		v.Attributes = append(v.Attributes, ciAttribute{Key: k, Value: attributeText(a)})
	}
	slices.SortFunc(v.Attributes, func(a, b ciAttribute) int { return cmp.Compare(a.Key, b.Key) })
	u.render(w, r, http.StatusOK, "cmdb_ci", v)
}

// attributeText writes an attribute's value as text.
func attributeText(a any) string {
	switch x := a.(type) {
	case string:
		return x
	case nil:
		return "—"
	}
	b, err := json.Marshal(a)
	if err != nil {
		return "—"
	}
	return string(b)
}

// cyclesView is the cycles page's data: the dependency cycles of the
// graph and what loading it had to repair.
type cyclesView struct {
	Cycles    []cycleRow
	Anomalies []impact.Anomaly
	Version   int64
}

// cycleRow is a cycle, numbered from 1.
type cycleRow struct {
	N    int
	Keys []string
}

// cmdbCycles lists the graph's dependency cycles and anomalies.
func (u *UI) cmdbCycles(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	cycles, err := u.svc.Impact.Cycles(ctx)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	snap, err := u.svc.Impact.Graphs().Current(ctx)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	v := cyclesView{Anomalies: snap.Anomalies, Version: snap.Version}
	for i, c := range cycles {
		v.Cycles = append(v.Cycles, cycleRow{N: i + 1, Keys: c})
	}
	u.render(w, r, http.StatusOK, "cmdb_cycles", v)
}

// dependenciesView is a service's dependency view: the chart and the same
// CIs as a list.
type dependenciesView struct {
	report.DependencyView
	Chart template.HTML
	// Count is how many CIs the service needs; Capped says the chart
	// draws only the first Cap of them.
	Count, Cap int
	Capped     bool
}

// dependencies draws the dependency closure of a business service with
// the reports' renderer, and lists the same CIs.
func (u *UI) dependencies(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	d, err := u.svc.Report.Dependencies(r.Context(), key)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	lang := language(r)
	title := words(lang)("deps_title") + " " + key
	u.render(w, r, http.StatusOK, "dependencies", dependenciesView{DependencyView: d, Count: len(d.Nodes) - 1, Cap: report.MaxChartNodes - 1,
		Capped: len(d.Nodes) > report.MaxChartNodes, Chart: report.DependencyChart(d, title, lang)})
}

// cmdbWords are the words of the CMDB browser and dependency view, in the
// source documents' terms (配置管理数据库, 配置项, 依赖, 依赖环).
var cmdbWords = map[string]map[string]string{
	langEN: {
		"cmdb": "CMDB", "cmdb_title": "Configuration items", "cmdb_help": "Every configuration item (CI) in the CMDB, in key order.",
		"cmdb_class": "Class", "cmdb_any": "Any", "cmdb_site": "Site", "cmdb_search": "Key or name contains", "cmdb_name": "Name",
		"cmdb_owner": "Owner", "cmdb_env": "Environment", "cmdb_more": "More CIs", "cmdb_none": "No CI matches.",
		"cmdb_cycles_link": "Dependency cycles and anomalies", "cmdb_status_planned": "planned", "cmdb_status_operational": "operational",
		"cmdb_status_maintenance": "in maintenance", "cmdb_status_retired": "retired", "cmdb_data_bearing": "Holds data",
		"cmdb_strategy": "Recovery strategy", "cmdb_estimate": "Recovery estimate", "cmdb_source": "Source", "cmdb_external": "External id",
		"cmdb_updated": "Updated", "cmdb_attributes": "Attributes", "cmdb_out": "What it needs, and its recovery relations",
		"cmdb_in": "What refers to it", "cmdb_relation": "Relation", "cmdb_ci": "Configuration item", "cmdb_group": "Redundancy group",
		"cmdb_min_up": "at least %d up", "cmdb_no_out": "It needs nothing.", "cmdb_no_in": "Nothing refers to it.",
		"cmdb_services": "Business services that need it", "cmdb_no_services": "No business service needs it.",
		"cmdb_dep_view": "Dependency view", "cmdb_yes": "yes", "cmdb_no": "no", "cmdb_back": "Back to the CMDB",
		"rel_depends_on": "depends on", "rel_runs_on": "runs on", "rel_hosted_in": "is hosted in", "rel_provided_by": "is provided by",
		"rel_backed_up_by": "is backed up by", "rel_replicates_to": "replicates to", "rel_fails_over_to": "fails over to",
		"cmdb_cycles_title": "Dependency cycles and anomalies",
		"cmdb_cycles_help":  "A cycle is a set of CIs that need one another along relations that carry failure. What-if and the recovery order handle it, but it is usually a modelling mistake worth a look.",
		"cmdb_cycle":        "Cycle", "cmdb_members": "CIs in the cycle", "cmdb_no_cycles": "No dependency cycle.", "cmdb_anomalies": "Anomalies",
		"cmdb_anomalies_help": "What loading the CMDB graph had to repair: relations to unknown CIs, of unknown types or to the CI itself, and redundancy groups whose members disagree.",
		"cmdb_no_anomalies":   "No anomaly: the graph loaded as recorded.", "cmdb_problem": "Problem", "cmdb_graph_version": "Graph version",
		"deps_title":  "Dependencies of",
		"deps_help":   "Everything the service needs, directly or through other CIs: each CI in the column of its distance from the service, with an arrow to each CI it needs; red dashed boxes and arrows form a dependency cycle. The table under the chart lists the same CIs.",
		"deps_capped": "The chart draws the first %d CIs; the table lists all %d.", "deps_count": "CIs it needs",
		"deps_depth": "Depth", "deps_via": "Reached through", "deps_cycles": "Dependency cycles among them", "deps_in_cycle": "in a cycle",
		"deps_list": "The same CIs as a list", "deps_none": "The CMDB records nothing the service depends on.",
	},
	langZH: {
		"cmdb": "配置管理数据库", "cmdb_title": "配置项", "cmdb_help": "配置管理数据库（CMDB）中的全部配置项，按标识排序。",
		"cmdb_class": "类别", "cmdb_any": "不限", "cmdb_site": "站点", "cmdb_search": "标识或名称包含", "cmdb_name": "名称",
		"cmdb_owner": "负责人", "cmdb_env": "环境", "cmdb_more": "更多配置项", "cmdb_none": "没有符合条件的配置项。",
		"cmdb_cycles_link": "依赖环与异常", "cmdb_status_planned": "计划中", "cmdb_status_operational": "运行中",
		"cmdb_status_maintenance": "维护中", "cmdb_status_retired": "已退役", "cmdb_data_bearing": "承载数据",
		"cmdb_strategy": "恢复策略", "cmdb_estimate": "预计恢复时间", "cmdb_source": "来源", "cmdb_external": "外部标识",
		"cmdb_updated": "更新时间", "cmdb_attributes": "属性", "cmdb_out": "它的依赖及恢复关系",
		"cmdb_in": "引用它的配置项", "cmdb_relation": "关系", "cmdb_ci": "配置项", "cmdb_group": "冗余组",
		"cmdb_min_up": "至少 %d 个可用", "cmdb_no_out": "它不依赖其他配置项。", "cmdb_no_in": "没有配置项引用它。",
		"cmdb_services": "依赖它的业务服务", "cmdb_no_services": "没有业务服务依赖它。",
		"cmdb_dep_view": "依赖关系视图", "cmdb_yes": "是", "cmdb_no": "否", "cmdb_back": "返回配置管理数据库",
		"rel_depends_on": "依赖于", "rel_runs_on": "运行于", "rel_hosted_in": "托管于", "rel_provided_by": "由其提供",
		"rel_backed_up_by": "备份至", "rel_replicates_to": "复制到", "rel_fails_over_to": "切换到",
		"cmdb_cycles_title": "依赖环与异常",
		"cmdb_cycles_help":  "依赖环是沿传递故障的关系相互依赖的一组配置项。情景模拟和恢复顺序能够处理依赖环，但它通常是建模错误，值得检查。",
		"cmdb_cycle":        "依赖环", "cmdb_members": "环中的配置项", "cmdb_no_cycles": "没有依赖环。", "cmdb_anomalies": "异常",
		"cmdb_anomalies_help": "加载配置管理数据库依赖图时修复的问题：指向未知配置项、类型未知或指向自身的关系，以及成员设置不一致的冗余组。",
		"cmdb_no_anomalies":   "没有异常：依赖图按记录加载。", "cmdb_problem": "问题", "cmdb_graph_version": "依赖图版本",
		"deps_title":  "服务依赖关系：",
		"deps_help":   "该服务直接或间接依赖的全部配置项：每个配置项按与服务的距离排列成列，箭头指向其所依赖的配置项；红色虚线框和箭头构成依赖环。图下的表格列出相同的配置项。",
		"deps_capped": "图中画出前 %d 个配置项；表格列出全部 %d 个。", "deps_count": "依赖的配置项",
		"deps_depth": "层级", "deps_via": "经由", "deps_cycles": "其中的依赖环", "deps_in_cycle": "处于依赖环中",
		"deps_list": "配置项列表", "deps_none": "配置管理数据库中没有记录该服务的依赖。",
	},
}
