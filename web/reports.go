package web

import (
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/report"
)

// reportWait is how long a report page waits for its report before
// following it as a job.
const reportWait = 3 * time.Second

// reportPolicy is the content security policy a report is served with: it
// is one self-contained file, inline CSS and SVG, no script.
const reportPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// reportPages are the reports, their jobs and the archive.
func (u *UI) reportPages() []page {
	return []page{
		{"GET /reports", orchestrator.ReportReaders, u.reports, "reports"},
		{"GET /reports/view/{kind}", orchestrator.ReportReaders, u.viewReport, ""},
		{"GET /reports/jobs/{id}", orchestrator.ReportReaders, u.reportJob, ""},
		{"GET /reports/archive/{id}", orchestrator.ReportReaders, u.archivedReport, ""},
	}
}

// reportsView is the reports page's data.
type reportsView struct {
	Kinds   []reportKind
	Archive []report.Archived
	Month   string
	Year    string
}

// reportKind is one report and the field naming its subject, if any.
type reportKind struct {
	Kind    report.Kind
	Subject string
	Period  string // "month", "year" or ""
}

// reports lists the reports, each to open in HTML or download in PDF in
// either language, and the newest archived ones.
func (u *UI) reports(w http.ResponseWriter, r *http.Request) {
	now := u.rt.Now().UTC()
	v := reportsView{Month: now.Format("2006-01"), Year: now.Format("2006")}
	for _, k := range report.Kinds {
		rk := reportKind{Kind: k, Subject: report.SubjectField(k)}
		switch k {
		case report.KindExecutive, report.KindService:
			rk.Period = "month"
		case report.KindAnnualReview:
			rk.Period = "year"
		}
		v.Kinds = append(v.Kinds, rk)
	}
	l, err := u.svc.Reports.ListArchive(r.Context(), report.ArchiveFilter{}, orchestrator.Page{Limit: 20})
	if err != nil {
		u.fail(w, r, err)
		return
	}
	v.Archive = l.Items
	u.render(w, r, http.StatusOK, "reports", v)
}

// viewReport makes a report and serves it, or follows it as a job when it
// takes longer than a few seconds.
func (u *UI) viewReport(w http.ResponseWriter, r *http.Request) {
	kind := report.Kind(r.PathValue("kind"))
	if !kind.Valid() {
		u.notFound(w, r)
		return
	}
	query := r.URL.Query()
	q := report.Request{Kind: kind, Period: query.Get("period"), Format: query.Get("format"), Lang: query.Get("lang")}
	if field := report.SubjectField(kind); field != "" {
		q.Subject = query.Get(field)
	}
	if q.Lang == "" {
		q.Lang = language(r)
	}
	out, job, err := u.svc.Reports.Make(r.Context(), q, reportWait)
	switch {
	case err != nil:
		u.fail(w, r, err)
	case job != nil:
		http.Redirect(w, r, "/reports/jobs/"+strconv.FormatInt(job.ID, 10), http.StatusSeeOther)
	default:
		serveReport(w, out.Request.Format, out.ContentType, out.Filename, out.Body)
	}
}

// reportJob follows a report job until its report is in the archive;
// htmx polls the page while the job runs.
func (u *UI) reportJob(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		u.notFound(w, r)
		return
	}
	job, err := u.svc.Reports.Job(r.Context(), id)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.render(w, r, http.StatusOK, "job", job)
}

// archivedReport serves an archived report as it was made, checked against
// its SHA-256.
func (u *UI) archivedReport(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		u.notFound(w, r)
		return
	}
	a, body, err := u.svc.Reports.ArchivedContent(r.Context(), id)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", `"`+a.SHA256+`"`)
	serveReport(w, a.Format, a.ContentType, a.Filename, body)
}

// serveReport answers a report's body under the report policy; a PDF or
// JSON is offered as a download.
func serveReport(w http.ResponseWriter, format, contentType, filename string, body []byte) {
	h := w.Header()
	h.Set("Content-Security-Policy", reportPolicy)
	h.Set("Content-Type", contentType)
	if format != report.FormatHTML {
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": filename}))
	}
	_, _ = w.Write(body)
}
