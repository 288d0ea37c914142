package importer

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// Charsets a file may be read in. Auto detects one of the others.
const (
	CharsetAuto    = "auto"
	CharsetUTF8    = "utf-8"
	CharsetGB18030 = "gb18030"
	CharsetCP1252  = "windows-1252"
)

// Charsets lists the accepted values of Options.Charset.
var Charsets = []string{CharsetAuto, CharsetUTF8, CharsetGB18030, CharsetCP1252}

// ParseCharset reads a charset name as one of Charsets, accepting the
// common other names (utf8, gbk, gb2312 and cp936 are read as their
// superset GB18030; cp1252, latin1 and iso-8859-1 as Windows-1252, as
// browsers do); "" is auto.
func ParseCharset(name string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", "auto":
		return CharsetAuto, true
	case "utf-8", "utf8":
		return CharsetUTF8, true
	case "gb18030", "gbk", "gb2312", "cp936", "windows-936":
		return CharsetGB18030, true
	case "windows-1252", "cp1252", "latin1", "latin-1", "iso-8859-1", "iso8859-1":
		return CharsetCP1252, true
	}
	return "", false
}

// sniffBytes is how much of a file, from its first non-ASCII byte, charset
// detection reads: enough text for a clear majority, little enough to peek.
const sniffBytes = 64 << 10

// decodeChunk is how many raw bytes one step of decoding takes.
const decodeChunk = 32 << 10

// decodingReader turns a file in one of Charsets into UTF-8 as it streams:
// it holds at most a chunk of the file at a time. ASCII is the same in
// every accepted charset, so auto-detection passes ASCII through until the
// first other byte and decides there, from the next sniffBytes.
type decodingReader struct {
	in      *bufio.Reader
	charset string // decided charset; CharsetAuto until then
	line    int    // raw lines fully read, for errors
	out     []byte // decoded bytes not yet returned
	gb      transform.Transformer
	err     error
}

func newDecodingReader(r io.Reader, charset string) (*decodingReader, error) {
	d := &decodingReader{in: bufio.NewReaderSize(r, 2*sniffBytes), charset: charset}
	head, _ := d.in.Peek(4)
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		if charset == CharsetAuto {
			d.charset = CharsetUTF8
		}
		if d.charset == CharsetUTF8 {
			_, _ = d.in.Discard(3)
		}
	case bytes.HasPrefix(head, []byte{0x84, 0x31, 0x95, 0x33}):
		if charset == CharsetAuto {
			d.charset = CharsetGB18030
		}
		if d.charset == CharsetGB18030 {
			_, _ = d.in.Discard(4)
		}
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return nil, errors.New("the file is UTF-16; save it as UTF-8 (CSV UTF-8 in Excel)")
	}
	if d.charset == CharsetGB18030 {
		d.gb = simplifiedchinese.GB18030.NewDecoder()
	}
	return d, nil
}

func (d *decodingReader) Read(p []byte) (int, error) {
	for len(d.out) == 0 {
		switch {
		case d.charset == CharsetUTF8:
			// UTF-8 passes through; a bad byte is the row error of its cell.
			return d.in.Read(p)
		case d.err != nil:
			return 0, d.err
		}
		d.fill()
	}
	n := copy(p, d.out)
	d.out = d.out[n:]
	return n, nil
}

