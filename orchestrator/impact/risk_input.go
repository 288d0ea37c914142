package impact

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
)

// Treatments are the ways a risk may be treated.
var Treatments = []string{"mitigate", "accept", "transfer", "avoid"}

// Limits on a risk's text and scope.
const (
	maxRiskTitle       = 200
	maxRiskDescription = 10000
	maxRiskControl     = 500
	maxRiskOwner       = 200
	maxScopeCIs        = 1000
	maxScopeOthers     = 100
	dateLayout         = "2006-01-02"
)

// Scope is what a risk threatens: CIs by key, sites by name and suppliers
// by key. A site stands for every CI located there, a supplier for the
// supplier_service CIs it provides.
type Scope struct {
	CIs       []string `json:"cis"`
	Sites     []string `json:"sites"`
	Suppliers []string `json:"suppliers"`
}

// RiskInput is what a client sends to create or replace a risk. Residual
// likelihood and impact default to the inherent ones (no control counted).
type RiskInput struct {
	Title              string   `json:"title"`
	Threat             string   `json:"threat"`
	Scope              Scope    `json:"scope"`
	Description        string   `json:"description"`
	Likelihood         int      `json:"likelihood"`
	Impact             int      `json:"impact"`
	Controls           []string `json:"controls"`
	ResidualLikelihood int      `json:"residual_likelihood"`
	ResidualImpact     int      `json:"residual_impact"`
	Treatment          string   `json:"treatment"`
	Owner              string   `json:"owner"`
	// ReviewDate is the day the risk is next reviewed, YYYY-MM-DD.
	ReviewDate *string `json:"review_date"`
	Source     string  `json:"source"`
	ExternalID string  `json:"external_id"`
}

// Normalize trims the input and fills defaults.
func (in *RiskInput) Normalize(defaultSource string) {
	for _, f := range []*string{&in.Title, &in.Threat, &in.Treatment, &in.Owner, &in.Source, &in.ExternalID} {
		*f = strings.TrimSpace(*f)
	}
	for _, l := range []*[]string{&in.Scope.CIs, &in.Scope.Sites, &in.Scope.Suppliers, &in.Controls} {
		out := make([]string, 0, len(*l))
		for _, s := range *l {
			out = append(out, strings.TrimSpace(s))
		}
		*l = out
	}
	if in.ResidualLikelihood == 0 {
		in.ResidualLikelihood = in.Likelihood
	}
	if in.ResidualImpact == 0 {
		in.ResidualImpact = in.Impact
	}
	if in.ReviewDate != nil && strings.TrimSpace(*in.ReviewDate) == "" {
		in.ReviewDate = nil
	}
	if in.Source == "" {
		in.Source = defaultSource
	}
}

// Validate checks a risk without the database, naming every bad field.
func (in *RiskInput) Validate() error {
	var v orchestrator.Validation
	v.Require("title", in.Title)
	checkField(&v, "title", in.Title, maxRiskTitle)
	if !slices.Contains(Threats, in.Threat) {
		v.Add("threat", "must be one of %s", strings.Join(Threats, ", "))
	}
	checkField(&v, "description", in.Description, maxRiskDescription)
	scale(&v, "likelihood", in.Likelihood)
	scale(&v, "impact", in.Impact)
	if scale(&v, "residual_likelihood", in.ResidualLikelihood) && in.Likelihood >= 1 && in.ResidualLikelihood > in.Likelihood {
		v.Add("residual_likelihood", "%d exceeds the inherent likelihood %d; controls cannot make a risk likelier", in.ResidualLikelihood, in.Likelihood)
	}
	if scale(&v, "residual_impact", in.ResidualImpact) && in.Impact >= 1 && in.ResidualImpact > in.Impact {
		v.Add("residual_impact", "%d exceeds the inherent impact %d; controls cannot make a risk worse", in.ResidualImpact, in.Impact)
	}
	if !slices.Contains(Treatments, in.Treatment) {
		v.Add("treatment", "must be one of %s", strings.Join(Treatments, ", "))
	}
	checkField(&v, "owner", in.Owner, maxRiskOwner)
	if in.ReviewDate != nil {
		if _, err := time.Parse(dateLayout, *in.ReviewDate); err != nil {
			v.Add("review_date", "must be a date such as 2026-06-30")
		}
	}
	checkItems(&v, "controls", in.Controls, maxListItems, maxRiskControl)
	if len(in.Scope.CIs)+len(in.Scope.Sites)+len(in.Scope.Suppliers) == 0 {
		v.Add("scope", "must name at least one CI, site or supplier")
	}
	checkItems(&v, "scope.cis", in.Scope.CIs, maxScopeCIs, maxListItem)
	checkItems(&v, "scope.sites", in.Scope.Sites, maxScopeOthers, maxListItem)
	checkItems(&v, "scope.suppliers", in.Scope.Suppliers, maxScopeOthers, maxListItem)
	checkField(&v, "source", in.Source, 100)
	checkField(&v, "external_id", in.ExternalID, 300)
	return v.Err()
}

// scale checks a 1–5 rating and reports whether it is one.
func scale(v *orchestrator.Validation, field string, n int) bool {
	if n < 1 || n > 5 {
		v.Add(field, "must be between 1 and 5")
		return false
	}
	return true
}

func checkField(v *orchestrator.Validation, field, s string, limit int) {
	if msg := checkText(s, limit); msg != "" {
		v.Add(field, "%s", msg)
	}
}

// checkItems requires non-blank, distinct, clean entries.
func checkItems(v *orchestrator.Validation, field string, items []string, most, limit int) {
	if len(items) > most {
		v.Add(field, "must hold at most %d entries", most)
		return
	}
	seen := make(map[string]bool, len(items))
	for i, s := range items {
		f := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case s == "":
			v.Add(f, "must not be blank")
		case seen[s]:
			v.Add(f, "%q is listed twice", s)
		default:
			if msg := checkText(s, limit); msg != "" {
				v.Add(f, "%s", msg)
			}
		}
		seen[s] = true
	}
}
