package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
)

// biaBodyWith is a whole, valid BIA draft with its thresholds and people
// given as raw JSON, so a test can put a duplicate key or deep nesting
// exactly where it wants.
func biaBodyWith(rto, thresholds, people string) string {
	return `{"rto":` + rto + `,"rpo":"15m","wrt":"1h","mbco":60,` +
		`"thresholds":` + thresholds + `,` +
		`"critical_periods":[],"vital_records":[],"people":` + people + `,"suppliers":[]}`
}

const biaThresholds = `[{"category":"financial","at":"1h","rating":1,"amount":10000},` +
	`{"category":"financial","at":"4h","rating":4,"amount":100000}]`

// nested is v inside depth arrays.
func nested(depth int, v string) string {
	return strings.Repeat("[", depth) + v + strings.Repeat("]", depth)
}

// A body that gives a key twice, or nests past the bound, is refused by the
// decoder every handler uses, naming where, before anything is written.
func TestDecodeRefusesDuplicateKeysAndDeepNesting(t *testing.T) {
	t.Parallel()
	env := setup(t)
	impCI(t, env, "payroll", "business_service")
	cases := map[string]struct {
		body, field, message string
	}{
		"top-level key twice": {strings.Replace(biaBodyWith(`"1h"`, biaThresholds, `[]`), `"rpo"`, `"rto":"2h","rpo"`, 1),
			"rto", "appears twice"},
		"key twice in a threshold": {biaBodyWith(`"1h"`, `[{"category":"financial","at":"1h","at":"2h","rating":1}]`, `[]`),
			"thresholds[0].at", "appears twice"},
		"key twice in a later threshold": {biaBodyWith(`"1h"`, `[{"category":"financial","at":"1h","rating":1},{"rating":2,"at":"4h","rating":3}]`, `[]`),
			"thresholds[1].rating", "appears twice"},
		"the same key spelled with an escape": {strings.Replace(biaBodyWith(`"1h"`, biaThresholds, `[]`), `"rpo"`, `"r\u0074o":"2h","rpo"`, 1),
			"rto", "appears twice"},
		"33 levels": {biaBodyWith(`"1h"`, biaThresholds, nested(32, `"clerk"`)),
			"people" + strings.Repeat("[0]", 31), "nests objects and arrays more than 32 levels deep"},
		"100000 levels": {biaBodyWith(`"1h"`, biaThresholds, nested(100000, `1`)),
			"people" + strings.Repeat("[0]", 31), "more than 32 levels deep"},
		"deep objects": {biaBodyWith(`"1h"`, biaThresholds, strings.Repeat(`{"a":`, 40)+`1`+strings.Repeat(`}`, 40)),
			"people" + strings.Repeat(".a", 31), "more than 32 levels deep"},
	}
	for name, c := range cases {
		resp := env.do("PUT", "/api/v1/services/payroll/bia", cm, c.body)
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s: %s", name, resp.Body)
		require.Equal(t, orchestrator.EINVALID, resp.ErrorCode(t), name)
		var body struct {
			Error struct {
				Message string
				Fields  []struct{ Field, Message string }
			}
		}
		resp.JSON(t, &body)
		require.Len(t, body.Error.Fields, 1, "%s: %s", name, resp.Body)
		require.Equal(t, c.field, body.Error.Fields[0].Field, name)
		require.Contains(t, body.Error.Fields[0].Message, c.message, name)
		if strings.Contains(name, "levels") {
			require.Contains(t, body.Error.Message, "nests too deeply", name)
		}
	}

	// A CI whose key is given twice is not created under either key.
	resp := env.do("POST", "/api/v1/cis", cm, `{"key":"db-a","name":"A","class":"database","key":"db-b"}`)
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s", resp.Body)
	require.Equal(t, []string{"key"}, impFields(t, resp))
	for _, key := range []string{"db-a", "db-b"} {
		require.Equal(t, http.StatusNotFound, env.do("GET", "/api/v1/cis/"+key, auditor, nil).Status, key)
	}
	var n int
	require.NoError(t, env.pool.QueryRow(t.Context(), `SELECT count(*) FROM bia_versions`).Scan(&n))
	require.Zero(t, n, "nothing written")

	// 32 levels is within the bound: the body is refused for its type, not
	// its depth; and the same draft without the duplicate is saved.
	resp = env.do("PUT", "/api/v1/services/payroll/bia", cm, biaBodyWith(`"1h"`, biaThresholds, nested(31, `"clerk"`)))
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s", resp.Body)
	require.NotContains(t, string(resp.Body), "too deeply")
	resp = env.do("PUT", "/api/v1/services/payroll/bia", cm, biaBodyWith(`"1h"`, biaThresholds, `["clerk"]`))
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
}

// checkJSONShape judges the shape alone: where a key repeats, how deep the
// body nests, and what is left after the value.
func TestCheckJSONShape(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		body, field, message string
	}{
		"the same key in different objects": {`{"a":{"a":1,"b":2},"b":[{"a":1},{"a":2}]}`, "", ""},
		"keys differing in case":            {`{"a":1,"A":2}`, "", ""},
		"32 levels":                         {nested(31, `{}`), "", ""},
		"a number too large for float64":    {`{"n":1e400,"m":-123456789012345678901234567890}`, "", ""},
		"a scalar":                          {`"x"`, "", ""},
		"trailing whitespace":               {"{}\r\n\t ", "", ""},
		"byte order mark":                   {"\ufeff{}", "", "not valid JSON"},
		"empty key twice":                   {`{"x":[{"":1,"":2}]}`, `x[0][""]`, "appears twice"},
		"key twice after a nested value":    {`{"a":{"b":[1,{"c":2}]},"a":3}`, "a", "appears twice"},
		"key twice deep in arrays":          {`[[1],[2,{"k":1,"k":1}]]`, "[1][1].k", "appears twice"},
		"33 levels":                         {nested(33, ``), "[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]", "more than 32 levels"},
		"trailing data":                     {`{} {}`, "", "data after the JSON value"},
		"truncated between tokens":          {`{"a":1`, "", "truncated"},
		"truncated in a string":             {`{"a":"x`, "", "truncated"},
		"empty":                             {``, "", "empty"},
		"trailing comma":                    {`{"a":1,}`, "", "not valid JSON"},
		"non-UTF-8 key twice":               {"{\"\xff\":1,\"\xfe\":2}", "\ufffd", "appears twice"},
	} {
		err := checkJSONShape(strings.NewReader(c.body))
		if c.message == "" {
			require.NoError(t, err, name)
			continue
		}
		require.Error(t, err, name)
		require.Equal(t, orchestrator.EINVALID, orchestrator.ErrorCode(err), name)
		require.Contains(t, err.Error(), c.message, name)
		if c.field != "" {
			require.Equal(t, []orchestrator.FieldError{{Field: c.field, Message: orchestrator.ErrorFields(err)[0].Message}},
				orchestrator.ErrorFields(err), name)
		}
	}
}

// A body past the route's limit is still 413 when the shape check is the
// first to read past it.
func TestCheckJSONShapeTooLarge(t *testing.T) {
	t.Parallel()
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	body := `{"name":"` + strings.Repeat("x", 2048) + `"}`
	c.Request = httptest.NewRequest("POST", "/", strings.NewReader(body))
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, 1024)
	var req createTokenRequest
	require.Equal(t, orchestrator.ETOOLARGE, orchestrator.ErrorCode(decodeJSON(c, &req)))
}
