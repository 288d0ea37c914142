package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// errorStatus maps each application error code to its one HTTP status.
var errorStatus = map[string]int{
	orchestrator.EINVALID:      http.StatusUnprocessableEntity,
	orchestrator.ENOTFOUND:     http.StatusNotFound,
	orchestrator.ECONFLICT:     http.StatusConflict,
	orchestrator.EUNAUTHORIZED: http.StatusUnauthorized,
	orchestrator.EFORBIDDEN:    http.StatusForbidden,
	orchestrator.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	orchestrator.ERATELIMITED:  http.StatusTooManyRequests,
	orchestrator.EUNAVAILABLE:  http.StatusServiceUnavailable,
	orchestrator.EINTERNAL:     http.StatusInternalServerError,
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code      string                    `json:"code"`
	Message   string                    `json:"message"`
	Fields    []orchestrator.FieldError `json:"fields,omitempty"`
	RequestID string                    `json:"request_id,omitempty"`
}

// writeError is the one place an error becomes an HTTP response. Internal
// errors are logged with the request id and answered with a generic message;
// the database going away (a restart, a failover) is a 503 to try again.
func (s *Server) writeError(c *gin.Context, err error) {
	code := orchestrator.ErrorCode(err)
	if code == orchestrator.EINTERNAL {
		switch {
		case errors.Is(c.Request.Context().Err(), context.DeadlineExceeded):
			code, err = orchestrator.EUNAVAILABLE, orchestrator.Errorf(orchestrator.EUNAVAILABLE, "request timed out")
		case postgres.IsTransient(err):
			s.logger.LogAttrs(c.Request.Context(), slog.LevelWarn, "database unavailable",
				slog.String("request_id", requestID(c)), slog.String("route", c.FullPath()), slog.String("error", err.Error()))
			c.Header("Retry-After", "5")
			code, err = orchestrator.EUNAVAILABLE, orchestrator.Errorf(orchestrator.EUNAVAILABLE, "the database is unavailable for a moment; try again")
		default:
			s.logger.LogAttrs(c.Request.Context(), slog.LevelError, "internal error",
				slog.String("request_id", requestID(c)), slog.String("route", c.FullPath()), slog.String("error", err.Error()))
		}
	}
	c.AbortWithStatusJSON(errorStatus[code], errorBody{Error: errorDetail{
		Code: code, Message: orchestrator.ErrorMessage(err), Fields: orchestrator.ErrorFields(err), RequestID: requestID(c),
	}})
}
