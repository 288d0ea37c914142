package report

// annualWords are the annual review's words. The Chinese terms are those
// of the source documents (seeds/): 年度审查, 服务改进汇总表, 演练记录,
// 恢复预案, 持续性和可用性计划.
var annualWords = dict{
	LangEN: {
		"title":              "Annual plan review and service improvement summary",
		"subtitle":           "The %d review of the IT service continuity plans, the year's drills and the improvement register",
		"footer":             "Annual plan review · page",
		"year":               "Year",
		"as_of":              "Open and overdue as of",
		"reviews":            "Annual review of the continuity plans",
		"reviews_note":       "Every approved runbook is reviewed every year: its review falls due 12 months after its approval or last review. Each runbook is judged by its latest review as recorded now.",
		"approved_rbs":       "Approved runbooks",
		"runbook_list":       "Every approved runbook",
		"no_runbooks":        "No runbook is approved.",
		"col_runbook":        "Runbook",
		"col_covers":         "Service or scenario",
		"col_approved":       "Approved",
		"col_due":            "Review due",
		"col_state":          "Review",
		"col_reviewed":       "Reviewed",
		"col_outcome":        "Outcome",
		"col_flags":          "Stale",
		"actions":            "Actions decided by the reviews",
		"col_action":         "Action",
		"no_actions":         "No review of the year decided an action.",
		"outcomes":           "Outcomes of the year's reviews",
		"drills":             "Drills of the year",
		"drills_note":        "Drills planned in the year, by status and result, and the services that had the drills their tier's policy requires (演练记录).",
		"planned":            "Drills planned",
		"completed":          "Completed",
		"cov_met":            "Services with the required drills done",
		"cov_overdue":        "Services with a drill overdue",
		"cov_critical":       "Critical services without a technical drill in three years",
		"by_tier":            "Coverage of the required drills by tier",
		"col_tier":           "Tier",
		"col_required":       "Required",
		"col_services":       "Services",
		"col_met":            "Done",
		"col_overdue":        "Overdue",
		"per_year":           "%s × %d a year",
		"no_coverage":        "No service has an approved runbook to drill.",
		"drill_list":         "The year's drills",
		"col_drill":          "Drill",
		"col_drill_services": "Services",
		"col_type":           "Type",
		"col_planned":        "Planned",
		"col_completed":      "Completed",
		"col_result":         "Result",
		"no_drills":          "No drill was planned in this year.",
		"improve":            "Service improvement summary",
		"improve_note":       "The improvement register: findings opened and closed (verified) in the year, and those open and overdue as of the date above. A finding that needs a retest closes only when a later drill of its scope passes.",
		"opened":             "Opened in the year",
		"closed":             "Closed in the year",
		"open":               "Open",
		"overdue":            "Overdue",
		"by_source":          "Findings by source",
		"by_severity":        "Findings by severity",
		"col_source":         "Source",
		"col_severity":       "Severity",
		"col_opened":         "Opened",
		"col_closed":         "Closed",
		"col_open":           "Open",
		"open_list":          "Open findings",
		"col_id":             "ID",
		"col_title":          "Finding",
		"col_due_date":       "Due",
		"no_open":            "No finding is open.",
		"no_findings":        "The improvement register has no finding.",
	},
	LangZH: {
		"title":              "业务连续性计划年度审查与服务改进汇总表",
		"subtitle":           "%d 年度 IT 服务持续性计划审查、年度演练与服务改进汇总",
		"footer":             "年度审查 · 页码",
		"year":               "年度",
		"as_of":              "未关闭与逾期统计截至",
		"reviews":            "持续性计划年度审查",
		"reviews_note":       "每份已批准的恢复预案每年审查一次：审查在批准或上次审查满 12 个月时到期。每份预案按当前记录的最近一次审查判定。",
		"approved_rbs":       "已批准的恢复预案",
		"runbook_list":       "全部已批准的恢复预案",
		"no_runbooks":        "没有已批准的恢复预案。",
		"col_runbook":        "恢复预案",
		"col_covers":         "服务或场景",
		"col_approved":       "批准日期",
		"col_due":            "审查到期日",
		"col_state":          "审查情况",
		"col_reviewed":       "审查日期",
		"col_outcome":        "审查结论",
		"col_flags":          "过期原因",
		"actions":            "审查确定的改进措施",
		"col_action":         "措施",
		"no_actions":         "本年度的审查未确定任何措施。",
		"outcomes":           "本年度审查结论",
		"drills":             "年度演练",
		"drills_note":        "本年度计划的演练按状态和结果统计，以及按服务等级策略完成规定演练的服务（演练记录）。",
		"planned":            "计划演练",
		"completed":          "已完成",
		"cov_met":            "已完成规定演练的服务",
		"cov_overdue":        "有逾期演练的服务",
		"cov_critical":       "三年内未做技术演练的关键服务",
		"by_tier":            "按等级的规定演练覆盖情况",
		"col_tier":           "等级",
		"col_required":       "规定演练",
		"col_services":       "服务数",
		"col_met":            "已完成",
		"col_overdue":        "逾期",
		"per_year":           "%s，每年 %d 次",
		"no_coverage":        "没有服务具备可演练的已批准恢复预案。",
		"drill_list":         "本年度演练",
		"col_drill":          "演练",
		"col_drill_services": "涉及服务",
		"col_type":           "类型",
		"col_planned":        "计划日期",
		"col_completed":      "完成日期",
		"col_result":         "结果",
		"no_drills":          "本年度没有计划任何演练。",
		"improve":            "服务改进汇总表",
		"improve_note":       "服务改进登记：本年度新增和关闭（已验证）的整改项，以及截至上述日期仍未关闭和已逾期的整改项。需要复测的整改项，只有在其范围的后续演练通过后才关闭。",
		"opened":             "本年度新增",
		"closed":             "本年度关闭",
		"open":               "未关闭",
		"overdue":            "已逾期",
		"by_source":          "按来源的整改项",
		"by_severity":        "按严重程度的整改项",
		"col_source":         "来源",
		"col_severity":       "严重程度",
		"col_opened":         "新增",
		"col_closed":         "关闭",
		"col_open":           "未关闭",
		"open_list":          "未关闭的整改项",
		"col_id":             "编号",
		"col_title":          "整改项",
		"col_due_date":       "到期日",
		"no_open":            "没有未关闭的整改项。",
		"no_findings":        "服务改进汇总表中没有整改项。",
	},
}

