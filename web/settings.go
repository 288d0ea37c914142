package web

// settingsPages are settings and channel editing.
func (u *UI) settingsPages() []page { return nil }

// settingsWords are the words of settings and channel editing.
var settingsWords = map[string]map[string]string{langEN: {}, langZH: {}}
