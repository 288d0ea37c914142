package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/impact"
)

// riskDef is one entry of the bureau's risk register.
type riskDef struct {
	title, threat         string
	cis, sites, suppliers []string
	l, i, rl, ri          int
	controls              []string
	treatment, owner      string
	// review is the review date in months from the current month; a
	// negative one is overdue.
	review int
}

// riskRegister is the bureau's register: site threats, cyber threats to
// the crown jewels, single points of failure in shared infrastructure and
// supplier dependencies.
var riskRegister = []riskDef{
	{"主数据中心长时间停电 Extended power loss at the primary data centre", "power", nil, []string{"dc-main"}, nil,
		2, 5, 1, 5, []string{"双路市电 dual utility feeds", "UPS 30 min", "柴油发电机 48h diesel generator"}, "mitigate", "liu.yang", 3},
	{"主数据中心火灾 Fire in the primary data centre", "fire", nil, []string{"dc-main"}, nil,
		1, 5, 1, 4, []string{"气体灭火 gas suppression", "极早期烟雾探测 VESDA"}, "transfer", "liu.yang", 6},
	{"台风洪水 Typhoon flooding in Hangzhou", "natural_disaster", nil, []string{"dc-main"}, nil,
		2, 5, 2, 4, []string{"机房位于三层 equipment on the 3rd floor", "宁波灾备中心 DR site in Ningbo"}, "mitigate", "zhang.wei", 2},
	{"灾备中心停电 Power loss at the DR site", "power", nil, []string{"dc-dr"}, nil,
		2, 2, 2, 2, []string{"UPS"}, "accept", "liu.yang", 12},
	{"勒索软件加密征管核心库 Ransomware encrypts the core levy database", "ransomware", []string{"core-levy-db", "core-levy-vol"}, nil, nil,
		3, 5, 2, 5, []string{"离线备份 offline backups", "EDR", "特权账号管控 privileged access management"}, "mitigate", "qian.bo", 1},
	{"勒索软件攻击电子发票 Ransomware on the e-invoice platform", "ransomware", []string{"einvoice-db", "einvoice-app"}, nil, nil,
		3, 5, 2, 4, []string{"离线备份 offline backups", "EDR"}, "mitigate", "qian.bo", 1},
	{"电子税务局DDoS攻击 DDoS against the e-Tax portal", "cyber_attack", []string{"etax-web1", "etax-web2"}, nil, nil,
		4, 4, 3, 3, []string{"运营商清洗 carrier scrubbing", "WAF"}, "mitigate", "li.na", 2},
	{"核心存储阵列故障 Failure of both SAN arrays", "hardware", []string{"san-dc-main-1", "san-dc-main-2"}, nil, []string{"storagecare"},
		2, 5, 1, 5, []string{"双阵列 dual arrays", "4h原厂维保 4h vendor support"}, "mitigate", "liu.yang", 4},
	{"核心交换机故障 Failure of both core switches", "network", []string{"core-sw-dc-main-1", "core-sw-dc-main-2"}, nil, []string{"netcare"},
		2, 5, 1, 5, []string{"堆叠冗余 redundant pair", "备件 spares on site"}, "mitigate", "he.jun", 5},
	{"防火墙误配置 Firewall misconfiguration blocks traffic", "human_error", []string{"fw-dc-main-1", "fw-dc-main-2"}, nil, nil,
		3, 4, 2, 3, []string{"变更审批 change approval", "配置备份 configuration backups"}, "mitigate", "he.jun", -1},
	{"互联网专线全部中断 Loss of both internet lines", "network", []string{"sup-isp-telecom", "sup-isp-unicom"}, nil, []string{"telecom", "unicom"},
		2, 4, 1, 4, []string{"双运营商 two carriers", "不同路由 diverse routing"}, "mitigate", "liu.yang", 6},
	{"数字证书服务中断 Certificate authority outage", "supplier", []string{"sup-ca"}, nil, []string{"zjca"},
		3, 4, 3, 3, []string{"证书缓存 certificate caching"}, "transfer", "li.na", 3},
	{"银行代扣网关中断 Bank direct-debit gateway outage", "supplier", []string{"sup-bank-gw"}, nil, []string{"icbc"},
		3, 4, 2, 4, []string{"备用银行通道 second bank channel (planned)"}, "mitigate", "zhao.lei", 2},
	{"银联支付中断 UnionPay outage", "supplier", []string{"sup-unionpay"}, nil, []string{"unionpay"},
		2, 3, 2, 3, nil, "accept", "zhao.lei", 9},
	{"短信网关中断 SMS gateway outage", "supplier", []string{"sup-sms-gw"}, nil, []string{"cmcc"},
		3, 2, 3, 2, nil, "accept", "sun.li", 9},
	{"呼叫中心平台中断 Call-centre platform outage", "supplier", []string{"sup-callcenter"}, nil, []string{"callco"},
		3, 3, 2, 3, []string{"人工坐席应急 manual fallback desk"}, "mitigate", "sun.li", 4},
	{"云对象存储中断 Cloud object storage outage", "supplier", []string{"sup-cloud-obj"}, nil, []string{"cloudco"},
		2, 3, 2, 2, []string{"本地缓存 local cache"}, "transfer", "chen.jie", 1},
	{"统一身份认证故障 Identity platform failure after a faulty release", "software", []string{"identity-app"}, nil, nil,
		3, 5, 2, 5, []string{"灰度发布 staged rollout", "回退预案 rollback plan"}, "mitigate", "liu.yang", 2},
	{"申报期征管系统缺陷 Core levy defect during the filing period", "software", []string{"core-levy-app"}, nil, []string{"softco"},
		4, 5, 3, 4, []string{"征期封网 change freeze in filing periods", "回归测试 regression testing"}, "mitigate", "wang.fang", 1},
	{"误删生产数据 Production data deleted by mistake", "human_error", []string{"declaration-db", "taxpayer-reg-db"}, nil, nil,
		2, 4, 1, 4, []string{"双人复核 four-eyes rule", "闪回 flashback"}, "mitigate", "wang.fang", -2},
	{"域名服务故障 DNS outage", "network", []string{"dns-dc-main-1", "dns-dc-main-2"}, nil, nil,
		2, 5, 1, 5, []string{"双节点 two nodes"}, "mitigate", "he.jun", 7},
	{"负载均衡故障 Load-balancer pair failure", "hardware", []string{"lb-dc-main-1", "lb-dc-main-2"}, nil, []string{"netcare"},
		2, 5, 1, 5, []string{"主备 active/standby"}, "mitigate", "he.jun", 8},
	{"备份存储库损坏 Backup repository corruption", "hardware", []string{"backup-dc-main"}, nil, []string{"offsite"},
		2, 3, 1, 3, []string{"异地介质 offsite copies"}, "mitigate", "liu.yang", 5},
	{"海关数据交换中断 Customs data exchange outage", "supplier", []string{"sup-customs-link"}, nil, []string{"customs-it"},
		3, 2, 3, 2, nil, "accept", "chen.jie", 10},
	{"堡垒机被滥用 Misuse of the bastion host", "cyber_attack", []string{"bastion-dc-main"}, nil, nil,
		2, 3, 1, 3, []string{"操作审计 session recording", "双因素 MFA"}, "mitigate", "qian.bo", 6},
}

