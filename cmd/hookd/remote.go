package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"hookd.dev/hookd"
	"hookd.dev/hookd/dispatcher"
)

// The commands that talk to a running hookd through its REST API, with the
// Go SDK's Client: HOOKD_URL (or --url) and HOOKD_API_KEY.

const (
	envURL    = "HOOKD_URL"
	envAPIKey = "HOOKD_API_KEY" //nolint:gosec // the variable's name, not a key
	envTenant = "HOOKD_TENANT"
)

// remote is what every API command shares: where hookd is, how to print.
type remote struct {
	c      *cli
	url    string
	output string
	tenant string
}

// remoteCommands are the API's commands, each a group of subcommands.
func (c *cli) remoteCommands() []*cobra.Command {
	r := &remote{c: c}
	groups := []*cobra.Command{
		r.tenantsCommand(), r.apiKeysCommand(), r.portalCommand(), r.eventTypesCommand(), r.endpointsCommand(), r.operationalCommand(),
		r.emitCommand(), r.messagesCommand(), r.deliveriesCommand(),
	}
	for _, g := range groups {
		g.GroupID = groupAPI
		g.PersistentFlags().StringVar(&r.url, "url", "", "hookd's API (default $"+envURL+", else http://localhost:8080); the key is $"+envAPIKey)
		g.PersistentFlags().StringVarP(&r.output, "output", "o", "text", "text or json")
	}
	return groups
}

// tenantFlag adds --tenant to a command whose paths name a tenant.
func (r *remote) tenantFlag(fs *pflag.FlagSet) {
	fs.StringVarP(&r.tenant, "tenant", "t", "", "the tenant's id or uid (default $"+envTenant+")")
}

// client checks the flags and returns a Client for the API.
func (r *remote) client(needTenant bool) (*hookd.Client, error) {
	if r.output != "text" && r.output != "json" {
		return nil, fmt.Errorf("-o %q: want text or json", r.output)
	}
	key := r.c.getenv(envAPIKey)
	if key == "" {
		return nil, fmt.Errorf("set %s to an admin API key (or a tenant's key, for its own endpoints, messages and deliveries)", envAPIKey)
	}
	if needTenant {
		r.tenant = cmp.Or(r.tenant, r.c.getenv(envTenant))
		if r.tenant == "" {
			return nil, fmt.Errorf("name the tenant: --tenant (or $%s)", envTenant)
		}
	}
	url := cmp.Or(r.url, r.c.getenv(envURL), "http://localhost:8080")
	return hookd.NewClient(url, key), nil
}

// apiError is a failure answered by the API or on the way to it, not a
// usage error: exit status 1.
func apiError(err error) error {
	if err == nil {
		return nil
	}
	return failure{err}
}

// failure is a command that ran and failed: exit status 1.
type failure struct{ error }

// action is a subcommand's body: it gets the client and the arguments,
// and returns what to print (nil: nothing).
type action func(ctx context.Context, api *hookd.Client, args []string) (any, error)

// command builds a subcommand that calls the API and prints its answer:
// lists as a table of columns (JSON field names), objects as fields.
func (r *remote) command(use, short string, args cobra.PositionalArgs, needTenant bool, columns []string, do action) *cobra.Command {
	return &cobra.Command{
		Use: use, Short: short, Args: args,
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := r.client(needTenant)
			if err != nil {
				return err
			}
			out, err := do(cmd.Context(), api, args)
			if err != nil {
				return apiError(err)
			}
			return r.print(out, columns)
		},
	}
}

// print writes out as indented JSON, or as text (see render.go).
func (r *remote) print(out any, columns []string) error {
	w := r.c.stdout
	if out == nil {
		return nil
	}
	if s, ok := out.(string); ok {
		_, err := fmt.Fprintln(w, s)
		return err
	}
	raw, err := json.Marshal(out)
	if err != nil {
		return err
	}
	if r.output == "json" {
		var indented bytes.Buffer
		if err := json.Indent(&indented, raw, "", "  "); err != nil {
			return err
		}
		_, err = fmt.Fprintln(w, indented.String())
		return err
	}
	return renderText(w, raw, columns)
}

// listFlags adds --limit and --cursor.
func listFlags(fs *pflag.FlagSet, p *hookd.ListParams) {
	fs.IntVar(&p.Limit, "limit", 0, "at most this many (1 to 250; default 50)")
	fs.StringVar(&p.Cursor, "cursor", "", "the next page: the cursor the previous one printed")
}

// ---- tenants

