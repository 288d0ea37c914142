package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/runbooks"
)

// The offline kit is made as a job of this UI process and then offered for
// download, rather than streamed as it is written: making it reads and
// renders every approved runbook, which takes a while in a large
// organisation, and a job can show how far it has got, report a failure as
// a failure (a stream that fails halfway leaves a truncated zip that looks
// like a download), and hand over a complete archive whose manifest
// matches. The archive is built with runbooks.ZipSink, as the API's
// GET /exports/kit builds it.
//
// Jobs live in memory, per UI process, bounded: at most maxKits kits are
// held at once, each dropped when it is downloaded or kitKeep after it was
// made. A person who already has a kit being made is sent to it instead of
// starting another. A UI that restarts forgets its kits; the person makes
// the kit again.
const (
	maxKits = 4
	kitKeep = 15 * time.Minute
	// kitTimeout bounds making one kit, as the API's kitTimeout does.
	kitTimeout = 5 * time.Minute
	// kitOtherFiles are the kit's files besides the runbooks: contacts as
	// CSV and HTML, the call trees, the CMDB snapshot, the index and the
	// manifest (the audit anchor, when there is a key, makes one more).
	kitOtherFiles = 6
)

// Kit job statuses.
const (
	kitRunning = "running"
	kitDone    = "done"
	kitFailed  = "failed"
)

// kitJob is one kit being made or made.
type kitJob struct {
	ID, Owner         string
	Started, Finished time.Time
	Status            string
	// Files counts the files written so far out of about Expected.
	Files, Expected int
	Current         string
	Error           string
	Name            string
	Runbooks        int
	Size            int
	body            []byte
}

// Progress is how far the kit is, from 0 to 1; a running kit stays short of
// 1 until its archive is closed.
func (j kitJob) Progress() float64 {
	switch {
	case j.Status == kitDone:
		return 1
	case j.Expected == 0:
		return 0
	}
	return min(float64(j.Files)/float64(j.Expected), 0.99)
}

// kitJobs holds the kits of one UI process; the zero value is ready.
type kitJobs struct {
	mu   sync.Mutex
	jobs map[string]*kitJob
}

// start registers a new kit of owner, or returns the one owner already has
// running (started false). With maxKits held it drops the oldest finished
// one, and when every one is still being made it refuses.
func (k *kitJobs) start(owner string, now time.Time) (job kitJob, started bool, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.prune(now)
	for _, j := range k.jobs {
		if j.Owner == owner && j.Status == kitRunning {
			return *j, false, nil
		}
	}
	if len(k.jobs) >= maxKits {
		var oldest *kitJob
		for _, j := range k.jobs {
			if j.Status != kitRunning && (oldest == nil || j.Finished.Before(oldest.Finished)) {
				oldest = j
			}
		}
		if oldest == nil {
			return kitJob{}, false, orchestrator.Errorf(orchestrator.EUNAVAILABLE,
				"%d offline kits are being made already; try again in a minute", maxKits)
		}
		delete(k.jobs, oldest.ID)
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	j := &kitJob{ID: hex.EncodeToString(id), Owner: owner, Started: now, Status: kitRunning}
	if k.jobs == nil {
		k.jobs = map[string]*kitJob{}
	}
	k.jobs[j.ID] = j
	return *j, true, nil
}

// prune drops the kits made more than kitKeep ago.
func (k *kitJobs) prune(now time.Time) {
	for id, j := range k.jobs {
		if j.Status != kitRunning && now.Sub(j.Finished) > kitKeep {
			delete(k.jobs, id)
		}
	}
}

// get returns owner's kit id as it is now; another person's kit is not
// found.
func (k *kitJobs) get(id, owner string, now time.Time) (kitJob, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.prune(now)
	j, ok := k.jobs[id]
	if !ok || j.Owner != owner {
		return kitJob{}, false
	}
	return *j, true
}

// take hands over owner's finished kit id and forgets it.
func (k *kitJobs) take(id, owner string, now time.Time) (kitJob, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.prune(now)
	j, ok := k.jobs[id]
	if !ok || j.Owner != owner || j.Status != kitDone {
		return kitJob{}, false
	}
	delete(k.jobs, id)
	return *j, true
}

// mine lists owner's kits, newest first.
func (k *kitJobs) mine(owner string, now time.Time) []kitJob {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.prune(now)
	var out []kitJob
	for _, j := range k.jobs {
		if j.Owner == owner {
			out = append(out, *j)
		}
	}
	slices.SortFunc(out, func(a, b kitJob) int { return b.Started.Compare(a.Started) })
	return out
}

// update changes kit id under the lock.
func (k *kitJobs) update(id string, change func(*kitJob)) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if j, ok := k.jobs[id]; ok {
		change(j)
	}
}

