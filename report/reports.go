package report

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/itsm"
	"github.com/bcdr/bcdr/runbooks/execution"
)

// Kind names a report.
type Kind string

// The reports. The Chinese names are the source documents' (seeds/).
const (
	// KindExecutive is the recovery status report for executives (恢复状态报告).
	KindExecutive Kind = "executive"
	// KindBIA is the business impact analysis report (业务影响分析报告).
	KindBIA Kind = "bia"
	// KindRisk is the risk assessment report (风险评估报告).
	KindRisk Kind = "risk"
	// KindAfterAction is a drill's after-action report (演练记录); its
	// subject is the drill's id.
	KindAfterAction Kind = "after-action"
	// KindInvocationReview reviews a real invocation of the plans; its
	// subject is the execution's id.
	KindInvocationReview Kind = "invocation-review"
	// KindAnnualReview summarises a year's plan reviews and the service
	// improvements (年度审查, 服务改进汇总表); its period is a year.
	KindAnnualReview Kind = "annual-review"
	// KindService is a business service's monthly service report with its
	// continuity section; its subject is the service's key.
	KindService Kind = "service"
)

// Kinds lists every report.
var Kinds = []Kind{KindExecutive, KindBIA, KindRisk, KindAfterAction, KindInvocationReview, KindAnnualReview, KindService}

// Valid reports whether k is a known report.
func (k Kind) Valid() bool { return slices.Contains(Kinds, k) }

// Formats and languages of the reports.
const (
	FormatJSON = "json"
	FormatHTML = "html"
	FormatPDF  = "pdf"
	LangEN     = "en"
	LangZH     = "zh-CN"
)

// Formats lists the report formats; Langs its languages.
var (
	Formats = []string{FormatJSON, FormatHTML, FormatPDF}
	Langs   = []string{LangEN, LangZH}
)

// ReportOptions are what the reports read beyond readiness.
type ReportOptions struct {
	ITSM       *itsm.Store
	Executions *execution.Service
	// PDF prints the HTML; nil means PDF is unavailable.
	PDF *Printer
	// Replica names this process in the jobs it runs.
	Replica string
}

// Reports makes every report, in every format and language, archives
// them and runs the jobs of those nobody waited for.
type Reports struct {
	r    *Service
	opts ReportOptions

	// jobsCtx ends the jobs running in the background at Close.
	jobsCtx  context.Context
	stopJobs context.CancelFunc
	jobs     sync.WaitGroup

	// trend is the last trend made for RecentTrend.
	trend orchestrator.Recent[struct{}, []TrendPoint]
}

// NewReports returns the reports over readiness r.
func NewReports(r *Service, opts ReportOptions) *Reports {
	e := &Reports{r: r, opts: opts}
	e.jobsCtx, e.stopJobs = context.WithCancel(context.Background())
	return e
}

// Close ends the report jobs running here (each recorded as failed, to
// be asked for again) and stops the browser the PDFs are printed with.
func (e *Reports) Close() {
	e.stopJobs()
	e.jobs.Wait()
	e.opts.PDF.Close()
}

// Request asks for one report.
type Request struct {
	// Kind is the report; empty is the executive report.
	Kind Kind `json:"kind"`
	// Period is a month, YYYY-MM, for the executive and service reports
	// (empty: the current month) and a year, YYYY, for the annual review
	// (empty: the current year). The others describe today and take none.
	Period string `json:"period,omitempty"`
	// Subject is what the report is about: a service's key, a drill's or
	// an execution's id.
	Subject string `json:"subject,omitempty"`
	Format  string `json:"format"`
	Lang    string `json:"lang"`
}

// periodKinds take a month; subjectFields name each kind's subject.
var (
	monthPattern = regexp.MustCompile(`^\d{4}-(0[1-9]|1[0-2])$`)
	yearPattern  = regexp.MustCompile(`^\d{4}$`)
	subjectField = map[Kind]string{KindAfterAction: "drill", KindInvocationReview: "execution", KindService: "service"}
)

// SubjectField is the name under which kind's subject is asked for
// ("service", "drill", "execution"), or "" for a report without one.
func SubjectField(kind Kind) string { return subjectField[kind] }

// Validate checks the request's fields, defaulting the empty ones, and
// returns the period's bounds [from, to) (zero for a report without one).
func (q *Request) Validate(now time.Time) (from, to time.Time, err error) {
	var v orchestrator.Validation
	if q.Kind == "" {
		q.Kind = KindExecutive
	}
	if q.Format == "" {
		q.Format = FormatHTML
	}
	if q.Lang == "" {
		q.Lang = LangEN
	}
	if !q.Kind.Valid() {
		v.Add("kind", "must be one of %s", kindList())
	}
	if !slices.Contains(Formats, q.Format) {
		v.Add("format", "must be one of json, html, pdf")
	}
	if !slices.Contains(Langs, q.Lang) {
		v.Add("lang", "must be one of en, zh-CN")
	}
	switch q.Kind {
	case KindExecutive, KindService:
		from, to = q.month(&v, now)
	case KindAnnualReview:
		from, to = q.year(&v, now)
	default:
		if q.Period != "" {
			v.Add("period", "is not taken by the %s report, which describes the present", q.Kind)
		}
	}
	q.checkSubject(&v)
	return from, to, v.Err()
}

