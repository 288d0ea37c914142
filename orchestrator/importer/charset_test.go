package importer

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/simplifiedchinese"
)

func gb18030(t testing.TB, s string) []byte {
	b, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(s))
	require.NoError(t, err)
	return b
}

func cp1252(t testing.TB, s string) []byte {
	b, err := charmap.Windows1252.NewEncoder().Bytes([]byte(s))
	require.NoError(t, err)
	return b
}

func decodeAll(raw []byte, charset string) (string, error) {
	d, err := newDecodingReader(iotest.HalfReader(bytes.NewReader(raw)), charset)
	if err != nil {
		return "", err
	}
	out, err := io.ReadAll(d)
	return string(out), err
}

func TestDecodingDetects(t *testing.T) {
	t.Parallel()
	chinese := "key,name,owner\r\nfin-01,财务系统 “核心”,张三\r\nweb,网上办税服务厅,李四\r\n"
	western := "key,name,site\r\nzrh,Zürich – Rechenzentrum,Café Müller\r\npar,Île-de-France,€ cost\r\n"
	long := strings.Repeat("ascii,only,row\n", 20000) // the first non-ASCII byte far into the file
	for name, tc := range map[string]struct {
		raw  []byte
		want string
	}{
		"utf-8":             {[]byte(chinese), chinese},
		"utf-8 with BOM":    {append([]byte("\ufeff"), chinese...), chinese},
		"gb18030":           {gb18030(t, chinese), chinese},
		"gb18030 late":      {gb18030(t, long+chinese), long + chinese},
		"windows-1252":      {cp1252(t, western), western},
		"windows-1252 late": {cp1252(t, long+western), long + western},
		"one Latin word":    {cp1252(t, "a,Zürich\n"), "a,Zürich\n"},
		"gb18030 four-byte": {gb18030(t, "a,𠀀€\n"), "a,𠀀€\n"},
		"gb18030 BOM":       {append([]byte{0x84, 0x31, 0x95, 0x33}, gb18030(t, "a,中\n")...), "a,中\n"},
		"ascii":             {[]byte("a,b\n"), "a,b\n"},
		"empty":             {nil, ""},
	} {
		got, err := decodeAll(tc.raw, CharsetAuto)
		require.NoError(t, err, name)
		require.Equal(t, tc.want, got, name)
	}
}

func TestDecodingGiven(t *testing.T) {
	t.Parallel()
	got, err := decodeAll(cp1252(t, "a,Café\n"), CharsetCP1252)
	require.NoError(t, err)
	require.Equal(t, "a,Café\n", got)
	got, err = decodeAll(gb18030(t, "a,中文\n"), CharsetGB18030)
	require.NoError(t, err)
	require.Equal(t, "a,中文\n", got)
	// UTF-8 passes through; the bad cell is its row's error.
	got, err = decodeAll([]byte("a,\xff\n"), CharsetUTF8)
	require.NoError(t, err)
	require.Equal(t, "a,\xff\n", got)
}

func TestDecodingRefuses(t *testing.T) {
	t.Parallel()
	// 0x81 0x20 is no GB18030 character and 0x81 no Windows-1252 one.
	_, err := decodeAll([]byte("key,name\nx,1\ny,bad \x81 here\n"), CharsetAuto)
	require.ErrorContains(t, err, "line 3")
	require.ErrorContains(t, err, "not UTF-8, GB18030 or Windows-1252")
	// Given a charset, the line of the first byte it cannot read.
	_, err = decodeAll([]byte("key\na\nb\nc\xff\n"), CharsetGB18030)
	require.ErrorContains(t, err, "line 4: the file is not valid GB18030")
	_, err = decodeAll(append(bytes.Repeat([]byte("row\n"), 50000), "bad\x9d\n"...), CharsetCP1252)
	require.ErrorContains(t, err, "line 50001: the file is not valid Windows-1252")
	_, err = decodeAll([]byte{0xFF, 0xFE, 'k', 0}, CharsetAuto)
	require.ErrorContains(t, err, "UTF-16")
}

func TestParseCharset(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"": CharsetAuto, "UTF8": CharsetUTF8, "gbk": CharsetGB18030, "GB2312": CharsetGB18030,
		"latin1": CharsetCP1252, "Windows-1252": CharsetCP1252} {
		got, ok := ParseCharset(in)
		require.True(t, ok, in)
		require.Equal(t, want, got, in)
	}
	_, ok := ParseCharset("ebcdic")
	require.False(t, ok)
}

// FuzzDecoding checks that decoding any bytes, in any charset, either fails
// with a message or yields valid UTF-8 (in the decoding charsets) without
// losing ASCII.
func FuzzDecoding(f *testing.F) {
	f.Add([]byte("a,b\n"), uint8(0))
	f.Add([]byte("a,\xb2\xe2\xca\xd4\n"), uint8(0))
	f.Add([]byte("a,Z\xfcrich\n"), uint8(0))
	f.Add([]byte("\x81\x30\x81\x30\x84\x31\xa4\x39"), uint8(2))
	f.Add([]byte("\xef\xbb\xbfx\xff"), uint8(1))
	f.Fuzz(func(t *testing.T, raw []byte, which uint8) {
		cs := Charsets[int(which)%len(Charsets)]
		got, err := decodeAll(raw, cs)
		if err != nil {
			require.NotEmpty(t, err.Error())
			return
		}
		if cs == CharsetUTF8 || (cs == CharsetAuto && (!utf8.ValidString(got) || utf8.Valid(raw))) {
			// Read as UTF-8: passed through, bad bytes left to the cells' checks.
			require.Equal(t, string(bytes.TrimPrefix(raw, []byte("\ufeff"))), got)
			return
		}
		require.True(t, utf8.ValidString(got), "decoded %q from %q as %s", got, raw, cs)
		require.Equal(t, bytes.Count(raw, []byte{'\n'}), strings.Count(got, "\n"), "lines kept")
	})
}
