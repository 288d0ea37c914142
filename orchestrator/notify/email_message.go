package notify

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
)

// maxAttachmentBytes bounds the files one email carries, together; the
// ones past it are named in the body instead.
const maxAttachmentBytes = 20 << 20

// emailMessage is what an email notification is made of.
type emailMessage struct {
	from  *mail.Address
	to    []string
	event Event
	// key is the delivery's idempotency key: the Message-ID and the
	// MIME boundary derive from it, so every attempt of a row sends the
	// same message (only Date differs).
	key   string
	date  time.Time
	files []Attachment
}

// messageID identifies the delivery's message, on every attempt and
// every replica alike: mail clients and archives that keep one message
// per Message-ID show a resent notification once.
func (m emailMessage) messageID() string {
	domain := m.from.Address[strings.LastIndexByte(m.from.Address, '@')+1:]
	return "<" + m.key + "@" + domain + ">"
}

// composeEmail renders m as an RFC 5322 message with CRLF line ends: a
// multipart/mixed body of a quoted-printable text part and a base64 part
// per attachment that fits.
func composeEmail(m emailMessage) []byte {
	var b bytes.Buffer
	// "=_" appears neither in quoted-printable nor in base64 text, so the
	// boundary cannot occur inside a part.
	boundary := "=_" + m.key
	header := func(name, value string) { b.WriteString(name + ": " + value + "\r\n") }
	header("From", m.from.String())
	header("To", strings.Join(m.to, ",\r\n "))
	header("Subject", encodeHeader(title(m.event)))
	header("Date", m.date.Format(time.RFC1123Z))
	header("Message-ID", m.messageID())
	header("MIME-Version", "1.0")
	// Vacation responders and the like do not answer automated mail.
	header("Auto-Submitted", "auto-generated")
	header("X-Bcdr-Event", string(m.event.Type))
	header("Content-Type", mime.FormatMediaType("multipart/mixed", map[string]string{"boundary": boundary}))
	b.WriteString("\r\n")

	w := multipart.NewWriter(&b)
	_ = w.SetBoundary(boundary) // valid: 47 characters of its alphabet
	kept, tooLarge := fitAttachments(m.files)
	text, _ := w.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {"text/plain; charset=UTF-8"},
		"Content-Transfer-Encoding": {"quoted-printable"},
	})
	qp := quotedprintable.NewWriter(text)
	_, _ = qp.Write([]byte(emailText(m.event, m.key, kept, tooLarge)))
	_ = qp.Close()
	for _, f := range kept {
		name := attachmentName(f.Filename)
		part, _ := w.CreatePart(textproto.MIMEHeader{
			// Old clients read the name from Content-Type, as an encoded
			// word; others from Content-Disposition, in RFC 2231 form.
			"Content-Type":              {withName(f.ContentType, mime.QEncoding.Encode("UTF-8", name))},
			"Content-Transfer-Encoding": {"base64"},
			"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": name})},
		})
		writeBase64(part, f.Body)
	}
	_ = w.Close()
	return b.Bytes()
}

// encodeHeader makes text a header value: one line of it, an encoded word
// where it is not ASCII, folded between encoded words.
func encodeHeader(text string) string {
	text = strings.Join(strings.Fields(text), " ")
	enc := mime.QEncoding.Encode("UTF-8", text)
	if enc == text {
		return text
	}
	return strings.ReplaceAll(enc, " =?", "\r\n =?")
}

// emailText is the text part: the summary, the event's facts, the
// attachments and the files too large to attach, with where to find them
// when the event says.
func emailText(e Event, key string, kept, tooLarge []Attachment) string {
	var b strings.Builder
	b.WriteString(e.Summary + "\n\n")
	for _, f := range facts(e) {
		fmt.Fprintf(&b, "%s: %s\n", f.name, strings.Join(strings.Fields(f.value), " "))
	}
	if len(kept) > 0 {
		b.WriteString("\nAttached:\n")
		for _, f := range kept {
			fmt.Fprintf(&b, "- %s (%s)\n", attachmentName(f.Filename), byteSize(len(f.Body)))
		}
	}
	if len(tooLarge) > 0 {
		where := "Find them in bcdr."
		if u, ok := e.Details["url"].(string); ok && u != "" {
			where = "They are at " + u
		}
		fmt.Fprintf(&b, "\nToo large to attach (at most %s in all). %s\n", byteSize(maxAttachmentBytes), where)
		for _, f := range tooLarge {
			fmt.Fprintf(&b, "- %s (%s)\n", attachmentName(f.Filename), byteSize(len(f.Body)))
		}
	}
	b.WriteString("\n-- \nbcdr · " + key + "\n")
	return b.String()
}

// fitAttachments keeps the files, in order, while they fit in
// maxAttachmentBytes together; the others are too large.
func fitAttachments(files []Attachment) (kept, tooLarge []Attachment) {
	total := 0
	for _, f := range files {
		if total+len(f.Body) > maxAttachmentBytes {
			tooLarge = append(tooLarge, f)
			continue
		}
		total += len(f.Body)
		kept = append(kept, f)
	}
	return kept, tooLarge
}

// attachmentName is a file's name as the message gives it: its last path
// component, printable, at most 200 bytes.
func attachmentName(name string) string {
	name = cleanText(name, 1000)
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = clip(strings.Join(strings.Fields(name), " "), 200)
	if name == "" || name == "." || name == ".." {
		return "attachment"
	}
	return name
}

// withName is a part's Content-Type: the file's media type, or
// application/octet-stream when it has none that parses, naming the file.
func withName(contentType, name string) string {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || strings.HasPrefix(mt, "multipart/") {
		mt, params = "application/octet-stream", map[string]string{}
	}
	params["name"] = name
	if v := mime.FormatMediaType(mt, params); v != "" {
		return v
	}
	return mime.FormatMediaType("application/octet-stream", map[string]string{"name": name})
}

// writeBase64 writes body in base64, in lines of 76 characters.
func writeBase64(w io.Writer, body []byte) {
	const line = 76
	enc := base64.StdEncoding.EncodeToString(body)
	for len(enc) > line {
		_, _ = w.Write([]byte(enc[:line] + "\r\n"))
		enc = enc[line:]
	}
	_, _ = w.Write([]byte(enc + "\r\n"))
}

// byteSize is n bytes for a reader: 512 B, 3.4 MiB.
func byteSize(n int) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