func (r *remote) tenantsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "tenants", Short: "list, show, create, update and delete tenants (admin key)"}
	var lp hookd.ListParams
	list := r.command("list", "list tenants, newest first", cobra.NoArgs, false, []string{"id", "uid", "name", "created_at"},
		func(ctx context.Context, api *hookd.Client, _ []string) (any, error) { return api.ListTenants(ctx, lp) })
	listFlags(list.Flags(), &lp)
	var p hookd.TenantParams
	var uid, name string
	create := r.command("create", "add a tenant", cobra.NoArgs, false, nil,
		func(ctx context.Context, api *hookd.Client, _ []string) (any, error) {
			return api.CreateTenant(ctx, hookd.TenantParams{UID: optional(uid), Name: optional(name)})
		})
	create.Flags().StringVar(&uid, "uid", "", "your own id for the tenant (usable instead of its id)")
	create.Flags().StringVar(&name, "name", "", "a name to show")
	update := r.command("update ID", "change a tenant's uid or name", cobra.ExactArgs(1), false, nil,
		func(ctx context.Context, api *hookd.Client, args []string) (any, error) {
			return api.UpdateTenant(ctx, args[0], p)
		})
	stringFlag(update.Flags(), &p.UID, "uid", "a new uid")
	stringFlag(update.Flags(), &p.Name, "name", "a new name")
	cmd.AddCommand(list, create, update,
		r.command("show ID", "show a tenant (by id or uid)", cobra.ExactArgs(1), false, nil,
			func(ctx context.Context, api *hookd.Client, args []string) (any, error) {
				return api.GetTenant(ctx, args[0])
			}),
		r.command("delete ID", "delete a tenant with its endpoints, keys, messages and deliveries", cobra.ExactArgs(1), false, nil,
			func(ctx context.Context, api *hookd.Client, args []string) (any, error) {
				return deleted("tenant", args[0], api.DeleteTenant(ctx, args[0]))
			}),
	)
	return cmd
}

// optional is nil for "", else a pointer to s.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// stringFlag is a flag that sets *p only when given (an update's field).
func stringFlag(fs *pflag.FlagSet, p **string, name, usage string) {
	fs.Func(name, usage, func(v string) error { *p = &v; return nil })
}

func deleted(what, id string, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return fmt.Sprintf("deleted %s %s", what, id), nil
}

// ---- API keys

func (r *remote) apiKeysCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "api-keys", Short: "list, create and revoke a tenant's API keys (admin key)"}
	var lp hookd.ListParams
	list := r.command("list", "list a tenant's keys (never the keys themselves)", cobra.NoArgs, true,
		[]string{"id", "name", "prefix", "created_at", "last_used_at", "revoked_at"},
		func(ctx context.Context, api *hookd.Client, _ []string) (any, error) {
			return api.ListAPIKeys(ctx, r.tenant, lp)
		})
	listFlags(list.Flags(), &lp)
	var name string
	create := r.command("create", "make a key for the tenant and print it, once", cobra.NoArgs, true, nil,
		func(ctx context.Context, api *hookd.Client, _ []string) (any, error) {
			key, err := api.CreateAPIKey(ctx, r.tenant, name)
			if err != nil || r.output == "json" {
				return map[string]string{"key": key}, err
			}
			return key, nil
		})
	create.Flags().StringVar(&name, "name", "", "what the key is for")
	revoke := r.command("revoke ID", "stop a key from working, at once", cobra.ExactArgs(1), true, nil,
		func(ctx context.Context, api *hookd.Client, args []string) (any, error) {
			return deleted("API key", args[0], api.RevokeAPIKey(ctx, r.tenant, args[0]))
		})
	for _, c := range []*cobra.Command{list, create, revoke} {
		r.tenantFlag(c.Flags())
	}
	cmd.AddCommand(list, create, revoke)
	return cmd
}

// ---- tenant portal links

