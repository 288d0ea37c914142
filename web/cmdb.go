package web

// cmdbPages are the CMDB browser and dependency view.
func (u *UI) cmdbPages() []page { return nil }

// cmdbWords are the words of the CMDB browser and dependency view.
var cmdbWords = map[string]map[string]string{langEN: {}, langZH: {}}
