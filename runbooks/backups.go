package runbooks

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/backup"
)

// PGBackups reads the RPO status of CIs from the backup capability's
// verified checks.
type PGBackups struct {
	pool *pgxpool.Pool
	rt   orchestrator.Runtime
}

// NewPGBackups returns the backup status reader over pool; the runtime's
// clock tells the age of backups.
func NewPGBackups(pool *pgxpool.Pool, rt orchestrator.Runtime) *PGBackups {
	return &PGBackups{pool: pool, rt: rt}
}

// RPOStatus judges each CI's newest verified backup against its required
// RPO; a CI without one is reported with its backups' age only.
func (b *PGBackups) RPOStatus(ctx context.Context, required map[string]*orchestrator.Duration) (map[string]BackupStatus, error) {
	now := b.rt.Now()
	out := make(map[string]BackupStatus, len(required))
	for _, key := range sortedKeys(required) {
		var (
			st  backup.Status
			err error
		)
		if req := required[key]; req != nil {
			st, err = backup.RPOStatus(ctx, b.pool, key, *req, now)
		} else {
			st, err = backup.CIStatus(ctx, b.pool, key, now)
		}
		switch orchestrator.ErrorCode(err) {
		case "":
		case orchestrator.ENOTFOUND:
			continue
		default:
			return nil, err
		}
		s := BackupStatus{Status: st.State, LastVerifiedAt: st.LatestVerifiedBackupAt, Message: st.Reason}
		if s.Status == "" {
			s.Status = orchestrator.RPOUnknown
			s.Message += "; no service with an approved BIA requires an RPO of it"
		}
		if s.Status == orchestrator.RPOUnknown {
			s.Message = "unknown: " + s.Message
		}
		out[key] = s
	}
	return out, nil
}