func (r *remote) portalCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "portal", Short: "make and revoke links into a tenant's portal (admin key)"}
	var p hookd.PortalSessionParams
	var expiresIn time.Duration
	link := r.command("link", "make a link into the tenant's portal and print it, once", cobra.NoArgs, true, nil,
		func(ctx context.Context, api *hookd.Client, _ []string) (any, error) {
			sess, err := api.CreatePortalSession(ctx, r.tenant, p)
			if err != nil || r.output == "json" {
				return sess, err
			}
			return sess.URL, nil
		})
	// A usage error (exit 2), before any request; hookd checks the bounds.
	link.PreRunE = func(*cobra.Command, []string) error {
		if expiresIn < 0 || expiresIn%time.Second != 0 {
			return fmt.Errorf("--expires-in %s: want a positive whole number of seconds, like 30m or 24h", expiresIn)
		}
		p.ExpiresIn = int(expiresIn / time.Second)
		return nil
	}
	link.Flags().BoolVar(&p.ReadOnly, "read-only", false, "the tenant may look but not change anything")
	link.Flags().DurationVar(&expiresIn, "expires-in", 0, "how long the link works, 1m to 168h (default 1h)")
	link.Flags().StringVar(&p.Title, "title", "", "your app's name, the portal's heading (default: Webhooks)")
	link.Flags().StringVar(&p.LogoURL, "logo-url", "", "your app's logo (https://…)")
	link.Flags().StringVar(&p.PrimaryColor, "primary-color", "", "your app's colour (#rrggbb)")
	revoke := r.command("revoke", "end every live link into the tenant's portal, at once", cobra.NoArgs, true, nil,
		func(ctx context.Context, api *hookd.Client, _ []string) (any, error) {
			n, err := api.RevokePortalSessions(ctx, r.tenant)
			if err != nil || r.output == "json" {
				return map[string]int{"revoked": n}, err
			}
			if n == 1 {
				return "revoked 1 portal link", nil
			}
			return fmt.Sprintf("revoked %d portal links", n), nil
		})
	for _, c := range []*cobra.Command{link, revoke} {
		r.tenantFlag(c.Flags())
	}
	cmd.AddCommand(link, revoke)
	return cmd
}

// ---- event types

func (r *remote) eventTypesCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "event-types", Short: "list, show, create, update and archive event types (admin key)"}
	var lp hookd.ListParams
	list := r.command("list", "list the live event types", cobra.NoArgs, false, []string{"name", "description", "created_at"},
		func(ctx context.Context, api *hookd.Client, _ []string) (any, error) {
			return api.ListEventTypes(ctx, lp)
		})
	listFlags(list.Flags(), &lp)
	var description, schemaFile string
	create := r.command("create NAME", "register an event type", cobra.ExactArgs(1), false, nil,
		func(ctx context.Context, api *hookd.Client, args []string) (any, error) {
			schema, err := readSchema(schemaFile)
			if err != nil {
				return nil, err
			}
			return api.CreateEventType(ctx, hookd.EventTypeParams{Name: args[0], Description: description, Schema: schema})
		})
	create.Flags().StringVar(&description, "description", "", "what the event means")
	create.Flags().StringVar(&schemaFile, "schema", "", "a file of JSON Schema that payloads must match")
	var up hookd.EventTypeUpdate
	var upSchema string
	var dropSchema bool
	update := r.command("update NAME", "change an event type's description or schema", cobra.ExactArgs(1), false, nil,
		func(ctx context.Context, api *hookd.Client, args []string) (any, error) {
			var err error
			if up.Schema, err = readSchema(upSchema); err != nil {
				return nil, err
			}
			if dropSchema {
				up.Schema = json.RawMessage("null")
			}
			return api.UpdateEventType(ctx, args[0], up)
		})
	stringFlag(update.Flags(), &up.Description, "description", "a new description")
	update.Flags().StringVar(&upSchema, "schema", "", "a file of JSON Schema that replaces the schema")
	update.Flags().BoolVar(&dropSchema, "no-schema", false, "remove the schema")
	update.MarkFlagsMutuallyExclusive("schema", "no-schema")
	cmd.AddCommand(list, create, update,
		r.command("show NAME", "show an event type, archived or not", cobra.ExactArgs(1), false, nil,
			func(ctx context.Context, api *hookd.Client, args []string) (any, error) {
				return api.GetEventType(ctx, args[0])
			}),
		r.command("archive NAME", "stop new messages of an event type (its history stays)", cobra.ExactArgs(1), false, nil,
			func(ctx context.Context, api *hookd.Client, args []string) (any, error) {
				if err := api.ArchiveEventType(ctx, args[0]); err != nil {
					return nil, err
				}
				return "archived event type " + args[0], nil
			}),
	)
	return cmd
}

// readSchema reads a JSON Schema file ("" for none, "-" for stdin).
func readSchema(path string) (json.RawMessage, error) {
	if path == "" {
		return nil, nil
	}
	b, err := readInput(path)
	if err != nil {
		return nil, err
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("%s is not JSON", path)
	}
	return b, nil
}

// readInput reads a file, or stdin for "-".
func readInput(path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(path) //nolint:gosec // the operator names the file
}

// ---- endpoints

// endpointFlags are the fields of an endpoint a command line sets.
type endpointFlags struct {
	p                  hookd.EndpointParams
	maxConcurrency     int
	rateLimit          int
	envelope           bool
	headers            []string
	secretHeaders      []string
	clearHeaders       bool
	clearSecretHeaders bool
	timeout            time.Duration
	retrySchedule      string
	out                hookd.EndpointParams // the flags given, checked (see bind)
}

