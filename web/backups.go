package web

// backupPages are the backup targets and their checks.
func (u *UI) backupPages() []page { return nil }

// backupsWords are the words of these pages.
var backupsWords = map[string]map[string]string{langEN: {}, langZH: {}}