// input resolves the definition against the database: scope entries it
// lacks are left out, and a risk left with no scope is skipped (ok false).
func (r riskDef) input(ctx context.Context, pool *pgxpool.Pool, i int, now time.Time) (impact.RiskInput, bool, error) {
	refs, err := cmdb.Resolve(ctx, pool, r.cis, cmdb.ResolveOptions{})
	if err != nil && !cmdb.IsUnknown(err) {
		return impact.RiskInput{}, false, fmt.Errorf("seed demo risks: %w", err)
	}
	cis := kept(r.cis, func(k string) bool { _, ok := refs[k]; return ok })
	sites, err := existing(ctx, pool, `SELECT DISTINCT site FROM cis WHERE site = ANY($1)`, r.sites)
	if err != nil {
		return impact.RiskInput{}, false, err
	}
	suppliers, err := existing(ctx, pool, `SELECT key FROM suppliers WHERE key = ANY($1)`, r.suppliers)
	if err != nil {
		return impact.RiskInput{}, false, err
	}
	if len(cis)+len(sites)+len(suppliers) == 0 {
		return impact.RiskInput{}, false, nil
	}
	review := time.Date(now.Year(), now.Month()+time.Month(r.review), 1, 0, 0, 0, 0, time.UTC).Format("2006-01-02")
	return impact.RiskInput{
		Title: r.title, Threat: r.threat, Scope: impact.Scope{CIs: cis, Sites: sites, Suppliers: suppliers},
		Description: "演示风险登记册 Demo risk register entry.",
		Likelihood:  r.l, Impact: r.i, ResidualLikelihood: r.rl, ResidualImpact: r.ri,
		Controls: append([]string{}, r.controls...), Treatment: r.treatment, Owner: r.owner, ReviewDate: &review,
		Source: Source, ExternalID: fmt.Sprintf("RISK-%02d", i+1),
	}, true, nil
}

// existing keeps the keys the query finds, in their given order.
func existing(ctx context.Context, pool *pgxpool.Pool, query string, keys []string) ([]string, error) {
	if len(keys) == 0 {
		return []string{}, nil
	}
	rows, err := pool.Query(ctx, query, keys)
	if err != nil {
		return nil, fmt.Errorf("seed demo risks: %w", err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("seed demo risks: %w", err)
	}
	known := map[string]bool{}
	for _, k := range found {
		known[k] = true
	}
	return kept(keys, func(k string) bool { return known[k] }), nil
}

// kept is the keys found, in their given order.
func kept(keys []string, found func(string) bool) []string {
	out := []string{}
	for _, k := range keys {
		if found(k) {
			out = append(out, k)
		}
	}
	return out
}
