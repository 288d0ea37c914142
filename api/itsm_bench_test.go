package api

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bcdr/bcdr/migrations"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/auth"
	"github.com/bcdr/bcdr/orchestrator/postgres"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
)

// Size of the list benchmark's data set and load.
const (
	listBenchIncidents = 1_000_000
	listBenchCIs       = 10_000
	listBenchServices  = 100
	listBenchClients   = 50
	listBenchRequests  = 5_000
)

// BenchmarkListIncidents serves GET /api/v1/incidents?limit=100 with a
// mix of filters from a 1,000,000-incident table over loopback HTTP. It
// first sends each filter alone from one client and reports the CPU one
// request costs (this process, server and client, plus every PostgreSQL
// process), then sends the mix from 50 concurrent clients and reports its
// p50 and p99 latency, throughput and CPU per request (and logs the
// latencies per filter). Answers other than 200 — the server's 30 s request
// timeout, under overload — are counted, not fatal: they are part of the
// figure.
func BenchmarkListIncidents(b *testing.B) {
	ctx := context.Background()
	pool, err := postgres.Open(ctx, pgtest.NewURL(b), postgres.Options{MaxConns: 20}) // bcdr serve's default
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	loadListBench(b, pool)
	migrator, err := postgres.NewMigrator(pool, migrations.FS, nil)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(NewServer(Options{Pool: pool, Migrator: migrator, Services: testServices(pool), BaseURL: "http://bcdr.test"}))
	b.Cleanup(srv.Close)
	_, token, err := auth.NewService(pool).Create(ctx, "bench", orchestrator.RoleOperator)
	if err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: listBenchClients}, Timeout: time.Minute}
	postmaster := postmasterPID(b, pool)
	for b.Loop() {
		// One client and one filter at a time first: the cost of a request
		// without queueing.
		var single []time.Duration
		for i, f := range listBenchQueries {
			cpu := startCPU(postmaster)
			lat, _ := listBenchRun(b, client, srv.URL, token, 1, listBenchSingle, f)
			goMS, pgMS := cpu.perRequest(listBenchSingle)
			single = append(single, lat[f]...)
			slices.Sort(lat[f])
			name := listBenchNames[i]
			b.Logf("alone %-22s CPU/request %5.2f ms (Go %5.2f + PostgreSQL %5.2f)  p50 %6.2f ms", name, goMS+pgMS, goMS, pgMS, ms(percentile(lat[f], 50)))
			b.ReportMetric(goMS+pgMS, name+"-cpu-ms/req")
		}
		slices.Sort(single)
		b.ReportMetric(ms(percentile(single, 50)), "1-client-p50-ms")
		cpu := startCPU(postmaster)
		start := time.Now()
		byFilter, failed := listBenchRun(b, client, srv.URL, token, listBenchClients, listBenchRequests, listBenchQueries...)
		elapsed := time.Since(start)
		goMS, pgMS := cpu.perRequest(listBenchRequests)
		b.Logf("mix at %d clients: CPU/request %.2f ms (Go %.2f + PostgreSQL %.2f); load average %s", listBenchClients, goMS+pgMS, goMS, pgMS, loadAverage())
		b.ReportMetric(goMS+pgMS, "mix-cpu-ms/req")
		var all []time.Duration
		for _, f := range listBenchQueries {
			lat := byFilter[f]
			slices.Sort(lat)
			b.Logf("%-55s p50 %8.1f ms  p99 %8.1f ms", "limit=100"+f, ms(percentile(lat, 50)), ms(percentile(lat, 99)))
			all = append(all, lat...)
		}
		slices.Sort(all)
		b.ReportMetric(ms(percentile(all, 50)), "p50-ms")
		b.ReportMetric(ms(percentile(all, 99)), "p99-ms")
		b.ReportMetric(float64(listBenchRequests)/elapsed.Seconds(), "requests/s")
		b.ReportMetric(float64(failed), "failed")
	}
}

// percentile picks the p-th percentile of sorted latencies.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[(len(sorted)-1)*p/100]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// listBenchQueries are the filters the clients cycle through; %s is a CI
// key (for service, a business service's) drawn at random. The title
// search names one CI, so it matches about a hundred incidents.
var listBenchQueries = []string{
	"", "&priority=P1", "&priority=P2&cause=hardware", "&cause=network", "&status=open", "&major=true",
	"&ci=%s", "&service=%s", "&opened_after=2025-03-01&opened_before=2025-04-01", "&q=%s",
}

// listBenchNames name listBenchQueries in the reported metrics.
var listBenchNames = []string{"none", "priority", "priority+cause", "cause", "status", "major", "ci", "service", "opened-window", "q"}

// listBenchSingle is how many requests each filter gets alone.
const listBenchSingle = 300

// listBenchRun sends requests from clients goroutines, cycling through
// filters, and returns the latencies by filter and how many failed.
func listBenchRun(b *testing.B, client *http.Client, base, token string, clients, requests int, filters ...string) (map[string][]time.Duration, int) {
	var (
		mu       sync.Mutex
		byFilter = map[string][]time.Duration{}
		failed   int
		next     = make(chan int)
		wg       sync.WaitGroup
	)
	for c := range clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(c), 7))
			for i := range next {
				filter := filters[i%len(filters)]
				q := filter
				switch filter {
				case "&service=%s":
					q = fmt.Sprintf(filter, listBenchCIKey(rng.IntN(listBenchServices)))
				case "&ci=%s", "&q=%s":
					q = fmt.Sprintf(filter, listBenchCIKey(listBenchServices+rng.IntN(listBenchCIs-listBenchServices)))
				}
				req, _ := http.NewRequest("GET", base+"/api/v1/incidents?limit=100"+q, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				start := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				took := time.Since(start)
				mu.Lock()
				byFilter[filter] = append(byFilter[filter], took)
				if resp.StatusCode != http.StatusOK {
					if failed++; failed <= 3 {
						b.Logf("%s: %d after %v: %.200s", q, resp.StatusCode, took, body)
					}
				}
				mu.Unlock()
			}
		})
	}
	for i := range requests {
		next <- i
	}
	close(next)
	wg.Wait()
	return byFilter, failed
}