// continuityTerms name the values both the annual review and the service
// report show: drill types, statuses and results, finding sources,
// severities and statuses, review states and outcomes, staleness flags,
// readiness and RPO states and readiness components, each as kind.value.
var continuityTerms = dict{
	LangEN: {
		"state.reviewed": "reviewed", "state.overdue": "overdue", "state.due": "due later this year", "state.not_due": "not due this year",
		"outcome.fit": "fit for purpose", "outcome.update_needed": "update needed", "outcome.retire": "retire",
		"type.tabletop": "tabletop", "type.walkthrough": "walkthrough", "type.simulation": "simulation",
		"type.technical": "technical", "type.full_interruption": "full interruption",
		"drill.planned": "planned", "drill.in_progress": "in progress", "drill.completed": "completed", "drill.cancelled": "cancelled",
		"result.pass": "pass", "result.partial": "partial", "result.fail": "fail",
		"source.drill": "drill", "source.model_gap": "model gap", "source.audit": "audit",
		"source.incident_review": "incident review", "source.invocation_review": "invocation review",
		"severity.critical": "critical", "severity.high": "high", "severity.medium": "medium", "severity.low": "low",
		"finding.open": "open", "finding.in_progress": "in progress", "finding.resolved": "resolved", "finding.verified": "verified",
		"flag.retest_required": "retest required", "flag.review_due": "review due", "flag.scope_changed": "scope changed",
		"runbook.approved": "approved", "runbook.draft": "draft", "runbook.retired": "retired",
		"readiness.ready": "ready", "readiness.at_risk": "at risk", "readiness.not_ready": "not ready",
		"rpo.compliant": "compliant", "rpo.at_risk": "at risk", "rpo.breached": "breached", "rpo.unknown": "unknown",
		"component.bia": "BIA approved", "component.runbook": "Runbook approved, not stale",
		"component.rto": "Recovery within RTO", "component.rpo": "Backups within RPO", "component.drills": "Drilled, last drill passed",
		"component.findings": "No overdue findings", "component.suppliers": "Supplier commitments",
	},
	LangZH: {
		"state.reviewed": "已审查", "state.overdue": "逾期未审查", "state.due": "年内到期", "state.not_due": "本年度未到期",
		"outcome.fit": "适用", "outcome.update_needed": "需更新", "outcome.retire": "停用",
		"type.tabletop": "桌面演练", "type.walkthrough": "走查演练", "type.simulation": "模拟演练",
		"type.technical": "技术演练", "type.full_interruption": "全中断演练",
		"drill.planned": "已计划", "drill.in_progress": "进行中", "drill.completed": "已完成", "drill.cancelled": "已取消",
		"result.pass": "通过", "result.partial": "部分通过", "result.fail": "未通过",
		"source.drill": "演练", "source.model_gap": "模型差距", "source.audit": "审计",
		"source.incident_review": "事件回顾", "source.invocation_review": "计划启动回顾",
		"severity.critical": "严重", "severity.high": "高", "severity.medium": "中", "severity.low": "低",
		"finding.open": "未处理", "finding.in_progress": "处理中", "finding.resolved": "已解决", "finding.verified": "已验证",
		"flag.retest_required": "需复测", "flag.review_due": "待年度审查", "flag.scope_changed": "范围已变更",
		"runbook.approved": "已批准", "runbook.draft": "草稿", "runbook.retired": "已停用",
		"readiness.ready": "就绪", "readiness.at_risk": "有风险", "readiness.not_ready": "未就绪",
		"rpo.compliant": "达标", "rpo.at_risk": "有风险", "rpo.breached": "超标", "rpo.unknown": "未知",
		"component.bia": "业务影响分析已批准", "component.runbook": "恢复预案已批准且未过期",
		"component.rto": "恢复时间满足 RTO", "component.rpo": "备份满足 RPO", "component.drills": "按策略演练且最近一次通过",
		"component.findings": "无逾期整改项", "component.suppliers": "供应商承诺满足要求",
	},
}

// lookup returns the words of d in lang, falling back to the common words
// and then to the continuity terms; a key in none is returned as it is.
func lookup(d dict, lang string) func(key string) string {
	own, terms := d.words(lang), continuityTerms[lang]
	return func(key string) string {
		if w := own(key); w != key {
			return w
		}
		if w, ok := terms[key]; ok {
			return w
		}
		return key
	}
}

// term is a value's name in words: w's kind.value, or the value itself for
// one the words do not know.
func term(w func(string) string, kind, value string) string {
	if value == "" {
		return "—"
	}
	key := kind + "." + value
	if s := w(key); s != key {
		return s
	}
	return value
}
