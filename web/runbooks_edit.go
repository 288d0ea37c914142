package web

// runbookEditPages are runbook editing.
func (u *UI) runbookEditPages() []page { return nil }

// runbookEditWords are the words of runbook editing.
var runbookEditWords = map[string]map[string]string{langEN: {}, langZH: {}}
