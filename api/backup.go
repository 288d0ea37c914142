package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/backup"
)

func (s *Server) backupRoutes() []Route {
	targets := resource[backup.Target, backup.TargetInput]{
		list:   s.listBackupTargets,
		get:    s.getBackupTarget,
		create: s.backup.Create,
		update: s.replaceBackupTarget,
		delete: s.deleteBackupTarget,
	}
	return append(targets.routes(s, "/backup-targets", "id", recordReads, recordWrites),
		// A check runs the backup tool while the client waits.
		Route{Method: "POST", Path: "/backup-targets/:id/check", Roles: recordWrites, Timeout: backup.MaxCheckDuration, handler: s.checkBackupTarget},
		Route{Method: "GET", Path: "/backup-targets/:id/checks", Roles: recordReads, handler: s.listBackupChecks},
		Route{Method: "GET", Path: "/cis/:key/backup-status", Roles: recordReads, handler: s.ciBackupStatus},
	)
}

// backupTargetID reads a target id from the path.
func backupTargetID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 1 {
		return 0, &orchestrator.Error{Code: orchestrator.EINVALID, Message: "invalid id",
			Fields: []orchestrator.FieldError{{Field: "id", Message: "must be a positive whole number"}}}
	}
	return id, nil
}

func (s *Server) listBackupTargets(ctx context.Context, values url.Values, page orchestrator.Page) (orchestrator.List[backup.Target], error) {
	q := newQuery(values)
	f := backup.Filter{CI: q.str("ci"), Kind: backup.Kind(q.oneOf("kind", enumStrings(backup.Kinds)...)),
		Status: q.oneOf("status", append(enumStrings(backup.CheckStatuses), "none")...)}
	if err := q.err(); err != nil {
		return orchestrator.List[backup.Target]{}, err
	}
	return s.backup.List(ctx, f, page)
}

func (s *Server) getBackupTarget(ctx context.Context, idText string) (backup.Target, error) {
	id, err := backupTargetID(idText)
	if err != nil {
		return backup.Target{}, err
	}
	return s.backup.Get(ctx, id)
}

func (s *Server) replaceBackupTarget(ctx context.Context, idText string, in backup.TargetInput) (backup.Target, error) {
	id, err := backupTargetID(idText)
	if err != nil {
		return backup.Target{}, err
	}
	return s.backup.Replace(ctx, id, in)
}

func (s *Server) deleteBackupTarget(ctx context.Context, idText string) error {
	id, err := backupTargetID(idText)
	if err != nil {
		return err
	}
	return s.backup.Delete(ctx, id)
}

// checkBackupTarget runs a check now and answers with its recorded result.
func (s *Server) checkBackupTarget(c *gin.Context) {
	id, err := backupTargetID(c.Param("id"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	respond[backup.Check](s, c, http.StatusOK)(s.backup.CheckNow(c.Request.Context(), id))
}

// listBackupChecks pages through a target's checks, newest first.
func (s *Server) listBackupChecks(c *gin.Context) {
	id, err := backupTargetID(c.Param("id"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	page, err := pageFrom(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	values := c.Request.URL.Query()
	values.Del("limit")
	values.Del("after")
	if err := newQuery(values).err(); err != nil {
		s.writeError(c, err)
		return
	}
	respond[orchestrator.List[backup.Check]](s, c, http.StatusOK)(s.backup.Checks(c.Request.Context(), id, page))
}

// ciBackupStatus reports a CI's backups and the age of its newest verified
// backup; with ?rpo= it also judges them against that RPO.
func (s *Server) ciBackupStatus(c *gin.Context) {
	q := newQuery(c.Request.URL.Query())
	rpo := q.duration("rpo")
	given := strings.TrimSpace(q.values.Get("rpo")) != ""
	if err := q.err(); err != nil {
		s.writeError(c, err)
		return
	}
	ctx, key, now := c.Request.Context(), c.Param("key"), time.Now()
	if given {
		respond[backup.Status](s, c, http.StatusOK)(backup.RPOStatus(ctx, s.pool, key, rpo, now))
		return
	}
	respond[backup.Status](s, c, http.StatusOK)(backup.CIStatus(ctx, s.pool, key, now))
}
