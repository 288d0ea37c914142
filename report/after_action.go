package report

import (
	"context"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
)

// afterActionReport is not built yet.
func (e *Reports) afterActionReport(ctx context.Context, q Request, from, to time.Time) (any, htmlPage, error) {
	return nil, nil, orchestrator.Errorf(orchestrator.EUNAVAILABLE, "the %s report is not built yet", KindAfterAction)
}
