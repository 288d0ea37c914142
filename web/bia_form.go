package web

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/impact"
)

// biaInput is a BIA as its form holds it: text, as typed, so that a form
// refused is shown again with what the person wrote. The grid has a row
// per impact category and a cell per time point of the settings.
type biaInput struct {
	Rows                 []biaRow
	RTO, RPO, WRT, MBCO  string
	CriticalPeriods      string
	VitalRecords, People string
	Suppliers            string
	// Errs are the problems by form control id; Problems the same in
	// order, for the summary above the form.
	Errs     map[string]string
	Problems []biaProblem
}

// biaRow is one impact category of the grid.
type biaRow struct {
	Category, Label string
	// Financial rows carry a cumulative loss amount per cell.
	Financial bool
	Cells     []biaCell
}

// biaCell is one category at one time point. ID is the suffix of its
// controls' ids (rating-ID, amount-ID, just-ID).
type biaCell struct {
	ID, Label     string
	At            orchestrator.Duration
	Rating        string
	Amount        string
	Justification string
	// Intolerable marks a rating at the settings' intolerable level.
	Intolerable bool
}

// biaProblem is one field at fault: the control it belongs to, its name in
// the page's words and what is wrong.
type biaProblem struct {
	ID, Field, Message string
}

// biaMaxForm bounds a posted BIA form: a full grid with justifications and
// lists at their limits stays well under it.
const biaMaxForm = 1 << 20

// newBIAInput lays out the empty grid of the settings in the page's words.
func newBIAInput(s impact.Settings, w func(string) string) *biaInput {
	in := &biaInput{Errs: map[string]string{}}
	for _, c := range s.Categories {
		row := biaRow{Category: c, Label: categoryLabel(c, w), Financial: c == impact.CategoryFinancial}
		for _, at := range s.TimePoints {
			row.Cells = append(row.Cells, biaCell{ID: c + "-" + at.String(), At: at,
				Label: fmt.Sprintf(w("bia_cell"), row.Label, at)})
		}
		in.Rows = append(in.Rows, row)
	}
	return in
}

// categoryLabel is a category's name in the page's words; a category the
// settings added has its own key as its name.
func categoryLabel(c string, w func(string) string) string {
	if l := w("bia_cat_" + c); l != "bia_cat_"+c {
		return l
	}
	return c
}

// biaInputOf is the form of a stored assessment. It returns how many of
// its ratings fall outside the settings' grid (settings changed since).
func biaInputOf(s impact.Settings, a impact.Assessment, w func(string) string) (*biaInput, int) {
	in := newBIAInput(s, w)
	outside := 0
	for _, t := range a.Thresholds {
		cell := in.cell(t.Category, t.At)
		if cell == nil {
			outside++
			continue
		}
		cell.Rating = strconv.Itoa(t.Rating)
		cell.Intolerable = t.Rating >= s.IntolerableLevel
		if t.Amount != nil {
			cell.Amount = strconv.FormatFloat(*t.Amount, 'f', -1, 64)
		}
		cell.Justification = t.Justification
	}
	in.RTO, in.RPO, in.WRT = a.RTO.String(), a.RPO.String(), a.WRT.String()
	in.MBCO = strconv.FormatFloat(a.MBCO, 'f', -1, 64)
	in.CriticalPeriods = strings.Join(a.CriticalPeriods, "\n")
	in.VitalRecords = strings.Join(a.VitalRecords, "\n")
	in.People = strings.Join(a.People, "\n")
	in.Suppliers = strings.Join(a.Suppliers, "\n")
	return in, outside
}

// biaInputFrom reads the posted form into the grid of the settings;
// controls the grid does not have are ignored.
func biaInputFrom(s impact.Settings, form url.Values, w func(string) string) *biaInput {
	in := newBIAInput(s, w)
	for i := range in.Rows {
		row := &in.Rows[i]
		for j := range row.Cells {
			c := &row.Cells[j]
			c.Rating = strings.TrimSpace(form.Get("rating-" + c.ID))
			if row.Financial {
				c.Amount = strings.TrimSpace(form.Get("amount-" + c.ID))
			}
			c.Justification = strings.TrimSpace(form.Get("just-" + c.ID))
		}
	}
	in.RTO, in.RPO, in.WRT = strings.TrimSpace(form.Get("rto")), strings.TrimSpace(form.Get("rpo")), strings.TrimSpace(form.Get("wrt"))
	in.MBCO = strings.TrimSpace(form.Get("mbco"))
	in.CriticalPeriods, in.VitalRecords = form.Get("critical_periods"), form.Get("vital_records")
	in.People, in.Suppliers = form.Get("people"), form.Get("suppliers")
	return in
}

func (in *biaInput) cell(category string, at orchestrator.Duration) *biaCell {
	for i := range in.Rows {
		if in.Rows[i].Category != category {
			continue
		}
		for j := range in.Rows[i].Cells {
			if c := &in.Rows[i].Cells[j]; c.At == at {
				return c
			}
		}
	}
	return nil
}

// problem records that the control id is at fault.
func (in *biaInput) problem(id, field, msg string) {
	if prev, ok := in.Errs[id]; ok {
		in.Errs[id] = prev + "; " + msg
	} else {
		in.Errs[id] = msg
	}
	in.Problems = append(in.Problems, biaProblem{ID: id, Field: field, Message: msg})
}