// listBenchCIKey names generated CI i; the first listBenchServices are
// business services.
func listBenchCIKey(i int) string {
	if i < listBenchServices {
		return fmt.Sprintf("svc-%03d", i)
	}
	return fmt.Sprintf("ci-%05d", i)
}

// loadListBench fills the database with CopyFrom: 10,000 CIs (100 of them
// business services), 1,000,000 incidents over two years with one or two
// affected CIs each and a service on a quarter. The secondary indexes are
// built after the load, as a restore would, and the tables vacuumed and
// analysed as autovacuum would have by the time such a table is queried.
func loadListBench(b *testing.B, pool *pgxpool.Pool) {
	ctx := context.Background()
	cis := make([][]any, 0, listBenchCIs)
	for i := range listBenchCIs {
		class := "server"
		if i < listBenchServices {
			class = "business_service"
		}
		cis = append(cis, []any{int64(i + 1), listBenchCIKey(i), "CI", class, listBenchCIKey(i)})
	}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"cis"}, []string{"id", "key", "name", "class", "external_id"}, pgx.CopyFromRows(cis)); err != nil {
		b.Fatalf("copy CIs: %v", err)
	}
	rows, err := pool.Query(ctx, `SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
		WHERE i.indrelid IN ('incidents'::regclass, 'incident_cis'::regclass, 'incident_services'::regclass)
			AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)`)
	if err != nil {
		b.Fatal(err)
	}
	var names, indexes []string
	var name, def string
	if _, err := pgx.ForEachRow(rows, []any{&name, &def}, func() error {
		names, indexes = append(names, name), append(indexes, def)
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	for _, n := range names {
		if _, err := pool.Exec(ctx, "DROP INDEX "+n); err != nil {
			b.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(11, 2026))
	causes := []string{"hardware", "software", "software", "network", "network", "power", "human_error", "supplier", "other"}
	titles := []string{"Disk latency on %s", "数据库连接超时 %s", "Service unavailable: %s", "网络丢包 %s", "High CPU on %s"}
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var links, services []int64 // incident id, CI id pairs
	i := 0
	incidents := pgx.CopyFromFunc(func() ([]any, error) {
		if i == listBenchIncidents {
			return nil, nil
		}
		i++
		ci := listBenchServices + rng.IntN(listBenchCIs-listBenchServices)
		links = append(links, int64(i), int64(ci+1))
		if other := listBenchServices + rng.IntN(listBenchCIs-listBenchServices); rng.IntN(2) == 0 && other != ci {
			links = append(links, int64(i), int64(other+1))
		}
		if rng.IntN(4) == 0 {
			services = append(services, int64(i), int64(rng.IntN(listBenchServices)+1))
		}
		priority := []string{"P1", "P2", "P3", "P3", "P4", "P4", "P4", "P4"}[rng.IntN(8)]
		opened := start.Add(time.Duration(rng.Int64N(int64(2 * 365 * 24 * time.Hour))))
		var restored, closed *time.Time
		if rng.IntN(20) > 0 {
			r := opened.Add(time.Duration(5+rng.IntN(600)) * time.Minute)
			restored = &r
			if rng.IntN(10) > 0 {
				c := r.Add(time.Duration(1+rng.IntN(72)) * time.Hour)
				closed = &c
			}
		}
		return []any{int64(i), "bench", fmt.Sprintf("INC%08d", i), fmt.Sprintf(titles[rng.IntN(len(titles))], listBenchCIKey(ci)),
			priority, priority == "P1" && rng.IntN(3) == 0, causes[rng.IntN(len(causes))], opened, restored, closed}, nil
	})
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"incidents"}, []string{"id", "source", "external_id", "title", "priority",
		"major", "cause", "opened_at", "restored_at", "closed_at"}, incidents); err != nil {
		b.Fatalf("copy incidents: %v", err)
	}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"incident_cis"}, []string{"incident_id", "ci_id"}, pairs(links)); err != nil {
		b.Fatalf("copy incident CIs: %v", err)
	}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"incident_services"}, []string{"incident_id", "service_id"}, pairs(services)); err != nil {
		b.Fatalf("copy incident services: %v", err)
	}
	if _, err := pool.Exec(ctx, `SELECT setval('incidents_id_seq', $1), setval('cis_id_seq', $2)`, listBenchIncidents, listBenchCIs); err != nil {
		b.Fatal(err)
	}
	for _, stmt := range append(indexes, `VACUUM (ANALYZE) cis, incidents, incident_cis, incident_services`) {
		if _, err := pool.Exec(ctx, stmt); err != nil {
			b.Fatalf("%s: %v", stmt, err)
		}
	}
}

// pairs feeds COPY from a flat list of (a, b) pairs.
func pairs(flat []int64) pgx.CopyFromSource {
	return pgx.CopyFromSlice(len(flat)/2, func(i int) ([]any, error) { return []any{flat[2*i], flat[2*i+1]}, nil })
}
