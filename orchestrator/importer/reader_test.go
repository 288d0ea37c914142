package importer

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
)

type sampleInput struct {
	Key   string                `json:"key"`
	Count int                   `json:"count"`
	Wait  orchestrator.Duration `json:"wait"`
	Tags  []string              `json:"tags"`
	At    *time.Time            `json:"at"`
	On    bool                  `json:"on"`
	Extra map[string]any        `json:"extra"`
}

func sampleSpec() *Spec[sampleInput] {
	return &Spec[sampleInput]{
		Type:      "samples",
		Aliases:   map[string]string{"id": "key", "number": "count"},
		Required:  []string{"key"},
		ExtraInto: "extra",
		Validate: func(in *sampleInput) error {
			var v orchestrator.Validation
			v.Require("key", in.Key)
			if in.Count < 0 {
				v.Add("count", "must not be negative")
			}
			return v.Err()
		},
		Values: func(in *sampleInput, source string) []any { return []any{in.Key, in.Count, source} },
	}
}

// readAll runs the reader over a file the way COPY would.
func readAll(t testing.TB, body, format string) ([][]any, Report, error) {
	src, err := newSource(strings.NewReader(body), format, "")
	if err != nil {
		return nil, Report{}, orchestrator.Errorf(orchestrator.EINVALID, "%v", err)
	}
	src.dates, err = newDateReader("", "")
	require.NoError(t, err)
	rep := Report{}
	r, err := sampleSpec().newRowReader(src, Options{Format: format, Source: "test", MaxProblems: 50}, &rep)
	if err != nil {
		return nil, rep, err
	}
	var rows [][]any
	for r.Next() {
		v, err := r.Values()
		if err != nil {
			t.Fatalf("Values after Next returned true: %v", err)
		}
		rows = append(rows, append([]any(nil), v...))
	}
	return rows, rep, r.Err()
}

func TestCSVRows(t *testing.T) {
	t.Parallel()
	body := "\ufeffID,Number,wait,tags,at,on,rack\r\n" +
		"a,1,90m,x; y,2026-01-31 09:00:00,yes,R1\r\n" +
		"b,-1,,,,,\r\n" +
		"c,two,,,,,\r\n" +
		"d,2,,,,maybe,\r\n" +
		"e,3\r\n" +
		"中文,4,,,,,\r\n"
	rows, rep, err := readAll(t, body, "csv")
	require.NoError(t, err)
	require.Equal(t, [][]any{{int32(1), "a", 1, "test"}, {int32(6), "中文", 4, "test"}}, rows)
	require.Equal(t, []Problem{
		{Row: 2, Column: "count", Message: "must not be negative"},
		{Row: 3, Column: "count", Message: `"two" is not a whole number`},
		{Row: 4, Column: "on", Message: `"maybe" is not true or false`},
		{Row: 5, Message: "has 2 columns; the header has 7"},
	}, rep.Problems)
}

func TestCSVHeaderProblems(t *testing.T) {
	t.Parallel()
	_, _, err := readAll(t, "count\n1\n", "csv")
	require.ErrorContains(t, err, "missing key")
	_, _, err = readAll(t, "key,id\n1,2\n", "csv")
	require.ErrorContains(t, err, "both give key")
	_, _, err = readAll(t, "", "csv")
	require.ErrorContains(t, err, "empty")
}

func TestJSONLRows(t *testing.T) {
	t.Parallel()
	body := `{"key":"a","count":1,"wait":"1h"}` + "\n\n" +
		`{"key":"b","colour":"red"}` + "\n" +
		`{"key":"c","count":"x"}` + "\n" +
		`{"key":` + "\n"
	rows, rep, err := readAll(t, body, "jsonl")
	require.NoError(t, err)
	require.Len(t, rows, 1)
	require.Len(t, rep.Problems, 3)
	require.Equal(t, Problem{Row: 2, Column: "colour", Message: "is not a known field"}, rep.Problems[0])
	require.Equal(t, "count", rep.Problems[1].Column)
	require.Equal(t, 4, rep.Problems[2].Row)
}

func TestLineLimit(t *testing.T) {
	t.Parallel()
	_, _, err := readAll(t, "key\n"+strings.Repeat("x", maxLineBytes+10), "csv")
	require.ErrorContains(t, err, "longer than")
	_, _, err = readAll(t, strings.Repeat("{", maxLineBytes+10), "jsonl")
	require.ErrorContains(t, err, "longer than")
}

// FuzzCSVReader and FuzzJSONLReader feed arbitrary files to the readers:
// they must not panic, a file they refuse is refused as the user's
// mistake, every problem names a row that exists, and every row handed on
// passed validation.
func FuzzCSVReader(f *testing.F) {
	for _, s := range []string{"key,count\na,1\n", "\ufeffid;x\n\"a\nb\",2", "key\n=cmd|x\n", "key\n\xff\n", "key,on\r\na,yes\r\n",
		"", "count\n1\n", "key\na\n" + strings.Repeat("x", maxLineBytes+10)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) { checkReader(t, body, "csv") })
}

func FuzzJSONLReader(f *testing.F) {
	for _, s := range []string{`{"key":"a"}`, "{\"key\":1}\n{}", "[]\n", "{\"wait\":\"-1h\"}", `{"key":"a"}` + "\n" + strings.Repeat("{", maxLineBytes+10)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) { checkReader(t, body, "jsonl") })
}

func checkReader(t *testing.T, body, format string) {
	rows, rep, err := readAll(t, body, format)
	if err != nil {
		// A file the reader cannot go on with is the user's to fix: it
		// must be an invalid-input error with a message, never internal.
		if orchestrator.ErrorCode(err) != orchestrator.EINVALID || err.Error() == "" {
			t.Fatalf("file refused with %q (code %s), want an invalid-input error", err, orchestrator.ErrorCode(err))
		}
		return
	}
	total := len(rows) + rep.Rejected
	bad := map[int]bool{}
	for _, p := range rep.Problems {
		if p.Row < 1 || p.Row > total {
			t.Fatalf("problem names row %d of %d: %+v", p.Row, total, p)
		}
		bad[p.Row] = true
	}
	last := 0
	for _, v := range rows {
		row, key := int(v[0].(int32)), v[1].(string)
		if row <= last || row > total || bad[row] {
			t.Fatalf("good row %d after row %d of %d (bad rows %v)", row, last, total, bad)
		}
		if key == "" {
			t.Fatalf("row %d was handed on without its required key", row)
		}
		last = row
	}
}

func TestCSVDatesHeldUntilTheFileShowsTheirOrder(t *testing.T) {
	t.Parallel()
	rows, rep, err := readAll(t, "key;at\na;05/03/2025 14:22\nb;25/03/2025 09:00\nc;\"04/03/2025\"\n", "csv")
	require.NoError(t, err)
	require.Empty(t, rep.Problems)
	require.Equal(t, [][]any{{int32(2), "b", 0, "test"}, {int32(1), "a", 0, "test"}, {int32(3), "c", 0, "test"}}, rows)

	rows, rep, err = readAll(t, "key,at\na,05/03/2025 14:22\nb,2025-03-05 09:00\n", "csv")
	require.NoError(t, err)
	require.Len(t, rows, 1)
	require.Equal(t, []Problem{{Row: 1, Column: "at", Message: `date "05/03/2025 14:22" reads either day/month or month/day and no date in the file tells which; give date_format (dmy or mdy)`}}, rep.Problems)
}
