// Package cmdb keeps the configuration items and the relations between
// them: the dependency graph every impact question is asked of.
package cmdb

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
)

// Known CI classes. Others are accepted when they are lower-case words, so
// an organisation can extend the list.
var Classes = []string{"site", "network", "server", "vm", "storage", "database", "application", "middleware",
	"backup_repository", "supplier_service", "business_service"}

// ClassBusinessService marks the CIs that are business services.
const ClassBusinessService = "business_service"

// Lifecycle states and recovery strategies.
var (
	Statuses   = []string{"planned", "operational", "maintenance", "retired"}
	Strategies = []string{"failover", "restore", "rebuild", "supplier", "manual"}
)

var (
	keyPattern   = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N}._:@-]{0,127}$`)
	classPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{1,39}$`)
)

// CI is a configuration item.
type CI struct {
	Key              string                `json:"key"`
	Name             string                `json:"name"`
	Class            string                `json:"class"`
	Environment      string                `json:"environment"`
	Site             string                `json:"site"`
	Owner            string                `json:"owner"`
	Status           string                `json:"status"`
	DataBearing      bool                  `json:"data_bearing"`
	RecoveryStrategy string                `json:"recovery_strategy"`
	RecoveryEstimate orchestrator.Duration `json:"recovery_estimate"`
	Attributes       map[string]any        `json:"attributes"`
	Service          *ServiceDetails       `json:"service,omitempty"`
	Source           string                `json:"source"`
	ExternalID       string                `json:"external_id"`
	CreatedAt        time.Time             `json:"created_at"`
	UpdatedAt        time.Time             `json:"updated_at"`
}

// CIInput is what a client sends to create or replace a CI, and what one
// row of a CI import holds.
type CIInput struct {
	Key              string                `json:"key"`
	Name             string                `json:"name"`
	Class            string                `json:"class"`
	Environment      string                `json:"environment"`
	Site             string                `json:"site"`
	Owner            string                `json:"owner"`
	Status           string                `json:"status"`
	DataBearing      bool                  `json:"data_bearing"`
	RecoveryStrategy string                `json:"recovery_strategy"`
	RecoveryEstimate orchestrator.Duration `json:"recovery_estimate"`
	Attributes       map[string]any        `json:"attributes"`
	Service          *ServiceDetails       `json:"service"`
	Source           string                `json:"source"`
	ExternalID       string                `json:"external_id"`
}

// Normalize fills defaults: operational status, manual recovery, and an
// external id equal to the key.
func (in *CIInput) Normalize(defaultSource string) {
	in.Key = strings.TrimSpace(in.Key)
	in.Class = strings.TrimSpace(in.Class)
	if in.Status == "" {
		in.Status = "operational"
	}
	if in.RecoveryStrategy == "" {
		in.RecoveryStrategy = "manual"
	}
	if in.Source == "" {
		in.Source = defaultSource
	}
	if in.ExternalID == "" {
		in.ExternalID = in.Key
	}
	if in.Attributes == nil {
		in.Attributes = map[string]any{}
	}
	if in.Class == ClassBusinessService && in.Service == nil {
		in.Service = &ServiceDetails{}
	}
	if in.Service != nil {
		in.Service.normalize()
	}
}

// Validate checks a CI without the database.
func (in *CIInput) Validate() error {
	var v orchestrator.Validation
	switch {
	case in.Key == "":
		v.Add("key", "is required")
	case !keyPattern.MatchString(in.Key):
		v.Add("key", "must be 1-128 letters, digits or . _ : @ - and start with a letter or digit")
	}
	checkText(&v, "name", in.Name, 500, true)
	switch {
	case in.Class == "":
		v.Add("class", "is required")
	case !classPattern.MatchString(in.Class):
		v.Add("class", "must be a lower-case word such as %s", strings.Join(Classes[:4], ", "))
	}
	checkText(&v, "environment", in.Environment, 100, false)
	checkText(&v, "site", in.Site, 128, false)
	checkText(&v, "owner", in.Owner, 128, false)
	if in.Status != "" && !slices.Contains(Statuses, in.Status) {
		v.Add("status", "must be one of %s", strings.Join(Statuses, ", "))
	}
	if in.RecoveryStrategy != "" && !slices.Contains(Strategies, in.RecoveryStrategy) {
		v.Add("recovery_strategy", "must be one of %s", strings.Join(Strategies, ", "))
	}
	checkText(&v, "source", in.Source, 100, false)
	checkText(&v, "external_id", in.ExternalID, 200, false)
	if b, err := json.Marshal(in.Attributes); err == nil && len(b) > 64<<10 {
		v.Add("attributes", "must be at most 64 KiB of JSON")
	}
	if in.Service != nil {
		if in.Class != ClassBusinessService {
			v.Add("service", "only CIs of class business_service carry service details")
		} else {
			in.Service.validate(&v)
		}
	}
	return v.Err()
}

// checkText validates a free-text field: length, no control characters.
func checkText(v *orchestrator.Validation, field, s string, max int, required bool) {
	switch {
	case required && strings.TrimSpace(s) == "":
		v.Add(field, "is required")
	case len(s) > max:
		v.Add(field, "must be at most %d bytes", max)
	case strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }):
		v.Add(field, "must not contain control characters")
	}
}
