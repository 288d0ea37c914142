package backup

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// benchTargets is how many targets BenchmarkChecks1000 checks per round.
const benchTargets = 1000

// benchFixtures makes a directory of dumps with a manifest and a loopback
// HTTP endpoint reporting a fresh, verified backup.
func benchFixtures(b *testing.B) (FileConfig, HTTPConfig) {
	b.Helper()
	dir := b.TempDir()
	var manifest string
	for i := range 3 {
		name := fmt.Sprintf("db-%d.dump", i)
		content := fmt.Sprintf("%0*d", 64<<10, i)
		writeFile(b, dir, name, content)
		manifest += fmt.Sprintf("%x  %s\n", sha256Sum(content), name)
	}
	writeFile(b, dir, "SHA256SUMS", manifest)
	body := fmt.Sprintf(`{"last_success":{"finished_at":%q,"state":"succeeded"}}`, time.Now().UTC().Format(time.RFC3339))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}))
	b.Cleanup(srv.Close)
	return FileConfig{Path: filepath.Join(dir, "*.dump"), MinSize: ptr(int64(1024)), Manifest: filepath.Join(dir, "SHA256SUMS")},
		HTTPConfig{URL: srv.URL, TimeField: "last_success.finished_at", StatusField: "last_success.state"}
}

// BenchmarkCheck measures one check of each kind on its own: the check
// alone (probe) and the check with its row recorded in PostgreSQL.
func BenchmarkCheck(b *testing.B) {
	h := setup(b)
	fileCfg, httpCfg := benchFixtures(b)
	for _, tc := range []struct {
		name string
		kind Kind
		cfg  any
	}{{"file", KindFile, fileCfg}, {"http", KindHTTP, httpCfg}} {
		tg := h.target(tc.kind, tc.cfg)
		b.Run(tc.name+"/probe", func(b *testing.B) {
			for b.Loop() {
				if r := h.svc.run(context.Background(), tg); r.Status != StatusOK || !r.Verified {
					b.Fatalf("%s: %s", r.Status, r.Message)
				}
			}
		})
		b.Run(tc.name+"/probe+record", func(b *testing.B) {
			for b.Loop() {
				if _, err := h.svc.checkAndRecord(context.Background(), tg.ID, TriggerSchedule); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkChecks1000 checks 1,000 targets (half file, half loopback HTTP)
// with 16 concurrent workers, as a scheduler replica would, each check
// recorded in PostgreSQL. It reports throughput and wall time per check.
func BenchmarkChecks1000(b *testing.B) {
	h := setup(b)
	fileCfg, httpCfg := benchFixtures(b)
	targets := make([]Target, benchTargets)
	for i := range targets {
		var cfg any = fileCfg
		kind := KindFile
		if i%2 == 1 {
			cfg, kind = httpCfg, KindHTTP
		}
		raw, err := json.Marshal(cfg)
		require.NoError(b, err)
		targets[i], err = h.svc.Create(h.ctx, TargetInput{CI: "db1", Kind: kind, Schedule: "* * * * *", Config: raw})
		require.NoError(b, err)
	}
	const workers = 16
	var total time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		var next, bad atomic.Int64
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for i := next.Add(1) - 1; i < int64(len(targets)); i = next.Add(1) - 1 {
					c, err := h.svc.checkAndRecord(context.Background(), targets[i].ID, TriggerSchedule)
					if err != nil || c.Status != StatusOK {
						bad.Add(1)
					}
				}
			})
		}
		wg.Wait()
		total += time.Since(start)
		if bad.Load() > 0 {
			b.Fatalf("%d of %d checks were not ok", bad.Load(), len(targets))
		}
	}
	rounds := float64(b.N)
	b.ReportMetric(float64(benchTargets)*rounds/total.Seconds(), "checks/s")
	b.ReportMetric(total.Seconds()*1000/(float64(benchTargets)*rounds), "ms/check")
	b.ReportMetric(total.Seconds()/rounds, "s/1000checks")
}

func sha256Sum(s string) [32]byte { return sha256.Sum256([]byte(s)) }
