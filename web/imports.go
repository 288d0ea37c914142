package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/importer"
)

// importRoles may import: the API's POST /imports is the records writers'.
var importRoles = orchestrator.RecordWriters

// importPages are imports and the offline kit.
func (u *UI) importPages() []page {
	return []page{
		{"GET /imports", importRoles, u.imports, "imports"},
		{"POST /imports", importRoles, u.startImport, ""},
		{"GET /imports/jobs/{id}", importRoles, u.importJob, ""},
	}
}

// Bounds on the imports the UI runs. An upload is saved to a temporary
// file first, so that the import's progress is a fraction of a known size;
// at most importsAtOnce uploads are being saved or imported at once (the
// importer's own queue bounds the API's and the UI's imports together).
const (
	importMaxBytes   = 512 << 20
	importFieldBytes = 4 << 10
	importsAtOnce    = 2
	importJobsKept   = 32
	importJobTTL     = 15 * time.Minute
	importTimeout    = 30 * time.Minute
)

// importsView is the import form: the record types, what was chosen, and
// why an upload was refused.
type importsView struct {
	Types, Charsets, DateFormats []string
	Type, Format, Mode           string
	Charset, DateFormat          string
	Timezone                     string
	MaxSize                      string
	Problems                     []orchestrator.FieldError
	Busy                         bool
}

func (u *UI) imports(w http.ResponseWriter, r *http.Request) {
	u.importsPage(w, r, http.StatusOK, importsView{Format: "auto", Mode: "all", Charset: importer.CharsetAuto, DateFormat: importer.DateAuto})
}

func (u *UI) importsPage(w http.ResponseWriter, r *http.Request, status int, v importsView) {
	v.Types, v.MaxSize = u.svc.Imports.Types(), bytesText(u.importing.limit())
	v.Charsets, v.DateFormats = importer.Charsets, importDateFormats
	u.render(w, r, status, "imports", v)
}

// importDateFormats are the orders of year-last CSV dates the form
// offers; the API also takes a Go layout.
var importDateFormats = []string{importer.DateAuto, importer.DateDMY, importer.DateMDY, importer.DateYMD}

// upload is what the import form sent: its fields and the file, saved.
type upload struct {
	typ, format, mode, source string
	charset, dateFormat, tz   string
	file                      string // the name the browser gave
	path                      string // the saved copy
	size                      int64
}

// startImport saves the uploaded file, starts its import as a job and
// sends the browser to the job's page. With importsAtOnce imports already
// under way here it says so before reading anything.
func (u *UI) startImport(w http.ResponseWriter, r *http.Request) {
	if !u.importing.reserve() {
		u.importsPage(w, r, refusedStatus(w, r, http.StatusTooManyRequests), importsView{Format: "auto", Mode: "all", Charset: importer.CharsetAuto, DateFormat: importer.DateAuto, Busy: true})
		return
	}
	started := false
	defer func() {
		if !started {
			u.importing.release()
		}
	}()
	up, err := u.saveUpload(w, r, u.importing.limit())
	if err == nil {
		err = u.checkUpload(&up)
	}
	if err != nil {
		if up.path != "" {
			_ = os.Remove(up.path)
		}
		code, refused := refusal(err)
		if orchestrator.ErrorCode(err) == orchestrator.ETOOLARGE {
			code, refused = http.StatusRequestEntityTooLarge, true
		}
		if !refused {
			u.fail(w, r, err)
			return
		}
		var e *orchestrator.Error
		errors.As(err, &e)
		u.importsPage(w, r, refusedStatus(w, r, code), importsView{Type: up.typ, Format: up.format, Mode: up.mode,
			Charset: up.charset, DateFormat: up.dateFormat, Timezone: up.tz, Problems: e.Fields})
		return
	}
	job := &importJob{id: newJobID(), owner: actor(r.Context()).TokenID, typ: up.typ, format: up.format, file: up.file,
		partial: up.mode == "partial", size: up.size, stage: importWaiting, done: make(chan struct{})}
	u.importing.add(job, u.rt.Now())
	started = true
	go u.runImport(r.Context(), job, up)
	http.Redirect(w, r, "/imports/jobs/"+job.id, http.StatusSeeOther)
}