// progressSink passes kit files on to the archive, counting them.
type progressSink struct {
	runbooks.KitSink
	file func(name string)
}

// Create counts the file and starts it in the archive.
func (p progressSink) Create(name string, modified time.Time) (io.WriteCloser, error) {
	p.file(name)
	return p.KitSink.Create(name, modified)
}

// kitView is the kit page's data.
type kitView struct {
	Kits []kitJob
}

// kitPage says what the offline kit holds and offers to make it, with the
// person's kits made or being made.
func (u *UI) kitPage(w http.ResponseWriter, r *http.Request) {
	u.render(w, r, http.StatusOK, "kit", kitView{Kits: u.kits.mine(actor(r.Context()).Name, u.rt.Now())})
}

// startKit starts making a kit and sends the person to follow it.
func (u *UI) startKit(w http.ResponseWriter, r *http.Request) {
	job, started, err := u.kits.start(actor(r.Context()).Name, u.rt.Now())
	if err != nil {
		u.fail(w, r, err)
		return
	}
	if started {
		// The kit outlives the request that asked for it, keeping its
		// values (the actor, the audit key); the server's shutdown ends it.
		go u.makeKit(context.WithoutCancel(r.Context()), job.ID)
	}
	http.Redirect(w, r, "/kit/jobs/"+job.ID, http.StatusSeeOther)
}

// makeKit writes the kit into a zip in memory, counting its files.
func (u *UI) makeKit(ctx context.Context, id string) {
	ctx, cancel := context.WithTimeout(ctx, kitTimeout)
	defer cancel()
	stop := context.AfterFunc(u.closing, cancel)
	defer stop()
	n, err := u.approvedRunbooks(ctx)
	if err == nil {
		u.kits.update(id, func(j *kitJob) { j.Expected = n*len(runbooks.Formats) + kitOtherFiles })
	}
	var buf bytes.Buffer
	zs := runbooks.NewZipSink(&buf)
	var m runbooks.Manifest
	if err == nil {
		m, err = u.svc.Runbooks.WriteKit(ctx, progressSink{KitSink: zs, file: func(name string) {
			u.kits.update(id, func(j *kitJob) { j.Files++; j.Current = name })
		}})
	}
	if err == nil {
		err = zs.Close()
	}
	now := u.rt.Now()
	if err != nil && orchestrator.ErrorCode(err) == orchestrator.EINTERNAL {
		u.log.Error("make offline kit", "err", err.Error())
	}
	u.kits.update(id, func(j *kitJob) {
		j.Finished = now
		if err != nil {
			j.Status, j.Error = kitFailed, orchestrator.ErrorMessage(err)
			return
		}
		j.Status, j.Runbooks, j.body, j.Size = kitDone, m.Runbooks, buf.Bytes(), buf.Len()
		j.Files = len(m.Files) + 1
		j.Name = "continuity-kit-" + m.CreatedAt.UTC().Format("20060102T150405Z") + ".zip"
	})
}

// approvedRunbooks counts the runbooks the kit carries: those with a
// version in force.
func (u *UI) approvedRunbooks(ctx context.Context) (int, error) {
	n, page := 0, orchestrator.Page{Limit: orchestrator.MaxPageLimit}
	for {
		l, err := u.svc.Runbooks.List(ctx, runbooks.Filter{Status: runbooks.StatusApproved}, page)
		if err != nil {
			return 0, err
		}
		n += len(l.Items)
		if l.Next == "" || len(l.Items) == 0 {
			return n, nil
		}
		page.After = strconv.FormatInt(l.Items[len(l.Items)-1].ID, 10)
	}
}

// kitJobPage follows a kit; htmx polls it every second while it is made,
// and it then offers the download.
func (u *UI) kitJobPage(w http.ResponseWriter, r *http.Request) {
	job, ok := u.kits.get(r.PathValue("job"), actor(r.Context()).Name, u.rt.Now())
	if !ok {
		u.fail(w, r, orchestrator.Errorf(orchestrator.ENOTFOUND, "there is no such kit: kits are kept %s after they are made, until downloaded", kitKeep))
		return
	}
	u.render(w, r, http.StatusOK, "kit_job", job)
}

// kitDownload hands the finished kit over and forgets it.
func (u *UI) kitDownload(w http.ResponseWriter, r *http.Request) {
	job, ok := u.kits.take(r.PathValue("job"), actor(r.Context()).Name, u.rt.Now())
	if !ok {
		u.fail(w, r, orchestrator.Errorf(orchestrator.ENOTFOUND, "there is no such kit ready: it was downloaded already, is still being made, or was made more than %s ago", kitKeep))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": job.Name}))
	h.Set("Content-Length", strconv.Itoa(len(job.body)))
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write(job.body)
}
