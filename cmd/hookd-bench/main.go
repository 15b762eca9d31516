// Command hookd-bench measures hookd.
//
//	go run ./cmd/hookd-bench throughput [-c 16] [-n 20000] [-ceiling ../shared/perf]
//
// starts hookd and times deliveries end to end (see throughput.go).
//
//	go run ./cmd/hookd-bench -database-url postgres://postgres@127.0.0.1:5432/hookd_bench?sslmode=disable -attempts 1000000
//
// seeds a database with a large delivery history and measures how long the
// admin UI's pages take to render over it.
// Seeding is skipped when the database already holds enough attempts. The
// times are server times (handler in process, no network), in milliseconds.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"hookd.dev/hookd/cmd/internal/progress"
	"hookd.dev/hookd/migrations"
	"hookd.dev/hookd/models"
	"hookd.dev/hookd/web"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "throughput" {
		if err := runThroughput(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "hookd-bench:", err)
			os.Exit(1)
		}
		return
	}
	dbURL := flag.String("database-url", os.Getenv("HOOKD_DATABASE_URL"), "PostgreSQL URL of a database to seed (or empty for SQLite in -data-dir)")
	dataDir := flag.String("data-dir", "./bench-data", "SQLite directory when no database URL is given")
	attempts := flag.Int("attempts", 1_000_000, "attempts to seed (3 per delivery, 1 delivery per message)")
	runs := flag.Int("runs", 30, "requests per page")
	flag.Parse()
	if err := run(*dbURL, *dataDir, *attempts, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "hookd-bench:", err)
		os.Exit(1)
	}
}

func run(dbURL, dataDir string, attempts, runs int) error {
	ctx := context.Background()
	opts := models.OpenOpts{URL: dbURL}
	if dbURL == "" {
		if err := os.MkdirAll(dataDir, 0o750); err != nil {
			return err
		}
		opts.SQLitePath = dataDir + "/hookd.db"
	}
	db, err := models.Open(ctx, opts)
	if err != nil {
		return err
	}
	if _, err := migrations.Apply(ctx, db); err != nil {
		return err
	}
	store := models.NewStore(db, models.StoreOpts{})
	var have int64
	if err := db.Model(&models.Attempt{}).Count(&have).Error; err != nil {
		return err
	}
	if int(have) < attempts {
		start := time.Now()
		if err := seed(ctx, db, store, attempts-int(have)); err != nil {
			return err
		}
		fmt.Printf("seeded %d attempts in %s\n", attempts-int(have), time.Since(start).Round(time.Second))
	}
	if dbURL != "" {
		db.Exec("ANALYZE")
	}
	db.Model(&models.Attempt{}).Count(&have)
	fmt.Printf("database holds %d attempts\n\n", have)
	return measure(ctx, db, store, runs)
}

// seed writes tenants, endpoints, and messages with one delivery and three
// attempts each, spread over the last 30 days, in batches.
func seed(ctx context.Context, db *gorm.DB, store *models.Store, attempts int) error {
	_, _ = store.CreateEventType(ctx, models.EventTypeParams{Name: "invoice.paid"})
	_, _ = store.CreateEventType(ctx, models.EventTypeParams{Name: "invoice.voided"})
	var eps []*models.Endpoint
	for i := range 10 {
		uid := fmt.Sprintf("bench-tenant-%d", i)
		t, err := store.GetTenant(ctx, uid)
		if err != nil {
			if t, err = store.CreateTenant(ctx, models.TenantParams{UID: &uid}); err != nil {
				return err
			}
		}
		for j := range 5 {
			u := fmt.Sprintf("https://hooks.example.com/t%d/e%d", i, j)
			ep, err := store.CreateEndpoint(ctx, t.ID, models.EndpointParams{URL: &u, EventTypes: []string{"*"}})
			if err != nil {
				return err
			}
			eps = append(eps, ep)
		}
	}
	const batch = 1000
	now := time.Now().UTC()
	payload := models.RawJSON(`{"id":"inv_0001","amount":1200,"currency":"EUR","customer":{"id":"cus_42","email":"ada@example.com"}}`)
	deliveries := (attempts + 2) / 3
	meter := progress.New(os.Stdout, "seeding", "deliveries", int64(deliveries))
	defer meter.Done()
	for done := 0; done < deliveries; done += batch {
		n := min(batch, deliveries-done)
		msgs := make([]models.Message, n)
		ds := make([]models.Delivery, n)
		var as []models.Attempt
		// Oldest first, so that ids grow with time as they do in real life.
		for i := range n {
			at := now.Add(-time.Duration(float64(30*24*time.Hour) * float64(deliveries-done-i) / float64(deliveries)))
			ep := eps[rand.IntN(len(eps))] //nolint:gosec // seeding
			eventType := "invoice.paid"
			if i%4 == 0 {
				eventType = "invoice.voided"
			}
			msgs[i] = models.Message{ID: models.NewIDAt(models.PrefixMessage, at), TenantID: ep.TenantID, EventType: eventType, Payload: payload, CreatedAt: at}
			status, code := models.StatusSucceeded, 200
			switch r := rand.IntN(100); { //nolint:gosec // seeding
			case r < 5:
				status, code = models.StatusFailed, 500
			case r < 7:
				status, code = models.StatusPending, 503
			}
			d := models.Delivery{
				ID: models.NewIDAt(models.PrefixDelivery, at), TenantID: ep.TenantID, MessageID: msgs[i].ID, EndpointID: ep.ID,
				EventType: eventType, Status: status, AttemptCount: 3, NextTrigger: models.TriggerScheduled,
				LastStatusCode: &code, CreatedAt: at, UpdatedAt: at,
			}
			if status == models.StatusPending {
				next := now.Add(time.Hour)
				d.NextAttemptAt = &next
			}
			ds[i] = d
			for k := 1; k <= 3; k++ {
				c := 500
				if k == 3 {
					c = code
				}
				as = append(as, models.Attempt{
					ID: models.NewIDAt(models.PrefixAttempt, at.Add(time.Duration(k)*time.Second)), DeliveryID: d.ID, Number: k,
					Trigger: models.TriggerScheduled, URL: ep.URL, ResponseStatusCode: &c, DurationMS: 40,
					RequestHeaders:  map[string]string{"content-type": "application/json", "webhook-id": msgs[i].ID},
					ResponseHeaders: map[string]string{"content-type": "text/plain"}, ResponseBody: "ok",
					CreatedAt: at.Add(time.Duration(k) * time.Second),
				})
			}
		}
		err := db.Transaction(func(tx *gorm.DB) error {
			if err := tx.CreateInBatches(msgs, 500).Error; err != nil {
				return err
			}
			if err := tx.CreateInBatches(ds, 500).Error; err != nil {
				return err
			}
			return tx.CreateInBatches(as, 500).Error
		})
		if err != nil {
			return fmt.Errorf("seed batch at %d: %w", done, err)
		}
		meter.Set(int64(done + n))
	}
	return nil
}

