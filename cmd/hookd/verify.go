package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"hookd.dev/hookd/dispatcher/signature"
	"hookd.dev/hookd/models"
)

// envWebhookSecret is where verify finds the secret when no flag names it.
const envWebhookSecret = "HOOKD_WEBHOOK_SECRET" //nolint:gosec // the variable's name, not a secret

// verifyOpts are the flags of hookd verify.
type verifyOpts struct {
	secret, scheme, header, prefix string
	checkTime                      bool
}

func (c *cli) verifyCommand() *cobra.Command {
	var o verifyOpts
	cmd := &cobra.Command{
		Use:   "verify [REQUEST_FILE]",
		Short: "check a captured webhook request against a secret or public key",
		Long: `Checks a webhook request as your receiver got it — the raw HTTP request, headers
and body, as saved by "nc -l 9000 > request.txt" or a request inspector — against the
endpoint's secret (whsec_…) or, for ed25519, its public key (whpk_…). It reads the
file named, or stdin. The secret comes from --secret or $` + envWebhookSecret + `.

It exits 0 when the signature matches and 1 when it does not, saying why. It checks
the signature only, since a captured request is usually older than the 5 minutes a
receiver allows; --check-time checks the timestamp too.`,
		Example: `  hookd endpoints secret ep_… -t acme            # the secret to verify with
  hookd verify --secret whsec_… request.txt
  hookd verify --scheme hmac-sha256 --secret s3cr3t < request.txt`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "-"
			if len(args) == 1 {
				path = args[0]
			}
			raw, err := readCaptured(path)
			if err != nil {
				return err
			}
			if o.secret == "" {
				o.secret = c.getenv(envWebhookSecret)
			}
			verdict, err := verifyCaptured(raw, o, time.Now())
			if err != nil {
				return failure{fmt.Errorf("invalid: %w", err)}
			}
			fmt.Fprintln(c.stdout, "valid: "+verdict)
			return nil
		},
	}
	cmd.Flags().StringVar(&o.secret, "secret", "", "the endpoint's secret, or its public key for ed25519 (default $"+envWebhookSecret+")")
	cmd.Flags().StringVar(&o.scheme, "scheme", "", "standard, ed25519, hmac-sha256 or token (default: ed25519 for a whpk_ key, else standard)")
	cmd.Flags().StringVar(&o.header, "header", "", "hmac-sha256 and token: the signature's header (default: the scheme's)")
	cmd.Flags().StringVar(&o.prefix, "prefix", "", "hmac-sha256 and token: what comes before the value (default: the scheme's)")
	cmd.Flags().BoolVar(&o.checkTime, "check-time", false, "also refuse a timestamp more than 5 minutes from now, as a receiver does")
	return cmd
}

// maxCapturedBytes is the most hookd verify reads: a request hookd sent
// is far smaller (a payload is at most models.MaxPayloadBytes, 256 KiB, in
// an envelope; headers a few KiB), and a hostile file of megabytes without
// a line break took seconds and gigabytes to refuse.
const maxCapturedBytes = 1 << 20

// readCaptured reads the request file, or stdin for "-", refusing one
// over maxCapturedBytes without reading the rest.
func readCaptured(path string) ([]byte, error) {
	name, in := "stdin", io.Reader(os.Stdin)
	if path != "-" {
		f, err := os.Open(path) //nolint:gosec // the operator names the file
		if err != nil {
			return nil, err
		}
		defer f.Close()
		name, in = path, f
	}
	raw, err := io.ReadAll(io.LimitReader(in, maxCapturedBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(raw) > maxCapturedBytes {
		return nil, failure{fmt.Errorf("invalid: %s is over 1 MiB, the most hookd verify reads (a request hookd sends is smaller)", name)}
	}
	return raw, nil
}

// maxQuotedBytes and maxErrorBytes bound what an error quotes of the
// request: a bad line may be a megabyte long, and a short prefix shows
// what is wrong with it.
const (
	maxQuotedBytes = 40
	maxErrorBytes  = 300
)

// quotedText is a string as %q writes it, as errors quote a bad line.
var quotedText = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// shortError shortens each string that err quotes to a prefix, so that the
// explanation after it stays whole, then the message itself, since some
// errors name a header's value without quotes.
func shortError(err error) error {
	msg := quotedText.ReplaceAllStringFunc(err.Error(), func(q string) string {
		if len(q) <= maxQuotedBytes {
			return q
		}
		return cutTo(q, maxQuotedBytes) + `…"`
	})
	if cut := cutTo(msg, maxErrorBytes); len(cut) < len(msg) {
		msg = fmt.Sprintf("%s… (%d bytes more)", cut, len(msg)-len(cut))
	}
	return errors.New(msg)
}

// cutTo is s cut to at most n bytes, on a rune's boundary.
func cutTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// verifyCaptured checks a raw HTTP request and describes what matched.
func verifyCaptured(raw []byte, o verifyOpts, now time.Time) (string, error) {
	verdict, err := verifyRequest(raw, o, now)
	if err != nil {
		return "", shortError(err)
	}
	return verdict, nil
}

// verifyRequest is verifyCaptured with its errors as long as they come.
func verifyRequest(raw []byte, o verifyOpts, now time.Time) (string, error) {
	if o.secret == "" {
		return "", fmt.Errorf("no secret: pass --secret or set %s", envWebhookSecret)
	}
	req, body, err := parseCaptured(raw)
	if err != nil {
		return "", err
	}
	scheme := o.scheme
	if scheme == "" {
		scheme = models.SchemeStandard
		if strings.HasPrefix(o.secret, "whpk_") {
			scheme = models.SchemeEd25519
		}
	}
	sch, ok := signature.LookupScheme(scheme)
	if !ok {
		return "", fmt.Errorf("unknown scheme %q: want one of %s", scheme, strings.Join(signature.SchemeNames(), ", "))
	}
	header, prefix := sch.Header, sch.Prefix
	if o.header != "" {
		header = o.header
	}
	if o.prefix != "" {
		prefix = o.prefix
	}
	size := fmt.Sprintf("%d-byte body", len(body))
	ts, err := sch.Verify(o.secret, req.Header, body, header, prefix)
	switch {
	case err != nil:
		return "", fmt.Errorf("%s: %w", scheme, err)
	case ts.IsZero(): // the scheme signs no time
		return fmt.Sprintf("%s in %s, %s", scheme, header, size), nil
	}
	id := req.Header.Get(signature.HeaderID)
	age := now.Sub(ts).Round(time.Second)
	if o.checkTime && (age > signature.Tolerance || -age > signature.Tolerance) {
		return "", fmt.Errorf("the signature matches, but it was signed %s from now, beyond the %s a receiver allows", age, signature.Tolerance)
	}
	return fmt.Sprintf("%s signature of %s, signed %s (%s ago), %s", scheme, id, ts.UTC().Format(time.RFC3339), age, size), nil
}

// parseCaptured reads a raw HTTP request. A body without Content-Length
// is the rest of the input, byte for byte.
func parseCaptured(raw []byte) (*http.Request, []byte, error) {
	r := bufio.NewReader(bytes.NewReader(raw))
	req, err := http.ReadRequest(r)
	if err != nil {
		return nil, nil, fmt.Errorf("not an HTTP request (method, path and headers, a blank line, the body): %w", err)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("read the body: %w", err)
	}
	if req.ContentLength <= 0 && len(req.TransferEncoding) == 0 {
		rest, _ := io.ReadAll(r)
		body = append(body, rest...)
	}
	return req, body, nil
}
