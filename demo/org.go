package demo

// serviceDef is one business service of the bureau.
type serviceDef struct {
	key, zh, en string
	// tier is the intended recovery tier: it sizes the service's
	// redundancy and, later, its BIA.
	tier int
	// suppliers are supplier_service CI keys the service needs.
	suppliers []string
	owner     string
}

// services are the bureau's business services, most critical first.
var services = []serviceDef{
	{"etax", "电子税务局", "e-Tax Bureau portal", 0, []string{"sup-isp-telecom", "sup-isp-unicom", "sup-ca"}, "li.na"},
	{"core-levy", "金税征管核心系统", "Core tax levy system", 0, nil, "wang.fang"},
	{"einvoice", "电子发票服务平台", "e-Invoice platform", 0, []string{"sup-ca", "sup-isp-telecom"}, "li.na"},
	{"tax-payment", "税款缴纳", "Tax payment", 0, []string{"sup-bank-gw", "sup-unionpay"}, "zhao.lei"},
	{"si-levy", "社保费征收", "Social insurance levy", 1, []string{"sup-bank-gw"}, "zhao.lei"},
	{"taxpayer-reg", "纳税人登记", "Taxpayer registration", 1, nil, "wang.fang"},
	{"declaration", "纳税申报", "Tax declaration", 1, []string{"sup-ca"}, "wang.fang"},
	{"export-refund", "出口退税", "Export tax refund", 1, []string{"sup-customs-link"}, "chen.jie"},
	{"identity", "统一身份认证", "Identity and single sign-on", 1, []string{"sup-ca", "sup-sms-gw"}, "liu.yang"},
	{"hotline-12366", "12366纳税服务热线", "12366 taxpayer hotline", 1, []string{"sup-callcenter", "sup-isp-telecom"}, "sun.li"},
	{"mobile-app", "个人所得税App", "Individual income tax app", 1, []string{"sup-sms-gw", "sup-cdn"}, "sun.li"},
	{"risk-analytics", "税收风险分析", "Tax risk analytics", 2, nil, "chen.jie"},
	{"audit-cases", "稽查案件管理", "Tax audit case management", 2, nil, "huang.min"},
	{"data-warehouse", "税收数据仓库", "Tax data warehouse", 2, []string{"sup-cloud-obj"}, "chen.jie"},
	{"e-archives", "电子档案", "Electronic archives", 2, []string{"sup-cloud-obj"}, "zhou.qiang"},
	{"email", "电子邮件", "Email", 2, []string{"sup-isp-telecom"}, "liu.yang"},
	{"office-oa", "协同办公", "Office automation", 2, nil, "zhou.qiang"},
	{"service-hall-queue", "办税服务厅排队叫号", "Service hall queuing", 2, []string{"sup-sms-gw"}, "sun.li"},
	{"hr", "人事管理", "Human resources", 3, nil, "wu.hong"},
	{"finance", "财务管理", "Finance", 3, []string{"sup-bank-gw"}, "wu.hong"},
	{"knowledge-base", "知识库", "Knowledge base", 3, nil, "sun.li"},
	{"tax-gis", "税源地理信息", "Tax-source GIS", 3, []string{"sup-map"}, "chen.jie"},
	{"intranet", "内网门户", "Intranet portal", 3, nil, "zhou.qiang"},
	{"video-conf", "视频会议", "Video conferencing", 3, []string{"sup-isp-unicom"}, "liu.yang"},
	{"asset-mgmt", "资产管理", "Asset management", 4, nil, "wu.hong"},
	{"e-learning", "网络学院", "e-Learning", 4, []string{"sup-cdn"}, "wu.hong"},
	{"stats-reports", "统计报表", "Statistical reports", 4, nil, "chen.jie"},
	{"satisfaction", "满意度调查", "Satisfaction survey", 4, []string{"sup-sms-gw"}, "sun.li"},
	{"archive-scan", "纸质档案扫描", "Paper archive scanning", 4, nil, "zhou.qiang"},
	{"library", "图书资料", "Library", 4, nil, "wu.hong"},
}

// supplierServiceDef is a service bought from a supplier.
type supplierServiceDef struct {
	key, zh, en, supplier string
}

var supplierServices = []supplierServiceDef{
	{"sup-isp-telecom", "电信互联网专线", "China Telecom internet line", "telecom"},
	{"sup-isp-unicom", "联通互联网专线", "China Unicom internet line", "unicom"},
	{"sup-ca", "数字证书服务", "Certificate authority", "zjca"},
	{"sup-bank-gw", "银行代扣网关", "Bank direct-debit gateway", "icbc"},
	{"sup-unionpay", "银联支付", "UnionPay online payment", "unionpay"},
	{"sup-sms-gw", "短信网关", "SMS gateway", "cmcc"},
	{"sup-callcenter", "呼叫中心平台", "Call-centre platform", "callco"},
	{"sup-customs-link", "海关数据交换", "Customs data exchange", "customs-it"},
	{"sup-cdn", "内容分发网络", "Content delivery network", "cloudco"},
	{"sup-cloud-obj", "云对象存储", "Cloud object storage", "cloudco"},
	{"sup-map", "地图服务", "Map service", "mapco"},
}

// siteDef is a data centre.
type siteDef struct {
	key, zh, en, city string
}

var sites = []siteDef{
	{"dc-main", "主数据中心", "Primary data centre", "Hangzhou 杭州"},
	{"dc-dr", "灾备数据中心", "Disaster-recovery data centre", "Ningbo 宁波"},
}
