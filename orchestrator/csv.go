package orchestrator

import "strconv"

// SpreadsheetSafe defuses cells for a CSV file a person will open in a
// spreadsheet: a cell starting with =, +, -, @, a tab or a carriage return
// would run as a formula, so it gets a leading single quote. Plain numbers
// such as -42 or +1.5 stay as they are. It rewrites cells in place and
// returns them.
func SpreadsheetSafe(cells ...string) []string {
	for i, c := range cells {
		if c != "" && (c[0] == '=' || c[0] == '+' || c[0] == '-' || c[0] == '@' || c[0] == '\t' || c[0] == '\r') {
			if _, err := strconv.ParseFloat(c, 64); err != nil {
				cells[i] = "'" + c
			}
		}
	}
	return cells
}
