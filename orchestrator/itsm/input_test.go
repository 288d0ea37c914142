package itsm

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
)

// fieldsOf returns the fields an error names.
func fieldsOf(err error) []string {
	var out []string
	for _, f := range orchestrator.ErrorFields(err) {
		out = append(out, f.Field)
	}
	return out
}

func TestIncidentInputDecodeNamesTimeFields(t *testing.T) {
	t.Parallel()
	var in IncidentInput
	err := json.Unmarshal([]byte(`{"title":"x","opened_at":"yesterday","closed_at":42,"restored_at":null}`), &in)
	require.Equal(t, orchestrator.EINVALID, orchestrator.ErrorCode(err))
	require.ElementsMatch(t, []string{"opened_at", "closed_at"}, fieldsOf(err))

	err = json.Unmarshal([]byte(`{"title":"x","bogus":1}`), &in)
	require.ErrorContains(t, err, `unknown field "bogus"`)

	var typeErr *json.UnmarshalTypeError
	require.ErrorAs(t, json.Unmarshal([]byte(`{"major":"yes"}`), &in), &typeErr)
	require.Equal(t, "major", typeErr.Field)
}

func TestInputValidate(t *testing.T) {
	t.Parallel()
	opened := utc("2026-01-05T10:00:00Z")
	before := utc("2026-01-05T09:00:00Z")
	cases := map[string]struct {
		in    interface{ Validate() error }
		field string
	}{
		"incident ok":            {&IncidentInput{Title: "Disk", Priority: "P1", Cause: "hardware", OpenedAt: opened}, ""},
		"incident no title":      {&IncidentInput{Priority: "P1", Cause: "hardware", OpenedAt: opened}, "title"},
		"incident priority":      {&IncidentInput{Title: "x", Priority: "P5", Cause: "hardware", OpenedAt: opened}, "priority"},
		"incident cause":         {&IncidentInput{Title: "x", Priority: "P1", Cause: "aliens", OpenedAt: opened}, "cause"},
		"incident not opened":    {&IncidentInput{Title: "x", Priority: "P1", Cause: "fire"}, "opened_at"},
		"incident restored":      {&IncidentInput{Title: "x", Priority: "P1", Cause: "fire", OpenedAt: opened, RestoredAt: &before}, "restored_at"},
		"incident closed":        {&IncidentInput{Title: "x", Priority: "P1", Cause: "fire", OpenedAt: opened, ClosedAt: &before}, "closed_at"},
		"incident control chars": {&IncidentInput{Title: "a\x00b", Priority: "P1", Cause: "fire", OpenedAt: opened}, "title"},
		"incident non-UTF-8":     {&IncidentInput{Title: "a\xffb", Priority: "P1", Cause: "fire", OpenedAt: opened}, "title"},
		"incident blank key":     {&IncidentInput{Title: "x", Priority: "P1", Cause: "fire", OpenedAt: opened, AffectedCIs: []string{"db1", ""}}, "affected_cis[1]"},
		"incident ancient":       {&IncidentInput{Title: "x", Priority: "P1", Cause: "fire", OpenedAt: utc("0001-01-01T00:00:01Z")}, "opened_at"},
		"incident problem id":    {&IncidentInput{Title: "x", Priority: "P1", Cause: "fire", OpenedAt: opened, ProblemID: new(int64(-3))}, "problem_id"},
		"incident long ext id":   {&IncidentInput{Title: "x", Priority: "P1", Cause: "fire", OpenedAt: opened, ExternalID: strings.Repeat("x", 201)}, "external_id"},
		"problem ok":             {&ProblemInput{Title: "x", Status: "open", OpenedAt: opened}, ""},
		"problem known error":    {&ProblemInput{Title: "x", Status: "known_error", OpenedAt: opened}, "known_error"},
		"problem incident id":    {&ProblemInput{Title: "x", Status: "open", OpenedAt: opened, IncidentIDs: []int64{0}}, "incident_ids[0]"},
		"problem resolved":       {&ProblemInput{Title: "x", Status: "resolved", OpenedAt: opened, ResolvedAt: &before}, "resolved_at"},
		"change ok":              {&ChangeInput{Title: "x", Type: "normal", Risk: "low", Status: "requested"}, ""},
		"change type":            {&ChangeInput{Title: "x", Type: "urgent", Risk: "low", Status: "requested"}, "type"},
		"change done no start":   {&ChangeInput{Title: "x", Type: "normal", Risk: "low", Status: "implemented"}, "actual_start"},
		"change end only":        {&ChangeInput{Title: "x", Type: "normal", Risk: "low", Status: "requested", ActualEnd: &opened}, "actual_start"},
		"change planned order":   {&ChangeInput{Title: "x", Type: "normal", Risk: "low", Status: "requested", PlannedStart: &opened, PlannedEnd: &before}, "planned_end"},
		"release ok":             {&ReleaseInput{Version: "1.2", Status: "planned"}, ""},
		"release deployed":       {&ReleaseInput{Version: "1.2", Status: "deployed"}, "deployed_at"},
		"release no version":     {&ReleaseInput{Status: "planned"}, "version"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := tc.in.Validate()
			if tc.field == "" {
				require.NoError(t, err)
				return
			}
			require.Contains(t, fieldsOf(err), tc.field, "%v", err)
		})
	}
}

func TestNormalizeDefaults(t *testing.T) {
	t.Parallel()
	c := ChangeInput{Title: "  x  ", AffectedCIs: []string{" db1 "}}
	c.Normalize(DefaultSource)
	require.Equal(t, ChangeInput{Title: "x", Type: "normal", Risk: "low", Status: "requested", Source: "manual", AffectedCIs: []string{"db1"}}, c)

	p := ProblemInput{Title: "x", KnownError: true}
	p.Normalize("")
	require.Equal(t, "known_error", p.Status)
	require.Empty(t, p.Source)
}

func TestDecodeRejectsInvalidUTF8(t *testing.T) {
	t.Parallel()
	var in ReleaseInput
	err := json.Unmarshal([]byte("{\"version\":\"1.0\",\"title\":\"bad \xff byte\"}"), &in)
	require.Equal(t, orchestrator.EINVALID, orchestrator.ErrorCode(err))
	require.Equal(t, []string{"title"}, fieldsOf(err))
}

// FuzzIncidentInput feeds arbitrary request bodies through decoding and
// validation: they must never panic, and a body that passes must hold a
// valid incident.
func FuzzIncidentInput(f *testing.F) {
	f.Add([]byte(`{"title":"x","priority":"P1","cause":"fire","opened_at":"2026-01-05T10:00:00Z","affected_cis":["db1"]}`))
	f.Add([]byte(`{"title":"x","opened_at":"yesterday","closed_at":42}`))
	f.Add([]byte("{\"title\":\"\xff\"}"))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var in IncidentInput
		if json.Unmarshal(body, &in) != nil {
			return
		}
		in.Normalize(DefaultSource)
		if in.Validate() != nil {
			return
		}
		require.Contains(t, Priorities, in.Priority)
		require.Contains(t, Causes, in.Cause)
		require.False(t, in.OpenedAt.IsZero())
		if in.RestoredAt != nil {
			require.False(t, in.RestoredAt.Before(in.OpenedAt))
		}
	})
}
