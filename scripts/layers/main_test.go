package main

import "testing"

func TestLayerOrder(t *testing.T) {
	above := [][2]string{ // each first package sits above the second
		{"cmd/bcdr", "api"},
		{"api", "demo"},
		{"demo", "runbooks"},
		{"report", "drills"},
		{"drills", "runbooks"},
		{"runbooks", "orchestrator/backup"},
		{"runbooks/execution", "orchestrator/leasequeue"},
		{"orchestrator/impact", "orchestrator"},
		{"orchestrator", "migrations"},
	}
	for _, p := range above {
		hi, lo := layerOf(module+"/"+p[0]), layerOf(module+"/"+p[1])
		if hi >= lo {
			t.Errorf("%s (layer %d) should sit above %s (layer %d)", p[0], hi, p[1], lo)
		}
	}
	if got := layerOf(module + "/orchestrator/impact"); got != layerOf(module+"/orchestrator/cmdb") {
		t.Errorf("capabilities share a layer")
	}
	if got := layerOf("github.com/jackc/pgx/v5"); got != -1 {
		t.Errorf("outside the module: got layer %d", got)
	}
	if got := layerOf(module + "/newthing"); got != 0 {
		t.Errorf("an unplaced directory is at the top, got %d", got)
	}
}