// fill decodes the next chunk into out, or sets err.
func (d *decodingReader) fill() {
	if d.charset == CharsetAuto {
		d.passASCII()
		return
	}
	var (
		chunk  []byte
		err    error
		n, bad int
	)
	for need := 1; ; need = len(chunk) + 1 {
		chunk, err = d.available(need)
		if err != nil && !errors.Is(err, io.EOF) {
			d.err = err
			return
		}
		if len(chunk) == 0 {
			d.err = io.EOF
			return
		}
		if d.charset == CharsetGB18030 {
			n, bad = validGB18030(chunk, err != nil)
		} else {
			n, bad = validCP1252(chunk)
		}
		if n > 0 || bad >= 0 || err != nil {
			break
		}
		// Only part of a character has arrived: wait for the rest.
	}
	if bad < 0 && n == 0 {
		bad = 0 // a character cut off by a short read; cannot happen with bufio's Peek
	}
	if bad >= 0 {
		d.err = fmt.Errorf("line %d: the file is not valid %s (byte 0x%02X); give the right charset, or save the file as UTF-8",
			d.line+1+bytes.Count(chunk[:bad], []byte{'\n'}), charsetLabel(d.charset), chunk[bad])
		if n == 0 {
			return
		}
	}
	valid := chunk[:n]
	d.line += bytes.Count(valid, []byte{'\n'})
	if d.charset == CharsetGB18030 {
		d.out = d.decodeGB(valid)
	} else {
		d.out = decodeCP1252(d.out[:0], valid)
	}
	_, _ = d.in.Discard(n)
}

// available returns the bytes buffered, up to decodeChunk, waiting only
// until at least need of them have arrived (or the input ends), so a slow
// upload flows on as it comes.
func (d *decodingReader) available(need int) ([]byte, error) {
	if _, err := d.in.Peek(need); err != nil {
		b, _ := d.in.Peek(d.in.Buffered())
		return b, err
	}
	return d.in.Peek(min(max(d.in.Buffered(), need), decodeChunk))
}

func (d *decodingReader) decodeGB(valid []byte) []byte {
	out := make([]byte, 0, len(valid)*3/2+4)
	buf := make([]byte, 4096)
	for len(valid) > 0 {
		nDst, nSrc, err := d.gb.Transform(buf, valid, true)
		out = append(out, buf[:nDst]...)
		valid = valid[nSrc:]
		if err != nil && !errors.Is(err, transform.ErrShortDst) {
			break // cannot happen on validated input
		}
	}
	return out
}

// passASCII returns the ASCII before the first other byte, and at that
// byte decides the charset.
func (d *decodingReader) passASCII() {
	buf, err := d.available(1)
	if len(buf) == 0 {
		d.err = io.EOF
		if err != nil && !errors.Is(err, io.EOF) {
			d.err = err
		}
		return
	}
	i := 0
	for i < len(buf) && buf[i] < utf8.RuneSelf {
		i++
	}
	if i > 0 {
		d.line += bytes.Count(buf[:i], []byte{'\n'})
		d.out = append(d.out[:0], buf[:i]...)
		_, _ = d.in.Discard(i)
		return
	}
	sample, err := d.in.Peek(sniffBytes)
	cs, derr := detectCharset(sample, err != nil)
	if derr != nil {
		d.err = fmt.Errorf("line %d: %w", d.line+1, derr)
		return
	}
	d.charset = cs
	if cs == CharsetGB18030 {
		d.gb = simplifiedchinese.GB18030.NewDecoder()
	}
}

// detectCharset decides the charset of a sample that starts at a file's
// first non-ASCII byte (atEOF when it runs to the end of the file):
//   - valid UTF-8 is UTF-8 (other text is almost never valid UTF-8);
//   - else GB18030 when the sample is valid GB18030 and most of its
//     two-byte characters lie in the GB2312 zone (both bytes 0xA1-0xFE),
//     where Chinese text falls; Western text read as GB18030 pairs a
//     Latin letter with the ASCII byte after it, outside that zone;
//   - else Windows-1252 when it has none of that code page's five
//     undefined bytes;
//   - else GB18030 when valid, and otherwise the file is refused.
func detectCharset(sample []byte, atEOF bool) (string, error) {
	if validUTF8Prefix(sample, atEOF) {
		return CharsetUTF8, nil
	}
	gbEnd, gbBad := validGB18030(sample, atEOF)
	gbOK := gbBad < 0
	if gbOK && gbMostlyHanzi(sample[:gbEnd]) {
		return CharsetGB18030, nil
	}
	_, cpBad := validCP1252(sample)
	switch {
	case cpBad < 0:
		return CharsetCP1252, nil
	case gbOK:
		return CharsetGB18030, nil
	}
	return "", fmt.Errorf("the file is not UTF-8, GB18030 or Windows-1252 text (byte 0x%02X on or after this line); give charset, or save the file as UTF-8", sample[0])
}

