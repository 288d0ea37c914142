package api

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/report"
)

// reportTimeout is a report route's budget: a PDF starts a browser.
const reportTimeout = 90 * time.Second

// defaultReportWait is how long a report request waits for its report
// before answering 202 with a job to poll.
const defaultReportWait = 5 * time.Second

// reportRoutes serve the reports, their jobs and their archive, read by
// every role, executives included. A report that takes longer than the
// request waits becomes a job whose report lands in the archive; nothing
// else here changes state.
func (s *Server) reportRoutes() []Route {
	archive := resource[report.Archived, struct{}]{
		list: func(ctx context.Context, values url.Values, page orchestrator.Page) (orchestrator.List[report.Archived], error) {
			q := newQuery(values)
			f := report.ArchiveFilter{Kind: report.Kind(q.str("kind")), ScheduleID: q.id("schedule")}
			if err := q.err(); err != nil {
				return orchestrator.List[report.Archived]{}, err
			}
			return s.svc.Reports.ListArchive(ctx, f, page)
		},
		get: getByID(s.svc.Reports.GetArchived),
	}
	return append(archive.routes(s, "/reports/archive", "id", reportReads, nil),
		Route{Method: "GET", Path: "/reports/archive/:id/content", Roles: reportReads, handler: s.archivedReport},
		Route{Method: "GET", Path: "/reports/jobs/:id", Roles: reportReads, handler: actOn(s, http.StatusOK, s.svc.Reports.Job)},
		Route{Method: "GET", Path: "/reports/:kind", Roles: reportReads, Timeout: reportTimeout, handler: s.makeReport},
	)
}

// makeReport answers a report in JSON, HTML or PDF, or 202 with a job when
// it is not made within the wait the client prefers (RFC 7240: Prefer:
// respond-async, or wait=N seconds up to the server's default). A PDF
// where Chromium is missing is a 503 that says so.
func (s *Server) makeReport(c *gin.Context) {
	q := newQuery(c.Request.URL.Query())
	// Taken as sent, untrimmed: "en\n" is not a language.
	raw := func(name string) string { q.str(name); return c.Query(name) }
	kind := report.Kind(c.Param("kind"))
	req := report.Request{Kind: kind, Period: raw("period"), Format: raw("format"), Lang: raw("lang")}
	for _, field := range []string{"service", "drill", "execution"} {
		if v := raw(field); v != "" {
			if field != report.SubjectField(kind) {
				q.v.Add(field, "is not taken by the %s report", kind)
				continue
			}
			req.Subject = v
		}
	}
	if err := q.err(); err != nil {
		s.writeError(c, err)
		return
	}
	if !kind.Valid() {
		s.writeError(c, orchestrator.Errorf(orchestrator.ENOTFOUND, "no report is called %q", kind))
		return
	}
	out, job, err := s.svc.Reports.Make(c.Request.Context(), req, preferredWait(c.GetHeader("Prefer")))
	switch {
	case err != nil:
		s.writeError(c, err)
	case job != nil:
		c.Header("Location", fmt.Sprintf("%s/reports/jobs/%d", apiPrefix, job.ID))
		c.Header("Preference-Applied", "respond-async")
		c.JSON(http.StatusAccepted, job)
	default:
		writeReport(c, out.Request.Format, out.ContentType, out.Filename, out.Body)
	}
}

// preferredWait reads RFC 7240's respond-async and wait preferences.
func preferredWait(prefer string) time.Duration {
	wait := defaultReportWait
	for _, p := range strings.Split(prefer, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "respond-async":
			return 0
		case "wait":
			if n, err := strconv.Atoi(strings.Trim(value, `" `)); err == nil && n >= 0 {
				wait = min(wait, time.Duration(n)*time.Second)
			}
		}
	}
	return wait
}

// archivedReport serves an archived report's body with its digest (RFC
// 9530 Repr-Digest) and its SHA-256 as the entity tag.
func (s *Server) archivedReport(c *gin.Context) {
	id, err := recordID(c.Param("id"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	a, body, err := s.svc.Reports.ArchivedContent(c.Request.Context(), id)
	if err != nil {
		s.writeError(c, err)
		return
	}
	sum, _ := hex.DecodeString(a.SHA256)
	c.Header("Repr-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(sum)+":")
	c.Header("ETag", `"`+a.SHA256+`"`)
	writeReport(c, a.Format, a.ContentType, a.Filename, body)
}

// writeReport answers a report's body; a PDF is offered as a download.
func writeReport(c *gin.Context, format, contentType, filename string, body []byte) {
	if format == report.FormatPDF {
		c.Header("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": filename}))
	}
	c.Data(http.StatusOK, contentType, body)
}
