package api

import (
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/itsm"
)

// listIncidentsJSON answers GET /incidents as the generic list route would,
// byte for byte, but writes the JSON itself: encoding/json's reflection,
// and its re-scan of every time.Time it marshals, cost more CPU than the
// database spends finding the page.
func (s *Server) listIncidentsJSON(c *gin.Context) {
	q, page, err := listParams(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	list, err := s.listIncidents(c.Request.Context(), q, page)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", appendIncidentList(make([]byte, 0, 512*(len(list.Items)+1)), list))
}

// appendIncidentList appends list as encoding/json would marshal it.
func appendIncidentList(b []byte, list orchestrator.List[itsm.Incident]) []byte {
	b = append(b, `{"items":`...)
	if list.Items == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for n, i := range list.Items {
			if n > 0 {
				b = append(b, ',')
			}
			b = appendIncident(b, &i)
		}
		b = append(b, ']')
	}
	if list.Next != "" {
		b = append(b, `,"next":`...)
		b = appendJSONString(b, list.Next)
	}
	return append(b, '}')
}

// appendIncident appends i with the fields, names and formats of its json
// tags.
func appendIncident(b []byte, i *itsm.Incident) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, i.ID, 10)
	b = appendField(b, "source", i.Source)
	b = appendField(b, "external_id", i.ExternalID)
	b = appendField(b, "title", i.Title)
	b = appendField(b, "description", i.Description)
	b = appendField(b, "priority", i.Priority)
	b = append(b, `,"major":`...)
	b = strconv.AppendBool(b, i.Major)
	b = appendField(b, "cause", i.Cause)
	b = append(b, `,"affected_cis":`...)
	b = appendJSONStrings(b, i.AffectedCIs)
	b = append(b, `,"affected_services":`...)
	b = appendJSONStrings(b, i.AffectedServices)
	b = append(b, `,"opened_at":`...)
	b = appendJSONTime(b, &i.OpenedAt)
	b = append(b, `,"restored_at":`...)
	b = appendJSONTime(b, i.RestoredAt)
	b = append(b, `,"closed_at":`...)
	b = appendJSONTime(b, i.ClosedAt)
	b = append(b, `,"problem_id":`...)
	if i.ProblemID == nil {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendInt(b, *i.ProblemID, 10)
	}
	b = append(b, `,"continuity_invoked":`...)
	b = strconv.AppendBool(b, i.ContinuityInvoked)
	b = appendField(b, "status", i.Status)
	b = append(b, `,"created_at":`...)
	b = appendJSONTime(b, &i.CreatedAt)
	b = append(b, `,"updated_at":`...)
	b = appendJSONTime(b, &i.UpdatedAt)
	return append(b, '}')
}

// appendField appends ,"name":"value".
func appendField(b []byte, name, value string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendJSONString(b, value)
}

func appendJSONStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for n, s := range ss {
		if n > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

// appendJSONTime appends t as time.Time's MarshalJSON does (RFC 3339 with
// the nanoseconds it has), or null.
func appendJSONTime(b []byte, t *time.Time) []byte {
	if t == nil {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s quoted as encoding/json does with HTML
// escaping on (gin's c.JSON): <, > and & as \u00XX, invalid UTF-8 as
// U+FFFD, and U+2028 and U+2029 escaped.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
