package itsm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// Measurement bases of availability.
const (
	Measured24x7          = "24x7"
	MeasuredBusinessHours = "business_hours"
)

// Availability is a business service's achieved availability over
// [From, To) against its target.
type Availability struct {
	Service    string    `json:"service"`
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	MeasuredIn string    `json:"measured_in"`
	// ScheduledMinutes is the time the service was due to be available:
	// the whole period for 24x7, its business hours otherwise.
	ScheduledMinutes float64 `json:"scheduled_minutes"`
	// OutageMinutes is the scheduled time lost to incidents affecting the
	// service (overlaps counted once).
	OutageMinutes float64 `json:"outage_minutes"`
	// Achieved is 100 × (1 − outage / scheduled), in percent; nil when no
	// time was scheduled.
	Achieved *float64 `json:"achieved"`
	Target   *float64 `json:"target"`
	Met      *bool    `json:"met"`
	// SLA is the agreement the target and measurement came from, if any.
	SLA *SLARef `json:"sla"`
}

// SLARef names the SLA an availability figure was measured against.
type SLARef struct {
	ID     int64   `json:"id"`
	Name   string  `json:"name"`
	Period string  `json:"period"`
	Target float64 `json:"target"`
}

// AvailabilityOptions override what the service's SLA says.
type AvailabilityOptions struct {
	Target     *float64 // percent, 0 < target ≤ 100
	MeasuredIn string   // 24x7 or business_hours
}

// ServiceAvailability measures a business service over [from, to). The
// target and measurement basis come from the options when given, else from
// the service's SLA in force at the end of the period, else 24x7 with no
// target.
func ServiceAvailability(ctx context.Context, q postgres.Querier, key string, from, to time.Time, opts AvailabilityOptions) (Availability, error) {
	if err := checkAvailability(from, to, opts); err != nil {
		return Availability{}, err
	}
	id, err := scopeID(ctx, q, Scope{Key: key, Service: true})
	if err != nil {
		return Availability{}, err
	}
	a := Availability{Service: key, From: from, To: to, MeasuredIn: Measured24x7, Target: opts.Target}
	if a.SLA, a.MeasuredIn, err = serviceSLA(ctx, q, id, to); err != nil {
		return Availability{}, err
	}
	if a.SLA != nil && a.Target == nil {
		a.Target = &a.SLA.Target
	}
	if opts.MeasuredIn != "" {
		a.MeasuredIn = opts.MeasuredIn
	}
	var hours *BusinessHours
	if a.MeasuredIn == MeasuredBusinessHours {
		var tz string
		var windows []byte
		const query = `SELECT coalesce(timezone, 'UTC'), coalesce(business_hours, '[]') FROM business_services WHERE ci_id = $1`
		if err := q.QueryRow(ctx, query, id).Scan(&tz, &windows); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return Availability{}, fmt.Errorf("load business hours of %q: %w", key, err)
		}
		bh, err := ParseBusinessHours(tz, windows)
		if err != nil {
			return Availability{}, fmt.Errorf("service %q: %w", key, err)
		}
		hours = &bh
	}
	spans, err := scopeSpans(ctx, q, id, true, from, to)
	if err != nil {
		return Availability{}, err
	}
	outages := make([]Interval, len(spans))
	for i, s := range spans {
		outages[i] = s.outageOf(to, time.Now())
	}
	scheduled, lost := measureAvailability(outages, from, to, hours)
	a.ScheduledMinutes, a.OutageMinutes = scheduled.Minutes(), lost.Minutes()
	if scheduled > 0 {
		achieved := 100 * (1 - float64(lost)/float64(scheduled))
		a.Achieved = &achieved
		if a.Target != nil {
			met := achieved >= *a.Target
			a.Met = &met
		}
	}
	return a, nil
}

func checkAvailability(from, to time.Time, opts AvailabilityOptions) error {
	if err := CheckPeriod(from, to); err != nil {
		return err
	}
	var v orchestrator.Validation
	if t := opts.Target; t != nil && (!(*t > 0) || *t > 100) {
		v.Add("target", "must be a percentage above 0 and at most 100")
	}
	if opts.MeasuredIn != "" && !slices.Contains([]string{Measured24x7, MeasuredBusinessHours}, opts.MeasuredIn) {
		v.Add("measured_in", "must be 24x7 or business_hours")
	}
	return v.Err()
}

// serviceSLA returns the service's SLA in force on the last day of a period
// ending at to (the most recently started one when several are), and its
// measurement basis; 24x7 when there is none.
func serviceSLA(ctx context.Context, q postgres.Querier, serviceID int64, to time.Time) (*SLARef, string, error) {
	const query = `SELECT id, name, period, availability_target, measured_in FROM slas
		WHERE service_id = $1 AND valid_from <= $2::date AND (valid_to IS NULL OR valid_to >= $2::date)
		ORDER BY valid_from DESC, id DESC LIMIT 1`
	lastDay := to.Add(-time.Microsecond).UTC().Format(time.DateOnly)
	var (
		sla      SLARef
		measured string
	)
	err := q.QueryRow(ctx, query, serviceID, lastDay).Scan(&sla.ID, &sla.Name, &sla.Period, &sla.Target, &measured)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, Measured24x7, nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("load SLA of service %d: %w", serviceID, err)
	}
	return &sla, measured, nil
}

// measureAvailability returns the scheduled time of [from, to) and the
// part of it lost to outages: all of it for 24x7 (hours nil), only business
// hours otherwise.
func measureAvailability(outages []Interval, from, to time.Time, hours *BusinessHours) (scheduled, lost time.Duration) {
	var clipped []Interval
	for _, iv := range outages {
		if c, ok := iv.Clip(from, to); ok {
			clipped = append(clipped, c)
		}
	}
	merged := Union(clipped)
	if hours == nil {
		return to.Sub(from), Total(merged)
	}
	for _, iv := range merged {
		lost += hours.Overlap(iv.Start, iv.End)
	}
	return hours.Overlap(from, to), lost
}
