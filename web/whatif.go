package web

// whatifPages are the what-if simulator.
func (u *UI) whatifPages() []page { return nil }

// whatifWords are the words of the what-if simulator.
var whatifWords = map[string]map[string]string{langEN: {}, langZH: {}}