func (f *endpointFlags) add(fs *pflag.FlagSet) {
	stringFlag(fs, &f.p.URL, "url", "the callback URL (http or https)")
	stringFlag(fs, &f.p.Description, "description", "what the endpoint is for")
	stringFlag(fs, &f.p.Secret, "secret", "its secret (whsec_… for standard; default: generated)")
	fs.StringSliceVar(&f.p.EventTypes, "event-type", nil, "an event type it receives (repeat, or a,b; * for all)")
	stringFlag(fs, &f.p.SigningScheme, "scheme", "standard, ed25519, hmac-sha256 or token")
	stringFlag(fs, &f.p.SignatureHeader, "signature-header", "hmac-sha256 and token: the header")
	stringFlag(fs, &f.p.SignaturePrefix, "signature-prefix", "hmac-sha256 and token: before the value")
	fs.IntVar(&f.maxConcurrency, "max-concurrency", 0, "attempts in flight at once (0: hookd's default)")
	fs.IntVar(&f.rateLimit, "rate-limit", 0, "attempts per second (0: no limit)")
	fs.BoolVar(&f.envelope, "envelope", false, `send payloads wrapped as {"type", "timestamp", "data"} (Standard Webhooks); --envelope=false: as emitted`)
	fs.StringArrayVar(&f.headers, "header", nil, "'Name: value': a header added to every request (repeat; replaces the endpoint's headers)")
	fs.StringArrayVar(&f.secretHeaders, "secret-header", nil, "'Name: value': a header whose value is never shown again, like a token (repeat; replaces the secret headers)")
	fs.BoolVar(&f.clearHeaders, "clear-headers", false, "remove the endpoint's headers")
	fs.BoolVar(&f.clearSecretHeaders, "clear-secret-headers", false, "remove the endpoint's secret headers")
	fs.DurationVar(&f.timeout, "timeout", 0, "how long an attempt may take, in whole seconds like 10s (0: hookd's default)")
	fs.StringVar(&f.retrySchedule, "retry-schedule", "", "the delays between attempts, like 5s,5m,1h (whole seconds), or default")
	stringFlag(fs, &f.p.Filter, "filter", `a CEL expression over data (the payload) and event_type that messages must match, like 'data.amount > 100' ("": none)`)
	stringFlag(fs, &f.p.Ordering, "ordering", "none, or fifo: one delivery at a time, in order")
}

// bind adds the flags to cmd and checks them before it runs: a bad value
// is a usage error, and nothing is sent.
func (f *endpointFlags) bind(cmd *cobra.Command) {
	f.add(cmd.Flags())
	cmd.MarkFlagsMutuallyExclusive("header", "clear-headers")
	cmd.MarkFlagsMutuallyExclusive("secret-header", "clear-secret-headers")
	cmd.PreRunE = func(cmd *cobra.Command, _ []string) error {
		var err error
		f.out, err = f.params(cmd.Flags())
		return err
	}
}

// params are the flags given, as the API's fields.
func (f *endpointFlags) params(fs *pflag.FlagSet) (hookd.EndpointParams, error) {
	p := f.p
	if fs.Changed("max-concurrency") {
		p.MaxConcurrency = &f.maxConcurrency
	}
	if fs.Changed("rate-limit") {
		p.RateLimit = &f.rateLimit
	}
	if fs.Changed("envelope") {
		p.Envelope = &f.envelope
	}
	var err error
	if p.Headers, err = headerFlags("--header", f.headers, f.clearHeaders); err != nil {
		return p, err
	}
	if p.SecretHeaders, err = headerFlags("--secret-header", f.secretHeaders, f.clearSecretHeaders); err != nil {
		return p, err
	}
	if fs.Changed("timeout") {
		if f.timeout < 0 || f.timeout%time.Second != 0 {
			return p, fmt.Errorf("--timeout %s: want a whole number of seconds, like 10s (0: hookd's default)", f.timeout)
		}
		p.Timeout = hookd.Int(int(f.timeout / time.Second))
	}
	if fs.Changed("retry-schedule") {
		if p.RetrySchedule, err = retryScheduleFlag(f.retrySchedule); err != nil {
			return p, err
		}
	}
	if p.Ordering != nil && *p.Ordering != "none" && *p.Ordering != "fifo" {
		return p, fmt.Errorf("--ordering %q: want none or fifo", *p.Ordering)
	}
	return p, nil
}

