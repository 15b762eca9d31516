package web

import (
	"strings"
	"testing"
	"time"

	"hookd.dev/hookd/models"
)

func hoursWith(set func(i int, h *models.Hour)) []models.Hour {
	start := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	hours := make([]models.Hour, 24)
	for i := range hours {
		hours[i] = models.Hour{Start: start.Add(time.Duration(i) * time.Hour), Deliveries: models.StatusCounts{},
			Latency: make([]int64, len(models.LatencyBounds)+1)}
		set(i, &hours[i])
	}
	return hours
}

func TestChartsSayWhenThereIsNothingToShow(t *testing.T) {
	empty := hoursWith(func(int, *models.Hour) {})
	for _, c := range []svgChart{deliveriesChart(empty), latencyChart(empty), successChart(empty)} {
		if c.Empty == "" || len(c.Rects) != 0 || len(c.Lines) != 0 {
			t.Errorf("%s: empty %q, %d rects, %d lines", c.Label, c.Empty, len(c.Rects), len(c.Lines))
		}
	}
}

func TestChartsFitTheirData(t *testing.T) {
	hours := hoursWith(func(i int, h *models.Hour) {
		h.Deliveries[models.StatusSucceeded] = int64(i * 10)
		h.Deliveries[models.StatusFailed] = 3
		h.Latency[2] = 5                         // under 50 ms
		h.Latency[len(models.LatencyBounds)] = 1 // over every bound
	})
	d := deliveriesChart(hours)
	for _, r := range d.Rects {
		if r.Y < chartTop-0.001 || r.Y+r.H > d.Bottom+0.001 || r.X < chartLeft || r.X+r.W > chartW {
			t.Fatalf("bar %+v outside the plot", r)
		}
	}
	if top := d.YTicks[len(d.YTicks)-1].Label; top != "500" { // 233 rounds up to 500
		t.Errorf("top tick %s, want 500", top)
	}
	l := latencyChart(hours)
	if len(l.Lines) != 2 || !strings.Contains(l.Rects[0].Title, "p50 ≤ 50 ms") {
		t.Errorf("latency lines %d, first point %q", len(l.Lines), l.Rects[0].Title)
	}
	var p95 string
	for _, r := range l.Rects {
		if r.Class == "p95" {
			p95 = r.Title
		}
	}
	if !strings.Contains(p95, "p95 ≤ 30s") {
		t.Errorf("p95 over every bound: %q", p95)
	}
	s := successChart(hours)
	if len(s.Rects) != 24 || !strings.HasSuffix(s.Rects[0].Title, "0% of 3") || !strings.HasSuffix(s.Rects[23].Title, "99% of 233") {
		t.Errorf("success points: %q … %q", s.Rects[0].Title, s.Rects[23].Title)
	}
}
