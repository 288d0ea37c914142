package report

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator/impact"
)

// The BIA and risk reports have every word they look up in both
// languages: the same keys in each, every literal key their files look up,
// and the keys they build from the impact model's categories, threats,
// treatments, levels and reasons.
func TestBIAAndRiskWordsInBothLanguages(t *testing.T) {
	t.Parallel()
	built := map[string][]string{"bia": {}, "risk": {}}
	for _, c := range impact.DefaultSettings().Categories {
		built["bia"] = append(built["bia"], "category_"+c)
	}
	for _, th := range impact.Threats {
		built["risk"] = append(built["risk"], "threat_"+th)
	}
	for _, tr := range impact.Treatments {
		built["risk"] = append(built["risk"], "treatment_"+tr)
	}
	for _, l := range []string{RiskHigh, RiskMedium, RiskLow} {
		built["risk"] = append(built["risk"], "level_"+l)
	}
	for _, r := range []string{RiskNoOwner, RiskNoTreatment, RiskReviewOverdue, RiskNoReview} {
		built["risk"] = append(built["risk"], "reason_"+r)
	}
	lookup := regexp.MustCompile(`\bw\("([a-z_]+)"\)`)
	for prefix, d := range map[string]dict{"bia": biaWords, "risk": riskWords} {
		en := slices.Sorted(maps.Keys(d[LangEN]))
		require.Equal(t, en, slices.Sorted(maps.Keys(d[LangZH])), "%sWords has the same keys in English and Chinese", prefix)
		keys := slices.Clone(built[prefix])
		files, err := filepath.Glob(prefix + "*.go")
		require.NoError(t, err)
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			require.NoError(t, err)
			for _, m := range lookup.FindAllStringSubmatch(string(src), -1) {
				keys = append(keys, m[1])
			}
		}
		require.NotEmpty(t, keys)
		for _, lang := range Langs {
			for _, k := range keys {
				_, own := d[lang][k]
				_, common := commonWords[lang][k]
				require.True(t, own || common, "%sWords[%s] has %q", prefix, lang, k)
			}
			for k, word := range d[lang] {
				require.NotEmpty(t, word, "%sWords[%s][%s]", prefix, lang, k)
			}
		}
	}
}
