package importer

import (
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A slow upload's header is read as soon as its line has arrived: charset
// detection and the separator sniffing wait for no more.
func TestSlowUploadHeader(t *testing.T) {
	t.Parallel()
	pr, pw := io.Pipe()
	defer pw.Close()
	go func() { _, _ = io.WriteString(pw, "key;name;class\nci1;CI 1;server\n") }()
	done := make(chan []string)
	go func() {
		s, err := newSource(pr, "csv", "")
		if err != nil {
			close(done)
			return
		}
		h, _ := s.header()
		done <- h
	}()
	select {
	case h := <-done:
		require.Equal(t, []string{"key", "name", "class"}, h)
	case <-time.After(10 * time.Second):
		t.Fatal("the header waited for more of the upload")
	}
}
