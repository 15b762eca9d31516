package web

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"hookd.dev/hookd/models"
)

// The admin UI's charts, drawn as inline SVG on the server
// (templates/charts.html): nothing to load, readable without JavaScript.

// svgChart is one chart: its plot in a viewBox of W × H, with axes.
type svgChart struct {
	Label        string // what it shows, for screen readers
	W, H         float64
	Left, Bottom float64 // the plot's left and bottom edges
	Rects        []svgRect
	Lines        []svgLine
	YTicks       []svgTick
	XTicks       []svgTick
	Legend       []svgLegend
	Empty        string // said instead of a plot with nothing to show
}

type svgRect struct {
	X, Y, W, H float64
	Class      string
	Title      string
}

type svgLine struct {
	Points string
	Class  string
}

type svgTick struct {
	At    float64 // y for YTicks, x for XTicks
	Label string
}

type svgLegend struct{ Class, Label string }

const (
	chartW, chartH           = 720.0, 190.0
	chartLeft, chartRight    = 52.0, 8.0
	chartTop, chartBottomPad = 8.0, 22.0
)

func newChart(label string) svgChart {
	return svgChart{Label: label, W: chartW, H: chartH, Left: chartLeft, Bottom: chartH - chartBottomPad}
}

// slot is the x of hour i's left edge and the width of one hour.
func (c *svgChart) slot(i, n int) (x, w float64) {
	w = (c.W - chartLeft - chartRight) / float64(n)
	return chartLeft + float64(i)*w, w
}

// hourTicks labels every sixth hour, in UTC.
func (c *svgChart) hourTicks(hours []models.Hour) {
	for i, h := range hours {
		if i%6 == 0 || i == len(hours)-1 {
			x, w := c.slot(i, len(hours))
			c.XTicks = append(c.XTicks, svgTick{At: x + w/2, Label: h.Start.UTC().Format("15:04")})
		}
	}
}

// deliveriesChart stacks each hour's deliveries by outcome.
func deliveriesChart(hours []models.Hour) svgChart {
	c := newChart("Deliveries created each hour of the last 24, by outcome")
	c.Legend = []svgLegend{{"succeeded", "succeeded"}, {"failed", "failed"}, {"pending", "pending or in flight"}}
	var top int64
	for _, h := range hours {
		top = max(top, h.Deliveries.Total())
	}
	if top == 0 {
		c.Empty = "No deliveries in the last 24 hours."
		return c
	}
	scale := niceCeil(float64(top))
	plotH := c.Bottom - chartTop
	for i, h := range hours {
		x, w := c.slot(i, len(hours))
		y := c.Bottom
		for _, part := range []struct {
			class string
			n     int64
		}{
			{"succeeded", h.Deliveries[models.StatusSucceeded]},
			{"failed", h.Deliveries[models.StatusFailed]},
			{"pending", h.Deliveries[models.StatusPending] + h.Deliveries[models.StatusInflight]},
		} {
			if part.n == 0 {
				continue
			}
			height := plotH * float64(part.n) / scale
			y -= height
			c.Rects = append(c.Rects, svgRect{X: x + w*0.1, Y: y, W: w * 0.8, H: height, Class: part.class,
				Title: fmt.Sprintf("%s UTC: %d %s", h.Start.UTC().Format("15:04"), part.n, part.class)})
		}
	}
	for _, v := range []float64{0, scale / 2, scale} {
		c.YTicks = append(c.YTicks, svgTick{At: c.Bottom - plotH*v/scale, Label: strconv.FormatFloat(v, 'f', -1, 64)})
	}
	c.hourTicks(hours)
	return c
}

// series draws one line of points, one an hour, broken where point says
// the hour has none, with a marker per point whose title gives its value.
func (c *svgChart) series(class string, hours []models.Hour, point func(models.Hour) (y float64, title string, ok bool)) {
	var pts []string
	flush := func() {
		if len(pts) > 0 {
			c.Lines = append(c.Lines, svgLine{Points: strings.Join(pts, " "), Class: class})
		}
		pts = nil
	}
	for i, h := range hours {
		y, title, ok := point(h)
		if !ok {
			flush()
			continue
		}
		x, w := c.slot(i, len(hours))
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x+w/2, y))
		c.Rects = append(c.Rects, svgRect{X: x + w/2 - 2, Y: y - 2, W: 4, H: 4, Class: class,
			Title: h.Start.UTC().Format("15:04") + " UTC: " + title})
	}
	flush()
}

// latencyChart draws each hour's p50 and p95 attempt latency on a log scale.
func latencyChart(hours []models.Hour) svgChart {
	c := newChart("Attempt latency each hour of the last 24: p50 and p95")
	c.Legend = []svgLegend{{"p50", "p50"}, {"p95", "p95"}}
	const lo, hi = 1.0, 30000.0 // ms
	plotH := c.Bottom - chartTop
	y := func(ms float64) float64 {
		return c.Bottom - plotH*math.Log10(max(ms, lo)/lo)/math.Log10(hi/lo)
	}
	for _, p := range []struct {
		class string
		q     float64
	}{{"p50", 0.5}, {"p95", 0.95}} {
		c.series(p.class, hours, func(h models.Hour) (float64, string, bool) {
			v := h.Percentile(p.q)
			if v == 0 {
				v = int64(hi) // over every bound
			}
			return y(float64(v)), p.class + " ≤ " + msLabel(v), v > 0
		})
	}
	if len(c.Rects) == 0 {
		c.Lines = nil
		c.Empty = "No attempts in the last 24 hours."
		return c
	}
	for _, ms := range []float64{10, 100, 1000, 10000} {
		c.YTicks = append(c.YTicks, svgTick{At: y(ms), Label: msLabel(int64(ms))})
	}
	c.hourTicks(hours)
	return c
}

// successChart draws an endpoint's share of finished deliveries that
// succeeded, hour by hour.
func successChart(hours []models.Hour) svgChart {
	c := newChart("Share of the endpoint's finished deliveries that succeeded, each hour of the last 24")
	plotH := c.Bottom - chartTop
	c.series("rate", hours, func(h models.Hour) (float64, string, bool) {
		rate := h.Deliveries.SuccessRate()
		done := h.Deliveries[models.StatusSucceeded] + h.Deliveries[models.StatusFailed]
		return c.Bottom - plotH*rate, fmt.Sprintf("%.0f%% of %d", 100*rate, done), rate >= 0
	})
	if len(c.Rects) == 0 {
		c.Empty = "No finished deliveries in the last 24 hours."
		return c
	}
	for _, v := range []float64{0, 0.5, 1} {
		c.YTicks = append(c.YTicks, svgTick{At: c.Bottom - plotH*v, Label: fmt.Sprintf("%.0f%%", 100*v)})
	}
	c.hourTicks(hours)
	return c
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten.
func niceCeil(n float64) float64 {
	if n <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(n)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= n {
			return m * p
		}
	}
	return 10 * p
}

func msLabel(ms int64) string {
	if ms >= 1000 {
		return (time.Duration(ms) * time.Millisecond).String()
	}
	return strconv.FormatInt(ms, 10) + " ms"
}
