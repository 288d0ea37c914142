package runbooks

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
)

func TestAutomationSecretsAreReferences(t *testing.T) {
	ok := []Automation{
		{URL: "https://dr.test/failover", Headers: map[string]string{"Authorization": "Bearer {{secret:DR_TOKEN}}"}},
		{URL: "https://dr.test/x?api_key={{secret:KEY}}&service={{service}}", Method: "post",
			BodyTemplate: `{"token": "{{secret:T}}", "runbook": {{runbook.id}}, "note": "hello"}`},
		{URL: "http://10.0.0.5:8080/health", Headers: map[string]string{"X-Api-Key": "{{ secret:K }}", "Accept": "application/json"},
			Assertion: &Assertion{Path: "checks.0.ok", Equals: true}, Retries: 3, Timeout: orchestrator.Duration(5e9)},
	}
	for _, a := range ok {
		a.normalize()
		var v orchestrator.Validation
		a.validate(&v, "automation")
		require.NoError(t, v.Err(), "%+v", a)
	}
	bad := map[string]Automation{
		"automation.headers.Authorization": {URL: "https://x.test/", Headers: map[string]string{"Authorization": "Bearer eyJhbGciOi"}},
		"automation.headers.Cookie":        {URL: "https://x.test/", Headers: map[string]string{"Cookie": "session=abc"}},
		"automation.headers.X-Auth-Token":  {URL: "https://x.test/", Headers: map[string]string{"X-Auth-Token": "{{secret:A}} plus-literal"}},
		"automation.url":                   {URL: "https://x.test/?token=abc"},
		"automation.body_template":         {URL: "https://x.test/", BodyTemplate: `{"user": {"password": "pa55"}}`},
		"automation.timeout":               {URL: "https://x.test/", Timeout: orchestrator.Duration(3600e9)},
		"automation.retries":               {URL: "https://x.test/", Retries: 99},
		"automation.expected_status":       {URL: "https://x.test/", ExpectedStatus: 999},
		"automation.assertion.path":        {URL: "https://x.test/", Assertion: &Assertion{Path: "../x"}},
		"automation.type":                  {URL: "https://x.test/", Type: "ssh"},
	}
	for field, a := range bad {
		t.Run(field, func(t *testing.T) {
			a.normalize()
			var v orchestrator.Validation
			a.validate(&v, "automation")
			err := v.Err()
			require.Error(t, err)
			require.Equal(t, field, orchestrator.ErrorFields(err)[0].Field)
		})
	}
	a := Automation{URL: "https://x/{{secret:B}}", Headers: map[string]string{"A": "{{secret:A}}"}, BodyTemplate: "{{secret:B}}"}
	require.Equal(t, []string{"A", "B"}, a.Secrets())
}

// A {{secret:NAME}} reference names an environment variable under the one
// secret-reference rule: never bcdr's own configuration, which a step could
// otherwise send to any URL.
func TestAutomationSecretNames(t *testing.T) {
	for name, want := range map[string]string{
		"DATABASE_URL":      "must not name bcdr's own configuration",
		"BCDR_DATABASE_URL": "must not name bcdr's own configuration",
		"BCDR_TOKEN":        "must not name bcdr's own configuration",
		"PATH":              "set by bcdr itself",
		"dr_token":          "name of an environment variable",
		"DR-TOKEN":          "name of an environment variable",
		"9TOKEN":            "name of an environment variable",
	} {
		t.Run(name, func(t *testing.T) {
			a := Automation{URL: "https://dr.test/failover", Headers: map[string]string{"Authorization": "Bearer {{secret:" + name + "}}"}}
			a.normalize()
			var v orchestrator.Validation
			a.validate(&v, "automation")
			fields := orchestrator.ErrorFields(v.Err())
			require.Len(t, fields, 1)
			require.Equal(t, "automation.headers.Authorization", fields[0].Field)
			require.Contains(t, fields[0].Message, want)
			require.Contains(t, fields[0].Message, "secret name")
		})
	}
}