// saveUpload reads the multipart form as it streams in: small fields into
// memory, the file into a temporary file, at most limit bytes of it.
func (u *UI) saveUpload(w http.ResponseWriter, r *http.Request, limit int64) (upload, error) {
	var up upload
	r.Body = http.MaxBytesReader(w, r.Body, limit+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		return up, orchestrator.Invalid("file", "must be sent as a form upload (multipart/form-data)")
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return up, nil
		}
		if err != nil {
			return up, uploadError(err, limit)
		}
		switch name := part.FormName(); name {
		case "file":
			if up.path != "" {
				return up, orchestrator.Invalid("file", "send one file at a time")
			}
			up.file = filepath.Base(part.FileName())
			if err := saveFile(part, &up, limit); err != nil {
				return up, err
			}
		case "type", "format", "mode", "source", "charset", "date_format", "timezone":
			b, err := io.ReadAll(io.LimitReader(part, importFieldBytes+1))
			if err != nil {
				return up, uploadError(err, limit)
			}
			if len(b) > importFieldBytes {
				return up, orchestrator.Invalid(name, "is too long")
			}
			value := strings.TrimSpace(string(b))
			switch name {
			case "type":
				up.typ = value
			case "format":
				up.format = value
			case "mode":
				up.mode = value
			case "source":
				up.source = value
			case "charset":
				up.charset = value
			case "date_format":
				up.dateFormat = value
			case "timezone":
				up.tz = value
			}
		}
	}
}

// saveFile copies the file part to a temporary file; a file larger than
// limit is refused (and its copy removed by the caller).
func saveFile(part *multipart.Part, up *upload, limit int64) error {
	f, err := os.CreateTemp("", "bcdr-import-*")
	if err != nil {
		return fmt.Errorf("save upload: %w", err)
	}
	up.path = f.Name()
	n, err := io.Copy(f, io.LimitReader(part, limit+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return uploadError(err, limit)
	}
	if n > limit {
		return tooLarge(limit)
	}
	up.size = n
	return nil
}

// uploadError says why an upload could not be read: too large, or cut off.
func uploadError(err error, limit int64) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return tooLarge(limit)
	}
	return orchestrator.Invalid("file", "the upload could not be read: %v", err)
}

// tooLarge refuses a file larger than limit, saying what to do instead.
func tooLarge(limit int64) error {
	return &orchestrator.Error{Code: orchestrator.ETOOLARGE, Message: "the file is too large",
		Fields: []orchestrator.FieldError{{Field: "file", Message: fmt.Sprintf("is larger than %s: split it, or import it "+
			"with the API (POST /api/v1/imports), which streams it", bytesText(limit))}}}
}

// checkUpload checks the choices and settles the format: "auto" goes by
// the file's name.
func (u *UI) checkUpload(up *upload) error {
	var v orchestrator.Validation
	if !slices.Contains(u.svc.Imports.Types(), up.typ) {
		v.Add("type", "must be one of %s", strings.Join(u.svc.Imports.Types(), ", "))
	}
	switch up.format {
	case "", "auto":
		up.format = "csv"
		if ext := strings.ToLower(filepath.Ext(up.file)); ext == ".jsonl" || ext == ".ndjson" {
			up.format = "jsonl"
		}
	case "csv", "jsonl":
	default:
		v.Add("format", "must be csv or jsonl")
	}
	switch up.mode {
	case "":
		up.mode = "all"
	case "all", "partial":
	default:
		v.Add("mode", "must be all or partial")
	}
	if _, ok := importer.ParseCharset(up.charset); !ok {
		v.Add("charset", "must be one of %s", strings.Join(importer.Charsets, ", "))
	}
	if up.path == "" {
		v.Add("file", "choose a file to import")
	}
	return v.Err()
}

// newJobID is a job's id, not guessable, so that a job's address names
// nobody else's import.
func newJobID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// runImport imports the saved file, as the person who uploaded it (the
// request's context values without its end), until it is done, the import
// times out or the server shuts down; then it removes the file.
func (u *UI) runImport(reqCtx context.Context, job *importJob, up upload) {
	defer u.importing.release()
	defer func() { _ = os.Remove(up.path) }()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(reqCtx), importTimeout)
	defer cancel()
	stop := context.AfterFunc(u.closing, cancel)
	defer stop()

	stage, rep, problem := u.importFile(ctx, job, up)
	job.finish(stage, rep, problem, u.rt.Now())
}

