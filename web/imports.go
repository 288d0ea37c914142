package web

// importPages are imports and the offline kit.
func (u *UI) importPages() []page { return nil }

// importWords are the words of imports and the offline kit.
var importWords = map[string]map[string]string{langEN: {}, langZH: {}}
