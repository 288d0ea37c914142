package web

// runbookPages are the runbooks: list, a runbook, its versions, approval and exports.
func (u *UI) runbookPages() []page { return nil }

// runbooksWords are the words of these pages.
var runbooksWords = map[string]map[string]string{langEN: {}, langZH: {}}
