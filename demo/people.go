package demo

import (
	"fmt"
	"slices"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/directory"
)

// person is one of the bureau's staff or a supplier's contact.
type person struct {
	key, name, role, org, deputy string
}

// people are the bureau's staff, then the suppliers' account managers.
var people = []person{
	{"zhang.wei", "张伟 Zhang Wei", "Deputy Director, overall recovery commander", "IT Centre", "liu.yang"},
	{"liu.yang", "刘洋 Liu Yang", "Head of infrastructure", "IT Centre", "he.jun"},
	{"he.jun", "何军 He Jun", "Infrastructure engineer", "IT Centre", "liu.yang"},
	{"li.na", "李娜 Li Na", "Head of e-services", "e-Services Division", "ma.chao"},
	{"ma.chao", "马超 Ma Chao", "e-services engineer", "e-Services Division", "li.na"},
	{"wang.fang", "王芳 Wang Fang", "Head of levy systems", "Levy Division", "xu.jing"},
	{"xu.jing", "徐静 Xu Jing", "Levy systems engineer", "Levy Division", "wang.fang"},
	{"zhao.lei", "赵磊 Zhao Lei", "Head of payments", "Finance Division", "gao.yan"},
	{"gao.yan", "高燕 Gao Yan", "Payments analyst", "Finance Division", "zhao.lei"},
	{"chen.jie", "陈杰 Chen Jie", "Head of data and analytics", "Data Division", "lin.tao"},
	{"lin.tao", "林涛 Lin Tao", "Data engineer", "Data Division", "chen.jie"},
	{"huang.min", "黄敏 Huang Min", "Head of audit systems", "Audit Division", "chen.jie"},
	{"sun.li", "孙丽 Sun Li", "Head of taxpayer services", "Taxpayer Service Division", "guo.hua"},
	{"guo.hua", "郭华 Guo Hua", "Service desk lead", "Taxpayer Service Division", "sun.li"},
	{"zhou.qiang", "周强 Zhou Qiang", "Head of office systems", "General Office", "wu.hong"},
	{"wu.hong", "吴红 Wu Hong", "Business continuity manager, management representative", "General Office", "zhang.wei"},
	{"qian.bo", "钱波 Qian Bo", "Security officer", "IT Centre", "liu.yang"},
	{"acct.telecom", "China Telecom account manager", "Supplier account manager", "China Telecom", ""},
	{"acct.unicom", "China Unicom account manager", "Supplier account manager", "China Unicom", ""},
	{"acct.zjca", "ZJCA support desk", "Supplier support", "Zhejiang CA", ""},
	{"acct.icbc", "ICBC corporate banking", "Supplier account manager", "ICBC", ""},
	{"acct.cloudco", "CloudCo support", "Supplier support", "CloudCo", ""},
	{"acct.hw", "Hardware vendor support", "Supplier support", "ServerWorks", ""},
}

// input is the person as a contact. Each has their own extension, from
// their place in people.
func (p person) input() directory.ContactInput {
	ext := 1001 + slices.IndexFunc(people, func(q person) bool { return q.key == p.key })
	in := directory.ContactInput{Key: p.key, Name: p.name, Role: p.role, Organisation: p.org,
		Phone: fmt.Sprintf("+86 571 8800 %04d", ext), Email: p.key + "@tax.example.cn", Chat: "@" + p.key}
	if p.deputy != "" {
		in.Deputies = []string{p.deputy}
	}
	return in
}

// callTree escalates from the service owner to the owner's deputy (with
// the service desk lead), then to the infrastructure lead and the
// continuity manager, and finally to the recovery commander. Each person
// is called at the first level they belong to only, so a tree owned by,
// say, the continuity manager skips the levels left empty.
func callTree(d serviceDef, key string) directory.CallTreeInput {
	steps := []struct {
		contacts []string
		wait     orchestrator.Duration
	}{
		{[]string{d.owner}, hours(0.25)},
		{[]string{deputyOf(d.owner), "guo.hua"}, hours(0.25)},
		{[]string{"liu.yang", "wu.hong"}, hours(0.5)},
		{[]string{"zhang.wei"}, 0},
	}
	called := map[string]bool{"": true}
	var levels []directory.Level
	for _, st := range steps {
		var contacts []string
		for _, c := range st.contacts {
			if !called[c] {
				called[c] = true
				contacts = append(contacts, c)
			}
		}
		if len(contacts) > 0 {
			levels = append(levels, directory.Level{Level: len(levels) + 1, Contacts: contacts, Wait: st.wait})
		}
	}
	levels[len(levels)-1].Wait = 0 // nobody to escalate to
	return directory.CallTreeInput{Key: "ct-" + key, Name: d.en + " call tree", Service: key, Levels: levels}
}