// validUTF8Prefix reports whether b is valid UTF-8, allowing a character
// cut off at the end when more of the file follows.
func validUTF8Prefix(b []byte, atEOF bool) bool {
	if utf8.Valid(b) {
		return true
	}
	if atEOF {
		return false
	}
	for cut := 1; cut < utf8.UTFMax && cut <= len(b); cut++ {
		if utf8.Valid(b[:len(b)-cut]) && !utf8.FullRune(b[len(b)-cut:]) {
			return true
		}
	}
	return false
}

// gbMostlyHanzi reports whether at least three quarters of the two-byte
// characters of valid GB18030 text are in the GB2312 zone.
func gbMostlyHanzi(b []byte) bool {
	pairs, zone := 0, 0
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c < 0x81:
			i++
		case b[i+1] >= 0x30 && b[i+1] <= 0x39:
			i += 4
		default:
			pairs++
			if c >= 0xA1 && b[i+1] >= 0xA1 {
				zone++
			}
			i += 2
		}
	}
	return pairs > 0 && zone*4 >= pairs*3
}

// validGB18030 returns how many bytes of b are whole valid GB18030
// characters, and the offset of the first invalid one (-1 when none). A
// character cut off at the end counts as invalid only atEOF.
func validGB18030(b []byte, atEOF bool) (n, bad int) {
	i := 0
	for i < len(b) {
		c := b[i]
		if c <= 0x80 { // ASCII, and 0x80 (the euro sign of code page 936)
			i++
			continue
		}
		if c == 0xFF {
			return i, i
		}
		if i+1 >= len(b) {
			goto short
		}
		c1 := b[i+1]
		switch {
		case c1 >= 0x40 && c1 <= 0x7E, c1 >= 0x80 && c1 <= 0xFE:
			i += 2
			continue
		case c1 >= 0x30 && c1 <= 0x39:
			if i+3 >= len(b) {
				if i+2 < len(b) && (b[i+2] < 0x81 || b[i+2] == 0xFF) {
					return i, i
				}
				goto short
			}
			c2, c3 := b[i+2], b[i+3]
			if c2 < 0x81 || c2 == 0xFF || c3 < 0x30 || c3 > 0x39 {
				return i, i
			}
			r := ((int(c-0x81)*10+int(c1-0x30))*126+int(c2-0x81))*10 + int(c3-0x30)
			if r >= 39420 && (r < 189000 || r >= 189000+0x100000) {
				return i, i
			}
			i += 4
			continue
		}
		return i, i
	}
	return i, -1
short:
	if atEOF {
		return i, i
	}
	return i, -1
}

// cp1252High maps the bytes 0x80-0x9F of Windows-1252; 0 marks the five
// undefined ones. 0xA0-0xFF are the Latin-1 code points themselves.
var cp1252High = [32]rune{
	0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
	0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
}

// validCP1252 returns len(b) and -1, or the offset of the first undefined
// byte twice.
func validCP1252(b []byte) (n, bad int) {
	for i, c := range b {
		if c >= 0x80 && c <= 0x9F && cp1252High[c-0x80] == 0 {
			return i, i
		}
	}
	return len(b), -1
}

// decodeCP1252 appends the UTF-8 of valid Windows-1252 text to dst.
func decodeCP1252(dst, b []byte) []byte {
	for _, c := range b {
		switch {
		case c < 0x80:
			dst = append(dst, c)
		case c < 0xA0:
			dst = utf8.AppendRune(dst, cp1252High[c-0x80])
		default:
			dst = utf8.AppendRune(dst, rune(c))
		}
	}
	return dst
}

func charsetLabel(cs string) string {
	switch cs {
	case CharsetGB18030:
		return "GB18030"
	case CharsetCP1252:
		return "Windows-1252"
	}
	return "UTF-8"
}
