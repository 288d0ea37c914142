package web

import (
	"net/http"
	"slices"
	"strings"
)

// The UI's languages: English and Simplified Chinese, in the source
// documents' terms.
const (
	langEN = "en"
	langZH = "zh-CN"
)

var languages = []string{langEN, langZH}

// language is the request's language: the one chosen with the switch, else
// the browser's first choice of the two, else English.
func language(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil && slices.Contains(languages, c.Value) {
		return c.Value
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		switch tag = strings.ToLower(tag); {
		case tag == "zh" || strings.HasPrefix(tag, "zh-"):
			return langZH
		case tag == "en" || strings.HasPrefix(tag, "en-"):
			return langEN
		}
	}
	return langEN
}

// dictionary is every page group's words by language.
var dictionary = merge(coreWords, runbooksWords, executionsWords, drillsWords, backupsWords, adminWords,
	biaWords, cmdbWords, whatifWords, runbookEditWords, settingsWords, importWords)

// merge joins word lists; a key defined twice is a programming error.
func merge(lists ...map[string]map[string]string) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, l := range lists {
		for lang, ws := range l {
			if out[lang] == nil {
				out[lang] = map[string]string{}
			}
			for k, w := range ws {
				if _, dup := out[lang][k]; dup {
					panic("web: the word " + k + " is defined twice")
				}
				out[lang][k] = w
			}
		}
	}
	return out
}

// words returns the lookup of the UI's words in lang; a key missing is
// shown as it is, which TestEveryWordInBothLanguages catches.
func words(lang string) func(string) string {
	d := dictionary[lang]
	return func(key string) string {
		if w, ok := d[key]; ok {
			return w
		}
		return key
	}
}