// headerFlags reads 'Name: value' flags into a set of headers: nil when
// none is given (the endpoint's are kept), empty when cleared.
func headerFlags(flag string, values []string, clear bool) (map[string]string, error) {
	if clear {
		return map[string]string{}, nil
	}
	if len(values) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(values))
	for _, v := range values {
		name, value, ok := strings.Cut(v, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" || value == "" || strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("%s %q: want 'Name: value', like 'X-Team: billing'", flag, v)
		}
		for other := range out {
			if strings.EqualFold(other, name) {
				return nil, fmt.Errorf("%s: %s is given twice", flag, name)
			}
		}
		out[name] = value
	}
	return out, nil
}

// retryScheduleFlag reads --retry-schedule: delays like 5s,5m,1h, in whole
// seconds, or "default" ([]: hookd's schedule).
func retryScheduleFlag(v string) ([]int, error) {
	if v == "default" {
		return []int{}, nil
	}
	schedule, err := dispatcher.ParseSchedule(v)
	if err != nil {
		return nil, fmt.Errorf("--retry-schedule: %w; want delays like 5s,5m,1h, or default", err)
	}
	out, err := schedule.Seconds()
	if err != nil {
		return nil, fmt.Errorf("--retry-schedule %q: %w", v, err)
	}
	return out, nil
}

func (r *remote) endpointsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "endpoints", Short: "manage a tenant's endpoints and their delivery controls: list, show, create, update, delete, secret, test, recover, replay"}
	var lp hookd.ListParams
	list := r.command("list", "list the tenant's endpoints, newest first", cobra.NoArgs, true,
		[]string{"id", "url", "event_types", "enabled", "failing_since", "signing_scheme"},
		func(ctx context.Context, api *hookd.Client, _ []string) (any, error) {
			return api.ListEndpoints(ctx, r.tenant, lp)
		})
	listFlags(list.Flags(), &lp)
	var created, changed endpointFlags
	var create, update *cobra.Command
	create = r.command("create", "add an endpoint (--url and --event-type are required), with its delivery controls", cobra.NoArgs, true, nil,
		func(ctx context.Context, api *hookd.Client, _ []string) (any, error) {
			return api.CreateEndpoint(ctx, r.tenant, created.out)
		})
	created.bind(create)
	_ = create.MarkFlagRequired("url")
	_ = create.MarkFlagRequired("event-type")
	var enable, disable bool
	update = r.command("update ID", "change the fields and delivery controls given", cobra.ExactArgs(1), true, nil,
		func(ctx context.Context, api *hookd.Client, args []string) (any, error) {
			p := changed.out
			if enable || disable {
				p.Enabled = &enable
			}
			return api.UpdateEndpoint(ctx, r.tenant, args[0], p)
		})
	changed.bind(update)
	update.Flags().BoolVar(&enable, "enable", false, "enable it (a disabled endpoint's pending deliveries resume)")
	update.Flags().BoolVar(&disable, "disable", false, "disable it")
	update.MarkFlagsMutuallyExclusive("enable", "disable")
	var since string
	recoverCmd := r.command("recover ID", "resend the endpoint's failed deliveries created since a time", cobra.ExactArgs(1), true, nil,
		func(ctx context.Context, api *hookd.Client, args []string) (any, error) {
			t, err := parseSince(since, time.Now())
			if err != nil {
				return nil, err
			}
			n, err := api.RecoverEndpoint(ctx, r.tenant, args[0], t)
			if err != nil || r.output == "json" {
				return map[string]int{"recovered": n}, err
			}
			return fmt.Sprintf("resending %d failed deliveries", n), nil
		})
	recoverCmd.Flags().StringVar(&since, "since", "24h", "a time (RFC 3339) or how long ago (like 6h)")
	var replaySince, replayUntil string
	var window hookd.ReplayParams
	replay := r.command("replay ID", "send the endpoint again the messages of its event types accepted in a window (at most 10,000)", cobra.ExactArgs(1), true, nil,
		func(ctx context.Context, api *hookd.Client, args []string) (any, error) {
			n, err := api.ReplayEndpoint(ctx, r.tenant, args[0], window)
			if err != nil || r.output == "json" {
				return map[string]int{"replayed": n}, err
			}
			if n == 1 {
				return "replaying 1 message", nil
			}
			return fmt.Sprintf("replaying %d messages", n), nil
		})
	// Usage errors (exit 2), before any request.
	replay.PreRunE = func(*cobra.Command, []string) error {
		now := time.Now()
		var err error
		if window.Since, err = parseTimeFlag("--since", replaySince, now); err != nil {
			return err
		}
		if replayUntil != "" {
			if window.Until, err = parseTimeFlag("--until", replayUntil, now); err != nil {
				return err
			}
		}
		return nil
	}
	replay.Flags().StringVar(&replaySince, "since", "", "from this time (RFC 3339) or this long ago (like 6h)")
	replay.Flags().StringVar(&replayUntil, "until", "", "until this time or this long ago (default: now)")
	_ = replay.MarkFlagRequired("since")
	var newSecret string
	rotate := r.command("rotate-secret ID", "give the endpoint a new secret; the old one signs for the grace period", cobra.ExactArgs(1), true, nil,
		func(ctx context.Context, api *hookd.Client, args []string) (any, error) {
			return api.RotateEndpointSecretInfo(ctx, r.tenant, args[0], newSecret)
		})
	rotate.Flags().StringVar(&newSecret, "secret", "", "the new secret (default: generated)")
	subs := []*cobra.Command{
		list, create, update, recoverCmd, replay, rotate,
		r.command("show ID", "show an endpoint with its health", cobra.ExactArgs(1), true, nil,
			func(ctx context.Context, api *hookd.Client, args []string) (any, error) {
				return api.GetEndpoint(ctx, r.tenant, args[0])
			}),
		r.command("delete ID", "delete an endpoint and its delivery history", cobra.ExactArgs(1), true, nil,
			func(ctx context.Context, api *hookd.Client, args []string) (any, error) {
				return deleted("endpoint", args[0], api.DeleteEndpoint(ctx, r.tenant, args[0]))
			}),
		r.command("secret ID", "show what the receiver verifies with: the secret, or the public key", cobra.ExactArgs(1), true, nil,
			func(ctx context.Context, api *hookd.Client, args []string) (any, error) {
				return api.EndpointSecretInfo(ctx, r.tenant, args[0])
			}),
		r.command("test ID", "send the endpoint a signed hookd.ping", cobra.ExactArgs(1), true, nil,
			func(ctx context.Context, api *hookd.Client, args []string) (any, error) {
				return api.TestEndpoint(ctx, r.tenant, args[0])
			}),
	}
	for _, c := range subs {
		r.tenantFlag(c.Flags())
	}
	cmd.AddCommand(subs...)
	return cmd
}

