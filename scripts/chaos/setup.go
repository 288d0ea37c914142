package main

import (
	"encoding/json"
	"fmt"
	"strings"
)

// setUp creates the CIs, the HTTP backup targets (their schedules every
// minute, spread over it by jitter) and a webhook channel for every event.
// It returns the schedules' ids.
func (h *harness) setUp(nTargets int) ([]int64, error) {
	r := h.replicas[0]
	var csv strings.Builder
	csv.WriteString("key,name,class\n")
	for i := range nTargets {
		fmt.Fprintf(&csv, "chaos-db-%d,Chaos database %d,database\n", i, i)
	}
	if code, body, err := h.call(r, "POST", "/api/v1/imports?type=cis", csv.String(), "text/csv"); err != nil || code != 200 {
		return nil, fmt.Errorf("import the targets' CIs: %d %s %v", code, body, err)
	}
	var ids []int64
	for i := range nTargets {
		in := map[string]any{"ci": fmt.Sprintf("chaos-db-%d", i), "kind": "http", "schedule": "* * * * *", "timeout": "20s",
			"config": map[string]any{"url": fmt.Sprintf("%s/backup/%d", h.recv.url, i), "time_field": "finished_at", "retries": 1}}
		b, _ := json.Marshal(in)
		code, body, err := h.call(r, "POST", "/api/v1/backup-targets", string(b), "application/json")
		if err != nil || code != 201 {
			return nil, fmt.Errorf("create backup target: %d %s %v", code, body, err)
		}
		var t struct {
			ScheduleID int64 `json:"schedule_id"`
		}
		if err := json.Unmarshal(body, &t); err != nil {
			return nil, err
		}
		code, body, err = h.call(r, "PATCH", fmt.Sprintf("/api/v1/schedules/%d", t.ScheduleID), `{"jitter":"50s"}`, "application/json")
		if err != nil || code != 200 {
			return nil, fmt.Errorf("spread schedule %d: %d %s %v", t.ScheduleID, code, body, err)
		}
		ids = append(ids, t.ScheduleID)
	}
	if err := h.setUpRunbook(r); err != nil {
		return nil, err
	}
	ch := fmt.Sprintf(`{"name":"chaos","kind":"webhook","url":%q,"events":["*"]}`, h.recv.url+"/hook")
	if code, body, err := h.call(r, "POST", "/api/v1/notification-channels", ch, "application/json"); err != nil || code != 201 {
		return nil, fmt.Errorf("create channel: %d %s %v", code, body, err)
	}
	return ids, nil
}

// drillSteps is how many automated steps the drilled runbook has: a
// diamond of diamonds, each step answering after 1–4 s.
const drillSteps = 6

// setUpRunbook makes the runbook the drills run: a business service whose
// generated steps are replaced by automated ones that call the receiver
// in a drill (their production URL must never be called).
func (h *harness) setUpRunbook(r *replica) error {
	if code, body, err := h.call(r, "POST", "/api/v1/cis", `{"key":"chaos-svc","name":"Chaos service","class":"business_service"}`, "application/json"); err != nil || code != 201 {
		return fmt.Errorf("create the drilled service: %d %s %v", code, body, err)
	}
	code, body, err := h.call(r, "POST", "/api/v1/runbooks", `{"service":"chaos-svc"}`, "application/json")
	if err != nil || code != 201 {
		return fmt.Errorf("create the drilled runbook: %d %s %v", code, body, err)
	}
	var rb struct {
		ID      int64 `json:"id"`
		Version struct {
			Steps []struct {
				ID string `json:"id"`
			} `json:"steps"`
		} `json:"version"`
	}
	if err := json.Unmarshal(body, &rb); err != nil {
		return err
	}
	h.runbook = rb.ID
	deps := [drillSteps][]int{{}, {0}, {0}, {1, 2}, {3}, {3}}
	var ids []string
	for i := range drillSteps {
		var dependsOn []string
		for _, d := range deps[i] {
			dependsOn = append(dependsOn, ids[d])
		}
		step := map[string]any{"title": fmt.Sprintf("automated step %d", i), "estimate": "1m", "depends_on": append([]string{}, dependsOn...),
			"automation": map[string]any{"method": "POST", "url": h.recv.url + "/production", "drill_url": h.recv.url + "/step",
				"timeout": "10s", "retries": 2, "assertion": map[string]any{"path": "ok", "equals": true}}}
		b, _ := json.Marshal(step)
		code, body, err := h.call(r, "POST", fmt.Sprintf("/api/v1/runbooks/%d/steps", rb.ID), string(b), "application/json")
		if err != nil || code != 200 {
			return fmt.Errorf("add a drill step: %d %s %v", code, body, err)
		}
		var after struct {
			Version struct {
				Steps []struct {
					ID    string `json:"id"`
					Title string `json:"title"`
				} `json:"steps"`
			} `json:"version"`
		}
		if err := json.Unmarshal(body, &after); err != nil {
			return err
		}
		for _, st := range after.Version.Steps {
			if st.Title == step["title"] {
				ids = append(ids, st.ID)
			}
		}
	}
	for _, st := range rb.Version.Steps {
		if code, body, err := h.call(r, "DELETE", fmt.Sprintf("/api/v1/runbooks/%d/steps/%s", rb.ID, st.ID), "", ""); err != nil || code != 200 {
			return fmt.Errorf("remove generated step %s: %d %s %v", st.ID, code, body, err)
		}
	}
	return nil
}
