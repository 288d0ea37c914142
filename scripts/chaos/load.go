package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// drillLoop starts a drill of the runbook every 15–30 s through a random
// replica.
func (h *harness) drillLoop(deadline time.Time) {
	for time.Now().Before(deadline) {
		r := h.replicas[rand.IntN(len(h.replicas))]
		body := fmt.Sprintf(`{"runbook":%d,"mode":"drill","note":"chaos drill"}`, h.runbook)
		code, _, _ := h.call(r, "POST", "/api/v1/executions", body, "application/json")
		h.drills.Lock()
		h.drills.started[code]++
		h.drills.Unlock()
		time.Sleep(time.Duration(15000+rand.IntN(15000)) * time.Millisecond)
	}
}

// importLoop sends an import of importRows new CIs every 3–8 s through a
// random replica, remembering what each round was answered.
func (h *harness) importLoop(deadline time.Time) {
	for round := 1; time.Now().Before(deadline); round++ {
		var csv strings.Builder
		csv.WriteString("key,name,class\n")
		for i := range importRows {
			fmt.Fprintf(&csv, "imp-%d-%d,Imported %d/%d,server\n", round, i, round, i)
		}
		r := h.replicas[rand.IntN(len(h.replicas))]
		code, _, _ := h.call(r, "POST", "/api/v1/imports?type=cis", csv.String(), "text/csv")
		h.imports.Lock()
		h.imports.rounds[round] = code
		h.imports.Unlock()
		time.Sleep(time.Duration(3000+rand.IntN(5000)) * time.Millisecond)
	}
}

// faultLoop kills a random replica every 20–60 s and restarts it 1–3 s
// later, and restarts PostgreSQL once half-way, until deadline.
func (h *harness) faultLoop(ctx context.Context, deadline time.Time) {
	half := time.Now().Add(time.Until(deadline) / 2)
	restarted := false
	for {
		wait := time.Duration(20+rand.IntN(41)) * time.Second
		if time.Now().Add(wait).After(deadline) {
			time.Sleep(time.Until(deadline))
			return
		}
		time.Sleep(wait)
		if !restarted && time.Now().After(half) {
			restarted = true
			h.log.Info("restarting PostgreSQL")
			if err := h.restartDatabase(ctx); err != nil {
				h.log.Error("PostgreSQL restart failed", "error", err)
				return
			}
			h.faults.Lock()
			h.faults.pgRestarts++
			h.faults.Unlock()
			continue
		}
		r := h.replicas[rand.IntN(len(h.replicas))]
		h.log.Info("kill -9", "replica", r.name)
		r.kill()
		h.faults.Lock()
		h.faults.kills++
		h.faults.Unlock()
		time.Sleep(time.Duration(1000+rand.IntN(2000)) * time.Millisecond)
		if err := r.start(); err != nil {
			h.log.Error("restart replica", "replica", r.name, "error", err)
		}
	}
}
