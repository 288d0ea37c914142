package web

import (
	"fmt"
	"sync"
	"time"

	"github.com/bcdr/bcdr/orchestrator/importer"
)

// Stages of an import job.
const (
	importWaiting  = "waiting"  // in the importer's queue
	importReading  = "reading"  // the file is being read and checked
	importWriting  = "writing"  // read: bad rows sought, good ones merged
	importDone     = "done"     // written
	importRejected = "rejected" // bad rows, all or nothing: nothing written
	importFailed   = "failed"   // the file could not be imported
	importBusy     = "busy"     // too many imports: nothing read
)

// importJob is one import the UI runs in the background, followed by the
// browser that started it.
type importJob struct {
	id      string
	owner   int64 // the token that started it
	typ     string
	format  string
	file    string
	partial bool
	size    int64
	done    chan struct{}

	mu       sync.Mutex
	read     int64
	stage    string
	finished time.Time
	report   *importer.Report
	problem  string
}

// importStatus is a job as its page shows it.
type importStatus struct {
	ID, Type, Format, File, Stage, Problem string
	Partial                                bool
	Size, Read                             int64
	Report                                 *importer.Report
}

// Running reports whether the page should go on polling.
func (s importStatus) Running() bool {
	return s.Stage == importWaiting || s.Stage == importReading || s.Stage == importWriting
}

// Fraction is how much of the file was read, 0 to 1.
func (s importStatus) Fraction() float64 {
	if s.Size <= 0 {
		return 1
	}
	return min(float64(s.Read)/float64(s.Size), 1)
}

// Line is the line of the file a reported row is on, assuming one line
// per record: a CSV file's header is line 1, a JSONL file's blank lines
// are not counted as rows.
func (s importStatus) Line(row int) int {
	if s.Format == "csv" {
		return row + 1
	}
	return row
}

// Percent is Fraction in whole percent, for the progress bar.
func (s importStatus) Percent() int { return int(100 * s.Fraction()) }

// ReadText is the bytes read, for people.
func (s importStatus) ReadText() string { return bytesText(s.Read) }

// SizeText is the file's size, for people.
func (s importStatus) SizeText() string { return bytesText(s.Size) }

// bytesText writes a byte count in B, KiB or MiB.
func bytesText(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

func (j *importJob) status() importStatus {
	j.mu.Lock()
	defer j.mu.Unlock()
	return importStatus{ID: j.id, Type: j.typ, Format: j.format, File: j.file, Stage: j.stage, Problem: j.problem,
		Partial: j.partial, Size: j.size, Read: j.read, Report: j.report}
}

// advance records n more bytes read; at the end of the file the import
// goes on to checking and writing.
func (j *importJob) advance(read int64, eof bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.read = max(j.read, min(read, j.size))
	switch {
	case eof:
		j.read, j.stage = j.size, importWriting
	case j.stage == importWaiting:
		j.stage = importReading
	}
}

func (j *importJob) finish(stage string, rep *importer.Report, problem string, at time.Time) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.stage, j.report, j.problem, j.finished = stage, rep, problem, at
	if stage == importDone || stage == importRejected {
		j.read = j.size
	}
	close(j.done)
}

// importJobs are the UI's import jobs, kept in memory for importJobTTL
// after they finish, at most importJobsKept of them.
type importJobs struct {
	mu     sync.Mutex
	jobs   map[string]*importJob
	active int
	// maxBytes is the largest file saved [importMaxBytes].
	maxBytes int64
}

// limit is the largest file saved.
func (s *importJobs) limit() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxBytes
}

// setLimit changes the largest file saved, for tests.
func (s *importJobs) setLimit(n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxBytes = n
}

func newImportJobs() *importJobs {
	return &importJobs{maxBytes: importMaxBytes, jobs: map[string]*importJob{}}
}

// reserve takes one of the importsAtOnce places; false when all are taken.
func (s *importJobs) reserve() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active >= importsAtOnce {
		return false
	}
	s.active++
	return true
}

func (s *importJobs) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active--
}

// add keeps j, forgetting expired jobs and, beyond importJobsKept, the
// oldest finished ones.
func (s *importJobs) add(j *importJob, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prune(now)
	for len(s.jobs) >= importJobsKept {
		var oldest *importJob
		for _, o := range s.jobs {
			st := o.status()
			if !st.Running() && (oldest == nil || o.finishedAt().Before(oldest.finishedAt())) {
				oldest = o
			}
		}
		if oldest == nil {
			break
		}
		delete(s.jobs, oldest.id)
	}
	s.jobs[j.id] = j
}

// get returns the job id the token owner started, if it is still kept.
func (s *importJobs) get(id string, owner int64, now time.Time) (*importJob, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prune(now)
	j, ok := s.jobs[id]
	if !ok || j.owner != owner {
		return nil, false
	}
	return j, true
}

func (s *importJobs) prune(now time.Time) {
	for id, j := range s.jobs {
		if f := j.finishedAt(); !f.IsZero() && now.Sub(f) > importJobTTL {
			delete(s.jobs, id)
		}
	}
}

func (j *importJob) finishedAt() time.Time {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.finished
}
