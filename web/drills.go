package web

// drillPages are the drills: the programme, a drill, the findings register.
func (u *UI) drillPages() []page { return nil }

// drillsWords are the words of these pages.
var drillsWords = map[string]map[string]string{langEN: {}, langZH: {}}
