package web

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/impact"
)

// whatifPages are the what-if simulator. The question is asked with GET:
// it changes nothing (the API takes it as a POST only because its
// question is a JSON document), so an answer is a link a person can keep
// or send, and the back button walks through the questions asked.
func (u *UI) whatifPages() []page {
	return []page{{"GET /what-if", orchestrator.RecordReaders, u.whatIf, "whatif"}}
}

// Bounds of the question, as a person would type it.
const (
	whatifMaxCIs    = 1000
	whatifMaxText   = 200
	whatifOrderList = 300
	// whatifChoices bounds the CIs, sites and risks offered to pick from.
	whatifChoices = 500
)

// whatifFields are the question's fields, in the form's order.
var whatifFields = []string{"failed", "site", "supplier", "risk", "duration"}

// whatifClasses are the classes of the CIs offered to pick as failing.
var whatifClasses = []string{"application", "database", "storage", "network", "middleware", "supplier_service", "site"}

// whatifQuestion is the form as given.
type whatifQuestion struct {
	Failed, Site, Supplier, Risk, Duration string
}

// whatifView is the simulator's page: the form, its choices, and the
// answer or what was wrong with the question.
type whatifView struct {
	Q        whatifQuestion
	CIs      []cmdb.CI
	Sites    []cmdb.CI
	Risks    []impact.Risk
	Supplies []string
	// Asked: a question was submitted; Answer is set when it was answered.
	Asked    bool
	Answer   *impact.WhatIfAnswer
	Services []whatifService
	Order    []string
	// OrderHidden counts the recovery order's CIs past whatifOrderList.
	OrderHidden int
	Problems    []orchestrator.FieldError
	// Invalid marks the fields named by Problems.
	Invalid map[string]bool
}

// whatifService is a service down, with its verdicts as word keys.
type whatifService struct {
	impact.ServiceImpact
	RTOMet, MTPDMet string
	Actions         []string
}

// whatIf draws the simulator and, when a question was submitted, its
// answer: the whole page, or with htmx the answer region alone.
func (u *UI) whatIf(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := whatifView{Invalid: map[string]bool{}}
	v.Q = whatifQuestion{Failed: q.Get("failed"), Site: q.Get("site"), Supplier: q.Get("supplier"), Risk: q.Get("risk"), Duration: q.Get("duration")}
	v.Asked = slices.ContainsFunc(whatifFields, q.Has)
	status := http.StatusOK
	if v.Asked {
		sc, err := whatifScenario(v.Q)
		var a impact.WhatIfAnswer
		if err == nil {
			a, err = u.svc.Impact.WhatIf(r.Context(), sc)
		}
		switch {
		case orchestrator.ErrorCode(err) == orchestrator.EINVALID:
			status = http.StatusUnprocessableEntity
			v.Problems = orchestrator.ErrorFields(err)
			if len(v.Problems) == 0 {
				v.Problems = []orchestrator.FieldError{{Message: orchestrator.ErrorMessage(err)}}
			}
			for _, p := range v.Problems {
				v.Invalid[p.Field] = true
			}
		case err != nil:
			u.fail(w, r, err)
			return
		default:
			v.answer(a)
		}
	}
	if r.Header.Get("HX-Request") == "true" && v.Asked {
		u.renderWhatifAnswer(w, r, status, v)
		return
	}
	if err := u.whatifChoices(r, &v); err != nil {
		u.fail(w, r, err)
		return
	}
	u.render(w, r, status, "whatif", v)
}

// answer keeps a what-if's answer with the verdicts the page shows.
func (v *whatifView) answer(a impact.WhatIfAnswer) {
	v.Answer = &a
	for _, s := range a.Services {
		ws := whatifService{ServiceImpact: s}
		if rc := s.Recovery; rc != nil {
			ws.RTOMet, ws.MTPDMet = verdict(rc.RTOMet), verdict(rc.MTPDMet)
			for _, act := range rc.Strategy {
				text := act.CI + ": " + act.Action
				if act.Standby != "" {
					text += " → " + act.Standby
				}
				ws.Actions = append(ws.Actions, text)
			}
		}
		v.Services = append(v.Services, ws)
	}
	v.Order = a.RecoveryOrder
	if len(v.Order) > whatifOrderList {
		v.Order, v.OrderHidden = v.Order[:whatifOrderList], len(v.Order)-whatifOrderList
	}
}

// verdict is a judgement as a word key: met, missed, or unknown.
func verdict(b *bool) string {
	switch {
	case b == nil:
		return "wi_unknown"
	case *b:
		return "wi_met"
	}
	return "wi_missed"
}

