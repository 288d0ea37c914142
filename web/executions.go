package web

// executionPages are the executions: the live board and its actions.
func (u *UI) executionPages() []page { return nil }

// executionsWords are the words of these pages.
var executionsWords = map[string]map[string]string{langEN: {}, langZH: {}}
