package report

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/notify"
	"github.com/bcdr/bcdr/orchestrator/postgres"
	"github.com/bcdr/bcdr/orchestrator/scheduler"
)

// A report schedule's target is the report it makes, written as a kind
// and the request's fields as a query: "executive", "executive?format=pdf&lang=zh-CN",
// "service?service=payments". The period is the last whole one before
// the firing (the month before, or the year before for the annual review),
// so the schedule names none; the format defaults to PDF, the language to
// English.

// ParseTarget reads a report schedule's target; the error says what is
// wrong with it.
func ParseTarget(target string) (Request, error) {
	kind, query, _ := strings.Cut(target, "?")
	q := Request{Kind: Kind(kind), Format: FormatPDF, Lang: LangEN}
	if !q.Kind.Valid() {
		return Request{}, fmt.Errorf("must name a report (%s), optionally followed by ?format=&lang= and the report's subject", kindList())
	}
	values, err := url.ParseQuery(query)
	if err != nil {
		return Request{}, fmt.Errorf("has a query that cannot be read: %v", err)
	}
	subject := SubjectField(q.Kind)
	for name, vs := range values {
		if len(vs) != 1 {
			return Request{}, fmt.Errorf("names %s more than once", name)
		}
		switch v := vs[0]; {
		case name == "format":
			q.Format = v
		case name == "lang":
			q.Lang = v
		case name == subject && subject != "":
			q.Subject = v
		case name == "period":
			return Request{}, errors.New("names no period: each firing reports on the last whole period before it")
		default:
			return Request{}, fmt.Errorf("has %s, which the %s report does not take", name, q.Kind)
		}
	}
	// Validation is against the request's shape, not the clock: a period is
	// filled at each firing.
	probe := q
	probe.Period = ""
	if _, _, err := probe.Validate(time.Now()); err != nil {
		var e *orchestrator.Error
		if errors.As(err, &e) && len(e.Fields) > 0 {
			return Request{}, fmt.Errorf("%s %s", e.Fields[0].Field, e.Fields[0].Message)
		}
		return Request{}, err
	}
	return q, nil
}

// CheckTarget is the scheduler's check of a report schedule's target.
func CheckTarget(target string) error {
	_, err := ParseTarget(target)
	return err
}

// lastPeriod is the last whole period of kind's reports before t: the
// month before t's month, the year before t's year, or none.
func lastPeriod(kind Kind, t time.Time) string {
	t = t.UTC()
	switch kind {
	case KindExecutive, KindService:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0).Format("2006-01")
	case KindAnnualReview:
		return strconv.Itoa(t.Year() - 1)
	}
	return ""
}

// HandleRun is the scheduler's report job: it makes the report the
// schedule names for the last whole period before the firing, archives
// it and tells the channels subscribed to report_ready, which email it as
// an attachment. The archive row and the notification commit with the
// run's outcome: one report and one notification per firing, however
// often the run is retried.
func (e *Reports) HandleRun(ctx context.Context, run scheduler.Run) (string, error) {
	q, err := ParseTarget(run.Target)
	if err != nil {
		return "", fmt.Errorf("schedule %q: target %q %v", run.ScheduleName, run.Target, err)
	}
	q.Period = lastPeriod(q.Kind, run.FireAt)
	r, err := e.Render(ctx, q, nil)
	if err != nil {
		return "", err
	}
	src := archiveSource{by: "schedule " + run.ScheduleName, scheduleID: &run.ScheduleID, runID: &run.ID}
	err = scheduler.RecordOnFinish(ctx, func(ctx context.Context, tx postgres.Querier) error {
		a, stored, err := archive(ctx, tx, r, src)
		if err != nil || !stored {
			return err
		}
		return notify.Publish(ctx, tx, readyEvent(a, run))
	})
	return fmt.Sprintf("made %s (%d bytes, SHA-256 %s)", r.Filename, len(r.Body), Digest(r.Body)), err
}

// readyEvent tells the channels a scheduled report is in the archive.
func readyEvent(a Archived, run scheduler.Run) notify.Event {
	title := strings.ToUpper(string(a.Kind[:1])) + strings.ReplaceAll(string(a.Kind[1:]), "-", " ")
	summary := fmt.Sprintf("%s report %s is ready (%s, %s)", title, strings.TrimSpace(a.Subject+" "+a.Period), strings.ToUpper(a.Format), a.Lang)
	return notify.Event{
		Type:       notify.EventReportReady,
		Subject:    fmt.Sprintf("report/%d", a.ID),
		Summary:    summary,
		OccurredAt: a.CreatedAt,
		Occurrence: strconv.FormatInt(run.ID, 10),
		Details: map[string]any{
			"archive_id": a.ID, "kind": a.Kind, "period": a.Period, "subject": a.Subject, "format": a.Format,
			"lang": a.Lang, "filename": a.Filename, "size": a.Size, "sha256": a.SHA256, "schedule": run.ScheduleName,
			"url": fmt.Sprintf("/api/v1/reports/archive/%d/content", a.ID),
		},
	}
}

// Attachments gives an email about a report the report itself: the
// notification deliverer asks for them (notify.AttachmentSource).
func (e *Reports) Attachments(ctx context.Context, ev notify.Event) ([]notify.Attachment, error) {
	if ev.Type != notify.EventReportReady {
		return nil, nil
	}
	id, ok := ev.Details["archive_id"].(float64) // as JSON decodes a number
	if !ok {
		if n, isInt := ev.Details["archive_id"].(int64); isInt {
			id, ok = float64(n), true
		}
	}
	if !ok || id <= 0 {
		return nil, fmt.Errorf("report_ready event %s names no archived report", ev.Subject)
	}
	a, body, err := e.ArchivedContent(ctx, int64(id))
	if err != nil {
		return nil, err
	}
	return []notify.Attachment{{Filename: a.Filename, ContentType: a.ContentType, Body: body}}, nil
}

// Schedules bcdr serve creates when missing.
const (
	// ScheduleName names the daily readiness snapshot's schedule.
	ScheduleName = "readiness-snapshot"
	// ReportScheduleName names the monthly executive report's schedule.
	ReportScheduleName = "executive-report-monthly"
)

// EnsureSchedules creates the daily readiness snapshot's schedule and the
// monthly executive report's (in PDF, at 06:00 UTC on the 1st) unless one
// of their names exists: deleting or changing them is the operator's
// choice, which a restart keeps. Replicas starting together race on the
// unique names; the losers find them there, so each is created once.
func EnsureSchedules(ctx context.Context, schedules *scheduler.Service) error {
	for _, sc := range []struct {
		name, spec, target string
		kind               scheduler.Kind
	}{
		{ScheduleName, "10 0 * * *", "organisation", scheduler.KindReadinessSnapshot},
		{ReportScheduleName, "0 6 1 * *", string(KindExecutive) + "?format=pdf", scheduler.KindReport},
	} {
		tz := "UTC"
		_, err := schedules.Create(ctx, scheduler.Input{Name: &sc.name, Kind: &sc.kind, Target: &sc.target, Cron: &sc.spec, Timezone: &tz})
		var e *orchestrator.Error
		if err != nil && !(errors.As(err, &e) && e.Code == orchestrator.ECONFLICT) {
			return fmt.Errorf("create schedule %s: %w", sc.name, err)
		}
	}
	return nil
}