// whatifScenario reads the question into the impact service's scenario,
// naming the field of anything that is not what it should be; references
// to CIs, sites, suppliers and risks are the impact service's to judge.
func whatifScenario(q whatifQuestion) (impact.Scenario, error) {
	var v orchestrator.Validation
	var sc impact.Scenario
	text := func(field, s string) string {
		s = strings.TrimSpace(s)
		if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) || len(s) > whatifMaxText {
			v.Add(field, "must be text of at most %d bytes, without control characters", whatifMaxText)
			return ""
		}
		return s
	}
	if !utf8.ValidString(q.Failed) || strings.ContainsFunc(q.Failed, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\r' && r != '\t' || r == 0x7f }) {
		v.Add("failed", "must be CI keys separated by commas or spaces, without control characters")
	} else {
		keys := strings.FieldsFunc(q.Failed, func(r rune) bool {
			return r == ',' || r == '，' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t'
		})
		if len(keys) > whatifMaxCIs {
			v.Add("failed", "must name at most %d CIs", whatifMaxCIs)
		}
		slices.Sort(keys)
		sc.Failed = slices.Compact(keys)
	}
	sc.Site, sc.Supplier = text("site", q.Site), text("supplier", q.Supplier)
	if s := text("risk", q.Risk); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id < 1 {
			v.Add("risk", "must be the id of a risk in the register")
		}
		sc.Risk = &id
	}
	if s := text("duration", q.Duration); s != "" {
		d, err := orchestrator.ParseDuration(s)
		switch {
		case err != nil:
			v.Add("duration", "must be a duration such as 90m, 4h or 3d")
		case d == 0:
			v.Add("duration", "must be longer than zero")
		default:
			sc.Duration = &d
		}
	}
	return sc, v.Err()
}

// whatifChoices fills what the form offers to pick: CIs that commonly
// fail, the sites, the suppliers named in the risk register and the risks.
func (u *UI) whatifChoices(r *http.Request, v *whatifView) error {
	ctx := r.Context()
	for _, class := range whatifClasses {
		l, err := u.svc.CMDB.ListCIs(ctx, cmdb.CIFilter{Class: class}, orchestrator.Page{Limit: whatifChoices})
		if err != nil {
			return err
		}
		if class == "site" {
			v.Sites = l.Items
		}
		v.CIs = append(v.CIs, l.Items[:min(len(l.Items), whatifChoices-len(v.CIs))]...)
	}
	risks, err := u.svc.Impact.ListRisks(ctx, impact.RiskFilter{}, orchestrator.Page{Limit: whatifChoices})
	if err != nil {
		return err
	}
	v.Risks = risks.Items
	for _, rk := range v.Risks {
		for _, s := range rk.Scope.Suppliers {
			if !slices.Contains(v.Supplies, s) {
				v.Supplies = append(v.Supplies, s)
			}
		}
	}
	slices.Sort(v.Supplies)
	return nil
}

