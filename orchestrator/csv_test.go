package orchestrator

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSpreadsheetSafe(t *testing.T) {
	t.Parallel()
	got := SpreadsheetSafe("", "plain", "=cmd|' /C calc'!A0", "+HYPERLINK(\"x\")", "-2+3", "@SUM(A1)", "\tx", "\rx",
		"-42", "+1.5", "a=b")
	require.Equal(t, []string{"", "plain", "'=cmd|' /C calc'!A0", "'+HYPERLINK(\"x\")", "'-2+3", "'@SUM(A1)", "'\tx", "'\rx",
		"-42", "+1.5", "a=b"}, got)
}
