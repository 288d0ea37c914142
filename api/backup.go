package api

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/backup"
)

func (s *Server) backupRoutes() []Route {
	targets := resource[backup.Target, backup.TargetInput]{
		list:   s.listBackupTargets,
		get:    getByID(s.svc.Backups.Get),
		create: s.svc.Backups.Create,
		update: updateByID(s.svc.Backups.Replace),
		delete: deleteByID(s.svc.Backups.Delete),
	}
	return append(targets.routes(s, "/backup-targets", "id", recordReads, recordWrites),
		// A check runs the backup tool now, while the client waits, and
		// answers with its recorded result.
		Route{Method: "POST", Path: "/backup-targets/:id/check", Roles: checkRuns, Timeout: backup.MaxCheckDuration,
			handler: actOn(s, http.StatusOK, s.svc.Backups.CheckNow)},
		Route{Method: "GET", Path: "/backup-targets/:id/checks", Roles: recordReads, handler: listUnder(s, s.listBackupChecks)},
		Route{Method: "GET", Path: "/cis/:key/backup-status", Roles: recordReads, handler: s.ciBackupStatus},
	)
}

func (s *Server) listBackupTargets(ctx context.Context, values url.Values, page orchestrator.Page) (orchestrator.List[backup.Target], error) {
	q := newQuery(values)
	f := backup.Filter{CI: q.str("ci"), Kind: backup.Kind(q.oneOf("kind", enumStrings(backup.Kinds)...)),
		Status: q.oneOf("status", append(enumStrings(backup.CheckStatuses), "none")...)}
	if err := q.err(); err != nil {
		return orchestrator.List[backup.Target]{}, err
	}
	return s.svc.Backups.List(ctx, f, page)
}

// listBackupChecks pages through a target's checks, newest first.
func (s *Server) listBackupChecks(ctx context.Context, id int64, values url.Values, page orchestrator.Page) (orchestrator.List[backup.Check], error) {
	if err := newQuery(values).err(); err != nil {
		return orchestrator.List[backup.Check]{}, err
	}
	return s.svc.Backups.Checks(ctx, id, page)
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
	ctx, key, now := c.Request.Context(), c.Param("key"), s.rt.Now()
	if given {
		respond[backup.Status](s, c, http.StatusOK)(backup.RPOStatus(ctx, s.pool, key, rpo, now))
		return
	}
	respond[backup.Status](s, c, http.StatusOK)(backup.CIStatus(ctx, s.pool, key, now))
}