// coreWords are the words of the layout, sign-in, dashboard, services and
// reports.
var coreWords = map[string]map[string]string{
	langEN: {
		"product":                "bcdr",
		"tagline":                "Business continuity and disaster recovery",
		"dashboard":              "Dashboard",
		"services":               "Services",
		"reports":                "Reports",
		"sign_in":                "Sign in",
		"sign_out":               "Sign out",
		"token":                  "API token",
		"token_help":             "Paste the token an administrator issued you (bcdr token create). The browser keeps a session, never the token.",
		"bad_token":              "That token is not valid, or it was revoked.",
		"throttled":              "Too many failed sign-ins from this address; wait a moment and try again.",
		"forbidden":              "Your role may not open this page.",
		"not_found":              "There is no such page.",
		"internal":               "Something went wrong on the server; it has been logged.",
		"language":               "Language",
		"switch":                 "Switch",
		"signed_in_as":           "Signed in as",
		"readiness":              "Organisation readiness",
		"score":                  "Score",
		"status":                 "Status",
		"ready":                  "Ready",
		"at_risk":                "At risk",
		"not_ready":              "Not ready",
		"trend":                  "12-month trend",
		"no_trend":               "No readiness history yet: the trend starts with the first daily snapshot.",
		"by_status":              "Services by status",
		"attention":              "Needs attention",
		"attn_stale_runbooks":    "stale runbooks",
		"attn_rpo_breached":      "services past their RPO",
		"attn_overdue_findings":  "overdue findings",
		"attn_drills_due":        "services due a drill",
		"worst_services":         "Lowest-scoring services",
		"service":                "Service",
		"tier":                   "Tier",
		"why":                    "Why",
		"nothing":                "Nothing here.",
		"executions":             "Executions",
		"active_executions":      "Active executions",
		"no_executions":          "No execution is running.",
		"runbook":                "Runbook",
		"mode":                   "Mode",
		"started":                "Started",
		"all_services":           "Every business service with its readiness.",
		"filter_status":          "Show",
		"all":                    "All",
		"apply":                  "Apply",
		"components":             "What the score is made of",
		"component":              "Component",
		"points":                 "Points",
		"lost":                   "Points lost and what to fix",
		"capped_by":              "Held back by",
		"fix":                    "Fix",
		"report_list":            "Every report, in HTML to read here or PDF to download, in English or Chinese.",
		"report":                 "Report",
		"subject":                "About",
		"period":                 "Period",
		"format":                 "Format",
		"open":                   "Open",
		"archive":                "Archive",
		"archive_help":           "Reports made by schedules and by jobs, each with its SHA-256.",
		"no_archive":             "Nothing archived yet.",
		"made":                   "Made",
		"by":                     "By",
		"size":                   "Size",
		"download":               "Download",
		"job":                    "Making the report",
		"job_help":               "The report takes longer than a few seconds; this page follows it.",
		"stage":                  "Stage",
		"progress":               "Progress",
		"job_failed":             "The report could not be made",
		"job_done":               "The report is ready",
		"kind_executive":         "Recovery status report",
		"kind_bia":               "Business impact analysis report",
		"kind_risk":              "Risk assessment report",
		"kind_service":           "Service report",
		"kind_annual-review":     "Annual review",
		"kind_after-action":      "Drill after-action report",
		"kind_invocation-review": "Invocation review",
		"stage_gather":           "gathering",
		"stage_render":           "writing",
		"stage_print":            "printing",
		"stage_done":             "done",
		"key":                    "Key",
		"html":                   "HTML",
		"pdf":                    "PDF",
		"capped_rto_infeasible":  "the RTO cannot be met",
		"capped_rpo_breached":    "an RPO is breached",
		"list_sep":               ", ",
		"back_to_reports":        "Back to the reports",
	},
	langZH: {
		"product":                "bcdr",
		"tagline":                "业务连续性与灾难恢复",
		"dashboard":              "总览",
		"services":               "业务服务",
		"reports":                "报告",
		"sign_in":                "登录",
		"sign_out":               "退出",
		"token":                  "API 令牌",
		"token_help":             "粘贴管理员为您签发的令牌（bcdr token create）。浏览器只保存会话，不保存令牌。",
		"bad_token":              "令牌无效或已被吊销。",
		"throttled":              "该地址登录失败次数过多，请稍候再试。",
		"forbidden":              "您的角色无权打开此页面。",
		"not_found":              "没有这个页面。",
		"internal":               "服务器出错，已记录日志。",
		"language":               "语言",
		"switch":                 "切换",
		"signed_in_as":           "当前用户",
		"readiness":              "组织就绪度",
		"score":                  "得分",
		"status":                 "状态",
		"ready":                  "就绪",
		"at_risk":                "有风险",
		"not_ready":              "未就绪",
		"trend":                  "12 个月趋势",
		"no_trend":               "尚无就绪度历史：趋势从第一次每日快照开始。",
		"by_status":              "按状态的服务",
		"attention":              "需要关注",
		"attn_stale_runbooks":    "份恢复手册已过时",
		"attn_rpo_breached":      "项服务超出恢复点目标",
		"attn_overdue_findings":  "项改进措施逾期",
		"attn_drills_due":        "项服务应进行演练",
		"worst_services":         "得分最低的服务",
		"service":                "服务",
		"tier":                   "等级",
		"why":                    "原因",
		"nothing":                "暂无。",
		"executions":             "执行",
		"active_executions":      "进行中的执行",
		"no_executions":          "没有正在进行的执行。",
		"runbook":                "恢复手册",
		"mode":                   "方式",
		"started":                "开始时间",
		"all_services":           "全部业务服务及其就绪度。",
		"filter_status":          "显示",
		"all":                    "全部",
		"apply":                  "应用",
		"components":             "得分构成",
		"component":              "组成部分",
		"points":                 "得分",
		"lost":                   "失分及改进事项",
		"capped_by":              "受限于",
		"fix":                    "改进",
		"report_list":            "全部报告：HTML 在此阅读，PDF 下载，中英文均可。",
		"report":                 "报告",
		"subject":                "对象",
		"period":                 "报告期",
		"format":                 "格式",
		"open":                   "打开",
		"archive":                "报告归档",
		"archive_help":           "由计划任务和后台作业生成的报告，各附 SHA-256 摘要。",
		"no_archive":             "尚无归档报告。",
		"made":                   "生成时间",
		"by":                     "生成者",
		"size":                   "大小",
		"download":               "下载",
		"job":                    "正在生成报告",
		"job_help":               "报告生成需要较长时间，本页面会持续跟进。",
		"stage":                  "阶段",
		"progress":               "进度",
		"job_failed":             "报告未能生成",
		"job_done":               "报告已生成",
		"kind_executive":         "恢复状态报告",
		"kind_bia":               "业务影响分析报告",
		"kind_risk":              "风险评估报告",
		"kind_service":           "服务报告",
		"kind_annual-review":     "年度审查",
		"kind_after-action":      "演练记录",
		"kind_invocation-review": "连续性计划启动复盘",
		"stage_gather":           "收集数据",
		"stage_render":           "撰写",
		"stage_print":            "打印",
		"stage_done":             "完成",
		"key":                    "标识",
		"html":                   "HTML",
		"pdf":                    "PDF",
		"capped_rto_infeasible":  "无法达到恢复时间目标",
		"capped_rpo_breached":    "恢复点目标已被突破",
		"list_sep":               "；",
		"back_to_reports":        "返回报告列表",
	},
}