// importFile runs the import and says how it ended: its stage, its report
// and what to tell the person.
func (u *UI) importFile(ctx context.Context, job *importJob, up upload) (string, *importer.Report, string) {
	pool := u.svc.Pool
	f, err := os.Open(up.path)
	if err != nil {
		u.log.Error("open saved upload", "err", err.Error())
		return importFailed, nil, ""
	}
	defer f.Close()
	var counted int64
	body := readFunc(func(b []byte) (int, error) {
		n, err := f.Read(b)
		counted += int64(n)
		job.advance(counted, errors.Is(err, io.EOF))
		return n, err
	})
	opts := importer.Options{Format: up.format, Partial: up.mode == "partial", Source: up.source,
		Charset: up.charset, DateFormat: up.dateFormat, Timezone: up.tz,
		Progress: func(read int64) { job.advance(read, false) }}
	rep, err := u.svc.Imports.Import(ctx, pool, up.typ, body, opts)
	var busy *importer.BusyError
	switch {
	case err == nil:
		return importDone, &rep, ""
	case errors.As(err, &busy):
		return importBusy, nil, ""
	case errors.Is(err, importer.ErrRejected):
		return importRejected, &rep, err.Error()
	case orchestrator.ErrorCode(err) != orchestrator.EINTERNAL:
		return importFailed, nil, err.Error()
	default:
		u.log.Error("import failed", "type", up.typ, "err", err.Error())
		return importFailed, nil, ""
	}
}

// readFunc is an io.Reader made of a function.
type readFunc func([]byte) (int, error)

func (f readFunc) Read(b []byte) (int, error) { return f(b) }

// importJob shows a job: its progress while it runs, polled by htmx, and
// its report when it is done.
func (u *UI) importJob(w http.ResponseWriter, r *http.Request) {
	job, ok := u.importing.get(r.PathValue("id"), actor(r.Context()).TokenID, u.rt.Now())
	if !ok {
		u.render(w, r, http.StatusNotFound, "error", errorView{Message: words(language(r))("import_gone")})
		return
	}
	u.render(w, r, http.StatusOK, "import", job.status())
}

