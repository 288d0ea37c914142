package web

import (
	"bufio"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
)

// An open board's event stream ends when the server shuts down, instead
// of holding the shutdown up until its timeout.
func TestShutdownEndsEventStreams(t *testing.T) {
	t.Parallel()
	e := setup(t)
	p := e.signIn("ops", orchestrator.RoleOperator)
	resp, err := p.client.Get(e.srv.URL + "/executions/1/events")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))

	ended := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
		}
		close(ended)
	}()
	e.ui.Shutdown()
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the event stream did not end at shutdown")
	}
}
