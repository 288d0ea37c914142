package api

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
)

// The database restarting under a request is a 503 to try again, not an
// internal error.
func TestDatabaseGoneIsUnavailable(t *testing.T) {
	s := &Server{logger: slog.New(slog.DiscardHandler)}
	for err, want := range map[error]int{
		fmt.Errorf("list CIs: %w", &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}): http.StatusServiceUnavailable,
		fmt.Errorf("list CIs: %w", &pgconn.PgError{Code: "42P01", Message: "relation does not exist"}):                             http.StatusInternalServerError,
	} {
		rec := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(rec)
		c.Request = httptest.NewRequest(http.MethodGet, "/api/v1/cis", nil)
		s.writeError(c, err)
		require.Equal(t, want, rec.Code, err.Error())
		if want == http.StatusServiceUnavailable {
			require.Equal(t, "5", rec.Header().Get("Retry-After"))
			require.Contains(t, rec.Body.String(), `"code":"unavailable"`)
			require.NotContains(t, rec.Body.String(), "administrator", "the driver's message stays in the log")
		}
	}
}
