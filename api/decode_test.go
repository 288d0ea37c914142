package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/bcdr/bcdr/orchestrator"
)

// FuzzDecodeJSON feeds arbitrary bodies to the decoder every handler uses:
// it must never panic, and every failure must be a user-facing 4xx error.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"name":"x","role":"admin"}`, `{"name":`, `[]`, `{"name":1}`, `{} {}`, `{"extra":true}`, "\xff\xfe", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Request = httptest.NewRequest("POST", "/", strings.NewReader(body))
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, 1<<10)
		var req createTokenRequest
		err := decodeJSON(c, &req)
		if err == nil {
			return
		}
		switch code := orchestrator.ErrorCode(err); code {
		case orchestrator.EINVALID, orchestrator.ETOOLARGE:
		default:
			t.Fatalf("decodeJSON(%q) returned %s error %v", body, code, err)
		}
	})
}
