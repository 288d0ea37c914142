package runbooks

import (
	"context"
	"slices"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/directory"
)

// Document is a runbook version with everything a reader needs when the
// normal site cannot be reached: feasibility, staleness, and the call
// trees with each contact's details. Exports render it.
type Document struct {
	ID          int64         `json:"id"`
	Title       string        `json:"title"`
	Scope       Scope         `json:"scope"`
	Status      string        `json:"status"`
	Version     Version       `json:"version"`
	Feasibility Feasibility   `json:"feasibility"`
	Staleness   Staleness     `json:"staleness"`
	CallTrees   []CallTreeDoc `json:"call_trees"`
	ExportedAt  time.Time     `json:"exported_at"`
}

// CallTreeDoc is a call tree with its contacts spelt out.
type CallTreeDoc struct {
	Scope  string     `json:"scope"`
	Key    string     `json:"key"`
	Name   string     `json:"name"`
	Levels []LevelDoc `json:"levels"`
}

// LevelDoc is one escalation level with its contacts.
type LevelDoc struct {
	Level    int                   `json:"level"`
	Wait     orchestrator.Duration `json:"wait"`
	Contacts []directory.Contact   `json:"contacts"`
}

// Document returns the document of a runbook version: the one named, else
// the approved one, else the newest.
func (s *Service) Document(ctx context.Context, id, version string) (Document, error) {
	n, err := parseID(id)
	if err != nil {
		return Document{}, err
	}
	h, err := getHeader(ctx, s.pool, n, false)
	if err != nil {
		return Document{}, err
	}
	vs, err := versions(ctx, s.pool, n)
	if err != nil {
		return Document{}, err
	}
	pick := len(vs) - 1
	approved := -1
	for i, v := range vs {
		if v.Status == StatusApproved {
			approved = i
		}
	}
	if approved >= 0 {
		pick = approved
	}
	if version != "" {
		num, err := parseVersion(n, version)
		if err != nil {
			return Document{}, err
		}
		if pick = slices.IndexFunc(vs, func(v storedVersion) bool { return v.Number == num }); pick < 0 {
			return Document{}, orchestrator.Errorf(orchestrator.ENOTFOUND, "runbook %d has no version %d", n, num)
		}
	}
	v := vs[pick].Version
	doc := Document{ID: h.ID, Title: h.Title, Scope: h.Scope, Status: status(h, approved >= 0), Version: v,
		ExportedAt: s.rt.Now().UTC(), Staleness: Staleness{Flags: []string{}}, CallTrees: []CallTreeDoc{}}
	ev, err := s.evidence(ctx, h, v)
	if err != nil {
		return Document{}, err
	}
	doc.Feasibility = assess(v.Steps, ev)
	if v.Status == StatusApproved {
		if doc.Staleness, err = s.stalenessOf(ctx, h, vs, v); err != nil {
			return Document{}, err
		}
	}
	for _, scope := range ev.TreeServices {
		t, ok := ev.CallTrees[scope]
		if !ok {
			continue
		}
		td := CallTreeDoc{Scope: scope, Key: t.Key, Name: t.Name, Levels: []LevelDoc{}}
		for _, l := range t.Levels {
			ld := LevelDoc{Level: l.Level, Wait: l.Wait, Contacts: []directory.Contact{}}
			for _, c := range l.Contacts {
				if ct, ok := ev.Contacts[c]; ok {
					ld.Contacts = append(ld.Contacts, ct)
				} else {
					ld.Contacts = append(ld.Contacts, directory.Contact{Key: c, Name: c, Deputies: []string{}})
				}
			}
			td.Levels = append(td.Levels, ld)
		}
		doc.CallTrees = append(doc.CallTrees, td)
	}
	return doc, nil
}
