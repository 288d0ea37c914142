package api

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// The list benchmark charges a request with the CPU of this process (the
// server and, in-process, its HTTP client) and of the whole PostgreSQL
// server: every process the postmaster started, the live ones read from
// /proc and the ended ones from the postmaster's reaped-children times.

// clockTicks is the unit of /proc/<pid>/stat times (USER_HZ, 100 on Linux).
const clockTicks = 100

// postmasterPID finds the server's postmaster as the parent of a backend.
func postmasterPID(b *testing.B, pool *pgxpool.Pool) int {
	var backend int
	if err := pool.QueryRow(context.Background(), `SELECT pg_backend_pid()`).Scan(&backend); err != nil {
		b.Fatal(err)
	}
	fields, err := procStat(backend)
	if err != nil {
		b.Fatalf("PostgreSQL backend %d is not on this machine's /proc: %v", backend, err)
	}
	pid, _ := strconv.Atoi(fields[1])
	return pid
}

// procStat returns the fields of /proc/pid/stat after the command name,
// so fields[0] is the state (field 3 of proc(5)).
func procStat(pid int) ([]string, error) {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil, err
	}
	s := string(raw)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:]), nil
}

// ticks reads a numeric stat field by its proc(5) number.
func ticks(fields []string, n int) time.Duration {
	v, _ := strconv.ParseInt(fields[n-3], 10, 64)
	return time.Duration(v) * time.Second / clockTicks
}

// postgresCPU is the CPU the server has used so far.
func postgresCPU(postmaster int) time.Duration {
	pm, err := procStat(postmaster)
	if err != nil {
		return 0
	}
	total := ticks(pm, 14) + ticks(pm, 15) + ticks(pm, 16) + ticks(pm, 17) // utime, stime, cutime, cstime
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		pid, err := strconv.Atoi(filepath.Base(p))
		if err != nil || pid == postmaster {
			continue
		}
		f, err := procStat(pid)
		if err != nil || len(f) < 15 || f[1] != strconv.Itoa(postmaster) {
			continue
		}
		total += ticks(f, 14) + ticks(f, 15)
	}
	return total
}

// processCPU is the CPU this process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuMark is where a measured stretch started.
type cpuMark struct {
	postmaster int
	goCPU, pg  time.Duration
}

func startCPU(postmaster int) cpuMark {
	return cpuMark{postmaster: postmaster, goCPU: processCPU(), pg: postgresCPU(postmaster)}
}

// perRequest splits the CPU used since the mark over requests, in ms.
func (m cpuMark) perRequest(requests int) (goMS, pgMS float64) {
	return ms(processCPU()-m.goCPU) / float64(requests), ms(postgresCPU(m.postmaster)-m.pg) / float64(requests)
}

// loadAverage is the machine's 1-, 5- and 15-minute load, for the log.
func loadAverage() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
