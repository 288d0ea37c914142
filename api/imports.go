package api

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/importer"
)

// Imports stream: no body limit, and time enough for millions of rows.
const (
	importBodyLimit = -1
	importTimeout   = 30 * time.Minute
)

func (s *Server) importRoutes() []Route {
	return []Route{
		{Method: "POST", Path: "/imports", Roles: recordWrites, BodyLimit: importBodyLimit, Timeout: importTimeout, handler: s.runImport},
	}
}

// runImport reads a whole file of one record type. A rejected file answers
// 422 with the same report body as a successful one, listing the bad rows;
// a server with too many imports already running or waiting answers 429
// with Retry-After, having read nothing.
func (s *Server) runImport(c *gin.Context) {
	q := newQuery(c.Request.URL.Query())
	typ := q.str("type")
	format := q.oneOf("format", "csv", "jsonl")
	partial := q.boolean("partial")
	source := q.str("source")
	// The importer checks these three and names the one at fault.
	charset, dateFormat, timezone := q.str("charset"), q.str("date_format"), q.str("timezone")
	if typ == "" {
		q.v.Add("type", "is required: one of %s", strings.Join(s.svc.Imports.Types(), ", "))
	}
	if err := q.err(); err != nil {
		s.writeError(c, err)
		return
	}
	if format == "" {
		format = formatFromContentType(c.ContentType())
	}
	opts := importer.Options{Format: format, Partial: partial != nil && *partial, Source: source,
		Charset: charset, DateFormat: dateFormat, Timezone: timezone}
	// A cancelled import (the server shutting down, the client gone) stops
	// at once; the read deadline also ends the server's own blocked read of
	// a stalled upload, so the connection closes instead of lingering.
	ctx := c.Request.Context()
	unwatch := context.AfterFunc(ctx, func() { _ = http.NewResponseController(c.Writer).SetReadDeadline(time.Now()) })
	defer unwatch()
	rep, err := s.svc.Imports.Import(ctx, s.pool, typ, c.Request.Body, opts)
	var busy *importer.BusyError
	switch {
	case errors.As(err, &busy):
		c.Header("Retry-After", strconv.Itoa(int(math.Ceil(busy.RetryAfter.Seconds()))))
		s.writeError(c, err)
	case errors.Is(err, importer.ErrRejected):
		c.JSON(http.StatusUnprocessableEntity, gin.H{"error": errorDetail{Code: orchestrator.EINVALID,
			Message: err.Error(), RequestID: requestID(c)}, "report": rep})
	case err != nil:
		s.writeError(c, err)
	default:
		c.JSON(http.StatusOK, rep)
	}
}

func formatFromContentType(ct string) string {
	switch ct {
	case "application/x-ndjson", "application/jsonl", "application/x-jsonlines":
		return "jsonl"
	}
	return "csv"
}
