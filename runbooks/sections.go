package runbooks

import "github.com/bcdr/bcdr/orchestrator"

// Sections are the parts of a continuity plan besides its steps, as the
// source documents require: when and by whom it is invoked, whom to call,
// how to communicate, what service level to hold while invoked, the
// recovery requirements, the way back to normal, and the vital records.
type Sections struct {
	Invocation     Invocation     `json:"invocation"`
	CallTree       CallTreeRef    `json:"call_tree"`
	Communications []string       `json:"communications"`
	Availability   Availability   `json:"availability"`
	Requirements   []Requirements `json:"requirements"`
	Failback       []string       `json:"failback"`
	VitalRecords   []string       `json:"vital_records"`
}

// Invocation is when the plan is invoked (启动条件) and who may invoke it.
type Invocation struct {
	Criteria  []string `json:"criteria"`
	Authority []string `json:"authority"`
}

// CallTreeRef names the business services whose call trees apply; the call
// trees and contacts themselves are read live so a printed runbook carries
// today's phone numbers.
type CallTreeRef struct {
	Services []string `json:"services"`
	Notes    string   `json:"notes"`
}

// Availability is the minimum business continuity objective (MBCO) held
// while the plan is invoked.
type Availability struct {
	MBCO    *float64 `json:"mbco"`
	Targets []string `json:"targets"`
}

// Requirements are one service's recovery requirements as its approved BIA
// stated them when the runbook was generated. They are not edited here: a
// new BIA is picked up by regenerating.
type Requirements struct {
	Service    string                 `json:"service"`
	BIAVersion *int                   `json:"bia_version"`
	RTO        *orchestrator.Duration `json:"rto"`
	RPO        *orchestrator.Duration `json:"rpo"`
	WRT        *orchestrator.Duration `json:"wrt"`
	MTPD       *orchestrator.Duration `json:"mtpd"`
}

// SectionsInput changes the editable sections: parts left out stay as
// they are. Requirements and the MBCO come from the BIA.
type SectionsInput struct {
	Invocation *struct {
		Criteria  *[]string `json:"criteria"`
		Authority *[]string `json:"authority"`
	} `json:"invocation"`
	CallTree *struct {
		Services *[]string `json:"services"`
		Notes    *string   `json:"notes"`
	} `json:"call_tree"`
	Communications *[]string `json:"communications"`
	Availability   *struct {
		Targets *[]string `json:"targets"`
	} `json:"availability"`
	Failback     *[]string `json:"failback"`
	VitalRecords *[]string `json:"vital_records"`
}