// assessment reads the form as an assessment: the text is only parsed
// here (numbers, durations, one list entry a line); the rules are
// impact's. cells are the grid cells of the assessment's thresholds, in
// order, so that impact's errors find their cell. ok is false when the
// text could not be read; the problems say where.
func (in *biaInput) assessment(w func(string) string) (a impact.Assessment, cells []*biaCell, ok bool) {
	before := len(in.Problems)
	for i := range in.Rows {
		for j := range in.Rows[i].Cells {
			c := &in.Rows[i].Cells[j]
			if t, rated := in.threshold(in.Rows[i].Category, c, w); rated {
				a.Thresholds = append(a.Thresholds, t)
				cells = append(cells, c)
			}
		}
	}
	a.RTO = in.duration("rto", w("bia_rto"), in.RTO, true)
	a.RPO = in.duration("rpo", w("bia_rpo"), in.RPO, true)
	a.WRT = in.duration("wrt", w("bia_wrt"), in.WRT, true)
	if in.MBCO == "" {
		in.problem("mbco", w("bia_mbco"), "is required: a percentage from 0 to 100")
	} else if v, err := strconv.ParseFloat(in.MBCO, 64); err != nil {
		in.problem("mbco", w("bia_mbco"), "must be a number (a percentage from 0 to 100)")
	} else {
		a.MBCO = v
	}
	a.CriticalPeriods, a.VitalRecords = biaLines(in.CriticalPeriods), biaLines(in.VitalRecords)
	a.People, a.Suppliers = biaLines(in.People), biaLines(in.Suppliers)
	return a, cells, len(in.Problems) == before
}

// threshold reads one cell; an unrated cell is no threshold.
func (in *biaInput) threshold(category string, c *biaCell, w func(string) string) (impact.Threshold, bool) {
	if c.Rating == "" {
		if c.Amount != "" || c.Justification != "" {
			in.problem("rating-"+c.ID, c.Label+" · "+w("bia_rating"), "rate this cell to give it an amount or a justification")
		}
		return impact.Threshold{}, false
	}
	t := impact.Threshold{Category: category, At: c.At, Justification: c.Justification}
	n, err := strconv.Atoi(c.Rating)
	if err != nil {
		in.problem("rating-"+c.ID, c.Label+" · "+w("bia_rating"), fmt.Sprintf("must be a whole number from 0 to %d", impact.MaxRating))
	}
	t.Rating = n
	if c.Amount != "" {
		v, err := strconv.ParseFloat(c.Amount, 64)
		if err != nil {
			in.problem("amount-"+c.ID, c.Label+" · "+w("bia_amount"), "must be a number")
		}
		t.Amount = &v
	}
	return t, true
}

// duration reads a duration control.
func (in *biaInput) duration(id, field, text string, required bool) orchestrator.Duration {
	if text == "" {
		if required {
			in.problem(id, field, "is required, e.g. 4h, 90m or 3d")
		}
		return 0
	}
	d, err := orchestrator.ParseDuration(text)
	if err != nil {
		in.problem(id, field, err.Error())
	}
	return d
}

// biaLines are a text area's entries, one a line; blank lines are none.
func biaLines(text string) []string {
	out := []string{}
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// thresholdField is an impact field of one threshold: thresholds[3].rating.
var thresholdField = regexp.MustCompile(`^thresholds\[(\d+)\](?:\.([a-z_]+))?$`)

// listField is an impact field of one list entry: people[2].
var listField = regexp.MustCompile(`^([a-z_]+)\[\d+\]$`)

// attach puts impact's validation errors on the controls they are about;
// cells are the grid cells of the assessment's thresholds, in order.
func (in *biaInput) attach(err error, cells []*biaCell, w func(string) string) {
	for _, f := range orchestrator.ErrorFields(err) {
		id, field := f.Field, f.Field
		switch m := thresholdField.FindStringSubmatch(f.Field); {
		case m != nil:
			i, _ := strconv.Atoi(m[1])
			if i >= len(cells) {
				break
			}
			c, part := cells[i], "rating"
			if m[2] == "amount" || m[2] == "justification" {
				part = m[2]
			}
			id = map[string]string{"rating": "rating-", "amount": "amount-", "justification": "just-"}[part] + c.ID
			field = c.Label + " · " + w("bia_"+part)
		case f.Field == "thresholds":
			id, field = "grid", w("bia_grid")
		default:
			if m := listField.FindStringSubmatch(f.Field); m != nil {
				id = m[1]
			}
			field = w("bia_" + id)
		}
		in.problem(id, field, f.Message)
	}
}

// biaField is a control of the form outside the grid: its id (also its
// name and the word key of its label, prefixed bia_), its text and what is
// wrong with it.
type biaField struct {
	ID, Label, Value, Err string
}

func (in *biaInput) fields(pairs ...string) []biaField {
	var out []biaField
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, biaField{ID: pairs[i], Label: "bia_" + pairs[i], Value: pairs[i+1], Err: in.Errs[pairs[i]]})
	}
	return out
}

// Targets are the recovery targets' controls.
func (in *biaInput) Targets() []biaField {
	return in.fields("rto", in.RTO, "rpo", in.RPO, "wrt", in.WRT, "mbco", in.MBCO)
}

// Lists are the controls of the lists, one entry a line.
func (in *biaInput) Lists() []biaField {
	return in.fields("critical_periods", in.CriticalPeriods, "vital_records", in.VitalRecords, "people", in.People,
		"suppliers", in.Suppliers)
}

// Ratings are the ratings a cell may take.
func (in *biaInput) Ratings() []int {
	out := make([]int, impact.MaxRating+1)
	for i := range out {
		out[i] = i
	}
	return out
}
