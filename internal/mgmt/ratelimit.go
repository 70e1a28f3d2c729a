package mgmt

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RateLimit is what the x-ratelimit-* headers of a Management API response said (contract §6.1).
type RateLimit struct {
	Endpoint  string    // normalised endpoint of that response, e.g. "/api/v2/users/{id}"
	Limit     int       // x-ratelimit-limit: the bucket size; -1 when absent
	Remaining int       // x-ratelimit-remaining; -1 when absent
	Reset     time.Time // x-ratelimit-reset (Unix seconds): when the bucket refills; zero when absent
	Observed  time.Time // client clock when the response arrived; zero = no response had the headers
}

// observeRateLimit records the headers of a response that carries any of them.
func (c *core) observeRateLimit(h http.Header, endpoint string) {
	limit, lok := headerInt(h, "X-Ratelimit-Limit")
	remaining, rok := headerInt(h, "X-Ratelimit-Remaining")
	reset, sok := headerInt(h, "X-Ratelimit-Reset")
	if !lok && !rok && !sok {
		return
	}
	rl := &RateLimit{Endpoint: endpoint, Limit: limit, Remaining: remaining, Observed: c.now()}
	if sok {
		rl.Reset = time.Unix(int64(reset), 0)
	}
	c.rateLimit.Store(rl)
}

func headerInt(h http.Header, k string) (int, bool) {
	v := strings.TrimSpace(h.Get(k))
	if v == "" {
		return -1, false
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return -1, false
	}
	return n, true
}

// pace takes a slot from the client-side limiter, sleeping for it when the call's deadline allows;
// otherwise it gives the slot back and fails with *ThrottledError before anything is sent.
func (c *core) pace(ctx context.Context, endpoint string) error {
	if c.limiter == nil {
		return nil
	}
	now := c.now()
	res := c.limiter.ReserveN(now, 1)
	if !res.OK() {
		return &ThrottledError{}
	}
	d := res.DelayFrom(now)
	if d <= 0 {
		return nil
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		res.CancelAt(now)
		return &ThrottledError{RetryAfter: d}
	}
	c.metrics.Wait(endpoint, "limiter", d)
	if err := c.sleep(ctx, d); err != nil {
		res.CancelAt(c.now())
		return err
	}
	return nil
}

// sleepCtx is the default sleep: a timer that stops early when ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
