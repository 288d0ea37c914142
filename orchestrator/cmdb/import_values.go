package cmdb

import "strings"

// The values of ServiceNow and iTop CI exports read as bcdr's. Each mapping
// leaves bcdr's own values alone and passes what it does not know through,
// so validation names it.

// relationWords maps a relation type, lower-cased with runs of spaces and
// underscores as one space, to bcdr's; reversed types name the relation
// from its other end (ServiceNow's "Used by::Depends on" as a parent's
// type means the child depends on the parent).
var relationWords = map[string]struct {
	typ      string
	reversed bool
}{
	"depends on": {"depends_on", false}, "uses": {"depends_on", false}, "consumes": {"depends_on", false},
	"receives data from": {"depends_on", false}, "powered by": {"depends_on", false}, "stored on": {"depends_on", false},
	"virtualized by": {"depends_on", false}, "connected by": {"depends_on", false}, "cluster of": {"depends_on", false},
	"runs on":   {"runs_on", false},
	"hosted on": {"hosted_in", false}, "hosted in": {"hosted_in", false}, "located in": {"hosted_in", false},
	"contained by":  {"hosted_in", false},
	"provided by":   {"provided_by", false},
	"backed up by":  {"backed_up_by", false},
	"replicates to": {"replicates_to", false},
	"fails over to": {"fails_over_to", false}, "failover": {"fails_over_to", false}, "standby": {"fails_over_to", false},
	"used by": {"depends_on", true}, "consumed by": {"depends_on", true}, "powers": {"depends_on", true},
	"stores": {"depends_on", true}, "virtualizes": {"depends_on", true}, "connects": {"depends_on", true},
	"runs":  {"runs_on", true},
	"hosts": {"hosted_in", true}, "houses": {"hosted_in", true}, "contains": {"hosted_in", true},
	"provides":        {"provided_by", true},
	"backs up":        {"backed_up_by", true},
	"replicated from": {"replicates_to", true},
	"failover for":    {"fails_over_to", true},
}

// importedRelationType reads ServiceNow's relationship types ("Depends
// on::Used by" in any case and spacing: the part before :: is the parent's
// side) and bcdr's own as a relation type, and whether the ends swap.
func importedRelationType(t string) (string, bool) {
	forward, _, _ := strings.Cut(t, "::")
	key := strings.Join(strings.FieldsFunc(strings.ToLower(forward), func(r rune) bool { return r == ' ' || r == '_' || r == '\t' }), " ")
	if w, ok := relationWords[key]; ok {
		return w.typ, w.reversed
	}
	return strings.TrimSpace(t), false
}

// importedClass maps the class names of ServiceNow (cmdb_ci_*) and iTop
// (finalclass) to bcdr's classes; anything else is lower-cased.
func importedClass(c string) string {
	l := strings.ToLower(strings.TrimSpace(c))
	for _, m := range classMap {
		if strings.Contains(l, m.fragment) {
			return m.class
		}
	}
	return strings.ReplaceAll(l, " ", "_")
}

// classMap is searched in order; more specific fragments come first.
var classMap = []struct{ fragment, class string }{
	{"business_service", "business_service"}, {"businessprocess", "business_service"}, {"service_business", "business_service"},
	{"business service", "business_service"}, {"cmdb_ci_service", "business_service"}, {"applicationsolution", "application"},
	{"supplier", "supplier_service"}, {"cloud_service", "supplier_service"}, {"contract", "supplier_service"},
	{"backup", "backup_repository"}, {"db_", "database"}, {"database", "database"}, {"dbserver", "database"},
	{"oracle", "database"}, {"sql", "database"}, {"postgres", "database"}, {"db2", "database"}, {"mongo", "database"},
	{"vm_instance", "vm"}, {"virtualmachine", "vm"}, {"virtual machine", "vm"}, {"cmdb_ci_vm", "vm"},
	{"storage", "storage"}, {"san", "storage"}, {"nas", "storage"},
	{"server", "server"}, {"vmware", "server"}, {"vcenter", "server"}, {"esx", "server"}, {"hypervisor", "server"},
	{"load balancer", "network"}, {"netgear", "network"}, {"network", "network"}, {"router", "network"}, {"switch", "network"}, {"firewall", "network"},
	{"appl", "application"}, {"middleware", "middleware"}, {"web_server", "middleware"}, {"location", "site"}, {"datacenter", "site"},
}

// operationalStatuses reads ServiceNow's operational_status (labels and
// numbers), iTop's status and bcdr's own. DR Standby is operational: a
// standby is up, and its failure matters.
var operationalStatuses = map[string]string{
	"operational": "operational", "1": "operational", "dr standby": "operational", "4": "operational",
	"non-operational": "maintenance", "non operational": "maintenance", "2": "maintenance",
	"repair in progress": "maintenance", "3": "maintenance",
	"ready": "planned", "5": "planned", "pipeline": "planned", "7": "planned", "catalog": "planned", "8": "planned",
	"retired": "retired", "6": "retired",
	// iTop and plain words
	"production": "operational", "active": "operational", "in use": "operational", "installed": "operational",
	"implementation": "planned", "stock": "planned", "in stock": "planned", "planned": "planned", "on order": "planned",
	"pending install": "planned",
	"obsolete":        "retired", "inactive": "retired", "disposed": "retired", "absent": "retired", "stolen": "retired",
	"maintenance": "maintenance", "in maintenance": "maintenance", "repair": "maintenance", "in repair": "maintenance",
	"pending repair": "maintenance",
}

// installStatuses reads ServiceNow's install_status (labels and numbers).
var installStatuses = map[string]string{
	"installed": "operational", "1": "operational",
	"on order": "planned", "2": "planned", "pending install": "planned", "4": "planned", "in stock": "planned", "6": "planned",
	"in maintenance": "maintenance", "3": "maintenance", "pending repair": "maintenance", "5": "maintenance",
	"retired": "retired", "7": "retired", "stolen": "retired", "8": "retired", "absent": "retired", "100": "retired",
}

// importedStatus reads a CI's status from its operational status and its
// install status: a CI not installed (on order, in maintenance, retired,
// ...) has that status whatever its operational status says. Unknown
// values pass through for validation to name.
func importedStatus(operational, install string) string {
	inst := strings.ToLower(strings.TrimSpace(install))
	if st, ok := installStatuses[inst]; ok && st != "operational" {
		return st
	}
	op := strings.ToLower(strings.TrimSpace(operational))
	if op == "" {
		if inst == "" {
			return ""
		}
		if st, ok := installStatuses[inst]; ok {
			return st
		}
		return inst
	}
	if st, ok := operationalStatuses[op]; ok {
		return st
	}
	return strings.TrimSpace(operational)
}
