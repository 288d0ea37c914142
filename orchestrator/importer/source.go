package importer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Limits on what one file may hold.
const (
	maxLineBytes = 4 << 20  // one physical line (a JSON line, or a CSV line)
	maxCellBytes = 64 << 10 // one CSV cell
)

// source reads a file row by row: CSV records or JSON lines.
type source struct {
	format string
	lines  *lineLimiter
	csv    *csv.Reader
	text   *bufio.Reader
	row    int // data row number of the last row read, 1-based, header excluded
	dates  *dateReader
}

func newSource(r io.Reader, format, charset string) (*source, error) {
	lim := &lineLimiter{r: r}
	if charset == "" {
		charset = CharsetAuto
	}
	dec, err := newDecodingReader(lim, charset)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(dec, 256<<10)
	// A UTF-8 byte-order mark, as Excel writes, is not part of the data.
	if bom, err := br.Peek(3); err == nil && bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	s := &source{format: format, lines: lim}
	switch format {
	case "csv":
		s.csv = csv.NewReader(br)
		s.csv.Comma = sniffComma(br)
		s.csv.FieldsPerRecord = -1
		s.csv.ReuseRecord = true
	case "jsonl":
		s.text = br
	default:
		return nil, fmt.Errorf("unknown format %q", format)
	}
	return s, nil
}

// headerLine peeks at the first line, waiting only for its bytes: a slow
// upload must not hold the import up before its header is read.
func headerLine(br *bufio.Reader) []byte {
	for need := 1; ; need = br.Buffered() + 1 {
		_, err := br.Peek(min(need, br.Size()))
		head, _ := br.Peek(br.Buffered())
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			return head[:i]
		}
		if err != nil || need >= br.Size() {
			return head
		}
	}
}

// sniffComma picks the separator of a CSV file from its header line: the
// most frequent of comma, semicolon (GLPI, and Excel where the decimal
// mark is a comma) and tab outside quotes; comma when none occurs.
func sniffComma(br *bufio.Reader) rune {
	head := headerLine(br)
	var counts [3]int
	quoted := false
	for _, c := range head {
		switch c {
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				counts[0]++
			}
		case ';':
			if !quoted {
				counts[1]++
			}
		case '\t':
			if !quoted {
				counts[2]++
			}
		}
	}
	best, comma := counts[0], ','
	if counts[1] > best {
		best, comma = counts[1], ';'
	}
	if counts[2] > best {
		comma = '\t'
	}
	return comma
}

// header reads the CSV header row.
func (s *source) header() ([]string, error) {
	rec, err := s.csv.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("the file is empty: a header row is required")
	}
	if err != nil {
		return nil, fmt.Errorf("read header row: %w", s.explain(err))
	}
	return append([]string(nil), rec...), nil
}

// nextCSV returns the next CSV record, io.EOF at the end, or a *rowError
// for a record that cannot be read but does not end the file.
func (s *source) nextCSV() ([]string, error) {
	rec, err := s.csv.Read()
	if err == nil || errors.Is(err, io.EOF) {
		if err == nil {
			s.row++
		}
		return rec, err
	}
	s.row++
	var perr *csv.ParseError
	if errors.As(err, &perr) && !errors.Is(err, errLineTooLong) {
		return nil, &rowError{row: s.row, msg: perr.Err.Error()}
	}
	return nil, s.explain(err)
}

// nextJSON returns the next non-blank JSON line.
func (s *source) nextJSON() ([]byte, error) {
	for {
		line, err := s.text.ReadBytes('\n')
		if len(line) == 0 && err != nil {
			return nil, s.explain(err)
		}
		if len(bytes.TrimSpace(line)) == 0 {
			if err != nil {
				return nil, s.explain(err)
			}
			continue
		}
		s.row++
		return line, nil
	}
}

func (s *source) explain(err error) error {
	if errors.Is(err, errLineTooLong) {
		return fmt.Errorf("row %d: a line is longer than %d bytes", s.row+1, maxLineBytes)
	}
	return err
}

// rowError is a problem confined to one row.
type rowError struct {
	row    int
	column string
	msg    string
	held   bool // the row waits for its dates' order (rowReader.held)
}

func (e *rowError) Error() string { return fmt.Sprintf("row %d: %s", e.row, e.msg) }

// checkCell rejects cells that could not be stored or displayed safely.
// Text that a spreadsheet would run as a formula is refused so that an
// export opened later in a spreadsheet cannot execute it.
func checkCell(cell string) error {
	switch {
	case len(cell) > maxCellBytes:
		return fmt.Errorf("value is %d bytes; the limit is %d", len(cell), maxCellBytes)
	case !utf8.ValidString(cell):
		return errors.New("value is not valid UTF-8 (save the file as UTF-8, or give its charset)")
	case hasControl(cell):
		return errors.New("value contains control characters")
	case looksLikeFormula(cell):
		return errors.New("value looks like a spreadsheet formula (starts with =, +, - or @); quote it differently or remove the leading sign")
	}
	return nil
}

// hasControl reports control characters other than tab and line ends. In
// valid UTF-8 every such character is a single byte below 0x80, so bytes
// can be scanned without decoding runes.
func hasControl(cell string) bool {
	for i := 0; i < len(cell); i++ {
		if c := cell[i]; c < 0x20 && c != '\n' && c != '\r' && c != '\t' || c == 0x7f {
			return true
		}
	}
	return false
}

func looksLikeFormula(cell string) bool {
	if cell == "" {
		return false
	}
	switch cell[0] {
	case '=', '@':
		return true
	case '+', '-':
		// Signed numbers and plain dashes are data; "-2+3" or "+cmd|..." are not.
		return strings.ContainsAny(cell[1:], "=(|!@")
	}
	return false
}

var errLineTooLong = errors.New("line too long")

// lineLimiter fails a read once a single line passes maxLineBytes, so a
// file without newlines cannot make the reader buffer it whole.
type lineLimiter struct {
	r       io.Reader
	current int
	total   int64
}

func (l *lineLimiter) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.total += int64(n)
	chunk := p[:n]
	first := bytes.IndexByte(chunk, '\n')
	if first < 0 {
		l.current += n
	} else {
		// Lines wholly inside one chunk are shorter than the chunk, which
		// the bufio buffer keeps far below the limit; only the line that
		// spans reads needs counting.
		if l.current+first > maxLineBytes {
			return 0, errLineTooLong
		}
		l.current = n - bytes.LastIndexByte(chunk, '\n') - 1
	}
	if l.current > maxLineBytes {
		return 0, errLineTooLong
	}
	return n, err
}