func (q *Request) month(v *orchestrator.Validation, now time.Time) (from, to time.Time) {
	if q.Period == "" {
		q.Period = now.UTC().Format("2006-01")
	}
	if !monthPattern.MatchString(q.Period) {
		v.Add("period", "must be a month written YYYY-MM")
		return
	}
	from, _ = time.Parse("2006-01", q.Period)
	checkFrom(v, from, now)
	return from, from.AddDate(0, 1, 0)
}

func (q *Request) year(v *orchestrator.Validation, now time.Time) (from, to time.Time) {
	if q.Period == "" {
		q.Period = now.UTC().Format("2006")
	}
	if !yearPattern.MatchString(q.Period) {
		v.Add("period", "must be a year written YYYY")
		return
	}
	from, _ = time.Parse("2006", q.Period)
	checkFrom(v, from, now)
	return from, from.AddDate(1, 0, 0)
}

func checkFrom(v *orchestrator.Validation, from, now time.Time) {
	switch {
	case from.After(now):
		v.Add("period", "must not be in the future")
	case from.Year() < 1970:
		v.Add("period", "must be from 1970 on")
	}
}

// checkSubject checks the subject against its kind: a service key, or a
// positive id.
func (q *Request) checkSubject(v *orchestrator.Validation) {
	field := subjectField[q.Kind]
	switch {
	case field == "" && q.Subject != "":
		v.Add("subject", "is not taken by the %s report", q.Kind)
	case field == "":
	case q.Subject == "":
		v.Add(field, "is required for the %s report", q.Kind)
	case q.Kind == KindService:
		// The service's key is checked by looking it up.
		if len(q.Subject) > 200 || strings.ContainsFunc(q.Subject, unicode.IsControl) {
			v.Add(field, "must be a service's key")
		}
	default:
		if id, err := strconv.ParseInt(q.Subject, 10, 64); err != nil || id <= 0 {
			v.Add(field, "must be a positive integer id")
		}
	}
}

func kindList() string {
	names := make([]string, len(Kinds))
	for i, k := range Kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// subjectID is the request's subject as an id, once validated.
func (q Request) subjectID() int64 {
	id, _ := strconv.ParseInt(q.Subject, 10, 64)
	return id
}

// Filename is the name a download of the report is offered under.
func (q Request) Filename() string {
	parts := []string{"bcdr", string(q.Kind)}
	if q.Subject != "" {
		parts = append(parts, q.Subject)
	}
	if q.Period != "" {
		parts = append(parts, q.Period)
	}
	parts = append(parts, q.Lang)
	return strings.Join(parts, "-") + "." + q.Format
}

// htmlPage is a built report as HTML: its one self-contained document and the
// words before the page number in a printed copy's footer.
type htmlPage interface {
	HTML() ([]byte, error)
	Footer() string
}

// builder gathers one kind of report: its content, written as JSON, and
// its page.
type builder func(e *Reports, ctx context.Context, q Request, from, to time.Time) (content any, p htmlPage, err error)

// builders are the reports' builders by kind.
var builders = map[Kind]builder{
	KindExecutive: func(e *Reports, ctx context.Context, q Request, from, to time.Time) (any, htmlPage, error) {
		rep, err := e.executive(ctx, q, from, to)
		return rep, rep, err
	},
	KindBIA:              (*Reports).biaReport,
	KindRisk:             (*Reports).riskReport,
	KindAfterAction:      (*Reports).afterActionReport,
	KindInvocationReview: (*Reports).invocationReview,
	KindAnnualReview:     (*Reports).annualReview,
	KindService:          (*Reports).serviceReport,
}

// Content types of the formats.
var contentTypes = map[string]string{
	FormatJSON: "application/json",
	FormatHTML: "text/html; charset=utf-8",
	FormatPDF:  "application/pdf",
}

// Rendered is a report in its format.
type Rendered struct {
	Request     Request
	Body        []byte
	ContentType string
	// Filename is a suggested name for a download.
	Filename string
}

// Progress hears how far a report's making has gone: the stage it enters
// ("gather", "render", "print", "done") and the fraction done, 0 to 1.
type Progress func(stage string, fraction float64)

// Stages of making a report, with the fraction done as each begins.
const (
	StageGather = "gather"
	StageRender = "render"
	StagePrint  = "print"
	StageDone   = "done"
)

// Render builds the report asked for and writes it in its format,
// telling progress (nil: nobody listens) how far it has gone.
func (e *Reports) Render(ctx context.Context, q Request, progress Progress) (Rendered, error) {
	if progress == nil {
		progress = func(string, float64) {}
	}
	from, to, err := q.Validate(e.r.rt.Now().UTC())
	if err != nil {
		return Rendered{}, err
	}
	if q.Format == FormatPDF && e.opts.PDF == nil {
		return Rendered{}, errNoPrinter
	}
	progress(StageGather, 0)
	content, pg, err := builders[q.Kind](e, ctx, q, from, to)
	if err != nil {
		return Rendered{}, err
	}
	progress(StageRender, 0.6)
	out := Rendered{Request: q, ContentType: contentTypes[q.Format], Filename: q.Filename()}
	switch q.Format {
	case FormatJSON:
		out.Body, err = json.Marshal(content)
	case FormatHTML:
		out.Body, err = pg.HTML()
	case FormatPDF:
		var html []byte
		if html, err = pg.HTML(); err == nil {
			progress(StagePrint, 0.7)
			out.Body, err = e.opts.PDF.PDF(ctx, html, template.HTMLEscapeString(pg.Footer()))
		}
	}
	if err != nil {
		return Rendered{}, fmt.Errorf("render %s report: %w", q.Kind, err)
	}
	progress(StageDone, 1)
	return out, nil
}
