package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// cli is what the command line runs with; tests give their own.
type cli struct {
	getenv         func(string) string
	stdout, stderr io.Writer
	// run runs a hookd process: (*Main).Run, or a test's stand-in.
	run func(m *Main, ctx context.Context) error
}

// runError is a failure of a command that started: already logged.
type runError struct{ error }

// execute runs the command line args and returns the exit code: 0, 1 when
// a command failed, 2 for a usage or configuration error.
func (c *cli) execute(ctx context.Context, args []string) int {
	root := c.rootCommand()
	root.SetArgs(args)
	root.SetOut(c.stdout)
	root.SetErr(c.stderr)
	err := root.ExecuteContext(ctx)
	var logged runError
	var failed failure
	switch {
	case err == nil:
		return 0
	case errors.As(err, &logged):
		return 1
	case errors.As(err, &failed):
		fmt.Fprintf(c.stderr, "hookd: %s\n", strings.TrimPrefix(err.Error(), "hookd: "))
		return 1
	default:
		fmt.Fprintf(c.stderr, "hookd: %v\nRun 'hookd --help' for usage.\n", err)
		return 2
	}
}

func (c *cli) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "hookd",
		Short: "hookd delivers webhooks: signed, retried, every attempt recorded",
		Long: `hookd delivers webhooks: signed, retried, every attempt recorded.

Run it with "hookd serve" (SQLite and an in-process Redis, nothing to set up), or
on PostgreSQL and Redis as one process or as separate api and worker processes.
Settings come from flags, over HOOKD_* variables, over a YAML config file
(--config); "hookd config" prints the settings in effect.`,
		Version:       version(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("hookd {{.Version}}\n")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return fmt.Errorf("%w (hookd %s --help lists its flags)", err, cmd.Name())
	})
	root.AddGroup(&cobra.Group{ID: groupRun, Title: "Run hookd:"}, &cobra.Group{ID: groupAPI, Title: "Talk to a running hookd (HOOKD_URL, HOOKD_API_KEY):"})
	root.AddCommand(c.remoteCommands()...)
	root.AddCommand(c.verifyCommand())
	root.AddCommand(
		c.processCommand(modeServe, "API, admin UI, workers and sweeper in one process",
			`Runs everything in one process. With no HOOKD_DATABASE_URL it keeps its data in a
SQLite file in the data dir, and with no HOOKD_REDIS_URL it runs Redis in process:
nothing to set up. On first start it prints an admin API key.`),
		c.processCommand(modeAPI, "the REST API and the admin UI only (needs HOOKD_REDIS_URL)",
			`Serves the REST API and the admin UI, and enqueues deliveries for "hookd worker"
processes through the Redis they share.`),
		c.processCommand(modeWorker, "delivery workers and the sweeper only (needs HOOKD_REDIS_URL)",
			`Delivers what "hookd api" enqueues: signs, sends and records each attempt, retries,
and re-enqueues what the queue lost. Serves /metrics with --metrics-listen.`),
		c.processCommand(modeMigrate, "apply the database migrations and exit",
			`Applies the database migrations (serve and api also apply them when they start),
naming each as it is applied.`),
		c.processCommand(modePurge, "delete the messages and attempts past the retention now, and exit",
			`Deletes what is older than --retention (HOOKD_RETENTION): messages with their
deliveries and attempts, and attempts, in batches, showing how far it has come. Workers
do the same every --purge-interval; this is for a purge now, or a shorter retention.`),
		c.adminKeyCommand(),
		c.configCommand(),
		c.versionCommand(),
	)
	return root
}

// The groups of commands in hookd --help.
const (
	groupRun = "run"
	groupAPI = "api"
)

// processCommand is serve, api, worker or migrate: a hookd process run
// with the settings the mode takes.
func (c *cli) processCommand(mode, short, long string) *cobra.Command {
	cmd := &cobra.Command{
		Use: mode, Short: short, Long: long, Args: cobra.NoArgs, GroupID: groupRun,
		RunE: func(cmd *cobra.Command, _ []string) error { return c.runProcess(cmd, mode) },
	}
	addConfigFlag(cmd.Flags())
	addSettingFlags(cmd.Flags(), mode)
	return cmd
}