// deputyOf is the key of a person's deputy, "" when they have none.
func deputyOf(key string) string {
	for _, p := range people {
		if p.key == key {
			return p.deputy
		}
	}
	return ""
}

// supplierDef is a supplier and what the bureau buys from it.
type supplierDef struct {
	key, name, contact string
	rto, rpo           float64 // contracted hours; 0 = none
	support            string
}

var suppliers = []supplierDef{
	{"telecom", "中国电信 China Telecom", "acct.telecom", 4, 0, "24x7"},
	{"unicom", "中国联通 China Unicom", "acct.unicom", 4, 0, "24x7"},
	{"zjca", "浙江省数字安全证书管理中心 Zhejiang CA", "acct.zjca", 8, 24, "business_hours"},
	{"icbc", "中国工商银行 ICBC", "acct.icbc", 2, 0.25, "24x7"},
	{"unionpay", "中国银联 UnionPay", "acct.icbc", 2, 0.25, "24x7"},
	{"cmcc", "中国移动 China Mobile (SMS)", "acct.telecom", 4, 0, "24x7"},
	{"callco", "呼叫中心服务商 CallCo", "acct.telecom", 8, 24, "business_hours"},
	{"customs-it", "海关信息中心 Customs IT", "acct.zjca", 24, 24, "business_hours"},
	{"cloudco", "云服务商 CloudCo", "acct.cloudco", 12, 4, "24x7"},
	{"mapco", "地图服务商 MapCo", "acct.cloudco", 48, 48, "business_hours"},
	{"serverworks", "服务器维保 ServerWorks", "acct.hw", 8, 0, "24x7"},
	{"storagecare", "存储维保 StorageCare", "acct.hw", 6, 0, "24x7"},
	{"netcare", "网络维保 NetCare", "acct.hw", 4, 0, "24x7"},
	{"dbsupport", "数据库原厂支持 DB Support", "acct.hw", 4, 0, "24x7"},
	{"securityco", "安全服务商 SecurityCo", "acct.hw", 8, 0, "24x7"},
	{"printco", "票据打印服务 PrintCo", "acct.hw", 72, 0, "business_hours"},
	{"cleanpower", "UPS与供电维保 CleanPower", "acct.hw", 4, 0, "24x7"},
	{"offsite", "异地介质存储 Offsite Vault", "acct.hw", 24, 24, "business_hours"},
	{"softco", "应用开发商 SoftCo", "acct.cloudco", 24, 0, "business_hours"},
	{"consultco", "咨询服务 ConsultCo", "acct.cloudco", 0, 0, "business_hours"},
}

// supplierInput gives each supplier a current contract and, for the
// cloud provider, one ending soon so the expiry warning shows.
func (s supplierDef) input(now time.Time) directory.SupplierInput {
	start := directory.DateOf(time.Date(now.Year()-1, 1, 1, 0, 0, 0, 0, time.UTC))
	end := directory.DateOf(time.Date(now.Year()+1, 12, 31, 0, 0, 0, 0, time.UTC))
	if s.key == "cloudco" {
		end = directory.DateOf(now.AddDate(0, 0, 45))
	}
	c := directory.Contract{Reference: "BUREAU-" + s.key + "-" + fmt.Sprint(now.Year()-1), Start: start, End: end, SupportHours: s.support}
	if s.rto > 0 {
		rto := hours(s.rto)
		c.RTO = &rto
	}
	if s.rpo > 0 {
		rpo := hours(s.rpo)
		c.RPO = &rpo
	}
	in := directory.SupplierInput{Key: s.key, Name: s.name, Contacts: []string{s.contact}, Contracts: []directory.Contract{c}}
	for _, ss := range supplierServices {
		if ss.supplier == s.key {
			in.Services = append(in.Services, ss.key)
		}
	}
	return in
}

// sla sets availability by tier; tier 0 is measured round the clock.
func sla(d serviceDef, key string, now time.Time) directory.SLAInput {
	target := []float64{99.95, 99.9, 99.5, 99.0, 98.0}[d.tier]
	measured := "business_hours"
	if d.tier == 0 {
		measured = "24x7"
	}
	resp := func(r, res float64) directory.Target {
		return directory.Target{Response: hours(r), Resolution: hours(res)}
	}
	return directory.SLAInput{Service: key, Name: d.en + " SLA", Period: "month", AvailabilityTarget: target, MeasuredIn: measured,
		Targets:   map[string]directory.Target{"P1": resp(0.25, 4), "P2": resp(0.5, 8), "P3": resp(4, 24), "P4": resp(8, 72)},
		ValidFrom: directory.DateOf(time.Date(now.Year()-2, 1, 1, 0, 0, 0, 0, time.UTC))}
}
