package cmdb

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
)

// Weekdays as windows name them.
var Weekdays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// Window is a weekly time window in the service's time zone, e.g. Monday to
// Friday 08:00-18:00. An end of "24:00" means midnight at the end of the day.
type Window struct {
	Days  []string `json:"days"`
	Start string   `json:"start"`
	End   string   `json:"end"`
}

// ServiceDetails are what a business service has beyond any CI.
type ServiceDetails struct {
	Description        string   `json:"description"`
	Timezone           string   `json:"timezone"`
	BusinessHours      []Window `json:"business_hours"`
	MaintenanceWindows []Window `json:"maintenance_windows"`
}

func (d *ServiceDetails) normalize() {
	if d.Timezone == "" {
		d.Timezone = "UTC"
	}
	if d.BusinessHours == nil {
		d.BusinessHours = []Window{}
	}
	if d.MaintenanceWindows == nil {
		d.MaintenanceWindows = []Window{}
	}
}

func (d *ServiceDetails) validate(v *orchestrator.Validation) {
	checkText(v, "service.description", d.Description, 10000, false)
	if _, err := time.LoadLocation(d.Timezone); err != nil || d.Timezone == "Local" {
		v.Add("service.timezone", "must be an IANA time zone such as Europe/Berlin or Asia/Shanghai")
	}
	for i, w := range d.BusinessHours {
		w.validate(v, fmt.Sprintf("service.business_hours[%d]", i))
	}
	for i, w := range d.MaintenanceWindows {
		w.validate(v, fmt.Sprintf("service.maintenance_windows[%d]", i))
	}
}

func (w Window) validate(v *orchestrator.Validation, field string) {
	if len(w.Days) == 0 {
		v.Add(field+".days", "must list at least one of %s", strings.Join(Weekdays, ", "))
	}
	for _, d := range w.Days {
		if !slices.Contains(Weekdays, d) {
			v.Add(field+".days", "%q is not one of %s", d, strings.Join(Weekdays, ", "))
		}
	}
	start, okStart := ClockMinutes(w.Start)
	end, okEnd := ClockMinutes(w.End)
	switch {
	case !okStart:
		v.Add(field+".start", "must be a time of day such as 08:00")
	case !okEnd:
		v.Add(field+".end", "must be a time of day such as 18:00 (24:00 for midnight)")
	case end <= start:
		v.Add(field+".end", "must be after start %s", w.Start)
	}
}

// ClockMinutes reads "HH:MM" (00:00 to 24:00) as minutes after midnight.
func ClockMinutes(s string) (int, bool) {
	var h, m int
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	if _, err := fmt.Sscanf(s, "%02d:%02d", &h, &m); err != nil || h > 24 || m > 59 || (h == 24 && m != 0) {
		return 0, false
	}
	return h*60 + m, true
}