// importWords are the words of imports and the offline kit.
var importWords = map[string]map[string]string{
	langEN: {
		"imports":              "Imports",
		"import_help":          "Load records from a CSV file (with a header row) or a JSONL file (one JSON object a line), as the API's POST /imports does. Rows are matched to existing records by their identity: new ones are inserted, changed ones updated.",
		"import_type":          "Record type",
		"import_format":        "Format",
		"import_format_auto":   "By the file's name (.jsonl is JSONL, anything else CSV)",
		"import_format_csv":    "CSV",
		"import_format_jsonl":  "JSONL",
		"import_mode":          "When some rows are bad",
		"import_mode_all":      "All or nothing: write nothing, list the bad rows",
		"import_mode_partial":  "Partial: write the good rows, list the bad ones",
		"import_source":        "Source name (optional)",
		"import_source_help":   "Recorded on rows that name no source, e.g. servicenow; \"import\" when empty.",
		"import_charset":       "Character set",
		"import_charset_auto":  "Detect (UTF-8, GB18030 or Windows-1252)",
		"import_date_format":   "Dates written with the year last (CSV)",
		"import_date_auto":     "Decide from the file's dates",
		"import_date_dmy":      "day/month/year",
		"import_date_mdy":      "month/day/year",
		"import_date_ymd":      "refuse them: dates are year first",
		"import_timezone":      "Time zone of times without one (CSV, optional)",
		"import_timezone_help": "An IANA name such as Asia/Shanghai or Europe/Paris; UTC when empty.",
		"import_warnings":      "Rows written otherwise than they read",
		"import_file":          "File",
		"import_file_help":     "At most %s; larger files go through the API, which streams them.",
		"import_start":         "Import",
		"import_refused":       "Not imported:",
		"import_busy":          "The server is busy with other imports; nothing was read. Try again in a minute.",
		"import_gone":          "There is no such import: import pages are kept 15 minutes after they finish.",
		"import_job":           "Import",
		"import_job_help":      "This page follows the import; it updates every second.",
		"import_stage_waiting": "waiting for a turn",
		"import_stage_reading": "reading and checking rows",
		"import_stage_writing": "checking references and writing",
		"import_read":          "%s of %s read",
		"import_done":          "The import is done.",
		"import_rejected":      "Nothing was written: some rows are bad, and the import was all or nothing. Correct them and import the file again.",
		"import_failed":        "The file could not be imported:",
		"import_rows":          "Rows",
		"import_inserted":      "Inserted",
		"import_updated":       "Updated",
		"import_unchanged":     "Unchanged",
		"import_bad":           "Bad rows",
		"import_written":       "Written",
		"import_ignored":       "Columns ignored (no field takes them)",
		"import_problems":      "Bad rows",
		"import_row":           "Row",
		"import_line":          "Line",
		"import_field":         "Field",
		"import_problem":       "Problem",
		"import_truncated":     "More rows are bad than are listed here.",
		"import_again":         "Import another file",
	},
	langZH: {
		"imports":              "导入",
		"import_help":          "从 CSV 文件（含表头行）或 JSONL 文件（每行一个 JSON 对象）载入记录，与 API 的 POST /imports 相同。各行按其标识与已有记录匹配：新记录插入，有变化的记录更新。",
		"import_type":          "记录类型",
		"import_format":        "格式",
		"import_format_auto":   "按文件名（.jsonl 为 JSONL，其余为 CSV）",
		"import_format_csv":    "CSV",
		"import_format_jsonl":  "JSONL",
		"import_mode":          "部分行有误时",
		"import_mode_all":      "全部或全不：不写入任何记录，列出有误的行",
		"import_mode_partial":  "部分导入：写入正确的行，列出有误的行",
		"import_source":        "来源名称（可选）",
		"import_source_help":   "记录在未注明来源的行上，例如 servicenow；留空则为“import”。",
		"import_charset":       "字符集",
		"import_charset_auto":  "自动识别（UTF-8、GB18030 或 Windows-1252）",
		"import_date_format":   "年份在后的日期（CSV）",
		"import_date_auto":     "根据文件中的日期判断",
		"import_date_dmy":      "日/月/年",
		"import_date_mdy":      "月/日/年",
		"import_date_ymd":      "拒绝：日期均为年份在前",
		"import_timezone":      "未注明时区的时间所用时区（CSV，可选）",
		"import_timezone_help": "IANA 时区名，例如 Asia/Shanghai 或 Europe/Paris；留空则为 UTC。",
		"import_warnings":      "写入内容与文件不同的行",
		"import_file":          "文件",
		"import_file_help":     "最大 %s；更大的文件请通过 API 以流式方式导入。",
		"import_start":         "导入",
		"import_refused":       "未导入：",
		"import_busy":          "服务器正忙于其他导入，未读取任何内容。请一分钟后再试。",
		"import_gone":          "没有这个导入：导入页面在完成 15 分钟后不再保留。",
		"import_job":           "导入",
		"import_job_help":      "本页面跟进导入进度，每秒更新一次。",
		"import_stage_waiting": "排队等候",
		"import_stage_reading": "读取并检查各行",
		"import_stage_writing": "检查引用并写入",
		"import_read":          "已读取 %s / %s",
		"import_done":          "导入已完成。",
		"import_rejected":      "未写入任何记录：部分行有误，且本次导入为全部或全不。请修正后重新导入该文件。",
		"import_failed":        "文件未能导入：",
		"import_rows":          "行数",
		"import_inserted":      "新增",
		"import_updated":       "更新",
		"import_unchanged":     "未变",
		"import_bad":           "有误的行",
		"import_written":       "已写入",
		"import_ignored":       "被忽略的列（无对应字段）",
		"import_problems":      "有误的行",
		"import_row":           "行号",
		"import_line":          "文件行",
		"import_field":         "字段",
		"import_problem":       "问题",
		"import_truncated":     "有误的行多于此处所列。",
		"import_again":         "导入另一个文件",
	},
}
