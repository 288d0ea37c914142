package impact

import (
	"context"
	"fmt"
)

// HeatCell counts the risks at one likelihood × impact cell.
type HeatCell struct {
	Likelihood int     `json:"likelihood"`
	Impact     int     `json:"impact"`
	Count      int     `json:"count"`
	Risks      []int64 `json:"risks"`
}

// Heatmap places every risk on the 5 × 5 likelihood × impact grid twice:
// before controls (inherent) and after (residual). Each grid lists all 25
// cells, likelihood-major.
type Heatmap struct {
	Total    int        `json:"total"`
	Inherent []HeatCell `json:"inherent"`
	Residual []HeatCell `json:"residual"`
}

func newGrid() []HeatCell {
	cells := make([]HeatCell, 0, 25)
	for l := 1; l <= 5; l++ {
		for i := 1; i <= 5; i++ {
			cells = append(cells, HeatCell{Likelihood: l, Impact: i, Risks: []int64{}})
		}
	}
	return cells
}

func place(cells []HeatCell, likelihood, impact int, id int64) {
	if likelihood < 1 || likelihood > 5 || impact < 1 || impact > 5 {
		return
	}
	c := &cells[(likelihood-1)*5+impact-1]
	c.Count++
	c.Risks = append(c.Risks, id)
}

// Heatmap counts the register per cell.
func (s *Service) Heatmap(ctx context.Context) (Heatmap, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, likelihood, impact, residual_likelihood, residual_impact FROM risks ORDER BY id`)
	if err != nil {
		return Heatmap{}, fmt.Errorf("risk heatmap: %w", err)
	}
	defer rows.Close()
	h := Heatmap{Inherent: newGrid(), Residual: newGrid()}
	for rows.Next() {
		var (
			id           int64
			l, i, rl, ri int
		)
		if err := rows.Scan(&id, &l, &i, &rl, &ri); err != nil {
			return Heatmap{}, fmt.Errorf("risk heatmap: %w", err)
		}
		h.Total++
		place(h.Inherent, l, i, id)
		place(h.Residual, rl, ri, id)
	}
	return h, rows.Err()
}
