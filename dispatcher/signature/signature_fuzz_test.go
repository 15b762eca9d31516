package signature_test

import (
	"testing"
	"time"

	"hookd.dev/hookd/dispatcher/signature"
)

// FuzzVerify feeds untrusted header values to the verifier: it must never
// panic, and what Sign produces must always verify.
func FuzzVerify(f *testing.F) {
	f.Add("msg_p5jXN8AQM9LWM0D4loKWxJek", int64(1614265330), []byte(`{"test": 2432232314}`), "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	f.Add("", int64(0), []byte{}, "v1,")
	f.Add("x", int64(-1), []byte("\x00"), "v2,abc v1 v1,,, ,")
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	f.Fuzz(func(t *testing.T, id string, unix int64, body []byte, header string) {
		ts := time.Unix(unix, 0)
		_ = signature.VerifySignature(secret, id, ts, body, header)
		sig, err := signature.Sign(secret, id, ts, body)
		if err != nil {
			t.Fatal(err)
		}
		if err := signature.VerifySignature(secret, id, ts, body, header+" "+sig); err != nil {
			t.Fatalf("a list holding a valid signature did not verify: %v", err)
		}
	})
}
