package web

// biaPages are the BIA editor of a service.
func (u *UI) biaPages() []page { return nil }

// biaWords are the words of the BIA editor of a service.
var biaWords = map[string]map[string]string{langEN: {}, langZH: {}}
