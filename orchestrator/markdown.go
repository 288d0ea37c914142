package orchestrator

import "strings"

// markdownEscaper keeps user text from turning into markup, links or HTML
// when Markdown is rendered.
var markdownEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "<", "&lt;", ">", "&gt;", "&", "&amp;",
	"#", `\#`, "|", `\|`, "!", `\!`, "://", `:\/\/`, "\r", " ", "\n", " ",
)

// MarkdownText escapes user text for a Markdown document: one line, no
// markup, no links, no HTML.
func MarkdownText(s string) string { return markdownEscaper.Replace(s) }
