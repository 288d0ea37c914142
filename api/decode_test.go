package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/bcdr/bcdr/orchestrator"
)

// FuzzDecodeJSON feeds arbitrary bodies to the decoder every handler uses,
// into a flat request and a nested one: it must never panic, every failure
// must be a user-facing 4xx error, and a body it accepts is one JSON value.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"name":"x","role":"admin"}`, `{"name":`, `[]`, `{"name":1}`, `{} {}`, `{"extra":true}`, "\xff\xfe", "",
		`{"name":"x","name":"y"}`, `{"thresholds":[{"at":"1h","at":"2h"}]}`, strings.Repeat("[", 40) + strings.Repeat("]", 40)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var token createTokenRequest
		var bia biaRequest
		for _, v := range []any{&token, &bia} {
			c, _ := gin.CreateTestContext(httptest.NewRecorder())
			c.Request = httptest.NewRequest("POST", "/", strings.NewReader(body))
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, 1<<10)
			err := decodeJSON(c, v)
			if err == nil {
				if !json.Valid([]byte(body)) {
					t.Fatalf("decodeJSON accepted %q, which is not one JSON value", body)
				}
				continue
			}
			switch code := orchestrator.ErrorCode(err); code {
			case orchestrator.EINVALID, orchestrator.ETOOLARGE:
			default:
				t.Fatalf("decodeJSON(%q) returned %s error %v", body, code, err)
			}
		}
	})
}
