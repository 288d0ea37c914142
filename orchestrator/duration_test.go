package orchestrator

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseDuration(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"4h", 4 * time.Hour, false},
		{"90m", 90 * time.Minute, false},
		{"1h30m", 90 * time.Minute, false},
		{"3d", 72 * time.Hour, false},
		{"1d12h", 36 * time.Hour, false},
		{"0", 0, false},
		{"0s", 0, false},
		{"", 0, true},
		{"-1h", 0, true},
		{"1.5s", 0, true},
		{"h", 0, true},
		{"d", 0, true},
		{"99999999h", 0, true},
		{"4 hours", 0, true},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := ParseDuration(c.in)
			if c.err {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.want, time.Duration(got))
		})
	}
}

func TestDurationString(t *testing.T) {
	t.Parallel()
	for in, want := range map[time.Duration]string{
		4 * time.Hour: "4h", 90 * time.Minute: "1h30m", 90 * time.Second: "1m30s", 0: "0s", 168 * time.Hour: "168h",
	} {
		require.Equal(t, want, Duration(in).String())
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"4h", "90m", "3d", "1d2h3m4s", "0", "-1h", "1e9h", "d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		if d < 0 || time.Duration(d) > maxDuration {
			t.Fatalf("ParseDuration(%q) = %v out of range", s, time.Duration(d))
		}
		back, err := ParseDuration(d.String())
		if err != nil || back != d {
			t.Fatalf("round trip of %q: %v -> %q -> %v, %v", s, time.Duration(d), d.String(), time.Duration(back), err)
		}
	})
}

func FuzzDecodeCursor(f *testing.F) {
	f.Add(EncodeCursor("abc"))
	f.Add("")
	f.Add("!!!")
	f.Fuzz(func(t *testing.T, s string) {
		after, err := DecodeCursor(s)
		if err != nil {
			require.Equal(t, EINVALID, ErrorCode(err))
			return
		}
		require.Equal(t, after, mustDecode(t, EncodeCursor(after)))
	})
}

func mustDecode(t *testing.T, s string) string {
	v, err := DecodeCursor(s)
	require.NoError(t, err)
	return v
}