// operationalCommand manages the operator's endpoints for hookd's
// operational events.
func (r *remote) operationalCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "operational-endpoints",
		Short: "the operator's endpoints for hookd's own events: endpoint.disabled, delivery.failed, … (admin key)",
	}
	var lp hookd.ListParams
	list := r.command("list", "list the operator's endpoints", cobra.NoArgs, false,
		[]string{"id", "url", "event_types", "enabled", "failing_since"},
		func(ctx context.Context, api *hookd.Client, _ []string) (any, error) {
			return api.ListOperationalEndpoints(ctx, lp)
		})
	listFlags(list.Flags(), &lp)
	var created, changed endpointFlags
	var create, update *cobra.Command
	create = r.command("create", "add an endpoint (--url, and --event-type among "+strings.Join(hookdOpTypes, ", ")+" or *)", cobra.NoArgs, false, nil,
		func(ctx context.Context, api *hookd.Client, _ []string) (any, error) {
			return api.CreateOperationalEndpoint(ctx, created.out)
		})
	created.bind(create)
	_ = create.MarkFlagRequired("url")
	_ = create.MarkFlagRequired("event-type")
	update = r.command("update ID", "change the fields and delivery controls given", cobra.ExactArgs(1), false, nil,
		func(ctx context.Context, api *hookd.Client, args []string) (any, error) {
			return api.UpdateOperationalEndpoint(ctx, args[0], changed.out)
		})
	changed.bind(update)
	var newSecret string
	rotate := r.command("rotate-secret ID", "give the endpoint a new secret; the old one signs for the grace period", cobra.ExactArgs(1), false, nil,
		func(ctx context.Context, api *hookd.Client, args []string) (any, error) {
			return api.RotateOperationalEndpointSecret(ctx, args[0], newSecret)
		})
	rotate.Flags().StringVar(&newSecret, "secret", "", "the new secret (default: generated)")
	cmd.AddCommand(list, create, update, rotate,
		r.command("show ID", "show one of the operator's endpoints", cobra.ExactArgs(1), false, nil,
			func(ctx context.Context, api *hookd.Client, args []string) (any, error) {
				return api.GetOperationalEndpoint(ctx, args[0])
			}),
		r.command("delete ID", "delete one of the operator's endpoints", cobra.ExactArgs(1), false, nil,
			func(ctx context.Context, api *hookd.Client, args []string) (any, error) {
				return deleted("operational endpoint", args[0], api.DeleteOperationalEndpoint(ctx, args[0]))
			}),
		r.command("secret ID", "show what the operator's receiver verifies with", cobra.ExactArgs(1), false, nil,
			func(ctx context.Context, api *hookd.Client, args []string) (any, error) {
				return api.OperationalEndpointSecretInfo(ctx, args[0])
			}),
		r.command("test ID", "send a signed hookd.ping", cobra.ExactArgs(1), false, nil,
			func(ctx context.Context, api *hookd.Client, args []string) (any, error) {
				return api.TestOperationalEndpoint(ctx, args[0])
			}),
	)
	return cmd
}

