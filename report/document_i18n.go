package report

// dict holds a report's words in each language: dict[lang][key].
type dict map[string]map[string]string

// commonWords are words every Document uses.
var commonWords = dict{
	LangEN: {
		"generated": "Generated",
		"period":    "Period",
		"page":      "page",
		"yes":       "yes",
		"no":        "no",
		"service":   "Service",
		"services":  "services",
		"tier":      "Tier",
		"status":    "Status",
		"owner":     "Owner",
		"rto":       "RTO",
		"rpo":       "RPO",
		"mtpd":      "MTPD",
		"more":      "more not listed (the JSON format has every row)",
	},
	LangZH: {
		"generated": "生成时间",
		"period":    "报告期",
		"page":      "第",
		"yes":       "是",
		"no":        "否",
		"service":   "服务",
		"services":  "项服务",
		"tier":      "等级",
		"status":    "状态",
		"owner":     "负责人",
		"rto":       "恢复时间目标 RTO",
		"rpo":       "恢复点目标 RPO",
		"mtpd":      "最大可容忍中断时间 MTPD",
		"more":      "项未列出（JSON 格式包含全部记录）",
	},
}

// words returns the lookup of d's words in lang, falling back to the
// common words; a key in neither is returned as it is, which the tests
// catch (TestEveryWordInBothLanguages).
func (d dict) words(lang string) func(key string) string {
	own, common := d[lang], commonWords[lang]
	return func(key string) string {
		if w, ok := own[key]; ok {
			return w
		}
		if w, ok := common[key]; ok {
			return w
		}
		return key
	}
}