// nopPipeline stands in for the pipeline: the bench only reads pages.
type nopPipeline struct{}

func (nopPipeline) Retry(context.Context, string, string) (*models.Delivery, error) {
	return nil, errors.New("not in the bench")
}

func (nopPipeline) Recover(context.Context, string, string, time.Time) ([]models.Delivery, error) {
	return nil, errors.New("not in the bench")
}

func (nopPipeline) UpdateEndpoint(context.Context, string, string, models.EndpointParams, string) (*models.Endpoint, error) {
	return nil, errors.New("not in the bench")
}

func (nopPipeline) Resend(context.Context, string, string, string) ([]models.Delivery, error) {
	return nil, errors.New("not in the bench")
}

func (nopPipeline) Replay(context.Context, string, string, models.ReplayParams) (int, error) {
	return 0, errors.New("not in the bench")
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([0-9a-f]{32})"`)

// measure logs in to the UI and times each page.
func measure(ctx context.Context, db *gorm.DB, store *models.Store, runs int) error {
	const key = "hk_bench_admin_0123456789abcdefghijk"
	ui, err := web.New(web.Config{Store: store, Pipeline: nopPipeline{}, AdminKey: key, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	srv := httptest.NewServer(ui.Handler())
	defer srv.Close()
	client, err := login(srv.URL, key)
	if err != nil {
		return err
	}

	var d models.Delivery
	if err := db.WithContext(ctx).Order("id DESC").Offset(5000).Limit(1).Take(&d).Error; err != nil {
		return err
	}
	var old models.Delivery
	if err := db.WithContext(ctx).Order("id").Offset(1000).Limit(1).Take(&old).Error; err != nil {
		return err
	}
	pages := []struct{ name, path string }{
		{"overview", "/ui"},
		{"deliveries, first page", "/ui/deliveries"},
		{"deliveries, status=failed", "/ui/deliveries?status=failed"},
		{"deliveries, tenant", "/ui/deliveries?tenant=" + d.TenantID},
		{"deliveries, endpoint + failed", "/ui/deliveries?status=failed&endpoint_id=" + d.EndpointID},
		{"deliveries, event type + 24h", "/ui/deliveries?event_type=invoice.voided&period=24h"},
		{"deliveries, deep cursor", "/ui/deliveries?cursor=" + url.QueryEscape(old.ID)},
		{"delivery detail", "/ui/deliveries/" + d.ID},
		{"messages, first page", "/ui/messages"},
		{"message detail", "/ui/messages/" + d.MessageID},
		{"endpoints (50, health)", "/ui/endpoints"},
	}
	fmt.Printf("%-32s %8s %8s %8s\n", "page", "p50 ms", "p95 ms", "max ms")
	for _, p := range pages {
		times := make([]float64, 0, runs)
		for range runs {
			start := time.Now()
			resp, err := client.Get(srv.URL + p.path)
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("%s: status %d", p.path, resp.StatusCode)
			}
			times = append(times, float64(time.Since(start).Microseconds())/1000)
		}
		slices.Sort(times)
		fmt.Printf("%-32s %8.1f %8.1f %8.1f\n", p.name, times[len(times)/2], times[len(times)*95/100], times[len(times)-1])
	}
	return nil
}

func login(base, key string) (*http.Client, error) {
	jar := newJar()
	client := &http.Client{Jar: jar}
	resp, err := client.Get(base + "/ui/login")
	if err != nil {
		return nil, err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfInput.FindStringSubmatch(string(page))
	if m == nil {
		return nil, fmt.Errorf("no CSRF token on the login page")
	}
	resp, err = client.PostForm(base+"/ui/login", url.Values{"key": {key}, "csrf": {m[1]}})
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if !strings.HasSuffix(resp.Request.URL.Path, "/ui") {
		return nil, fmt.Errorf("login failed: ended at %s", resp.Request.URL)
	}
	return client, nil
}