var hookdOpTypes = []string{hookd.OpEndpointDisabled, hookd.OpEndpointEnabled, hookd.OpDeliveryFailed, hookd.OpDeliveryRecovered}

// parseSince reads an RFC 3339 time or a duration before now.
func parseSince(v string, now time.Time) (time.Time, error) { return parseTimeFlag("--since", v, now) }

// parseTimeFlag reads the value of a time flag: an RFC 3339 time or a
// duration before now.
func parseTimeFlag(flag, v string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q: want a time like 2026-11-24T08:00:00Z or a duration like 6h", flag, v)
	}
	return t, nil
}

// ---- emit and messages

func (r *remote) emitCommand() *cobra.Command {
	var key string
	cmd := r.command("emit EVENT_TYPE PAYLOAD", "send an event to the tenant's endpoints that subscribe to it", cobra.ExactArgs(2), true, nil,
		func(ctx context.Context, api *hookd.Client, args []string) (any, error) {
			payload := []byte(args[1])
			if path, ok := strings.CutPrefix(args[1], "@"); ok || args[1] == "-" {
				var err error
				if payload, err = readInput(cmp.Or(path, "-")); err != nil {
					return nil, err
				}
			}
			if !json.Valid(payload) {
				return nil, errors.New("the payload is not JSON")
			}
			return api.Emit(ctx, r.tenant, args[0], json.RawMessage(payload), &hookd.EmitOpts{IdempotencyKey: key})
		})
	cmd.Long = `Sends an event: PAYLOAD is JSON, @FILE reads it from a file, - from stdin.
The answer is the message with one delivery per endpoint that receives it.`
	cmd.Flags().StringVar(&key, "idempotency-key", "", "the same key again returns the first message instead of a new one")
	r.tenantFlag(cmd.Flags())
	return cmd
}

func (r *remote) messagesCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "messages", Short: "list, show and resend a tenant's messages"}
	var lp hookd.ListParams
	list := r.command("list", "list the tenant's messages, newest first", cobra.NoArgs, true,
		[]string{"id", "event_type", "created_at"},
		func(ctx context.Context, api *hookd.Client, _ []string) (any, error) {
			return api.ListMessages(ctx, r.tenant, lp)
		})
	listFlags(list.Flags(), &lp)
	show := r.command("show ID", "show a message with its payload and deliveries", cobra.ExactArgs(1), true, nil,
		func(ctx context.Context, api *hookd.Client, args []string) (any, error) {
			return api.GetMessage(ctx, r.tenant, args[0])
		})
	var to string
	resend := r.command("resend ID", "send a message again, with its id: to its subscribers now (that its filter lets through), or to --endpoint", cobra.ExactArgs(1), true,
		[]string{"id", "endpoint_id", "message_id", "status", "created_at"},
		func(ctx context.Context, api *hookd.Client, args []string) (any, error) {
			ds, err := api.ResendMessage(ctx, r.tenant, args[0], hookd.ResendParams{EndpointID: to})
			if ds == nil {
				ds = []hookd.Delivery{}
			}
			if err != nil || r.output == "json" {
				return map[string][]hookd.Delivery{"deliveries": ds}, err
			}
			return hookd.Page[hookd.Delivery]{Data: ds}, nil // a table of the new deliveries
		})
	resend.Flags().StringVar(&to, "endpoint", "", "only to this endpoint (whatever it subscribes to)")
	for _, c := range []*cobra.Command{list, show, resend} {
		r.tenantFlag(c.Flags())
	}
	cmd.AddCommand(list, show, resend)
	return cmd
}

// ---- deliveries

