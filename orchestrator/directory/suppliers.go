package directory

import (
	"fmt"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
)

// Support hours a contract may promise.
const (
	Support24x7          = "24x7"
	SupportBusinessHours = "business_hours"
)

// ExpiryWarningDays is how far ahead a supplier's contract cover running out
// counts as expiring.
const ExpiryWarningDays = 90

// Supplier is a third party the organisation depends on: who to call there,
// the contracts that bind it and the supplier_service CIs it provides.
// ActiveContract, ContractExpired and ExpiringWithin90d are derived on read
// from the contracts and today's date (see the fields).
type Supplier struct {
	Key       string     `json:"key"`
	Name      string     `json:"name"`
	Contacts  []string   `json:"contacts"`
	Services  []string   `json:"services"`
	Contracts []Contract `json:"contracts"`
	Notes     string     `json:"notes"`
	// ActiveContract covers today; of several, the one that ends last.
	ActiveContract *Contract `json:"active_contract"`
	// ContractExpired: no contract covers today and one has ended.
	ContractExpired bool `json:"contract_expired"`
	// ExpiringWithin90d: a contract covers today, but the unbroken cover
	// of its contracts (renewals that start by the day after one ends
	// included) ends within ExpiryWarningDays.
	ExpiringWithin90d bool      `json:"expiring_within_90d"`
	Source            string    `json:"source"`
	ExternalID        string    `json:"external_id"`
	CreatedAt         time.Time `json:"created_at"`
	UpdatedAt         time.Time `json:"updated_at"`
}

// Contract is one supplier contract. Start and End are the first and last
// days covered; RTO and RPO are what the supplier commits to, when it does.
type Contract struct {
	Reference    string                 `json:"reference"`
	Start        Date                   `json:"start"`
	End          Date                   `json:"end"`
	RTO          *orchestrator.Duration `json:"rto"`
	RPO          *orchestrator.Duration `json:"rpo"`
	SupportHours string                 `json:"support_hours"`
	Notes        string                 `json:"notes"`
}

// SupplierInput is what a client sends to create or replace a supplier, and
// what one row of a supplier import holds. Contacts are contact keys and
// Services keys of supplier_service CIs.
type SupplierInput struct {
	Key        string     `json:"key"`
	Name       string     `json:"name"`
	Contacts   []string   `json:"contacts"`
	Services   []string   `json:"services"`
	Contracts  []Contract `json:"contracts"`
	Notes      string     `json:"notes"`
	Source     string     `json:"source"`
	ExternalID string     `json:"external_id"`
}

// Normalize trims the input and fills defaults: the source given and an
// external id equal to the key.
func (in *SupplierInput) Normalize(defaultSource string) {
	trim(&in.Key, &in.Name, &in.Source, &in.ExternalID)
	in.Contacts = trimList(in.Contacts)
	in.Services = trimList(in.Services)
	if in.Contracts == nil {
		in.Contracts = []Contract{}
	}
	for i := range in.Contracts {
		trim(&in.Contracts[i].Reference, &in.Contracts[i].SupportHours)
	}
	if in.Source == "" {
		in.Source = defaultSource
	}
	if in.ExternalID == "" {
		in.ExternalID = in.Key
	}
}

// Validate checks a supplier without the database, naming every bad field.
func (in *SupplierInput) Validate() error {
	var v orchestrator.Validation
	checkKey(&v, "key", in.Key)
	v.Require("name", in.Name)
	checkText(&v, "name", in.Name, maxName, false)
	checkRefs(&v, "contacts", in.Contacts, maxContacts)
	checkRefs(&v, "services", in.Services, maxList)
	if len(in.Contracts) > maxList {
		v.Add("contracts", "must list at most %d contracts", maxList)
	}
	refs := map[string]bool{}
	for i, c := range in.Contracts {
		field := fmt.Sprintf("contracts[%d]", i)
		v.Require(field+".reference", c.Reference)
		checkText(&v, field+".reference", c.Reference, maxShort, false)
		if refs[c.Reference] && c.Reference != "" {
			v.Add(field+".reference", "%q is listed twice", c.Reference)
		}
		refs[c.Reference] = true
		if c.Start.IsZero() {
			v.Add(field+".start", "is required")
		}
		if c.End.IsZero() {
			v.Add(field+".end", "is required")
		} else if c.End.Before(c.Start) {
			v.Add(field+".end", "must not be before start (%s)", c.Start)
		}
		oneOf(&v, field+".support_hours", c.SupportHours, Support24x7, SupportBusinessHours)
		checkText(&v, field+".notes", c.Notes, maxNotes, true)
	}
	checkText(&v, "notes", in.Notes, maxNotes, true)
	checkIdentity(&v, in.Source, in.ExternalID)
	return v.Err()
}

// SupplierFilter narrows a supplier listing; zero fields match everything.
type SupplierFilter struct {
	Query    string // case-insensitive substring of key or name
	Service  string // key of a supplier_service CI the supplier provides
	Expiring *bool  // matches ExpiringWithin90d
}

func (f SupplierFilter) validate() error {
	var v orchestrator.Validation
	checkFilter(&v, "q", f.Query)
	checkFilter(&v, "service", f.Service)
	return v.Err()
}
