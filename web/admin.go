package web

// adminPages are administration: tokens, notification channels, the audit log.
func (u *UI) adminPages() []page { return nil }

// adminWords are the words of these pages.
var adminWords = map[string]map[string]string{langEN: {}, langZH: {}}
