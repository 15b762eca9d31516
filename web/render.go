package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"hookd.dev/hookd/models"
)

// page is what every template gets.
type page struct {
	Title  string
	Nav    string // the menu entry to highlight
	CSRF   string
	Notice string
	// Base starts the pages' links: /ui, or the portal link's /portal/<token>.
	Base     string
	ReadOnly bool        // a read-only portal link: no forms
	Portal   *portalView // the tenant portal's pages only
	Data     any
}

var funcs = template.FuncMap{
	// when renders a time for people: UTC in the page (and on hover), the
	// admin's local time once app.js has run.
	"when": func(t any) template.HTML {
		var tt time.Time
		switch v := t.(type) {
		case time.Time:
			tt = v
		case *time.Time:
			if v == nil {
				return "—"
			}
			tt = *v
		default:
			return "—"
		}
		utc := tt.UTC().Format("2006-01-02 15:04:05 UTC")
		// Only formatted times go into this HTML, never user input.
		return template.HTML(fmt.Sprintf(`<time datetime="%s" title="%s">%s</time>`, //nolint:gosec // see above
			tt.UTC().Format(time.RFC3339Nano), utc, utc))
	},
	"code": func(p *int) string {
		if p == nil {
			return "—"
		}
		return fmt.Sprint(*p)
	},
	"pretty": func(raw models.RawJSON) string {
		var b bytes.Buffer
		if err := json.Indent(&b, []byte(raw), "", "  "); err != nil {
			return string(raw)
		}
		return b.String()
	},
	"sortedKeys": func(m map[string]string) []string {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return keys
	},
	"percent": func(rate float64) string {
		if rate < 0 {
			return "—"
		}
		return fmt.Sprintf("%.1f%%", rate*100)
	},
	"deref": func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	},
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},
	// schedule writes an endpoint's retry schedule (seconds) as 5s, 5m, 1h.
	"schedule": scheduleText,
	"ok":       func(p *int) bool { return p != nil && *p >= 200 && *p < 300 },
	// query returns the current query with one parameter changed.
	"query": func(q url.Values, key, value string) string {
		out := url.Values{}
		for k, v := range q {
			out[k] = v
		}
		out.Del("cursor")
		if value == "" {
			out.Del(key)
		} else {
			out.Set(key, value)
		}
		return out.Encode()
	},
}

// parsePages parses each page of dir with the shared templates (layout and
// parts, not pages themselves) into its own template set.
func parsePages(dir string, shared ...string) (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFS, dir+"/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, name := range names {
		if slices.Contains(shared, name) {
			continue
		}
		base := strings.TrimSuffix(path.Base(name), ".html")
		t, err := template.New(base).Funcs(funcs).ParseFS(templateFS, append(slices.Clone(shared), name)...)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		pages[base] = t
	}
	return pages, nil
}

func (s *Server) render(c echo.Context, status int, name, title string, data any) error {
	p := page{Title: title, Nav: name, Data: data, Notice: showNotice(c.QueryParams(), 0), Base: "/ui"}
	if v, ok := c.Get(csrfField).(string); ok {
		p.CSRF = v
	}
	return writePage(c, s.pages, status, name, p)
}

// writePage renders page name of pages inside its layout.
func writePage(c echo.Context, pages map[string]*template.Template, status int, name string, p page) error {
	t, ok := pages[name]
	if !ok {
		return fmt.Errorf("no template %q", name)
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout", p); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTMLBlob(status, b.Bytes())
}

// redirect answers a form with a redirect to a page that shows a notice.
func redirect(c echo.Context, to string, n notice) error {
	sep := "?"
	if strings.Contains(to, "?") {
		sep = "&"
	}
	return c.Redirect(http.StatusSeeOther, to+sep+n.query())
}