// renderWhatifAnswer writes the answer region alone, as htmx swaps it in;
// whatif.js lets htmx swap a refused question's answer, which says why.
func (u *UI) renderWhatifAnswer(w http.ResponseWriter, r *http.Request, status int, data whatifView) {
	lang := language(r)
	v := view{Lang: lang, Path: r.URL.RequestURI(), Actor: actor(r.Context()), Data: data, words: words(lang)}
	var buf bytes.Buffer
	if err := u.pages["whatif"].ExecuteTemplate(&buf, "answer", v); err != nil {
		u.log.Error("render what-if answer", "err", err.Error())
		http.Error(w, "the answer could not be drawn", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Bcdr-Whatif", "1")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// whatifLink is the page's address for a question, to link to an answer.
func whatifLink(q whatifQuestion) string {
	return "/what-if?" + url.Values{"failed": {q.Failed}, "site": {q.Site}, "supplier": {q.Supplier}, "risk": {q.Risk}, "duration": {q.Duration}}.Encode()
}

// money writes an amount with thousands separators and no decimals.
func money(f float64) string {
	s := strconv.FormatFloat(f, 'f', 0, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Link is the address of the question the page answers.
func (v whatifView) Link() string { return whatifLink(v.Q) }

// Money writes an amount in the answer's currency.
func (v whatifView) Money(f float64) string {
	if v.Answer == nil || v.Answer.Currency == "" {
		return money(f)
	}
	return fmt.Sprintf("%s %s", money(f), v.Answer.Currency)
}

// whatifWords are the words of the what-if simulator, in the source
// documents' terms (情景模拟, 受影响的服务, 恢复顺序, 损失, 恢复时间目标).
var whatifWords = map[string]map[string]string{
	langEN: {
		"whatif": "What-if", "wi_title": "What-if simulator",
		"wi_help":     "Name what fails — CIs, a site, a supplier or a risk from the register, alone or together — and for how long: the answer lists the business services down, how each can recover against its RTO and RPO, what the outage costs, and the order to recover in.",
		"wi_f_failed": "Failed CIs", "wi_failed_help": "CI keys, separated by commas or spaces; suggestions as you type.",
		"wi_f_site": "Site lost", "wi_f_supplier": "Supplier lost", "wi_supplier_help": "A supplier's key; suggestions from the risk register.",
		"wi_f_risk": "Risk from the register", "wi_f_duration": "Outage duration", "wi_duration_help": "Such as 90m, 4h or 3d. Left empty, each service is out for its estimated recovery time.",
		"wi_none": "None", "wi_ask": "Simulate", "wi_link": "Link to this answer", "wi_problems": "The question could not be answered:",
		"wi_f_": "Question", "wi_answer": "Answer", "wi_failed": "Failed by themselves", "wi_down": "CIs down",
		"wi_services": "Business services down", "wi_no_services": "No business service goes down.",
		"wi_total_loss": "Total loss", "wi_service": "Service", "wi_path": "Why it is down", "wi_outage": "Outage",
		"wi_loss": "Loss at the outage", "wi_rto_breached": "RTO breached",
		"wi_mtpd_breached": "MTPD breached", "wi_recovery": "Recovery it can perform", "wi_estimate": "Estimated recovery",
		"wi_rpo_estimate": "Data lost (RPO)", "wi_rto_met": "Meets the RTO", "wi_mtpd_met": "Within the MTPD", "wi_loss_at_estimate": "loss",
		"wi_standbys": "Fails over to", "wi_no_bia": "no approved BIA", "wi_met": "met", "wi_missed": "missed", "wi_unknown": "unknown",
		"wi_order": "Recovery order", "wi_order_help": "Every CI down, each after the CIs it needs; among those free to go, the one serving the tightest RTO first.",
		"wi_order_more": "and %d more CIs, in the same order",
	},
	langZH: {
		"whatif": "情景模拟", "wi_title": "情景模拟（假设分析）",
		"wi_help":     "指定发生故障的对象（配置项、站点、供应商或风险登记册中的风险，可组合）及中断时长：结果列出中断的业务服务、各服务可执行的恢复及其是否满足 RTO 和 RPO、中断造成的损失，以及恢复顺序。",
		"wi_f_failed": "故障配置项", "wi_failed_help": "配置项标识，以逗号或空格分隔；输入时给出提示。",
		"wi_f_site": "失去的站点", "wi_f_supplier": "中断的供应商", "wi_supplier_help": "供应商标识；提示来自风险登记册。",
		"wi_f_risk": "风险登记册中的风险", "wi_f_duration": "中断时长", "wi_duration_help": "如 90m、4h 或 3d。留空时，各服务按其预计恢复时间计算。",
		"wi_none": "无", "wi_ask": "模拟", "wi_link": "本结果的链接", "wi_problems": "无法回答该问题：",
		"wi_f_": "问题", "wi_answer": "模拟结果", "wi_failed": "直接故障的配置项", "wi_down": "中断的配置项",
		"wi_services": "中断的业务服务", "wi_no_services": "没有业务服务中断。",
		"wi_total_loss": "总损失", "wi_service": "服务", "wi_path": "中断原因", "wi_outage": "中断时长",
		"wi_loss": "该时长下的损失", "wi_rto_breached": "突破恢复时间目标",
		"wi_mtpd_breached": "突破最大可容忍中断时间", "wi_recovery": "可执行的恢复", "wi_estimate": "预计恢复时间",
		"wi_rpo_estimate": "数据丢失（RPO）", "wi_rto_met": "满足 RTO", "wi_mtpd_met": "不超过 MTPD", "wi_loss_at_estimate": "损失",
		"wi_standbys": "切换到", "wi_no_bia": "无已批准的业务影响分析", "wi_met": "满足", "wi_missed": "不满足", "wi_unknown": "未知",
		"wi_order": "恢复顺序", "wi_order_help": "全部中断的配置项，每项排在其所依赖的配置项之后；可同时开始的，先恢复服务于最短 RTO 的。",
		"wi_order_more": "另有 %d 个配置项，顺序同上",
	},
}