func (c *cli) adminKeyCommand() *cobra.Command {
	create := &cobra.Command{
		Use:   "create",
		Short: "make a new admin API key in the database and print it once",
		Long: `Makes a new admin API key straight in the database (HOOKD_DATABASE_URL, or the
SQLite file in HOOKD_DATA_DIR) and prints it once: for when the first one is lost.
Works while hookd runs.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return c.runProcess(cmd, modeCreateAdminKey) },
	}
	addConfigFlag(create.Flags())
	addSettingFlags(create.Flags(), modeCreateAdminKey)
	cmd := &cobra.Command{Use: "admin-key", Short: "manage admin API keys on the database", Args: cobra.NoArgs, GroupID: groupRun}
	cmd.AddCommand(create)
	return cmd
}

func (c *cli) runProcess(cmd *cobra.Command, mode string) error {
	cfg, _, err := loadConfig(cmd.Flags(), c.getenv)
	if err != nil {
		return err
	}
	m := &Main{Config: cfg, Mode: mode, Stdout: c.stdout, Logger: newLogger(cfg, c.stderr)}
	if (mode == modeServe || mode == modeAPI || mode == modeWorker) && tracingWanted(c.getenv) {
		shutdown, err := startTracing(cmd.Context(), mode)
		if err != nil {
			return err
		}
		defer func() {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(cmd.Context()), 5*time.Second)
			defer cancel()
			if err := shutdown(ctx); err != nil {
				m.Logger.Warn("send the last spans", "error", err)
			}
		}()
		m.Tracing = true
	}
	if err := c.run(m, cmd.Context()); err != nil {
		m.Logger.Error("hookd stopped", "error", scrubCredentials(err.Error(), cfg.DatabaseURL, cfg.RedisURL))
		return runError{err}
	}
	return nil
}

// configCommand prints the settings in effect, secrets masked.
func (c *cli) configCommand() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "config",
		Short: "print the settings in effect and where each comes from, secrets masked",
		Long: `Prints every setting as hookd would use it with these flags, this environment and
the config file, where each value comes from, and the variable that sets it.
Secrets are masked, and so are the credentials in URLs and DSNs: passwords, and
parameters named like password, secret, token or key (sentinel_password=).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return fmt.Errorf("-o %q: want text or json", output)
			}
			_, values, err := loadConfig(cmd.Flags(), c.getenv)
			if err != nil {
				return err
			}
			return printConfig(c.stdout, values, output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text or json")
	addConfigFlag(cmd.Flags())
	addSettingFlags(cmd.Flags(), "")
	return cmd
}

// shownSetting is one line of hookd config.
type shownSetting struct {
	Name     string `json:"name"`
	Value    string `json:"value"`
	From     string `json:"from"`
	Variable string `json:"variable"`
}

func printConfig(out io.Writer, values []effective, output string) error {
	shown := make([]shownSetting, 0, len(values))
	for _, v := range values {
		shown = append(shown, shownSetting{Name: v.flag, Value: masked(v), From: string(v.from), Variable: v.env})
	}
	if output == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(shown)
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SETTING\tVALUE\tFROM\tVARIABLE")
	for _, s := range shown {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", s.Name, cmp.Or(s.Value, `""`), s.From, s.Variable)
	}
	return w.Flush()
}

// masked is a value as hookd config shows it: a secret as set or not, a
// URL or DSN without its credentials.
func masked(v effective) string {
	if v.secret() && v.text != "" {
		return "(set, masked)"
	}
	return maskedValue(v.text)
}

// versionCommand prints the version hookd was built from.
func (c *cli) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "print hookd's version, the revision it was built from and the Go version",
		Args:  cobra.NoArgs,
		Run:   func(*cobra.Command, []string) { fmt.Fprintf(c.stdout, "hookd %s\n", version()) },
	}
}

// version is the module's version (or "(devel)" in a checkout), the VCS
// revision and its time, from the build info.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown build)"
	}
	vcs := map[string]string{}
	for _, s := range info.Settings {
		vcs[s.Key] = s.Value
	}
	parts := []string{info.Main.Version}
	if rev := vcs["vcs.revision"]; rev != "" {
		if vcs["vcs.modified"] == "true" {
			rev += " with local changes"
		}
		parts = append(parts, "revision "+rev)
	}
	if t := vcs["vcs.time"]; t != "" {
		parts = append(parts, "committed "+t)
	}
	parts = append(parts, info.GoVersion)
	return strings.Join(parts, ", ")
}