func (r *remote) deliveriesCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "deliveries", Short: "list, show, retry and follow a tenant's deliveries"}
	var dp hookd.DeliveryParams
	list := r.command("list", "list the tenant's deliveries, newest first", cobra.NoArgs, true,
		[]string{"id", "event_type", "endpoint_id", "status", "attempt_count", "last_status_code", "created_at"},
		func(ctx context.Context, api *hookd.Client, _ []string) (any, error) {
			return api.ListDeliveries(ctx, r.tenant, dp)
		})
	listFlags(list.Flags(), &dp.ListParams)
	deliveryFilters(list.Flags(), &dp)
	show := r.command("show ID", "show a delivery with its attempts", cobra.ExactArgs(1), true, nil,
		func(ctx context.Context, api *hookd.Client, args []string) (any, error) {
			return api.GetDelivery(ctx, r.tenant, args[0])
		})
	retry := r.command("retry ID", "attempt a delivery again now, whatever its status", cobra.ExactArgs(1), true, nil,
		func(ctx context.Context, api *hookd.Client, args []string) (any, error) {
			return api.RetryDelivery(ctx, r.tenant, args[0])
		})
	var tp hookd.DeliveryParams
	var every time.Duration
	tail := &cobra.Command{
		Use:   "tail",
		Short: "follow the tenant's deliveries: print each new one and each attempt's outcome until interrupted",
		Long: `Prints the 10 newest deliveries, then every new delivery and every new attempt's
outcome as it happens, until interrupted. It asks hookd every --every for the 100
newest deliveries and the pending ones; -o json prints one JSON object a line.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			api, err := r.client(true)
			if err != nil {
				return err
			}
			return apiError(r.tail(cmd.Context(), api, tp, every))
		},
	}
	deliveryFilters(tail.Flags(), &tp)
	tail.Flags().DurationVar(&every, "every", time.Second, "how often to ask hookd")
	for _, c := range []*cobra.Command{list, show, retry, tail} {
		r.tenantFlag(c.Flags())
	}
	cmd.AddCommand(list, show, retry, tail)
	return cmd
}

func deliveryFilters(fs *pflag.FlagSet, p *hookd.DeliveryParams) {
	fs.StringVar(&p.Status, "status", "", "pending, inflight, succeeded or failed")
	fs.StringVar(&p.EndpointID, "endpoint", "", "one endpoint's")
	fs.StringVar(&p.EventType, "event-type", "", "one event type's")
	fs.StringVar(&p.MessageID, "message", "", "one message's")
}

// tail prints deliveries as they come and change, until ctx ends.
func (r *remote) tail(ctx context.Context, api *hookd.Client, filter hookd.DeliveryParams, every time.Duration) error {
	if every <= 0 {
		return errors.New("--every must be positive")
	}
	seen := map[string]hookd.Delivery{}
	first := true
	for {
		newest := filter
		newest.Limit = 100
		ds, err := api.ListDeliveries(ctx, r.tenant, newest)
		if err != nil {
			return ignoreCancel(ctx, err)
		}
		changed := ds.Data
		if filter.Status == "" { // retries of older deliveries are pending meanwhile
			pending := filter
			pending.Status, pending.Limit = hookd.StatusPending, 250
			ps, err := api.ListDeliveries(ctx, r.tenant, pending)
			if err != nil {
				return ignoreCancel(ctx, err)
			}
			changed = append(changed, ps.Data...)
		}
		slices.SortFunc(changed, func(a, b hookd.Delivery) int { return a.UpdatedAt.Compare(b.UpdatedAt) })
		var news []hookd.Delivery
		for _, d := range changed {
			if prev, ok := seen[d.ID]; ok && prev.AttemptCount == d.AttemptCount && prev.Status == d.Status {
				continue
			}
			seen[d.ID] = d
			news = append(news, d)
		}
		if first {
			news = news[max(0, len(news)-10):]
			first = false
		}
		for _, d := range news {
			if err := r.tailLine(d); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(every):
		}
	}
}

func ignoreCancel(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// tailLine prints one delivery's state: a line of text, or of JSON.
func (r *remote) tailLine(d hookd.Delivery) error {
	if r.output == "json" {
		b, err := json.Marshal(d)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(r.c.stdout, string(b))
		return err
	}
	code := "-"
	if d.LastStatusCode != nil {
		code = fmt.Sprint(*d.LastStatusCode)
	}
	line := fmt.Sprintf("%s  %s  %s  %s  attempt %d  %s  %s", d.UpdatedAt.Format(time.RFC3339), d.ID, d.EventType, d.EndpointID,
		d.AttemptCount, d.Status, code)
	if d.Status == hookd.StatusPending && d.NextAttemptAt != nil && d.AttemptCount > 0 {
		line += "  next " + d.NextAttemptAt.Format(time.RFC3339)
	}
	if d.LastError != "" {
		line += "  " + d.LastError
	}
	_, err := fmt.Fprintln(r.c.stdout, line)
	return err
}
